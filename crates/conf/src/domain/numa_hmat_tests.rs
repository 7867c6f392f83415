//! Distances and HMAT: output and messages checked against stock virsh
//! 9.0 on test:///default.

use super::super::test_support::{assert_errors, dump_around_os};

fn dump(numa: &str) -> Result<String, String> {
    dump_around_os(
        "<memory>1024</memory><vcpu>4</vcpu>",
        &format!("<cpu><numa>{numa}</numa></cpu>"),
    )
}

const C0: &str = "<cell id='0' cpus='0-1' memory='1024'";
const C1: &str = "<cell id='1' cpus='2-3' memory='1024'";

#[test]
fn distances_caches_and_interconnects_as_virsh() {
    let out = dump(&format!(
        "{C0}><cache level='3' associativity='full' policy='writethrough'><size value='1025' unit='B'/>\
         <line value='64'/></cache><cache level='1' associativity='none' policy='none'><size value='1' unit='MiB'/>\
         <line value='3' unit='KiB'/></cache></cell>{C1}><distances><sibling id='0' value='30'/></distances></cell>\
         <interconnects><latency initiator='0' target='1' type='access' value='5'/>\
         <bandwidth initiator='0' target='0' cache='3' type='read' value='1' unit='MiB'/><foo/>\
         <latency initiator='1' target='1' type='write' value='7'/></interconnects>"
    ))
    .unwrap();
    // What stock virsh 9.0 prints for it.
    let want = include_str!("../../tests/expected/numa-hmat.xml");
    assert!(out.contains(want), "{out}");
}

/// A cell's own distances win over the mirrored ones, whatever the order.
#[test]
fn distances_mirror_only_where_unset() {
    let out = dump(&format!(
        "{C0}><distances><sibling id='1' value='20'/></distances></cell>\
         {C1}><distances><sibling id='0' value='30'/></distances></cell>"
    ))
    .unwrap();
    assert!(
        out.contains("<sibling id='0' value='10'/>\n          <sibling id='1' value='20'/>"),
        "{out}"
    );
    assert!(
        out.contains("<sibling id='0' value='30'/>\n          <sibling id='1' value='10'/>"),
        "{out}"
    );
}

#[test]
fn numa_errors_as_virsh() {
    let line = "<line value='3' unit='KiB'/>";
    let cache = |level: &str| {
        format!("<cache level='{level}' associativity='none' policy='none'><size value='1'/>{line}</cache>")
    };
    let link = |attrs: &str| format!("{C0}/>{C1}/><interconnects>{attrs}</interconnects>");
    let cases = [
        (format!("{C0}><distances/></cell>{C1}/>"), "XML error: NUMA distances defined without siblings"),
        (format!("{C0}><distances><sibling id='2' value='20'/></distances></cell>{C1}/>"), "XML error: 'sibling_id 2' does not refer to a valid cell within NUMA 'cell id 0'"),
        (format!("{C0}><distances><sibling id='1' value='5'/></distances></cell>{C1}/>"), "XML error: 'value 5' is invalid for 'sibling id 1' under NUMA 'cell id 0'"),
        (format!("{C0}><distances><sibling id='0' value='20'/></distances></cell>{C1}/>"), "XML error: 'value 20' is invalid for 'sibling id 0' under NUMA 'cell id 0'"),
        (format!("{C0}><distances><sibling id='1' value='10'/></distances></cell>{C1}/>"), "XML error: 'value 10' is invalid for 'sibling id 1' under NUMA 'cell id 0'"),
        (format!("{C0}><distances><sibling id='1'/></distances></cell>{C1}/>"), "XML error: Missing required attribute 'value' in element 'sibling'"),
        (format!("{C0}><cache level='1' associativity='direct'><size value='1'/></cache></cell>"), "XML error: Invalid cache policy '(null)'"),
        (format!("{C0}><cache level='0' associativity='direct' policy='none'><size value='1'/></cache></cell>"), "XML error: Invalid 'level' attribute in cache element for NUMA node 0"),
        (format!("{C0}><cache associativity='direct' policy='none'><size value='1'/></cache></cell>"), "XML error: Missing 'level' attribute in cache element for NUMA node 0"),
        (format!("{C0}><cache level='1' policy='none'><size value='1'/></cache></cell>"), "XML error: Missing 'associativity' attribute in cache element for NUMA node 0"),
        (format!("{C0}><cache level='1' associativity='x' policy='none'><size value='1'/></cache></cell>"), "XML error: Invalid cache associativity 'x'"),
        (format!("{C0}><cache level='1' associativity='none' policy='y'><size value='1'/></cache></cell>"), "XML error: Invalid cache policy 'y'"),
        (format!("{C0}><cache level='1' associativity='none' policy='none'/></cell>"), "XML error: missing element or attribute './size/@value'"),
        (format!("{C0}><cache level='1' associativity='none' policy='none'><size value='1'/></cache></cell>"), "XML error: missing element or attribute './line/@value'"),
        (format!("{C0}>{}</cell>", cache("4")), "XML error: Ain't nobody heard of that much cache level"),
        (format!("{C0}>{}{}</cell>", cache("1"), cache("1")), "XML error: Cache level '1' already defined"),
        (link("<latency initiator='0' target='1' type='access' value='5'/><latency initiator='1' target='0' type='read' value='5'/>"), "XML error: Link already defined"),
        (link("<latency initiator='0' target='1' type='access' value='5'/><latency initiator='0' target='1' type='access' value='6'/>"), "XML error: Duplicate info for NUMA latencies"),
        (link("<latency initiator='0' target='1' type='none' value='5'/>"), "XML error: Invalid value for attribute 'type' in element 'latency': 'none'."),
        (link("<latency initiator='0' target='1' value='5'/>"), "XML error: Missing required attribute 'type' in element 'latency'"),
        (link("<latency initiator='0' target='1' type='access'/>"), "XML error: Missing required attribute 'value' in element 'latency'"),
        (link("<bandwidth initiator='0' target='1' type='access'/>"), "XML error: missing element or attribute './@value'"),
        (link("<latency target='1' type='access' value='1'/>"), "XML error: Missing required attribute 'initiator' in element 'latency'"),
        (link("<latency initiator='2' target='1' type='access' value='1'/>"), "XML error: 'initiator' refers to a non-existent NUMA node"),
        (link("<latency initiator='0' target='2' type='access' value='1'/>"), "XML error: 'target' refers to a non-existent NUMA node"),
        (link("<latency initiator='0' target='1' cache='1' type='access' value='1'/>"), "XML error: 'cache' refers to a non-existent NUMA node cache"),
        (format!("{C0}/><cell id='1' memory='1024'/><interconnects><latency initiator='1' target='0' type='access' value='1'/></interconnects>"), "XML error: NUMA nodes without CPUs can't be initiator"),
    ];
    let cases: Vec<(&str, &str)> = cases.iter().map(|(d, m)| (d.as_str(), *m)).collect();
    assert_errors(dump, &cases);
}
