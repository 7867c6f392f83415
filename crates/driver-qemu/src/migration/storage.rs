//! Storage migration without shared storage (libvirt's NBD path in
//! `qemu_migration.c`): which disks are copied
//! (`qemuMigrationAnyCopyDisk`), the rules begin checks, the `<nbd>` cookie
//! (disks and capacities from the source, the server's port from the
//! destination), and the destination's part: missing images created with
//! the source's size and format (`qemuMigrationDstPrecreateStorage`), an
//! NBD server with a writable export per disk
//! (`qemuMigrationDstStartNBDServer`), stopped at finish. The source's
//! mirrors are in [`super::mirror`].

use super::ports::Ports;
use crate::state::Running;
use rvirt::migration::flags;
use rvirt_conf::domain::disk::SourceKind;
use rvirt_conf::domain::props::VirEnum;
use rvirt_conf::domain::Disk;
use rvirt_conf::qemu_cookie::{CookieNbd, NbdDisk};
use rvirt_conf::DomainDef;
use rvirt_hypervisor::Request;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, Uri};
use serde::Serialize;
use serde_json::{json, Value};
use std::path::PathBuf;

/// Whether `flags` ask for storage migration (all, or incremental).
pub fn requested(flags: u32) -> bool {
    flags & (flags::NON_SHARED_DISK | flags::NON_SHARED_INC) != 0
}

/// One disk the migration copies.
#[derive(Clone, Debug)]
pub struct CopiedDisk {
    /// The guest's name for it (`vda`).
    pub target: String,
    /// `drive-ALIAS`: the NBD export's name and the mirror job's id.
    pub export: String,
    /// Its top (format) node, `libvirt-N-format`.
    pub node: String,
}

/// `qemuMigrationAnyCopyDisk`: the disks `migrate_disks` names, else every
/// disk that is neither shareable, read-only nor empty.
fn copies(disk: &Disk, migrate_disks: &[String]) -> bool {
    if !migrate_disks.is_empty() {
        return migrate_disks.contains(&disk.target.dev);
    }
    !disk.shareable && !disk.readonly && !disk.source.is_empty()
}

/// The disks of `def` the migration copies.
pub fn copied_disks(def: &DomainDef, migrate_disks: &[String]) -> Result<Vec<CopiedDisk>> {
    let count = def.devices.disks.len();
    let mut out = Vec::new();
    for (i, disk) in def.devices.disks.iter().enumerate() {
        if !copies(disk, migrate_disks) {
            continue;
        }
        if disk.readonly || disk.source.is_empty() {
            return Err(Error::new(
                ErrorDomain::QEMU,
                ErrorCode::OPERATION_UNSUPPORTED,
                format!("Cannot migrate empty or read-only disk {}", disk.target.dev),
            ));
        }
        let node = crate::command::disk_node_index(count, i);
        out.push(CopiedDisk {
            target: disk.target.dev.clone(),
            export: format!("drive-{}", crate::command::disk_alias(disk, def)?),
            node: format!("libvirt-{node}-format"),
        });
    }
    Ok(out)
}

/// `virFileIsSharedFS`'s file systems, by `statfs` magic: NFS, GFS2,
/// OCFS2, AFS, SMB, CIFS, Ceph, GPFS, ACFS, BeeGFS (the FUSE-mounted
/// GlusterFS and Quobyte, which it finds by mount type, are not seen).
const SHARED_FS: [i64; 10] = [
    0x6969,
    0x0116_1970,
    0x7461_636f,
    0x5346_414f,
    0x517b,
    0xff53_4d42,
    0x00c3_6400,
    0x4750_4653,
    0x6163_6673,
    0x1983_0326,
];

/// Whether `path` (or, while it does not exist, its nearest existing
/// parent) is on a shared file system.
fn on_shared_fs(path: &str) -> bool {
    let mut at = std::path::Path::new(path);
    loop {
        match nix::sys::statfs::statfs(at) {
            #[allow(clippy::unnecessary_cast)]
            Ok(fs) => return SHARED_FS.contains(&(fs.filesystem_type().0 as i64)),
            Err(_) => match at.parent() {
                Some(parent) => at = parent,
                None => return false,
            },
        }
    }
}

/// `qemuMigrationSrcIsSafe` without VIR_MIGRATE_UNSAFE: every disk that
/// has a source, is writable and is not copied by this migration must be
/// on shared storage (a network disk, a file on a shared file system).
/// QEMU 7.2 drops its page cache on the switch-over, so the disks' cache
/// mode does not matter (libvirt's `migration-file-drop-cache` case).
pub fn check_safe(def: &DomainDef, req: &Request, flags: u32) -> Result<()> {
    if flags & flags::UNSAFE != 0 {
        return Ok(());
    }
    for disk in &def.devices.disks {
        if disk.source.is_empty() || disk.readonly {
            continue;
        }
        if requested(flags) && copies(disk, &req.migrate_disks) {
            continue;
        }
        let unsafe_disk = match &disk.source.kind {
            SourceKind::File { path, .. } => !path.as_deref().is_some_and(on_shared_fs),
            SourceKind::Nvme(_) => true,
            _ => false,
        };
        if unsafe_disk {
            return Err(Error::new(
                ErrorDomain::QEMU,
                ErrorCode::MIGRATE_UNSAFE,
                "Migration without shared storage is unsafe",
            ));
        }
    }
    Ok(())
}

/// libvirt's refusal of a storage copy through a tunnel (NBD cannot ride
/// the daemons' connection).
pub fn tunnelled_copy_unsupported() -> Error {
    Error::new(
        ErrorDomain::QEMU,
        ErrorCode::OPERATION_UNSUPPORTED,
        "migration of non-shared storage is not supported with tunnelled migration and this QEMU",
    )
}

/// Begin's checks on a storage migration (`qemuMigrationSrcBeginPhase`):
/// not tunnelled, and every disk `migrate_disks` names exists.
pub fn check_begin(def: &DomainDef, req: &Request, flags: u32) -> Result<()> {
    let tunnelled = flags & flags::TUNNELLED != 0;
    if tunnelled && req.disks_port.is_some_and(|p| p != 0) {
        return Err(Error::new(
            ErrorDomain::QEMU,
            ErrorCode::ARGUMENT_UNSUPPORTED,
            "disk port address is not supported by tunnelled migration",
        ));
    }
    if !requested(flags) {
        return Ok(());
    }
    if tunnelled {
        return Err(tunnelled_copy_unsupported());
    }
    for wanted in &req.migrate_disks {
        if !def.devices.disks.iter().any(|d| &d.target.dev == wanted) {
            return Err(Error::invalid_arg(
                ErrorDomain::QEMU,
                format!("disk target {wanted} not found"),
            ));
        }
    }
    Ok(())
}

/// A QMP command built as JSON (the commands here are narrow and 7.2's
/// arguments differ from the `qapi-qmp` crate's newer schema).
pub struct Qmp<const N: usize> {
    pub args: Value,
}

impl<const N: usize> Serialize for Qmp<N> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.args.serialize(s)
    }
}

/// A command of JSON arguments, told from the others by its number.
macro_rules! json_args_command {
    ($id:literal, $name:literal, $ty:ident, $ok:ty) => {
        pub type $ty = Qmp<$id>;
        crate::monitor::qmp_command!(Qmp<$id> = $name => $ok);
    };
}

json_args_command!(0, "nbd-server-start", NbdServerStart, qapi::Empty);
json_args_command!(1, "nbd-server-stop", NbdServerStop, qapi::Empty);
json_args_command!(2, "block-export-add", BlockExportAdd, qapi::Empty);
json_args_command!(3, "query-named-block-nodes", QueryNamedBlockNodes, Value);
json_args_command!(4, "blockdev-add", BlockdevAdd, qapi::Empty);
json_args_command!(5, "blockdev-del", BlockdevDel, qapi::Empty);
json_args_command!(6, "blockdev-mirror", BlockdevMirror, qapi::Empty);
json_args_command!(7, "query-jobs", QueryJobs, Value);
json_args_command!(8, "block-job-cancel", BlockJobCancel, qapi::Empty);
json_args_command!(9, "job-dismiss", JobDismiss, qapi::Empty);
json_args_command!(10, "migrate-continue", MigrateContinue, qapi::Empty);
json_args_command!(11, "object-add", ObjectAdd, qapi::Empty);
json_args_command!(12, "object-del", ObjectDel, qapi::Empty);

/// Begin's `<nbd>`: each copied disk with its virtual size (libvirt's
/// `qemuMigrationCookieAddNBD`, from `query-named-block-nodes`).
pub async fn source_cookie(run: &Running, disks: &[CopiedDisk]) -> Result<CookieNbd> {
    let nodes = run
        .monitor
        .execute(QueryNamedBlockNodes {
            args: json!({"flat": true}),
        })
        .await?;
    let size_of = |node: &str| {
        nodes
            .as_array()?
            .iter()
            .find_map(|n| (n["node-name"] == node).then(|| n["image"]["virtual-size"].as_u64())?)
    };
    let disks = disks
        .iter()
        .filter_map(|d| {
            size_of(&d.node).map(|capacity| NbdDisk {
                target: d.target.clone(),
                capacity,
            })
        })
        .collect();
    Ok(CookieNbd { port: None, disks })
}

/// The destination creates the images it lacks, as large as the source
/// says and in the disk's format (`qemuMigrationDstPrecreateStorage`;
/// libvirt goes through a storage pool, which runs the same `qemu-img`).
/// The images made, which a failed migration removes again.
pub fn precreate(
    def: &DomainDef,
    nbd: &CookieNbd,
    migrate_disks: &[String],
    incremental: bool,
) -> Result<Vec<PathBuf>> {
    let mut made = Vec::new();
    let outcome = precreate_into(def, nbd, migrate_disks, incremental, &mut made);
    if outcome.is_err() {
        remove_created(&made);
    }
    outcome.map(|()| made)
}

fn precreate_into(
    def: &DomainDef,
    nbd: &CookieNbd,
    migrate_disks: &[String],
    incremental: bool,
    made: &mut Vec<PathBuf>,
) -> Result<()> {
    for wanted in &nbd.disks {
        let Some(disk) = def
            .devices
            .disks
            .iter()
            .find(|d| d.target.dev == wanted.target)
        else {
            return Err(Error::internal(
                ErrorDomain::QEMU,
                format!("unable to find disk by target: {}", wanted.target),
            ));
        };
        if let SourceKind::Volume(Some(v)) = &disk.source.kind {
            if copies(disk, migrate_disks) {
                let format = disk.driver.format.map_or("raw", |f| f.as_str());
                crate::disk_pool::precreate_volume(v, format, wanted.capacity, incremental)?;
            }
            continue;
        }
        let path = disk.source.path().map(PathBuf::from);
        if !copies(disk, migrate_disks) || path.as_ref().is_some_and(|p| p.exists()) {
            continue;
        }
        let Some(path) = path else { continue };
        if incremental {
            return Err(Error::new(
                ErrorDomain::QEMU,
                ErrorCode::OPERATION_UNSUPPORTED,
                "pre-creation of storage targets for incremental storage migration is not supported",
            ));
        }
        if disk.disk_type().as_str() != "file" {
            return Err(Error::internal(
                ErrorDomain::QEMU,
                format!(
                    "cannot precreate storage for disk type '{}'",
                    disk.disk_type().as_str()
                ),
            ));
        }
        let format = disk.driver.format.map_or("raw", |f| f.as_str());
        create_image(&path, format, wanted.capacity)?;
        made.push(path);
    }
    Ok(())
}

/// `qemu-img create` as libvirt's storage driver runs it (qcow2: v3 with
/// its metadata preallocated).
fn create_image(path: &std::path::Path, format: &str, capacity: u64) -> Result<()> {
    let mut cmd = std::process::Command::new("qemu-img");
    cmd.args(["create", "-f", format]);
    if format == "qcow2" {
        cmd.args(["-o", "compat=1.1,preallocation=metadata"]);
    }
    let out = cmd
        .arg(path)
        .arg(capacity.to_string())
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| Error::system(ErrorDomain::QEMU, "cannot run qemu-img", &e))?;
    if !out.status.success() {
        return Err(Error::new(
            ErrorDomain::QEMU,
            ErrorCode::OPERATION_FAILED,
            format!(
                "cannot create disk image '{}': {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(())
}

/// The images a failed incoming migration created go again.
pub fn remove_created(made: &[PathBuf]) {
    for p in made {
        if let Err(e) = std::fs::remove_file(p) {
            tracing::warn!("cannot remove {}: {e}", p.display());
        }
    }
}

/// Where the destination's NBD server listens.
#[derive(Clone, Debug, PartialEq)]
pub enum NbdListen {
    Tcp { host: String, port: u16 },
    Unix(String),
}

fn invalid(text: String) -> Error {
    Error::invalid_arg(ErrorDomain::QEMU, text)
}

/// The server address from `disks_uri` (preferred) or the listen address
/// and `disks_port` (0: a port of the migration range), as
/// `qemuMigrationDstStartNBDServer` reads them. The port is held in
/// `ports` (released by the caller) when taken from the range or named by
/// the client within it.
pub fn plan_server(req: &Request, listen: &str, ports: &Ports) -> Result<(NbdListen, Option<u16>)> {
    let mut host = listen.to_string();
    let mut port = 0u16;
    if let Some(text) = &req.disks_uri {
        let uri = Uri::parse(text)?;
        match uri.scheme.as_str() {
            "" => return Err(invalid(format!("No URI scheme specified: {text}"))),
            "tcp" => {
                host = uri.server.filter(|s| !s.is_empty()).ok_or_else(|| {
                    invalid(format!(
                        "URI with tcp scheme did not provide a server part: {text}"
                    ))
                })?;
                port = uri.port.unwrap_or(0);
            }
            "unix" => {
                if uri.path.is_empty() {
                    return Err(invalid("UNIX disks URI does not include path".to_string()));
                }
                return Ok((NbdListen::Unix(uri.path), None));
            }
            other => return Err(invalid(format!("Unsupported scheme in disks URI: {other}"))),
        }
    } else if let Some(p) = req.disks_port {
        port = u16::try_from(p)
            .map_err(|_| invalid("nbd port must be in range 0-65535".to_string()))?;
    }
    let (port, taken) = match port {
        0 => {
            let p = ports.acquire()?;
            (p, Some(p))
        }
        p => (p, ports.reserve(p)?.then_some(p)),
    };
    Ok((NbdListen::Tcp { host, port }, taken))
}

/// `nbd-server-start` on `listen` (over TLS with the credentials named
/// `tls`), then a writable export of each disk named `drive-ALIAS`
/// (`block-export-add`, as libvirt with QEMU ≥ 5.2).
pub async fn start_server(
    run: &Running,
    (listen, tls): (&NbdListen, Option<&str>),
    disks: &[CopiedDisk],
) -> Result<()> {
    let addr = match listen {
        NbdListen::Tcp { host, port } => json!({
            "type": "inet",
            "data": {"host": host.trim_start_matches('[').trim_end_matches(']'),
                     "port": port.to_string()},
        }),
        NbdListen::Unix(path) => json!({"type": "unix", "data": {"path": path}}),
    };
    let mon = &run.monitor;
    let mut args = json!({ "addr": addr });
    if let Some(creds) = tls {
        args["tls-creds"] = json!(creds);
    }
    mon.execute(NbdServerStart { args }).await?;
    for d in disks {
        let export = json!({
            "type": "nbd",
            "id": format!("libvirt-nbd-{}", d.node),
            "node-name": d.node,
            "name": d.export,
            "writable": true,
        });
        mon.execute(BlockExportAdd { args: export }).await?;
    }
    Ok(())
}

/// `nbd-server-stop` (its exports go with it).
pub async fn stop_server(run: &Running) -> Result<()> {
    run.monitor
        .execute(NbdServerStop { args: json!({}) })
        .await
        .map(|_| ())
}

/// The destination's storage part of one incoming migration: the NBD
/// server's port taken from the range, and the images created for it.
#[derive(Debug, Default)]
pub struct IncomingStorage {
    /// Whether an NBD server runs (finish stops it).
    pub serving: bool,
    pub port: Option<u16>,
    pub created: Vec<PathBuf>,
}

impl IncomingStorage {
    /// The migration failed: its port is free and its images go.
    pub fn discard(&self, ports: &Ports) {
        if let Some(p) = self.port {
            ports.release(p);
        }
        remove_created(&self.created);
    }
}

/// The destination's `<nbd>` answer: the port the server listens on.
pub fn destination_cookie(listen: &NbdListen) -> CookieNbd {
    let port = match listen {
        NbdListen::Tcp { port, .. } => Some(i32::from(*port)),
        NbdListen::Unix(_) => None,
    };
    CookieNbd {
        port,
        disks: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = "<domain type='qemu'><name>g</name><memory>65536</memory>\
        <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
        <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
        <source file='/images/a.qcow2'/><target dev='vda' bus='virtio'/></disk>\
        <disk type='file' device='disk'><source file='/images/b.raw'/>\
        <target dev='vdb' bus='virtio'/><shareable/></disk>\
        <disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>\
        </devices></domain>";

    fn def() -> DomainDef {
        DomainDef::parse(XML).unwrap()
    }

    #[test]
    fn the_copied_disks_follow_libvirts_choice() {
        let all = copied_disks(&def(), &[]).unwrap();
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(all[0].target, "vda");
        assert_eq!(all[0].export, "drive-virtio-disk0");
        assert_eq!(all[0].node, "libvirt-3-format");
        let named = copied_disks(&def(), &["vdb".to_string()]).unwrap();
        assert_eq!(named[0].target, "vdb");
        let e = copied_disks(&def(), &["hdc".to_string()]).unwrap_err();
        assert_eq!(e.code, ErrorCode::OPERATION_UNSUPPORTED);
    }

    #[test]
    fn begin_refuses_what_libvirt_refuses() {
        let req = Request {
            migrate_disks: vec!["vdz".into()],
            ..Request::default()
        };
        let e = check_begin(&def(), &req, flags::NON_SHARED_DISK).unwrap_err();
        assert_eq!(e.message, "invalid argument: disk target vdz not found");
        let tunnelled = flags::NON_SHARED_INC | flags::TUNNELLED | flags::PEER2PEER;
        let e = check_begin(&def(), &Request::default(), tunnelled).unwrap_err();
        assert!(e.message.contains("not supported with tunnelled"), "{e}");
        assert!(check_begin(&def(), &req, flags::LIVE).is_ok());
    }

    #[test]
    fn a_local_disk_not_copied_is_unsafe() {
        let req = Request::default();
        let e = check_safe(&def(), &req, flags::LIVE).unwrap_err();
        assert_eq!(e.code, ErrorCode::MIGRATE_UNSAFE);
        assert_eq!(
            e.message,
            "Unsafe migration: Migration without shared storage is unsafe"
        );
        assert!(check_safe(&def(), &req, flags::LIVE | flags::UNSAFE).is_ok());
        // The shareable vdb is not copied unless named, so still unsafe.
        assert!(check_safe(&def(), &req, flags::NON_SHARED_DISK).is_err());
        let both = Request {
            migrate_disks: vec!["vda".into(), "vdb".into()],
            ..Request::default()
        };
        assert!(check_safe(&def(), &both, flags::NON_SHARED_DISK).is_ok());
    }

    #[test]
    fn the_server_address_comes_from_disks_uri_or_port() {
        let ports = Ports::new(49300, 49301).unwrap();
        let req = Request {
            disks_port: Some(10809),
            ..Request::default()
        };
        let (listen, taken) = plan_server(&req, "::", &ports).unwrap();
        let want = NbdListen::Tcp {
            host: "::".into(),
            port: 10809,
        };
        assert_eq!((listen, taken), (want, None));
        let req = Request {
            disks_port: Some(49301),
            ..Request::default()
        };
        assert_eq!(plan_server(&req, "::", &ports).unwrap().1, Some(49301));
        let e = plan_server(&req, "::", &ports).unwrap_err();
        assert!(e.message.contains("Failed to reserve port 49301"), "{e}");
        let (_, taken) = plan_server(&Request::default(), "::", &ports).unwrap();
        assert_eq!(taken, Some(49300));
        let req = Request {
            disks_uri: Some("unix:///run/nbd.sock".into()),
            ..Request::default()
        };
        let (listen, _) = plan_server(&req, "::", &ports).unwrap();
        assert_eq!(listen, NbdListen::Unix("/run/nbd.sock".into()));
        for (bad, why) in [
            ("tcp://:5/", "did not provide a server part"),
            ("udp://h:5", "Unsupported scheme in disks URI: udp"),
        ] {
            let req = Request {
                disks_uri: Some(bad.into()),
                ..Request::default()
            };
            let e = plan_server(&req, "::", &ports).unwrap_err();
            assert!(e.message.contains(why), "{bad}: {e}");
        }
        let req = Request {
            disks_port: Some(70000),
            ..Request::default()
        };
        let e = plan_server(&req, "::", &ports).unwrap_err();
        assert!(e.message.contains("nbd port must be in range 0-65535"));
    }
}
