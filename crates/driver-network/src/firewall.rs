//! A network's iptables rules as libvirt 9.0 installs them
//! (src/network/bridge_driver_linux.c over src/util/viriptables.c): the
//! private chains `LIBVIRT_INP/OUT/FWO/FWI/FWX` (filter) and `LIBVIRT_PRT`
//! (nat, mangle) hooked once into the built-in chains, then per network
//! the DHCP/DNS/TFTP input and output rules, the reject/cross rules, the
//! masquerade or routing rules per address, and the DHCP checksum fix.

use rvirt_conf::domain::interface::SockAddr;
use rvirt_conf::domain::props::TriBool;
use rvirt_conf::network::{ForwardMode, NetworkDef, NetworkIp};
use rvirt_util::{Error, ErrorDomain, Result};
use std::net::IpAddr;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    V4,
    V6,
}

impl Layer {
    pub fn binary(self) -> &'static str {
        match self {
            Layer::V4 => "iptables",
            Layer::V6 => "ip6tables",
        }
    }
}

/// One iptables command (after `iptables -w`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub layer: Layer,
    pub args: Vec<String>,
}

/// Insert or delete.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Insert,
    Delete,
}

struct Rules {
    action: Action,
    list: Vec<Rule>,
}

impl Rules {
    fn new(action: Action) -> Rules {
        Rules {
            action,
            list: Vec::new(),
        }
    }

    /// `--table TABLE --insert|--delete CHAIN` then `rest`.
    fn push(&mut self, layer: Layer, table: &str, chain: &str, rest: &[&str]) {
        let verb = match self.action {
            Action::Insert => "--insert",
            Action::Delete => "--delete",
        };
        let mut args: Vec<String> = ["--table", table, verb, chain]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(rest.iter().map(|s| s.to_string()));
        self.list.push(Rule { layer, args });
    }

    /// `iptablesInput` / `iptablesOutput`.
    fn port(&mut self, layer: Layer, input: bool, iface: &str, tcp: bool, port: u16) {
        let (chain, dir) = if input {
            ("LIBVIRT_INP", "--in-interface")
        } else {
            ("LIBVIRT_OUT", "--out-interface")
        };
        let proto = if tcp { "tcp" } else { "udp" };
        let port = port.to_string();
        self.push(
            layer,
            "filter",
            chain,
            &[
                dir,
                iface,
                "--protocol",
                proto,
                "--destination-port",
                &port,
                "--jump",
                "ACCEPT",
            ],
        );
    }

    /// `iptablesForwardRejectOut/In` and `iptablesForwardAllowCross`.
    fn reject_and_cross(&mut self, layer: Layer, bridge: &str, order: &[u8]) {
        for step in order {
            match step {
                0 => self.push(
                    layer,
                    "filter",
                    "LIBVIRT_FWO",
                    &["--in-interface", bridge, "--jump", "REJECT"],
                ),
                1 => self.push(
                    layer,
                    "filter",
                    "LIBVIRT_FWI",
                    &["--out-interface", bridge, "--jump", "REJECT"],
                ),
                _ => self.push(
                    layer,
                    "filter",
                    "LIBVIRT_FWX",
                    &[
                        "--in-interface",
                        bridge,
                        "--out-interface",
                        bridge,
                        "--jump",
                        "ACCEPT",
                    ],
                ),
            }
        }
    }
}

fn layer_of(ip: &SockAddr) -> Layer {
    if ip.ip.is_ipv4() {
        Layer::V4
    } else {
        Layer::V6
    }
}

/// `virSocketAddrFormatWithPrefix(masked)`: "192.168.122.0/24".
fn network_str(ip: &NetworkIp) -> Result<String> {
    let prefix = ip.prefix();
    if prefix < 0 {
        return Err(Error::internal(
            ErrorDomain::NETWORK,
            "Invalid prefix or netmask",
        ));
    }
    let p = prefix as u32;
    let masked: IpAddr = match ip.address.ip {
        IpAddr::V4(a) => {
            let m = u32::MAX.checked_shl(32 - p.min(32)).unwrap_or(0);
            IpAddr::V4((u32::from(a) & m).into())
        }
        IpAddr::V6(a) => {
            let m = u128::MAX.checked_shl(128 - p.min(128)).unwrap_or(0);
            IpAddr::V6((u128::from(a) & m).into())
        }
    };
    Ok(format!("{masked}/{p}"))
}

fn bridge(def: &NetworkDef) -> &str {
    def.bridge.as_deref().unwrap_or_default()
}

/// The first IPv4 address serving DHCP (and, with `tftp`, TFTP).
fn dhcp_v4(def: &NetworkDef, tftp: bool) -> Option<&NetworkIp> {
    def.ips.iter().filter(|ip| ip.is_v4()).find(|ip| {
        !ip.ranges.is_empty() || !ip.hosts.is_empty() || (tftp && ip.tftp_root.is_some())
    })
}

/// `networkAddGeneralIPv4FirewallRules` / its removal (reverse order).
fn general_v4(r: &mut Rules, def: &NetworkDef) {
    let br = bridge(def);
    let tftp = dhcp_v4(def, true).is_some_and(|ip| ip.tftp_root.is_some());
    if r.action == Action::Insert {
        for (input, tcp, port) in [
            (true, true, 67),
            (true, false, 67),
            (false, true, 68),
            (false, false, 68),
            (true, true, 53),
            (true, false, 53),
            (false, true, 53),
            (false, false, 53),
        ] {
            r.port(Layer::V4, input, br, tcp, port);
        }
        if tftp {
            r.port(Layer::V4, true, br, false, 69);
            r.port(Layer::V4, false, br, false, 69);
        }
        r.reject_and_cross(Layer::V4, br, &[0, 1, 2]);
    } else {
        r.reject_and_cross(Layer::V4, br, &[2, 1, 0]);
        if tftp {
            r.port(Layer::V4, true, br, false, 69);
            r.port(Layer::V4, false, br, false, 69);
        }
        for (input, tcp, port) in [
            (true, false, 53),
            (true, true, 53),
            (false, false, 53),
            (false, true, 53),
            (false, false, 68),
            (false, true, 68),
            (true, false, 67),
            (true, true, 67),
        ] {
            r.port(Layer::V4, input, br, tcp, port);
        }
    }
}

/// `networkAddGeneralIPv6FirewallRules` / its removal.
fn general_v6(r: &mut Rules, def: &NetworkDef) {
    let has_v6 = def.ips.iter().any(|ip| !ip.is_v4());
    if !has_v6 && !def.ipv6_no_gateway {
        return;
    }
    let br = bridge(def);
    let services = [
        (true, true, 53),
        (true, false, 53),
        (false, true, 53),
        (false, false, 53),
        (true, false, 547),
        (false, false, 546),
    ];
    if r.action == Action::Insert {
        r.reject_and_cross(Layer::V6, br, &[0, 1, 2]);
        if has_v6 {
            for (input, tcp, port) in services {
                r.port(Layer::V6, input, br, tcp, port);
            }
        }
    } else {
        if has_v6 {
            for (input, tcp, port) in [
                (false, false, 546),
                (true, false, 547),
                (false, false, 53),
                (false, true, 53),
                (true, false, 53),
                (true, true, 53),
            ] {
                r.port(Layer::V6, input, br, tcp, port);
            }
        }
        r.reject_and_cross(Layer::V6, br, &[2, 1, 0]);
    }
}

/// `iptablesForwardAllowOut`, `...AllowRelatedIn` (`related`) and
/// `...AllowIn`.
fn forward_rule(r: &mut Rules, def: &NetworkDef, ip: &NetworkIp, kind: u8) -> Result<()> {
    let net = network_str(ip)?;
    let layer = layer_of(&ip.address);
    let br = bridge(def);
    let physdev = def.forward.netdevs().next();
    let mut args: Vec<&str> = Vec::new();
    let chain = if kind == 0 {
        args.extend(["--source", net.as_str(), "--in-interface", br]);
        if let Some(p) = physdev {
            args.extend(["--out-interface", p]);
        }
        "LIBVIRT_FWO"
    } else {
        args.extend(["--destination", net.as_str()]);
        if let Some(p) = physdev {
            args.extend(["--in-interface", p]);
        }
        args.extend(["--out-interface", br]);
        if kind == 1 {
            args.extend(["--match", "conntrack", "--ctstate", "ESTABLISHED,RELATED"]);
        }
        "LIBVIRT_FWI"
    };
    args.extend(["--jump", "ACCEPT"]);
    r.push(layer, "filter", chain, &args);
    Ok(())
}

/// `iptablesForwardMasquerade` for `proto` (none, "udp", "tcp").
fn masquerade(r: &mut Rules, def: &NetworkDef, ip: &NetworkIp, proto: Option<&str>) -> Result<()> {
    let net = network_str(ip)?;
    let layer = layer_of(&ip.address);
    let mut args: Vec<String> = vec!["--source".into(), net.clone()];
    if let Some(p) = proto {
        args.extend(["-p".into(), p.into()]);
    }
    args.extend(["!".into(), "--destination".into(), net]);
    if let Some(dev) = def.forward.netdevs().next() {
        args.extend(["--out-interface".into(), dev.into()]);
    }
    let mut ports = None;
    if proto.is_some() {
        let (mut start, mut end) = def.forward.nat_port;
        if start == 0 && end == 0 {
            (start, end) = (1024, 65535);
        }
        if !(start < end && end < 65536) {
            return Err(Error::internal(
                ErrorDomain::NONE,
                format!("Invalid port range '{start}-{end}'."),
            ));
        }
        ports = Some(format!("{start}-{end}"));
    }
    let same_family = |a: &SockAddr| a.ip.is_ipv4() == ip.is_v4();
    match def
        .forward
        .nat_addr
        .as_ref()
        .filter(|(s, _)| same_family(s))
    {
        Some((start, end)) => {
            let mut range = start.to_string();
            if same_family(end) {
                range = format!("{range}-{end}");
            }
            if let Some(p) = &ports {
                range = format!("{range}:{p}");
            }
            args.extend(["--jump".into(), "SNAT".into(), "--to-source".into(), range]);
        }
        None => {
            args.extend(["--jump".into(), "MASQUERADE".into()]);
            if let Some(p) = ports {
                args.extend(["--to-ports".into(), p]);
            }
        }
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    r.push(layer, "nat", "LIBVIRT_PRT", &refs);
    Ok(())
}

/// `iptablesForwardDontMasquerade` towards `dest`.
fn dont_masquerade(r: &mut Rules, def: &NetworkDef, ip: &NetworkIp, dest: &str) -> Result<()> {
    let net = network_str(ip)?;
    let mut args: Vec<&str> = Vec::new();
    if let Some(dev) = def.forward.netdevs().next() {
        args.extend(["--out-interface", dev]);
    }
    args.extend([
        "--source",
        net.as_str(),
        "--destination",
        dest,
        "--jump",
        "RETURN",
    ]);
    r.push(layer_of(&ip.address), "nat", "LIBVIRT_PRT", &args);
    Ok(())
}

/// `networkAddMasqueradingFirewallRules` / its removal.
fn masquerading(r: &mut Rules, def: &NetworkDef, ip: &NetworkIp) -> Result<()> {
    let multicast = if ip.is_v4() {
        "224.0.0.0/24"
    } else {
        "ff02::/16"
    };
    let broadcast = "255.255.255.255/32";
    if r.action == Action::Insert {
        forward_rule(r, def, ip, 0)?;
        forward_rule(r, def, ip, 1)?;
        masquerade(r, def, ip, None)?;
        masquerade(r, def, ip, Some("udp"))?;
        masquerade(r, def, ip, Some("tcp"))?;
        if ip.is_v4() {
            dont_masquerade(r, def, ip, broadcast)?;
        }
        dont_masquerade(r, def, ip, multicast)
    } else {
        dont_masquerade(r, def, ip, multicast)?;
        if ip.is_v4() {
            dont_masquerade(r, def, ip, broadcast)?;
        }
        masquerade(r, def, ip, Some("tcp"))?;
        masquerade(r, def, ip, Some("udp"))?;
        masquerade(r, def, ip, None)?;
        forward_rule(r, def, ip, 1)?;
        forward_rule(r, def, ip, 0)
    }
}

/// `networkAddRoutingFirewallRules` / its removal.
fn routing(r: &mut Rules, def: &NetworkDef, ip: &NetworkIp) -> Result<()> {
    if r.action == Action::Insert {
        forward_rule(r, def, ip, 0)?;
        forward_rule(r, def, ip, 2)
    } else {
        forward_rule(r, def, ip, 2)?;
        forward_rule(r, def, ip, 0)
    }
}

/// `networkAddIPSpecificFirewallRules` / its removal.
fn ip_specific(r: &mut Rules, def: &NetworkDef, ip: &NetworkIp) -> Result<()> {
    match def.forward.mode {
        ForwardMode::Nat if ip.is_v4() || def.forward.nat_ipv6 == Some(TriBool::Yes) => {
            masquerading(r, def, ip)
        }
        ForwardMode::Nat | ForwardMode::Route => routing(r, def, ip),
        _ => Ok(()),
    }
}

/// `networkAddChecksumFirewallRules` / its removal.
fn checksum(r: &mut Rules, def: &NetworkDef) {
    if dhcp_v4(def, false).is_some() {
        let br = bridge(def);
        r.push(
            Layer::V4,
            "mangle",
            "LIBVIRT_PRT",
            &[
                "--out-interface",
                br,
                "--protocol",
                "udp",
                "--destination-port",
                "68",
                "--jump",
                "CHECKSUM",
                "--checksum-fill",
            ],
        );
    }
}

/// `iptablesForwardMasquerade` writes its default port range back into
/// the (live) definition it masquerades for: a running NAT network's XML
/// shows `<nat><port start='1024' end='65535'/></nat>`.
pub fn fill_default_nat_ports(def: &mut NetworkDef) {
    let masquerades = def.forward.mode == ForwardMode::Nat
        && def
            .ips
            .iter()
            .any(|ip| ip.is_v4() || def.forward.nat_ipv6 == Some(TriBool::Yes));
    if masquerades && def.forward.nat_port == (0, 0) {
        def.forward.nat_port = (1024, 65535);
    }
}

/// What `networkAddFirewallRules` runs: the rules that must all apply,
/// their rollback, and the checksum rules whose failure is ignored.
pub struct AddPlan {
    pub rules: Vec<Rule>,
    pub rollback: Vec<Rule>,
    pub optional: Vec<Rule>,
}

pub fn add_plan(def: &NetworkDef) -> Result<AddPlan> {
    let mut add = Rules::new(Action::Insert);
    general_v4(&mut add, def);
    general_v6(&mut add, def);
    for ip in &def.ips {
        ip_specific(&mut add, def, ip)?;
    }
    let mut optional = Rules::new(Action::Insert);
    checksum(&mut optional, def);
    Ok(AddPlan {
        rules: add.list,
        rollback: remove_plan(def)
            .into_iter()
            .filter(|r| !r.args.iter().any(|a| a == "CHECKSUM"))
            .collect(),
        optional: optional.list,
    })
}

/// `networkRemoveFirewallRules`: every rule, errors ignored.
pub fn remove_plan(def: &NetworkDef) -> Vec<Rule> {
    let mut r = Rules::new(Action::Delete);
    checksum(&mut r, def);
    for ip in &def.ips {
        if ip_specific(&mut r, def, ip).is_err() {
            return r.list;
        }
    }
    general_v4(&mut r, def);
    general_v6(&mut r, def);
    r.list
}

/// A rule as libvirt's tests print a command (virCommandToString with
/// line breaks): an argument starting with '-' begins a line.
pub fn format_rule(rule: &Rule) -> String {
    let mut out = rule.layer.binary().to_string();
    for a in std::iter::once("-w").chain(rule.args.iter().map(String::as_str)) {
        let quoted = if a == "!" { "'!'" } else { a };
        out.push_str(if a.starts_with('-') { " \\\n" } else { " " });
        out.push_str(quoted);
    }
    out.push('\n');
    out
}

/// Run `iptables -w ARGS`; its stdout.
fn run(layer: Layer, args: &[String]) -> Result<String> {
    let out = std::process::Command::new(layer.binary())
        .arg("-w")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            Error::system(
                ErrorDomain::NONE,
                format!("Cannot run {}", layer.binary()),
                &e,
            )
        })?;
    if !out.status.success() {
        return Err(Error::internal(
            ErrorDomain::NONE,
            format!(
                "Failed to apply firewall rules {} -w {}: {}",
                layer.binary(),
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

const FILTER_CHAINS: [(&str, &str); 5] = [
    ("INPUT", "LIBVIRT_INP"),
    ("OUTPUT", "LIBVIRT_OUT"),
    ("FORWARD", "LIBVIRT_FWO"),
    ("FORWARD", "LIBVIRT_FWI"),
    ("FORWARD", "LIBVIRT_FWX"),
];

/// `iptablesSetupPrivateChains`: create each missing private chain and
/// hook it into its parent unless it already is.
fn setup_private_chains(layer: Layer) -> Result<()> {
    let tables: [(&str, &[(&str, &str)]); 3] = [
        ("filter", &FILTER_CHAINS),
        ("nat", &[("POSTROUTING", "LIBVIRT_PRT")]),
        ("mangle", &[("POSTROUTING", "LIBVIRT_PRT")]),
    ];
    for (table, chains) in tables {
        let listing = run(
            layer,
            &["--table".into(), table.into(), "--list-rules".into()],
        )?;
        for (parent, child) in chains {
            let created = listing.lines().any(|l| l == format!("-N {child}"));
            let hooked = listing
                .lines()
                .any(|l| l == format!("-A {parent} -j {child}"));
            let cmd = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            if !created {
                run(layer, &cmd(&["--table", table, "--new-chain", child]))?;
            }
            if !hooked {
                run(
                    layer,
                    &cmd(&["--table", table, "--insert", parent, "--jump", child]),
                )?;
            }
        }
    }
    Ok(())
}

/// The private chains of both layers, set up once per daemon; a layer
/// that failed fails only the networks that use it.
fn chains_ready(layer: Layer) -> Result<()> {
    static DONE: OnceLock<[std::result::Result<(), String>; 2]> = OnceLock::new();
    let done = DONE.get_or_init(|| {
        [Layer::V4, Layer::V6].map(|l| setup_private_chains(l).map_err(|e| e.message))
    });
    let i = if layer == Layer::V4 { 0 } else { 1 };
    done[i]
        .clone()
        .map_err(|m| Error::internal(ErrorDomain::NONE, m))
}

/// A firewalld zone cannot be honoured: rvirt talks to no firewalld,
/// which is libvirt's case when firewalld is not running.
fn refuse_zone(def: &NetworkDef) -> Result<()> {
    match &def.bridge_zone {
        Some(zone) => Err(Error::internal(
            ErrorDomain::NETWORK,
            format!(
                "zone {zone} requested for network {} but firewalld is not active",
                def.name
            ),
        )),
        None => Ok(()),
    }
}

/// `networkAddFirewallRules`: all or nothing, then the checksum fix.
pub fn apply(def: &NetworkDef) -> Result<()> {
    refuse_zone(def)?;
    let plan = add_plan(def)?;
    let uses = |l: Layer| plan.rules.iter().any(|r| r.layer == l);
    for layer in [Layer::V4, Layer::V6] {
        if uses(layer) {
            chains_ready(layer)?;
        }
    }
    for rule in &plan.rules {
        if let Err(e) = run(rule.layer, &rule.args) {
            for undo in &plan.rollback {
                let _ = run(undo.layer, &undo.args);
            }
            return Err(e);
        }
    }
    for rule in &plan.optional {
        let _ = run(rule.layer, &rule.args);
    }
    Ok(())
}

/// `networkRemoveFirewallRules`.
pub fn remove(def: &NetworkDef) {
    for rule in remove_plan(def) {
        let _ = run(rule.layer, &rule.args);
    }
}

#[cfg(test)]
#[path = "firewall_tests.rs"]
mod tests;
