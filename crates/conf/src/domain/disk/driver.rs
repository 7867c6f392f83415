//! A disk's `<driver>` (`virDomainDiskDefDriverParseXML`,
//! `virDomainDiskDefDriverSourceParseXML`, `virDomainDiskDefFormatDriver`):
//! the backend's name, image format, caching, error and I/O policies, and
//! the virtio options.

use super::super::props::{self, attr_struct, vir_enum, TriSwitch, VirEnum};
use super::super::unsupported;
use super::super::virtio::VirtioOptions;
use super::source::StorageFormat;
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainDiskCache` ("default" is accepted and not written).
    pub enum DiskCache {
        Default = "default", None = "none", Writethrough = "writethrough",
        Writeback = "writeback", Directsync = "directsync", Unsafe = "unsafe",
    }

    /// `virDomainDiskErrorPolicy` without "default".
    pub enum ErrorPolicy { Stop = "stop", Report = "report", Ignore = "ignore", Enospace = "enospace" }

    /// `virDomainDiskIo` without "default".
    pub enum DiskIo { Native = "native", Threads = "threads", IoUring = "io_uring" }

    /// `virDomainDiskDiscard` without "default".
    pub enum Discard { Unmap = "unmap", Ignore = "ignore" }

    /// `virDomainDiskDetectZeroes` without "default".
    pub enum DetectZeroes { Off = "off", On = "on", Unmap = "unmap" }
}

/// `<driver>` of a disk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiskDriver {
    pub name: Option<String>,
    /// `type=`: the image format.
    pub format: Option<StorageFormat>,
    pub cache: Option<DiskCache>,
    pub policies: DriverPolicies,
    pub iothread: Option<u32>,
    pub detect_zeroes: Option<DetectZeroes>,
    /// 0: unset.
    pub queues: u32,
    pub queue_size: u32,
    pub virtio: VirtioOptions,
    /// `<metadata_cache><max_size>` in bytes (0: none).
    pub metadata_cache: u64,
}

attr_struct! {
    /// The policies of `<driver>` after `type=`, in libvirt's output order.
    pub struct DriverPolicies {
        /// On write errors (and on read errors without `rerror_policy`).
        error_policy: ErrorPolicy,
        /// On read errors; never `enospace`.
        rerror_policy: ErrorPolicy,
        /// The AIO backend.
        io: DiskIo,
        ioeventfd: TriSwitch,
        event_idx: TriSwitch,
        copy_on_read: TriSwitch,
        /// What the guest's discard requests do.
        discard: Discard,
    }
}

impl DiskDriver {
    pub(crate) fn parse(d: Option<&Element>) -> Result<DiskDriver> {
        let virtio = VirtioOptions::parse(d)?;
        let Some(d) = d else {
            return Ok(DiskDriver::default());
        };
        let name = d.attr_string("name");
        let cache = props::enumeration(d, "cache", false)?;
        let policies = DriverPolicies::parse(d)?;
        if policies.rerror_policy == Some(ErrorPolicy::Enospace) {
            return Err(unsupported("Invalid disk read error policy: 'enospace'"));
        }
        let iothread = props::uint(d, "iothread", false, true)?;
        let detect_zeroes = props::enumeration(d, "detect_zeroes", false)?;
        let queues = props::uint(d, "queues", false, false)?.unwrap_or(0);
        let queue_size = props::uint(d, "queue_size", false, false)?.unwrap_or(0);
        let format = match d.attr("type") {
            None => None,
            // Xen's old spelling of raw.
            Some("aio") => Some(StorageFormat::Raw),
            Some(t) => Some(StorageFormat::parse_named(t, "driver format value")?),
        };
        Ok(DiskDriver {
            name,
            format,
            cache,
            policies,
            iothread,
            detect_zeroes,
            queues,
            queue_size,
            virtio,
            metadata_cache: metadata_cache(d)?,
        })
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.opt("name", self.name.as_deref());
        a.opt("type", self.format.map(VirEnum::as_str));
        let cache = self.cache.filter(|c| *c != DiskCache::Default);
        a.opt("cache", cache.map(VirEnum::as_str));
        a.0.push_str(self.policies.attrs().as_str());
        a.opt("iothread", self.iothread);
        a.opt("detect_zeroes", self.detect_zeroes.map(VirEnum::as_str));
        a.opt("queues", (self.queues != 0).then_some(self.queues));
        a.opt(
            "queue_size",
            (self.queue_size != 0).then_some(self.queue_size),
        );
        a.0.push_str(&self.virtio.attrs());
        super::format_element(w, "driver", a.as_str(), |w| {
            format_metadata_cache(w, self.metadata_cache)
        });
    }
}

/// `virParseScaledValue` of `./metadata_cache/max_size` under `e`, in
/// bytes; 0 when absent.
pub(crate) fn metadata_cache(e: &Element) -> Result<u64> {
    let max = e.child("metadata_cache").and_then(|m| m.child("max_size"));
    let bytes = props::scaled_value(max, "./metadata_cache/max_size", 1, u64::MAX)?;
    Ok(bytes.unwrap_or(0))
}

pub(crate) fn format_metadata_cache(w: &mut Writer, bytes: u64) {
    if bytes > 0 {
        w.elem_with("metadata_cache", "", |w| {
            w.line(&format!("<max_size unit='bytes'>{bytes}</max_size>"))
        });
    }
}
