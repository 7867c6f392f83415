//! The live status of a running guest, kept in the state directory so a
//! restarted daemon finds its QEMU again (libvirt's `<domstatus>` files
//! in /run/libvirt/qemu): state, reason, pid, monitor socket and the
//! running definition, and whether it is an incoming migration's guest
//! not taken over yet (libvirt's `<job async='migration in'/>`).

use crate::files;
use rvirt::types::DomainState;
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
            def: DomainDef::from_element(domain)?,
            incoming: root
                .child("job")
                .is_some_and(|j| j.attr("async") == Some("migration in")),
        })
    }
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
