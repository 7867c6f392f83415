//! The source's engine: pre-copy passes until what is left fits the
//! bandwidth × max downtime budget, then pause and send the rest; post-copy
//! when asked; auto-converge throttling; bandwidth limiting that follows
//! `migrate_set_max_speed` during the job; abort checked between batches
//! (and, through the job's interrupts, in blocking writes too).
//!
//! The guest dirties memory only while it runs: the domain's run clock
//! stands still while it is paused, by the user or by the migration.

use super::channels::ChannelSinks;
use super::compress;
use super::limiter::Limiter;
use super::memory::{GuestMemory, PAGE_SIZE};
use super::transport::Sink;
use super::wire::{Header, Message, Page, PageData, BATCH_PAGES};
use crate::state::TestState;
use rvirt::driver::DomainRef;
use rvirt::events::{lifecycle, DomainEvent};
use rvirt::migration::flags;
use rvirt::types::{reason, DomainState};
use rvirt_hypervisor::rules::MtCompression;
use rvirt_hypervisor::Job;
use rvirt_util::Result;
use std::time::{Duration, Instant};

pub struct SendPlan {
    pub flags: u32,
    pub header: Header,
    /// Auto-converge: first throttle and step, in percent.
    pub ac_initial: u32,
    pub ac_increment: u32,
    /// Flip a page's bytes in transit (fault injection).
    pub corrupt: bool,
    /// Deflate pages with this many threads at this level.
    pub mt: Option<MtCompression>,
}

pub struct SendOutcome {
    pub digest: [u8; 32],
    pub postcopy: bool,
}

/// Move the source guest to `state`/`why`, raising a lifecycle event.
pub fn set_state(
    state: &TestState,
    dom: &DomainRef,
    to: DomainState,
    why: i32,
    event: Option<(i32, i32)>,
) -> Result<()> {
    state.with(|inner| {
        let obj = inner.domains.get_mut(dom)?;
        obj.set_state(to, why);
        let r = obj.domain_ref();
        if let Some((e, d)) = event {
            inner.emit_lifecycle(r, e, d);
        }
        Ok(())
    })
}

pub fn emit(state: &TestState, dom: &DomainRef, event: DomainEvent) {
    let _ = state.with(|inner| {
        inner.emit(dom.clone(), event);
        Ok(())
    });
}

/// The guest's running time now (zero once it is gone).
fn ran(state: &TestState, dom: &DomainRef) -> Duration {
    let now = Instant::now();
    state
        .lock()
        .domains
        .get(dom)
        .map_or(Duration::ZERO, |o| o.run_clock.ran(now))
}

/// Stop the guest's vCPUs for switch-over (or post-copy) unless they are
/// stopped already: a guest the user paused stays paused as the user left
/// it, so a failed migration does not resume it.
fn stop_vcpus(state: &TestState, dom: &DomainRef, why: i32, detail: i32) -> Result<()> {
    state.with(|inner| {
        let obj = inner.domains.get_mut(dom)?;
        if obj.state == DomainState::Running {
            obj.set_state(DomainState::Paused, why);
            let r = obj.domain_ref();
            inner.emit_lifecycle(r, lifecycle::SUSPENDED, detail);
        }
        Ok(())
    })
}

/// Bytes per second over a span, for `memory_bps`.
fn rate(bytes: u64, since: Instant) -> u64 {
    (bytes as f64 / since.elapsed().as_secs_f64().max(1e-6)) as u64
}

/// How long the active job's `memory_bps` averages over (QEMU refreshes
/// its `mbps` every iteration of its migration thread).
const BPS_WINDOW: Duration = Duration::from_secs(1);

/// What one outgoing transfer works with.
pub struct Transfer<'a> {
    pub state: &'a TestState,
    pub dom: &'a DomainRef,
    pub job: &'a Job,
    pub mem: &'a mut GuestMemory,
    pub sink: &'a mut dyn Sink,
    pub channels: Option<&'a mut ChannelSinks>,
    pub plan: &'a SendPlan,
}

/// A transfer's running counters, from the end of setup to completion.
struct Progress {
    wire_bytes: u64,
    /// Encoding buffer for messages on the main stream.
    out: Vec<u8>,
    /// One page read from guest memory.
    page: Vec<u8>,
    limiter: Limiter,
    /// The transfer, as QEMU times it for `mbps`: from the end of setup.
    transfer_start: Instant,
    window_start: Instant,
    window_bytes: u64,
    throttle: u32,
    iteration: u32,
    /// When the vCPUs stopped for switch-over (or post-copy).
    paused_at: Option<Instant>,
    postcopy: bool,
}

/// What one pass over the dirty pages measured.
struct Pass {
    bytes: u64,
    dirtied: u64,
    secs: f64,
    bps: u64,
    remaining: u64,
}

/// Run the memory transfer of one outgoing migration: setup, passes until
/// the rest fits the downtime budget (or post-copy is asked for), then the
/// paused remainder and the completion message.
pub fn send(mut t: Transfer) -> Result<SendOutcome> {
    let mut p = t.setup()?;
    loop {
        let pass = t.pass(&mut p)?;
        t.end_pass(&mut p, &pass)?;
        if !t.next_pass(&mut p, &pass)? {
            break;
        }
    }
    t.complete(p)
}

impl Transfer<'_> {
    /// `max_speed` in MiB/s: the post-copy one once post-copy was asked for.
    fn speed(&self) -> u64 {
        self.job.max_speed()
    }

    fn pace(&self, p: &mut Progress, n: u64) -> Result<()> {
        p.limiter.pace(n, || self.speed(), self.job)
    }

    fn ran(&self) -> Duration {
        ran(self.state, self.dom)
    }

    /// Write one message on the main stream, counting it on the wire.
    fn write(&mut self, p: &mut Progress, m: Message) -> Result<u64> {
        p.out.clear();
        m.write(&mut p.out);
        self.sink.send(&p.out)?;
        let n = p.out.len() as u64;
        p.wire_bytes += n;
        Ok(n)
    }

    /// The header, all pages dirty, the guest stopped first when the
    /// migration is not live; setup time recorded.
    fn setup(&mut self) -> Result<Progress> {
        let start = Instant::now();
        let total = self.mem.pages() * PAGE_SIZE as u64;
        let compressed = self.plan.mt.is_some();
        self.job.update(|p| {
            p.memory_total = total;
            p.memory_remaining = total;
            p.compression = compressed;
        });
        let now = Instant::now();
        let mut p = Progress {
            wire_bytes: 0,
            out: Vec::with_capacity(BATCH_PAGES * (PAGE_SIZE + 16)),
            page: vec![0u8; PAGE_SIZE],
            limiter: Limiter::new(now),
            transfer_start: now,
            window_start: now,
            window_bytes: 0,
            throttle: 0,
            iteration: 0,
            paused_at: None,
            postcopy: false,
        };
        self.write(&mut p, Message::Header(self.plan.header.clone()))?;
        self.mem.mark_all_dirty();
        self.mem.reset_clock(self.ran());
        if self.plan.flags & flags::LIVE == 0 {
            // Non-live migration stops the guest before anything moves.
            self.stop_for(
                &mut p,
                reason::PAUSED_MIGRATION,
                lifecycle::SUSPENDED_MIGRATED,
            )?;
        }
        self.job
            .update(|s| s.setup_time_ms = start.elapsed().as_millis() as u64);
        // The header counts against the limit like every other byte on the
        // wire, from the end of setup.
        let now = Instant::now();
        (p.limiter, p.transfer_start) = (Limiter::new(now), now);
        (p.window_start, p.window_bytes) = (now, p.wire_bytes);
        let header_bytes = p.wire_bytes;
        self.pace(&mut p, header_bytes)?;
        Ok(p)
    }

    fn stop_for(&mut self, p: &mut Progress, why: i32, detail: i32) -> Result<()> {
        stop_vcpus(self.state, self.dom, why, detail)?;
        p.paused_at = Some(Instant::now());
        Ok(())
    }

    /// One pass: every page dirty at its start, in batches, while the
    /// guest (if it runs) dirties more.
    fn pass(&mut self, p: &mut Progress) -> Result<Pass> {
        self.mem.run(self.ran(), p.throttle);
        self.mem.sync();
        p.iteration += 1;
        let pass_start = Instant::now();
        // The corrupt-page hook spoils the first written page of every pass:
        // a page spoiled once could be dirtied and re-sent intact later, but
        // the last pass that sends any page leaves one spoiled for good.
        let mut corrupt = self.plan.corrupt;
        let (mut bytes, mut dirtied) = (0u64, 0u64);
        loop {
            let batch = self.mem.next_batch(BATCH_PAGES);
            if batch.is_empty() {
                break;
            }
            self.job.check_abort()?;
            dirtied += self.mem.run(self.ran(), p.throttle);
            bytes += self.send_batch(p, &batch, &mut corrupt)?;
            if p.paused_at.is_none() && postcopy_active(self.job) {
                break;
            }
        }
        let secs = pass_start.elapsed().as_secs_f64().max(1e-6);
        Ok(Pass {
            bytes,
            dirtied,
            secs,
            bps: (bytes as f64 / secs) as u64,
            remaining: self.remaining(),
        })
    }

    fn remaining(&self) -> u64 {
        (self.mem.pass_remaining() + self.mem.dirty_pages()) * PAGE_SIZE as u64
    }

    /// Read, maybe compress, and send one batch of pages; update the
    /// job's counters and the `memory_bps` window. Returns the bytes sent.
    fn send_batch(&mut self, p: &mut Progress, batch: &[u64], corrupt: &mut bool) -> Result<u64> {
        let (mut zero, mut normal) = (0u64, 0u64);
        let mut pages: Vec<Page> = Vec::with_capacity(batch.len());
        for &index in batch {
            let data = if self.mem.read_page(index, &mut p.page) {
                normal += 1;
                let mut bytes = p.page.clone();
                if std::mem::take(corrupt) {
                    bytes[0] ^= 0xff;
                }
                PageData::Raw(bytes)
            } else {
                zero += 1;
                PageData::Zero
            };
            pages.push(Page { index, data });
        }
        let comp = match self.plan.mt {
            Some(mt) => compress::compress_batch(&mut pages, mt.level, mt.threads),
            None => compress::Compressed::default(),
        };
        let iteration = p.iteration;
        let n = match self.channels.as_deref_mut() {
            Some(ch) => {
                let n = ch.send_pages(iteration, pages)?;
                p.wire_bytes += n;
                n
            }
            None => self.write(p, Message::Pages { iteration, pages })?,
        };
        let (wire_bytes, remaining) = (p.wire_bytes, self.remaining());
        self.job.update(|s| {
            s.data_processed = wire_bytes;
            s.memory_processed += normal * PAGE_SIZE as u64 + zero * 8;
            s.constant_pages += zero;
            s.normal_pages += normal;
            s.normal_bytes += normal * PAGE_SIZE as u64;
            s.memory_remaining = remaining;
            s.compressed_pages += comp.pages;
            s.compressed_bytes += comp.bytes;
        });
        self.pace(p, n)?;
        p.window_bytes += n;
        if p.window_start.elapsed() >= BPS_WINDOW {
            let bps = rate(p.window_bytes, p.window_start);
            self.job.update(|s| s.memory_bps = bps);
            (p.window_start, p.window_bytes) = (Instant::now(), 0);
        }
        Ok(n)
    }

    /// Tell the destination the pass is over; record its figures and raise
    /// the migration-iteration event.
    fn end_pass(&mut self, p: &mut Progress, pass: &Pass) -> Result<()> {
        let (iteration, remaining) = (p.iteration, pass.remaining);
        let n = self.write(
            p,
            Message::Iteration {
                iteration,
                remaining,
            },
        )?;
        p.window_bytes += n;
        self.pace(p, n)?;
        // The dirty rate is measured on passes the migration did not stop
        // the guest for; the remainder's pass keeps the last measurement.
        let measured = p.paused_at.is_none();
        let (throttle, wire_bytes) = (p.throttle, p.wire_bytes);
        self.job.update(|s| {
            s.iteration = iteration as u64;
            if s.memory_bps == 0 {
                // No full window yet: the pass's own rate.
                s.memory_bps = pass.bps;
            }
            if measured {
                s.dirty_rate = (pass.dirtied as f64 / PAGE_SIZE as f64 / pass.secs) as u64;
            }
            s.memory_remaining = remaining;
            s.throttle = throttle;
            s.time_remaining_ms = Some(remaining * 1000 / pass.bps.max(1));
            s.data_processed = wire_bytes;
        });
        let event = DomainEvent::MigrationIteration {
            iteration: iteration as i32,
        };
        emit(self.state, self.dom, event);
        Ok(())
    }

    /// After a pass: switch to post-copy, stop the guest for the remainder,
    /// or throttle it (auto-converge) and go on. False when nothing is left.
    fn next_pass(&mut self, p: &mut Progress, pass: &Pass) -> Result<bool> {
        if p.paused_at.is_some() {
            return Ok(self.mem.pass_remaining() != 0 || self.mem.dirty_pages() != 0);
        }
        let limit = self.speed().saturating_mul(1048576);
        let bandwidth = if limit == 0 {
            pass.bps
        } else {
            pass.bps.min(limit)
        };
        let max_downtime = self.job.tunables().max_downtime;
        let budget = bandwidth.saturating_mul(max_downtime) / 1000;
        if postcopy_active(self.job) {
            stop_vcpus(
                self.state,
                self.dom,
                reason::PAUSED_POSTCOPY,
                lifecycle::SUSPENDED_POSTCOPY,
            )?;
            // The switch message is counted on the wire, not paced.
            self.write(p, Message::PostcopySwitch)?;
            p.paused_at = Some(Instant::now());
            p.postcopy = true;
            self.job.update(|s| s.downtime_ms = Some(0));
        } else if pass.remaining <= budget {
            self.stop_for(p, reason::PAUSED_MIGRATION, lifecycle::SUSPENDED_MIGRATED)?;
        } else if self.plan.flags & flags::AUTO_CONVERGE != 0 && pass.dirtied > pass.bytes / 2 {
            p.throttle = if p.throttle == 0 {
                self.plan.ac_initial
            } else {
                p.throttle + self.plan.ac_increment
            }
            .min(99);
            let throttle = p.throttle;
            self.job.update(|s| s.throttle = throttle);
        }
        Ok(true)
    }

    /// The last pages out on every channel, the digest, the completed
    /// job's figures.
    fn complete(mut self, mut p: Progress) -> Result<SendOutcome> {
        self.job.check_abort()?;
        // The channels' pages must all be out before the main stream completes.
        if let Some(ch) = self.channels.as_deref_mut() {
            ch.finish()?;
        }
        let digest = self.mem.digest();
        let n = self.write(&mut p, Message::Complete { digest })?;
        self.pace(&mut p, n)?;
        // QEMU's completed `mbps`: every byte over the whole transfer time, so
        // under a bandwidth cap it never reads above the cap.
        let bps = rate(p.wire_bytes, p.transfer_start);
        self.sink.finish()?;
        let downtime = p.paused_at.map_or(0, |t| t.elapsed().as_millis() as u64);
        let (wire_bytes, postcopy) = (p.wire_bytes, p.postcopy);
        self.job.update(|s| {
            s.data_processed = wire_bytes;
            s.memory_bps = bps;
            s.memory_remaining = 0;
            s.time_remaining_ms = Some(0);
            if !postcopy {
                s.downtime_ms = Some(downtime);
            }
        });
        Ok(SendOutcome { digest, postcopy })
    }
}

fn postcopy_active(job: &Job) -> bool {
    job.postcopy_requested()
}
