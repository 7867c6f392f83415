//! The names libvirt gives a guest's cgroups: the machine name
//! (`virDomainDriverGenerateMachineName`), the partition path with its
//! `.partition` suffixes (`virCgroupSetPartitionSuffix`) and the escaping
//! of names that could clash with cgroup files (`virCgroupPartitionEscape`).

/// `HOSTNAME_CHARS`: what a machine name keeps of the guest's name.
fn hostname_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// `virDomainMachineNameAppendValid`: `name` reduced to hostname
/// characters, runs of `.`/`-` collapsed to their first, leading ones
/// dropped, the whole name capped at 64 bytes, trailing `.`/`-` trimmed.
fn append_valid(buf: &mut String, name: &str) {
    let mut skip = true;
    for c in name.chars() {
        if buf.len() >= 64 {
            break;
        }
        if c == '.' || c == '-' {
            if !skip {
                buf.push(c);
                skip = true;
            }
            continue;
        }
        if !hostname_char(c) {
            continue;
        }
        buf.push(c);
        skip = false;
    }
    let kept = buf.trim_end_matches(['-', '.']).len();
    buf.truncate(kept);
}

/// `virDomainDriverGenerateMachineName` for a driver that is not embedded:
/// `qemu-ID-NAME`, with the user's name after the driver's when the
/// daemon is unprivileged (`user` gives it).
pub fn machine_name(driver: &str, id: i32, name: &str, user: Option<&str>) -> String {
    let mut buf = format!("{driver}-");
    if let Some(user) = user {
        buf.push_str(user);
        buf.push('-');
    }
    buf.push_str(&format!("{id}-"));
    append_valid(&mut buf, name);
    buf
}

/// `virCgroupPartitionNeedsEscaping` given the text of /proc/cgroups.
///
/// libvirt cuts each /proc/cgroups line at its first space and compares
/// the rest of the line, newline included, with the start of `token`. The
/// kernel separates the columns with tabs, so no controller name ever
/// matches there and only the `cgroup.`, `_` and `.` prefixes escape;
/// this keeps that behaviour so the groups are named as libvirt names them.
pub fn needs_escaping(token: &str, proc_cgroups: &str) -> bool {
    if token.starts_with("cgroup.") || token.starts_with('_') || token.starts_with('.') {
        return true;
    }
    proc_cgroups
        .split_inclusive('\n')
        .filter(|line| !line.starts_with("#subsys_name"))
        .map(|line| line.split_once(' ').map_or(line, |(name, _)| name))
        .any(|subsys| {
            token.starts_with(subsys) && token.as_bytes().get(subsys.len()) == Some(&b'.')
        })
}

/// `virCgroupPartitionEscape`: a `_` in front when needed.
pub fn escape(token: &str, proc_cgroups: &str) -> String {
    if needs_escaping(token, proc_cgroups) {
        format!("_{token}")
    } else {
        token.to_string()
    }
}

/// `virCgroupSetPartitionSuffix`: every component of the absolute
/// partition path without a dot gets `.partition`, except a top-level
/// `machine`, `system` or `user`; each is escaped.
pub fn partition_path(partition: &str, proc_cgroups: &str) -> String {
    let tokens: Vec<String> = partition
        .split('/')
        .enumerate()
        .map(|(i, token)| {
            if i == 1 && matches!(token, "machine" | "system" | "user") {
                return token.to_string();
            }
            let token = if !token.is_empty() && !token.contains('.') {
                format!("{token}.partition")
            } else {
                token.to_string()
            };
            escape(&token, proc_cgroups)
        })
        .collect();
    tokens.join("/")
}

/// The directory of one guest under its partition
/// (`virCgroupNewDomainPartition`): `MACHINE.libvirt-DRIVER`, escaped.
pub fn machine_dir(machine: &str, driver: &str, proc_cgroups: &str) -> String {
    escape(&format!("{machine}.libvirt-{driver}"), proc_cgroups)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KERNEL_CGROUPS: &str = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n\
                                  cpuset\t3\t2\t1\ncpu\t1\t2\t1\nmemory\t4\t3\t1\n";

    #[test]
    fn machine_names_as_libvirt_makes_them() {
        assert_eq!(machine_name("qemu", 1, "cmp", None), "qemu-1-cmp");
        assert_eq!(machine_name("qemu", 7, "a_b c", None), "qemu-7-abc");
        // Leading and repeated separators go, trailing ones are trimmed.
        assert_eq!(machine_name("qemu", 2, "..-x--y.-", None), "qemu-2-x-y");
        assert_eq!(machine_name("qemu", 3, "!!!", None), "qemu-3");
        assert_eq!(machine_name("qemu", 4, "g", Some("bob")), "qemu-bob-4-g");
        let long = machine_name("qemu", 5, &"x".repeat(100), None);
        assert_eq!(long.len(), 64);
        assert!(long.starts_with("qemu-5-xxx"));
        // Non-ASCII letters are not hostname characters.
        assert_eq!(machine_name("qemu", 6, "gäst", None), "qemu-6-gst");
    }

    #[test]
    fn escaping_follows_libvirt() {
        assert!(needs_escaping("cgroup.procs", KERNEL_CGROUPS));
        assert!(needs_escaping("_x", KERNEL_CGROUPS));
        assert!(needs_escaping(".x", KERNEL_CGROUPS));
        assert!(!needs_escaping("qemu-1-g.libvirt-qemu", KERNEL_CGROUPS));
        // Tab-separated /proc/cgroups: controller prefixes never match.
        assert!(!needs_escaping("cpu.partition", KERNEL_CGROUPS));
        // Where a line has a space, its first word is compared.
        let spaced = "#subsys_name hierarchy\ncpu 1 2 1\n";
        assert!(needs_escaping("cpu.partition", spaced));
        assert!(!needs_escaping("cpux.partition", spaced));
        assert_eq!(escape("_x", ""), "__x");
    }

    #[test]
    fn partition_paths_get_their_suffix() {
        let p = |s| partition_path(s, KERNEL_CGROUPS);
        assert_eq!(p("/machine"), "/machine");
        assert_eq!(p("/machine/prod"), "/machine/prod.partition");
        assert_eq!(p("/system/a.b"), "/system/a.b");
        assert_eq!(p("/prod"), "/prod.partition");
        assert_eq!(p("/prod/machine"), "/prod.partition/machine.partition");
        assert_eq!(p("/_x"), "/__x.partition");
        assert_eq!(p("/cgroup.x"), "/_cgroup.x");
        assert_eq!(p("/"), "/");
        assert_eq!(
            machine_dir("qemu-1-cmp", "qemu", KERNEL_CGROUPS),
            "qemu-1-cmp.libvirt-qemu"
        );
    }
}
