//! Source security labels: output and messages checked against stock
//! virsh 9.0 on test:///default.

use super::super::test_support::{assert_errors, dump_devices};
use super::super::{DomainDef, FormatOptions};

const LABELLED: &str = "<serial type='file'><source path='/tmp/x'><seclabel model='dac' relabel='yes'/>\
    <seclabel model='selinux' relabel='no'/></source></serial><channel type='unix'><source mode='bind' path='/tmp/s'>\
    <seclabel model='dac' relabel='no'/></source><target type='virtio' name='a.b'/></channel>\
    <serial type='tcp'><source mode='connect' host='h' service='1'><seclabel model='dac' relabel='no'/></source></serial>\
    <rng model='virtio'><backend model='egd' type='unix'><source mode='connect' path='/tmp/r'>\
    <seclabel model='dac' relabel='no'/></source></backend></rng>";

/// Labels are kept on path and unix sources (and the console copied from
/// the first serial), parsed but not written on tcp ones, not read on an
/// RNG's; one that only relabels shows in a running domain's live XML.
#[test]
fn chardev_source_labels_as_virsh() {
    let out = dump_devices(LABELLED).unwrap();
    let want = "    <serial type='file'>
      <source path='/tmp/x'>
        <seclabel model='selinux' relabel='no'/>
      </source>
      <target port='0'/>
    </serial>
    <serial type='tcp'>
      <source mode='connect' host='h' service='1'/>
      <protocol type='raw'/>
      <target port='1'/>
    </serial>
    <console type='file'>
      <source path='/tmp/x'>
        <seclabel model='selinux' relabel='no'/>
      </source>
      <target type='serial' port='0'/>
    </console>
    <channel type='unix'>
      <source mode='bind' path='/tmp/s'>
        <seclabel model='dac' relabel='no'/>
      </source>
      <target type='virtio' name='a.b'/>
    </channel>
";
    assert!(out.contains(want), "{out}");
    assert!(
        out.contains("<source mode='connect' path='/tmp/r'/>"),
        "{out}"
    );
    let doc = format!(
        "<domain type='test'><name>p</name><memory>1024</memory><os><type>hvm</type></os>\
         <devices>{LABELLED}</devices></domain>"
    );
    let running = FormatOptions {
        id: Some(1),
        ..FormatOptions::default()
    };
    let live = DomainDef::parse(&doc).unwrap().format(&running);
    assert!(
        live.contains("<source path='/tmp/x'>\n        <seclabel model='dac' relabel='yes'/>\n        <seclabel model='selinux' relabel='no'/>\n"),
        "{live}"
    );
}

#[test]
fn chardev_source_label_errors_as_virsh() {
    let none = "<seclabel type='none' model='dac'/>";
    let dump = |devices: &str| {
        let (devices, domain) = devices.split_once('|').unwrap_or((devices, ""));
        super::super::test_support::dump_after_os(&format!("<devices>{devices}</devices>{domain}"))
    };
    let tcp = "<serial type='tcp'><source mode='connect' host='h' service='1'><seclabel model='dac' relabel='no'/></source></serial>";
    let dev = |labels: &str| {
        format!("<serial type='dev'><source path='/dev/ttyS0'>{labels}</source></serial>")
    };
    let cases = [
        (format!("{tcp}|{none}"), "unsupported configuration: label overrides require relabeling to be enabled at the domain level"),
        (dev("<seclabel model='dac' relabel='no'><label>a:b</label></seclabel>"), "XML error: Cannot specify a label if relabelling is turned off. model=dac"),
        (dev("<seclabel model='dac' relabel='no'/><seclabel model='dac' relabel='no'/>"), "seclabel for model dac is already provided"),
    ];
    let cases: Vec<(&str, &str)> = cases.iter().map(|(d, m)| (d.as_str(), *m)).collect();
    assert_errors(dump, &cases);
}
