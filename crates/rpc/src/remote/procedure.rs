//! REMOTE program procedure numbers (`remote_procedure` in libvirt 9.0's
//! `remote_protocol.x`, 1 to 443) and what the daemon needs to know about
//! each: its name, whether libvirt runs it on a high-priority worker
//! (`@priority: high`), and whether a read-only connection may call it.
//!
//! Access classes come from the `@acl` annotations: procedures whose ACL is
//! only `read`/`getattr`/`search_*` (or `none`) are [`Access::ReadOnly`];
//! any write-ish permission (`write`, `save`, `start`, `stop`, `migrate`,
//! `delete`, ...) is [`Access::Write`]. Some read-only procedures need a
//! writable connection for particular flags (e.g. `DOMAIN_GET_XML_DESC` with
//! `VIR_DOMAIN_XML_SECURE`, `DOMAIN_GET_VCPUS_FLAGS` with
//! `VIR_DOMAIN_VCPU_GUEST`); that check belongs to the API layer, as in
//! libvirt. Procedures not classified yet are [`Access::Unclassified`]
//! and should be treated as needing write access.

/// The `@priority` annotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    Low,
    High,
}

/// Who may call a procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Allowed on read-only connections.
    ReadOnly,
    /// Needs a read-write connection.
    Write,
    /// A server-to-client event message, never called.
    Event,
    /// Not classified in this table: deny on read-only connections.
    Unclassified,
}

/// What [`Procedure::info`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcedureInfo {
    /// libvirt's constant name, e.g. `REMOTE_PROC_CONNECT_OPEN`.
    pub name: &'static str,
    pub priority: Priority,
    pub access: Access,
}

impl ProcedureInfo {
    /// May a read-only connection make this call?
    pub fn readonly_ok(&self) -> bool {
        self.access == Access::ReadOnly
    }
}

macro_rules! procedures {
    ($( $variant:ident = $num:literal, $name:literal, $prio:ident, $access:ident; )*) => {
        /// `remote_procedure`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(i32)]
        pub enum Procedure {
            $( $variant = $num, )*
        }

        impl Procedure {
            /// Every procedure, in number order.
            pub const ALL: &'static [Procedure] = &[$( Procedure::$variant, )*];

            pub fn from_i32(v: i32) -> Option<Procedure> {
                match v {
                    $( $num => Some(Procedure::$variant), )*
                    _ => None,
                }
            }

            pub fn info(self) -> ProcedureInfo {
                match self {
                    $( Procedure::$variant => ProcedureInfo {
                        name: concat!("REMOTE_PROC_", $name),
                        priority: Priority::$prio,
                        access: Access::$access,
                    }, )*
                }
            }
        }
    };
}

impl Procedure {
    pub fn name(self) -> &'static str {
        self.info().name
    }
}

/// The table for a raw procedure number, if libvirt 9.0 defines it.
pub fn procedure_info(proc_: i32) -> Option<ProcedureInfo> {
    Procedure::from_i32(proc_).map(Procedure::info)
}

procedures! {
    ConnectOpen = 1, "CONNECT_OPEN", High, ReadOnly;
    ConnectClose = 2, "CONNECT_CLOSE", High, ReadOnly;
    ConnectGetType = 3, "CONNECT_GET_TYPE", High, ReadOnly;
    ConnectGetVersion = 4, "CONNECT_GET_VERSION", High, ReadOnly;
    ConnectGetMaxVcpus = 5, "CONNECT_GET_MAX_VCPUS", High, ReadOnly;
    NodeGetInfo = 6, "NODE_GET_INFO", High, ReadOnly;
    ConnectGetCapabilities = 7, "CONNECT_GET_CAPABILITIES", Low, ReadOnly;
    DomainAttachDevice = 8, "DOMAIN_ATTACH_DEVICE", Low, Write;
    DomainCreate = 9, "DOMAIN_CREATE", Low, Write;
    DomainCreateXml = 10, "DOMAIN_CREATE_XML", Low, Write;
    DomainDefineXml = 11, "DOMAIN_DEFINE_XML", High, Write;
    DomainDestroy = 12, "DOMAIN_DESTROY", High, Write;
    DomainDetachDevice = 13, "DOMAIN_DETACH_DEVICE", Low, Write;
    DomainGetXmlDesc = 14, "DOMAIN_GET_XML_DESC", Low, ReadOnly;
    DomainGetAutostart = 15, "DOMAIN_GET_AUTOSTART", High, ReadOnly;
    DomainGetInfo = 16, "DOMAIN_GET_INFO", Low, ReadOnly;
    DomainGetMaxMemory = 17, "DOMAIN_GET_MAX_MEMORY", High, ReadOnly;
    DomainGetMaxVcpus = 18, "DOMAIN_GET_MAX_VCPUS", High, ReadOnly;
    DomainGetOsType = 19, "DOMAIN_GET_OS_TYPE", High, ReadOnly;
    DomainGetVcpus = 20, "DOMAIN_GET_VCPUS", High, ReadOnly;
    ConnectListDefinedDomains = 21, "CONNECT_LIST_DEFINED_DOMAINS", High, ReadOnly;
    DomainLookupById = 22, "DOMAIN_LOOKUP_BY_ID", High, ReadOnly;
    DomainLookupByName = 23, "DOMAIN_LOOKUP_BY_NAME", High, ReadOnly;
    DomainLookupByUuid = 24, "DOMAIN_LOOKUP_BY_UUID", High, ReadOnly;
    ConnectNumOfDefinedDomains = 25, "CONNECT_NUM_OF_DEFINED_DOMAINS", High, ReadOnly;
    DomainPinVcpu = 26, "DOMAIN_PIN_VCPU", Low, Unclassified;
    DomainReboot = 27, "DOMAIN_REBOOT", Low, Write;
    DomainResume = 28, "DOMAIN_RESUME", Low, Write;
    DomainSetAutostart = 29, "DOMAIN_SET_AUTOSTART", High, Write;
    DomainSetMaxMemory = 30, "DOMAIN_SET_MAX_MEMORY", High, Write;
    DomainSetMemory = 31, "DOMAIN_SET_MEMORY", Low, Write;
    DomainSetVcpus = 32, "DOMAIN_SET_VCPUS", Low, Write;
    DomainShutdown = 33, "DOMAIN_SHUTDOWN", Low, Write;
    DomainSuspend = 34, "DOMAIN_SUSPEND", Low, Write;
    DomainUndefine = 35, "DOMAIN_UNDEFINE", High, Write;
    ConnectListDefinedNetworks = 36, "CONNECT_LIST_DEFINED_NETWORKS", Low, Unclassified;
    ConnectListDomains = 37, "CONNECT_LIST_DOMAINS", High, ReadOnly;
    ConnectListNetworks = 38, "CONNECT_LIST_NETWORKS", Low, Unclassified;
    NetworkCreate = 39, "NETWORK_CREATE", Low, Unclassified;
    NetworkCreateXml = 40, "NETWORK_CREATE_XML", Low, Unclassified;
    NetworkDefineXml = 41, "NETWORK_DEFINE_XML", Low, Unclassified;
    NetworkDestroy = 42, "NETWORK_DESTROY", Low, Unclassified;
    NetworkGetXmlDesc = 43, "NETWORK_GET_XML_DESC", Low, Unclassified;
    NetworkGetAutostart = 44, "NETWORK_GET_AUTOSTART", Low, Unclassified;
    NetworkGetBridgeName = 45, "NETWORK_GET_BRIDGE_NAME", Low, Unclassified;
    NetworkLookupByName = 46, "NETWORK_LOOKUP_BY_NAME", Low, Unclassified;
    NetworkLookupByUuid = 47, "NETWORK_LOOKUP_BY_UUID", Low, Unclassified;
    NetworkSetAutostart = 48, "NETWORK_SET_AUTOSTART", Low, Unclassified;
    NetworkUndefine = 49, "NETWORK_UNDEFINE", Low, Unclassified;
    ConnectNumOfDefinedNetworks = 50, "CONNECT_NUM_OF_DEFINED_NETWORKS", Low, Unclassified;
    ConnectNumOfDomains = 51, "CONNECT_NUM_OF_DOMAINS", High, ReadOnly;
    ConnectNumOfNetworks = 52, "CONNECT_NUM_OF_NETWORKS", Low, Unclassified;
    DomainCoreDump = 53, "DOMAIN_CORE_DUMP", Low, Write;
    DomainRestore = 54, "DOMAIN_RESTORE", Low, Write;
    DomainSave = 55, "DOMAIN_SAVE", Low, Write;
    DomainGetSchedulerType = 56, "DOMAIN_GET_SCHEDULER_TYPE", Low, ReadOnly;
    DomainGetSchedulerParameters = 57, "DOMAIN_GET_SCHEDULER_PARAMETERS", Low, Unclassified;
    DomainSetSchedulerParameters = 58, "DOMAIN_SET_SCHEDULER_PARAMETERS", Low, Unclassified;
    ConnectGetHostname = 59, "CONNECT_GET_HOSTNAME", High, ReadOnly;
    ConnectSupportsFeature = 60, "CONNECT_SUPPORTS_FEATURE", High, ReadOnly;
    DomainMigratePrepare = 61, "DOMAIN_MIGRATE_PREPARE", Low, Write;
    DomainMigratePerform = 62, "DOMAIN_MIGRATE_PERFORM", Low, Write;
    DomainMigrateFinish = 63, "DOMAIN_MIGRATE_FINISH", Low, Write;
    DomainBlockStats = 64, "DOMAIN_BLOCK_STATS", Low, ReadOnly;
    DomainInterfaceStats = 65, "DOMAIN_INTERFACE_STATS", Low, Unclassified;
    AuthList = 66, "AUTH_LIST", High, ReadOnly;
    AuthSaslInit = 67, "AUTH_SASL_INIT", High, ReadOnly;
    AuthSaslStart = 68, "AUTH_SASL_START", High, ReadOnly;
    AuthSaslStep = 69, "AUTH_SASL_STEP", High, ReadOnly;
    AuthPolkit = 70, "AUTH_POLKIT", High, ReadOnly;
    ConnectNumOfStoragePools = 71, "CONNECT_NUM_OF_STORAGE_POOLS", Low, Unclassified;
    ConnectListStoragePools = 72, "CONNECT_LIST_STORAGE_POOLS", Low, Unclassified;
    ConnectNumOfDefinedStoragePools = 73, "CONNECT_NUM_OF_DEFINED_STORAGE_POOLS", Low, Unclassified;
    ConnectListDefinedStoragePools = 74, "CONNECT_LIST_DEFINED_STORAGE_POOLS", Low, Unclassified;
    ConnectFindStoragePoolSources = 75, "CONNECT_FIND_STORAGE_POOL_SOURCES", Low, Unclassified;
    StoragePoolCreateXml = 76, "STORAGE_POOL_CREATE_XML", Low, Unclassified;
    StoragePoolDefineXml = 77, "STORAGE_POOL_DEFINE_XML", Low, Unclassified;
    StoragePoolCreate = 78, "STORAGE_POOL_CREATE", Low, Unclassified;
    StoragePoolBuild = 79, "STORAGE_POOL_BUILD", Low, Unclassified;
    StoragePoolDestroy = 80, "STORAGE_POOL_DESTROY", Low, Unclassified;
    StoragePoolDelete = 81, "STORAGE_POOL_DELETE", Low, Unclassified;
    StoragePoolUndefine = 82, "STORAGE_POOL_UNDEFINE", Low, Unclassified;
    StoragePoolRefresh = 83, "STORAGE_POOL_REFRESH", Low, Unclassified;
    StoragePoolLookupByName = 84, "STORAGE_POOL_LOOKUP_BY_NAME", Low, Unclassified;
    StoragePoolLookupByUuid = 85, "STORAGE_POOL_LOOKUP_BY_UUID", Low, Unclassified;
    StoragePoolLookupByVolume = 86, "STORAGE_POOL_LOOKUP_BY_VOLUME", Low, Unclassified;
    StoragePoolGetInfo = 87, "STORAGE_POOL_GET_INFO", Low, Unclassified;
    StoragePoolGetXmlDesc = 88, "STORAGE_POOL_GET_XML_DESC", Low, Unclassified;
    StoragePoolGetAutostart = 89, "STORAGE_POOL_GET_AUTOSTART", Low, Unclassified;
    StoragePoolSetAutostart = 90, "STORAGE_POOL_SET_AUTOSTART", Low, Unclassified;
    StoragePoolNumOfVolumes = 91, "STORAGE_POOL_NUM_OF_VOLUMES", Low, Unclassified;
    StoragePoolListVolumes = 92, "STORAGE_POOL_LIST_VOLUMES", Low, Unclassified;
    StorageVolCreateXml = 93, "STORAGE_VOL_CREATE_XML", Low, Unclassified;
    StorageVolDelete = 94, "STORAGE_VOL_DELETE", Low, Unclassified;
    StorageVolLookupByName = 95, "STORAGE_VOL_LOOKUP_BY_NAME", Low, Unclassified;
    StorageVolLookupByKey = 96, "STORAGE_VOL_LOOKUP_BY_KEY", Low, Unclassified;
    StorageVolLookupByPath = 97, "STORAGE_VOL_LOOKUP_BY_PATH", Low, Unclassified;
    StorageVolGetInfo = 98, "STORAGE_VOL_GET_INFO", Low, Unclassified;
    StorageVolGetXmlDesc = 99, "STORAGE_VOL_GET_XML_DESC", Low, Unclassified;
    StorageVolGetPath = 100, "STORAGE_VOL_GET_PATH", Low, Unclassified;
    NodeGetCellsFreeMemory = 101, "NODE_GET_CELLS_FREE_MEMORY", High, ReadOnly;
    NodeGetFreeMemory = 102, "NODE_GET_FREE_MEMORY", High, ReadOnly;
    DomainBlockPeek = 103, "DOMAIN_BLOCK_PEEK", Low, Unclassified;
    DomainMemoryPeek = 104, "DOMAIN_MEMORY_PEEK", Low, Unclassified;
    ConnectDomainEventRegister = 105, "CONNECT_DOMAIN_EVENT_REGISTER", High, ReadOnly;
    ConnectDomainEventDeregister = 106, "CONNECT_DOMAIN_EVENT_DEREGISTER", High, ReadOnly;
    DomainEventLifecycle = 107, "DOMAIN_EVENT_LIFECYCLE", Low, Event;
    DomainMigratePrepare2 = 108, "DOMAIN_MIGRATE_PREPARE2", Low, Write;
    DomainMigrateFinish2 = 109, "DOMAIN_MIGRATE_FINISH2", Low, Write;
    ConnectGetUri = 110, "CONNECT_GET_URI", High, ReadOnly;
    NodeNumOfDevices = 111, "NODE_NUM_OF_DEVICES", Low, Unclassified;
    NodeListDevices = 112, "NODE_LIST_DEVICES", Low, Unclassified;
    NodeDeviceLookupByName = 113, "NODE_DEVICE_LOOKUP_BY_NAME", Low, Unclassified;
    NodeDeviceGetXmlDesc = 114, "NODE_DEVICE_GET_XML_DESC", Low, Unclassified;
    NodeDeviceGetParent = 115, "NODE_DEVICE_GET_PARENT", Low, Unclassified;
    NodeDeviceNumOfCaps = 116, "NODE_DEVICE_NUM_OF_CAPS", Low, Unclassified;
    NodeDeviceListCaps = 117, "NODE_DEVICE_LIST_CAPS", Low, Unclassified;
    NodeDeviceDettach = 118, "NODE_DEVICE_DETTACH", Low, Unclassified;
    NodeDeviceReAttach = 119, "NODE_DEVICE_RE_ATTACH", Low, Unclassified;
    NodeDeviceReset = 120, "NODE_DEVICE_RESET", Low, Unclassified;
    DomainGetSecurityLabel = 121, "DOMAIN_GET_SECURITY_LABEL", High, ReadOnly;
    NodeGetSecurityModel = 122, "NODE_GET_SECURITY_MODEL", High, ReadOnly;
    NodeDeviceCreateXml = 123, "NODE_DEVICE_CREATE_XML", Low, Unclassified;
    NodeDeviceDestroy = 124, "NODE_DEVICE_DESTROY", Low, Unclassified;
    StorageVolCreateXmlFrom = 125, "STORAGE_VOL_CREATE_XML_FROM", Low, Unclassified;
    ConnectNumOfInterfaces = 126, "CONNECT_NUM_OF_INTERFACES", Low, Unclassified;
    ConnectListInterfaces = 127, "CONNECT_LIST_INTERFACES", Low, Unclassified;
    InterfaceLookupByName = 128, "INTERFACE_LOOKUP_BY_NAME", Low, Unclassified;
    InterfaceLookupByMacString = 129, "INTERFACE_LOOKUP_BY_MAC_STRING", Low, Unclassified;
    InterfaceGetXmlDesc = 130, "INTERFACE_GET_XML_DESC", Low, Unclassified;
    InterfaceDefineXml = 131, "INTERFACE_DEFINE_XML", Low, Unclassified;
    InterfaceUndefine = 132, "INTERFACE_UNDEFINE", Low, Unclassified;
    InterfaceCreate = 133, "INTERFACE_CREATE", Low, Unclassified;
    InterfaceDestroy = 134, "INTERFACE_DESTROY", Low, Unclassified;
    ConnectDomainXmlFromNative = 135, "CONNECT_DOMAIN_XML_FROM_NATIVE", Low, Unclassified;
    ConnectDomainXmlToNative = 136, "CONNECT_DOMAIN_XML_TO_NATIVE", Low, Unclassified;
    ConnectNumOfDefinedInterfaces = 137, "CONNECT_NUM_OF_DEFINED_INTERFACES", Low, Unclassified;
    ConnectListDefinedInterfaces = 138, "CONNECT_LIST_DEFINED_INTERFACES", Low, Unclassified;
    ConnectNumOfSecrets = 139, "CONNECT_NUM_OF_SECRETS", Low, Unclassified;
    ConnectListSecrets = 140, "CONNECT_LIST_SECRETS", Low, Unclassified;
    SecretLookupByUuid = 141, "SECRET_LOOKUP_BY_UUID", Low, Unclassified;
    SecretDefineXml = 142, "SECRET_DEFINE_XML", Low, Unclassified;
    SecretGetXmlDesc = 143, "SECRET_GET_XML_DESC", Low, Unclassified;
    SecretSetValue = 144, "SECRET_SET_VALUE", Low, Unclassified;
    SecretGetValue = 145, "SECRET_GET_VALUE", Low, Unclassified;
    SecretUndefine = 146, "SECRET_UNDEFINE", Low, Unclassified;
    SecretLookupByUsage = 147, "SECRET_LOOKUP_BY_USAGE", Low, Unclassified;
    DomainMigratePrepareTunnel = 148, "DOMAIN_MIGRATE_PREPARE_TUNNEL", Low, Write;
    ConnectIsSecure = 149, "CONNECT_IS_SECURE", High, ReadOnly;
    DomainIsActive = 150, "DOMAIN_IS_ACTIVE", High, ReadOnly;
    DomainIsPersistent = 151, "DOMAIN_IS_PERSISTENT", High, ReadOnly;
    NetworkIsActive = 152, "NETWORK_IS_ACTIVE", Low, Unclassified;
    NetworkIsPersistent = 153, "NETWORK_IS_PERSISTENT", Low, Unclassified;
    StoragePoolIsActive = 154, "STORAGE_POOL_IS_ACTIVE", Low, Unclassified;
    StoragePoolIsPersistent = 155, "STORAGE_POOL_IS_PERSISTENT", Low, Unclassified;
    InterfaceIsActive = 156, "INTERFACE_IS_ACTIVE", Low, Unclassified;
    ConnectGetLibVersion = 157, "CONNECT_GET_LIB_VERSION", High, ReadOnly;
    ConnectCompareCpu = 158, "CONNECT_COMPARE_CPU", Low, Unclassified;
    DomainMemoryStats = 159, "DOMAIN_MEMORY_STATS", Low, ReadOnly;
    DomainAttachDeviceFlags = 160, "DOMAIN_ATTACH_DEVICE_FLAGS", Low, Write;
    DomainDetachDeviceFlags = 161, "DOMAIN_DETACH_DEVICE_FLAGS", Low, Write;
    ConnectBaselineCpu = 162, "CONNECT_BASELINE_CPU", Low, Unclassified;
    DomainGetJobInfo = 163, "DOMAIN_GET_JOB_INFO", Low, ReadOnly;
    DomainAbortJob = 164, "DOMAIN_ABORT_JOB", Low, Write;
    StorageVolWipe = 165, "STORAGE_VOL_WIPE", Low, Unclassified;
    DomainMigrateSetMaxDowntime = 166, "DOMAIN_MIGRATE_SET_MAX_DOWNTIME", Low, Write;
    ConnectDomainEventRegisterAny = 167, "CONNECT_DOMAIN_EVENT_REGISTER_ANY", High, ReadOnly;
    ConnectDomainEventDeregisterAny = 168, "CONNECT_DOMAIN_EVENT_DEREGISTER_ANY", High, ReadOnly;
    DomainEventReboot = 169, "DOMAIN_EVENT_REBOOT", Low, Event;
    DomainEventRtcChange = 170, "DOMAIN_EVENT_RTC_CHANGE", Low, Event;
    DomainEventWatchdog = 171, "DOMAIN_EVENT_WATCHDOG", Low, Event;
    DomainEventIoError = 172, "DOMAIN_EVENT_IO_ERROR", Low, Event;
    DomainEventGraphics = 173, "DOMAIN_EVENT_GRAPHICS", Low, Event;
    DomainUpdateDeviceFlags = 174, "DOMAIN_UPDATE_DEVICE_FLAGS", Low, Write;
    NwfilterLookupByName = 175, "NWFILTER_LOOKUP_BY_NAME", Low, Unclassified;
    NwfilterLookupByUuid = 176, "NWFILTER_LOOKUP_BY_UUID", Low, Unclassified;
    NwfilterGetXmlDesc = 177, "NWFILTER_GET_XML_DESC", Low, Unclassified;
    ConnectNumOfNwfilters = 178, "CONNECT_NUM_OF_NWFILTERS", Low, Unclassified;
    ConnectListNwfilters = 179, "CONNECT_LIST_NWFILTERS", Low, Unclassified;
    NwfilterDefineXml = 180, "NWFILTER_DEFINE_XML", Low, Unclassified;
    NwfilterUndefine = 181, "NWFILTER_UNDEFINE", Low, Unclassified;
    DomainManagedSave = 182, "DOMAIN_MANAGED_SAVE", Low, Write;
    DomainHasManagedSaveImage = 183, "DOMAIN_HAS_MANAGED_SAVE_IMAGE", Low, ReadOnly;
    DomainManagedSaveRemove = 184, "DOMAIN_MANAGED_SAVE_REMOVE", Low, Write;
    DomainSnapshotCreateXml = 185, "DOMAIN_SNAPSHOT_CREATE_XML", Low, Unclassified;
    DomainSnapshotGetXmlDesc = 186, "DOMAIN_SNAPSHOT_GET_XML_DESC", Low, Unclassified;
    DomainSnapshotNum = 187, "DOMAIN_SNAPSHOT_NUM", Low, Unclassified;
    DomainSnapshotListNames = 188, "DOMAIN_SNAPSHOT_LIST_NAMES", Low, Unclassified;
    DomainSnapshotLookupByName = 189, "DOMAIN_SNAPSHOT_LOOKUP_BY_NAME", Low, Unclassified;
    DomainHasCurrentSnapshot = 190, "DOMAIN_HAS_CURRENT_SNAPSHOT", Low, Unclassified;
    DomainSnapshotCurrent = 191, "DOMAIN_SNAPSHOT_CURRENT", Low, Unclassified;
    DomainRevertToSnapshot = 192, "DOMAIN_REVERT_TO_SNAPSHOT", Low, Unclassified;
    DomainSnapshotDelete = 193, "DOMAIN_SNAPSHOT_DELETE", Low, Unclassified;
    DomainGetBlockInfo = 194, "DOMAIN_GET_BLOCK_INFO", Low, ReadOnly;
    DomainEventIoErrorReason = 195, "DOMAIN_EVENT_IO_ERROR_REASON", Low, Event;
    DomainCreateWithFlags = 196, "DOMAIN_CREATE_WITH_FLAGS", Low, Write;
    DomainSetMemoryParameters = 197, "DOMAIN_SET_MEMORY_PARAMETERS", Low, Unclassified;
    DomainGetMemoryParameters = 198, "DOMAIN_GET_MEMORY_PARAMETERS", Low, Unclassified;
    DomainSetVcpusFlags = 199, "DOMAIN_SET_VCPUS_FLAGS", Low, Write;
    DomainGetVcpusFlags = 200, "DOMAIN_GET_VCPUS_FLAGS", Low, ReadOnly;
    DomainOpenConsole = 201, "DOMAIN_OPEN_CONSOLE", Low, Unclassified;
    DomainIsUpdated = 202, "DOMAIN_IS_UPDATED", High, ReadOnly;
    ConnectGetSysinfo = 203, "CONNECT_GET_SYSINFO", High, ReadOnly;
    DomainSetMemoryFlags = 204, "DOMAIN_SET_MEMORY_FLAGS", Low, Unclassified;
    DomainSetBlkioParameters = 205, "DOMAIN_SET_BLKIO_PARAMETERS", Low, Unclassified;
    DomainGetBlkioParameters = 206, "DOMAIN_GET_BLKIO_PARAMETERS", Low, Unclassified;
    DomainMigrateSetMaxSpeed = 207, "DOMAIN_MIGRATE_SET_MAX_SPEED", Low, Write;
    StorageVolUpload = 208, "STORAGE_VOL_UPLOAD", Low, Unclassified;
    StorageVolDownload = 209, "STORAGE_VOL_DOWNLOAD", Low, Unclassified;
    DomainInjectNmi = 210, "DOMAIN_INJECT_NMI", Low, Unclassified;
    DomainScreenshot = 211, "DOMAIN_SCREENSHOT", Low, Unclassified;
    DomainGetState = 212, "DOMAIN_GET_STATE", High, ReadOnly;
    DomainMigrateBegin3 = 213, "DOMAIN_MIGRATE_BEGIN3", Low, Write;
    DomainMigratePrepare3 = 214, "DOMAIN_MIGRATE_PREPARE3", Low, Write;
    DomainMigratePrepareTunnel3 = 215, "DOMAIN_MIGRATE_PREPARE_TUNNEL3", Low, Write;
    DomainMigratePerform3 = 216, "DOMAIN_MIGRATE_PERFORM3", Low, Write;
    DomainMigrateFinish3 = 217, "DOMAIN_MIGRATE_FINISH3", Low, Write;
    DomainMigrateConfirm3 = 218, "DOMAIN_MIGRATE_CONFIRM3", Low, Write;
    DomainSetSchedulerParametersFlags = 219, "DOMAIN_SET_SCHEDULER_PARAMETERS_FLAGS", Low, Unclassified;
    InterfaceChangeBegin = 220, "INTERFACE_CHANGE_BEGIN", Low, Unclassified;
    InterfaceChangeCommit = 221, "INTERFACE_CHANGE_COMMIT", Low, Unclassified;
    InterfaceChangeRollback = 222, "INTERFACE_CHANGE_ROLLBACK", Low, Unclassified;
    DomainGetSchedulerParametersFlags = 223, "DOMAIN_GET_SCHEDULER_PARAMETERS_FLAGS", Low, Unclassified;
    DomainEventControlError = 224, "DOMAIN_EVENT_CONTROL_ERROR", Low, Event;
    DomainPinVcpuFlags = 225, "DOMAIN_PIN_VCPU_FLAGS", Low, Unclassified;
    DomainSendKey = 226, "DOMAIN_SEND_KEY", Low, Unclassified;
    NodeGetCpuStats = 227, "NODE_GET_CPU_STATS", High, ReadOnly;
    NodeGetMemoryStats = 228, "NODE_GET_MEMORY_STATS", High, ReadOnly;
    DomainGetControlInfo = 229, "DOMAIN_GET_CONTROL_INFO", High, ReadOnly;
    DomainGetVcpuPinInfo = 230, "DOMAIN_GET_VCPU_PIN_INFO", Low, Unclassified;
    DomainUndefineFlags = 231, "DOMAIN_UNDEFINE_FLAGS", High, Write;
    DomainSaveFlags = 232, "DOMAIN_SAVE_FLAGS", Low, Unclassified;
    DomainRestoreFlags = 233, "DOMAIN_RESTORE_FLAGS", Low, Unclassified;
    DomainDestroyFlags = 234, "DOMAIN_DESTROY_FLAGS", High, Write;
    DomainSaveImageGetXmlDesc = 235, "DOMAIN_SAVE_IMAGE_GET_XML_DESC", Low, Unclassified;
    DomainSaveImageDefineXml = 236, "DOMAIN_SAVE_IMAGE_DEFINE_XML", Low, Unclassified;
    DomainBlockJobAbort = 237, "DOMAIN_BLOCK_JOB_ABORT", Low, Unclassified;
    DomainGetBlockJobInfo = 238, "DOMAIN_GET_BLOCK_JOB_INFO", Low, Unclassified;
    DomainBlockJobSetSpeed = 239, "DOMAIN_BLOCK_JOB_SET_SPEED", Low, Unclassified;
    DomainBlockPull = 240, "DOMAIN_BLOCK_PULL", Low, Unclassified;
    DomainEventBlockJob = 241, "DOMAIN_EVENT_BLOCK_JOB", Low, Event;
    DomainMigrateGetMaxSpeed = 242, "DOMAIN_MIGRATE_GET_MAX_SPEED", Low, Write;
    DomainBlockStatsFlags = 243, "DOMAIN_BLOCK_STATS_FLAGS", Low, Unclassified;
    DomainSnapshotGetParent = 244, "DOMAIN_SNAPSHOT_GET_PARENT", Low, Unclassified;
    DomainReset = 245, "DOMAIN_RESET", Low, Write;
    DomainSnapshotNumChildren = 246, "DOMAIN_SNAPSHOT_NUM_CHILDREN", Low, Unclassified;
    DomainSnapshotListChildrenNames = 247, "DOMAIN_SNAPSHOT_LIST_CHILDREN_NAMES", Low, Unclassified;
    DomainEventDiskChange = 248, "DOMAIN_EVENT_DISK_CHANGE", Low, Event;
    DomainOpenGraphics = 249, "DOMAIN_OPEN_GRAPHICS", Low, Unclassified;
    NodeSuspendForDuration = 250, "NODE_SUSPEND_FOR_DURATION", Low, Unclassified;
    DomainBlockResize = 251, "DOMAIN_BLOCK_RESIZE", Low, Unclassified;
    DomainSetBlockIoTune = 252, "DOMAIN_SET_BLOCK_IO_TUNE", Low, Unclassified;
    DomainGetBlockIoTune = 253, "DOMAIN_GET_BLOCK_IO_TUNE", Low, Unclassified;
    DomainSetNumaParameters = 254, "DOMAIN_SET_NUMA_PARAMETERS", Low, Unclassified;
    DomainGetNumaParameters = 255, "DOMAIN_GET_NUMA_PARAMETERS", Low, Unclassified;
    DomainSetInterfaceParameters = 256, "DOMAIN_SET_INTERFACE_PARAMETERS", Low, Unclassified;
    DomainGetInterfaceParameters = 257, "DOMAIN_GET_INTERFACE_PARAMETERS", Low, Unclassified;
    DomainShutdownFlags = 258, "DOMAIN_SHUTDOWN_FLAGS", Low, Write;
    StorageVolWipePattern = 259, "STORAGE_VOL_WIPE_PATTERN", Low, Unclassified;
    StorageVolResize = 260, "STORAGE_VOL_RESIZE", Low, Unclassified;
    DomainPmSuspendForDuration = 261, "DOMAIN_PM_SUSPEND_FOR_DURATION", Low, Unclassified;
    DomainGetCpuStats = 262, "DOMAIN_GET_CPU_STATS", Low, Unclassified;
    DomainGetDiskErrors = 263, "DOMAIN_GET_DISK_ERRORS", Low, Unclassified;
    DomainSetMetadata = 264, "DOMAIN_SET_METADATA", Low, Write;
    DomainGetMetadata = 265, "DOMAIN_GET_METADATA", Low, ReadOnly;
    DomainBlockRebase = 266, "DOMAIN_BLOCK_REBASE", Low, Unclassified;
    DomainPmWakeup = 267, "DOMAIN_PM_WAKEUP", Low, Unclassified;
    DomainEventTrayChange = 268, "DOMAIN_EVENT_TRAY_CHANGE", Low, Event;
    DomainEventPmwakeup = 269, "DOMAIN_EVENT_PMWAKEUP", Low, Event;
    DomainEventPmsuspend = 270, "DOMAIN_EVENT_PMSUSPEND", Low, Event;
    DomainSnapshotIsCurrent = 271, "DOMAIN_SNAPSHOT_IS_CURRENT", Low, Unclassified;
    DomainSnapshotHasMetadata = 272, "DOMAIN_SNAPSHOT_HAS_METADATA", Low, Unclassified;
    ConnectListAllDomains = 273, "CONNECT_LIST_ALL_DOMAINS", High, ReadOnly;
    DomainListAllSnapshots = 274, "DOMAIN_LIST_ALL_SNAPSHOTS", Low, Unclassified;
    DomainSnapshotListAllChildren = 275, "DOMAIN_SNAPSHOT_LIST_ALL_CHILDREN", Low, Unclassified;
    DomainEventBalloonChange = 276, "DOMAIN_EVENT_BALLOON_CHANGE", Low, Event;
    DomainGetHostname = 277, "DOMAIN_GET_HOSTNAME", Low, Write;
    DomainGetSecurityLabelList = 278, "DOMAIN_GET_SECURITY_LABEL_LIST", High, ReadOnly;
    DomainPinEmulator = 279, "DOMAIN_PIN_EMULATOR", Low, Unclassified;
    DomainGetEmulatorPinInfo = 280, "DOMAIN_GET_EMULATOR_PIN_INFO", Low, Unclassified;
    ConnectListAllStoragePools = 281, "CONNECT_LIST_ALL_STORAGE_POOLS", Low, Unclassified;
    StoragePoolListAllVolumes = 282, "STORAGE_POOL_LIST_ALL_VOLUMES", Low, Unclassified;
    ConnectListAllNetworks = 283, "CONNECT_LIST_ALL_NETWORKS", Low, Unclassified;
    ConnectListAllInterfaces = 284, "CONNECT_LIST_ALL_INTERFACES", Low, Unclassified;
    ConnectListAllNodeDevices = 285, "CONNECT_LIST_ALL_NODE_DEVICES", Low, Unclassified;
    ConnectListAllNwfilters = 286, "CONNECT_LIST_ALL_NWFILTERS", Low, Unclassified;
    ConnectListAllSecrets = 287, "CONNECT_LIST_ALL_SECRETS", Low, Unclassified;
    NodeSetMemoryParameters = 288, "NODE_SET_MEMORY_PARAMETERS", Low, Unclassified;
    NodeGetMemoryParameters = 289, "NODE_GET_MEMORY_PARAMETERS", Low, Unclassified;
    DomainBlockCommit = 290, "DOMAIN_BLOCK_COMMIT", Low, Unclassified;
    NetworkUpdate = 291, "NETWORK_UPDATE", Low, Unclassified;
    DomainEventPmsuspendDisk = 292, "DOMAIN_EVENT_PMSUSPEND_DISK", Low, Event;
    NodeGetCpuMap = 293, "NODE_GET_CPU_MAP", Low, Unclassified;
    DomainFstrim = 294, "DOMAIN_FSTRIM", Low, Unclassified;
    DomainSendProcessSignal = 295, "DOMAIN_SEND_PROCESS_SIGNAL", Low, Unclassified;
    DomainOpenChannel = 296, "DOMAIN_OPEN_CHANNEL", Low, Unclassified;
    NodeDeviceLookupScsiHostByWwn = 297, "NODE_DEVICE_LOOKUP_SCSI_HOST_BY_WWN", Low, Unclassified;
    DomainGetJobStats = 298, "DOMAIN_GET_JOB_STATS", Low, ReadOnly;
    DomainMigrateGetCompressionCache = 299, "DOMAIN_MIGRATE_GET_COMPRESSION_CACHE", Low, Unclassified;
    DomainMigrateSetCompressionCache = 300, "DOMAIN_MIGRATE_SET_COMPRESSION_CACHE", Low, Unclassified;
    NodeDeviceDetachFlags = 301, "NODE_DEVICE_DETACH_FLAGS", Low, Unclassified;
    DomainMigrateBegin3Params = 302, "DOMAIN_MIGRATE_BEGIN3_PARAMS", Low, Write;
    DomainMigratePrepare3Params = 303, "DOMAIN_MIGRATE_PREPARE3_PARAMS", Low, Write;
    DomainMigratePrepareTunnel3Params = 304, "DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS", Low, Write;
    DomainMigratePerform3Params = 305, "DOMAIN_MIGRATE_PERFORM3_PARAMS", Low, Write;
    DomainMigrateFinish3Params = 306, "DOMAIN_MIGRATE_FINISH3_PARAMS", Low, Write;
    DomainMigrateConfirm3Params = 307, "DOMAIN_MIGRATE_CONFIRM3_PARAMS", Low, Write;
    DomainSetMemoryStatsPeriod = 308, "DOMAIN_SET_MEMORY_STATS_PERIOD", Low, Unclassified;
    DomainCreateXmlWithFiles = 309, "DOMAIN_CREATE_XML_WITH_FILES", Low, Unclassified;
    DomainCreateWithFiles = 310, "DOMAIN_CREATE_WITH_FILES", Low, Unclassified;
    DomainEventDeviceRemoved = 311, "DOMAIN_EVENT_DEVICE_REMOVED", Low, Event;
    ConnectGetCpuModelNames = 312, "CONNECT_GET_CPU_MODEL_NAMES", Low, Unclassified;
    ConnectNetworkEventRegisterAny = 313, "CONNECT_NETWORK_EVENT_REGISTER_ANY", High, ReadOnly;
    ConnectNetworkEventDeregisterAny = 314, "CONNECT_NETWORK_EVENT_DEREGISTER_ANY", High, ReadOnly;
    NetworkEventLifecycle = 315, "NETWORK_EVENT_LIFECYCLE", Low, Event;
    ConnectDomainEventCallbackRegisterAny = 316, "CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY", High, ReadOnly;
    ConnectDomainEventCallbackDeregisterAny = 317, "CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY", High, ReadOnly;
    DomainEventCallbackLifecycle = 318, "DOMAIN_EVENT_CALLBACK_LIFECYCLE", Low, Event;
    DomainEventCallbackReboot = 319, "DOMAIN_EVENT_CALLBACK_REBOOT", Low, Event;
    DomainEventCallbackRtcChange = 320, "DOMAIN_EVENT_CALLBACK_RTC_CHANGE", Low, Event;
    DomainEventCallbackWatchdog = 321, "DOMAIN_EVENT_CALLBACK_WATCHDOG", Low, Event;
    DomainEventCallbackIoError = 322, "DOMAIN_EVENT_CALLBACK_IO_ERROR", Low, Event;
    DomainEventCallbackGraphics = 323, "DOMAIN_EVENT_CALLBACK_GRAPHICS", Low, Event;
    DomainEventCallbackIoErrorReason = 324, "DOMAIN_EVENT_CALLBACK_IO_ERROR_REASON", Low, Event;
    DomainEventCallbackControlError = 325, "DOMAIN_EVENT_CALLBACK_CONTROL_ERROR", Low, Event;
    DomainEventCallbackBlockJob = 326, "DOMAIN_EVENT_CALLBACK_BLOCK_JOB", Low, Event;
    DomainEventCallbackDiskChange = 327, "DOMAIN_EVENT_CALLBACK_DISK_CHANGE", Low, Event;
    DomainEventCallbackTrayChange = 328, "DOMAIN_EVENT_CALLBACK_TRAY_CHANGE", Low, Event;
    DomainEventCallbackPmwakeup = 329, "DOMAIN_EVENT_CALLBACK_PMWAKEUP", Low, Event;
    DomainEventCallbackPmsuspend = 330, "DOMAIN_EVENT_CALLBACK_PMSUSPEND", Low, Event;
    DomainEventCallbackBalloonChange = 331, "DOMAIN_EVENT_CALLBACK_BALLOON_CHANGE", Low, Event;
    DomainEventCallbackPmsuspendDisk = 332, "DOMAIN_EVENT_CALLBACK_PMSUSPEND_DISK", Low, Event;
    DomainEventCallbackDeviceRemoved = 333, "DOMAIN_EVENT_CALLBACK_DEVICE_REMOVED", Low, Event;
    DomainCoreDumpWithFormat = 334, "DOMAIN_CORE_DUMP_WITH_FORMAT", Low, Unclassified;
    DomainFsfreeze = 335, "DOMAIN_FSFREEZE", Low, Unclassified;
    DomainFsthaw = 336, "DOMAIN_FSTHAW", Low, Unclassified;
    DomainGetTime = 337, "DOMAIN_GET_TIME", Low, Write;
    DomainSetTime = 338, "DOMAIN_SET_TIME", Low, Unclassified;
    DomainEventBlockJob2 = 339, "DOMAIN_EVENT_BLOCK_JOB_2", Low, Event;
    NodeGetFreePages = 340, "NODE_GET_FREE_PAGES", Low, Unclassified;
    NetworkGetDhcpLeases = 341, "NETWORK_GET_DHCP_LEASES", Low, Unclassified;
    ConnectGetDomainCapabilities = 342, "CONNECT_GET_DOMAIN_CAPABILITIES", Low, Unclassified;
    DomainOpenGraphicsFd = 343, "DOMAIN_OPEN_GRAPHICS_FD", Low, Unclassified;
    ConnectGetAllDomainStats = 344, "CONNECT_GET_ALL_DOMAIN_STATS", Low, Unclassified;
    DomainBlockCopy = 345, "DOMAIN_BLOCK_COPY", Low, Unclassified;
    DomainEventCallbackTunable = 346, "DOMAIN_EVENT_CALLBACK_TUNABLE", Low, Event;
    NodeAllocPages = 347, "NODE_ALLOC_PAGES", Low, Unclassified;
    DomainEventCallbackAgentLifecycle = 348, "DOMAIN_EVENT_CALLBACK_AGENT_LIFECYCLE", Low, Event;
    DomainGetFsinfo = 349, "DOMAIN_GET_FSINFO", Low, Unclassified;
    DomainDefineXmlFlags = 350, "DOMAIN_DEFINE_XML_FLAGS", High, Write;
    DomainGetIothreadInfo = 351, "DOMAIN_GET_IOTHREAD_INFO", Low, Unclassified;
    DomainPinIothread = 352, "DOMAIN_PIN_IOTHREAD", Low, Unclassified;
    DomainInterfaceAddresses = 353, "DOMAIN_INTERFACE_ADDRESSES", Low, Unclassified;
    DomainEventCallbackDeviceAdded = 354, "DOMAIN_EVENT_CALLBACK_DEVICE_ADDED", Low, Event;
    DomainAddIothread = 355, "DOMAIN_ADD_IOTHREAD", Low, Unclassified;
    DomainDelIothread = 356, "DOMAIN_DEL_IOTHREAD", Low, Unclassified;
    DomainSetUserPassword = 357, "DOMAIN_SET_USER_PASSWORD", Low, Unclassified;
    DomainRename = 358, "DOMAIN_RENAME", Low, Unclassified;
    DomainEventCallbackMigrationIteration = 359, "DOMAIN_EVENT_CALLBACK_MIGRATION_ITERATION", Low, Event;
    ConnectRegisterCloseCallback = 360, "CONNECT_REGISTER_CLOSE_CALLBACK", High, ReadOnly;
    ConnectUnregisterCloseCallback = 361, "CONNECT_UNREGISTER_CLOSE_CALLBACK", High, ReadOnly;
    ConnectEventConnectionClosed = 362, "CONNECT_EVENT_CONNECTION_CLOSED", Low, Event;
    DomainEventCallbackJobCompleted = 363, "DOMAIN_EVENT_CALLBACK_JOB_COMPLETED", Low, Event;
    DomainMigrateStartPostCopy = 364, "DOMAIN_MIGRATE_START_POST_COPY", Low, Write;
    DomainGetPerfEvents = 365, "DOMAIN_GET_PERF_EVENTS", Low, Unclassified;
    DomainSetPerfEvents = 366, "DOMAIN_SET_PERF_EVENTS", Low, Unclassified;
    DomainEventCallbackDeviceRemovalFailed = 367, "DOMAIN_EVENT_CALLBACK_DEVICE_REMOVAL_FAILED", Low, Event;
    ConnectStoragePoolEventRegisterAny = 368, "CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY", High, ReadOnly;
    ConnectStoragePoolEventDeregisterAny = 369, "CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY", High, ReadOnly;
    StoragePoolEventLifecycle = 370, "STORAGE_POOL_EVENT_LIFECYCLE", Low, Event;
    DomainGetGuestVcpus = 371, "DOMAIN_GET_GUEST_VCPUS", Low, Unclassified;
    DomainSetGuestVcpus = 372, "DOMAIN_SET_GUEST_VCPUS", Low, Unclassified;
    StoragePoolEventRefresh = 373, "STORAGE_POOL_EVENT_REFRESH", Low, Event;
    ConnectNodeDeviceEventRegisterAny = 374, "CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY", High, ReadOnly;
    ConnectNodeDeviceEventDeregisterAny = 375, "CONNECT_NODE_DEVICE_EVENT_DEREGISTER_ANY", High, ReadOnly;
    NodeDeviceEventLifecycle = 376, "NODE_DEVICE_EVENT_LIFECYCLE", Low, Event;
    NodeDeviceEventUpdate = 377, "NODE_DEVICE_EVENT_UPDATE", Low, Event;
    StorageVolGetInfoFlags = 378, "STORAGE_VOL_GET_INFO_FLAGS", Low, Unclassified;
    DomainEventCallbackMetadataChange = 379, "DOMAIN_EVENT_CALLBACK_METADATA_CHANGE", Low, Event;
    ConnectSecretEventRegisterAny = 380, "CONNECT_SECRET_EVENT_REGISTER_ANY", High, ReadOnly;
    ConnectSecretEventDeregisterAny = 381, "CONNECT_SECRET_EVENT_DEREGISTER_ANY", High, ReadOnly;
    SecretEventLifecycle = 382, "SECRET_EVENT_LIFECYCLE", Low, Event;
    SecretEventValueChanged = 383, "SECRET_EVENT_VALUE_CHANGED", Low, Event;
    DomainSetVcpu = 384, "DOMAIN_SET_VCPU", Low, Unclassified;
    DomainEventBlockThreshold = 385, "DOMAIN_EVENT_BLOCK_THRESHOLD", Low, Event;
    DomainSetBlockThreshold = 386, "DOMAIN_SET_BLOCK_THRESHOLD", Low, Unclassified;
    DomainMigrateGetMaxDowntime = 387, "DOMAIN_MIGRATE_GET_MAX_DOWNTIME", Low, Write;
    DomainManagedSaveGetXmlDesc = 388, "DOMAIN_MANAGED_SAVE_GET_XML_DESC", Low, Unclassified;
    DomainManagedSaveDefineXml = 389, "DOMAIN_MANAGED_SAVE_DEFINE_XML", Low, Unclassified;
    DomainSetLifecycleAction = 390, "DOMAIN_SET_LIFECYCLE_ACTION", Low, Unclassified;
    StoragePoolLookupByTargetPath = 391, "STORAGE_POOL_LOOKUP_BY_TARGET_PATH", Low, Unclassified;
    DomainDetachDeviceAlias = 392, "DOMAIN_DETACH_DEVICE_ALIAS", Low, Unclassified;
    ConnectCompareHypervisorCpu = 393, "CONNECT_COMPARE_HYPERVISOR_CPU", Low, Unclassified;
    ConnectBaselineHypervisorCpu = 394, "CONNECT_BASELINE_HYPERVISOR_CPU", Low, Unclassified;
    NodeGetSevInfo = 395, "NODE_GET_SEV_INFO", Low, Unclassified;
    DomainGetLaunchSecurityInfo = 396, "DOMAIN_GET_LAUNCH_SECURITY_INFO", Low, Unclassified;
    NwfilterBindingLookupByPortDev = 397, "NWFILTER_BINDING_LOOKUP_BY_PORT_DEV", Low, Unclassified;
    NwfilterBindingGetXmlDesc = 398, "NWFILTER_BINDING_GET_XML_DESC", Low, Unclassified;
    NwfilterBindingCreateXml = 399, "NWFILTER_BINDING_CREATE_XML", Low, Unclassified;
    NwfilterBindingDelete = 400, "NWFILTER_BINDING_DELETE", Low, Unclassified;
    ConnectListAllNwfilterBindings = 401, "CONNECT_LIST_ALL_NWFILTER_BINDINGS", Low, Unclassified;
    DomainSetIothreadParams = 402, "DOMAIN_SET_IOTHREAD_PARAMS", Low, Unclassified;
    ConnectGetStoragePoolCapabilities = 403, "CONNECT_GET_STORAGE_POOL_CAPABILITIES", Low, Unclassified;
    NetworkListAllPorts = 404, "NETWORK_LIST_ALL_PORTS", Low, Unclassified;
    NetworkPortLookupByUuid = 405, "NETWORK_PORT_LOOKUP_BY_UUID", Low, Unclassified;
    NetworkPortCreateXml = 406, "NETWORK_PORT_CREATE_XML", Low, Unclassified;
    NetworkPortGetParameters = 407, "NETWORK_PORT_GET_PARAMETERS", Low, Unclassified;
    NetworkPortSetParameters = 408, "NETWORK_PORT_SET_PARAMETERS", Low, Unclassified;
    NetworkPortGetXmlDesc = 409, "NETWORK_PORT_GET_XML_DESC", Low, Unclassified;
    NetworkPortDelete = 410, "NETWORK_PORT_DELETE", Low, Unclassified;
    DomainCheckpointCreateXml = 411, "DOMAIN_CHECKPOINT_CREATE_XML", Low, Unclassified;
    DomainCheckpointGetXmlDesc = 412, "DOMAIN_CHECKPOINT_GET_XML_DESC", Low, Unclassified;
    DomainListAllCheckpoints = 413, "DOMAIN_LIST_ALL_CHECKPOINTS", Low, Unclassified;
    DomainCheckpointListAllChildren = 414, "DOMAIN_CHECKPOINT_LIST_ALL_CHILDREN", Low, Unclassified;
    DomainCheckpointLookupByName = 415, "DOMAIN_CHECKPOINT_LOOKUP_BY_NAME", Low, Unclassified;
    DomainCheckpointGetParent = 416, "DOMAIN_CHECKPOINT_GET_PARENT", Low, Unclassified;
    DomainCheckpointDelete = 417, "DOMAIN_CHECKPOINT_DELETE", Low, Unclassified;
    DomainGetGuestInfo = 418, "DOMAIN_GET_GUEST_INFO", Low, Unclassified;
    ConnectSetIdentity = 419, "CONNECT_SET_IDENTITY", Low, Unclassified;
    DomainAgentSetResponseTimeout = 420, "DOMAIN_AGENT_SET_RESPONSE_TIMEOUT", Low, Unclassified;
    DomainBackupBegin = 421, "DOMAIN_BACKUP_BEGIN", Low, Unclassified;
    DomainBackupGetXmlDesc = 422, "DOMAIN_BACKUP_GET_XML_DESC", Low, Unclassified;
    DomainEventMemoryFailure = 423, "DOMAIN_EVENT_MEMORY_FAILURE", Low, Event;
    DomainAuthorizedSshKeysGet = 424, "DOMAIN_AUTHORIZED_SSH_KEYS_GET", Low, Unclassified;
    DomainAuthorizedSshKeysSet = 425, "DOMAIN_AUTHORIZED_SSH_KEYS_SET", Low, Unclassified;
    DomainGetMessages = 426, "DOMAIN_GET_MESSAGES", Low, Unclassified;
    DomainStartDirtyRateCalc = 427, "DOMAIN_START_DIRTY_RATE_CALC", Low, Unclassified;
    NodeDeviceDefineXml = 428, "NODE_DEVICE_DEFINE_XML", Low, Unclassified;
    NodeDeviceUndefine = 429, "NODE_DEVICE_UNDEFINE", Low, Unclassified;
    NodeDeviceCreate = 430, "NODE_DEVICE_CREATE", Low, Unclassified;
    NwfilterDefineXmlFlags = 431, "NWFILTER_DEFINE_XML_FLAGS", Low, Unclassified;
    NetworkDefineXmlFlags = 432, "NETWORK_DEFINE_XML_FLAGS", Low, Unclassified;
    NodeDeviceGetAutostart = 433, "NODE_DEVICE_GET_AUTOSTART", Low, Unclassified;
    NodeDeviceSetAutostart = 434, "NODE_DEVICE_SET_AUTOSTART", Low, Unclassified;
    NodeDeviceIsPersistent = 435, "NODE_DEVICE_IS_PERSISTENT", Low, Unclassified;
    NodeDeviceIsActive = 436, "NODE_DEVICE_IS_ACTIVE", Low, Unclassified;
    NetworkCreateXmlFlags = 437, "NETWORK_CREATE_XML_FLAGS", Low, Unclassified;
    DomainEventMemoryDeviceSizeChange = 438, "DOMAIN_EVENT_MEMORY_DEVICE_SIZE_CHANGE", Low, Event;
    DomainSetLaunchSecurityState = 439, "DOMAIN_SET_LAUNCH_SECURITY_STATE", Low, Unclassified;
    DomainSaveParams = 440, "DOMAIN_SAVE_PARAMS", Low, Unclassified;
    DomainRestoreParams = 441, "DOMAIN_RESTORE_PARAMS", Low, Unclassified;
    DomainAbortJobFlags = 442, "DOMAIN_ABORT_JOB_FLAGS", Low, Write;
    DomainFdAssociate = 443, "DOMAIN_FD_ASSOCIATE", Low, Unclassified;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert_eq!(Procedure::ALL.len(), 443);
        for (i, p) in Procedure::ALL.iter().enumerate() {
            assert_eq!(*p as i32, i as i32 + 1);
            assert_eq!(Procedure::from_i32(*p as i32), Some(*p));
        }
        assert_eq!(Procedure::from_i32(0), None);
        assert_eq!(Procedure::from_i32(444), None);
        let open = procedure_info(1).unwrap();
        assert_eq!(open.name, "REMOTE_PROC_CONNECT_OPEN");
        assert_eq!(open.priority, Priority::High);
        assert!(open.readonly_ok());
        assert!(!Procedure::DomainDefineXml.info().readonly_ok());
        assert!(!Procedure::DomainMigrateGetMaxSpeed.info().readonly_ok());
        assert_eq!(Procedure::DomainAbortJobFlags as i32, 442);
        assert_eq!(
            Procedure::DomainEventCallbackLifecycle.info().access,
            Access::Event
        );
        assert_eq!(Procedure::ConnectListAllDomains as i32, 273);
    }
}
