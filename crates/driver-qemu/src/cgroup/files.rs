//! The tunable files of one group, as each backend names and converts
//! them (vircgroupv1.c / vircgroupv2.c): CPU shares and bandwidth, the
//! cpuset, memory limits, blkio weights and device throttles.

use super::groups::{at, read, write};
use super::{Controller, Machine, CGROUP};
use rvirt_util::{Error, ErrorCode, Result};
use std::path::{Path, PathBuf};

/// `VIR_DOMAIN_MEMORY_PARAM_UNLIMITED`, in KiB.
pub const MEMORY_UNLIMITED: u64 = 9007199254740991;
/// `VIR_CGROUP_CPU_QUOTA_MIN/MAX`, `VIR_CGROUP_CPU_PERIOD_MIN/MAX`.
pub const QUOTA: (i64, i64) = (1000, 17592186044415);
pub const PERIOD: (u64, u64) = (1000, 1000000);

/// A group's directory in the hierarchy that handles a controller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dir {
    V1(PathBuf),
    V2(PathBuf),
}

impl Machine {
    /// Whether the guest's group has `c` (`virCgroupHasController`).
    pub fn has(&self, c: Controller) -> bool {
        self.layout.has(c)
    }

    /// The directory of the guest's group (`sub` None) or of one of its
    /// thread groups (`emulator`, `vcpu0`...) for `c`.
    pub fn dir(&self, c: Controller, sub: Option<&str>) -> Option<Dir> {
        let rel = match sub {
            Some(s) => format!("{}/{s}", self.path),
            None => self.path.clone(),
        };
        if let Some((mount, mask)) = &self.layout.v2 {
            if mask & c.bit() != 0 {
                return Some(Dir::V2(at(mount, &rel)));
            }
        }
        let (_, mount) = self.layout.v1.iter().find(|(x, _)| *x == c)?;
        Some(Dir::V1(at(mount, &rel)))
    }
}

fn invalid_arg(message: String) -> Error {
    Error::new(CGROUP, ErrorCode::INVALID_ARG, message)
}

fn parse<T: std::str::FromStr>(value: &str, file: &str) -> Result<T> {
    value.trim().parse().map_err(|_| {
        Error::new(
            CGROUP,
            ErrorCode::INTERNAL_ERROR,
            format!("Unable to parse '{value}' as an integer from {file}"),
        )
    })
}

/// `virBitmapFormat`: "0-2,5".
pub fn format_cpus(cpus: &[u32]) -> String {
    let mut sorted = cpus.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        while i + 1 < sorted.len() && sorted[i + 1] == sorted[i] + 1 {
            i += 1;
        }
        out.push(match sorted[i] {
            end if end == start => start.to_string(),
            end => format!("{start}-{end}"),
        });
        i += 1;
    }
    out.join(",")
}

/// `virBitmapParse` of a kernel list ("0-1,3", "" for none).
pub fn parse_cpus(text: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        if let (Ok(a), Ok(b)) = (a.trim().parse::<u32>(), b.trim().parse::<u32>()) {
            out.extend(a..=b);
        }
    }
    out
}

impl Dir {
    fn file(&self, v1: &str, v2: &str) -> PathBuf {
        match self {
            Dir::V1(d) => d.join(v1),
            Dir::V2(d) => d.join(v2),
        }
    }

    /// `virCgroupSetCpuShares` (cgroup2: `cpu.weight`, same number).
    pub fn set_cpu_shares(&self, shares: u64) -> Result<()> {
        write(&self.file("cpu.shares", "cpu.weight"), &shares.to_string())
    }

    pub fn cpu_shares(&self) -> Result<u64> {
        let file = self.file("cpu.shares", "cpu.weight");
        parse(&read(&file)?, &file.display().to_string())
    }

    /// `virCgroupSetCpuCfsPeriod`.
    pub fn set_cfs_period(&self, period: u64) -> Result<()> {
        if !(PERIOD.0..=PERIOD.1).contains(&period) {
            return Err(invalid_arg(format!(
                "cfs_period '{period}' must be in range ({}, {})",
                PERIOD.0, PERIOD.1
            )));
        }
        match self {
            Dir::V1(d) => write(&d.join("cpu.cfs_period_us"), &period.to_string()),
            Dir::V2(d) => {
                let file = d.join("cpu.max");
                let now = read(&file)?;
                let quota = now.split_whitespace().next().unwrap_or("max");
                write(&file, &format!("{quota} {period}"))
            }
        }
    }

    /// `virCgroupSetCpuCfsQuota`: a negative quota is "no limit".
    pub fn set_cfs_quota(&self, quota: i64) -> Result<()> {
        if quota >= 0 && !(QUOTA.0..=QUOTA.1).contains(&quota) {
            return Err(invalid_arg(format!(
                "cfs_quota '{quota}' must be in range ({}, {})",
                QUOTA.0, QUOTA.1
            )));
        }
        match self {
            Dir::V1(d) => write(&d.join("cpu.cfs_quota_us"), &quota.to_string()),
            Dir::V2(d) if quota < 0 || quota == QUOTA.1 => write(&d.join("cpu.max"), "max"),
            Dir::V2(d) => write(&d.join("cpu.max"), &quota.to_string()),
        }
    }

    /// `virCgroupGetCpuPeriodQuota`: cgroup2's "max" reads as the largest
    /// quota, v1's -1 as -1, as libvirt reports them.
    pub fn cfs_period_quota(&self) -> Result<(u64, i64)> {
        match self {
            Dir::V1(d) => {
                let p = d.join("cpu.cfs_period_us");
                let q = d.join("cpu.cfs_quota_us");
                let period = parse(&read(&p)?, &p.display().to_string())?;
                Ok((period, parse(&read(&q)?, &q.display().to_string())?))
            }
            Dir::V2(d) => {
                let file = d.join("cpu.max");
                let text = read(&file)?;
                let mut fields = text.split_whitespace();
                let quota = fields.next().unwrap_or("max");
                let period = parse(fields.next().unwrap_or(""), "cpu.max")?;
                let quota = match quota {
                    "max" => QUOTA.1,
                    q => parse(q, "cpu.max")?,
                };
                Ok((period, quota))
            }
        }
    }

    /// `virCgroupSetupCpuPeriodQuota`: period first, put back when the
    /// quota is refused.
    pub fn set_bandwidth(&self, period: u64, quota: i64) -> Result<()> {
        let old = match period {
            0 => None,
            _ => Some(self.cfs_period_quota()?.0),
        };
        if period != 0 {
            self.set_cfs_period(period)?;
        }
        if quota != 0 {
            if let Err(e) = self.set_cfs_quota(quota) {
                if let Some(old) = old {
                    let _ = self.set_cfs_period(old);
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// `virCgroupSetCpusetCpus` / `Mems` (`key` "cpus" or "mems").
    pub fn set_cpuset(&self, key: &str, list: &[u32]) -> Result<()> {
        let name = format!("cpuset.{key}");
        write(&self.file(&name, &name), &format_cpus(list))
    }

    pub fn cpuset(&self, key: &str) -> Result<Vec<u32>> {
        let name = format!("cpuset.{key}");
        Ok(parse_cpus(&read(&self.file(&name, &name))?))
    }
}

/// A memory limit of `<memtune>` / `virDomainSetMemoryParameters`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryLimit {
    Hard,
    Soft,
    Swap,
}

impl MemoryLimit {
    fn files(self) -> (&'static str, &'static str) {
        match self {
            MemoryLimit::Hard => ("memory.limit_in_bytes", "memory.max"),
            MemoryLimit::Soft => ("memory.soft_limit_in_bytes", "memory.high"),
            MemoryLimit::Swap => ("memory.memsw.limit_in_bytes", "memory.swap.max"),
        }
    }
}

impl Dir {
    /// `virCgroupSetMemoryHardLimit` and siblings: KiB, with
    /// [`MEMORY_UNLIMITED`] as v1's -1 or cgroup2's "max".
    pub fn set_memory(&self, limit: MemoryLimit, kib: u64) -> Result<()> {
        if kib > MEMORY_UNLIMITED {
            return Err(invalid_arg(format!(
                "Memory '{kib}' must be less than {MEMORY_UNLIMITED}"
            )));
        }
        let (v1, v2) = limit.files();
        let value = match (self, kib == MEMORY_UNLIMITED) {
            (Dir::V1(_), true) => "-1".to_string(),
            (Dir::V2(_), true) => "max".to_string(),
            (_, false) => (kib << 10).to_string(),
        };
        write(&self.file(v1, v2), &value)
    }

    /// The limit in KiB; anything at or above the kernel's "unlimited"
    /// reads as [`MEMORY_UNLIMITED`].
    pub fn memory(&self, limit: MemoryLimit) -> Result<u64> {
        let (v1, v2) = limit.files();
        let file = self.file(v1, v2);
        let text = read(&file)?;
        if text == "max" {
            return Ok(MEMORY_UNLIMITED);
        }
        let bytes: u64 = parse(&text, &file.display().to_string())?;
        // v1's unlimited is PAGE_COUNTER_MAX pages: 0x7FFFFFFFFFFFF000.
        let kib = bytes >> 10;
        Ok(match kib >= (0x7FFF_FFFF_FFFF_F000u64 >> 10) {
            true => MEMORY_UNLIMITED,
            false => kib,
        })
    }
}

/// One throttle or weight of `<blkiotune><device>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlkioKey {
    Weight,
    ReadIops,
    WriteIops,
    ReadBps,
    WriteBps,
}

impl BlkioKey {
    pub const ALL: [BlkioKey; 5] = [
        BlkioKey::Weight,
        BlkioKey::ReadIops,
        BlkioKey::WriteIops,
        BlkioKey::ReadBps,
        BlkioKey::WriteBps,
    ];

    fn v1_file(self) -> &'static str {
        match self {
            BlkioKey::Weight => "blkio.weight_device",
            BlkioKey::ReadIops => "blkio.throttle.read_iops_device",
            BlkioKey::WriteIops => "blkio.throttle.write_iops_device",
            BlkioKey::ReadBps => "blkio.throttle.read_bps_device",
            BlkioKey::WriteBps => "blkio.throttle.write_bps_device",
        }
    }

    /// cgroup2's `io.max` key.
    fn v2_key(self) -> &'static str {
        match self {
            BlkioKey::Weight => "",
            BlkioKey::ReadIops => "riops",
            BlkioKey::WriteIops => "wiops",
            BlkioKey::ReadBps => "rbps",
            BlkioKey::WriteBps => "wbps",
        }
    }
}

/// `virCgroupGetBlockDevString`: "MAJOR:MINOR " of a block device.
pub fn block_dev_string(path: &str) -> Result<String> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::system(CGROUP, format!("Path '{path}' is not accessible"), &e))?;
    if !meta.file_type().is_block_device() {
        let e = std::io::Error::from_raw_os_error(libc::EINVAL);
        return Err(Error::system(
            CGROUP,
            format!("Path '{path}' must be a block device"),
            &e,
        ));
    }
    let rdev = meta.rdev();
    Ok(format!("{}:{} ", libc::major(rdev), libc::minor(rdev)))
}

fn operation_invalid(message: &str) -> Error {
    Error::new(CGROUP, ErrorCode::OPERATION_INVALID, message)
}

/// The value for the device `dev` ("8:0 ") in a "MAJ:MIN VALUE" file
/// (`virCgroupGetValueForBlkDev`); cgroup2's io.max holds `key=value`.
fn value_for_dev(text: &str, dev: &str, v2_key: Option<&str>) -> Option<String> {
    let line = text.lines().find(|l| l.starts_with(dev))?;
    let rest = &line[dev.len()..];
    match v2_key {
        None => Some(rest.trim().to_string()),
        Some(key) => rest
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_string)),
    }
}

impl Dir {
    /// The file of the group weight: BFQ's when the kernel has it.
    fn weight_file(&self) -> Option<(PathBuf, bool)> {
        let candidates: [(&str, bool); 2] = match self {
            Dir::V1(_) => [("blkio.bfq.weight", false), ("blkio.weight", false)],
            Dir::V2(_) => [("io.bfq.weight", false), ("io.weight", true)],
        };
        let dir: &Path = match self {
            Dir::V1(d) | Dir::V2(d) => d,
        };
        candidates
            .iter()
            .map(|(f, default)| (dir.join(f), *default))
            .find(|(f, _)| f.exists())
    }

    /// `virCgroupSetBlkioWeight`.
    pub fn set_blkio_weight(&self, weight: u32) -> Result<()> {
        let Some((file, default)) = self.weight_file() else {
            return Err(operation_invalid(match self {
                Dir::V1(_) => "blkio device weight is valid only for bfq or cfq scheduler",
                Dir::V2(_) => "blkio weight is valid only for bfq or cfq scheduler",
            }));
        };
        let value = match default {
            true => format!("default {weight}"),
            false => weight.to_string(),
        };
        write(&file, &value)
    }

    /// `virCgroupGetBlkioWeight`.
    pub fn blkio_weight(&self) -> Result<u32> {
        let Some((file, _)) = self.weight_file() else {
            return Err(operation_invalid(match self {
                Dir::V1(_) => "blkio device weight is valid only for bfq or cfq scheduler",
                Dir::V2(_) => "blkio weight is valid only for bfq or cfq scheduler",
            }));
        };
        let text = read(&file)?;
        let value = text
            .lines()
            .find_map(|l| l.strip_prefix("default "))
            .unwrap_or(&text);
        parse(value, &file.display().to_string())
    }

    /// `virCgroupSetBlkioDevice*`: one device's weight or throttle (0
    /// lifts a throttle).
    pub fn set_blkio_device(&self, key: BlkioKey, path: &str, value: u64) -> Result<()> {
        let dev = block_dev_string(path)?;
        match (self, key) {
            (Dir::V1(d), BlkioKey::Weight) => {
                let file = d.join(key.v1_file());
                if !file.exists() {
                    return Err(operation_invalid(
                        "blkio device weight is valid only for cfq scheduler",
                    ));
                }
                write(&file, &format!("{dev}{value}"))
            }
            (Dir::V1(d), _) => write(&d.join(key.v1_file()), &format!("{dev}{value}")),
            (Dir::V2(_), BlkioKey::Weight) => {
                let (file, _) = self.weight_file().ok_or_else(|| {
                    operation_invalid("blkio device weight is valid only for bfq or cfq scheduler")
                })?;
                write(&file, &format!("{dev}{value}"))
            }
            (Dir::V2(d), _) => {
                let value = match value {
                    0 => "max".to_string(),
                    v => v.to_string(),
                };
                write(&d.join("io.max"), &format!("{dev}{}={value}", key.v2_key()))
            }
        }
    }

    /// `virCgroupGetBlkioDevice*`: 0 when the device has none.
    pub fn blkio_device(&self, key: BlkioKey, path: &str) -> Result<u64> {
        let dev = block_dev_string(path)?;
        let (file, v2_key) = match (self, key) {
            (Dir::V1(d), _) => (d.join(key.v1_file()), None),
            (Dir::V2(_), BlkioKey::Weight) => match self.weight_file() {
                Some((f, _)) => (f, None),
                None => return Ok(0),
            },
            (Dir::V2(d), _) => (d.join("io.max"), Some(key.v2_key())),
        };
        if !file.exists() && key == BlkioKey::Weight {
            return Err(operation_invalid(
                "blkio device weight is valid only for cfq scheduler",
            ));
        }
        let text = read(&file)?;
        match value_for_dev(&text, &dev, v2_key).as_deref() {
            None | Some("max") => Ok(0),
            Some(v) => parse(v, &file.display().to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(format_cpus(&[0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
        assert_eq!(format_cpus(&[1]), "1");
        assert_eq!(format_cpus(&[]), "");
        assert_eq!(parse_cpus("0-2,5\n"), vec![0, 1, 2, 5]);
        assert_eq!(parse_cpus("\n"), Vec::<u32>::new());
    }

    #[test]
    fn device_values() {
        let v1 = "8:0 1000\n8:16 2000\n";
        assert_eq!(value_for_dev(v1, "8:16 ", None).as_deref(), Some("2000"));
        assert_eq!(value_for_dev(v1, "8:32 ", None), None);
        let v2 = "8:0 rbps=max wbps=4096 riops=max wiops=10\n";
        assert_eq!(
            value_for_dev(v2, "8:0 ", Some("wbps")).as_deref(),
            Some("4096")
        );
        assert_eq!(
            value_for_dev(v2, "8:0 ", Some("rbps")).as_deref(),
            Some("max")
        );
    }

    fn temp_group(files: &[(&str, &str)]) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("rvirt-cg-{}-{}", std::process::id(), files.len()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (f, v) in files {
            std::fs::write(dir.join(f), v).unwrap();
        }
        dir
    }

    #[test]
    fn conversions_per_backend() {
        let d = temp_group(&[("cpu.max", "max 100000\n"), ("memory.max", "max\n")]);
        let v2 = Dir::V2(d.clone());
        assert_eq!(v2.cfs_period_quota().unwrap(), (100000, QUOTA.1));
        v2.set_cfs_period(50000).unwrap();
        assert_eq!(
            std::fs::read_to_string(d.join("cpu.max")).unwrap(),
            "max 50000"
        );
        v2.set_cfs_quota(-1).unwrap();
        assert_eq!(std::fs::read_to_string(d.join("cpu.max")).unwrap(), "max");
        assert_eq!(v2.memory(MemoryLimit::Hard).unwrap(), MEMORY_UNLIMITED);
        v2.set_memory(MemoryLimit::Hard, 1024).unwrap();
        assert_eq!(
            std::fs::read_to_string(d.join("memory.max")).unwrap(),
            "1048576"
        );
        let err = v2.set_blkio_weight(100).unwrap_err();
        assert_eq!(err.code, ErrorCode::OPERATION_INVALID);
        std::fs::write(d.join("io.weight"), "default 100\n").unwrap();
        v2.set_blkio_weight(300).unwrap();
        assert_eq!(
            std::fs::read_to_string(d.join("io.weight")).unwrap(),
            "default 300"
        );
        std::fs::write(d.join("io.weight"), "default 300\n").unwrap();
        assert_eq!(v2.blkio_weight().unwrap(), 300);
        let _ = std::fs::remove_dir_all(&d);

        let d = temp_group(&[
            ("memory.limit_in_bytes", "9223372036854771712\n"),
            ("cpu.cfs_quota_us", "-1\n"),
            ("cpu.cfs_period_us", "100000\n"),
        ]);
        let v1 = Dir::V1(d.clone());
        assert_eq!(v1.memory(MemoryLimit::Hard).unwrap(), MEMORY_UNLIMITED);
        v1.set_memory(MemoryLimit::Hard, MEMORY_UNLIMITED).unwrap();
        let hard = std::fs::read_to_string(d.join("memory.limit_in_bytes")).unwrap();
        assert_eq!(hard, "-1");
        assert_eq!(v1.cfs_period_quota().unwrap(), (100000, -1));
        let err = v1.set_cfs_quota(10).unwrap_err();
        assert_eq!(
            err.message,
            "invalid argument: cfs_quota '10' must be in range (1000, 17592186044415)"
        );
        let err = v1.set_blkio_weight(100).unwrap_err();
        assert_eq!(
            err.message,
            "Requested operation is not valid: blkio device weight is valid only for bfq or \
             cfq scheduler"
        );
        let _ = std::fs::remove_dir_all(&d);
    }
}
