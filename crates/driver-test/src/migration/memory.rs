//! The simulated guest: its memory as pages with a generation counter each,
//! dirtied by the guest as time passes, and the `<rvirt:guest>` metadata
//! that sets how fast (and which faults to inject in a migration).
//!
//! A page's bytes are a pseudo-random function of (guest seed, page index,
//! generation) made when the page is sent, so a large guest costs only its
//! counters while the bytes on the wire are real. Generation 0 means never
//! written: the page is zero and travels as a marker.

use rvirt_conf::xml::{self, Element};
use rvirt_conf::DomainDef;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use sha2::{Digest, Sha256};
use std::time::Duration;

pub const PAGE_SIZE: usize = 4096;
/// The namespace of the guest-behaviour metadata element.
pub const GUEST_NS: &str = "https://rvirt.dev/xmlns/test-guest/1";
/// Default dirty rate: modest enough to converge at any real bandwidth.
pub const DEFAULT_DIRTY_RATE_KIB: u64 = 1024;
/// Default working set cap.
pub const DEFAULT_WORKING_SET_KIB: u64 = 64 * 1024;
/// Default share of written pages that compress well, in percent.
pub const DEFAULT_COMPRESSIBLE_PCT: u32 = 50;

/// The migration phases a fault can be injected into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Begin,
    Prepare,
    Perform,
    Finish,
    Confirm,
}

impl Phase {
    fn parse(s: &str) -> Option<Phase> {
        Some(match s {
            "begin" => Phase::Begin,
            "prepare" => Phase::Prepare,
            "perform" => Phase::Perform,
            "finish" => Phase::Finish,
            "confirm" => Phase::Confirm,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Phase::Begin => "begin",
            Phase::Prepare => "prepare",
            Phase::Perform => "perform",
            Phase::Finish => "finish",
            Phase::Confirm => "confirm",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// The phase fails with `VIR_ERR_OPERATION_FAILED`.
    Fail,
    /// The phase waits this many ms first (abort stays possible meanwhile).
    Delay(u64),
    /// One page's bytes are flipped in transit.
    CorruptPage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub phase: Phase,
    pub action: FaultAction,
}

/// What `<rvirt:guest>` says about a guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestConfig {
    /// Bytes the guest writes per second (spread over the working set).
    pub dirty_rate: u64,
    /// Bytes of memory the guest writes to; `None` for the default.
    pub working_set: Option<u64>,
    /// Percent of written pages whose bytes compress well (text-like data);
    /// the rest are random.
    pub compressible: u32,
    pub faults: Vec<Fault>,
}

impl Default for GuestConfig {
    fn default() -> GuestConfig {
        GuestConfig {
            dirty_rate: DEFAULT_DIRTY_RATE_KIB * 1024,
            working_set: None,
            compressible: DEFAULT_COMPRESSIBLE_PCT,
            faults: Vec::new(),
        }
    }
}

fn bad_metadata(what: &str) -> Error {
    Error::new(
        ErrorDomain::TEST,
        ErrorCode::XML_ERROR,
        format!("invalid rvirt:guest metadata: {what}"),
    )
}

fn kib_value(e: &Element, unit: &str) -> Result<u64> {
    if e.attr("unit").is_some_and(|u| u != unit) {
        return Err(bad_metadata(&format!(
            "{} must be in {unit}",
            e.local_name()
        )));
    }
    e.text()
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|v| v.checked_mul(1024))
        .ok_or_else(|| bad_metadata(&format!("{} is not a number", e.local_name())))
}

fn percent_value(e: &Element) -> Result<u32> {
    if e.attr("unit").is_some_and(|u| u != "%") {
        return Err(bad_metadata("compressible must be in %"));
    }
    e.text()
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|v| *v <= 100)
        .ok_or_else(|| bad_metadata("compressible is not a percentage"))
}

impl GuestConfig {
    /// Read the guest element from a definition's `<metadata>`.
    pub fn from_def(def: &DomainDef) -> Result<GuestConfig> {
        let mut cfg = GuestConfig::default();
        let Some(meta) = &def.metadata else {
            return Ok(cfg);
        };
        let doc = format!("<metadata>{meta}</metadata>");
        let root = xml::parse_raw(&doc).map_err(|e| bad_metadata(&e.message))?;
        let Some(guest) = root
            .elements()
            .find(|e| e.local_name() == "guest" && e.namespace(&[&root]) == Some(GUEST_NS))
        else {
            return Ok(cfg);
        };
        for c in guest.elements() {
            match c.local_name() {
                "dirty-rate" => cfg.dirty_rate = kib_value(c, "KiB/s")?,
                "working-set" => cfg.working_set = Some(kib_value(c, "KiB")?),
                "compressible" => cfg.compressible = percent_value(c)?,
                "inject-fault" => cfg.faults.push(parse_fault(c)?),
                _ => {}
            }
        }
        Ok(cfg)
    }

    /// The fault configured for `phase`, if any.
    pub fn fault(&self, phase: Phase) -> Option<FaultAction> {
        self.faults
            .iter()
            .find(|f| f.phase == phase && f.action != FaultAction::CorruptPage)
            .map(|f| f.action)
    }

    pub fn corrupts(&self) -> bool {
        self.faults
            .iter()
            .any(|f| f.action == FaultAction::CorruptPage)
    }
}

fn parse_fault(e: &Element) -> Result<Fault> {
    let action = match e.attr("action") {
        Some("fail") => FaultAction::Fail,
        Some("corrupt-page") => FaultAction::CorruptPage,
        Some("delay") => FaultAction::Delay(
            e.attr("ms")
                .and_then(|m| m.parse().ok())
                .ok_or_else(|| bad_metadata("delay needs ms='N'"))?,
        ),
        other => {
            return Err(bad_metadata(&format!(
                "unknown fault action '{}'",
                other.unwrap_or("")
            )))
        }
    };
    let phase = match e.attr("phase") {
        Some(p) => Phase::parse(p).ok_or_else(|| bad_metadata(&format!("unknown phase '{p}'")))?,
        None if action == FaultAction::CorruptPage => Phase::Perform,
        None => return Err(bad_metadata("inject-fault needs phase=")),
    };
    Ok(Fault { phase, action })
}

/// splitmix64: a fast, well-mixed step for page contents and choices.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The bytes of page `index` at `generation` of guest `seed` (generation
/// 0 is the zero page). `compressible` percent of pages (chosen by the same
/// inputs) hold text-like data: words drawn from a four-entry table, which
/// deflate shrinks several times; the others are random bytes.
pub fn fill_page(seed: u64, index: u64, generation: u32, compressible: u32, out: &mut [u8]) {
    if generation == 0 {
        out.fill(0);
        return;
    }
    let mut state = mix(seed ^ mix(index) ^ ((generation as u64) << 40));
    let texty = mix(state ^ 0x5a5a) % 100 < compressible as u64;
    let table = [mix(state), mix(state ^ 1), mix(state ^ 2), mix(state ^ 3)];
    for chunk in out.chunks_mut(8) {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let r = mix(state);
        let v = if texty { table[(r & 3) as usize] } else { r }.to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

/// The per-page hash both sides keep (FNV-1a over 64-bit words, then mixed).
pub fn page_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for chunk in bytes.chunks(8) {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// The hash of an all-zero page.
pub fn zero_page_hash() -> u64 {
    page_hash(&[0u8; PAGE_SIZE])
}

/// sha256 over the per-page hashes in page order: the memory's digest.
pub fn digest_of(hashes: &[u64]) -> [u8; 32] {
    digest_iter(hashes.iter().copied())
}

pub fn digest_iter(hashes: impl Iterator<Item = u64>) -> [u8; 32] {
    let mut h = Sha256::new();
    for v in hashes {
        h.update(v.to_le_bytes());
    }
    h.finalize().into()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The source's view of a running guest's memory during a migration.
pub struct GuestMemory {
    seed: u64,
    gens: Vec<u32>,
    /// Pages written since the last sync.
    dirty: Vec<u64>,
    /// Pages the current pass still has to send.
    pass: Vec<u64>,
    pass_cursor: usize,
    working_set: u64,
    dirty_rate: u64,
    compressible: u32,
    rng: u64,
    /// Page writes owed but not yet made (fractions carry over).
    carry: f64,
    /// The guest's running time when it was last let run: only time spent
    /// running writes memory (a paused guest's vCPUs do nothing).
    last: Duration,
}

/// An empty vector with room for `n` items, or an error when memory for
/// it cannot be had (a guest or stream claiming absurd sizes).
pub fn page_vec<T>(n: u64) -> Result<Vec<T>> {
    let mut v = Vec::new();
    usize::try_from(n)
        .ok()
        .and_then(|n| v.try_reserve_exact(n).ok())
        .ok_or_else(|| {
            Error::new(
                ErrorDomain::TEST,
                ErrorCode::NO_MEMORY,
                format!("cannot allocate the page table of {n} pages"),
            )
        })?;
    Ok(v)
}

impl GuestMemory {
    /// A guest that has been running: its working set holds data, the rest
    /// is untouched (zero). Fails, rather than aborting, when the page
    /// table cannot be allocated.
    pub fn new(seed: u64, memory_bytes: u64, cfg: &GuestConfig) -> Result<GuestMemory> {
        let pages = memory_bytes.div_ceil(PAGE_SIZE as u64).max(1);
        let ws_bytes = cfg
            .working_set
            .unwrap_or(DEFAULT_WORKING_SET_KIB * 1024)
            .min(memory_bytes);
        let working_set = (ws_bytes / PAGE_SIZE as u64).clamp(1, pages);
        let mut gens = page_vec::<u32>(pages)?;
        gens.resize(pages as usize, 0);
        gens[..working_set as usize].fill(1);
        let (mut dirty, mut pass) = (page_vec::<u64>(pages / 64 + 1)?, page_vec(pages / 64 + 1)?);
        dirty.resize(pages.div_ceil(64) as usize, 0);
        pass.resize(pages.div_ceil(64) as usize, 0);
        Ok(GuestMemory {
            seed,
            gens,
            dirty,
            pass,
            pass_cursor: 0,
            working_set,
            dirty_rate: cfg.dirty_rate,
            compressible: cfg.compressible,
            rng: seed,
            carry: 0.0,
            last: Duration::ZERO,
        })
    }

    pub fn pages(&self) -> u64 {
        self.gens.len() as u64
    }
    pub fn seed(&self) -> u64 {
        self.seed
    }
    pub fn generation(&self, index: u64) -> u32 {
        self.gens[index as usize]
    }

    fn set(map: &mut [u64], i: u64) -> bool {
        let (w, b) = ((i / 64) as usize, i % 64);
        let was = map[w] & (1 << b) != 0;
        map[w] |= 1 << b;
        !was
    }

    /// Every page must be sent (the first pass).
    pub fn mark_all_dirty(&mut self) {
        let pages = self.pages();
        for i in 0..pages {
            Self::set(&mut self.dirty, i);
        }
    }

    /// Let the guest run until its running time reaches `ran` (the
    /// domain's run clock, which stands still while it is paused): writes
    /// = running time × rate × (100 − throttle)%. Returns the bytes written.
    pub fn run(&mut self, ran: Duration, throttle: u32) -> u64 {
        let elapsed = ran.saturating_sub(self.last).as_secs_f64();
        self.last = self.last.max(ran);
        let pct = 100u32.saturating_sub(throttle.min(100)) as f64 / 100.0;
        self.carry += elapsed * self.dirty_rate as f64 * pct / PAGE_SIZE as f64;
        let writes = self.carry.floor();
        self.carry -= writes;
        let writes = writes as u64;
        for _ in 0..writes {
            self.rng = mix(self.rng);
            let page = self.rng % self.working_set;
            self.gens[page as usize] = self.gens[page as usize].wrapping_add(1).max(1);
            Self::set(&mut self.dirty, page);
        }
        writes * PAGE_SIZE as u64
    }

    /// Start counting from running time `ran`: what the guest wrote before
    /// the migration began is already in the pages.
    pub fn reset_clock(&mut self, ran: Duration) {
        self.last = ran;
        self.carry = 0.0;
    }

    /// Start a pass: the pages dirtied so far become its work list.
    pub fn sync(&mut self) -> u64 {
        let mut n = 0;
        for (p, d) in self.pass.iter_mut().zip(self.dirty.iter_mut()) {
            *p |= *d;
            *d = 0;
            n += p.count_ones() as u64;
        }
        self.pass_cursor = 0;
        n
    }

    /// Pages dirtied and not yet synced into a pass.
    pub fn dirty_pages(&self) -> u64 {
        self.dirty.iter().map(|w| w.count_ones() as u64).sum()
    }

    /// Up to `max` pages of the current pass, in index order.
    pub fn next_batch(&mut self, max: usize) -> Vec<u64> {
        let mut out = Vec::with_capacity(max);
        while out.len() < max && self.pass_cursor < self.pass.len() {
            let w = &mut self.pass[self.pass_cursor];
            if *w == 0 {
                self.pass_cursor += 1;
                continue;
            }
            let b = w.trailing_zeros() as u64;
            *w &= !(1 << b);
            out.push(self.pass_cursor as u64 * 64 + b);
        }
        out
    }

    /// Pages left in the current pass.
    pub fn pass_remaining(&self) -> u64 {
        self.pass[self.pass_cursor.min(self.pass.len())..]
            .iter()
            .map(|w| w.count_ones() as u64)
            .sum()
    }

    /// Write page `index`'s current bytes; false for a zero page.
    pub fn read_page(&self, index: u64, out: &mut [u8]) -> bool {
        let g = self.gens[index as usize];
        fill_page(self.seed, index, g, self.compressible, out);
        g != 0
    }

    /// The digest of the whole memory as it is now (no per-page table).
    pub fn digest(&self) -> [u8; 32] {
        let zero = zero_page_hash();
        let mut buf = vec![0u8; PAGE_SIZE];
        digest_iter((0..self.pages()).map(|i| {
            if self.read_page(i, &mut buf) {
                page_hash(&buf)
            } else {
                zero
            }
        }))
    }
}

/// A seed for a guest, stable for its UUID.
pub fn seed_for(uuid: &[u8; 16]) -> u64 {
    let (a, b) = uuid.split_at(8);
    mix(u64::from_le_bytes(a.try_into().unwrap_or([0; 8])))
        ^ u64::from_le_bytes(b.try_into().unwrap_or([0; 8]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn def(meta: &str) -> DomainDef {
        DomainDef::parse(&format!(
            "<domain type='test'><name>g</name><memory unit='MiB'>16</memory>\
             <metadata>{meta}</metadata><os><type>hvm</type></os></domain>"
        ))
        .unwrap()
    }

    #[test]
    fn metadata_is_read() {
        let d = def(&format!(
            "<rvirt:guest xmlns:rvirt='{GUEST_NS}'><rvirt:dirty-rate unit='KiB/s'>2048</rvirt:dirty-rate>\
             <rvirt:working-set unit='KiB'>4096</rvirt:working-set>\
             <rvirt:compressible unit='%'>80</rvirt:compressible>\
             <rvirt:inject-fault phase='finish' action='fail'/>\
             <rvirt:inject-fault phase='perform' action='delay' ms='50'/>\
             <rvirt:inject-fault action='corrupt-page'/></rvirt:guest>"
        ));
        let c = GuestConfig::from_def(&d).unwrap();
        assert_eq!(c.dirty_rate, 2048 * 1024);
        assert_eq!(c.working_set, Some(4096 * 1024));
        assert_eq!(c.compressible, 80);
        assert_eq!(c.fault(Phase::Finish), Some(FaultAction::Fail));
        assert_eq!(c.fault(Phase::Perform), Some(FaultAction::Delay(50)));
        assert_eq!(c.fault(Phase::Begin), None);
        assert!(c.corrupts());
        let none = GuestConfig::from_def(&def("")).unwrap();
        assert_eq!(none, GuestConfig::default());
        let bad = def(&format!(
            "<rvirt:guest xmlns:rvirt='{GUEST_NS}'><rvirt:dirty-rate>x</rvirt:dirty-rate></rvirt:guest>"
        ));
        assert!(GuestConfig::from_def(&bad).is_err());
        let bad = def(&format!(
            "<rvirt:guest xmlns:rvirt='{GUEST_NS}'><rvirt:compressible>101</rvirt:compressible></rvirt:guest>"
        ));
        assert!(GuestConfig::from_def(&bad).is_err());
        let other_ns = def("<x:guest xmlns:x='urn:other'><x:dirty-rate>x</x:dirty-rate></x:guest>");
        assert_eq!(
            GuestConfig::from_def(&other_ns).unwrap(),
            GuestConfig::default()
        );
    }

    #[test]
    fn pages_are_deterministic_and_dirtying_follows_time() {
        let cfg = GuestConfig {
            dirty_rate: 4096 * 1000,
            working_set: Some(64 * 4096),
            ..GuestConfig::default()
        };
        let mut m = GuestMemory::new(7, 1 << 20, &cfg).unwrap();
        assert_eq!(m.pages(), 256);
        let (mut a, mut b) = (vec![0u8; PAGE_SIZE], vec![0u8; PAGE_SIZE]);
        assert!(m.read_page(3, &mut a));
        fill_page(7, 3, 1, DEFAULT_COMPRESSIBLE_PCT, &mut b);
        assert_eq!(a, b);
        assert!(!m.read_page(200, &mut a), "outside the working set is zero");
        let d0 = m.digest();
        m.mark_all_dirty();
        assert_eq!(m.sync(), 256);
        let batch = m.next_batch(300);
        assert_eq!(batch.len(), 256);
        assert_eq!(m.pass_remaining(), 0);
        m.reset_clock(Duration::from_secs(5));
        let wrote = m.run(Duration::from_millis(5100), 0);
        assert_eq!(wrote, 100 * 4096);
        assert!(m.dirty_pages() > 0 && m.dirty_pages() <= 64);
        assert_ne!(m.digest(), d0);
        // A guest claiming more memory than can be had is an error, not an abort.
        match GuestMemory::new(1, u64::MAX - 4095, &GuestConfig::default()) {
            Err(e) => assert_eq!(e.code, ErrorCode::NO_MEMORY),
            Ok(_) => panic!("an impossible page table was allocated"),
        }
        // A 90% throttle writes a tenth as much.
        let wrote = m.run(Duration::from_millis(5200), 90);
        assert_eq!(wrote, 10 * 4096);
        // Running time that does not advance (a paused guest) writes nothing.
        let dirty = m.dirty_pages();
        assert_eq!(m.run(Duration::from_millis(5200), 0), 0);
        assert_eq!(m.dirty_pages(), dirty);
    }
}
