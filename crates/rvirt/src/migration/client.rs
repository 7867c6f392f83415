//! `virDomainMigrate*` / `virDomainMigrateToURI*`: the application-facing
//! calls, which pick a protocol from the drivers' features and drive the
//! phases (libvirt's src/libvirt-domain.c).
