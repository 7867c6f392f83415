//! The progress arithmetic behind `migrate --verbose`: virsh's percentage,
//! measured throughput, and ETA = remaining / (bandwidth - dirty rate).

use rvirsh::progress::{
    bar_message, eta, human_bytes, virsh_percent, virsh_progress_text, Eta, RateMeter, Snapshot,
};
use rvirt::job::{field, job_type};
use rvirt_util::{TypedParamValue as V, TypedParams};

const MIB: u64 = 1024 * 1024;

#[test]
fn eta_is_remaining_over_net_rate() {
    // 100 MiB left, 30 MiB/s sent, 10 MiB/s dirtied: 5 s.
    let e = eta(100 * MIB, Some(30.0 * MIB as f64), 10.0 * MIB as f64);
    assert_eq!(e, Eta::Seconds(5.0));
    assert_eq!(e.to_string(), "5s");
    // No dirtying: plain transfer time.
    assert_eq!(eta(MIB, Some(MIB as f64 / 2.0), 0.0), Eta::Seconds(2.0));
}

#[test]
fn no_eta_when_the_guest_dirties_as_fast_as_we_send() {
    let bw = 10.0 * MIB as f64;
    assert_eq!(eta(MIB, Some(bw), bw), Eta::NotConverging);
    assert_eq!(eta(MIB, Some(bw), bw * 2.0), Eta::NotConverging);
    assert_eq!(Eta::NotConverging.to_string(), "∞ (not converging)");
}

#[test]
fn eta_edge_cases() {
    assert_eq!(eta(0, None, 1e9), Eta::Done);
    assert_eq!(Eta::Done.to_string(), "0s");
    assert_eq!(eta(MIB, None, 0.0), Eta::Unknown);
    assert_eq!(eta(MIB, Some(0.0), 0.0), Eta::Unknown);
    assert_eq!(eta(MIB, Some(f64::NAN), 0.0), Eta::Unknown);
    assert_eq!(Eta::Unknown.to_string(), "?");
    assert_eq!(Eta::Seconds(0.2).to_string(), "1s");
    assert_eq!(Eta::Seconds(65.0).to_string(), "1m05s");
    assert_eq!(Eta::Seconds(3725.0).to_string(), "1h02m05s");
}

#[test]
fn virsh_percentage_and_text() {
    // (remaining, total, percent done): never 100 while data remains.
    for (remaining, total, percent) in [
        (0, 100, 100),
        (1, u64::MAX, 99),
        (100, 100, 0),
        (33, 100, 67),
    ] {
        assert_eq!(
            virsh_percent(remaining, total),
            percent,
            "{remaining}/{total}"
        );
    }
    for (remaining, total, text) in [
        (0, 1, "\rMigration: [100 %]"),
        (95, 100, "\rMigration: [  5 %]"),
    ] {
        assert_eq!(virsh_progress_text("Migration", remaining, total), text);
    }
}

#[test]
fn rate_meter_measures_and_smooths() {
    let mut m = RateMeter::new();
    assert_eq!(m.update(0.0, 0), None);
    assert_eq!(m.update(1.0, 10 * MIB), Some(10.0 * MIB as f64));
    // A same-time reading changes nothing.
    assert_eq!(m.update(1.0, 50 * MIB), Some(10.0 * MIB as f64));
    // 20 MiB/s next: moved 30 % of the way from 10 to 20.
    let r = m.update(2.0, 30 * MIB).unwrap();
    assert!((r - 13.0 * MIB as f64).abs() < 1.0, "{r}");
    // A counter that goes back is a new job.
    assert_eq!(m.update(3.0, MIB), None);
    assert_eq!(m.rate(), None);
}

#[test]
fn snapshot_reads_job_stats() {
    let stats = TypedParams::new()
        .with(field::DATA_TOTAL, V::ULLong(1024 * MIB))
        .with(field::DATA_REMAINING, V::ULLong(512 * MIB))
        .with(field::MEMORY_TOTAL, V::ULLong(1024 * MIB))
        .with(field::MEMORY_PROCESSED, V::ULLong(600 * MIB))
        .with(field::MEMORY_REMAINING, V::ULLong(500 * MIB))
        .with(field::MEMORY_DIRTY_RATE, V::ULLong(256))
        .with(field::MEMORY_PAGE_SIZE, V::ULLong(4096))
        .with(field::MEMORY_BPS, V::ULLong(100 * MIB))
        .with(field::MEMORY_ITERATION, V::ULLong(2));
    let s = Snapshot::from_stats(job_type::UNBOUNDED, &stats);
    assert_eq!(s.total(), 1024 * MIB);
    assert_eq!(s.remaining(), 500 * MIB);
    assert_eq!(s.processed(), 600 * MIB);
    assert_eq!(s.dirty_rate, MIB as f64, "256 pages/s of 4 KiB");
    assert_eq!(s.iteration, Some(2));
    // Measured 51 MiB/s beats the hypervisor's figure: 500 / (51 - 1) s.
    assert_eq!(s.eta(Some(51.0 * MIB as f64)), Eta::Seconds(10.0));
    // Nothing measured yet: the hypervisor's 100 MiB/s.
    assert_eq!(s.eta(None), Eta::Seconds(500.0 / 99.0));
    assert_eq!(
        bar_message(&s, Some(51.0 * MIB as f64)),
        "600.0 MiB/1.0 GiB  51.0 MiB/s  iteration 2  ETA 10s"
    );
    // Without memory figures, data figures stand in.
    let data_only = TypedParams::new()
        .with(field::DATA_TOTAL, V::ULLong(100))
        .with(field::DATA_REMAINING, V::ULLong(40));
    let s = Snapshot::from_stats(job_type::UNBOUNDED, &data_only);
    assert_eq!((s.total(), s.remaining(), s.processed()), (100, 40, 60));
    assert_eq!(bar_message(&s, None), "60 B/100 B  -  ETA ?");
}

#[test]
fn human_units() {
    assert_eq!(human_bytes(0.0), "0 B");
    assert_eq!(human_bytes(1023.0), "1023 B");
    assert_eq!(human_bytes(1536.0), "1.5 KiB");
    assert_eq!(human_bytes(3.0 * 1024.0 * MIB as f64), "3.0 GiB");
}
