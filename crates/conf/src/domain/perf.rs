//! `<perf>`: the perf events libvirt collects for the guest
//! (`virDomainPerfDef`), parsed as `virDomainPerfDefParseXML` and formatted
//! as `virDomainPerfDefFormat`.

use super::internal_xml;
use super::props::{self, vir_enum, TriBool, VirEnum};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virPerfEvent`.
    pub enum PerfEvent {
        Cmt = "cmt", Mbmt = "mbmt", Mbml = "mbml", CpuCycles = "cpu_cycles",
        Instructions = "instructions", CacheReferences = "cache_references",
        CacheMisses = "cache_misses", BranchInstructions = "branch_instructions",
        BranchMisses = "branch_misses", BusCycles = "bus_cycles",
        StalledCyclesFrontend = "stalled_cycles_frontend",
        StalledCyclesBackend = "stalled_cycles_backend", RefCpuCycles = "ref_cpu_cycles",
        CpuClock = "cpu_clock", TaskClock = "task_clock", PageFaults = "page_faults",
        ContextSwitches = "context_switches", CpuMigrations = "cpu_migrations",
        PageFaultsMin = "page_faults_min", PageFaultsMaj = "page_faults_maj",
        AlignmentFaults = "alignment_faults", EmulationFaults = "emulation_faults",
    }
}

/// The events given, each once, kept in the table's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Perf {
    pub events: Vec<(PerfEvent, TriBool)>,
}

impl Perf {
    pub(crate) fn parse(root: &Element) -> Result<Perf> {
        let mut perf = Perf::default();
        let events = root.grandchildren("perf", "event");
        for e in events {
            let name: PerfEvent = props::enumeration(e, "name", true)?.unwrap_or(PerfEvent::Cmt);
            let enabled = props::enumeration(e, "enabled", true)?.unwrap_or(TriBool::No);
            if perf.events.iter().any(|(n, _)| *n == name) {
                return Err(internal_xml(format!(
                    "perf event '{}' was already specified",
                    name.as_str()
                )));
            }
            let at = perf
                .events
                .partition_point(|(n, _)| n.index() < name.index());
            perf.events.insert(at, (name, enabled));
        }
        Ok(perf)
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        if self.events.is_empty() {
            return;
        }
        w.elem_with("perf", "", |w| {
            for (name, enabled) in &self.events {
                w.line(&format!(
                    "<event name='{}' enabled='{}'/>",
                    name.as_str(),
                    enabled.as_str()
                ));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_after_os as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn perf_as_virsh() {
        assert_dump_holds(
            dump,
            "<perf><event name='instructions' enabled='no'/><event name='cmt' enabled='yes'/></perf>",
            "  <perf>\n    <event name='cmt' enabled='yes'/>\n    <event name='instructions' enabled='no'/>\n  </perf>\n",
        );
        assert_errors(
            dump,
            &[
                ("<perf><event name='cmt'/></perf>", "XML error: Missing required attribute 'enabled' in element 'event'"),
                ("<perf><event name='x' enabled='yes'/></perf>", "XML error: Invalid value for attribute 'name' in element 'event': 'x'."),
                ("<perf><event name='cmt' enabled='yes'/><event name='cmt' enabled='no'/></perf>", "XML error: perf event 'cmt' was already specified"),
            ],
        );
    }
}
