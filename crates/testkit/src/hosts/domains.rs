//! What a host's virsh says about its guests, and guests defined on it.

use super::{Guest, Host};
use crate::dirs::unique;
use std::time::{Duration, Instant};

impl Host {
    /// `domstate` of `name`, `None` when this host has no such domain.
    pub fn domstate(&self, name: &str) -> Option<String> {
        let out = self.virsh(&format!("domstate {name}"));
        out.ok.then(|| out.stdout.trim().to_string())
    }

    /// `list --all --name`.
    pub fn names(&self) -> Vec<String> {
        words(&self.ok("list --all --name"))
    }

    /// `list --name` (running guests only).
    pub fn running(&self) -> Vec<String> {
        words(&self.ok("list --name"))
    }

    pub fn persistent(&self, name: &str) -> bool {
        self.ok("list --all --persistent --name")
            .lines()
            .any(|l| l.trim() == name)
    }

    pub fn dumpxml(&self, name: &str) -> String {
        self.ok(&format!("dumpxml {name}"))
    }

    pub fn dumpxml_inactive(&self, name: &str) -> String {
        self.ok(&format!("dumpxml --inactive {name}"))
    }

    /// Write `xml` to this host's directory and `virsh define` it; the file.
    pub fn define(&self, xml: &str) -> String {
        let path = self.write_guest_file(xml);
        self.ok(&format!("define {path}"));
        path
    }

    /// Define and start `guest` (a persistent running guest).
    pub fn define_and_start(&self, guest: &Guest) {
        self.define(&guest.xml());
        self.ok(&format!("start {}", guest.name));
    }

    /// Start `guest` as a transient domain (`virsh create`).
    pub fn create(&self, guest: &Guest) {
        let path = self.write_guest_file(&guest.xml());
        self.ok(&format!("create {path}"));
    }

    fn write_guest_file(&self, xml: &str) -> String {
        let path = self.path(&format!("guest-{}.xml", unique()));
        std::fs::write(&path, xml).expect("write guest xml");
        path.display().to_string()
    }

    /// Wait until `name`'s migration job on this host has moved data.
    pub fn wait_transfer_started(&self, name: &str, timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            let out = self.virsh(&format!("domjobinfo {name}"));
            if out.ok && processed_bytes(&out.stdout) > 0 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

/// The non-empty trimmed lines of virsh's `--name` listings.
fn words(listing: &str) -> Vec<String> {
    listing
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// `Data processed:` of virsh domjobinfo, in bytes (0 when absent).
pub fn processed_bytes(jobinfo: &str) -> u64 {
    jobinfo
        .lines()
        .find_map(|l| l.strip_prefix("Data processed:"))
        .and_then(|v| {
            let mut it = v.split_whitespace();
            let n: f64 = it.next()?.parse().ok()?;
            let mult = match it.next()? {
                "B" => 1.0,
                "KiB" => 1024.0,
                "MiB" => 1024.0 * 1024.0,
                "GiB" => 1024.0 * 1024.0 * 1024.0,
                _ => return None,
            };
            Some((n * mult) as u64)
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn processed_bytes_reads_virshs_units() {
        assert_eq!(
            super::processed_bytes("Data processed:   1.500 MiB\n"),
            1572864
        );
        assert_eq!(super::processed_bytes("Job type:         None\n"), 0);
    }
}
