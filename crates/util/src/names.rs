//! libvirt's public enum names that both the API (`rvirt`) and the XML
//! model (`conf`) need, kept once here below both.

/// `virNodeDevCapType` names, in order: capability `i` is
/// `VIR_CONNECT_LIST_NODE_DEVICES_CAP_*` bit `i`.
pub const NODE_DEVICE_CAPS: [&str; 22] = [
    "system",
    "pci",
    "usb_device",
    "usb",
    "net",
    "scsi_host",
    "scsi_target",
    "scsi",
    "storage",
    "fc_host",
    "vports",
    "scsi_generic",
    "drm",
    "mdev_types",
    "mdev",
    "ccw",
    "css",
    "vdpa",
    "ap_card",
    "ap_queue",
    "ap_matrix",
    "vpd",
];

/// `virNetworkUpdateSection` names, by number ("none" is 0).
pub const NETWORK_UPDATE_SECTIONS: [&str; 13] = [
    "none",
    "bridge",
    "domain",
    "ip",
    "ip-dhcp-host",
    "ip-dhcp-range",
    "forward",
    "forward-interface",
    "forward-pf",
    "portgroup",
    "dns-host",
    "dns-txt",
    "dns-srv",
];
