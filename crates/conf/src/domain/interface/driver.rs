//! `<interface><driver>` of a virtio NIC: its own attributes, the shared
//! virtio options and the `<host>`/`<guest>` offload switches
//! (`virDomainNetDefParseXMLDriver` / `virDomainVirtioNetDriverFormat`).

use super::super::props::{attr_struct, vir_enum, TriSwitch};
use super::super::virtio::VirtioOptions;
use crate::xml::{Element, Writer};
use rvirt_util::Result;
use std::num::NonZeroU32;

vir_enum! {
    /// `virDomainNetDriverType`: the host-side backend.
    pub enum NetDriverName { Qemu = "qemu", Vhost = "vhost" }

    /// `virDomainNetVirtioTxModeType`.
    pub enum TxMode { Iothread = "iothread", Timer = "timer" }
}

attr_struct! {
    /// The virtio-net attributes of `<driver>`, in libvirt's output order.
    pub struct VirtioNetAttrs {
        name: NetDriverName,
        txmode: TxMode,
        ioeventfd: TriSwitch,
        event_idx: TriSwitch,
        /// One queue is the default, kept as unset like libvirt does.
        queues: NonZeroU32,
        rx_queue_size: NonZeroU32,
        tx_queue_size: NonZeroU32,
        rss: TriSwitch,
        rss_hash_report: TriSwitch,
    }
}

attr_struct! {
    /// `<driver><host>`: host-side offloads.
    pub struct HostOffloads {
        csum: TriSwitch,
        gso: TriSwitch,
        tso4: TriSwitch,
        tso6: TriSwitch,
        ecn: TriSwitch,
        ufo: TriSwitch,
        mrg_rxbuf: TriSwitch,
    }
}

attr_struct! {
    /// `<driver><guest>`: guest-side offloads.
    pub struct GuestOffloads {
        csum: TriSwitch,
        tso4: TriSwitch,
        tso6: TriSwitch,
        ecn: TriSwitch,
        ufo: TriSwitch,
    }
}

/// Everything `<driver>` can say about a NIC.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetDriver {
    pub virtio_net: VirtioNetAttrs,
    pub options: VirtioOptions,
    pub host: HostOffloads,
    pub guest: GuestOffloads,
}

impl NetDriver {
    /// The virtio-net parts are read only for a virtio model that is not a
    /// host device (libvirt ignores them otherwise); the shared virtio
    /// options always.
    pub(crate) fn parse(driver: &Element, virtio_net: bool) -> Result<NetDriver> {
        let options = VirtioOptions::parse(Some(driver))?;
        if !virtio_net {
            return Ok(NetDriver {
                options,
                ..NetDriver::default()
            });
        }
        let mut attrs = VirtioNetAttrs::parse(driver)?;
        if attrs.queues.map(NonZeroU32::get) == Some(1) {
            attrs.queues = None;
        }
        let child = |name| driver.child(name);
        Ok(NetDriver {
            virtio_net: attrs,
            options,
            host: child("host")
                .map(HostOffloads::parse)
                .transpose()?
                .unwrap_or_default(),
            guest: child("guest")
                .map(GuestOffloads::parse)
                .transpose()?
                .unwrap_or_default(),
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == NetDriver::default()
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let attrs = format!(
            "{}{}",
            self.virtio_net.attrs().as_str(),
            self.options.attrs()
        );
        let (host, guest) = (self.host.attrs(), self.guest.attrs());
        if attrs.is_empty() && self.host.is_empty() && self.guest.is_empty() {
            return;
        }
        w.elem_with("driver", &attrs, |w| {
            if !self.host.is_empty() {
                w.line(&format!("<host{}/>", host.as_str()));
            }
            if !self.guest.is_empty() {
                w.line(&format!("<guest{}/>", guest.as_str()));
            }
        });
    }
}
