//! IOThreads on the command line (`qemuBuildIOThreadCommandLine`): an
//! `-object iothread` named `iothreadN` per `<iothreadids>` entry (with
//! its thread pool bounds), `main-loop` for `<defaultiothread>`; disks
//! and virtio-scsi controllers name theirs as `"iothread":"iothreadN"`.

use super::json::Props;
use super::Args;
use rvirt_conf::domain::DomainDef;

/// The QOM id of IOThread `id`.
pub(crate) fn alias(id: u32) -> String {
    format!("iothread{id}")
}

/// `k:`-style bounds: only those set.
fn pool(props: Props, (min, max): (Option<i32>, Option<i32>)) -> Props {
    let props = match min {
        Some(n) => props.num("thread-pool-min", n),
        None => props,
    };
    match max {
        Some(n) => props.num("thread-pool-max", n),
        None => props,
    }
}

pub(super) fn iothreads(a: &mut Args, def: &DomainDef) {
    for t in &def.iothreads.ids {
        let props = Props::new()
            .str("qom-type", "iothread")
            .str("id", &alias(t.id));
        a.json("-object", pool(props, (t.pool_min, t.pool_max)));
    }
    if let Some(bounds) = def.iothreads.default_pool {
        let props = Props::new()
            .str("qom-type", "main-loop")
            .str("id", "main-loop");
        a.json("-object", pool(props, bounds));
    }
}
