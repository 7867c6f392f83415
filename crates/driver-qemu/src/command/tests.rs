//! Command lines and prepared definitions of the test guests
//! (crates/driver-qemu/tests/argv) on the QEMU 7.2 fixture, against what
//! stock libvirt 9.0 printed for them; the live comparison with a running
//! libvirtd is tests/argv_libvirt.rs.

use super::test_caps::qemu_7_2;
use super::*;
use rvirt_conf::domain::controller::PciModel;
use rvirt_conf::domain::{Address, FormatOptions};

fn ctx_for(name: &str, accel: Accel) -> RunContext {
    let lib_dir = PathBuf::from(format!("/var/lib/libvirt/qemu/domain--1-{name}"));
    RunContext {
        accel,
        monitor_socket: lib_dir.join("monitor.sock"),
        lib_dir,
        domain_id: -1,
        incoming: None,
        tap_fds: Default::default(),
    }
}

fn guest(file: &str) -> DomainDef {
    let path = format!("{}/tests/argv/{file}", env!("CARGO_MANIFEST_DIR"));
    DomainDef::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn build_for(def: &DomainDef) -> Result<CommandLine> {
    let accel = if def.virt_type == VirtType::Kvm {
        Accel::Kvm
    } else {
        Accel::Tcg
    };
    build(def, &qemu_7_2(), &ctx_for(&def.name, accel))
}

/// The arguments after the program, as one line.
fn args_of(file: &str) -> String {
    build_for(&guest(file)).unwrap().args.join(" ")
}

/// `virsh domxml-to-native qemu-argv minimal-kernel.xml` of libvirt 9.0,
/// after the program (JSON unquoted as the argv QEMU receives it).
const MINIMAL_LIBVIRT: &str = concat!(
    "-name guest=tiny,debug-threads=on -S ",
    r#"-object {"qom-type":"secret","id":"masterKey0","format":"raw","file":"/var/lib/libvirt/qemu/domain--1-tiny/master-key.aes"} "#,
    "-machine pc-i440fx-7.2,usb=off,dump-guest-core=off,memory-backend=pc.ram -accel tcg -cpu qemu64 -m 128 ",
    r#"-object {"qom-type":"memory-backend-ram","id":"pc.ram","size":134217728} "#,
    "-overcommit mem-lock=off -smp 1,sockets=1,cores=1,threads=1 -uuid c7a5fdbd-edaf-9455-926a-d65c16db1809 ",
    "-display none -no-user-config -nodefaults ",
    "-chardev socket,id=charmonitor,path=/var/lib/libvirt/qemu/domain--1-tiny/monitor.sock,server=on,wait=off ",
    "-mon chardev=charmonitor,id=monitor,mode=control -rtc base=utc -no-shutdown -no-acpi -boot strict=on ",
    "-kernel /tmp/vmlinuz -initrd /tmp/initrd -append console=ttyS0 ",
    r#"-device {"driver":"piix3-usb-uhci","id":"usb","bus":"pci.0","addr":"0x1.0x2"} "#,
    "-chardev pty,id=charserial0 ",
    r#"-device {"driver":"isa-serial","chardev":"charserial0","id":"serial0","index":0} "#,
    r#"-audiodev {"id":"audio1","driver":"none"} "#,
    r#"-device {"driver":"virtio-balloon-pci","id":"balloon0","bus":"pci.0","addr":"0x2"} "#,
    "-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny -msg timestamp=on",
);

#[test]
fn minimal_kernel_guest_is_libvirts_command_line() {
    assert_eq!(args_of("minimal-kernel.xml"), MINIMAL_LIBVIRT);
    let cmd = build_for(&guest("minimal-kernel.xml")).unwrap();
    assert_eq!(cmd.program, PathBuf::from("/usr/bin/qemu-system-x86_64"));
    let env: Vec<&str> = cmd.env.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(env.first(), Some(&"LC_ALL"));
    assert!(env.ends_with(&["XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"]));
    let home = cmd.env.iter().find(|(n, _)| n == "HOME").unwrap();
    assert_eq!(home.1, "/var/lib/libvirt/qemu/domain--1-tiny");
}

/// `virsh define minimal-kernel.xml; virsh dumpxml tiny` of libvirt 9.0.
const MINIMAL_DEFINED: &str = "\
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' index='0' model='piix3-uhci'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x2'/>
    </controller>
    <controller type='pci' index='0' model='pci-root'/>
    <serial type='pty'>
      <target type='isa-serial' port='0'>
        <model name='isa-serial'/>
      </target>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
    <input type='mouse' bus='ps2'/>
    <input type='keyboard' bus='ps2'/>
    <audio id='1' type='none'/>
    <memballoon model='virtio'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
    </memballoon>
  </devices>
";

#[test]
fn prepared_definition_is_what_libvirt_defines() {
    let mut def = guest("minimal-kernel.xml");
    prepare_definition(&mut def, &qemu_7_2()).unwrap();
    let xml = def.format(&FormatOptions::default());
    assert!(
        xml.contains("<type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>"),
        "{xml}"
    );
    assert!(xml.contains(
        "  <cpu mode='custom' match='exact' check='none'>\n    <model fallback='forbid'>qemu64</model>\n  </cpu>\n"
    ), "{xml}");
    assert!(xml.contains(MINIMAL_DEFINED), "{xml}");
    let again = {
        let mut d = def.clone();
        prepare_definition(&mut d, &qemu_7_2()).unwrap();
        d
    };
    assert_eq!(again, def, "preparing twice changes nothing");
}

#[test]
fn q35_devices_get_root_ports_and_a_spare() {
    let mut def = guest("q35.xml");
    prepare_definition(&mut def, &qemu_7_2()).unwrap();
    let ports: Vec<(i32, Option<i32>, Option<Address>)> = def
        .devices
        .controllers
        .iter()
        .filter(|c| c.pci_model() == Some(PciModel::PcieRootPort))
        .map(|c| (c.index, c.pci.port, c.address.clone()))
        .collect();
    // Six endpoints (2 NICs, SCSI, USB, virtio disk, balloon) + 1 spare,
    // at 00:02.0-6 with ports 0x10-0x16, as libvirt lays them out.
    assert_eq!(ports.len(), 7);
    for (i, (index, port, addr)) in ports.iter().enumerate() {
        assert_eq!(*index, i as i32 + 1);
        assert_eq!(*port, Some(0x10 + i as i32));
        let Some(Address::Pci {
            bus: 0,
            slot: 2,
            function,
            multifunction,
            ..
        }) = addr
        else {
            panic!("port {index} at {addr:?}");
        };
        assert_eq!(*function, i as u32);
        assert_eq!(multifunction.as_deref(), (i == 0).then_some("on"));
    }
    let args = args_of("q35.xml");
    assert!(args
        .contains(r#"{"driver":"VGA","id":"video0","vgamem_mb":16,"bus":"pcie.0","addr":"0x1"}"#));
    assert!(
        args.contains(r#""bus":"ide.0","drive":"libvirt-3-format","id":"sata0-0-0","bootindex":1"#)
    );
}

#[test]
fn boot_order_goes_to_the_first_device_of_each_class() {
    let args = args_of("assorted.xml");
    // <boot dev='cdrom'/><boot dev='network'/><boot dev='hd'/>
    assert!(args.contains(r#""id":"scsi0-0-1","bootindex":1"#), "{args}");
    assert!(
        args.contains(r#""mac":"52:54:00:01:02:03","bootindex":2"#),
        "{args}"
    );
    assert!(args.contains(r#""id":"scsi0-0-0","bootindex":3"#), "{args}");
    assert!(
        args.contains(r#"{"driver":"ide-cd","bus":"ide.1","unit":1,"id":"ide0-1-1"}"#),
        "{args}"
    );
}

/// The message of a refusal, which must be VIR_ERR_CONFIG_UNSUPPORTED.
fn refusal(result: Result<CommandLine>) -> String {
    let err = result.unwrap_err();
    assert_eq!(err.code, ErrorCode::CONFIG_UNSUPPORTED, "{}", err.message);
    err.message
}

#[test]
fn kvm_guest_without_usable_kvm_is_refused_as_libvirt_does() {
    let def = guest("bios-full.xml");
    let msg = refusal(build(&def, &qemu_7_2(), &ctx_for("bios", Accel::Tcg)));
    assert!(
        msg.contains("Domain requires KVM, but it is not available"),
        "{msg}"
    );
    let caps = QemuCaps {
        kvm_usable: false,
        ..qemu_7_2()
    };
    refusal(build(&def, &caps, &ctx_for("bios", Accel::Kvm)));
}

#[test]
fn what_cannot_be_expressed_is_refused() {
    let mut passthrough_on_tcg = guest("bios-full.xml");
    passthrough_on_tcg.virt_type = VirtType::Qemu;
    let mut unknown_machine = guest("minimal-kernel.xml");
    unknown_machine.os.machine = Some("pc-i440fx-99.0".into());
    let mut iotune_disk = guest("bios-full.xml");
    iotune_disk.devices.disks[0].iotune.values[0] = 1000;
    let mut network_disk = guest("bios-full.xml");
    network_disk.devices.disks[0].source = rvirt_conf::domain::DomainDef::parse(
        "<domain type='kvm'><name>n</name><memory>1024</memory><os><type>hvm</type></os><devices>\
         <disk type='network'><source protocol='nbd'><host name='h'/></source><target dev='vda'/></disk>\
         </devices></domain>",
    )
    .unwrap()
    .devices
    .disks[0]
    .source
    .clone();
    let mut scripted_nic = guest("bios-full.xml");
    scripted_nic.devices.interfaces[0].script = Some("/etc/qemu-ifup".into());
    let mut tuned_nic = guest("bios-full.xml");
    tuned_nic.devices.interfaces[0].driver.virtio_net.queues = std::num::NonZeroU32::new(4);
    let mut mtu_nic = guest("bios-full.xml");
    mtu_nic.devices.interfaces[0].mtu = Some(9000);
    let mut user_sndbuf = guest("bios-full.xml");
    user_sndbuf.devices.interfaces[0].sndbuf = Some(1600);
    // No filter rules are applied to guest ports yet: refused, not dropped.
    let mut filtered_nic = guest("bios-full.xml");
    filtered_nic.devices.interfaces[0].filterref = Some(rvirt_conf::domain::interface::FilterRef {
        filter: "clean-traffic".into(),
        params: Default::default(),
    });
    for (def, expected) in [
        (
            filtered_nic,
            "interface <filterref> is not supported by rvirt's QEMU driver yet",
        ),
        (mtu_nic, "interface <mtu> is not supported"),
        (user_sndbuf, "interface <tune><sndbuf> is not supported"),
        (scripted_nic, "interface <script> is not supported"),
        (tuned_nic, "interface <driver> is not supported"),
        (
            passthrough_on_tcg,
            "CPU mode 'host-passthrough' for x86_64 qemu domain",
        ),
        (
            unknown_machine,
            "does not support machine type 'pc-i440fx-99.0'",
        ),
        (network_disk, "disk type 'network'"),
        (
            iotune_disk,
            "disk 'vda': iotune is not supported by rvirt yet",
        ),
    ] {
        let msg = refusal(build_for(&def));
        assert!(msg.contains(expected), "{msg}");
    }
}

/// libvirt's migratable XML ends an unbacked image's chain with
/// `<backingStore/>`: QEMU is told there is no backing, as libvirt does.
#[test]
fn an_ended_backing_chain_is_backing_null() {
    let mut def = guest("bios-full.xml");
    let disk = &mut def.devices.disks[0];
    disk.backing_store = Some(rvirt_conf::domain::disk::BackingStore::Terminator);
    let args = build_for(&def).unwrap().args.join(" ");
    assert!(
        args.contains(r#""file":"libvirt-2-storage","backing":null}"#),
        "{args}"
    );
    let unsaid = build_for(&guest("bios-full.xml")).unwrap().args.join(" ");
    assert!(!unsaid.contains(r#""backing""#), "{unsaid}");
}

#[test]
fn native_text_quotes_only_what_the_shell_needs() {
    let cmd = CommandLine {
        program: PathBuf::from("/usr/bin/qemu-system-x86_64"),
        env: vec![("HOME".into(), "/var/lib/x y".into())],
        args: vec![
            "-append".into(),
            "console=ttyS0 it's".into(),
            "-S".into(),
            String::new(),
        ],
    };
    assert_eq!(
        cmd.to_native(),
        r#"HOME='/var/lib/x y' /usr/bin/qemu-system-x86_64 -append 'console=ttyS0 it'\''s' -S ''"#
    );
}

#[test]
fn channel_socket_defaults_to_libvirts_channel_dir_and_incoming_follows_video() {
    let mut ctx = ctx_for("bios", Accel::Kvm);
    ctx.incoming = Some("defer".into());
    let cmd = build(&guest("bios-full.xml"), &qemu_7_2(), &ctx).unwrap();
    let args = cmd.args.join(" ");
    assert!(args.contains(
        "path=/var/lib/libvirt/qemu/channel/target/domain--1-bios/org.qemu.guest_agent.0,server=on,wait=off"
    ), "{args}");
    let incoming = cmd.args.iter().position(|a| a == "-incoming").unwrap();
    assert_eq!(cmd.args[incoming + 1], "defer");
    assert!(cmd.args[incoming - 1].contains("virtio-vga"));
    assert!(cmd.args[incoming + 3].contains("virtio-balloon-pci"));
}

/// Per-device `<boot order>`s become the devices' `bootindex`
/// (`qemuProcessPrepareDeviceBootorder`).
#[test]
fn per_device_boot_orders_are_boot_indexes() {
    let path = format!("{}/tests/argv/bios-full.xml", env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(path)
        .unwrap()
        .replace("<boot dev='hd'/>", "")
        .replace("<boot dev='cdrom'/>", "")
        .replacen("</disk>", "<boot order='3'/></disk>", 1)
        .replace("</interface>", "<boot order='1'/></interface>");
    let args = build_for(&DomainDef::parse(&doc).unwrap()).unwrap().args;
    let device = |id: &str| {
        let id = format!("\"id\":\"{id}\"");
        args.iter()
            .find(|a| a.contains(&id))
            .cloned()
            .unwrap_or_default()
    };
    assert!(
        device("virtio-disk0").contains("\"bootindex\":3"),
        "{args:?}"
    );
    assert!(device("net0").contains("\"bootindex\":1"), "{args:?}");
    assert!(!device("ide0-1-0").contains("bootindex"), "{args:?}");
}

/// A starting TCG guest on the default `qemu64` runs the `-cpu` line of
/// libvirt's migration destinations, and its live `<cpu>` is what
/// `virsh dumpxml` shows on a running libvirtd guest; a second start (the
/// definition a migration brought) adds nothing twice.
#[test]
fn a_starting_tcg_guest_names_qemus_qemu64_extras() {
    let mut def = guest("minimal-kernel.xml");
    prepare_definition(&mut def, &qemu_7_2()).unwrap();
    update_cpu_for_start(&mut def);
    update_cpu_for_start(&mut def);
    let line = build_for(&def).unwrap().args.join(" ");
    assert!(
        line.contains(" -cpu qemu64,hypervisor=on,lahf-lm=on "),
        "{line}"
    );
    let xml = def.format(&FormatOptions::default());
    let cpu = "  <cpu mode='custom' match='exact' check='full'>\n    \
               <model fallback='forbid'>qemu64</model>\n    \
               <feature policy='require' name='hypervisor'/>\n    \
               <feature policy='require' name='lahf_lm'/>\n  </cpu>\n";
    assert!(xml.contains(cpu), "{xml}");
}

/// `<tune><sndbuf>` of a tap interface goes to its `-netdev` as libvirt
/// puts it there (after the tap's own keys).
#[test]
fn tap_sndbuf_reaches_the_netdev() {
    let mut def = guest("q35.xml");
    def.devices.interfaces[0].sndbuf = Some(1600);
    let args = build_for(&def).unwrap().args.join(" ");
    assert!(
        args.contains(r#""downscript":"no","sndbuf":1600,"id":"hostnet0"}"#),
        "{args}"
    );
}

/// `minimal-kernel.xml` with `<vcpu>` replaced by `head`.
fn minimal_with(head: &str) -> DomainDef {
    let path = format!(
        "{}/tests/argv/minimal-kernel.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    DomainDef::parse(&text.replace("<vcpu>1</vcpu>", head)).unwrap()
}

/// Tunes libvirt applies outside the command line (resctrl) or puts on
/// it in ways rvirt does not build yet are refused by name, never dropped.
/// `-smp` counts the boot vCPUs: online hotpluggable ones are plugged
/// after QEMU starts, offline ones only raise `maxcpus`.
#[test]
fn smp_counts_only_the_boot_vcpus() {
    let smp = |head: &str| {
        let cmd = build_for(&minimal_with(head)).expect("builds");
        let at = cmd.args.iter().position(|a| a == "-smp").expect("-smp");
        cmd.args[at + 1].clone()
    };
    let states = "<vcpus><vcpu id='0' enabled='yes' hotpluggable='no'/>\
                  <vcpu id='1' enabled='yes' hotpluggable='yes'/><vcpu id='2' enabled='no'/></vcpus>";
    assert_eq!(
        smp(&format!("<vcpu current='2'>3</vcpu>{states}")),
        "1,maxcpus=3,sockets=3,cores=1,threads=1"
    );
    assert_eq!(
        smp("<vcpu current='2'>3</vcpu>"),
        "2,maxcpus=3,sockets=3,cores=1,threads=1"
    );
    let offline_first = "<vcpu>2</vcpu><vcpus><vcpu id='0' enabled='no'/></vcpus>";
    assert_eq!(
        refusal(build_for(&minimal_with(offline_first))),
        "unsupported configuration: vcpu 0 can't be offline"
    );
}

#[test]
fn unexpressed_tunes_are_refused_by_name() {
    let cache = "<cache id='0' level='3' type='both' size='1' unit='MiB'/>";
    for (head, expected) in [
        (
            format!("<vcpu>2</vcpu><cputune><cachetune vcpus='0'>{cache}</cachetune></cputune>"),
            "unsupported configuration: element <cputune/cachetune> is not supported by rvirt's QEMU driver yet",
        ),
        (
            "<vcpu>2</vcpu><cputune><memorytune vcpus='1'><node id='0' bandwidth='5'/></memorytune></cputune>".into(),
            "unsupported configuration: element <cputune/memorytune> is not supported by rvirt's QEMU driver yet",
        ),
    ] {
        let msg = refusal(build_for(&minimal_with(&head)));
        assert_eq!(msg, expected);
    }
    let mut labelled = guest("minimal-kernel.xml");
    labelled.devices.serials[0].source.seclabels = DomainDef::parse(
        "<domain type='qemu'><name>l</name><memory>1024</memory><os><type>hvm</type></os><devices>\
         <serial type='pty'><source><seclabel model='dac' relabel='no'/></source></serial></devices></domain>",
    )
    .unwrap()
    .devices
    .serials[0]
    .source
    .seclabels
    .clone();
    assert_eq!(
        refusal(build_for(&labelled)),
        "unsupported configuration: character device source <seclabel> is not supported by the rvirt QEMU driver yet"
    );
    let mut nvram = guest("minimal-kernel.xml");
    nvram.devices.nvram = Some(Default::default());
    assert_eq!(
        refusal(build_for(&nvram)),
        "unsupported configuration: device <nvram> is not supported by the rvirt QEMU driver yet"
    );
}

/// A bootloader is refused as libvirt's QEMU driver does; filesystems
/// and capabilities-mode host devices, which the command line does not
/// carry yet, by name.
#[test]
fn bootloaders_filesystems_and_capability_hostdevs_are_refused() {
    let with = |devices: &str, head: &str| {
        let path = format!(
            "{}/tests/argv/minimal-kernel.xml",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path).unwrap();
        let text = text.replace("<os>", &format!("{head}<os>"));
        DomainDef::parse(&text.replace("</devices>", &format!("{devices}</devices>"))).unwrap()
    };
    for head in [
        "<bootloader>/usr/bin/pygrub</bootloader>",
        "<bootloader_args>-q</bootloader_args>",
    ] {
        let def = with("", head);
        assert_eq!(
            refusal(build_for(&def)),
            "unsupported configuration: bootloader is not supported by QEMU"
        );
    }
    let volume =
        "<filesystem type='volume'><source pool='p' volume='v'/><target dir='t'/></filesystem>";
    assert_eq!(
        refusal(build_for(&with(volume, ""))),
        "unsupported configuration: device <filesystem> is not supported by the rvirt QEMU driver yet"
    );
    let caps =
        "<hostdev mode='capabilities' type='misc'><source><char>/dev/x</char></source></hostdev>";
    assert_eq!(
        refusal(build_for(&with(caps, ""))),
        "unsupported configuration: device <hostdev> is not supported by the rvirt QEMU driver yet"
    );
}

/// Devices the command line does not carry yet are refused by name,
/// never started without.
#[test]
fn unbuilt_devices_are_refused_by_name() {
    let path = format!(
        "{}/tests/argv/minimal-kernel.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    for (device, name) in [
        ("<watchdog model='i6300esb'/>", "watchdog"),
        (
            "<tpm model='tpm-crb'><backend type='emulator'/></tpm>",
            "tpm",
        ),
        ("<shmem name='s'/>", "shmem"),
        ("<vsock model='virtio'><cid auto='yes'/></vsock>", "vsock"),
    ] {
        let def =
            DomainDef::parse(&text.replace("</devices>", &format!("{device}</devices>"))).unwrap();
        assert_eq!(
            refusal(build_for(&def)),
            format!("unsupported configuration: device <{name}> is not supported by the rvirt QEMU driver yet")
        );
    }
    let serial = "<serial type='pty'><alias name='ua-s'/></serial></devices>";
    let def = DomainDef::parse(&text.replace("</devices>", serial)).unwrap();
    assert!(refusal(build_for(&def)).contains("character device user alias"));
    let balloon = "<memballoon model='virtio'><alias name='ua-mb'/></memballoon></devices>";
    let def = DomainDef::parse(&text.replace("</devices>", balloon)).unwrap();
    assert!(refusal(build_for(&def)).contains("<memballoon> user alias"));
    let rng = "<rng model='virtio'><backend model='random'>/dev/urandom</backend><alias name='ua-r'/></rng></devices>";
    let def = DomainDef::parse(&text.replace("</devices>", rng)).unwrap();
    let args = build_for(&def).unwrap().args.join(" ");
    assert!(
        args.contains(r#""qom-type":"rng-random","id":"objua-r""#),
        "{args}"
    );
    assert!(args.contains(r#""rng":"objua-r","id":"ua-r""#), "{args}");
}

/// A user alias names the input's `-device`, as libvirt keeps it.
#[test]
fn an_input_user_alias_is_its_device_id() {
    let path = format!(
        "{}/tests/argv/minimal-kernel.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let input = "<input type='tablet' bus='usb'><alias name='ua-tab'/></input></devices>";
    let def = DomainDef::parse(&text.replace("</devices>", input)).unwrap();
    let args = build_for(&def).unwrap().args.join(" ");
    assert!(
        args.contains(r#""driver":"usb-tablet","id":"ua-tab""#),
        "{args}"
    );
}
