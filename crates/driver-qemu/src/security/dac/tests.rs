//! Ownership changes on real files (the tests run as root, as the daemon
//! does): chown, the remembered owner and its count, give-back on
//! failure.

use super::*;
use rvirt_testkit::dirs::TempDir;
use std::os::unix::fs::MetadataExt;

/// A fresh directory for test `tag`, or `None` (said on stderr) when the
/// test does not run as root: only root gives files away.
fn root_dir(tag: &str) -> Option<TempDir> {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("not root: skipping");
        return None;
    }
    Some(TempDir::new(&format!("dac-{tag}")))
}

/// A file in `dir` owned by `uid:gid`.
fn owned_file(dir: &TempDir, name: &str, uid: u32, gid: u32) -> PathBuf {
    let path = dir.write(name, b"data");
    std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();
    path
}

fn owner(path: &Path) -> (u32, u32) {
    let m = std::fs::metadata(path).unwrap();
    (m.uid(), m.gid())
}

#[test]
fn set_and_restore_with_the_remembered_owner() {
    let Some(dir) = root_dir("one") else {
        return;
    };
    let f = owned_file(&dir, "disk.img", 1234, 4321);
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
    let Some(dir) = root_dir("shared") else {
        return;
    };
    let kernel = owned_file(&dir, "vmlinuz", 0, 0);
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
    let Some(dir) = root_dir("clash") else {
        return;
    };
    let f = owned_file(&dir, "img", 0, 0);
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
    let Some(dir) = root_dir("abort") else {
        return;
    };
    let (a, b) = (owned_file(&dir, "a", 7, 7), owned_file(&dir, "b", 8, 8));
    let missing = dir.join("missing");
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
    let Some(dir) = root_dir("noremember") else {
        return;
    };
    let f = owned_file(&dir, "img", 55, 66);
    commit(&[Item::set(&f, 999, 995, true)], false).unwrap();
    assert_eq!(remember::peek(DAC, &f), (None, None));
    commit_restores(&[Item::restore(&f, true)], false).unwrap();
    assert_eq!(owner(&f), (0, 0));
}

#[test]
fn directories_are_chowned_without_remembering() {
    let Some(dir) = root_dir("dirs") else {
        return;
    };
    let sub = dir.join("domain-1-g");
    std::fs::create_dir(&sub).unwrap();
    commit(&[Item::set(&sub, 999, 995, true)], true).unwrap();
    assert_eq!(owner(&sub), (999, 995));
    assert_eq!(remember::peek(DAC, &sub), (None, None));
}
