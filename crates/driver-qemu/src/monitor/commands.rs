//! Commands whose `qapi-qmp` types do not fit QEMU 7.2, each as narrow as
//! the driver needs.

use serde::{Deserialize, Serialize};

/// `query-machines`: the crate's `MachineInfo` requires `acpi` (QEMU 8.0),
/// which 7.2 does not send, so its reply would not decode.
#[derive(Debug, Clone, Serialize, Default)]
pub struct QueryMachines {}

super::qmp_command!(QueryMachines = "query-machines" => Vec<MachineInfo>);

/// The members of a `query-machines` entry the driver reads.
#[derive(Debug, Clone, Deserialize)]
pub struct MachineInfo {
    pub name: String,
    #[serde(default)]
    pub alias: Option<String>,
    #[serde(rename = "is-default", default)]
    pub is_default: Option<bool>,
    #[serde(rename = "cpu-max")]
    pub cpu_max: i64,
    #[serde(rename = "default-ram-id", default)]
    pub default_ram_id: Option<String>,
    #[serde(default)]
    pub deprecated: bool,
}
