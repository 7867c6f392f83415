//! Typed domain definition → QEMU command line (libvirt's `qemu_command.c`).
//!
//! [`build`] emits the arguments in the order and spelling libvirt 9.0's
//! `qemuBuildCommandLine` uses for QEMU 7.2, so a guest rvirt starts has
//! the device tree, ids and RAM block names libvirt would give it (live
//! migration between the two depends on that). [`prepare_definition`] is
//! the define-time half: machine canonicalisation, implicit devices and
//! address assignment (`qemu_domain.c` post-parse, `qemu_domain_address.c`).

mod address;
mod address_q35;
mod alias;
mod boot;
mod chardev;
mod controller;
mod cpu;
mod devices;
mod disk;
mod graphics;
mod implicit;
mod iothreads;
mod json;
mod live;
mod machine;
mod net;
mod numa;
#[cfg(test)]
pub(crate) mod test_caps;
mod tunables;
pub mod vcpu_states;

pub use alias::assign as assign_aliases;
pub use chardev::channel_dir;
pub use cpu::update_for_start as update_cpu_for_start;
pub use disk::{disk_alias, disk_node_index};
pub use live::add_runtime_details;
pub use net::tap_name;
pub use numa::{memory_backing_dir, needs_memory_backing_dir};

use crate::caps_model::{Accel, QemuCaps};
use rvirt_conf::domain::{DomainDef, VirtType};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::path::{Path, PathBuf};

/// What one start of a guest needs beyond its definition.
#[derive(Clone, Debug)]
pub struct RunContext {
    /// Must agree with the definition: `type='kvm'` needs [`Accel::Kvm`]
    /// (the driver passes Tcg when its probe found KVM unusable, and the
    /// build then refuses as libvirt does); `type='qemu'` runs TCG.
    pub accel: Accel,
    /// QMP socket: `-chardev socket,id=charmonitor,path=...,server=on,wait=off
    /// -mon chardev=charmonitor,id=monitor,mode=control` as libvirt 9.0.
    pub monitor_socket: PathBuf,
    /// Per-domain private dir (libvirt's `/var/lib/libvirt/qemu/domain-ID-NAME`):
    /// HOME and XDG dirs of QEMU, and `master-key.aes` (see [`write_master_key`]).
    /// Guest-agent channel sockets go to `PARENT/channel/target/BASENAME/`,
    /// libvirt's `channelTargetDir` layout.
    pub lib_dir: PathBuf,
    pub domain_id: i32,
    /// `-incoming ...` for a migration destination; None normally.
    pub incoming: Option<String>,
    /// The descriptors opened for direct (macvtap) interfaces, by the
    /// interface's position: QEMU inherits them (`-netdev tap,fd=N`).
    pub tap_fds: std::collections::BTreeMap<usize, TapFds>,
}

/// A tap descriptor handed to QEMU and, for vhost-net, its vhost one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TapFds {
    pub tap: i32,
    pub vhost: Option<i32>,
}

/// A QEMU invocation: program, environment and arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandLine {
    pub program: PathBuf,
    pub env: Vec<(String, String)>,
    pub args: Vec<String>,
}

impl CommandLine {
    /// The `virsh domxml-to-native qemu-argv` text, formatted as libvirt 9.0
    /// prints it (`virCommandToString`: `NAME=VALUE` pairs, program, args,
    /// each shell-quoted only when it needs it).
    pub fn to_native(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.env {
            out.push_str(name);
            out.push('=');
            out.push_str(&shell_escape(value));
            out.push(' ');
        }
        out.push_str(&shell_escape(&self.program.to_string_lossy()));
        for arg in &self.args {
            out.push(' ');
            out.push_str(&shell_escape(arg));
        }
        out
    }
}

/// `virBufferEscapeShell`: single quotes around anything with a shell
/// metacharacter, `'` itself as `'\''`.
fn shell_escape(s: &str) -> String {
    const META: &str = "\r\t\n !\"#$&'()*;<>?[\\]^`{|}~";
    if s.is_empty() {
        return "''".into();
    }
    if !s.chars().any(|c| META.contains(c)) {
        return s.into();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// libvirt's master key file of a domain, named in `-object secret`.
pub fn master_key_path(ctx: &RunContext) -> PathBuf {
    master_key_in(&ctx.lib_dir)
}

/// The master key file in a guest's private directory.
pub fn master_key_in(lib_dir: &std::path::Path) -> PathBuf {
    lib_dir.join("master-key.aes")
}

/// Create the 32 random bytes `-object secret,id=masterKey0` reads
/// (`qemuDomainMasterKeyCreate`), mode 0600, before QEMU starts.
pub fn write_master_key(ctx: &RunContext) -> Result<()> {
    use std::io::{Read, Write};
    use std::os::unix::fs::OpenOptionsExt;
    let io_err = |what: &str, e: std::io::Error| {
        Error::new(
            ErrorDomain::QEMU,
            ErrorCode::SYSTEM_ERROR,
            format!("{what}: {e}"),
        )
    };
    let mut key = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .map_err(|e| io_err("failed to generate master key", e))?;
    let path = master_key_path(ctx);
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| f.write_all(&key))
        .map_err(|e| {
            io_err(
                &format!("failed to write master key file '{}'", path.display()),
                e,
            )
        })
}

/// libvirt's `VIR_ERR_CONFIG_UNSUPPORTED` from the QEMU driver.
pub(crate) fn unsupported(msg: impl AsRef<str>) -> Error {
    Error::new(ErrorDomain::QEMU, ErrorCode::CONFIG_UNSUPPORTED, msg)
}

/// `virQEMUBuildBufferEscapeComma`: QEMU's option syntax doubles commas.
pub(crate) fn escape_comma(s: &str) -> String {
    s.replace(',', ",,")
}

/// The arguments as they accumulate.
#[derive(Default)]
pub(crate) struct Args(pub(crate) Vec<String>);

impl Args {
    pub(crate) fn flag(&mut self, flag: &str) {
        self.0.push(flag.to_string());
    }

    pub(crate) fn opt(&mut self, flag: &str, value: impl Into<String>) {
        self.0.push(flag.to_string());
        self.0.push(value.into());
    }

    /// `-device '{json}'` and friends.
    pub(crate) fn json(&mut self, flag: &str, props: json::Props) {
        self.opt(flag, props.finish());
    }
}

/// Typed definition + capabilities → argv. The definition is prepared
/// first (as libvirt's define and start do), so a caller may pass one
/// straight from the parser. Refuses what it cannot express with libvirt's
/// error (VIR_ERR_CONFIG_UNSUPPORTED etc.).
pub fn build(def: &DomainDef, caps: &QemuCaps, ctx: &RunContext) -> Result<CommandLine> {
    let mut def = def.clone();
    prepare_definition(&mut def, caps)?;
    check_accel(&def, caps, ctx)?;
    let def = &def;
    let mut a = Args::default();
    a.opt(
        "-name",
        format!("guest={},debug-threads=on", escape_comma(&def.name)),
    );
    a.flag("-S");
    a.json("-object", master_key_object(ctx));
    machine::machine(&mut a, def, caps)?;
    let kvm = def.virt_type == VirtType::Kvm;
    a.opt("-accel", if kvm { "kvm" } else { "tcg" });
    cpu::cpu(&mut a, def)?;
    machine::memory(&mut a, def, caps)?;
    cpu::smp(&mut a, def);
    iothreads::iothreads(&mut a, def);
    numa::numa(&mut a, def, ctx)?;
    a.opt("-uuid", def.uuid.to_string());
    if def.devices.graphics.is_empty() {
        a.opt("-display", "none");
    }
    a.flag("-no-user-config");
    a.flag("-nodefaults");
    chardev::monitor(&mut a, &ctx.monitor_socket);
    machine::clock(&mut a, def)?;
    machine::power_management(&mut a, def);
    boot::boot(&mut a, def);
    devices::build_devices(&mut a, def, caps, ctx)?;
    if let Some(uri) = &ctx.incoming {
        a.opt("-incoming", uri.clone());
    }
    devices::build_tail(&mut a, def)?;
    a.opt(
        "-sandbox",
        "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
    );
    a.opt("-msg", "timestamp=on");
    Ok(CommandLine {
        program: emulator(def, caps),
        env: environment(&ctx.lib_dir),
        args: a.0,
    })
}

/// Define-time preparation: canonical machine type, the controllers and
/// devices libvirt 9.0 adds implicitly, and every missing `<address>`
/// assigned as `qemu_domain_address.c` does. Idempotent.
pub fn prepare_definition(def: &mut DomainDef, caps: &QemuCaps) -> Result<()> {
    // qemuDomainDefPostParse: a host bootloader (Xen's pygrub) is not QEMU's.
    if def.os.bootloader.is_some() || def.os.bootloader_args.is_some() {
        return Err(unsupported("bootloader is not supported by QEMU"));
    }
    vcpu_states::validate(def)?;
    tunables::validate(def)?;
    numa::rectify_cpus(def);
    numa::update_memory(def);
    machine::canonicalise(def, caps)?;
    implicit::add_implicit_devices(def, caps)?;
    address::assign_addresses(def)
}

fn emulator(def: &DomainDef, caps: &QemuCaps) -> PathBuf {
    def.devices
        .emulator
        .as_deref()
        .map_or_else(|| caps.binary.clone(), PathBuf::from)
}

/// `qemuProcessStartValidate`'s refusal of a KVM guest without `/dev/kvm`.
pub const KVM_MISSING: &str = "Domain requires KVM, but it is not available. Check that \
     virtualization is enabled in the host BIOS, and host configuration \
     is setup to load the kvm modules.";

/// `type='kvm'` without a usable KVM gets libvirt's refusal.
fn check_accel(def: &DomainDef, caps: &QemuCaps, ctx: &RunContext) -> Result<()> {
    match def.virt_type {
        VirtType::Kvm if ctx.accel == Accel::Kvm && caps.kvm_usable => Ok(()),
        VirtType::Kvm => Err(unsupported(KVM_MISSING)),
        VirtType::Qemu => Ok(()),
        other => Err(unsupported(format!(
            "Emulator '{}' does not support virt type '{other}'",
            caps.binary.display()
        ))),
    }
}

/// `-object secret,id=masterKey0` (`qemuBuildMasterKeyCommandLine`).
fn master_key_object(ctx: &RunContext) -> json::Props {
    json::Props::new()
        .str("qom-type", "secret")
        .str("id", "masterKey0")
        .str("format", "raw")
        .str("file", &master_key_path(ctx).to_string_lossy())
}

/// `virCommandAddEnvPassCommon` then HOME and the XDG dirs in the domain's
/// private dir, as libvirt's privileged driver sets them.
fn environment(lib_dir: &Path) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![("LC_ALL".into(), "C".into())];
    let lib = lib_dir.to_string_lossy().into_owned();
    let passed = [
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "DYLD_INSERT_LIBRARIES",
        "DYLD_FORCE_FLAT_NAMESPACE",
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "TMPDIR",
    ];
    for name in passed {
        if let Ok(value) = std::env::var(name) {
            env.push((name.into(), value));
        }
    }
    let mut set = |name: &str, value: String| match env.iter_mut().find(|(n, _)| n == name) {
        Some(slot) => slot.1 = value,
        None => env.push((name.into(), value)),
    };
    set("HOME", lib.clone());
    set("XDG_DATA_HOME", format!("{lib}/.local/share"));
    set("XDG_CACHE_HOME", format!("{lib}/.cache"));
    set("XDG_CONFIG_HOME", format!("{lib}/.config"));
    env
}

#[cfg(test)]
mod tests;
