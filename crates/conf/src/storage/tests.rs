use super::*;

fn pool(xml: &str) -> PoolDef {
    PoolDef::parse(xml).unwrap()
}

fn pool_err(xml: &str) -> String {
    PoolDef::parse(xml).unwrap_err().message
}

const DIR: &str =
    "<pool type='dir'><name>p</name><uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid>\
<target><path>/p//x/</path></target></pool>";

#[test]
fn dir_pool_formats_as_libvirt() {
    let mut p = pool(DIR);
    p.capacity = 107374182400;
    p.available = 107374182400;
    assert_eq!(
        p.format(),
        "<pool type='dir'>\n  <name>p</name>\n  <uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid>\n  \
<capacity unit='bytes'>107374182400</capacity>\n  <allocation unit='bytes'>0</allocation>\n  \
<available unit='bytes'>107374182400</available>\n  <source>\n  </source>\n  <target>\n    \
<path>/p/x</path>\n  </target>\n</pool>\n"
    );
}

#[test]
fn pool_errors_are_libvirts() {
    assert_eq!(
        pool_err("<pool><name>a</name></pool>"),
        "XML error: Missing required attribute 'type' in element 'pool'"
    );
    assert_eq!(
        pool_err("<pool type='foo'><name>a</name></pool>"),
        "XML error: Invalid value for attribute 'type' in element 'pool': 'foo'."
    );
    assert_eq!(
        pool_err("<pool type='dir'><target><path>/a</path></target></pool>"),
        "XML error: missing pool source name element"
    );
    assert_eq!(
        pool_err("<pool type='dir'><name>a/b</name></pool>"),
        "XML error: name a/b cannot contain '/'"
    );
    assert_eq!(
        pool_err("<pool type='dir'><name>a</name></pool>"),
        "XML error: missing storage pool target path"
    );
    assert_eq!(
        pool_err("<pool type='dir'><name>a</name><uuid>x</uuid></pool>"),
        "XML error: malformed uuid element"
    );
    assert_eq!(
        pool_err("<pool type='netfs'><name>a</name></pool>"),
        "XML error: missing storage pool source host name"
    );
    assert_eq!(
        pool_err("<pool type='fs'><name>a</name></pool>"),
        "XML error: missing storage pool source device name"
    );
    assert_eq!(
        pool_err("<pool type='scsi'><name>a</name></pool>"),
        "XML error: missing storage pool source adapter"
    );
    assert_eq!(
        pool_err("<network/>"),
        "XML error: expecting root element of 'pool', not 'network'"
    );
    assert_eq!(
        pool_err("<pool type='dir'><name>a</name><target><path>/a</path><permissions><mode>999</mode></permissions></target></pool>"),
        "XML error: malformed octal mode"
    );
    assert_eq!(
        pool_err("<pool type='fs'><name>a</name><source><device path='/d'/><format type='zz'/></source></pool>"),
        "unsupported configuration: unknown pool format type zz"
    );
    assert!(pool_err("<pool").contains("(storage_pool_definition):1:"));
}

#[test]
fn logical_pool_takes_its_name_and_path_from_the_source() {
    let p = pool(
        "<pool type='logical'><source><name>vg</name><device path='/dev/sda1'/></source></pool>",
    );
    assert_eq!(p.name, "vg");
    assert_eq!(p.target_path.as_deref(), Some("/dev/vg"));
    assert!(p
        .format()
        .contains("    <name>vg</name>\n    <format type='lvm2'/>\n"));
}

#[test]
fn permissions_round_trip() {
    let p = pool(
        "<pool type='dir'><name>a</name><target><path>/a</path><permissions>\
<owner>-1</owner><group>107</group><mode>0711</mode><label>x</label></permissions></target></pool>",
    );
    assert_eq!(p.perms.mode, Some(0o711));
    assert_eq!(p.perms.owner, None);
    assert!(p.format().contains(
        "    <permissions>\n      <mode>0711</mode>\n      <group>107</group>\n      <label>x</label>\n    </permissions>\n"
    ));
}

#[test]
fn volume_units_formats_and_defaults() {
    let p = pool(DIR);
    let v = VolDef::parse(
        &p,
        "<volume><name>v</name><capacity unit='M'>10</capacity><target><format type='qcow2'/>\
<features><lazy_refcounts/></features></target></volume>",
        0,
    )
    .unwrap();
    assert_eq!(v.capacity, 10 << 20);
    assert_eq!(v.allocation, v.capacity);
    assert_eq!(
        v.format(&p),
        "<volume type='file'>\n  <name>v</name>\n  <capacity unit='bytes'>10485760</capacity>\n  \
<allocation unit='bytes'>10485760</allocation>\n  <target>\n    <format type='qcow2'/>\n    \
<compat>1.1</compat>\n    <features>\n      <lazy_refcounts/>\n    </features>\n  </target>\n</volume>\n"
    );
}

#[test]
fn volume_errors_are_libvirts() {
    let p = pool(DIR);
    let err = |xml: &str| VolDef::parse(&p, xml, 0).unwrap_err().message;
    assert_eq!(err("<volume/>"), "XML error: missing volume name element");
    assert_eq!(
        err("<volume><name>v</name></volume>"),
        "XML error: missing capacity element"
    );
    assert_eq!(
        err("<volume><name>v</name><capacity>x</capacity></volume>"),
        "XML error: malformed capacity element"
    );
    assert_eq!(
        err("<volume><name>v</name><capacity unit='zz'>1</capacity></volume>"),
        "invalid argument: unknown suffix 'zz'"
    );
    assert_eq!(
        err("<volume><name>v</name><capacity>1</capacity><target><format type='none'/></target></volume>"),
        "unsupported configuration: unknown volume format type none"
    );
    assert_eq!(
        err("<volume type='x'><name>v</name><capacity>1</capacity></volume>"),
        "unsupported configuration: unknown volume type 'x'"
    );
    assert_eq!(
        err("<volume><name>v</name><capacity>1</capacity><target><compat>1</compat></target></volume>"),
        "XML error: forbidden characters in 'compat' attribute"
    );
    assert!(VolDef::parse(
        &p,
        "<volume><name>v</name></volume>",
        volume_parse_flags::NO_CAPACITY
    )
    .is_ok());
}

#[test]
fn logical_volumes_have_no_format() {
    let p = pool("<pool type='logical'><name>vg</name></pool>");
    let v = VolDef::parse(
        &p,
        "<volume><name>v</name><capacity>1</capacity></volume>",
        0,
    )
    .unwrap();
    assert!(!v.format(&p).contains("<format"));
}

#[test]
fn paths_are_sanitised_as_libvirt() {
    for (given, want) in [
        ("///var/////lib//", "/var/lib"),
        ("//host/x/", "//host/x"),
        ("/", "/"),
        ("a//b", "a/b"),
        ("gluster://h/v//d", "gluster://h/v//d"),
    ] {
        assert_eq!(sanitize_path(given), want, "{given}");
    }
}

#[test]
fn backend_namespaces_are_refused_not_dropped() {
    let xml = "<pool type='netfs' xmlns:fs='http://libvirt.org/schemas/storagepool/fs/1.0'>\
<name>n</name><source><host name='h'/><dir path='/e'/></source><target><path>/m</path></target>\
<fs:mount_opts><fs:option name='sync'/></fs:mount_opts></pool>";
    assert_eq!(
        pool_err(xml),
        "unsupported configuration: storage pool namespace element 'fs:mount_opts' is not supported"
    );
    let other = xml.replace("storagepool/fs/1.0", "example/other");
    assert!(PoolDef::parse(&other).is_ok());
}
