//! The QEMU driver (`qemu:///system`): guests are real `qemu-system-*`
//! processes that rvirtd starts, watches over QMP and controls.
//!
//! Split as libvirt splits its QEMU driver, one job a module:
//! - [`caps_model`]: what a QEMU binary can do (machine types, devices,
//!   CPU models, accelerators): filled by probing, read by the command line;
//! - [`command`]: typed domain definition → QEMU command line
//!   (`qemu_command.c`), with device address assignment (`qemu_domain_address.c`).
//!
//! Depends on the API, util and conf only, never on another driver.

pub mod capabilities;
pub mod caps_model;
pub mod command;
pub mod files;
pub mod monitor;
pub mod process;
pub mod runtime;
