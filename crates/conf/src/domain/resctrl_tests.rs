//! Output and messages checked against stock virsh 9.0 on test:///default.

use super::super::test_support::{assert_errors, dump_before_os};
use super::super::{DomainDef, FormatOptions};

fn dump(cputune: &str) -> Result<String, String> {
    dump_before_os(&format!("<vcpu>4</vcpu><cputune>{cputune}</cputune>"))
}

fn cputune_of(out: &str) -> &str {
    let start = out.find("  <cputune>").expect("a <cputune>");
    let end = out.find("</cputune>\n").expect("a </cputune>") + "</cputune>\n".len();
    &out[start..end]
}

#[test]
fn groups_sort_their_allocations_and_merge_memorytunes() {
    let out = dump(
        "<cachetune vcpus='0-1'><cache id='5' level='2' type='data' size='1048577' unit='B'/>\
         <cache id='0' level='3' type='code' size='1' unit='GiB'/><cache id='0' level='2' type='both' size='0'/>\
         </cachetune><memorytune vcpus='0-1'><monitor vcpus='0-1'/></memorytune>\
         <memorytune vcpus='2-9'><node id='3' bandwidth='100'/><node id='1' bandwidth='0'/></memorytune>\
         <cachetune vcpus='9'><cache/></cachetune>",
    )
    .unwrap();
    assert_eq!(
        cputune_of(&out),
        "  <cputune>
    <cachetune vcpus='0-1'>
      <cache id='0' level='2' type='both' size='0' unit='B'/>
      <cache id='5' level='2' type='data' size='1048577' unit='B'/>
      <cache id='0' level='3' type='code' size='1' unit='GiB'/>
    </cachetune>
    <memorytune vcpus='0-1'>
      <monitor vcpus='0-1'/>
    </memorytune>
    <memorytune vcpus='2-3'>
      <node id='1' bandwidth='0'/>
      <node id='3' bandwidth='100'/>
    </memorytune>
  </cputune>
"
    );
}

#[test]
fn monitors_of_both_kinds_may_share_vcpus() {
    let out = dump(
        "<cachetune vcpus='0'><monitor level='3' vcpus='0'/></cachetune>\
         <memorytune vcpus='0'><monitor vcpus='0'/></memorytune><cachetune vcpus='1-2'/>",
    )
    .unwrap();
    assert_eq!(
        cputune_of(&out),
        "  <cputune>
    <cachetune vcpus='0'>
      <monitor level='3' vcpus='0'/>
    </cachetune>
    <memorytune vcpus='0'>
      <monitor vcpus='0'/>
    </memorytune>
  </cputune>
"
    );
}

/// The allocation ID shows in a running domain's live XML only; the one
/// in a document is not read at define time.
#[test]
fn live_definition_names_the_allocation() {
    let doc = "<domain type='test'><name>p</name><memory>1024</memory><vcpu>4</vcpu>\
               <cputune><cachetune vcpus='3,0-1' id='mine'><cache id='0' level='3' type='both' size='3' unit='MiB'/>\
               </cachetune></cputune><os><type>hvm</type></os></domain>";
    let def = DomainDef::parse(doc).unwrap();
    let running = FormatOptions {
        id: Some(1),
        ..FormatOptions::default()
    };
    let live = def.format(&running);
    assert!(
        live.contains("<cachetune vcpus='0-1,3' id='vcpus_0-1,3'>"),
        "{live}"
    );
    let inactive = FormatOptions {
        inactive: true,
        ..running
    };
    assert!(def
        .format(&inactive)
        .contains("<cachetune vcpus='0-1,3'>\n"));
    assert!(def
        .format(&FormatOptions::default())
        .contains("<cachetune vcpus='0-1,3'>\n"));
}

#[test]
fn resctrl_errors_as_virsh() {
    let size = "size='1024' unit='KiB'";
    let both = format!("<cache id='0' level='3' type='both' {size}/>");
    let cases = [
        ("<cachetune/>".to_string(), "XML error: Missing cachetune attribute 'vcpus'"),
        ("<cachetune vcpus='x'/>".into(), "XML error: Invalid cachetune attribute 'vcpus' value 'x'"),
        ("<cachetune vcpus='0'><cache/></cachetune>".into(), "XML error: Missing required attribute 'id' in element 'cache'"),
        ("<cachetune vcpus='0'><cache id='0'/></cachetune>".into(), "XML error: Missing required attribute 'level' in element 'cache'"),
        ("<cachetune vcpus='0'><cache id='0' level='3'/></cachetune>".into(), "XML error: Missing required attribute 'type' in element 'cache'"),
        ("<cachetune vcpus='0'><cache id='0' level='3' type='x'/></cachetune>".into(), "XML error: Invalid value for attribute 'type' in element 'cache': 'x'."),
        ("<cachetune vcpus='0'><cache id='0' level='3' type='both'/></cachetune>".into(), "XML error: missing element or attribute './@size'"),
        ("<cachetune vcpus='0'><cache id='0' level='3' type='both' size='x'/></cachetune>".into(), "XML error: Invalid value 'x' for element or attribute './@size'"),
        ("<cachetune vcpus='0'><cache id='0' level='3' type='both' size='1' unit='zz'/></cachetune>".into(), "invalid argument: unknown suffix 'zz'"),
        (format!("<cachetune vcpus='0'>{both}<cache id='0' level='3' type='data' {size}/></cachetune>"), "XML error: Colliding cache allocations for cache level '3' id '0', type 'data'"),
        (format!("<cachetune vcpus='0'><cache id='0' level='3' type='code' {size}/>{both}</cachetune>"), "XML error: Colliding cache allocations for cache level '3' id '0', type 'both'"),
        (format!("<cachetune vcpus='0'>{both}</cachetune><cachetune vcpus='0'>{both}</cachetune>"), "XML error: Identical vcpus in cachetunes found"),
        (format!("<cachetune vcpus='0-1'>{both}</cachetune><memorytune vcpus='1'><node id='0' bandwidth='5'/></memorytune>"), "XML error: Overlapping vcpus in resctrls"),
        ("<cachetune vcpus='0'><monitor level='2' vcpus='0'/></cachetune>".into(), "XML error: Invalid monitor cache level '2'"),
        ("<cachetune vcpus='0'><monitor vcpus='0'/></cachetune>".into(), "XML error: Missing required attribute 'level' in element 'monitor'"),
        ("<cachetune vcpus='0'><monitor level='3'/></cachetune>".into(), "XML error: Missing monitor attribute 'vcpus'"),
        ("<cachetune vcpus='0-1'><monitor level='3' vcpus='7'/></cachetune>".into(), "invalid argument: vcpus is empty"),
        ("<cachetune vcpus='0-1'><monitor level='3' vcpus='2'/></cachetune>".into(), "invalid argument: Monitor vcpus conflicts with allocation"),
        ("<cachetune vcpus='0-1'><monitor level='3' vcpus='0'/><monitor level='3' vcpus='0'/></cachetune>".into(), "invalid argument: Identical vcpus found in same type monitors"),
        ("<cachetune vcpus='0-1'><monitor level='3' vcpus='0'/><monitor level='3' vcpus='0-1'/></cachetune>".into(), "invalid argument: vcpus overlaps in resctrl groups"),
        (format!("<cachetune vcpus='0-2'>{both}<monitor level='3' vcpus='0-1'/><monitor level='3' vcpus='1-2'/></cachetune>"), "invalid argument: vcpus overlaps in resctrl groups"),
        ("<memorytune/>".into(), "XML error: Missing memorytune attribute 'vcpus'"),
        ("<memorytune vcpus='0'><node id='0' bandwidth='101'/></memorytune>".into(), "XML error: Memory Bandwidth value exceeding 100 is invalid."),
        ("<memorytune vcpus='0'><node id='0'/></memorytune>".into(), "XML error: Missing required attribute 'bandwidth' in element 'node'"),
        ("<memorytune vcpus='0'><node bandwidth='1'/></memorytune>".into(), "XML error: Missing required attribute 'id' in element 'node'"),
        ("<memorytune vcpus='0'><node id='0' bandwidth='50'/><node id='0' bandwidth='50'/></memorytune>".into(), "XML error: Memory Bandwidth already defined for node 0"),
        ("<memorytune vcpus='0'><monitor vcpus='0'/><monitor vcpus='0'/></memorytune>".into(), "invalid argument: Identical vcpus found in same type monitors"),
        ("<memorytune vcpus='0-1'><monitor vcpus='0'/><monitor vcpus='0-1'/></memorytune>".into(), "invalid argument: vcpus overlaps in resctrl groups"),
    ];
    let cases: Vec<(&str, &str)> = cases.iter().map(|(d, m)| (d.as_str(), *m)).collect();
    assert_errors(dump, &cases);
}

/// The allocation rules report from VIR_FROM_RESCTRL (67), the rest from
/// VIR_FROM_DOMAIN, as python3-libvirt shows them.
#[test]
fn resctrl_error_domains_as_libvirt() {
    let doc = |tune: &str| {
        format!(
            "<domain type='test'><name>p</name><memory>1024</memory><vcpu>4</vcpu>\
             <cputune>{tune}</cputune><os><type>hvm</type></os></domain>"
        )
    };
    let cache = "<cache id='0' level='3' type='both' size='1'/>";
    for (tune, domain) in [
        (format!("<cachetune vcpus='0'>{cache}{cache}</cachetune>"), 67),
        ("<memorytune vcpus='0'><node id='0' bandwidth='101'/></memorytune>".into(), 67),
        ("<memorytune vcpus='0'><node id='0' bandwidth='1'/><node id='0' bandwidth='1'/></memorytune>".into(), 67),
        ("<cachetune vcpus='0-1'><monitor level='3' vcpus='7'/></cachetune>".into(), 20),
        ("<cachetune vcpus='x'/>".into(), 20),
    ] {
        let err = DomainDef::parse(&doc(&tune)).unwrap_err();
        assert_eq!(err.domain.0, domain, "{tune}: {}", err.message);
    }
}
