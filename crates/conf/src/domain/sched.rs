//! `<cputune>`'s thread schedulers (`<vcpusched>`, `<iothreadsched>`,
//! `<emulatorsched>`): parsed as `virDomainThreadSchedParseHelper` and
//! `virDomainEmulatorSchedParse`, formatted one thread per element as
//! `virDomainSchedulerFormat`.

use super::iothreads::IoThreads;
use super::props::{self, vir_enum, VirEnum};
use super::{internal_xml, unsupported};
use crate::xml::{Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

vir_enum! {
    /// `virProcessSchedPolicy` without its unset `none`.
    pub enum SchedPolicy { Batch = "batch", Idle = "idle", Fifo = "fifo", Rr = "rr" }
}

/// A thread's scheduler; the priority only for the real-time policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadSched {
    pub policy: SchedPolicy,
    pub priority: Option<i32>,
}

/// The schedulers of `<cputune>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedulers {
    pub emulator: Option<ThreadSched>,
    /// (vCPU, scheduler), by vCPU.
    pub vcpus: Vec<(u32, ThreadSched)>,
    /// (IOThread ID, scheduler), in the order of the IOThread IDs.
    pub iothreads: Vec<(u32, ThreadSched)>,
}

fn parse_policy(e: &Element) -> Result<ThreadSched> {
    let policy = props::enumeration(e, "scheduler", true)?.unwrap_or(SchedPolicy::Batch);
    let priority = match policy {
        SchedPolicy::Fifo | SchedPolicy::Rr => match props::int(e, "priority")? {
            Some(p) => Some(p),
            None => return Err(props::missing(e, "priority")),
        },
        SchedPolicy::Batch | SchedPolicy::Idle => None,
    };
    Ok(ThreadSched { policy, priority })
}

/// The threads an element's `attr` bitmap names, then its scheduler.
fn parse_threads(e: &Element, attr: &str) -> Result<(Vec<u32>, ThreadSched)> {
    let Some(set) = e.attr(attr) else {
        return Err(internal_xml(format!(
            "Missing attribute '{attr}' in element '{}'",
            e.name
        )));
    };
    let ids = props::bitmap(set)?;
    if ids.is_empty() {
        return Err(unsupported(format!(
            "'{attr}' scheduler bitmap '{set}' is empty"
        )));
    }
    Ok((ids, parse_policy(e)?))
}

fn add_each(
    list: &mut Vec<(u32, ThreadSched)>,
    e: &Element,
    attr: &str,
    exists: impl Fn(u32) -> Result<()>,
) -> Result<()> {
    let (ids, sched) = parse_threads(e, attr)?;
    for id in ids {
        exists(id)?;
        if list.iter().any(|(t, _)| *t == id) {
            return Err(Error::new(
                ErrorDomain::DOMAIN,
                ErrorCode::XML_DETAIL,
                format!("'{}' attributes '{attr}' must not overlap", e.name),
            ));
        }
        list.push((id, sched));
    }
    Ok(())
}

impl Schedulers {
    pub(crate) fn parse(c: &Element, max_vcpus: u32, iothreads: &IoThreads) -> Result<Schedulers> {
        let mut s = Schedulers::default();
        for e in c.children_named("vcpusched") {
            add_each(&mut s.vcpus, e, "vcpus", |v| {
                if v < max_vcpus {
                    return Ok(());
                }
                Err(unsupported(format!(
                    "vCPU '{v}' is not present in domain definition"
                )))
            })?;
        }
        for e in c.children_named("iothreadsched") {
            add_each(&mut s.iothreads, e, "iothreads", |id| {
                if iothreads.ids.iter().any(|t| t.id == id) {
                    return Ok(());
                }
                Err(unsupported(format!("Cannot find 'iothread' : {id}")))
            })?;
        }
        let mut emulators = c.children_named("emulatorsched");
        if let Some(e) = emulators.next() {
            if emulators.next().is_some() {
                return Err(internal_xml("only one emulatorsched is supported"));
            }
            s.emulator = Some(parse_policy(e)?);
        }
        s.vcpus.sort_by_key(|(v, _)| *v);
        let position = |id: u32| iothreads.ids.iter().position(|t| t.id == id);
        s.iothreads.sort_by_key(|(id, _)| position(*id));
        Ok(s)
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        if let Some(s) = self.emulator {
            format_one(w, "emulator", None, s);
        }
        for (v, s) in &self.vcpus {
            format_one(w, "vcpu", Some(*v), *s);
        }
        for (id, s) in &self.iothreads {
            format_one(w, "iothread", Some(*id), *s);
        }
    }
}

fn format_one(w: &mut Writer, name: &str, id: Option<u32>, s: ThreadSched) {
    let ids = id.map(|i| format!(" {name}s='{i}'")).unwrap_or_default();
    let priority = s
        .priority
        .map(|p| format!(" priority='{p}'"))
        .unwrap_or_default();
    w.line(&format!(
        "<{name}sched{ids} scheduler='{}'{priority}/>",
        s.policy.as_str()
    ));
}
