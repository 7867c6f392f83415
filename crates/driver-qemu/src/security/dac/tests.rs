//! Ownership changes on real files (the tests run as root, as the daemon
//! does): chown, the remembered owner and its count, give-back on
//! failure.

use super::*;
use std::os::unix::fs::MetadataExt;

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("rvirt-dac-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    /// A file owned by `uid:gid`.
    fn file(&self, name: &str, uid: u32, gid: u32) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, b"data").unwrap();
        std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();
        path
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn owner(path: &Path) -> (u32, u32) {
    let m = std::fs::metadata(path).unwrap();
    (m.uid(), m.gid())
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[test]
fn set_and_restore_with_the_remembered_owner() {
    if !is_root() {
        return eprintln!("not root: skipping");
    }
    let dir = Dir::new("one");
    let f = dir.file("disk.img", 1234, 4321);
    commit(&[Item::set(&f, 999, 995, true)], true).unwrap();
    assert_eq!(owner(&f), (999, 995));
    assert_eq!(
        remember::peek(DAC, &f),
        (Some("+1234:+4321".into()), Some(1))
    );
    commit_restores(&[Item::restore(&f, true)], true).unwrap();
    assert_eq!(owner(&f), (1234, 4321));
    assert_eq!(remember::peek(DAC, &f), (None, None));
}

#[test]
fn a_shared_file_is_given_back_by_its_last_user() {
    if !is_root() {
        return eprintln!("not root: skipping");
    }
    let dir = Dir::new("shared");
    let kernel = dir.file("vmlinuz", 0, 0);
    // Two guests start on the kernel: the owner is remembered once.
    commit(&[Item::set(&kernel, 999, 995, true)], true).unwrap();
    commit(&[Item::set(&kernel, 999, 995, true)], true).unwrap();
    assert_eq!(
        remember::peek(DAC, &kernel),
        (Some("+0:+0".into()), Some(2))
    );
    // The first stops: the other still needs it.
    commit_restores(&[Item::restore(&kernel, true)], true).unwrap();
    assert_eq!(owner(&kernel), (999, 995));
    assert_eq!(remember::peek(DAC, &kernel).1, Some(1));
    // The last stops: back to root.
    commit_restores(&[Item::restore(&kernel, true)], true).unwrap();
    assert_eq!(owner(&kernel), (0, 0));
    assert_eq!(remember::peek(DAC, &kernel), (None, None));
}

#[test]
fn another_owner_on_a_file_in_use_is_refused() {
    if !is_root() {
        return eprintln!("not root: skipping");
    }
    let dir = Dir::new("clash");
    let f = dir.file("img", 0, 0);
    commit(&[Item::set(&f, 999, 995, true)], true).unwrap();
    let err = commit(&[Item::set(&f, 1000, 1000, true)], true).unwrap_err();
    assert_eq!(
        err.message,
        format!(
            "Requested operation is not valid: Setting different DAC user or group on {} which is already in use",
            f.display()
        )
    );
    // The refused start left the count as it was.
    assert_eq!(owner(&f), (999, 995));
    assert_eq!(remember::peek(DAC, &f), (Some("+0:+0".into()), Some(1)));
}

#[test]
fn a_failed_transaction_gives_back_what_it_changed() {
    if !is_root() {
        return eprintln!("not root: skipping");
    }
    let dir = Dir::new("abort");
    let (a, b) = (dir.file("a", 7, 7), dir.file("b", 8, 8));
    let missing = dir.0.join("missing");
    let items = [
        Item::set(&a, 999, 995, true),
        Item::set(&b, 999, 995, false),
        Item::set(&missing, 999, 995, true),
    ];
    let err = commit(&items, true).unwrap_err();
    assert!(
        err.message.starts_with("unable to stat: "),
        "{}",
        err.message
    );
    assert_eq!(owner(&a), (7, 7), "remembered owner given back");
    assert_eq!(remember::peek(DAC, &a), (None, None));
    // Not remembered: back to root, as libvirt does.
    assert_eq!(owner(&b), (0, 0));
}

#[test]
fn without_remember_owner_files_go_back_to_root() {
    if !is_root() {
        return eprintln!("not root: skipping");
    }
    let dir = Dir::new("noremember");
    let f = dir.file("img", 55, 66);
    commit(&[Item::set(&f, 999, 995, true)], false).unwrap();
    assert_eq!(remember::peek(DAC, &f), (None, None));
    commit_restores(&[Item::restore(&f, true)], false).unwrap();
    assert_eq!(owner(&f), (0, 0));
}

#[test]
fn directories_are_chowned_without_remembering() {
    if !is_root() {
        return eprintln!("not root: skipping");
    }
    let dir = Dir::new("dirs");
    let sub = dir.0.join("domain-1-g");
    std::fs::create_dir(&sub).unwrap();
    commit(&[Item::set(&sub, 999, 995, true)], true).unwrap();
    assert_eq!(owner(&sub), (999, 995));
    assert_eq!(remember::peek(DAC, &sub), (None, None));
}
