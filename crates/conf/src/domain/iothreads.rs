//! `<iothreads>`, `<iothreadids>` and `<defaultiothread>` (libvirt's
//! `virDomainDefParseIOThreads`, `virDomainDefValidateIOThreads` and
//! `virDomainDefIOThreadsFormat`).

use super::{internal_xml, props, unsupported};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

/// Beyond this many IOThreads rvirt refuses the count: libvirt would try
/// to allocate one entry per thread and abort on a huge count.
const MAX_IOTHREADS: u32 = 65535;

/// One `<iothread>`; `autofill` marks an ID libvirt chose to make up the
/// `<iothreads>` count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoThread {
    pub id: u32,
    pub pool_min: Option<i32>,
    pub pool_max: Option<i32>,
    pub autofill: bool,
}

/// The domain's IOThreads: every ID (given first, then filled), and the
/// default thread's pool.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IoThreads {
    pub ids: Vec<IoThread>,
    /// `<defaultiothread>` (min, max); absent when neither is set.
    pub default_pool: Option<(Option<i32>, Option<i32>)>,
}

fn pool(e: &Element) -> Result<(Option<i32>, Option<i32>)> {
    Ok((
        props::int_nonneg(e, "thread_pool_min")?,
        props::int_nonneg(e, "thread_pool_max")?,
    ))
}

/// `virDomainDefValidateIOThreadsThreadPool`: an unset bound is -1 there,
/// so a minimum without a maximum is "greater" and refused, as in libvirt.
fn validate_pool((min, max): (Option<i32>, Option<i32>)) -> Result<()> {
    if max == Some(0) {
        return Err(unsupported("thread_pool_max must be a positive integer"));
    }
    if min.unwrap_or(-1) > max.unwrap_or(-1) {
        return Err(unsupported(
            "thread_pool_min must be smaller or equal to thread_pool_max",
        ));
    }
    Ok(())
}

impl IoThreads {
    pub(crate) fn parse(root: &Element) -> Result<IoThreads> {
        let mut count = match root.child("iothreads").map(|e| e.text()) {
            // virXPathString gives NULL for an empty string.
            None => 0,
            Some(t) if t.is_empty() => 0,
            Some(t) => t
                .trim_start()
                .parse::<u32>()
                .map_err(|_| internal_xml(format!("invalid iothreads count '{t}'")))?,
        };
        let default_pool = match root.child("defaultiothread") {
            Some(e) => Some(pool(e)?).filter(|p| *p != (None, None)),
            None => None,
        };
        let mut ids: Vec<IoThread> = Vec::new();
        let nodes = root.child("iothreadids");
        for e in nodes.iter().flat_map(|n| n.children_named("iothread")) {
            let id = props::uint(e, "id", true, true)?.unwrap_or(1);
            let (pool_min, pool_max) = pool(e)?;
            if ids.iter().any(|t| t.id == id) {
                return Err(internal_xml(format!("duplicate iothread id '{id}' found")));
            }
            ids.push(IoThread {
                id,
                pool_min,
                pool_max,
                autofill: false,
            });
        }
        count = count.max(ids.len() as u32);
        if count > MAX_IOTHREADS {
            return Err(unsupported(format!(
                "iothreads count {count} exceeds rvirt's limit of {MAX_IOTHREADS}"
            )));
        }
        // virDomainIOThreadIDDefArrayInit: fill with the lowest free IDs.
        let mut next = 1;
        while (ids.len() as u32) < count {
            while ids.iter().any(|t| t.id == next) {
                next += 1;
            }
            ids.push(IoThread {
                id: next,
                pool_min: None,
                pool_max: None,
                autofill: true,
            });
        }
        let t = IoThreads { ids, default_pool };
        t.validate()?;
        Ok(t)
    }

    fn validate(&self) -> Result<()> {
        for t in &self.ids {
            validate_pool((t.pool_min, t.pool_max))?;
        }
        self.default_pool.map_or(Ok(()), validate_pool)
    }

    /// The IDs are listed only when one was given or has a pool.
    pub(crate) fn format(&self, w: &mut Writer) {
        if !self.ids.is_empty() {
            w.line(&format!("<iothreads>{}</iothreads>", self.ids.len()));
        }
        let listed = self
            .ids
            .iter()
            .any(|t| !t.autofill || t.pool_min.is_some() || t.pool_max.is_some());
        if listed {
            w.block("iothreadids", "", |w| {
                for t in &self.ids {
                    let mut a = Attrs::new();
                    a.add("id", t.id);
                    a.opt("thread_pool_min", t.pool_min);
                    a.opt("thread_pool_max", t.pool_max);
                    w.line(&format!("<iothread{}/>", a.as_str()));
                }
            });
        }
        if let Some((min, max)) = self.default_pool {
            let mut a = Attrs::new();
            a.opt("thread_pool_min", min);
            a.opt("thread_pool_max", max);
            w.line(&format!("<defaultiothread{}/>", a.as_str()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_errors, dump_before_os as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn iothreads_as_virsh() {
        let out = dump(
            "<iothreads>3</iothreads><iothreadids><iothread id='5' thread_pool_min='3' \
             thread_pool_max='4'/></iothreadids><defaultiothread thread_pool_max='2'/>",
        )
        .unwrap();
        assert!(out.contains(
            "  <iothreads>3</iothreads>\n  <iothreadids>\n    <iothread id='5' thread_pool_min='3' thread_pool_max='4'/>\n    <iothread id='1'/>\n    <iothread id='2'/>\n  </iothreadids>\n  <defaultiothread thread_pool_max='2'/>\n"
        ));
        let out = dump("<iothreads> 3</iothreads><defaultiothread/>").unwrap();
        assert!(out.contains("</vcpu>\n  <iothreads>3</iothreads>\n  <os>"));
        assert_errors(
            dump,
            &[
                ("<iothreads>3 </iothreads>", "XML error: invalid iothreads count '3 '"),
                ("<iothreadids><iothread id='2'/><iothread id='2'/></iothreadids>", "XML error: duplicate iothread id '2' found"),
                ("<iothreadids><iothread id='5' thread_pool_min='3'/></iothreadids>", "unsupported configuration: thread_pool_min must be smaller or equal to thread_pool_max"),
                ("<iothreadids><iothread id='2' thread_pool_min='-2'/></iothreadids>", "XML error: Invalid value for attribute 'thread_pool_min' in element 'iothread': '-2'. Expected non-negative value"),
            ],
        );
    }
}
