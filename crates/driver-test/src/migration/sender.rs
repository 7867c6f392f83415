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
use super::job::{DomainJob, Job};
use super::limiter::Limiter;
use super::memory::{GuestMemory, PAGE_SIZE};
use super::options::MtCompression;
use super::transport::Sink;
use super::wire::{Header, Message, Page, PageData, BATCH_PAGES};
use crate::state::TestState;
use rvirt::driver::DomainRef;
use rvirt::events::{lifecycle, DomainEvent};
use rvirt::migration::flags;
use rvirt::types::{reason, DomainState};
use rvirt_util::Result;
use std::sync::atomic::Ordering;
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

/// Run the memory transfer of one outgoing migration.
#[allow(clippy::too_many_arguments)]
pub fn send(
    state: &TestState,
    dom: &DomainRef,
    slot: &DomainJob,
    job: &Job,
    mem: &mut GuestMemory,
    sink: &mut dyn Sink,
    mut channels: Option<&mut ChannelSinks>,
    plan: &SendPlan,
) -> Result<SendOutcome> {
    let start = Instant::now();
    let total = mem.pages() * PAGE_SIZE as u64;
    job.update(|p| {
        p.memory_total = total;
        p.memory_remaining = total;
        p.compression = plan.mt.is_some();
    });
    let mut wire_bytes = 0u64;
    let mut out = Vec::with_capacity(BATCH_PAGES * (PAGE_SIZE + 16));
    Message::Header(plan.header.clone()).write(&mut out);
    sink.send(&out)?;
    wire_bytes += out.len() as u64;
    mem.mark_all_dirty();
    mem.reset_clock(ran(state, dom));

    let mut paused_at: Option<Instant> = None;
    let mut postcopy = false;
    if plan.flags & flags::LIVE == 0 {
        // Non-live migration stops the guest before anything moves.
        stop_vcpus(
            state,
            dom,
            reason::PAUSED_MIGRATION,
            lifecycle::SUSPENDED_MIGRATED,
        )?;
        paused_at = Some(Instant::now());
    }
    job.update(|p| p.setup_time_ms = start.elapsed().as_millis() as u64);

    // The transfer, as QEMU times it for `mbps`: from the end of setup. The
    // header counts against the limit like every other byte on the wire.
    let transfer_start = Instant::now();
    let mut limiter = Limiter::new(transfer_start);
    let (mut window_start, mut window_bytes) = (transfer_start, wire_bytes);
    let auto_converge = plan.flags & flags::AUTO_CONVERGE != 0;
    let mut throttle = 0u32;
    let mut iteration = 0u32;
    let mut corrupt;
    let mut buf = vec![0u8; PAGE_SIZE];
    let speed_of = || {
        if postcopy_active(job) {
            slot.max_speed_postcopy.load(Ordering::SeqCst)
        } else {
            slot.max_speed.load(Ordering::SeqCst)
        }
    };
    limiter.pace(wire_bytes, speed_of, job)?;
    loop {
        mem.run(ran(state, dom), throttle);
        mem.sync();
        iteration += 1;
        // The dirty rate is measured on passes the migration did not stop
        // the guest for; the remainder's pass keeps the last measurement.
        let measured = paused_at.is_none();
        let pass_start = Instant::now();
        // The corrupt-page hook spoils the first written page of every pass:
        // a page spoiled once could be dirtied and re-sent intact later, but
        // the last pass that sends any page leaves one spoiled for good.
        corrupt = plan.corrupt;
        let (mut pass_bytes, mut pass_dirtied) = (0u64, 0u64);
        loop {
            let batch = mem.next_batch(BATCH_PAGES);
            if batch.is_empty() {
                break;
            }
            job.check_abort()?;
            pass_dirtied += mem.run(ran(state, dom), throttle);
            let (mut zero, mut normal) = (0u64, 0u64);
            let mut pages: Vec<Page> = batch
                .iter()
                .map(|&index| {
                    let data = if mem.read_page(index, &mut buf) {
                        normal += 1;
                        let mut bytes = buf.clone();
                        if corrupt {
                            bytes[0] ^= 0xff;
                            corrupt = false;
                        }
                        PageData::Raw(bytes)
                    } else {
                        zero += 1;
                        PageData::Zero
                    };
                    Page { index, data }
                })
                .collect();
            let comp = match plan.mt {
                Some(mt) => compress::compress_batch(&mut pages, mt.level, mt.threads),
                None => compress::Compressed::default(),
            };
            let n = match channels.as_deref_mut() {
                Some(ch) => ch.send_pages(iteration, pages)?,
                None => {
                    out.clear();
                    Message::Pages { iteration, pages }.write(&mut out);
                    sink.send(&out)?;
                    out.len() as u64
                }
            };
            wire_bytes += n;
            pass_bytes += n;
            let remaining = (mem.pass_remaining() + mem.dirty_pages()) * PAGE_SIZE as u64;
            job.update(|p| {
                p.data_processed = wire_bytes;
                p.memory_processed += normal * PAGE_SIZE as u64 + zero * 8;
                p.constant_pages += zero;
                p.normal_pages += normal;
                p.normal_bytes += normal * PAGE_SIZE as u64;
                p.memory_remaining = remaining;
                p.compressed_pages += comp.pages;
                p.compressed_bytes += comp.bytes;
            });
            limiter.pace(n, speed_of, job)?;
            window_bytes += n;
            if window_start.elapsed() >= BPS_WINDOW {
                let bps = rate(window_bytes, window_start);
                job.update(|p| p.memory_bps = bps);
                (window_start, window_bytes) = (Instant::now(), 0);
            }
            if paused_at.is_none() && job.postcopy_requested.load(Ordering::SeqCst) {
                break;
            }
        }
        let secs = pass_start.elapsed().as_secs_f64().max(1e-6);
        let bps = (pass_bytes as f64 / secs) as u64;
        let remaining = (mem.pass_remaining() + mem.dirty_pages()) * PAGE_SIZE as u64;
        out.clear();
        Message::Iteration {
            iteration,
            remaining,
        }
        .write(&mut out);
        sink.send(&out)?;
        wire_bytes += out.len() as u64;
        window_bytes += out.len() as u64;
        limiter.pace(out.len() as u64, speed_of, job)?;
        job.update(|p| {
            p.iteration = iteration as u64;
            if p.memory_bps == 0 {
                // No full window yet: the pass's own rate.
                p.memory_bps = bps;
            }
            if measured {
                p.dirty_rate = (pass_dirtied as f64 / PAGE_SIZE as f64 / secs) as u64;
            }
            p.memory_remaining = remaining;
            p.throttle = throttle;
            p.time_remaining_ms = Some(remaining * 1000 / bps.max(1));
            p.data_processed = wire_bytes;
        });
        emit(
            state,
            dom,
            DomainEvent::MigrationIteration {
                iteration: iteration as i32,
            },
        );
        if paused_at.is_some() && mem.pass_remaining() == 0 && mem.dirty_pages() == 0 {
            break;
        }
        if paused_at.is_some() {
            continue;
        }
        let limit = speed_of().saturating_mul(1048576);
        let bandwidth = if limit == 0 { bps } else { bps.min(limit) };
        let budget = bandwidth.saturating_mul(slot.max_downtime.load(Ordering::SeqCst)) / 1000;
        if job.postcopy_requested.load(Ordering::SeqCst) {
            stop_vcpus(
                state,
                dom,
                reason::PAUSED_POSTCOPY,
                lifecycle::SUSPENDED_POSTCOPY,
            )?;
            out.clear();
            Message::PostcopySwitch.write(&mut out);
            sink.send(&out)?;
            paused_at = Some(Instant::now());
            postcopy = true;
            job.update(|p| p.downtime_ms = Some(0));
            continue;
        }
        if remaining <= budget {
            stop_vcpus(
                state,
                dom,
                reason::PAUSED_MIGRATION,
                lifecycle::SUSPENDED_MIGRATED,
            )?;
            paused_at = Some(Instant::now());
            continue;
        }
        if auto_converge && pass_dirtied > pass_bytes / 2 {
            throttle = if throttle == 0 {
                plan.ac_initial
            } else {
                throttle + plan.ac_increment
            }
            .min(99);
            job.update(|p| p.throttle = throttle);
        }
    }
    job.check_abort()?;
    // The channels' pages must all be out before the main stream completes.
    if let Some(ch) = channels {
        ch.finish()?;
    }
    let digest = mem.digest();
    out.clear();
    Message::Complete { digest }.write(&mut out);
    sink.send(&out)?;
    wire_bytes += out.len() as u64;
    limiter.pace(out.len() as u64, speed_of, job)?;
    // QEMU's completed `mbps`: every byte over the whole transfer time, so
    // under a bandwidth cap it never reads above the cap.
    let bps = rate(wire_bytes, transfer_start);
    sink.finish()?;
    let downtime = paused_at.map_or(0, |t| t.elapsed().as_millis() as u64);
    job.update(|p| {
        p.data_processed = wire_bytes;
        p.memory_bps = bps;
        p.memory_remaining = 0;
        p.time_remaining_ms = Some(0);
        if !postcopy {
            p.downtime_ms = Some(downtime);
        }
    });
    Ok(SendOutcome { digest, postcopy })
}

fn postcopy_active(job: &Job) -> bool {
    job.postcopy_requested.load(Ordering::SeqCst)
}
