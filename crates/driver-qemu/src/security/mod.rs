//! The QEMU driver's security managers, as libvirt's `qemuSecurityInit`
//! stacks them on a privileged daemon: the configured primary driver
//! (only "none", libvirt's no-op driver, exists here: no SELinux or
//! AppArmor) with the DAC driver under it, which runs QEMU as qemu.conf's
//! `user`/`group` and hands it its files ([`dac`], [`domain`]).
//!
//! Settings (rvirtd.conf, qemu.conf's keys with a `qemu_` prefix):
//! `qemu_user`, `qemu_group` (names, or `+N` ids; default Debian's build,
//! libvirt-qemu:libvirt-qemu), `qemu_dynamic_ownership` (1),
//! `qemu_remember_owner` (1), `qemu_security_driver` ("none"),
//! `qemu_security_default_confined` (1), `qemu_security_require_confined` (0).

pub mod dac;
pub mod domain;
pub mod ids;
pub mod remember;

use crate::files::Dirs;
use ids::format_ownership;
use rvirt::driver::StateConfig;
use rvirt::types::{SecurityLabel, SecurityModel};
use rvirt_conf::capabilities::SecModel;
use rvirt_conf::domain::seclabel::{Seclabel, SeclabelType};
use rvirt_conf::DomainDef;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::path::Path;

/// Debian's libvirt is built with `-Dqemu_user=libvirt-qemu
/// -Dqemu_group=libvirt-qemu`.
pub const DEFAULT_USER: &str = "libvirt-qemu";
pub const DEFAULT_GROUP: &str = "libvirt-qemu";

pub const USER_KEY: &str = "qemu_user";
pub const GROUP_KEY: &str = "qemu_group";
const DYNAMIC_OWNERSHIP_KEY: &str = "qemu_dynamic_ownership";
const REMEMBER_OWNER_KEY: &str = "qemu_remember_owner";
const DRIVER_KEY: &str = "qemu_security_driver";
const DEFAULT_CONFINED_KEY: &str = "qemu_security_default_confined";
const REQUIRE_CONFINED_KEY: &str = "qemu_security_require_confined";

/// The DAC driver's settings (`virSecurityDACData`).
#[derive(Clone, Debug)]
pub struct Dac {
    pub user: u32,
    pub group: u32,
    pub dynamic_ownership: bool,
    pub remember_owner: bool,
    /// `security_default_confined` / `security_require_confined`.
    pub default_confined: bool,
    pub require_confined: bool,
}

/// The stack: the primary driver's model ("none"), then DAC, which
/// libvirt only adds on a privileged daemon.
#[derive(Clone, Debug)]
pub struct Security {
    pub dac: Dac,
    pub privileged: bool,
}

fn boolean(config: &StateConfig, key: &str, default: bool) -> Result<bool> {
    match config.setting(key) {
        None => Ok(default),
        Some("0") => Ok(false),
        Some("1") => Ok(true),
        Some(v) => Err(Error::new(
            ErrorDomain::CONF,
            ErrorCode::CONF_SYNTAX,
            format!("{key}: expected a boolean (0 or 1), not '{v}'"),
        )),
    }
}

impl Security {
    /// `virQEMUDriverConfigLoadSecurityEntry` + `qemuSecurityInit`.
    pub fn new(config: &StateConfig) -> Result<Security> {
        let user = ids::user_id(config.setting(USER_KEY).unwrap_or(DEFAULT_USER))?;
        let group = ids::group_id(config.setting(GROUP_KEY).unwrap_or(DEFAULT_GROUP))?;
        let default_confined = boolean(config, DEFAULT_CONFINED_KEY, true)?;
        let require_confined = boolean(config, REQUIRE_CONFINED_KEY, false)?;
        match config.setting(DRIVER_KEY) {
            None | Some("none") => {}
            Some(name @ ("selinux" | "apparmor")) => {
                return Err(Error::new(
                    ErrorDomain::SECURITY,
                    ErrorCode::CONFIG_UNSUPPORTED,
                    format!("Security driver {name} not enabled"),
                ))
            }
            Some(name) => {
                return Err(Error::internal(
                    ErrorDomain::SECURITY,
                    format!("Security driver {name} not found"),
                ))
            }
        }
        if require_confined {
            return Err(Error::new(
                ErrorDomain::SECURITY,
                ErrorCode::CONFIG_UNSUPPORTED,
                "Security driver \"none\" cannot create confined guests",
            ));
        }
        Ok(Security {
            dac: Dac {
                user,
                group,
                dynamic_ownership: boolean(config, DYNAMIC_OWNERSHIP_KEY, true)?,
                remember_owner: boolean(config, REMEMBER_OWNER_KEY, true)?,
                default_confined,
                require_confined,
            },
            privileged: nix::unistd::geteuid().is_root(),
        })
    }

    /// `virNodeGetSecurityModel`: the primary driver's.
    pub fn node_model(&self) -> SecurityModel {
        SecurityModel {
            model: "none".into(),
            doi: "0".into(),
        }
    }

    /// The capabilities' `<secmodel>`s: none, then DAC with its base
    /// label for each virt type (`virQEMUDriverCreateCapabilities`).
    pub fn secmodels(&self) -> Vec<SecModel> {
        if !self.privileged {
            return vec![SecModel {
                model: "none".into(),
                doi: "0".into(),
                baselabels: Vec::new(),
            }];
        }
        let base = format_ownership(self.dac.user, self.dac.group);
        vec![
            SecModel {
                model: "none".into(),
                doi: "0".into(),
                baselabels: Vec::new(),
            },
            SecModel {
                model: "dac".into(),
                doi: "0".into(),
                baselabels: vec![("kvm".into(), base.clone()), ("qemu".into(), base)],
            },
        ]
    }

    /// `virSecurityManagerCheckAllLabel`: every model named is one of ours.
    pub fn check_models(&self, def: &DomainDef) -> Result<()> {
        let domain = def.seclabels.iter().map(|s| s.model.as_deref());
        let disks = def
            .devices
            .disks
            .iter()
            .flat_map(|d| d.source.seclabels.iter());
        for model in domain.chain(disks.map(|s| s.model.as_deref())) {
            if !matches!(model, Some("none") | Some("dac")) {
                return Err(Error::new(
                    ErrorDomain::SECURITY,
                    ErrorCode::CONFIG_UNSUPPORTED,
                    format!(
                        "Security driver model '{}' is not available",
                        model.unwrap_or("(null)")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `virSecurityManagerGenLabel` over the stack: the none driver makes
    /// nothing; DAC gives the guest its dynamic label (`+UID:+GID`), or
    /// checks a static one, and the image label.
    pub fn gen_label(&self, def: &mut DomainDef) -> Result<()> {
        default_model(def);
        self.check_models(def)?;
        if let Some(s) = def
            .seclabels
            .iter_mut()
            .find(|s| s.model.as_deref() == Some("none"))
        {
            if s.label_type == SeclabelType::Default {
                s.label_type = SeclabelType::None;
                s.relabel = false;
            }
        }
        let dac = &self.dac;
        if !self.privileged {
            return Ok(());
        }
        let index = match def
            .seclabels
            .iter()
            .position(|s| s.model.as_deref() == Some("dac"))
        {
            Some(i) => i,
            None if dac.default_confined => {
                def.seclabels.push(Seclabel::implicit_dynamic("dac"));
                def.seclabels.len() - 1
            }
            None => return Ok(()),
        };
        let label = &mut def.seclabels[index];
        if label.label_type == SeclabelType::Default {
            (label.label_type, label.relabel) = match dac.default_confined {
                true => (SeclabelType::Dynamic, true),
                false => (SeclabelType::None, false),
            };
        }
        if label.label_type == SeclabelType::None && dac.require_confined {
            return Err(Error::new(
                ErrorDomain::SECURITY,
                ErrorCode::CONFIG_UNSUPPORTED,
                "Unconfined guests are not allowed on this host",
            ));
        }
        match label.label_type {
            SeclabelType::Static if label.label.is_none() => {
                return Err(Error::internal(
                    ErrorDomain::SECURITY,
                    format!(
                        "missing label for static security driver in domain {}",
                        def.name
                    ),
                ))
            }
            SeclabelType::Dynamic => label.label = Some(format_ownership(dac.user, dac.group)),
            SeclabelType::None => return Ok(()),
            _ => {}
        }
        if label.relabel && label.imagelabel.is_none() {
            label.imagelabel = label.label.clone();
        }
        Ok(())
    }

    /// `virDomainGetSecurityLabel` for a running guest: the primary
    /// driver's label, which "none" leaves empty.
    pub fn process_label(&self) -> SecurityLabel {
        SecurityLabel::default()
    }

    /// `virDomainGetSecurityLabelList`: one label a driver of the stack
    /// (none: empty; DAC: the guest's label, or its process's owner).
    pub fn process_labels(&self, def: &DomainDef, pid: i32) -> Result<Vec<SecurityLabel>> {
        let dac_label = match domain::dac_seclabel(def) {
            Some(s) => s.label.clone().unwrap_or_default(),
            None => process_owner(pid)?,
        };
        Ok(vec![
            SecurityLabel::default(),
            SecurityLabel {
                label: dac_label,
                enforcing: false,
            },
        ])
    }

    /// Who QEMU runs as, with its supplementary groups.
    pub fn credentials(&self, def: &DomainDef) -> Result<Option<crate::process::Credentials>> {
        if !self.privileged {
            return Ok(None);
        }
        let (uid, gid) = self.dac.process_ids(def)?;
        Ok(Some(crate::process::Credentials {
            uid,
            gid,
            groups: ids::group_list(uid, gid),
        }))
    }

    /// Label the files of a guest about to start: its private `dirs` and
    /// `files`, then everything its definition names (`SetAllLabel`).
    /// Nothing is left changed when this fails.
    pub fn set_all(&self, def: &DomainDef, dirs: &[&Path], files: &[&Path]) -> Result<()> {
        if !self.privileged {
            return Ok(());
        }
        let remember = self.dac.remember_owner;
        dac::commit(&self.run_path_items(def, dirs, files)?, remember)?;
        dac::commit(&self.dac.set_all_items(def)?, remember)
    }

    /// Give back the files of a guest that stopped, `remember` as it was
    /// when the guest started (`RestoreAllLabel`; `migrated`: it went to
    /// another host); failures are logged.
    pub fn restore_all(&self, def: &DomainDef, remember: bool, migrated: bool) {
        if !self.privileged {
            return;
        }
        let items = self.dac.restore_all_items(def, migrated);
        if let Err(e) = dac::commit_restores(&items, remember) {
            tracing::warn!(
                "cannot restore the file owners of {}: {}",
                def.name,
                e.message
            );
        }
    }

    /// The private directories (`qemuProcessMakeDir`) and files (the
    /// master key) of one run, for QEMU's user (`DomainSetPathLabel`,
    /// whatever `dynamic_ownership` says).
    pub fn run_path_items(
        &self,
        def: &DomainDef,
        dirs: &[&Path],
        files: &[&Path],
    ) -> Result<Vec<dac::Item>> {
        let (uid, gid) = self.dac.process_ids(def)?;
        let dirs = dirs.iter().map(|d| dac::Item::set(*d, uid, gid, true));
        let files = files.iter().map(|f| dac::Item::set(*f, uid, gid, false));
        Ok(dirs.chain(files).collect())
    }

    /// `qemuStateInitialize` on a privileged daemon: the directory QEMU
    /// creates its monitor socket in belongs to QEMU's user.
    pub fn own_lib_dir(&self, dirs: &Dirs) -> Result<()> {
        if !self.privileged {
            return Ok(());
        }
        std::os::unix::fs::chown(&dirs.lib, Some(self.dac.user), Some(self.dac.group)).map_err(
            |e| {
                Error::system(
                    ErrorDomain::QEMU,
                    format!(
                        "unable to set ownership of '{}' to user {}:{}",
                        dirs.lib.display(),
                        self.dac.user,
                        self.dac.group
                    ),
                    &e,
                )
            },
        )
    }
}

/// A lone `<seclabel>` without a model takes the host's first one ("none")
/// when it is of type none, or dynamic without a base label, as libvirt's
/// parser gives it (`virSecurityLabelDefsParseXML`, `defSecModel`).
fn default_model(def: &mut DomainDef) {
    if let [label] = def.seclabels.as_mut_slice() {
        let fits = match label.label_type {
            SeclabelType::None => true,
            SeclabelType::Dynamic => label.baselabel.is_none(),
            _ => false,
        };
        if label.model.is_none() && fits {
            label.model = Some("none".into());
        }
    }
}

/// `virSecurityDACGetProcessLabelInternal`: the owner of /proc/PID.
fn process_owner(pid: i32) -> Result<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(Path::new(&format!("/proc/{pid}"))).map_err(|e| {
        Error::system(
            ErrorDomain::SECURITY,
            format!("unable to get uid and gid for PID {pid} via procfs"),
            &e,
        )
    })?;
    Ok(format_ownership(meta.uid(), meta.gid()))
}

#[cfg(test)]
mod tests;
