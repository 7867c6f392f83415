//! vCPU hotplug entities over QMP, as libvirt's QEMU driver sees them:
//! `query-hotpluggable-cpus` sorted by topology
//! (`qemuMonitorJSONGetHotpluggableCPUs`), each entity mapped to the vCPU
//! index it begins (`qemuMonitorGetCPUInfoHotplug`); the vCPUs a
//! definition has online and hotpluggable plugged while QEMU is still
//! stopped (`qemuProcessValidateHotpluggableVcpus`,
//! `qemuProcessSetupHotpluggableVcpus`), for a start as for an incoming
//! migration; and the enable order QEMU reports (`enable_id`).

use crate::command::unsupported;
use crate::command::vcpu_states;
use crate::monitor::Monitor;
use qapi::qmp::HotpluggableCPU;
use rvirt_conf::domain::props::TriBool;
use rvirt_conf::DomainDef;
use rvirt_util::Result;

/// The entities in libvirt's order: socket, die, core, thread.
pub(crate) async fn slots(monitor: &Monitor) -> Result<Vec<HotpluggableCPU>> {
    let mut found = monitor
        .execute(qapi::qmp::query_hotpluggable_cpus {})
        .await?;
    found.sort_by_key(|c| {
        let p = &c.props;
        (p.socket_id, p.die_id, p.core_id, p.thread_id)
    });
    Ok(found)
}

/// The id a slot was plugged with (`/machine/peripheral/vcpuN`); vCPUs
/// QEMU started with have none.
pub(crate) fn alias(slot: &HotpluggableCPU) -> Option<&str> {
    slot.qom_path
        .as_deref()?
        .strip_prefix("/machine/peripheral/")
}

/// Each entity with the index of the first vCPU it holds.
pub(crate) fn by_vcpu(slots: &[HotpluggableCPU]) -> Vec<(usize, &HotpluggableCPU)> {
    let mut index = 0;
    slots
        .iter()
        .map(|s| {
            let at = index;
            index += usize::try_from(s.vcpus_count.max(1)).unwrap_or(1);
            (at, s)
        })
        .collect()
}

/// `qemuBuildHotpluggableCPUProps`: the entity's type as the driver,
/// `vcpuN` (N its first vCPU) as the id, its topology properties.
pub(crate) fn device_add(index: usize, slot: &HotpluggableCPU) -> qapi::qmp::device_add {
    let props = serde_json::to_value(&slot.props)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    qapi::qmp::device_add {
        bus: None,
        id: Some(format!("vcpu{index}")),
        driver: slot.type_.clone(),
        arguments: props.into_iter().collect(),
    }
}

/// Plug the vCPUs `def` has online and hotpluggable, in their `order`,
/// before the guest runs; nothing to do for a definition without any.
pub(crate) async fn plug_boot_vcpus(def: &DomainDef, monitor: &Monitor) -> Result<()> {
    if !vcpu_states::has_hotpluggable_startup(def) {
        return Ok(());
    }
    let states = vcpu_states::table(def);
    // Without QEMU's hotplug data no entity has any: libvirt's validation
    // then finds the first vCPU to plug missing it.
    let slots = slots(monitor).await.unwrap_or_default();
    let total: i64 = slots.iter().map(|s| s.vcpus_count).sum();
    let entities = if total == i64::from(def.vcpus) {
        by_vcpu(&slots)
    } else {
        Vec::new()
    };
    let mut plug = validate(&states, &entities)?;
    plug.sort_by_key(|(order, _, _)| *order);
    for (_, index, slot) in plug {
        monitor.execute(device_add(index, slot)).await?;
    }
    Ok(())
}

/// `qemuProcessValidateHotpluggableVcpus`: unique orders within range,
/// one configuration per entity, and QEMU's data for every vCPU to plug.
/// The entities to plug, with their order.
fn validate<'a>(
    states: &[rvirt_conf::domain::vcpus::VcpuState],
    entities: &[(usize, &'a HotpluggableCPU)],
) -> Result<Vec<(u32, usize, &'a HotpluggableCPU)>> {
    let max = states.len();
    let mut seen = vec![false; max + 1];
    let mut plug = Vec::new();
    for (i, vcpu) in states.iter().enumerate() {
        let entity = entities.iter().find(|(at, _)| *at == i).map(|(_, s)| *s);
        let width = entity.map_or(1, |s| usize::try_from(s.vcpus_count).unwrap_or(1));
        if entity.is_none() && !entities.is_empty() {
            // A later vCPU of a multi-vCPU entity.
            continue;
        }
        if vcpu.order != 0 {
            let order = vcpu.order as usize;
            if order <= max && seen[order] {
                return Err(unsupported(format!("duplicate vcpu order '{order}'")));
            }
            if order > max {
                return Err(unsupported(format!(
                    "vcpu order '{order}' exceeds vcpu count"
                )));
            }
            seen[order] = true;
        }
        let group = states.iter().enumerate().take(i + width).skip(i + 1);
        for (j, sub) in group {
            if (sub.hotpluggable, sub.online, sub.order)
                != (vcpu.hotpluggable, vcpu.online, vcpu.order)
            {
                return Err(unsupported(format!(
                    "vcpus '{i}' and '{j}' are in the same hotplug group but differ in configuration"
                )));
            }
        }
        if vcpu.online && vcpu.hotpluggable == Some(TriBool::Yes) {
            match entity {
                Some(slot) => plug.push((vcpu.order, i, slot)),
                None => return Err(unsupported(format!("vcpu '{i}' is missing hotplug data"))),
            }
        }
    }
    Ok(plug)
}

/// The order in which QEMU enabled each entity, by the index of its first
/// vCPU (0 elsewhere): its position among `query-cpus-fast`'s entries,
/// matched by QOM path (libvirt's `enable_id`).
pub(crate) async fn enable_ids(monitor: &Monitor, max: u32) -> Result<Vec<u32>> {
    let slots = slots(monitor).await?;
    let cpus = monitor.execute(qapi::qmp::query_cpus_fast {}).await?;
    let mut ids = vec![0u32; max as usize];
    let entities = by_vcpu(&slots);
    let mut next = 1;
    for cpu in cpus {
        let Ok(info) = serde_json::to_value(&cpu) else {
            continue;
        };
        let Some(path) = info.get("qom-path").and_then(|p| p.as_str()) else {
            continue;
        };
        let path = path.split("/thread").next().unwrap_or(path);
        let found = entities
            .iter()
            .find(|(_, s)| s.qom_path.as_deref() == Some(path));
        if let Some((index, _)) = found {
            if let Some(id) = ids.get_mut(*index).filter(|id| **id == 0) {
                *id = next;
                next += 1;
            }
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qapi::qmp::CpuInstanceProperties;
    use rvirt_conf::domain::vcpus::VcpuState;

    fn slot(socket: i64, plugged: Option<&str>) -> HotpluggableCPU {
        HotpluggableCPU {
            qom_path: plugged.map(str::to_string),
            props: CpuInstanceProperties {
                socket_id: Some(socket),
                die_id: Some(0),
                core_id: Some(0),
                thread_id: Some(0),
                ..CpuInstanceProperties::default()
            },
            type_: "qemu64-x86_64-cpu".into(),
            vcpus_count: 1,
        }
    }

    fn state(online: bool, hotpluggable: TriBool, order: u32) -> VcpuState {
        VcpuState {
            online,
            hotpluggable: Some(hotpluggable),
            order,
        }
    }

    #[test]
    fn boot_plugs_follow_the_order_and_refuse_as_libvirt() {
        let slots = [
            slot(0, Some("/machine/unattached/device[0]")),
            slot(1, None),
            slot(2, None),
        ];
        let entities = by_vcpu(&slots);
        let states = [
            state(true, TriBool::No, 1),
            state(true, TriBool::Yes, 3),
            state(true, TriBool::Yes, 2),
        ];
        let plug = validate(&states, &entities).unwrap();
        let mut order: Vec<(u32, usize)> = plug.iter().map(|(o, i, _)| (*o, *i)).collect();
        order.sort();
        assert_eq!(order, [(2, 2), (3, 1)]);
        let add = device_add(2, entities[2].1);
        assert_eq!(add.id.as_deref(), Some("vcpu2"));
        let json = serde_json::to_value(&add).unwrap();
        assert_eq!(json["socket-id"], 2, "{json}");
        assert_eq!(json["driver"], "qemu64-x86_64-cpu", "{json}");

        let duplicate = [state(true, TriBool::No, 1), state(true, TriBool::Yes, 1)];
        let err = validate(&duplicate, &entities[..2]).unwrap_err();
        assert_eq!(
            err.message,
            "unsupported configuration: duplicate vcpu order '1'"
        );
        let far = [state(true, TriBool::No, 1), state(true, TriBool::Yes, 5)];
        let err = validate(&far, &entities[..2]).unwrap_err();
        assert_eq!(
            err.message,
            "unsupported configuration: vcpu order '5' exceeds vcpu count"
        );
        let err = validate(
            &[state(true, TriBool::No, 0), state(true, TriBool::Yes, 0)],
            &[],
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "unsupported configuration: vcpu '1' is missing hotplug data"
        );
    }
}
