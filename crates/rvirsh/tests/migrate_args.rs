//! `migrate`'s options become what virsh 9.0's doMigrate passes to
//! virDomainMigrate3 / virDomainMigrateToURI3: each flag option its
//! `VIR_MIGRATE_*` bit, each value option its `VIR_MIGRATE_PARAM_*` name
//! with libvirt's type, in virsh's order; and virsh's refusals, word for
//! word. No hypervisor is involved.

use rvirsh::commands::{find, migrate};
use rvirsh::parse::{bind, ParsedCommand};
use rvirsh::watch::TimeoutAction;
use rvirt::migration::{flags, params, PARAM_TYPES};
use rvirt_util::TypedParamValue as V;
use std::time::Duration;

fn parse(args: &str) -> ParsedCommand {
    try_parse(args).unwrap_or_else(|e| panic!("`migrate {args}`: {e}"))
}

fn try_parse(args: &str) -> Result<ParsedCommand, String> {
    let tokens: Vec<String> = args.split_whitespace().map(String::from).collect();
    bind(find("migrate").expect("migrate command"), &tokens)
}

fn own_error(r: Result<impl std::fmt::Debug, rvirsh::shell::CmdError>) -> String {
    r.expect_err("expected an error")
        .own
        .expect("virsh's own words")
}

/// For each (options, words) case, `check` refuses `migrate dom uri
/// OPTIONS` in virsh's own words.
fn assert_refusals<T: std::fmt::Debug>(
    check: impl Fn(&ParsedCommand) -> Result<T, rvirsh::shell::CmdError>,
    cases: &[(&str, &str)],
) {
    for (opts, want) in cases {
        let c = parse(&format!("dom uri {opts}"));
        assert_eq!(own_error(check(&c)), *want, "`{opts}`");
    }
}

#[test]
fn every_flag_option_sets_its_bit() {
    let cases: &[(&str, u32)] = &[
        ("--live", flags::LIVE),
        ("--p2p", flags::PEER2PEER),
        ("--tunnelled", flags::TUNNELLED),
        ("--tunneled", flags::TUNNELLED),
        ("--persistent", flags::PERSIST_DEST),
        ("--undefinesource", flags::UNDEFINE_SOURCE),
        ("--suspend", flags::PAUSED),
        ("--copy-storage-all", flags::NON_SHARED_DISK),
        ("--copy-storage-inc", flags::NON_SHARED_INC),
        ("--change-protection", flags::CHANGE_PROTECTION),
        ("--unsafe", flags::UNSAFE),
        ("--offline", flags::OFFLINE),
        ("--compressed", flags::COMPRESSED),
        ("--abort-on-error", flags::ABORT_ON_ERROR),
        ("--auto-converge", flags::AUTO_CONVERGE),
        ("--rdma-pin-all", flags::RDMA_PIN_ALL),
        ("--postcopy", flags::POSTCOPY),
        ("--tls", flags::TLS),
        ("--parallel", flags::PARALLEL),
        ("--zerocopy", flags::ZEROCOPY),
        (
            "--postcopy-resume --postcopy",
            flags::POSTCOPY_RESUME | flags::POSTCOPY,
        ),
        (
            "--copy-storage-all --copy-storage-synchronous-writes",
            flags::NON_SHARED_DISK | flags::NON_SHARED_SYNCHRONOUS_WRITES,
        ),
        // Options that select a mode or a watcher action carry no bit.
        ("--direct", 0),
        ("--verbose", 0),
        ("--live --timeout 5 --timeout-suspend", flags::LIVE),
    ];
    for (opts, want) in cases {
        let c = parse(&format!("dom qemu+ssh://dst/system {opts}"));
        assert_eq!(
            migrate::build_flags(&c).unwrap(),
            *want,
            "flags for `{opts}`"
        );
    }
    let all = parse(
        "dom uri --live --p2p --tunnelled --persistent --undefinesource --suspend \
         --copy-storage-all --change-protection --unsafe --compressed --auto-converge \
         --rdma-pin-all --abort-on-error --postcopy --tls --parallel",
    );
    assert_eq!(migrate::build_flags(&all).unwrap(), 0x3_fb7f);
}

#[test]
fn value_options_become_typed_params_in_virsh_order() {
    let dir = std::env::temp_dir().join(format!("rvirsh-migargs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let xml = dir.join("dest.xml");
    let pxml = dir.join("persist.xml");
    std::fs::write(&xml, "<domain type='test'/>").unwrap();
    std::fs::write(&pxml, "<domain type='kvm'/>").unwrap();
    // Given in an order unlike virsh's, to show the output follows virsh.
    let c = parse(&format!(
        "dom test+tcp://dst/default --tls-destination dst.example --tls --bandwidth 100 \
         --parallel-connections 4 --postcopy-bandwidth 200 --auto-converge-increment 10 \
         --auto-converge-initial 20 --persistent-xml {} --persistent --xml {} \
         --comp-xbzrle-cache 65536 --comp-mt-dthreads 2 --comp-mt-threads 3 --comp-mt-level 9 \
         --comp-methods mt,xbzrle --migrate-disks vda,vdb --dname renamed \
         --disks-uri nbd://dst:1 --disks-port 49153 --listen-address 0.0.0.0 \
         --graphicsuri spice://dst --migrateuri tcp://dst:49152",
        pxml.display(),
        xml.display()
    ));
    let p = migrate::build_params(&c).unwrap();
    let got: Vec<(&str, &V)> = p.iter().map(|p| (p.field.as_str(), &p.value)).collect();
    let s = |v: &str| V::String(v.into());
    let want: Vec<(&str, V)> = vec![
        (params::URI, s("tcp://dst:49152")),
        (params::GRAPHICS_URI, s("spice://dst")),
        (params::LISTEN_ADDRESS, s("0.0.0.0")),
        (params::DISKS_PORT, V::Int(49153)),
        (params::DISKS_URI, s("nbd://dst:1")),
        (params::DEST_NAME, s("renamed")),
        (params::MIGRATE_DISKS, s("vda")),
        (params::MIGRATE_DISKS, s("vdb")),
        (params::COMPRESSION, s("mt")),
        (params::COMPRESSION, s("xbzrle")),
        (params::COMPRESSION_MT_LEVEL, V::Int(9)),
        (params::COMPRESSION_MT_THREADS, V::Int(3)),
        (params::COMPRESSION_MT_DTHREADS, V::Int(2)),
        (params::COMPRESSION_XBZRLE_CACHE, V::ULLong(65536)),
        (params::DEST_XML, s("<domain type='test'/>")),
        (params::PERSIST_XML, s("<domain type='kvm'/>")),
        (params::AUTO_CONVERGE_INITIAL, V::Int(20)),
        (params::AUTO_CONVERGE_INCREMENT, V::Int(10)),
        (params::BANDWIDTH_POSTCOPY, V::ULLong(200)),
        (params::PARALLEL_CONNECTIONS, V::Int(4)),
        (params::BANDWIDTH, V::ULLong(100)),
        (params::TLS_DESTINATION, s("dst.example")),
    ];
    let want: Vec<(&str, &V)> = want.iter().map(|(n, v)| (*n, v)).collect();
    assert_eq!(got, want);
    // Every name and type is one the public API accepts.
    p.validate(PARAM_TYPES).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn virsh_drops_a_zero_disks_port_but_keeps_other_zeros() {
    let c = parse("dom uri --disks-port 0 --comp-mt-level 0 --bandwidth 0");
    let p = migrate::build_params(&c).unwrap();
    assert_eq!(p.get(params::DISKS_PORT), None);
    assert_eq!(p.get(params::COMPRESSION_MT_LEVEL), Some(&V::Int(0)));
    assert_eq!(p.get(params::BANDWIDTH), Some(&V::ULLong(0)));
    assert!(migrate::build_params(&parse("dom uri")).unwrap().is_empty());
}

#[test]
fn bare_words_fill_desturi_then_migrateuri_and_on() {
    let c = parse("dom qemu+tcp://dst/system tcp://dst:4444 spice://g 0.0.0.0 newname");
    assert_eq!(c.get("desturi"), Some("qemu+tcp://dst/system"));
    let p = migrate::build_params(&c).unwrap();
    assert_eq!(p.get_string(params::URI), Some("tcp://dst:4444"));
    assert_eq!(p.get_string(params::GRAPHICS_URI), Some("spice://g"));
    assert_eq!(p.get_string(params::LISTEN_ADDRESS), Some("0.0.0.0"));
    assert_eq!(p.get_string(params::DEST_NAME), Some("newname"));
}

#[test]
fn mode_selects_the_api() {
    assert!(migrate::uses_to_uri(&parse("dom uri --p2p")));
    assert!(migrate::uses_to_uri(&parse("dom uri --direct")));
    assert!(!migrate::uses_to_uri(&parse("dom uri --live")));
}

#[test]
fn parser_errors_are_virshs() {
    let cases = [
        (
            "",
            "command 'migrate' requires <domain> option\nerror: command 'migrate' requires <desturi> option",
        ),
        ("dom uri --tunneled --tunnelled", "option --tunnelled already seen"),
        ("dom uri --timeout", "expected syntax: --timeout <number>"),
        ("dom uri --xml", "expected syntax: --xml <string>"),
        ("dom uri --live=1", "invalid '=' after option --live"),
        ("dom uri --nosuch", "command 'migrate' doesn't support option --nosuch"),
    ];
    for (args, error) in cases {
        assert_eq!(try_parse(args).err().unwrap(), error, "{args}");
    }
}

#[test]
fn exclusive_and_required_options_are_refused_as_virsh_does() {
    let cases = [
        (
            "--live --offline",
            "Options --live and --offline are mutually exclusive",
        ),
        (
            "--timeout-suspend --timeout-postcopy --postcopy",
            "Options --timeout-suspend and --timeout-postcopy are mutually exclusive",
        ),
        (
            "--postcopy-after-precopy",
            "Option --postcopy is required by option --postcopy-after-precopy",
        ),
        (
            "--postcopy-resume",
            "Option --postcopy is required by option --postcopy-resume",
        ),
        (
            "--timeout-postcopy",
            "Option --postcopy is required by option --timeout-postcopy",
        ),
        (
            "--persistent-xml f",
            "Option --persistent is required by option --persistent-xml",
        ),
        (
            "--tls-destination h",
            "Option --tls is required by option --tls-destination",
        ),
    ];
    assert_refusals(migrate::check_options, &cases);
    assert!(
        migrate::check_options(&parse("dom uri --live --postcopy --postcopy-after-precopy"))
            .is_ok()
    );
}

#[test]
fn timeout_needs_live_and_an_action_needs_a_timeout() {
    let refused = [
        (
            "--timeout 5",
            "migrate: Unexpected timeout for offline migration",
        ),
        (
            "--live --timeout-suspend",
            "migrate: Unexpected --timeout-* option without --timeout",
        ),
        (
            "--live --timeout -1",
            "Numeric value '-1' for <timeout> option is malformed or out of range",
        ),
    ];
    assert_refusals(migrate::timeout, &refused);
    let accepted = [
        ("", None),
        ("--timeout 0", None),
        (
            "--live --timeout 7",
            Some((Duration::from_secs(7), TimeoutAction::Suspend)),
        ),
        (
            "--live --timeout 3 --timeout-postcopy --postcopy",
            Some((Duration::from_secs(3), TimeoutAction::Postcopy)),
        ),
    ];
    for (opts, want) in accepted {
        let c = parse(&format!("dom uri {opts}"));
        assert_eq!(migrate::timeout(&c).unwrap(), want, "`{opts}`");
    }
}

#[test]
fn bad_values_get_virshs_words() {
    let cases = [
        ("--bandwidth -1", "Numeric value '-1' for <bandwidth> option is malformed or out of range"),
        ("--bandwidth abc", "Numeric value 'abc' for <bandwidth> option is malformed or out of range"),
        ("--bandwidth 18446744073709551616", "Numeric value '18446744073709551616' for <bandwidth> option is malformed or out of range"),
        ("--postcopy-bandwidth 1x", "Numeric value '1x' for <postcopy-bandwidth> option is malformed or out of range"),
        ("--disks-port 2147483648", "Numeric value '2147483648' for <disks-port> option is malformed or out of range"),
        ("--comp-mt-level z", "Numeric value 'z' for <comp-mt-level> option is malformed or out of range"),
        ("--comp-xbzrle-cache -5", "Numeric value '-5' for <comp-xbzrle-cache> option is malformed or out of range"),
        ("--migrateuri=", "Failed to get option 'migrateuri': Option argument is empty"),
        ("--migrate-disks=", "Failed to get option 'migrate-disks': Option argument is empty"),
        ("--xml /nonexistent/rvirsh.xml", "cannot read file '/nonexistent/rvirsh.xml'"),
    ];
    assert_refusals(migrate::build_params, &cases);
    // The file error carries libvirt's own line too, as virsh prints it.
    let e = migrate::build_params(&parse("dom uri --xml /nonexistent/rvirsh.xml")).unwrap_err();
    assert_eq!(
        e.libvirt.expect("libvirt error").message,
        "Failed to open file '/nonexistent/rvirsh.xml': No such file or directory"
    );
    assert_eq!(
        own_error(migrate::build_flags(&parse("dom uri --copy-storage-synchronous-writes"))),
        "'--copy-storage-synchronous-writes' requires one of '--copy-storage-all', 'copy-storage-inc'"
    );
}
