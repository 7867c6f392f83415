use rvirt_testkit::guest::GuestArgs;
use rvirt_testkit::qemu_hosts::{postcopy_migration, setup_libvirtd_rvirtd, MigrationHost};
#[test]
fn tmp() {
    let Some(s) = setup_libvirtd_rvirtd("pcx", &GuestArgs::dirtying(), 128) else { return; };
    let out = postcopy_migration(&s.a, &s.b, &s.g, "--persistent --undefinesource --bandwidth 8");
    eprintln!("a->b {:?}", out.stderr);
    eprintln!("B: {}", s.b.ok(&format!("domjobinfo {} --completed", s.g.name)));
    let out = postcopy_migration(&s.b, &s.a, &s.g, "--persistent --undefinesource --bandwidth 8");
    eprintln!("b->a {:?}", out.stderr);
    eprintln!("A: {}", s.a.ok(&format!("domjobinfo {} --completed", s.g.name)));
}
