//! The state of each vCPU as libvirt's QEMU driver keeps it
//! (`virDomainVcpuDef`: online, hotpluggable, order), whether the
//! definition gave `<vcpus>` or only `<vcpu current=>`: the checks of
//! `qemuDomainDefVcpusPostParse`, the boot vCPUs `-smp` counts
//! (`qemuBuildSmpCommandLine`), the order test of the migration cookie
//! (`qemuDomainVcpuHotplugIsInOrder`) and the cold (un)plug of
//! `qemuDomainSetVcpusConfig`.

use super::unsupported;
use rvirt_conf::domain::props::TriBool;
use rvirt_conf::domain::vcpus::VcpuState;
use rvirt_conf::domain::DomainDef;
use rvirt_util::Result;

/// Every vCPU's state: `<vcpus>` when given (and still agreeing with the
/// online count), else libvirt's default: the first `current` online and
/// not hotpluggable, the rest offline and hotpluggable.
pub fn table(def: &DomainDef) -> Vec<VcpuState> {
    let current = def.current_vcpus.unwrap_or(def.vcpus);
    if let Some(states) = &def.vcpu_states {
        let online = states.iter().filter(|s| s.online).count() as u32;
        if online == current {
            return states
                .iter()
                .map(|s| VcpuState {
                    hotpluggable: Some(s.hotpluggable.unwrap_or(if s.online {
                        TriBool::No
                    } else {
                        TriBool::Yes
                    })),
                    ..*s
                })
                .collect();
        }
    }
    (0..def.vcpus)
        .map(|i| VcpuState {
            online: i < current,
            hotpluggable: Some(if i < current {
                TriBool::No
            } else {
                TriBool::Yes
            }),
            order: 0,
        })
        .collect()
}

fn hotpluggable(s: &VcpuState) -> bool {
    s.hotpluggable == Some(TriBool::Yes)
}

/// `qemuDomainDefVcpusPostParse`.
pub fn validate(def: &DomainDef) -> Result<()> {
    if def.vcpu_states.is_none() {
        return Ok(());
    }
    let states = table(def);
    let Some(first) = states.first() else {
        return Ok(());
    };
    if !first.online {
        return Err(unsupported("vcpu 0 can't be offline"));
    }
    if hotpluggable(first) {
        return Err(unsupported("vcpu0 can't be hotpluggable"));
    }
    if first.order > 1 {
        return Err(unsupported("vcpu0 must be enabled first"));
    }
    let has_order = first.order != 0;
    for pair in states.windows(2) {
        let (prev, vcpu) = (&pair[0], &pair[1]);
        if vcpu.online && (vcpu.order != 0) != has_order {
            return Err(unsupported("all vcpus must have either set or unset order"));
        }
        if vcpu.hotpluggable == Some(TriBool::No) {
            if hotpluggable(prev) {
                return Err(unsupported(
                    "online non-hotpluggable vcpus need to be ordered prior to hotplugable vcpus",
                ));
            }
            if prev.order > vcpu.order {
                return Err(unsupported(
                    "online non-hotpluggable vcpus must be ordered in ascending order",
                ));
            }
        }
    }
    Ok(())
}

/// The vCPUs QEMU starts with: online and not hotpluggable (the online
/// hotpluggable ones are `device_add`ed before the guest runs).
pub fn boot_count(def: &DomainDef) -> u32 {
    table(def)
        .iter()
        .filter(|s| s.online && !hotpluggable(s))
        .count() as u32
}

/// Whether any vCPU is to be plugged at start
/// (`qemuDomainHasHotpluggableStartupVcpus`).
pub fn has_hotpluggable_startup(def: &DomainDef) -> bool {
    table(def).iter().any(|s| s.online && hotpluggable(s))
}

/// `qemuDomainVcpuHotplugIsInOrder`: the online vCPUs are the first ones,
/// enabled in ascending order.
pub fn hotplug_in_order(def: &DomainDef) -> bool {
    let states = table(def);
    let mut prev = 0;
    let mut seen = 0;
    for s in &states {
        if !s.online || s.order < prev {
            break;
        }
        prev = prev.max(s.order);
        seen += 1;
    }
    seen == states.iter().filter(|s| s.online).count()
}

/// `qemuDomainVcpuPersistOrder`: each online vCPU takes the enable order
/// QEMU reports for its hotplug entity (`enable_ids`, by vCPU index, 0
/// for the later vCPUs of a multi-vCPU entity), offline ones none. Only a
/// definition that shows `<vcpus>` keeps it.
pub fn persist_order(def: &mut DomainDef, enable_ids: &[u32]) {
    let Some(states) = def.vcpu_states.as_mut() else {
        return;
    };
    let mut prev = 0;
    for (i, s) in states.iter_mut().enumerate() {
        if !s.online {
            s.order = 0;
            continue;
        }
        let id = enable_ids.get(i).copied().unwrap_or(0);
        if id != 0 {
            prev = id;
        }
        s.order = prev;
    }
}

/// Mark vCPU `index` online or offline in the live definition after a
/// hot(un)plug, which from then on shows `<vcpus>` (libvirt's
/// `individualvcpus`); the online count follows.
pub fn set_online(def: &mut DomainDef, indexes: &[usize], online: bool) {
    let mut states = table(def);
    for &i in indexes {
        if let Some(s) = states.get_mut(i) {
            s.online = online;
            s.hotpluggable = Some(TriBool::Yes);
        }
    }
    let count = states.iter().filter(|s| s.online).count() as u32;
    def.current_vcpus = (count != def.vcpus).then_some(count);
    def.vcpu_states = Some(states);
}

/// `qemuDomainSetVcpusConfig`: plug offline vCPUs (hotpluggable when
/// asked or when an online one before them is) or unplug from the end;
/// orders are cleared. A definition without `<vcpus>` keeps none unless
/// hotpluggable vCPUs were added.
pub fn set_config(def: &mut DomainDef, count: u32, mut make_hotpluggable: bool) {
    let mut states = table(def);
    let mut individual = def.vcpu_states.is_some();
    for s in states.iter_mut() {
        s.order = 0;
    }
    let mut current = states.iter().filter(|s| s.online).count() as u32;
    if current < count {
        for s in states.iter_mut() {
            if current == count {
                break;
            }
            if s.online {
                make_hotpluggable |= hotpluggable(s);
                continue;
            }
            s.online = true;
            s.hotpluggable = Some(if make_hotpluggable {
                individual = true;
                TriBool::Yes
            } else {
                TriBool::No
            });
            current += 1;
        }
    } else {
        for s in states.iter_mut().rev() {
            if current == count {
                break;
            }
            if s.online {
                s.online = false;
                s.hotpluggable = Some(TriBool::Yes);
                current -= 1;
            }
        }
    }
    def.current_vcpus = (current != def.vcpus).then_some(current);
    def.vcpu_states = individual.then_some(states);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(vcpu: &str) -> DomainDef {
        let xml = format!(
            "<domain type='qemu'><name>t</name><memory>65536</memory>{vcpu}\
             <os><type arch='x86_64'>hvm</type></os></domain>"
        );
        DomainDef::parse(&xml).expect("parses")
    }

    fn error(vcpu: &str) -> String {
        validate(&parse(vcpu)).expect_err(vcpu).message
    }

    #[test]
    fn boot_vcpus_exclude_the_hotpluggable_online_ones() {
        let def = parse(
            "<vcpu current='3'>4</vcpu><vcpus><vcpu id='0' enabled='yes' hotpluggable='no'/>\
             <vcpu id='1' enabled='yes' hotpluggable='yes'/><vcpu id='2' enabled='yes' hotpluggable='yes'/>\
             <vcpu id='3' enabled='no' hotpluggable='yes'/></vcpus>",
        );
        validate(&def).unwrap();
        assert_eq!(boot_count(&def), 1);
        assert!(has_hotpluggable_startup(&def));
        assert!(hotplug_in_order(&def));
        let plain = parse("<vcpu current='2'>4</vcpu>");
        assert_eq!(boot_count(&plain), 2);
        assert!(!has_hotpluggable_startup(&plain));
    }

    #[test]
    fn post_parse_refusals_are_libvirts() {
        let cases = [
            (
                "<vcpu>2</vcpu><vcpus><vcpu id='0' enabled='yes' hotpluggable='yes'/></vcpus>",
                "unsupported configuration: vcpu0 can't be hotpluggable",
            ),
            (
                "<vcpu>2</vcpu><vcpus><vcpu id='0' enabled='yes' order='2'/>\
                 <vcpu id='1' enabled='yes' order='1'/></vcpus>",
                "unsupported configuration: vcpu0 must be enabled first",
            ),
            (
                "<vcpu>2</vcpu><vcpus><vcpu id='0' enabled='yes' order='1'/>\
                 <vcpu id='1' enabled='yes' hotpluggable='yes'/></vcpus>",
                "unsupported configuration: all vcpus must have either set or unset order",
            ),
            (
                "<vcpu>3</vcpu><vcpus><vcpu id='0' enabled='yes'/>\
                 <vcpu id='1' enabled='yes' hotpluggable='yes'/><vcpu id='2' enabled='yes'/></vcpus>",
                "unsupported configuration: online non-hotpluggable vcpus need to be ordered \
                 prior to hotplugable vcpus",
            ),
        ];
        for (vcpu, want) in cases {
            assert_eq!(error(vcpu), want, "{vcpu}");
        }
    }

    #[test]
    fn order_and_plugging_as_libvirt_keeps_them() {
        let mut def = parse("<vcpu current='1'>3</vcpu>");
        set_online(&mut def, &[2], true);
        assert_eq!(def.current_vcpus, Some(2));
        persist_order(&mut def, &[1, 0, 2]);
        let states = def.vcpu_states.clone().unwrap();
        assert_eq!(
            states
                .iter()
                .map(|s| (s.online, s.order))
                .collect::<Vec<_>>(),
            [(true, 1), (false, 0), (true, 2)]
        );
        assert!(!hotplug_in_order(&def));
        set_online(&mut def, &[2], false);
        assert_eq!(def.current_vcpus, Some(1));
        let mut cold = parse("<vcpu current='1'>3</vcpu>");
        set_config(&mut cold, 2, false);
        assert_eq!(
            (cold.current_vcpus, cold.vcpu_states.is_none()),
            (Some(2), true)
        );
        set_config(&mut cold, 3, true);
        let s = cold.vcpu_states.clone().unwrap();
        assert_eq!(s[2].hotpluggable, Some(TriBool::Yes));
        assert_eq!(s[1].hotpluggable, Some(TriBool::No));
        assert_eq!(cold.current_vcpus, None);
    }
}
