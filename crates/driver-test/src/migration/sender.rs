//! The source's engine: pre-copy passes until what is left fits the
//! bandwidth × max downtime budget, then pause and send the rest; post-copy
//! when asked; auto-converge throttling; bandwidth limiting that follows
//! `migrate_set_max_speed` during the job; abort checked between batches.

use super::channels::ChannelSinks;
use super::compress;
use super::job::{DomainJob, Job, UNLIMITED_MIB};
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

/// Keeps the average rate since the last speed change under max speed.
struct Limiter {
    since: Instant,
    bytes: u64,
    speed: u64,
}

impl Limiter {
    fn new() -> Limiter {
        Limiter {
            since: Instant::now(),
            bytes: 0,
            speed: 0,
        }
    }

    /// Account `n` bytes, sleeping as long as the limit asks (in short
    /// slices, so abort and speed changes take effect promptly).
    fn pace(&mut self, n: u64, speed_of: impl Fn() -> u64, job: &Job) -> Result<()> {
        let speed = speed_of();
        if speed != self.speed {
            self.since = Instant::now();
            self.bytes = 0;
            self.speed = speed;
        }
        self.bytes += n;
        if speed == 0 || speed >= UNLIMITED_MIB {
            return Ok(());
        }
        let due = Duration::from_secs_f64(self.bytes as f64 / (speed as f64 * 1048576.0));
        loop {
            job.check_abort()?;
            if speed_of() != speed {
                return Ok(());
            }
            let elapsed = self.since.elapsed();
            if elapsed >= due {
                return Ok(());
            }
            std::thread::sleep((due - elapsed).min(Duration::from_millis(20)));
        }
    }
}

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
    mem.reset_clock(Instant::now());

    let mut paused_at: Option<Instant> = None;
    let mut postcopy = false;
    if plan.flags & flags::LIVE == 0 {
        // Non-live migration stops the guest before anything moves.
        set_state(
            state,
            dom,
            DomainState::Paused,
            reason::PAUSED_MIGRATION,
            Some((lifecycle::SUSPENDED, lifecycle::SUSPENDED_MIGRATED)),
        )?;
        paused_at = Some(Instant::now());
    }
    job.update(|p| p.setup_time_ms = start.elapsed().as_millis() as u64);

    let auto_converge = plan.flags & flags::AUTO_CONVERGE != 0;
    let mut throttle = 0u32;
    let mut iteration = 0u32;
    let mut limiter = Limiter::new();
    let mut corrupt;
    let mut buf = vec![0u8; PAGE_SIZE];
    let speed_of = || {
        if postcopy_active(job) {
            slot.max_speed_postcopy.load(Ordering::SeqCst)
        } else {
            slot.max_speed.load(Ordering::SeqCst)
        }
    };
    loop {
        if paused_at.is_none() {
            mem.run(Instant::now(), throttle);
        }
        mem.sync();
        iteration += 1;
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
            if paused_at.is_none() {
                pass_dirtied += mem.run(Instant::now(), throttle);
            }
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
        job.update(|p| {
            p.iteration = iteration as u64;
            p.memory_bps = bps;
            p.dirty_rate = (pass_dirtied as f64 / PAGE_SIZE as f64 / secs) as u64;
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
            set_state(
                state,
                dom,
                DomainState::Paused,
                reason::PAUSED_POSTCOPY,
                Some((lifecycle::SUSPENDED, lifecycle::SUSPENDED_POSTCOPY)),
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
            set_state(
                state,
                dom,
                DomainState::Paused,
                reason::PAUSED_MIGRATION,
                Some((lifecycle::SUSPENDED, lifecycle::SUSPENDED_MIGRATED)),
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
    sink.finish()?;
    let downtime = paused_at.map_or(0, |t| t.elapsed().as_millis() as u64);
    job.update(|p| {
        p.data_processed = wire_bytes + out.len() as u64;
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
