//! The QEMU test guest boots under TCG, fills memory when asked, and says
//! it is ready on its serial console.

use rvirt_testkit::guest::{self, Accel, BootOptions};

#[test]
fn guest_boots_under_tcg_and_fills_memory() {
    let image = guest::image().expect("guest image");
    let opts = BootOptions {
        accel: Accel::Tcg,
        fill_mib: 16,
        ..BootOptions::default()
    };
    let g = guest::boot(&image, &opts).expect("boot");
    eprintln!("TCG boot to {} in {:?}", guest::READY_MARKER, g.boot_time);
    let console = g.console_text();
    assert!(console.contains("rvirt-guest: filled 16 MiB"), "{console}");
}
