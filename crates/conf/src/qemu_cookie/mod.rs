//! libvirt's QEMU migration cookie, `<qemu-migration>`, read and written
//! as libvirt 9.0 does (`qemu_migration_cookie.c`): what a stock libvirtd
//! and rvirtd's QEMU driver tell each other between Begin, Prepare,
//! Perform, Finish and Confirm.
//!
//! Each phase reads only the parts it asks for ([`Features`]); a
//! `<feature name='…'/>` the sender marks mandatory must be among them,
//! otherwise the reader refuses before anything moves ("Unsupported
//! migration cookie feature …"). libvirt does not keep the mandatory list
//! of a cookie it read, nor `<allowReboot>` (9.0 neither reads nor writes
//! it): neither is formatted back.
//!
//! ```xml
//! <qemu-migration>
//!   <name>…</name> <uuid>…</uuid> <hostname>…</hostname> <hostuuid>…</hostuuid>
//!   <feature name='memory-hotplug'/>
//!   <graphics …/> <lockstate …/> <domain …/> <network …/> <nbd …/>
//!   <statistics …/> <cpu …/> <capabilities …/> <blockDirtyBitmaps …/>
//! </qemu-migration>
//! ```

mod nbd;
mod parts;
mod statistics;
#[cfg(test)]
mod tests;

pub use nbd::{CookieNbd, NbdDisk};
pub use parts::{
    BitmapDisk, CookieCap, CookieGraphics, CookieLockState, CookieNetData, MIGRATION_CAPS,
};
pub use statistics::{CookieCompression, CookieStatistics};

use crate::domain::cpu::CpuDef;
use crate::xml::{self, escape, Element, Writer};
use crate::{DomainDef, FormatOptions};
use rvirt_util::uuid::{self, Uuid};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `qemuMigrationCookieFlags`, in libvirt's order (the bit numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CookieFeature {
    Graphics,
    Lockstate,
    Persistent,
    Network,
    Nbd,
    Statistics,
    MemoryHotplug,
    CpuHotplug,
    Cpu,
    AllowReboot,
    Capabilities,
    BlockDirtyBitmaps,
}

impl CookieFeature {
    pub const ALL: [CookieFeature; 12] = [
        CookieFeature::Graphics,
        CookieFeature::Lockstate,
        CookieFeature::Persistent,
        CookieFeature::Network,
        CookieFeature::Nbd,
        CookieFeature::Statistics,
        CookieFeature::MemoryHotplug,
        CookieFeature::CpuHotplug,
        CookieFeature::Cpu,
        CookieFeature::AllowReboot,
        CookieFeature::Capabilities,
        CookieFeature::BlockDirtyBitmaps,
    ];

    /// The name in `<feature name='…'/>`.
    pub fn name(self) -> &'static str {
        match self {
            CookieFeature::Graphics => "graphics",
            CookieFeature::Lockstate => "lockstate",
            CookieFeature::Persistent => "persistent",
            CookieFeature::Network => "network",
            CookieFeature::Nbd => "nbd",
            CookieFeature::Statistics => "statistics",
            CookieFeature::MemoryHotplug => "memory-hotplug",
            CookieFeature::CpuHotplug => "cpu-hotplug",
            CookieFeature::Cpu => "cpu",
            CookieFeature::AllowReboot => "allowReboot",
            CookieFeature::Capabilities => "capabilities",
            CookieFeature::BlockDirtyBitmaps => "block-dirty-bitmaps",
        }
    }

    pub fn from_name(name: &str) -> Option<CookieFeature> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of cookie features: what a phase reads, or what the sender
/// marks mandatory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features(pub u32);

impl Features {
    pub const NONE: Features = Features(0);
    pub const ALL: Features = Features((1 << 12) - 1);

    pub fn of(list: &[CookieFeature]) -> Features {
        Features(list.iter().fold(0, |acc, f| acc | f.bit()))
    }
    pub fn has(self, f: CookieFeature) -> bool {
        self.0 & f.bit() != 0
    }
    pub fn with(self, f: CookieFeature) -> Features {
        Features(self.0 | f.bit())
    }
    pub fn iter(self) -> impl Iterator<Item = CookieFeature> {
        CookieFeature::ALL.into_iter().filter(move |f| self.has(*f))
    }
}

/// One `<qemu-migration>` cookie. `None` parts are not sent; a part is
/// only read when the phase asks for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QemuMigrationCookie {
    /// The guest's name and UUID as the sender knows them.
    pub name: String,
    pub uuid: Uuid,
    /// The sending host.
    pub hostname: String,
    pub host_uuid: Uuid,
    /// Features the reader must understand (`<feature name=…/>`).
    pub mandatory: Features,
    pub graphics: Option<CookieGraphics>,
    pub lockstate: Option<CookieLockState>,
    /// The persistent definition for `VIR_MIGRATE_PERSIST_DEST`.
    pub persistent: Option<Box<DomainDef>>,
    pub network: Option<Vec<CookieNetData>>,
    /// Storage migration over NBD (`--copy-storage-*`).
    pub nbd: Option<CookieNbd>,
    pub statistics: Option<CookieStatistics>,
    /// The guest CPU as the source's QEMU runs it.
    pub cpu: Option<CpuDef>,
    /// The migration capabilities the sender's QEMU supports.
    pub capabilities: Option<Vec<CookieCap>>,
    pub block_dirty_bitmaps: Option<Vec<BitmapDisk>>,
}

/// libvirt's errors about a cookie (`VIR_ERR_INTERNAL_ERROR`, QEMU).
pub(crate) fn cookie_error(msg: impl Into<String>) -> Error {
    Error::new(ErrorDomain::QEMU, ErrorCode::INTERNAL_ERROR, msg.into())
}

fn missing(what: &str) -> Error {
    cookie_error(format!("missing {what} element in migration data"))
}

impl QemuMigrationCookie {
    /// A cookie from host `hostname`/`host_uuid` about guest `name`/`uuid`
    /// with no parts yet (`qemuMigrationCookieNew`).
    pub fn new(name: &str, uuid: Uuid, hostname: &str, host_uuid: Uuid) -> Self {
        QemuMigrationCookie {
            name: name.to_string(),
            uuid,
            hostname: hostname.to_string(),
            host_uuid,
            mandatory: Features::NONE,
            graphics: None,
            lockstate: None,
            persistent: None,
            network: None,
            nbd: None,
            statistics: None,
            cpu: None,
            capabilities: None,
            block_dirty_bitmaps: None,
        }
    }

    /// `qemuMigrationCookieXMLFormat`, with a trailing newline.
    pub fn format(&self) -> String {
        let mut w = Writer::new();
        w.line("<qemu-migration>");
        w.indent();
        w.line(&format!("<name>{}</name>", escape(&self.name)));
        w.line(&format!("<uuid>{}</uuid>", self.uuid.hyphenated()));
        w.line(&format!("<hostname>{}</hostname>", escape(&self.hostname)));
        w.line(&format!(
            "<hostuuid>{}</hostuuid>",
            self.host_uuid.hyphenated()
        ));
        for f in self.mandatory.iter() {
            w.line(&format!("<feature name='{}'/>", f.name()));
        }
        if let Some(g) = &self.graphics {
            g.format(&mut w);
        }
        if let Some(l) = &self.lockstate {
            l.format(&mut w);
        }
        if let Some(def) = &self.persistent {
            format_domain(def, &mut w);
        }
        if let Some(n) = &self.network {
            parts::format_network(n, &mut w);
        }
        if let Some(n) = &self.nbd {
            n.format(&mut w);
        }
        if let Some(s) = &self.statistics {
            s.format(&mut w);
        }
        if let Some(c) = &self.cpu {
            c.format(&mut w);
        }
        if let Some(c) = &self.capabilities {
            parts::format_caps(c, &mut w);
        }
        if let Some(b) = &self.block_dirty_bitmaps {
            parts::format_bitmaps(b, &mut w);
        }
        w.dedent();
        w.line("</qemu-migration>");
        w.finish()
    }

    /// The bytes for the wire: libvirt counts and checks the NUL.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = self.format().into_bytes();
        b.push(0);
        b
    }

    /// Read cookie bytes from the other end (`qemuMigrationCookieParse`):
    /// they must end in NUL.
    pub fn from_bytes(bytes: &[u8], accept: Features) -> Result<Self> {
        let Some((0, text)) = bytes.split_last() else {
            return Err(cookie_error("Migration cookie was not NULL terminated"));
        };
        let text = std::str::from_utf8(text)
            .map_err(|_| cookie_error("(qemu_migration_cookie):1: Input is not proper UTF-8"))?;
        Self::parse(text, accept)
    }

    /// `qemuMigrationCookieXMLParse`: the parts in `accept`; a mandatory
    /// feature outside `accept` is refused.
    pub fn parse(text: &str, accept: Features) -> Result<Self> {
        let root = xml::parse(text, "(qemu_migration_cookie)", ErrorDomain::QEMU)?;
        let text_of = |name: &str| root.child(name).map(|e| e.text());
        let name = text_of("name").ok_or_else(|| missing("name"))?;
        let uuid_text = text_of("uuid").ok_or_else(|| missing("uuid"))?;
        // libvirt compares the string with the guest's; a malformed one
        // never matches.
        let uuid = uuid::parse(&uuid_text).ok_or_else(|| {
            cookie_error(format!(
                "Incoming cookie data had unexpected UUID {uuid_text}"
            ))
        })?;
        let hostname = text_of("hostname").ok_or_else(|| missing("hostname"))?;
        let host_uuid = text_of("hostuuid").ok_or_else(|| missing("hostuuid"))?;
        let host_uuid = uuid::parse(&host_uuid)
            .ok_or_else(|| cookie_error("malformed hostuuid element in migration data"))?;
        let mut c = QemuMigrationCookie::new(&name, uuid, &hostname, host_uuid);
        c.mandatory = mandatory_features(&root, accept)?;
        c.read_parts(&root, accept)?;
        Ok(c)
    }

    fn read_parts(&mut self, root: &Element, accept: Features) -> Result<()> {
        use CookieFeature as F;
        let wanted = |f: F, name: &str| accept.has(f).then(|| root.child(name)).flatten();
        if let Some(g) = wanted(F::Graphics, "graphics") {
            self.graphics = Some(CookieGraphics::parse(g)?);
        }
        if let Some(l) = wanted(F::Lockstate, "lockstate") {
            self.lockstate = Some(CookieLockState::parse(l)?);
        }
        if accept.has(F::Persistent) {
            self.persistent = parse_domain(root)?;
        }
        if let Some(n) = wanted(F::Network, "network") {
            self.network = Some(parts::parse_network(n)?);
        }
        if let Some(n) = wanted(F::Nbd, "nbd") {
            self.nbd = Some(CookieNbd::parse(n)?);
        }
        if let Some(s) = wanted(F::Statistics, "statistics") {
            self.statistics = Some(CookieStatistics::parse(s));
        }
        if let Some(c) = wanted(F::Cpu, "cpu") {
            self.cpu = Some(CpuDef::parse(c)?);
        }
        if accept.has(F::Capabilities) {
            self.capabilities = Some(parts::parse_caps(root.child("capabilities"))?);
        }
        if let Some(b) = wanted(F::BlockDirtyBitmaps, "blockDirtyBitmaps") {
            self.block_dirty_bitmaps = Some(parts::parse_bitmaps(b)?);
        }
        Ok(())
    }

    /// libvirt's checks that the cookie is about guest `name`/`uuid`.
    pub fn check_guest(&self, name: &str, uuid: Uuid) -> Result<()> {
        if self.name != name {
            return Err(cookie_error(format!(
                "Incoming cookie data had unexpected name {} vs {name}",
                self.name
            )));
        }
        if self.uuid != uuid {
            return Err(cookie_error(format!(
                "Incoming cookie data had unexpected UUID {} vs {uuid}",
                self.uuid
            )));
        }
        Ok(())
    }

    /// libvirt's refusal of a migration to the host itself.
    pub fn check_other_host(&self, local_host_uuid: Uuid) -> Result<()> {
        if self.host_uuid == local_host_uuid {
            return Err(cookie_error(format!(
                "Attempt to migrate guest to the same host {}",
                self.host_uuid
            )));
        }
        Ok(())
    }
}

/// `qemuMigrationCookieXMLParseMandatoryFeatures`.
fn mandatory_features(root: &Element, accept: Features) -> Result<Features> {
    let mut found = Features::NONE;
    for node in root.children_named("feature") {
        let name = node
            .attr("name")
            .ok_or_else(|| cookie_error("missing feature name"))?;
        let f = CookieFeature::from_name(name)
            .ok_or_else(|| cookie_error(format!("Unknown migration cookie feature {name}")))?;
        if !accept.has(f) {
            return Err(cookie_error(format!(
                "Unsupported migration cookie feature {name}"
            )));
        }
        found = found.with(f);
    }
    Ok(found)
}

fn parse_domain(root: &Element) -> Result<Option<Box<DomainDef>>> {
    let mut domains = root.children_named("domain");
    let Some(first) = domains.next() else {
        return Ok(None);
    };
    if domains.next().is_some() {
        return Err(cookie_error("Too many domain elements in migration cookie"));
    }
    DomainDef::from_element(first).map(|d| Some(Box::new(d)))
}

/// The definition as libvirt embeds it (inactive, secure, migratable),
/// indented one level.
fn format_domain(def: &DomainDef, w: &mut Writer) {
    let opts = FormatOptions {
        id: None,
        inactive: true,
        secure: true,
    };
    for line in def.format(&opts).lines() {
        w.line(line);
    }
}
