//! libvirt's public enum names (and flag values) that both the API
//! (`rvirt`) and the XML model (`conf`) need, kept once here below both.

/// `virConnectListAllNetworksFlags` (`VIR_CONNECT_LIST_NETWORKS_*`).
pub mod network_list_flags {
    pub const INACTIVE: u32 = 1 << 0;
    pub const ACTIVE: u32 = 1 << 1;
    pub const PERSISTENT: u32 = 1 << 2;
    pub const TRANSIENT: u32 = 1 << 3;
    pub const AUTOSTART: u32 = 1 << 4;
    pub const NO_AUTOSTART: u32 = 1 << 5;
}

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

/// `virStorageVolWipeAlgorithm` names, by number: virsh's `vol-wipe
/// --algorithm` words, and (all but zero and trim) scrub(1)'s patterns.
pub const VOL_WIPE_ALGORITHMS: [&str; 10] = [
    "zero",
    "nnsa",
    "dod",
    "bsi",
    "gutmann",
    "schneier",
    "pfitzner7",
    "pfitzner33",
    "random",
    "trim",
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
