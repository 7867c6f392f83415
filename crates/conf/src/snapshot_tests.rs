//! `<domainsnapshot>` parse and format against libvirt 9.0's output and
//! error texts (taken from stock virsh on `test:///default`).

use super::*;

const NEW: ParseFlags = ParseFlags {
    redefine: false,
    offline: false,
    internal: false,
};
const REDEFINE: ParseFlags = ParseFlags {
    redefine: true,
    offline: false,
    internal: false,
};

fn err(text: &str, flags: ParseFlags) -> String {
    SnapshotDef::parse_at(text, flags, 1000)
        .unwrap_err()
        .message
}

/// Each `(inner, message)`: a new snapshot of document `wrap(inner)` is
/// refused with `message`.
fn assert_refused(wrap: impl Fn(&str) -> String, cases: &[(&str, &str)]) {
    for (inner, want) in cases {
        assert_eq!(err(&wrap(inner), NEW), *want, "{inner}");
    }
}

#[test]
fn a_new_snapshot_is_named_after_its_creation_time() {
    let (def, current) = SnapshotDef::parse_at("<domainsnapshot/>", NEW, 1796381624).unwrap();
    assert_eq!(def.name, "1796381624");
    assert_eq!(def.creation_time, 1796381624);
    assert!(!current);
    assert_eq!(def.memory, Location::Default);
    let text = "<domainsnapshot><name>s1</name><description>hello &lt;x&gt;</description>\
                </domainsnapshot>";
    let (def, _) = SnapshotDef::parse_at(text, NEW, 5).unwrap();
    assert_eq!(def.name, "s1");
    assert_eq!(def.description.as_deref(), Some("hello <x>"));
}

#[test]
fn formats_as_libvirt() {
    let mut def = SnapshotDef::parse_at(
        "<domainsnapshot><name>s2</name><description>hello &lt;x&gt;</description>\
         </domainsnapshot>",
        NEW,
        1796381624,
    )
    .unwrap()
    .0;
    def.state = Some(SnapshotState::Running);
    def.parent = Some("s1".into());
    def.memory = Location::Internal;
    def.disks = vec![SnapshotDisk::named("vda", Location::Internal)];
    let want =
        "<domainsnapshot>\n  <name>s2</name>\n  <description>hello &lt;x&gt;</description>\n  \
                <state>running</state>\n  <parent>\n    <name>s1</name>\n  </parent>\n  \
                <creationTime>1796381624</creationTime>\n  <memory snapshot='internal'/>\n  \
                <disks>\n    <disk name='vda' snapshot='internal'/>\n  </disks>\n  <domain>\n    \
                <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>\n  </domain>\n  \
                <active>1</active>\n</domainsnapshot>\n";
    let got = def.format(
        Some("6695eb01-f6a4-8304-79aa-97f2502e193f"),
        false,
        Some(true),
    );
    assert_eq!(got, want);
}

#[test]
fn external_disk_and_memory_round_trip() {
    let text = "<domainsnapshot>\n  <name>ext</name>\n  <state>running</state>\n  \
                <creationTime>1796381773</creationTime>\n  \
                <memory snapshot='external' file='/tmp/mem.img'/>\n  <disks>\n    \
                <disk name='vda' snapshot='external' type='file'>\n      \
                <driver type='qcow2'/>\n      <source file='/tmp/vda.snap'/>\n    </disk>\n    \
                <disk name='vdb' snapshot='external' type='block'>\n      \
                <source dev='/dev/sdz'/>\n    </disk>\n  </disks>\n</domainsnapshot>\n";
    let (def, _) = SnapshotDef::parse_at(text, REDEFINE, 1).unwrap();
    assert!(def.is_external());
    assert_eq!(def.disks[0].format.as_deref(), Some("qcow2"));
    assert_eq!(def.format(None, false, None), text);
}

#[test]
fn a_disk_with_a_file_defaults_to_external() {
    let text = "<domainsnapshot><disks><disk name='vda'><source file='/a'/></disk>\
                <disk name='vdb'/></disks></domainsnapshot>";
    let (def, _) = SnapshotDef::parse_at(text, NEW, 1).unwrap();
    assert_eq!(def.disks[0].snapshot, Location::External);
    assert_eq!(def.disks[1].snapshot, Location::Default);
}

#[test]
fn memory_errors_as_libvirt() {
    let cases = [
        (
            "<memory snapshot='manual'/>",
            "XML error: 'manual' memory snapshot mode not supported",
        ),
        (
            "<memory file='rel'/>",
            "XML error: memory snapshot file path (rel) must be absolute",
        ),
        (
            "<memory snapshot='internal' file='/a'/>",
            "XML error: memory filename '/a' requires external snapshot",
        ),
        (
            "<memory snapshot='external'/>",
            "XML error: external memory snapshots require a filename",
        ),
        (
            "<memory snapshot='default'/>",
            "XML error: Invalid value for attribute 'snapshot' in element 'memory': 'default'.",
        ),
    ];
    assert_refused(|i| format!("<domainsnapshot>{i}</domainsnapshot>"), &cases);
}

#[test]
fn disk_errors_as_libvirt() {
    let cases = [
        (
            "<disk/>",
            "internal error: missing name from disk snapshot element",
        ),
        (
            "<disk name='vda' type='dir'/>",
            "XML error: unsupported disk snapshot type 'dir'",
        ),
        (
            "<disk name='vda' snapshot='bogus'/>",
            "XML error: Invalid value for attribute 'snapshot' in element 'disk': 'bogus'.",
        ),
        (
            "<disk name='vda'><source file='rel'/></disk>",
            "XML error: disk snapshot image path 'rel' must be absolute",
        ),
        (
            "<disk name='vda'><driver type='foo'/></disk>",
            "unsupported configuration: unknown disk snapshot driver 'foo'",
        ),
    ];
    let in_disks = |i: &str| format!("<domainsnapshot><disks>{i}</disks></domainsnapshot>");
    assert_refused(in_disks, &cases);
}

#[test]
fn document_errors_as_libvirt() {
    assert_eq!(
        err("<foo/>", NEW),
        "XML error: expecting root element of 'domainsnapshot', not 'foo'"
    );
    assert_eq!(
        err("<domainsnapshot>\n", NEW),
        "(domain_snapshot):2: Premature end of data in tag domainsnapshot line 1\n(null)\n^"
    );
}

#[test]
fn redefine_needs_name_time_and_state() {
    assert_eq!(
        err("<domainsnapshot/>", REDEFINE),
        "XML error: a redefined snapshot must have a name"
    );
    assert_eq!(
        err("<domainsnapshot><name>a</name></domainsnapshot>", REDEFINE),
        "internal error: missing creationTime from existing snapshot"
    );
    assert_eq!(
        err(
            "<domainsnapshot><name>a</name><creationTime>5</creationTime></domainsnapshot>",
            REDEFINE
        ),
        "XML error: missing state from existing snapshot"
    );
    assert_eq!(
        err(
            "<domainsnapshot><name>a</name><creationTime>5</creationTime>\
             <state>nostate</state></domainsnapshot>",
            REDEFINE
        ),
        "unsupported configuration: Invalid state 'nostate' in domain snapshot XML"
    );
    assert_eq!(
        err(
            "<domainsnapshot><name>a</name><creationTime>5</creationTime>\
             <state>shutoff</state><memory snapshot='internal'/></domainsnapshot>",
            REDEFINE
        ),
        "XML error: memory state cannot be saved with offline or disk-only snapshot"
    );
}

#[test]
fn redefine_keeps_parent_domain_and_defaults_memory() {
    let dom = "<domain type='test'><name>t</name>\
               <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid><memory>1024</memory>\
               <os><type>hvm</type></os></domain>";
    let text = format!(
        "<domainsnapshot><name>b</name><creationTime>7</creationTime><state>paused</state>\
         <parent><name>a</name></parent>{dom}<active>1</active></domainsnapshot>"
    );
    let flags = ParseFlags {
        internal: true,
        ..REDEFINE
    };
    let (def, current) = SnapshotDef::parse_at(&text, flags, 1).unwrap();
    assert!(current);
    assert_eq!(def.parent.as_deref(), Some("a"));
    assert_eq!(def.memory, Location::Internal);
    assert_eq!(def.state, Some(SnapshotState::Paused));
    let formatted = def.format(None, false, None);
    assert!(formatted.contains("  <domain type='test'>\n    <name>t</name>\n"));
    assert!(formatted.ends_with("  </domain>\n</domainsnapshot>\n"));
    let with_inactive = formatted.replace(
        "</domainsnapshot>",
        &format!(
            "{}</domainsnapshot>",
            dom.replace("domain", "inactiveDomain")
        ),
    );
    let (again, _) = SnapshotDef::parse_at(&with_inactive, REDEFINE, 1).unwrap();
    let out = again.format(None, false, None);
    assert!(out.contains("  <inactiveDomain type='test'>\n"));
    assert!(out.ends_with("  </inactiveDomain>\n</domainsnapshot>\n"));
}
