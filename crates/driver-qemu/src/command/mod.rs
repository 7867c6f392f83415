//! Typed domain definition → QEMU command line (libvirt's `qemu_command.c`).
