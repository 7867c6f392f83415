//! Disks as stock virsh 9.0 defines and dumps them on test:///default:
//! every expectation below is virsh's output or error for the same input.

use super::super::test_support::{assert_dump_holds, assert_errors, dump_devices as dump};

#[test]
fn network_disks_as_virsh() {
    let doc = "<disk type='network' device='disk' snapshot='external'>\
        <driver name='qemu' type='raw' cache='default' error_policy='stop' rerror_policy='report' io='native' ioeventfd='on' event_idx='off' copy_on_read='on' discard='unmap' iothread='1' detect_zeroes='unmap' queues='4' queue_size='256' iommu='on' ats='off' packed='on' page_per_vq='on'>\
        <metadata_cache><max_size unit='KiB'>2</max_size></metadata_cache></driver>\
        <source protocol='rbd' name='pool/image' tls='yes'><host name='mon1' port='6789'/><host name='mon2'/>\
        <snapshot name='snap'/><config file='/etc/ceph.conf'/>\
        <auth username='admin' type='ceph'><secret type='ceph' usage='mycluster'/></auth></source>\
        <target dev='vda' bus='virtio'/>\
        <iotune><total_bytes_sec>100</total_bytes_sec><group_name>g</group_name><read_iops_sec_max_length>3</read_iops_sec_max_length></iotune>\
        <serial>S1</serial><boot order='2' loadparm='ab.1'/><alias name='ua-disk0'/><acpi index='3'/></disk>\
        <disk type='network' device='lun'><source protocol='iscsi' name='iqn.2013-07.com.example:iscsi-nopool'>\
        <host name='example.com'/><initiator><iqn name='iqn.2013-07.com.example:client'/></initiator>\
        <reservations managed='no'><source type='unix' path='/var/lib/pr.sock' mode='client'/></reservations></source>\
        <target dev='sda' bus='scsi'/></disk>";
    let want = "    <disk type='network' device='disk' snapshot='external'>
      <driver name='qemu' type='raw' error_policy='stop' rerror_policy='report' io='native' ioeventfd='on' event_idx='off' copy_on_read='on' discard='unmap' iothread='1' detect_zeroes='unmap' queues='4' queue_size='256' iommu='on' ats='off' packed='on' page_per_vq='on'>
        <metadata_cache>
          <max_size unit='bytes'>2048</max_size>
        </metadata_cache>
      </driver>
      <source protocol='rbd' name='pool/image' tls='yes'>
        <host name='mon1' port='6789'/>
        <host name='mon2'/>
        <snapshot name='snap'/>
        <config file='/etc/ceph.conf'/>
        <auth type='ceph' username='admin'>
          <secret type='ceph' usage='mycluster'/>
        </auth>
      </source>
      <target dev='vda' bus='virtio'/>
      <iotune>
        <total_bytes_sec>100</total_bytes_sec>
        <group_name>g</group_name>
        <read_iops_sec_max_length>3</read_iops_sec_max_length>
      </iotune>
      <serial>S1</serial>
      <boot order='2' loadparm='AB.1'/>
      <alias name='ua-disk0'/>
      <acpi index='3'/>
    </disk>
    <disk type='network' device='lun'>
      <source protocol='iscsi' name='iqn.2013-07.com.example:iscsi-nopool/0'>
        <host name='example.com' port='3260'/>
        <initiator>
          <iqn name='iqn.2013-07.com.example:client'/>
        </initiator>
        <reservations managed='no'>
          <source type='unix' path='/var/lib/pr.sock' mode='client'/>
        </reservations>
      </source>
      <target dev='sda' bus='scsi'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <controller type='scsi' index='0'/>
";
    assert_dump_holds(dump, doc, want);
}

#[test]
fn local_disks_and_chains_as_virsh() {
    let doc = "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
        <source file='/var/lib/top.qcow2' startupPolicy='optional'><slices><slice type='storage' offset='512' size='1024'/></slices>\
        <seclabel model='dac' relabel='yes'><label>0:0</label></seclabel></source>\
        <backingStore type='block'><format type='qcow2'><metadata_cache><max_size unit='bytes'>512</max_size></metadata_cache></format>\
        <source dev='/dev/vg/base'/><backingStore type='network'><format type='raw'/>\
        <source protocol='nbd'><host transport='unix' socket='/run/nbd.sock'/></source><backingStore/></backingStore></backingStore>\
        <geometry cyls='16383' heads='16' secs='63' trans='lba'/><blockio logical_block_size='512' physical_block_size='4096'/>\
        <target dev='hda' bus='ide' rotation_rate='7200'/><transient shareBacking='yes'/><wwn>0x5000c50015ea71ac</wwn>\
        <vendor>Vendor</vendor><product>Product</product>\
        <encryption format='luks'><secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/></encryption></disk>\
        <disk type='block' device='cdrom'><source dev='/dev/sr0'/><target dev='hdc' tray='open'/></disk>\
        <disk type='nvme' device='disk'><source type='pci' namespace='1'><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source><target dev='vdb'/></disk>\
        <disk type='vhostuser' device='disk'><driver name='qemu' type='raw'/><source type='unix' path='/tmp/vhost.sock'><reconnect enabled='yes' timeout='10'/></source><target dev='vdc' bus='virtio'/></disk>\
        <disk type='volume' device='disk'><source pool='default' volume='vol1' mode='host'/><target dev='sdb' bus='usb' removable='on'/></disk>";
    let want = "    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/top.qcow2' startupPolicy='optional'>
        <slices>
          <slice type='storage' offset='512' size='1024'/>
        </slices>
        <seclabel model='dac' relabel='yes'>
          <label>0:0</label>
        </seclabel>
      </source>
      <backingStore type='block'>
        <format type='qcow2'>
          <metadata_cache>
            <max_size unit='bytes'>512</max_size>
          </metadata_cache>
        </format>
        <source dev='/dev/vg/base'/>
        <backingStore type='network'>
          <format type='raw'/>
          <source protocol='nbd'>
            <host transport='unix' socket='/run/nbd.sock'/>
          </source>
          <backingStore/>
        </backingStore>
      </backingStore>
      <geometry cyls='16383' heads='16' secs='63' trans='lba'/>
      <blockio logical_block_size='512' physical_block_size='4096'/>
      <target dev='hda' bus='ide' rotation_rate='7200'/>
      <transient shareBacking='yes'/>
      <wwn>0x5000c50015ea71ac</wwn>
      <vendor>Vendor</vendor>
      <product>Product</product>
      <encryption format='luks'>
        <secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/>
      </encryption>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <disk type='nvme' device='disk'>
      <source type='pci' managed='yes' namespace='1'>
        <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
      </source>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='block' device='cdrom'>
      <source dev='/dev/sr0'/>
      <target dev='hdc' bus='ide' tray='open'/>
      <readonly/>
      <address type='drive' controller='0' bus='1' target='0' unit='0'/>
    </disk>
    <disk type='vhostuser' device='disk' snapshot='no'>
      <driver name='qemu' type='raw'/>
      <source type='unix' path='/tmp/vhost.sock'>
        <reconnect enabled='yes' timeout='10'/>
      </source>
      <target dev='vdc' bus='virtio'/>
    </disk>
    <disk type='volume' device='disk'>
      <source pool='default' volume='vol1' mode='host'/>
      <target dev='sdb' bus='usb' removable='on'/>
    </disk>
    <controller type='ide' index='0'/>
";
    assert_dump_holds(dump, doc, want);
}

/// Each document's error, as virsh prints it.
#[test]
fn disk_errors_as_virsh() {
    let cases: &[(&str, &str)] = &[
        ("<disk type='bogus'/>", "XML error: Invalid value for attribute 'type' in element 'disk': 'bogus'."),
        ("<disk type='network'><source protocol='rbd' name='noslash'/><target dev='vda'/></disk>", "XML error: can't split path 'noslash' into pool name and image name"),
        ("<disk type='network'><source protocol='http'/><target dev='vda'/></disk>", "XML error: missing name for disk source"),
        ("<disk type='network'><source protocol='nbd'><host transport='unix'/></source><target dev='vda'/></disk>", "XML error: missing socket for unix transport"),
        ("<disk type='network'><source protocol='nbd'><host name='a' socket='/x'/></source><target dev='vda'/></disk>", "XML error: transport '(null)' does not support socket attribute"),
        ("<disk type='network'><source protocol='nbd'><host name='a' port='70000'/></source><target dev='vda'/></disk>", "invalid argument: port '70000' out of range"),
        ("<disk type='network'><source protocol='nbd'><host name='h'/><auth username='u'><secret type='iscsi' usage='x'/></auth></source><target dev='vda'/></disk>", "unsupported configuration: authentication is not supported for protocol 'nbd'"),
        ("<disk type='network'><source protocol='iscsi' name='t/1'><host name='h'/><auth username='u'><secret type='ceph' usage='x'/></auth></source><target dev='vda'/></disk>", "unsupported configuration: invalid secret type 'ceph'"),
        ("<disk type='file'><source file='/a'><encryption format='luks'><cipher name='aes' size='256'/></encryption></source><target dev='vda'/></disk>", "unsupported configuration: supplying <cipher> for domain disk definition is unnecessary"),
        ("<disk type='file'><source file='/a'/><driver rerror_policy='enospace'/><target dev='vda'/></disk>", "unsupported configuration: Invalid disk read error policy: 'enospace'"),
        ("<disk type='file'><source file='/a'/><driver queues='-5'/><target dev='vda'/></disk>", "XML error: Invalid value for attribute 'queues' in element 'driver': '-5'. Expected non-negative integer value"),
        ("<disk type='file'><source file='/a'/><target dev='hda' bus='ide'/><driver queues='2'/></disk>", "unsupported configuration: queues attribute in disk driver element is only supported by virtio-blk"),
        ("<disk type='file'><source file='/a'/><target dev='hda'/><iotune><total_bytes_sec>1</total_bytes_sec><read_bytes_sec>2</read_bytes_sec></iotune></disk>", "XML error: total and read/write bytes_sec cannot be set at the same time"),
        ("<disk type='file'><source file='/a'/><target dev='hda'/><wwn>123</wwn></disk>", "internal error: Malformed wwn: 123"),
        ("<disk type='file'><source file='/a'/><target dev='fda'/></disk>", "internal error: Invalid harddisk device name: fda"),
        ("<disk type='file'><target dev='hda'/></disk>", "missing source information for device hda"),
        ("<disk type='file' device='lun'><source file='/a'/><target dev='sda'/></disk>", "unsupported configuration: disk device='lun' is only valid for block type disk source"),
        ("<disk type='file'><source file='/a'/><target dev='sda'/><boot order='1' loadparm='toolongparm'/></disk>", "internal error: loadparm value 'TOOLONGPARM' must be between 1 and 8 characters"),
        ("<disk type='file'><source file='/a'/><target dev='sda'/><boot order='1'/></disk><disk type='file'><source file='/b'/><target dev='sdb'/><boot order='1'/></disk>", "unsupported configuration: boot order '1' used for more than one device"),
        ("<disk type='vhostuser'><source type='unix' path='/p'/><target dev='vda'/><serial>x</serial></disk>", "unsupported configuration: serial is not supported with vhostuser disk"),
        ("<disk type='file'><backingStore type='file'><source file='/b'/></backingStore><source file='/a'/><target dev='vda'/></disk>", "XML error: missing disk backing store format"),
        ("<disk type='file'><source file='/a'><seclabel model='dac' relabel='no'><label>x</label></seclabel></source><target dev='vda'/></disk>", "XML error: Cannot specify a label if relabelling is turned off. model=dac"),
        ("<disk type='network'><source protocol='http' name='x'><host name='h'/><cookies><cookie name='a;'>v</cookie></cookies></source><target dev='vda'/></disk>", "XML error: cookie name 'a;' contains invalid characters"),
        ("<disk type='file' device='disk' model='virtio'><source file='/a'/><target dev='hda'/></disk>", "unsupported configuration: disk model 'virtio' not supported for bus 'ide'"),
        ("<disk type='network'><source protocol='nbd' startupPolicy='optional'><host name='a'/></source><target dev='sda'/></disk>", "XML error: disk startupPolicy 'optional' is not allowed for disk of 'network' type"),
    ];
    assert_errors(dump, cases);
}

/// Per-device boot orders exclude `<os><boot>` (virsh's text).
#[test]
fn boot_orders_exclude_os_boot() {
    use super::super::test_support::dump_around_os;
    let doc = dump_around_os(
        "<memory>1024</memory>",
        "<devices><disk type='file'><source file='/a'/><target dev='vda'/><boot order='1'/></disk></devices>",
    );
    assert!(doc.unwrap().contains("<boot order='1'/>"));
    let both = super::super::DomainDef::parse(
        "<domain type='test'><name>p</name><memory>1024</memory><os><type>hvm</type><boot dev='hd'/></os>\
         <devices><disk type='file'><source file='/a'/><target dev='vda'/><boot order='1'/></disk></devices></domain>",
    );
    assert_eq!(
        both.unwrap_err().to_string(),
        "unsupported configuration: per-device boot elements cannot be used together with os/boot elements"
    );
}

/// Cookies are secrets (written only with `--security-info`); a label
/// override without a label is left out of inactive definitions (as virsh
/// prints a defined domain) and kept in live ones
/// (`virSecurityDeviceLabelDefFormat`).
#[test]
fn secrets_and_inactive_labels_as_virsh() {
    use super::super::{DomainDef, FormatOptions};
    let def = DomainDef::parse(
        "<domain type='test'><name>p</name><memory>1024</memory><os><type>hvm</type></os><devices>\
         <disk type='network'><source protocol='https' name='x'><host name='h'/><ssl verify='no'/>\
         <cookies><cookie name='a'>\"v1\"</cookie><cookie name='b'>v2</cookie></cookies></source><target dev='vda'/></disk>\
         <disk type='file'><source file='/a'><seclabel model='selinux' relabel='yes'/><seclabel model='dac' relabel='no'/></source>\
         <target dev='vdb'/></disk></devices></domain>",
    )
    .unwrap();
    let opts = |secure, inactive| FormatOptions {
        secure,
        inactive,
        ..Default::default()
    };
    let cookies = "        <cookies>
          <cookie name='a'>&quot;v1&quot;</cookie>
          <cookie name='b'>v2</cookie>
        </cookies>
";
    assert!(def.format(&opts(true, true)).contains(cookies));
    assert!(!def.format(&opts(false, true)).contains("<cookies>"));
    let labels =
        "      <source file='/a'>\n        <seclabel model='dac' relabel='no'/>\n      </source>\n";
    assert!(def.format(&opts(false, true)).contains(labels));
    let live = def.format(&opts(false, false));
    assert!(
        live.contains("<seclabel model='selinux' relabel='yes'/>"),
        "{live}"
    );
}

/// A disk naming only its I/O group takes the group's limits (virsh's
/// output for the same document).
#[test]
fn iotune_groups_expand_as_virsh() {
    let doc = "<disk type='file'><source file='/a'/><target dev='vda'/><iotune><group_name>g</group_name></iotune></disk>\
        <disk type='file'><source file='/b'/><target dev='vdb'/><iotune><read_bytes_sec>5</read_bytes_sec><group_name>g</group_name></iotune></disk>";
    let want = "      <target dev='vda' bus='virtio'/>
      <iotune>
        <read_bytes_sec>5</read_bytes_sec>
        <group_name>g</group_name>
      </iotune>
";
    assert_dump_holds(dump, doc, want);
}
