//! libvirt's layout of a driver's per-object files, the same for domains
//! (`/etc/libvirt/qemu`, `/run/libvirt/qemu`) and networks
//! (`/etc/libvirt/qemu/networks`, `/run/libvirt/network`): the persistent
//! definition `CONFIG/NAME.xml`, its `CONFIG/autostart/NAME.xml` link, the
//! live status `STATE/NAME.xml` and the `STATE/NAME.pid` file.

use std::path::{Path, PathBuf};

/// A driver's configuration and state directories, and the files of each
/// object in them.
pub trait ObjectFiles {
    /// Persistent definitions and `autostart/`.
    fn config_dir(&self) -> &Path;
    /// Live status and pid files.
    fn state_dir(&self) -> &Path;

    fn config_file(&self, name: &str) -> PathBuf {
        self.config_dir().join(format!("{name}.xml"))
    }

    fn autostart_dir(&self) -> PathBuf {
        self.config_dir().join("autostart")
    }

    fn autostart_link(&self, name: &str) -> PathBuf {
        self.autostart_dir().join(format!("{name}.xml"))
    }

    fn status_file(&self, name: &str) -> PathBuf {
        self.state_dir().join(format!("{name}.xml"))
    }

    fn pid_file(&self, name: &str) -> PathBuf {
        self.state_dir().join(format!("{name}.pid"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dirs(PathBuf, PathBuf);

    impl ObjectFiles for Dirs {
        fn config_dir(&self) -> &Path {
            &self.0
        }
        fn state_dir(&self) -> &Path {
            &self.1
        }
    }

    #[test]
    fn files_follow_libvirts_layout() {
        let d = Dirs("/etc/libvirt/qemu".into(), "/run/libvirt/qemu".into());
        assert_eq!(d.config_file("vm"), Path::new("/etc/libvirt/qemu/vm.xml"));
        let link = d.autostart_link("vm");
        assert_eq!(link, Path::new("/etc/libvirt/qemu/autostart/vm.xml"));
        assert_eq!(d.status_file("vm"), Path::new("/run/libvirt/qemu/vm.xml"));
        assert_eq!(d.pid_file("vm"), Path::new("/run/libvirt/qemu/vm.pid"));
    }
}
