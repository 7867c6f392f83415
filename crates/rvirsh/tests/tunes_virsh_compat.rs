//! Issue 13's tunes and NUMA extras, `<vcpus>`, typed `<os><nvram>`,
//! `<devices><nvram>` and chardev source labels: edge cases (overflows,
//! signs, duplicates, merged resctrl groups, every nvram source type,
//! labels on each chardev kind) defined, started and dumped through stock
//! virsh and rvirsh on test:///default must print the same, errors
//! included. (`<cachetune><cache id='4294967295'>` is left out: libvirt
//! 9.0 aborts on it, allocating an array indexed by the cache ID.)

use rvirt_testkit::tools::{self, compare_definitions, DefineCase};

/// A `<domain>` body: before `<os>`, or `OS:` inside `<os>` after its
/// type, or `DEV:` inside `<devices>`.
const CASES: &[&str] = &[
    r#"<vcpu>4</vcpu><cputune><cachetune vcpus='0-1'><cache id='0' level='3' type='both' size='0' unit='KiB'/></cachetune></cputune>"#,
    r#"<vcpu>4</vcpu><cputune><cachetune vcpus='0-1'><cache id='0' level='3' type='both' size='18446744073709551615'/></cachetune></cputune>"#,
    r#"<vcpu>4</vcpu><cputune><cachetune vcpus='0-1'><cache id=' 1' level='3' type='both' size=' +5' unit='MB'/></cachetune></cputune>"#,
    r#"<vcpu>4</vcpu><cputune><cachetune vcpus='0-1'><cache id='-1' level='3' type='both' size='5'/></cachetune></cputune>"#,
    r#"<vcpu>4</vcpu><cputune><cachetune vcpus='0-1'><cache id='1' level='3' type='both' size='-5'/></cachetune></cputune>"#,
    r#"<vcpu>4</vcpu><cputune><cachetune vcpus='0-1' id='foo'><cache id='1' level='3' type='both' size='5'/></cachetune><cachetune vcpus='2'><monitor level='3' vcpus='2'/><monitor level='3' vcpus='2'/></cachetune></cputune>"#,
    r#"<vcpu>4</vcpu><cputune><cachetune vcpus='0-1'><monitor level='3' vcpus='0'/><monitor level='3' vcpus='1'/></cachetune><memorytune vcpus='0-1'><monitor vcpus='0'/><monitor vcpus='0-1'/></memorytune></cputune>"#,
    r#"<vcpu>4</vcpu><cputune><memorytune vcpus='0-1'><monitor vcpus='0'/></memorytune><cachetune vcpus='0-1'><cache id='1' level='3' type='both' size='5'/></cachetune></cputune>"#,
    r#"<vcpu>4</vcpu><cputune><memorytune vcpus='0-1'><node id='1' bandwidth='5'/></memorytune><memorytune vcpus='0-1'><node id='2' bandwidth='5'/><monitor vcpus='1'/></memorytune></cputune>"#,
    r#"<vcpu>4</vcpu><cputune><memorytune vcpus='0-1'><node id='1' bandwidth='5'/></memorytune><memorytune vcpus='1'><node id='2' bandwidth='5'/></memorytune></cputune>"#,
    r#"<vcpu>4</vcpu><cputune><memorytune vcpus='5-7'><node id='1' bandwidth='x'/></memorytune></cputune>"#,
    r#"<vcpu>4</vcpu><cputune><memorytune vcpus='0'/><cachetune vcpus='0'/></cputune>"#,
    r#"<vcpu>4</vcpu><cputune><cachetune vcpus='0-1,^1'><monitor level='3' vcpus='0-1'/></cachetune></cputune>"#,
    r#"<vcpu>4</vcpu><cputune><cachetune vcpus='99999'><monitor level='3' vcpus='0-1'/></cachetune></cputune>"#,
    r#"<vcpu>4</vcpu><cputune><cachetune vcpus=''/></cputune>"#,
    r#"<vcpu>4</vcpu><cputune><cachetune vcpus='0-3'><cache id='0' level='3' type='code' size='1'/><cache id='0' level='3' type='data' size='1'/><cache id='0' level='2' type='both' size='1'/><monitor level='3' vcpus='0-3'/><monitor level='3' vcpus='1'/></cachetune></cputune>"#,
    r#"<vcpu>4</vcpu><cputune><cachetune vcpus='0-3'><monitor level='3' vcpus='0-3'/><monitor level='3' vcpus='1'/></cachetune></cputune>"#,
    r#"<vcpu>4</vcpu><cputune><cachetune vcpus='0-3'><cache id='0' level='3' type='both' size='1'/><monitor level='3' vcpus='1'/><monitor level='3' vcpus='0-3'/><monitor level='3' vcpus='1-2'/></cachetune></cputune>"#,
    r#"<vcpu>4</vcpu><cputune><shares>1024</shares><cachetune vcpus='1'><cache id='0' level='3' type='both' size='1'/></cachetune><vcpupin vcpu='0' cpuset='1'/></cputune>"#,
    r#"<vcpu>4</vcpu><vcpus><vcpu id='0' enabled='yes'/><vcpu id='1' enabled='yes'/><vcpu id='2' enabled='yes'/><vcpu id='3' enabled='yes'/></vcpus>"#,
    r#"<vcpu>4</vcpu><vcpus/>"#,
    r#"<vcpu>4</vcpu><vcpus><vcpu id='0' enabled='yes'/></vcpus><vcpus><vcpu id='1' enabled='yes'/></vcpus>"#,
    r#"<vcpu>4</vcpu><vcpus><vcpu id='0' enabled='yes' order='0'/><vcpu id='1' enabled='yes' order='4294967295'/></vcpus>"#,
    r#"<vcpu>4</vcpu><vcpus><vcpu id='0' enabled='yes' order='4294967296'/></vcpus>"#,
    r#"<vcpu current='2'>4</vcpu><vcpus><vcpu id='0' enabled='no'/><vcpu id='1' enabled='no'/><vcpu id='2' enabled='no'/><vcpu id='3' enabled='no'/></vcpus>"#,
    r#"<vcpu placement='auto'>4</vcpu><vcpus><vcpu id='0' enabled='yes'/></vcpus><numatune><memory placement='auto'/></numatune>"#,
    r#"<vcpu>4</vcpu><vcpus><vcpu id='0' enabled='yes'/></vcpus><cputune><vcpupin vcpu='2' cpuset='1'/></cputune>"#,
    r#"<vcpu>2</vcpu><cpu><numa><cell cpus='0' memory='1024'><distances><sibling id='0' value='10'/><sibling id='1' value='15'/><sibling id='1' value='16'/></distances></cell><cell cpus='1' memory='1024'/></numa></cpu>"#,
    r#"<vcpu>2</vcpu><cpu><numa><cell cpus='0' memory='1024'><distances><sibling id='1' value='15'/></distances><distances><sibling id='1' value='17'/></distances></cell><cell cpus='1' memory='1024'/></numa></cpu>"#,
    r#"<vcpu>2</vcpu><cpu><numa><cell id='1' cpus='0' memory='1024'><distances><sibling id='0' value='15'/></distances></cell><cell id='0' cpus='1' memory='1024'><distances><sibling id='1' value='25'/></distances></cell></numa></cpu>"#,
    r#"<vcpu>2</vcpu><cpu><numa><cell cpus='0' memory='1024'><distances><sibling value='15'/></distances></cell><cell cpus='1' memory='1024'/></numa></cpu>"#,
    r#"<vcpu>2</vcpu><cpu><numa><cell cpus='0' memory='1024'><distances><sibling id='1' value='256'/></distances></cell><cell cpus='1' memory='1024'/></numa></cpu>"#,
    r#"<vcpu>2</vcpu><cpu><numa><cell cpus='0-1' memory='1024'><cache level='3' associativity='full' policy='writeback'><size value='0'/><line value='0'/></cache></cell></numa></cpu>"#,
    r#"<vcpu>2</vcpu><cpu><numa><cell cpus='0-1' memory='1024'><cache level='x' associativity='full' policy='writeback'><size value='1'/><line value='1'/></cache></cell></numa></cpu>"#,
    r#"<vcpu>2</vcpu><cpu><numa><cell cpus='0-1' memory='1024'><cache level='1' associativity='full' policy='writeback'><size value='x'/><line value='1'/></cache></cell></numa></cpu>"#,
    r#"<vcpu>2</vcpu><cpu><numa><cell cpus='0-1' memory='1024'><cache level='1' associativity='full' policy='writeback'><size value='1'/><line value='y'/></cache></cell></numa></cpu>"#,
    r#"<vcpu>2</vcpu><cpu><numa><cell cpus='0-1' memory='1024'><cache level='1' associativity='full' policy='writeback'><size value='1'/><line value='4294967297'/></cache></cell></numa></cpu>"#,
    r#"<vcpu>2</vcpu><cpu><numa><cell cpus='0-1' memory='1024'/><interconnects><latency initiator='0' target='0' type='read' value='18446744073709551615'/><bandwidth initiator='0' target='0' type='write' value='3' unit='KB'/></interconnects><interconnects><latency initiator='0' target='0' type='access' value='1'/></interconnects></numa></cpu>"#,
    r#"<vcpu>2</vcpu><cpu><numa><cell cpus='0-1' memory='1024'/><interconnects><latency initiator='0' target='0' type='read' value='-1'/></interconnects></numa></cpu>"#,
    r#"<vcpu>2</vcpu><cpu><numa><cell cpus='0-1' memory='1024'/><interconnects><latency initiator='0' target='0' type='read' value='1' cache='x'/></interconnects></numa></cpu>"#,
    r#"<vcpu>2</vcpu><cpu><numa><cell cpus='0-1' memory='1024'/><interconnects><bandwidth initiator='0' target='0' type='read' value='1' unit='zz'/></interconnects></numa></cpu>"#,
    r#"<vcpu>2</vcpu><cpu><numa><cell cpus='0' memory='1024'/><cell cpus='1' memory='1024'/><interconnects><latency initiator='0' target='1' type='read' value='1'/><latency initiator='0' target='1' type='write' value='1'/><bandwidth initiator='0' target='1' type='read' value='1'/></interconnects></numa></cpu>"#,
    r#"<vcpu>2</vcpu><cpu><numa><cell cpus='0' memory='1024'/><cell cpus='1' memory='1024'/><interconnects><latency initiator='1' target='1' type='read' value='1'/><latency initiator='0' target='1' type='read' value='1'/><latency initiator='1' target='0' type='read' value='1'/></interconnects></numa></cpu>"#,
    r#"OS:<loader type='pflash'>/l</loader><nvram type='block'><source dev='/dev/x'/></nvram>"#,
    r#"OS:<loader type='pflash'>/l</loader><nvram type='network'><source protocol='http' name='a'><host name='h'/><cookies><cookie name='c'>v</cookie></cookies></source></nvram>"#,
    r#"OS:<loader type='pflash'>/l</loader><nvram type='network'><source name='a'/></nvram>"#,
    r#"OS:<loader type='pflash'>/l</loader><nvram type='nvme'><source type='pci' namespace='1'><address domain='0' bus='1' slot='0' function='0'/></source></nvram>"#,
    r#"OS:<loader type='pflash'>/l</loader><nvram type='vhostuser'><source type='unix' path='/s'/></nvram>"#,
    r#"OS:<loader type='pflash'>/l</loader><nvram type='file'>/old/path<source file='/new'/></nvram>"#,
    r#"OS:<loader type='pflash'>/l</loader><nvram>   </nvram>"#,
    r#"OS:<loader type='pflash'>/l</loader><nvram type='file'><source file='/a'><slices><slice type='storage' offset='1' size='2'/></slices></source></nvram>"#,
    r#"OS:<loader type='pflash'>/l</loader><nvram type='file'><source file='/a'><encryption format='luks'><secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/></encryption></source></nvram>"#,
    r#"DEV:<nvram><address type='spapr-vio'/></nvram>"#,
    r#"DEV:<nvram><address type='spapr-vio' reg='0x1'/></nvram><nvram><address type='spapr-vio' reg='0x1'/></nvram>"#,
    r#"DEV:<nvram><boot order='1'/></nvram>"#,
    r#"DEV:<nvram><address type='isa' iobase='0x505'/></nvram>"#,
    r#"DEV:<parallel type='file'><source path='/p'><seclabel model='dac' relabel='no'/></source></parallel>"#,
    r#"DEV:<console type='pty'><source><seclabel model='dac' relabel='no'/></source></console>"#,
    r#"DEV:<console type='file'><source path='/c'><seclabel model='dac' relabel='no'/></source><target type='virtio'/></console>"#,
    r#"DEV:<serial type='udp'><source mode='bind' service='1'><seclabel model='dac' relabel='no'/></source><source mode='connect' service='2'><seclabel model='selinux' relabel='no'/></source></serial>"#,
    r#"DEV:<serial type='unix'><source mode='connect' path='/u'><seclabel model='dac' relabel='yes'/></source></serial>"#,
    r#"DEV:<serial type='file'><source path='/p'><seclabel model='dac' relabel='no'/></source><source path='/q'/></serial>"#,
    r#"DEV:<serial type='file'><source path='/p'><seclabel model='dac' labelskip='yes'/></source></serial>"#,
    r#"DEV:<smartcard mode='passthrough' type='unix'><source mode='connect' path='/s'><seclabel model='dac' relabel='no'/></source></smartcard>"#,
    r#"DEV:<redirdev bus='usb' type='tcp'><source mode='connect' host='h' service='1'><seclabel model='dac' relabel='no'/></source></redirdev>"#,
];

fn document(i: usize, case: &str) -> String {
    let (head, os, devices) = match case.split_once(':') {
        Some(("OS", os)) => ("<vcpu>1</vcpu>", os, ""),
        Some(("DEV", devices)) => ("<vcpu>1</vcpu>", "", devices),
        _ => (case, "", ""),
    };
    format!(
        "<domain type='test'><name>d{i}</name><uuid>1f8a2b1e-52a8-4a3e-9c55-7f1c3ad4{i:04}</uuid>\
         <memory>1048576</memory>{head}<os><type arch='x86_64'>hvm</type>{os}</os>\
         <devices>{devices}</devices></domain>"
    )
}

/// The documents whose dump libvirt 9.0 refuses to parse again.
fn unreadable_output(case: &str) -> bool {
    case.contains("order='4294967295'") || case.contains("<line value='0'/>")
}

#[test]
fn tunes_numa_nvram_and_labels_match_virsh() {
    if !tools::have_virsh() {
        eprintln!("stock virsh missing: skipped");
        return;
    }
    // libvirt's test driver starts a persistent domain on a copy of its
    // definition made by format then parse, which fails where libvirt
    // cannot read its own output back (an order over i32::MAX printed
    // negative, a NUMA cache line of 0 left out); rvirt's test driver does
    // not make that copy, so those documents are not started here.
    let cases: Vec<DefineCase> = (CASES.iter().enumerate())
        .map(|(i, case)| DefineCase {
            name: format!("d{i}"),
            xml: document(i, case),
            start: !unreadable_output(case),
        })
        .collect();
    let failures = compare_definitions("tunes", &cases);
    tools::assert_none_differ(&failures, CASES.len(), "");
}
