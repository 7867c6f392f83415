//! Temporary directories, one per use, removed when their guard drops.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A number no other call in this process returns: for directory, guest
/// and host names that tests running in parallel must not share.
pub fn unique() -> usize {
    SEQ.fetch_add(1, Ordering::Relaxed)
}

/// A UUID no other host or guest of this test run has.
pub fn fresh_uuid() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        std::process::id(),
        unique() & 0xffff,
        (nanos >> 12) & 0xfff,
        nanos & 0xfff,
        nanos >> 16 & 0xffff_ffff_ffff
    )
}

/// A fresh, empty directory under the system temp dir, named after `kind`,
/// this process and a sequence number; removed with its contents on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(kind: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "rvirt-test-{kind}-{}-{}",
            std::process::id(),
            unique()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }

    /// Write `text` to `name` in this directory; its path.
    pub fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(name);
        std::fs::write(&path, text).expect("write temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_dirs_are_distinct_and_removed_on_drop() {
        let a = TempDir::new("kit");
        let b = TempDir::new("kit");
        assert_ne!(a.path(), b.path());
        let file = a.write("x", "y");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "y");
        let path = a.path().to_path_buf();
        drop(a);
        assert!(!path.exists());
    }

    #[test]
    fn fresh_uuids_differ_and_parse() {
        let (a, b) = (fresh_uuid(), fresh_uuid());
        assert_ne!(a, b);
        assert!(rvirt_util::uuid::parse(&a).is_some(), "{a}");
    }
}
