//! The live status of a running guest, kept in the state directory so a
//! restarted daemon finds its QEMU again (libvirt's `<domstatus>` files
//! in /run/libvirt/qemu): state, reason, pid, monitor socket and the
//! running definition, and whether it is an incoming migration's guest
//! not taken over yet (libvirt's `<job async='migration in'/>`), and the
//! configured CPU when the start ran another (libvirt's `origCPU`, a
//! `<cpu>` beside the domain).

use crate::files;
use rvirt::types::DomainState;
use rvirt_conf::domain::cpu::CpuDef;
use rvirt_conf::{DomainDef, FormatOptions};
use rvirt_util::{Error, ErrorDomain, Result};
use std::path::{Path, PathBuf};

/// One status file's content.
pub struct Status {
    pub state: DomainState,
    pub reason: i32,
    pub pid: i32,
    pub id: i32,
    pub monitor: PathBuf,
    pub def: DomainDef,
    /// Started for an incoming migration that has not finished.
    pub incoming: bool,
    /// The DAC driver labelled the guest's files: whether it remembered
    /// their owners (`<rememberOwner/>` in libvirt's status); `None`: not
    /// labelled, nothing to give back.
    pub labelled: Option<bool>,
    /// The configured `<cpu>` when the running one differs (the state's
    /// `config_cpu`): a restarted daemon still sends the running CPU in
    /// its migration cookie and shows the configured one as inactive.
    pub config_cpu: Option<CpuDef>,
}

impl Status {
    pub fn format(&self) -> String {
        let domain = self.def.format(&FormatOptions {
            id: Some(self.id),
            inactive: false,
            secure: false,
        });
        let mut out = format!(
            "<domstatus state='{}' reason='{}' pid='{}'>\n  <monitor path='{}' type='unix'/>\n",
            self.state as i32,
            self.reason,
            self.pid,
            rvirt_conf::xml::escape(&self.monitor.to_string_lossy())
        );
        if self.incoming {
            out.push_str("  <job type='none' async='migration in' phase='prepare'/>\n");
        }
        if let Some(remember) = self.labelled {
            let remember = if remember { "yes" } else { "no" };
            out.push_str(&format!(
                "  <dac labelled='yes' rememberOwner='{remember}'/>\n"
            ));
        }
        let implicit: Vec<&str> = (self.def.seclabels.iter())
            .filter(|s| s.implicit)
            .filter_map(|s| s.model.as_deref())
            .collect();
        for model in implicit {
            out.push_str(&format!("  <implicitSeclabel model='{model}'/>\n"));
        }
        let cpu = self.config_cpu.as_ref().map(CpuDef::to_xml);
        for line in cpu.iter().flat_map(|x| x.lines()) {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
        for line in domain.lines() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("</domstatus>\n");
        out
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        files::write_atomic(path, self.format().as_bytes())
    }

    pub fn read(path: &Path) -> Result<Status> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::system(
                ErrorDomain::QEMU,
                format!("cannot read status file '{}'", path.display()),
                &e,
            )
        })?;
        let root = rvirt_conf::xml::parse(&text, &path.display().to_string(), ErrorDomain::QEMU)?;
        let bad = |what: &str| {
            Error::internal(
                ErrorDomain::QEMU,
                format!("invalid {what} in status file '{}'", path.display()),
            )
        };
        let num = |name: &str| -> Result<i32> {
            root.attr(name)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| bad(name))
        };
        let domain = root.child("domain").ok_or_else(|| bad("domain"))?;
        let monitor = root
            .child("monitor")
            .and_then(|m| m.attr("path"))
            .ok_or_else(|| bad("monitor"))?;
        Ok(Status {
            state: DomainState::from_i32_or_nostate(num("state")?),
            reason: num("reason")?,
            pid: num("pid")?,
            id: domain
                .attr("id")
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| bad("domain id"))?,
            monitor: PathBuf::from(monitor),
            def: live_def(&root, domain)?,
            incoming: root
                .child("job")
                .is_some_and(|j| j.attr("async") == Some("migration in")),
            labelled: root
                .child("dac")
                .filter(|d| d.attr("labelled") == Some("yes"))
                .map(|d| d.attr("rememberOwner") == Some("yes")),
            config_cpu: root.child("cpu").map(CpuDef::from_element).transpose()?,
        })
    }
}

/// The running definition of a status file: parsed as a definition, with
/// the security labels' runtime parts (generated label, image label, and
/// which labels the driver made) read back as libvirt's live parse does.
fn live_def(
    root: &rvirt_conf::xml::Element,
    domain: &rvirt_conf::xml::Element,
) -> Result<DomainDef> {
    let mut def = DomainDef::from_element(domain)?;
    let implicit: Vec<&str> = root
        .children_named("implicitSeclabel")
        .filter_map(|e| e.attr("model"))
        .collect();
    for label in &mut def.seclabels {
        let model = label.model.clone();
        if let Some(e) = domain
            .children_named("seclabel")
            .find(|e| e.attr("model") == model.as_deref())
        {
            label.read_live(e);
        }
        label.implicit = model.is_some_and(|m| implicit.contains(&m.as_str()));
    }
    Ok(def)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_through_its_file() {
        let xml = "<domain type='qemu'><name>s1</name>\
                   <uuid>6a4f0a53-1e0c-4b59-9d0e-1f2e3d4c5b6a</uuid>\
                   <memory>131072</memory><os><type>hvm</type></os></domain>";
        let status = Status {
            state: DomainState::Paused,
            reason: 1,
            pid: 4242,
            id: 7,
            monitor: PathBuf::from("/run/x/s1 & co.monitor"),
            def: DomainDef::parse(xml).unwrap(),
            incoming: true,
            labelled: Some(true),
            config_cpu: None,
        };
        let dir = std::env::temp_dir().join(format!("rvirt-status-{}", std::process::id()));
        let file = dir.join("s1.xml");
        status.write(&file).unwrap();
        let back = Status::read(&file).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            (back.state, back.reason, back.pid, back.id),
            (DomainState::Paused, 1, 4242, 7)
        );
        assert_eq!(back.monitor, status.monitor);
        assert_eq!(back.def, status.def);
        assert!(back.incoming);
    }

    /// The DAC label libvirt's live parse reads back (label, image label),
    /// which labels the driver made, and how the files were labelled.
    #[test]
    fn security_labels_survive_the_status_file() {
        let xml = "<domain type='qemu'><name>s2</name><memory>131072</memory>\
                   <os><type>hvm</type></os>\
                   <seclabel type='static' model='none'/></domain>";
        let mut def = DomainDef::parse(xml).unwrap();
        def.seclabels.push(rvirt_conf::domain::seclabel::Seclabel {
            label: Some("+999:+995".into()),
            imagelabel: Some("+999:+995".into()),
            ..rvirt_conf::domain::seclabel::Seclabel::implicit_dynamic("dac")
        });
        let status = Status {
            state: DomainState::Running,
            reason: 1,
            pid: 1,
            id: 2,
            monitor: PathBuf::from("/m"),
            def,
            incoming: false,
            labelled: Some(false),
            config_cpu: None,
        };
        let text = status.format();
        assert!(
            text.contains("<dac labelled='yes' rememberOwner='no'/>"),
            "{text}"
        );
        assert!(
            text.contains("<imagelabel>+999:+995</imagelabel>"),
            "{text}"
        );
        let dir = std::env::temp_dir().join(format!("rvirt-status-dac-{}", std::process::id()));
        let file = dir.join("s2.xml");
        status.write(&file).unwrap();
        let back = Status::read(&file).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(back.def.seclabels, status.def.seclabels);
        assert_eq!(back.labelled, Some(false));
    }

    /// The configured CPU of a guest started with another (an incoming
    /// migration's cookie CPU) comes back from the file beside the live one.
    #[test]
    fn the_configured_cpu_survives_the_status_file() {
        let xml = "<domain type='qemu'><name>s3</name><memory>131072</memory>\
                   <os><type>hvm</type></os><cpu mode='custom' match='exact' check='full'>\
                   <model fallback='forbid'>qemu64</model>\
                   <feature policy='require' name='hypervisor'/></cpu></domain>";
        let configured = "<domain type='qemu'><name>c</name><memory>1024</memory>\
                   <os><type>hvm</type></os><cpu mode='custom' match='exact' check='none'>\
                   <model fallback='forbid'>qemu64</model></cpu></domain>";
        let config_cpu = DomainDef::parse(configured).unwrap().cpu;
        assert!(config_cpu.is_some());
        let status = Status {
            state: DomainState::Running,
            reason: 1,
            pid: 1,
            id: 2,
            monitor: PathBuf::from("/m"),
            def: DomainDef::parse(xml).unwrap(),
            incoming: false,
            labelled: None,
            config_cpu: config_cpu.clone(),
        };
        let dir = std::env::temp_dir().join(format!("rvirt-status-cpu-{}", std::process::id()));
        let file = dir.join("s3.xml");
        status.write(&file).unwrap();
        let back = Status::read(&file).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(back.config_cpu, config_cpu);
        assert_eq!(back.def.cpu, status.def.cpu);
        assert_ne!(back.def.cpu, back.config_cpu);
    }

    #[test]
    fn a_status_file_without_pid_is_refused() {
        let dir = std::env::temp_dir().join(format!("rvirt-status-bad-{}", std::process::id()));
        let file = dir.join("bad.xml");
        let text = "<domstatus state='1' reason='1'><monitor path='/m'/>\
                    <domain type='qemu' id='3'><name>b</name><memory>1024</memory>\
                    <os><type>hvm</type></os></domain></domstatus>";
        crate::files::write_atomic(&file, text.as_bytes()).unwrap();
        let err = Status::read(&file).err().expect("refused");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            err.message.contains("invalid pid in status file"),
            "{}",
            err.message
        );
    }
}
