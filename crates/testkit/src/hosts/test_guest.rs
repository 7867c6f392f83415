//! A test-driver guest whose memory really migrates: its XML with the
//! rvirt metadata (dirty rate, working set, fault hooks) the test driver
//! reads (crates/driver-test/README.md).

use crate::dirs::{fresh_uuid, unique};

/// The rvirt test-guest metadata namespace (docs/migration.md).
pub const GUEST_NS: &str = "https://rvirt.dev/xmlns/test-guest/1";

/// A test-driver guest: memory really dirtied at `dirty_kib_s` over a
/// working set, and optional fault hooks.
#[derive(Clone, Debug)]
pub struct Guest {
    pub name: String,
    pub uuid: String,
    pub memory_mib: u64,
    pub dirty_kib_s: u64,
    pub working_set_kib: u64,
    pub description: Option<String>,
    /// Attributes of each `<rvirt:inject-fault/>` (crates/driver-test/README.md).
    pub faults: Vec<String>,
}

impl Guest {
    /// A 32 MiB guest dirtying 1 MiB/s of an 8 MiB working set, with a
    /// name unique to this test run.
    pub fn new(prefix: &str) -> Guest {
        Guest {
            name: format!("{prefix}{}", unique()),
            uuid: fresh_uuid(),
            memory_mib: 32,
            dirty_kib_s: 1024,
            working_set_kib: 8192,
            description: None,
            faults: Vec::new(),
        }
    }

    /// As [`Guest::new`], called exactly `name`: for tests whose output
    /// shows the name.
    pub fn named(name: &str) -> Guest {
        Guest {
            name: name.to_string(),
            ..Guest::new("")
        }
    }

    pub fn working_set(mut self, kib: u64) -> Guest {
        self.working_set_kib = kib;
        self
    }

    pub fn memory(mut self, mib: u64) -> Guest {
        self.memory_mib = mib;
        self
    }

    /// `phase` (begin, prepare, perform, finish, confirm) does `action`
    /// (fail).
    pub fn fault(mut self, phase: &str, action: &str) -> Guest {
        self.faults
            .push(format!("phase='{phase}' action='{action}'"));
        self
    }

    /// `phase` waits `ms` milliseconds first.
    pub fn delay(mut self, phase: &str, ms: u64) -> Guest {
        self.faults
            .push(format!("phase='{phase}' action='delay' ms='{ms}'"));
        self
    }

    /// One page arrives altered, so the destination's digest differs.
    pub fn corrupt_page(mut self) -> Guest {
        self.faults.push("action='corrupt-page'".into());
        self
    }

    pub fn description(mut self, text: &str) -> Guest {
        self.description = Some(text.into());
        self
    }

    pub fn xml(&self) -> String {
        let description = self
            .description
            .as_ref()
            .map(|d| format!("  <description>{d}</description>\n"))
            .unwrap_or_default();
        let faults: String = self
            .faults
            .iter()
            .map(|attrs| format!("      <rvirt:inject-fault {attrs}/>\n"))
            .collect();
        format!(
            "<domain type='test'>\n  <name>{name}</name>\n  <uuid>{uuid}</uuid>\n{description}\
             \x20 <metadata>\n    <rvirt:guest xmlns:rvirt='{GUEST_NS}'>\n\
             \x20     <rvirt:dirty-rate unit='KiB/s'>{rate}</rvirt:dirty-rate>\n\
             \x20     <rvirt:working-set unit='KiB'>{ws}</rvirt:working-set>\n{faults}\
             \x20   </rvirt:guest>\n  </metadata>\n\
             \x20 <memory unit='MiB'>{mem}</memory>\n  <currentMemory unit='MiB'>{mem}</currentMemory>\n\
             \x20 <vcpu>1</vcpu>\n  <os>\n    <type arch='x86_64'>hvm</type>\n  </os>\n</domain>\n",
            name = self.name,
            uuid = self.uuid,
            rate = self.dirty_kib_s,
            ws = self.working_set_kib,
            mem = self.memory_mib,
        )
    }
}
