//! libvirt's `qemumigrationcookiexmltest` documents
//! (tests/qemumigrationcookiexmldata, copied under
//! crates/conf/tests/qemumigrationcookie): parse with every part, answer
//! as host "hostname", format: libvirt's bytes.

use super::*;

macro_rules! data {
    ($name:literal) => {
        include_str!(concat!("../../tests/qemumigrationcookie/", $name))
    };
}

/// libvirt's test host (`qemuMigrationCookieNew` on the test driver).
fn as_local_host(mut c: QemuMigrationCookie) -> QemuMigrationCookie {
    c.hostname = "hostname".into();
    c.host_uuid = uuid::parse("4a802f00-4cba-5df6-9679-a08c4c5b577f").unwrap();
    // libvirt does not keep the sender's mandatory list.
    c.mandatory = Features::NONE;
    // The test sets every flag before formatting: caps always appear.
    c.capabilities.get_or_insert_with(Vec::new);
    c
}

fn xml2xml(input: &str, expected: &str) {
    let c = QemuMigrationCookie::parse(input, Features::ALL).unwrap();
    let out = as_local_host(c).format();
    assert_eq!(out, expected);
    // And what we write reads back to the same model.
    let again = QemuMigrationCookie::parse(&out, Features::ALL).unwrap();
    assert_eq!(again.format(), expected);
}

#[test]
fn basic_xml2xml() {
    xml2xml(
        data!("basic-xml2xml-in.xml"),
        data!("basic-xml2xml-out.xml"),
    );
}

#[test]
fn full_xml2xml() {
    xml2xml(data!("full-xml2xml-in.xml"), data!("full-xml2xml-out.xml"));
}

#[test]
fn nbd_bitmaps_xml2xml() {
    xml2xml(
        data!("nbd-bitmaps-xml2xml-in.xml"),
        data!("nbd-bitmaps-xml2xml-out.xml"),
    );
}

#[test]
fn modern_dom_out_reads_back() {
    for doc in [
        data!("modern-dom-out-source.xml"),
        data!("modern-dom-out-dest.xml"),
    ] {
        let c = QemuMigrationCookie::parse(doc, Features::ALL).unwrap();
        assert_eq!(
            c.mandatory,
            Features::of(&[CookieFeature::MemoryHotplug, CookieFeature::CpuHotplug])
        );
        let g = c.graphics.as_ref().unwrap();
        assert_eq!((g.kind.as_str(), g.port, g.tls_port), ("spice", 5900, -1));
        // Formatting keeps the mandatory list when we send one.
        assert_eq!(c.format(), doc);
    }
}

#[test]
fn parts_outside_the_phase_are_not_read() {
    let c = QemuMigrationCookie::parse(
        data!("full-xml2xml-in.xml"),
        Features::of(&[
            CookieFeature::Graphics,
            CookieFeature::MemoryHotplug,
            CookieFeature::Statistics,
        ]),
    )
    .unwrap();
    assert!(c.graphics.is_some() && c.statistics.is_some());
    assert!(c.persistent.is_none() && c.nbd.is_none() && c.cpu.is_none());
    assert!(c.capabilities.is_none() && c.lockstate.is_none());
    let stats = c.statistics.unwrap();
    assert_eq!(stats.downtime, Some(11));
    assert_eq!(stats.compression.unwrap().overflow, 135);
}

#[test]
fn mandatory_feature_not_understood_is_refused() {
    let doc = data!("modern-dom-out-source.xml");
    let e =
        QemuMigrationCookie::parse(doc, Features::of(&[CookieFeature::MemoryHotplug])).unwrap_err();
    assert_eq!(e.code, ErrorCode::INTERNAL_ERROR);
    assert_eq!(e.domain, ErrorDomain::QEMU);
    assert_eq!(
        e.message,
        "internal error: Unsupported migration cookie feature cpu-hotplug"
    );
    let odd = doc.replace("cpu-hotplug", "teleport");
    let e = QemuMigrationCookie::parse(&odd, Features::ALL).unwrap_err();
    assert_eq!(
        e.message,
        "internal error: Unknown migration cookie feature teleport"
    );
}

#[test]
fn wire_bytes_are_nul_terminated() {
    let c = QemuMigrationCookie::parse(data!("basic-xml2xml-in.xml"), Features::ALL).unwrap();
    let bytes = c.to_bytes();
    assert_eq!(bytes.last(), Some(&0));
    let back = QemuMigrationCookie::from_bytes(&bytes, Features::ALL).unwrap();
    assert_eq!(back, c);
    let e = QemuMigrationCookie::from_bytes(c.format().as_bytes(), Features::ALL).unwrap_err();
    assert_eq!(
        e.message,
        "internal error: Migration cookie was not NULL terminated"
    );
}

#[test]
fn checks_of_host_and_guest() {
    let c = QemuMigrationCookie::parse(data!("basic-xml2xml-in.xml"), Features::ALL).unwrap();
    let e = c.check_other_host(c.host_uuid).unwrap_err();
    assert_eq!(
        e.message,
        "internal error: Attempt to migrate guest to the same host 8b3f4dc4-6a8e-5f9b-94a5-4c35babd8d95"
    );
    assert!(c.check_other_host(Uuid::nil()).is_ok());
    assert!(c.check_guest("upstream", c.uuid).is_ok());
    let e = c.check_guest("other", c.uuid).unwrap_err();
    assert_eq!(
        e.message,
        "internal error: Incoming cookie data had unexpected name upstream vs other"
    );
}

#[test]
fn malformed_parts_carry_libvirts_errors() {
    let base = data!("basic-xml2xml-in.xml");
    let with = |part: &str| base.replace("</qemu-migration>", &format!("{part}</qemu-migration>"));
    for (part, msg) in [
        (
            "<graphics port='1' listen='x'/>",
            "missing type attribute in migration data",
        ),
        (
            "<graphics type='vnc' listen='x'/>",
            "missing port attribute in migration data",
        ),
        (
            "<graphics type='odd' port='1'/>",
            "unknown graphics type odd",
        ),
        ("<nbd port='x'/>", "Malformed nbd port 'x'"),
        (
            "<nbd><disk target='vda'/></nbd>",
            "Malformed disk capacity: '<null>'",
        ),
        (
            "<lockstate/>",
            "Missing lock driver name in migration cookie",
        ),
        (
            "<capabilities><cap/></capabilities>",
            "missing migration capability name",
        ),
        ("<feature/>", "missing feature name"),
        (
            "<blockDirtyBitmaps><disk/></blockDirtyBitmaps>",
            "malformed <blockDirtyBitmaps> in migration cookie",
        ),
    ] {
        let e = QemuMigrationCookie::parse(&with(part), Features::ALL).unwrap_err();
        assert_eq!(e.message, format!("internal error: {msg}"), "{part}");
    }
    let e =
        QemuMigrationCookie::parse(&base.replace("<hostuuid>8b", "<hostuuid>zz"), Features::ALL)
            .unwrap_err();
    assert_eq!(
        e.message,
        "internal error: malformed hostuuid element in migration data"
    );
    let e = QemuMigrationCookie::parse("<qemu-migration/>", Features::ALL).unwrap_err();
    assert_eq!(
        e.message,
        "internal error: missing name element in migration data"
    );
}

#[test]
fn statistics_as_job_figures() {
    let c = QemuMigrationCookie::parse(data!("full-xml2xml-in.xml"), Features::ALL).unwrap();
    let s = c.statistics.unwrap();
    let pairs = s.to_pairs();
    let back = CookieStatistics::from_pairs(&pairs, s.started);
    assert_eq!(back.time_elapsed, 1);
    assert_eq!(back.memory_constant, Some(51));
    assert_eq!(back.compression, s.compression);
    assert_eq!(back.auto_converge_throttle, 14);
}

proptest::proptest! {
    #[test]
    fn never_panics(s in ".{0,200}") {
        let _ = QemuMigrationCookie::parse(&s, Features::ALL);
        let _ = QemuMigrationCookie::from_bytes(s.as_bytes(), Features::ALL);
    }
}

/// The CPU a source's QEMU runs travels in `<cpu>` through the generic
/// cookie's accessors and reads back whole; a cookie without it has none.
#[test]
fn guest_cpu_travels_in_the_cookie() {
    let cpu_xml = "<cpu mode='custom' match='exact' check='full'>\n    \
                   <model fallback='forbid'>qemu64</model>\n    \
                   <feature policy='require' name='hypervisor'/>\n  </cpu>\n";
    let base = QemuMigrationCookie::parse(data!("basic-xml2xml-in.xml"), Features::ALL).unwrap();
    assert!(base.cpu.is_none());
    let with_cpu = base.format().replace(
        "</qemu-migration>",
        &format!("  {cpu_xml}</qemu-migration>"),
    );
    let parsed = QemuMigrationCookie::parse(&with_cpu, Features::ALL).unwrap();
    let cpu = parsed.cpu.clone().expect("cpu read");
    let mut generic = crate::MigrationCookie {
        name: "g".into(),
        uuid: uuid::Uuid::nil(),
        hostname: "h".into(),
        host_uuid: uuid::Uuid::nil(),
        memory_bytes: 0,
        page_size: 4096,
        digest: None,
        persistent: None,
        stats: Vec::new(),
        qemu: None,
    };
    assert!(generic.cpu().is_none());
    generic.set_cpu(Some(cpu.clone()));
    let again = QemuMigrationCookie::parse(&generic.qemu.as_ref().unwrap().format(), Features::ALL)
        .unwrap();
    assert_eq!(again.cpu, Some(cpu));
    assert!(again
        .format()
        .contains("<feature policy='require' name='hypervisor'/>"));
}
