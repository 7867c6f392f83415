//! `<rule>` (`virNWFilterRuleDef`): action, direction, priority,
//! statematch and one protocol element whose attributes are kept in its
//! table's order, parsed by `virNWFilterRuleParse` and written by
//! `virNWFilterRuleDefFormat`.

use super::attrs::{Attr, Protocol, PROTOCOLS};
use super::value::{parse_item, Data, Item, Value};
use super::{err, internal};
use crate::xml::Element;
use rvirt_util::{ErrorCode, Result};

/// `virNWFilterRuleAction`.
const ACTIONS: [&str; 5] = ["drop", "accept", "reject", "return", "continue"];
/// `virNWFilterRuleDirection`.
const DIRECTIONS: [&str; 3] = ["in", "out", "inout"];
const MIN_PRIORITY: i32 = -1000;
const MAX_PRIORITY: i32 = 1000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleDef {
    /// Index in `drop accept reject return continue`.
    pub action: usize,
    /// Index in `in out inout`.
    pub direction: usize,
    pub priority: i32,
    /// `statematch='false'` (`RULE_FLAG_NO_STATEMATCH`).
    pub no_statematch: bool,
    /// The protocol element and its attributes by table position.
    pub protocol: Option<ProtocolMatch>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolMatch {
    pub protocol: Protocol,
    /// One slot per attribute of the protocol's table.
    pub items: Vec<Option<Item>>,
}

/// `virStrToLong_i`: blanks, a sign, decimal digits, nothing after.
pub(super) fn parse_i32(s: &str) -> Option<i32> {
    let t = s.trim_start();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<i64>().ok().and_then(|v| i32::try_from(v).ok())
}

impl ProtocolMatch {
    fn table(&self) -> (&'static str, &'static [Attr]) {
        self.protocol.entry()
    }

    /// The slot of an attribute; `None` for one the table lacks (the
    /// `ip`/`ipv6` tables have no ipset, whose fixup then changes nothing).
    fn index(&self, name: &str) -> Option<usize> {
        self.table().1.iter().position(|a| a.name == name)
    }

    fn get(&self, name: &str) -> Option<&Item> {
        self.index(name).and_then(|i| self.items[i].as_ref())
    }

    /// `virNWFilterRuleDetailsParse`: every attribute of the table the
    /// element has; `match='no'` negates them all.
    fn parse_details(&mut self, e: &Element) -> Result<()> {
        let neg = e.attr("match") == Some("no");
        let table = self.table().1;
        let mut failed = None;
        for (i, attr) in table.iter().enumerate() {
            let Some(text) = e.attr(attr.name) else {
                continue;
            };
            match parse_item(attr, text) {
                Some(data) => self.items[i] = Some(Item { neg, data }),
                None => {
                    self.items[i] = None;
                    failed = Some(internal(format!("{} has illegal value {text}", attr.name)));
                }
            }
        }
        failed.map_or(Ok(()), Err)
    }

    /// `virNWFilterRuleValidate`: ports on `ip`/`ipv6` need a protocol
    /// with ports.
    fn validate(&self) -> Result<()> {
        let label = match self.protocol {
            Protocol::Ip => "IP",
            Protocol::Ipv6 => "IPv6",
            _ => return Ok(()),
        };
        let ports = ["srcportstart", "dstportstart", "srcportend", "dstportend"];
        if !ports.iter().any(|p| self.get(p).is_some()) {
            return Ok(());
        }
        let proto = match self.get("protocol").map(|i| &i.data) {
            Some(Data::Value(Value::Num { v, .. })) => Some(*v),
            Some(_) => Some(0),
            None => None,
        };
        if matches!(proto, Some(6 | 17 | 33 | 132)) {
            return Ok(());
        }
        Err(internal(format!(
            "{label} rule with port specification requires protocol specification \
             with protocol to be either one of tcp(6), udp(17), dccp(33), or sctp(132)"
        )))
    }

    /// `virNWFilterRuleDefFixup`.
    fn fixup(&mut self) {
        let (copies, ipset) = self.protocol.neg_copies();
        for (target, source) in copies {
            let neg = self.get(source).is_some_and(|i| i.neg);
            let t = self.index(target);
            if let Some(item) = t.and_then(|t| self.items[t].as_mut()) {
                item.neg = neg;
            }
        }
        if let (true, Some(set), Some(flags)) =
            (ipset, self.index("ipset"), self.index("ipsetflags"))
        {
            if self.items[set].is_some() && self.items[flags].is_none() {
                self.items[flags] = Some(Item {
                    neg: false,
                    data: Data::Value(Value::IpSetFlags { num: 1, flags: 1 }),
                });
            } else {
                self.items[set] = None;
                self.items[flags] = None;
            }
        }
    }

    /// `virNWFilterRuleDefDetailsFormat`: the attributes in table order,
    /// a new element begun whenever the negation changes.
    fn format(&self, out: &mut Vec<String>) {
        let (name, table) = self.table();
        let mut line: Option<String> = None;
        let mut shown_neg: Option<bool> = None;
        let mut i = 0;
        while i < table.len() {
            let Some(item) = &self.items[i] else {
                i += 1;
                continue;
            };
            let cur = line.get_or_insert_with(|| format!("<{name}"));
            match shown_neg {
                None => {
                    if item.neg {
                        cur.push_str(" match='no'");
                    }
                    shown_neg = Some(item.neg);
                }
                Some(n) if n != item.neg => {
                    // The element so far is closed and this attribute
                    // begins the next one.
                    out.push(format!("{}/>", line.take().unwrap_or_default()));
                    shown_neg = None;
                    continue;
                }
                Some(_) => {}
            }
            let text = match &item.data {
                Data::Var(v) => format!("${}", v.format()),
                Data::Value(v) => v.format(table[i].special),
            };
            cur.push_str(&format!(" {}='{text}'", table[i].name));
            i += 1;
        }
        match line {
            Some(l) => out.push(format!("{l}/>")),
            None if out.is_empty() => out.push(format!("<{name}/>")),
            None => {}
        }
    }
}

impl RuleDef {
    /// `virNWFilterRuleParse`.
    pub(super) fn parse(e: &Element) -> Result<RuleDef> {
        let Some(action) = e.attr("action") else {
            return Err(internal("rule node requires action attribute".into()));
        };
        let action = ACTIONS.iter().position(|a| *a == action).ok_or_else(|| {
            err(
                ErrorCode::CONFIG_UNSUPPORTED,
                "unknown rule action attribute value",
            )
        })?;
        let Some(direction) = e.attr("direction") else {
            return Err(internal("rule node requires direction attribute".into()));
        };
        let direction = DIRECTIONS
            .iter()
            .position(|d| *d == direction)
            .ok_or_else(|| {
                err(
                    ErrorCode::CONFIG_UNSUPPORTED,
                    "unknown rule direction attribute value",
                )
            })?;
        let priority = e
            .attr("priority")
            .and_then(parse_i32)
            .filter(|p| (MIN_PRIORITY..=MAX_PRIORITY).contains(p))
            .unwrap_or(MAX_PRIORITY / 2);
        let no_statematch = e
            .attr("statematch")
            .is_some_and(|s| s == "0" || s.eq_ignore_ascii_case("false"));
        let mut protocol: Option<ProtocolMatch> = None;
        for child in e.elements() {
            let known = match &protocol {
                Some(p) => (p.table().0 == child.name).then_some(p.protocol),
                None => PROTOCOLS
                    .iter()
                    .find(|(n, _, _)| *n == child.name)
                    .map(|(_, p, _)| *p),
            };
            let Some(proto) = known else { continue };
            let m = protocol.get_or_insert_with(|| ProtocolMatch {
                protocol: proto,
                items: vec![None; proto.entry().1.len()],
            });
            m.parse_details(child)?;
            m.validate()?;
        }
        if let Some(m) = &mut protocol {
            m.fixup();
        }
        Ok(RuleDef {
            action,
            direction,
            priority,
            no_statematch,
            protocol,
        })
    }

    /// `virNWFilterRuleDefFormat`: the lines of the rule, unindented.
    pub(super) fn format(&self, w: &mut crate::xml::Writer) {
        let mut head = format!(
            "<rule action='{}' direction='{}' priority='{}'",
            ACTIONS[self.action], DIRECTIONS[self.direction], self.priority
        );
        if self.no_statematch {
            head.push_str(" statematch='false'");
        }
        let Some(m) = &self.protocol else {
            w.line(&format!("{head}/>"));
            return;
        };
        w.line(&format!("{head}>"));
        w.indent();
        let mut lines = Vec::new();
        m.format(&mut lines);
        for l in &lines {
            w.line(l);
        }
        w.dedent();
        w.line("</rule>");
    }
}
