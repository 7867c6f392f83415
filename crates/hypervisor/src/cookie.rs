//! The migration cookie between the phases (`rvirt_conf::MigrationCookie`,
//! libvirt's `qemuMigrationCookie`): what the source says about the guest
//! and itself, what the destination answers, and the checks both ends
//! make on the other's (same host, same guest).

use crate::times::now_ms;
use crate::MigrationSupport;
use rvirt_conf::qemu_cookie::{CookieFeature, CookieStatistics, Features};
use rvirt_conf::{DomainDef, FormatOptions, MigrationCookie, QemuMigrationCookie};
use rvirt_util::uuid::Uuid;
use rvirt_util::{Error, ErrorDomain, Result};

/// This host's name, as the cookie carries it.
pub fn host_name() -> String {
    rvirt_util::host::hostname().unwrap_or_else(|_| "localhost".into())
}

/// How a driver's cookies look on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CookieFormat {
    /// rvirt's own `<rvirt-migration>` (the test driver).
    Rvirt,
    /// libvirt's `<qemu-migration>`, NUL-terminated: what stock libvirtd's
    /// QEMU driver reads and writes, so rvirtd and libvirtd hosts migrate
    /// QEMU guests to each other.
    Qemu,
}

/// The phase that wrote a cookie; its reader asks for libvirt's parts of
/// that phase (`qemuMigrationCookieParse` flags in qemu_migration.c).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    Begin,
    /// The begin of a post-copy recovery (`qemuMigrationSrcBeginResume`),
    /// which sends only the capabilities.
    BeginResume,
    Prepare,
    Perform,
    Finish,
}

impl Sender {
    /// The `<qemu-migration>` parts rvirt reads from this phase's cookie.
    /// libvirt's prepare also takes memory-hotplug: rvirt's QEMU command
    /// line has none, so a source that marks it mandatory is refused
    /// before anything moves. cpu-hotplug (vCPUs plugged out of order) is
    /// taken: the destination plugs them in their `<vcpus>` order.
    pub fn accepted(self) -> Features {
        use CookieFeature as F;
        match self {
            Sender::Begin | Sender::BeginResume => Features::of(&[
                F::Lockstate,
                F::CpuHotplug,
                F::Nbd,
                F::Cpu,
                F::Capabilities,
                F::BlockDirtyBitmaps,
            ]),
            Sender::Prepare => {
                Features::of(&[F::Graphics, F::Capabilities, F::BlockDirtyBitmaps, F::Nbd])
            }
            Sender::Perform => Features::of(&[F::Network, F::Statistics, F::Nbd, F::Persistent]),
            Sender::Finish => Features::of(&[F::Statistics]),
        }
    }
}

/// Parse a cookie from the other end written by `sender`; `None` when it
/// sent none.
pub fn decode(
    format: CookieFormat,
    sender: Sender,
    cookie_in: &[u8],
) -> Result<Option<MigrationCookie>> {
    if cookie_in.is_empty() {
        return Ok(None);
    }
    match format {
        CookieFormat::Rvirt => MigrationCookie::from_bytes(cookie_in).map(Some),
        CookieFormat::Qemu => {
            let q = QemuMigrationCookie::from_bytes(cookie_in, sender.accepted())?;
            Ok(Some(from_qemu(q)))
        }
    }
}

/// The bytes of `c` as `sender` sends them.
pub fn encode(format: CookieFormat, sender: Sender, c: &MigrationCookie) -> Result<Vec<u8>> {
    match format {
        CookieFormat::Rvirt => Ok(c.format().into_bytes()),
        CookieFormat::Qemu => Ok(to_qemu(sender, c)?.to_bytes()),
    }
}

/// libvirt's cookie as the engine's: the definition as XML, the figures
/// as pairs; the whole cookie stays in `qemu` for the driver.
fn from_qemu(q: QemuMigrationCookie) -> MigrationCookie {
    let persistent = q.persistent.as_ref().map(|d| {
        d.format(&FormatOptions {
            id: None,
            inactive: true,
            secure: true,
        })
    });
    let stats = q.statistics.map(|s| s.to_pairs()).unwrap_or_default();
    let page_size = q
        .statistics
        .map(|s| s.memory_page_size)
        .filter(|p| p.is_power_of_two())
        .unwrap_or(4096);
    let memory_bytes = q.persistent.as_ref().map_or(0, |d| d.memory_kib * 1024);
    MigrationCookie {
        name: q.name.clone(),
        uuid: q.uuid,
        hostname: q.hostname.clone(),
        host_uuid: q.host_uuid,
        memory_bytes,
        page_size,
        digest: None,
        persistent,
        stats,
        qemu: Some(Box::new(q)),
    }
}

/// The engine's cookie as libvirt's: what the driver put in `qemu` (its
/// QEMU's capabilities among them), the header, the definition, the
/// figures, and the mandatory markers.
fn to_qemu(sender: Sender, c: &MigrationCookie) -> Result<QemuMigrationCookie> {
    let mut q = match &c.qemu {
        Some(q) => (**q).clone(),
        None => QemuMigrationCookie::new(&c.name, c.uuid, &c.hostname, c.host_uuid),
    };
    q.name = c.name.clone();
    q.uuid = c.uuid;
    q.hostname = c.hostname.clone();
    q.host_uuid = c.host_uuid;
    if let Some(xml) = &c.persistent {
        q.persistent = Some(Box::new(DomainDef::parse(xml)?));
    }
    q.mandatory = mandatory_features(sender, &q);
    if !c.stats.is_empty() {
        let elapsed = c.stat("time_elapsed").unwrap_or(0);
        let started = now_ms().saturating_sub(elapsed);
        q.statistics = Some(CookieStatistics::from_pairs(&c.stats, started));
    }
    Ok(q)
}

/// The features the reader must understand, as libvirt marks them
/// (`flagsMandatory`): the lock state in every begin cookie
/// (`qemuMigrationCookieAddLockstate`; rvirt's lock manager is libvirt's
/// "nop", which has no leases to send), a definition wherever one
/// travels (`qemuMigrationCookieAddPersistent`), and in begin the
/// cpu-hotplug marker the driver set (vCPUs plugged out of order).
fn mandatory_features(sender: Sender, q: &QemuMigrationCookie) -> Features {
    let mut m = Features::default();
    if sender == Sender::Begin {
        m = m.with(CookieFeature::Lockstate);
        if q.mandatory.has(CookieFeature::CpuHotplug) {
            m = m.with(CookieFeature::CpuHotplug);
        }
    }
    if q.persistent.is_some() {
        m = m.with(CookieFeature::Persistent);
    }
    m
}

/// libvirt's `qemuMigrationCookieXMLParse` check: the other end must be
/// another host. The cookie, parsed.
pub fn check_not_same_host(
    support: &MigrationSupport,
    sender: Sender,
    cookie_in: &[u8],
    ours: [u8; 16],
) -> Result<Option<MigrationCookie>> {
    let cookie = decode(support.cookie, sender, cookie_in)?;
    if let Some(c) = &cookie {
        if *c.host_uuid.as_bytes() == ours {
            return Err(Error::internal(
                support.domain,
                format!("Attempt to migrate guest to the same host {}", c.host_uuid),
            ));
        }
    }
    Ok(cookie)
}

/// The destination's check that the cookie and the XML name one guest.
pub fn check_same_guest(
    cookie: Option<&MigrationCookie>,
    def: Option<&DomainDef>,
    domain: ErrorDomain,
) -> Result<()> {
    if let (Some(c), Some(d)) = (cookie, def) {
        if c.uuid != d.uuid {
            return Err(Error::internal(
                domain,
                format!(
                    "Incoming cookie data had unexpected UUID {} vs {}",
                    c.uuid, d.uuid
                ),
            ));
        }
    }
    Ok(())
}

/// A cookie from this host about guest `name`/`uuid` with `memory_bytes`
/// of memory in pages of `page_size`.
pub fn ours(
    name: &str,
    uuid: Uuid,
    host_uuid: [u8; 16],
    memory_bytes: u64,
    page_size: u64,
) -> MigrationCookie {
    MigrationCookie {
        name: name.to_string(),
        uuid,
        hostname: host_name(),
        host_uuid: Uuid::from_bytes(host_uuid),
        memory_bytes,
        page_size,
        digest: None,
        persistent: None,
        stats: Vec::new(),
        qemu: None,
    }
}

/// The source's cookie for `def`: with PERSIST_DEST it carries the
/// persistent definition the destination should keep.
pub fn source_cookie(
    def: &DomainDef,
    persistent_xml: Option<String>,
    host_uuid: [u8; 16],
    page_size: u64,
) -> MigrationCookie {
    MigrationCookie {
        persistent: persistent_xml,
        ..ours(
            &def.name,
            def.uuid,
            host_uuid,
            def.memory_kib * 1024,
            page_size,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_host_is_refused() {
        let c = ours("g", Uuid::nil(), [3; 16], 4096, 4096);
        let bytes = c.format().into_bytes();
        let t = &crate::rules::TEST;
        let e = check_not_same_host(t, Sender::Begin, &bytes, [3; 16]).unwrap_err();
        assert!(e
            .message
            .contains("Attempt to migrate guest to the same host"));
        let back = check_not_same_host(t, Sender::Begin, &bytes, [4; 16]).unwrap();
        assert_eq!(back.unwrap().name, "g");
        assert!(check_not_same_host(t, Sender::Begin, &[], [3; 16])
            .unwrap()
            .is_none());
    }
    /// libvirt 9.0's begin cookie always marks the lock state mandatory,
    /// and a cookie carrying a definition marks it (as libvirtd's
    /// `nbd-bitmaps` test document shows for the begin cookie); the phase
    /// that reads each accepts what it is sent.
    #[test]
    fn mandatory_features_are_marked_as_libvirt_marks_them() {
        let mut c = ours("g", Uuid::nil(), [3; 16], 4096, 4096);
        let supported = ["pause-before-switchover", "x-colo", "xbzrle"].map(String::from);
        c.set_capabilities(&supported, "pause-before-switchover");
        let begin =
            String::from_utf8(encode(CookieFormat::Qemu, Sender::Begin, &c).unwrap()).unwrap();
        assert!(begin.contains("<feature name='lockstate'/>"), "{begin}");
        assert!(!begin.contains("<lockstate"), "nop has no leases: {begin}");
        assert!(!begin.contains("name='persistent'"), "{begin}");
        assert!(decode(CookieFormat::Qemu, Sender::Begin, begin.as_bytes()).is_ok());
        assert!(decode(CookieFormat::Qemu, Sender::Prepare, begin.as_bytes()).is_err());
        // A post-copy recovery's begin sends the capabilities alone, which
        // libvirt's prepare-resume (CAPS only) takes.
        let resume = encode(CookieFormat::Qemu, Sender::BeginResume, &c).unwrap();
        let resume = String::from_utf8(resume).unwrap();
        assert!(!resume.contains("<feature"), "{resume}");
        let caps = "<capabilities>\n    <cap name='xbzrle' auto='no'/>\n    \
                    <cap name='pause-before-switchover' auto='yes'/>\n  </capabilities>";
        assert!(resume.contains(caps), "{resume}");

        c.persistent = Some(
            "<domain type='qemu'><name>g</name><memory>1024</memory>\
             <os><type>hvm</type></os></domain>"
                .into(),
        );
        let perform = encode(CookieFormat::Qemu, Sender::Perform, &c).unwrap();
        let text = String::from_utf8(perform.clone()).unwrap();
        assert!(text.contains("<feature name='persistent'/>"), "{text}");
        assert!(!text.contains("name='lockstate'"), "{text}");
        let back = decode(CookieFormat::Qemu, Sender::Perform, &perform)
            .unwrap()
            .unwrap();
        assert!(back.persistent.unwrap().contains("<name>g</name>"));
    }
}
