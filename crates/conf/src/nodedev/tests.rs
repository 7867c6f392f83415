use super::*;

/// libvirt's test driver's scsi_host11 (src/test/test_driver.c), as the
/// test driver of this workspace has it.
const SCSI_HOST11: &str = include_str!("../../../driver-test/src/defaults/scsi_host11.xml");

fn err(xml: &str, mode: ParseMode) -> String {
    NodeDeviceDef::parse(xml, mode).unwrap_err().message
}

#[test]
fn scsi_host_round_trips() {
    let def = NodeDeviceDef::parse(SCSI_HOST11, ParseMode::Existing).unwrap();
    assert_eq!(def.format(), SCSI_HOST11);
    assert_eq!(
        def.wwns().unwrap(),
        ("2000000034563456".into(), "1000000034563456".into())
    );
    assert_eq!(def.cap_names(), ["scsi_host", "fc_host"]);
}

#[test]
fn vport_ops_counts_are_not_read_back() {
    let xml = "<device><name>h</name><capability type='scsi_host'><host>1</host>\
               <capability type='vport_ops'><max_vports>127</max_vports><vports>1</vports>\
               </capability></capability></device>";
    let out = NodeDeviceDef::parse(xml, ParseMode::Existing)
        .unwrap()
        .format();
    assert!(
        out.contains("<max_vports>0</max_vports>\n      <vports>0</vports>"),
        "{out}"
    );
}

#[test]
fn create_mode_names_the_device_and_generates_wwns() {
    let xml = "<device><parent>scsi_host1</parent><capability type='scsi_host'>\
               <capability type='fc_host'/></capability></device>";
    assert_eq!(
        err(xml, ParseMode::Create),
        "internal error: no WWNN supplied for 'new device', and auto-generation failed"
    );
    let def = NodeDeviceDef::parse_for(xml, ParseMode::Create, Some("QEMU")).unwrap();
    assert_eq!(def.name, "new device");
    let (wwnn, wwpn) = def.wwns().unwrap();
    assert!(wwnn.starts_with("5001a4a") && wwnn.len() == 16, "{wwnn}");
    assert_ne!(wwnn, wwpn);
}

#[test]
fn libvirts_messages() {
    use ParseMode::*;
    assert_eq!(
        err("<device><capability type='system'/></device>", Existing),
        "missing name information"
    );
    assert_eq!(
        err("<device><name>x</name></device>", Existing),
        "internal error: no device capabilities for 'x'"
    );
    assert_eq!(
        err(
            "<device><name>x</name><capability type='bogus'/></device>",
            Existing
        ),
        "XML error: Invalid value for attribute 'type' in element 'capability': 'bogus'."
    );
    assert_eq!(
        err("<device><name>x</name><capability/></device>", Existing),
        "XML error: Missing required attribute 'type' in element 'capability'"
    );
    assert_eq!(
        err(
            "<device><name>x</name><capability type='system'><hardware/></capability></device>",
            Existing
        ),
        "internal error: no system UUID supplied for 'x'"
    );
    assert_eq!(
        err(
            "<device><name>x</name><capability type='scsi_host'><host>a</host></capability></device>",
            Existing
        ),
        "internal error: invalid SCSI host ID supplied for 'x'"
    );
    assert_eq!(
        err(
            "<device><parent wwnn='1'/><capability type='scsi_host'/></device>",
            Create
        ),
        "XML error: when providing parent wwnn='1', the wwpn must also be provided"
    );
    assert_eq!(
        err("<pool/>", Existing),
        "XML error: expecting root element of 'device', not 'pool'"
    );
    assert_eq!(
        err(
            "<device><name>x</name><capability type='fc_host'/></device>",
            Existing
        ),
        "internal error: unknown capability type '9' for 'x'"
    );
}

#[test]
fn numbers_as_strtoul() {
    assert_eq!(parse_u32(" 12", 10), Some(12));
    assert_eq!(parse_u32("12a", 10), None);
    assert_eq!(parse_u32("-1", 10), Some(u32::MAX));
    assert_eq!(parse_u32("0x1d6b", 16), Some(0x1d6b));
    assert_eq!(parse_u32("", 10), None);
}
