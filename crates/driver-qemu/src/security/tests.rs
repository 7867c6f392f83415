//! The stack's settings, labels and the files a guest's definition names.

use super::dac::Item;
use super::*;
use std::collections::BTreeMap;

fn config(pairs: &[(&str, &str)]) -> StateConfig {
    let settings: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    StateConfig {
        host_uuid: None,
        settings,
    }
}

fn security(pairs: &[(&str, &str)]) -> Security {
    let mut all = vec![("qemu_user", "+107"), ("qemu_group", "+108")];
    all.extend_from_slice(pairs);
    let mut s = Security::new(&config(&all)).unwrap();
    s.privileged = true;
    s
}

fn def(devices: &str, extra: &str) -> DomainDef {
    DomainDef::parse(&format!(
        "<domain type='qemu'><name>g</name><memory>65536</memory>\
         <os><type>hvm</type><kernel>/k/vmlinuz</kernel><initrd>/k/initrd</initrd></os>\
         <devices>{devices}</devices>{extra}</domain>"
    ))
    .unwrap()
}

fn live_xml(def: &DomainDef) -> String {
    def.format(&rvirt_conf::FormatOptions {
        id: Some(1),
        inactive: false,
        secure: false,
    })
}

fn config_xml(def: &DomainDef) -> String {
    def.format(&rvirt_conf::FormatOptions {
        id: None,
        inactive: true,
        secure: false,
    })
}

#[test]
fn settings_as_qemu_conf_has_them() {
    let s = Security::new(&config(&[("qemu_user", "root"), ("qemu_group", "+0")])).unwrap();
    assert_eq!((s.dac.user, s.dac.group), (0, 0));
    assert!(s.dac.dynamic_ownership && s.dac.remember_owner && s.dac.default_confined);
    let s = security(&[
        ("qemu_dynamic_ownership", "0"),
        ("qemu_remember_owner", "0"),
    ]);
    assert!(!s.dac.dynamic_ownership && !s.dac.remember_owner);
    let refused = |pairs: &[(&str, &str)]| {
        let mut all = vec![("qemu_user", "+1"), ("qemu_group", "+1")];
        all.extend_from_slice(pairs);
        Security::new(&config(&all)).unwrap_err().message
    };
    assert_eq!(
        refused(&[("qemu_security_driver", "dac")]),
        "internal error: Security driver dac not found"
    );
    assert_eq!(
        refused(&[("qemu_security_driver", "selinux")]),
        "unsupported configuration: Security driver selinux not enabled"
    );
    assert_eq!(
        refused(&[("qemu_security_require_confined", "1")]),
        "unsupported configuration: Security driver \"none\" cannot create confined guests"
    );
    assert_eq!(
        refused(&[("qemu_user", "+x")]),
        "invalid argument: Failed to parse user 'x'"
    );
}

#[test]
fn a_guest_without_a_label_gets_the_dynamic_dac_one() {
    let s = security(&[]);
    let mut d = def("", "");
    s.gen_label(&mut d).unwrap();
    let want = "  <seclabel type='dynamic' model='dac' relabel='yes'>\n    \
                <label>+107:+108</label>\n    <imagelabel>+107:+108</imagelabel>\n  \
                </seclabel>\n</domain>\n";
    assert!(live_xml(&d).ends_with(want), "{}", live_xml(&d));
    assert!(!config_xml(&d).contains("seclabel"), "{}", config_xml(&d));
    assert_eq!(s.credentials(&d).unwrap().unwrap().uid, 107);
    // Not confined by default: no label, QEMU still runs as the user.
    let s = security(&[("qemu_security_default_confined", "0")]);
    let mut d = def("", "");
    s.gen_label(&mut d).unwrap();
    assert!(d.seclabels.is_empty());
    assert_eq!(s.dac.process_ids(&d).unwrap(), (107, 108));
}

#[test]
fn static_labels_run_qemu_as_the_label() {
    let s = security(&[]);
    let mut d = def(
        "",
        "<seclabel type='static' model='dac'><label>root:+4242</label></seclabel>",
    );
    s.gen_label(&mut d).unwrap();
    assert_eq!(s.dac.process_ids(&d).unwrap(), (0, 4242));
    // relabel='no' by default for static labels: no file changes.
    assert!(s.dac.set_all_items(&d).unwrap().is_empty());
    let mut d = def(
        "",
        "<seclabel type='static' model='dac' relabel='yes'><label>+5:+6</label></seclabel>",
    );
    s.gen_label(&mut d).unwrap();
    assert_eq!(d.seclabels[0].imagelabel.as_deref(), Some("+5:+6"));
    assert_eq!(
        s.dac.set_all_items(&d).unwrap(),
        vec![
            Item::set("/k/vmlinuz", 5, 6, true),
            Item::set("/k/initrd", 5, 6, true)
        ]
    );
}

#[test]
fn unknown_models_and_unconfined_guests_are_refused() {
    let s = security(&[]);
    let mut d = def("", "<seclabel type='dynamic' model='selinux'/>");
    assert_eq!(
        s.gen_label(&mut d).unwrap_err().message,
        "unsupported configuration: Security driver model 'selinux' is not available"
    );
    let mut d = def("", "<seclabel type='none' model='dac'/>");
    s.gen_label(&mut d).unwrap();
    assert!(s.dac.set_all_items(&d).unwrap().is_empty());
    // A lone label without a model is the primary driver's ("none"); DAC
    // still labels the guest.
    let mut d = def("", "<seclabel type='none'/>");
    s.gen_label(&mut d).unwrap();
    assert_eq!(d.seclabels[0].model.as_deref(), Some("none"));
    assert_eq!(d.seclabels[1].label.as_deref(), Some("+107:+108"));
    let mut strict = security(&[]);
    strict.dac.require_confined = true;
    let mut d = def("", "<seclabel type='none' model='dac'/>");
    assert_eq!(
        strict.gen_label(&mut d).unwrap_err().message,
        "unsupported configuration: Unconfined guests are not allowed on this host"
    );
}

const DISKS: &str = "<disk type='file' device='disk'><source file='/d/top.qcow2'/>\
    <backingStore type='file'><format type='raw'/><source file='/d/base.raw'/></backingStore>\
    <target dev='vda' bus='virtio'/></disk>\
    <disk type='file' device='disk'><source file='/d/shared.img'/><target dev='vdb' bus='virtio'/>\
    <readonly/></disk>\
    <disk type='file' device='disk'><source file='/d/mine.img'>\
    <seclabel model='dac' relabel='no'/></source><target dev='vdc' bus='virtio'/></disk>\
    <disk type='file' device='disk'><source file='/d/other.img'>\
    <seclabel model='dac' relabel='yes'><label>+1:+2</label></seclabel></source>\
    <target dev='vdd' bus='virtio'/></disk>\
    <serial type='file'><source path='/d/console.log'/><target port='0'/></serial>\
    <console type='file'><source path='/d/console.log'/><target type='serial' port='0'/></console>\
    <channel type='unix'><source mode='bind' path='/nonexistent/agent.sock'/>\
    <target type='virtio' name='org.qemu.guest_agent.0'/></channel>";

#[test]
fn the_files_a_definition_names() {
    let s = security(&[]);
    let mut d = def(DISKS, "");
    s.gen_label(&mut d).unwrap();
    assert_eq!(
        s.dac.set_all_items(&d).unwrap(),
        vec![
            Item::set("/d/top.qcow2", 107, 108, true),
            Item::set("/d/base.raw", 107, 108, false),
            Item::set("/d/shared.img", 107, 108, false),
            Item::set("/d/other.img", 1, 2, true),
            Item::set("/d/console.log", 107, 108, true),
            Item::set("/k/vmlinuz", 107, 108, true),
            Item::set("/k/initrd", 107, 108, true),
        ]
    );
    assert_eq!(
        s.dac.restore_all_items(&d, false),
        vec![
            Item::restore("/d/top.qcow2", true),
            Item::restore("/d/other.img", true),
            Item::restore("/d/console.log", true),
            Item::restore("/k/vmlinuz", true),
            Item::restore("/k/initrd", true),
        ]
    );
    // dynamic_ownership = 0: QEMU's files stay as they are.
    let off = security(&[("qemu_dynamic_ownership", "0")]);
    assert!(off.dac.set_all_items(&d).unwrap().is_empty());
    assert!(off.dac.restore_all_items(&d, false).is_empty());
}

#[test]
fn capabilities_and_node_model() {
    let s = security(&[]);
    let models = s.secmodels();
    assert_eq!(
        models.iter().map(|m| m.model.as_str()).collect::<Vec<_>>(),
        ["none", "dac"]
    );
    assert_eq!(
        models[1].baselabels,
        vec![
            ("kvm".to_string(), "+107:+108".to_string()),
            ("qemu".to_string(), "+107:+108".to_string())
        ]
    );
    assert_eq!(s.node_model().model, "none");
    let mut d = def("", "");
    s.gen_label(&mut d).unwrap();
    let labels = s.process_labels(&d, std::process::id() as i32).unwrap();
    assert_eq!(labels[0].label, "");
    assert_eq!(labels[1].label, "+107:+108");
}

#[test]
fn a_stopped_guest_keeps_only_its_configured_labels() {
    let s = security(&[]);
    let static_label = "<seclabel type='static' model='dac' relabel='yes'>\
                        <label>+5:+6</label></seclabel>";
    for extra in ["", static_label] {
        let configured = def("", extra);
        let mut live = configured.clone();
        s.gen_label(&mut live).unwrap();
        assert_ne!(live.seclabels, configured.seclabels);
        let mut obj = crate::state::DomainObj::new(live);
        obj.mark_stopped(0);
        assert_eq!(obj.def.seclabels, configured.seclabels, "{extra}");
    }
}

#[test]
fn local_file_systems_are_not_shared() {
    assert!(!super::domain::is_shared_fs(Path::new("/tmp/no/such/file")));
    assert!(!super::domain::is_shared_fs(Path::new("/proc/self/status")));
}
