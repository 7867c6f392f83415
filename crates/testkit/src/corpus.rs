//! libvirt 9.0.0's own test documents, fetched at test time: Debian's
//! source package of libvirt (bookworm main, the configured mirror) through
//! apt with a deb-src line in a private apt configuration, so the host's
//! sources and lists are untouched, then unpacked with `dpkg-source -x`.
//! Everything is cached under the workspace's `target/libvirt-corpus`;
//! nothing of it is committed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Debian mirror and suite the workspace is configured with.
const DEB_SRC: &str = "deb-src http://deb.debian.org/debian bookworm main\n";

/// The directories of libvirt's `tests/` that hold domain documents.
pub const DOMAIN_DIRS: &[&str] = &[
    "genericxml2xmlindata",
    "qemuxml2argvdata",
    "qemuxml2xmloutdata",
    "domainschemadata",
];

/// Where the corpus is cached: `target/libvirt-corpus` of the workspace the
/// running test was built in.
fn cache_dir() -> PathBuf {
    let profile = crate::bins::profile_dir();
    profile.parent().expect("target dir").join("libvirt-corpus")
}

fn run(what: &str, cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// `apt-get` with a private sources list and lists/cache directories.
fn apt(dir: &Path) -> Command {
    let mut cmd = Command::new("apt-get");
    let opt = |k: &str, v: &Path| format!("{k}={}", v.display());
    cmd.arg("-q")
        .arg("-o")
        .arg(opt("Dir::Etc::sourcelist", &dir.join("etc/sources.list")))
        .arg("-o")
        .arg("Dir::Etc::sourceparts=-")
        .arg("-o")
        .arg(opt("Dir::State::Lists", &dir.join("lists")))
        .arg("-o")
        .arg(opt("Dir::Cache", &dir.join("cache")))
        .arg("-o")
        .arg("APT::Get::List-Cleanup=0")
        .current_dir(dir);
    cmd
}

/// The unpacked libvirt 9.0.0 source tree, fetched on first use. Tests of
/// one binary run in parallel: one fetches, the others wait for it (apt
/// holds a lock on the lists and refuses a second update).
pub fn libvirt_source() -> Result<PathBuf, String> {
    static FETCH: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = FETCH.lock().unwrap_or_else(|e| e.into_inner());
    let dir = cache_dir();
    let tree = dir.join("libvirt-9.0.0");
    if tree.join("tests/genericxml2xmlindata").is_dir() {
        return Ok(tree);
    }
    for sub in ["etc", "lists/partial", "cache/archives/partial"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| e.to_string())?;
    }
    std::fs::write(dir.join("etc/sources.list"), DEB_SRC).map_err(|e| e.to_string())?;
    run("apt-get update", apt(&dir).arg("update"))?;
    run(
        "apt-get source",
        apt(&dir).args(["source", "--download-only", "libvirt"]),
    )?;
    let dsc = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("libvirt_9.0.0") && name.ends_with(".dsc")
        })
        .ok_or("no libvirt_9.0.0*.dsc downloaded")?;
    let _ = std::fs::remove_dir_all(&tree);
    run(
        "dpkg-source -x",
        Command::new("dpkg-source").arg("-x").arg(&dsc).arg(&tree),
    )?;
    Ok(tree)
}

/// Every domain document of [`DOMAIN_DIRS`], sorted; symbolic links (one
/// directory's documents shared by another) are left out, so each document
/// counts once.
pub fn domain_documents() -> Result<Vec<PathBuf>, String> {
    let tests = libvirt_source()?.join("tests");
    let mut docs = Vec::new();
    for d in DOMAIN_DIRS {
        for e in std::fs::read_dir(tests.join(d)).map_err(|e| format!("{d}: {e}"))? {
            let p = e.map_err(|e| e.to_string())?.path();
            let link = p
                .symlink_metadata()
                .is_ok_and(|m| m.file_type().is_symlink());
            if p.extension().is_some_and(|x| x == "xml") && !link {
                docs.push(p);
            }
        }
    }
    docs.sort();
    Ok(docs)
}
