//! `rvirtd [--listen] [-f FILE] [-p PIDFILE]`: libvirtd's command line.

use clap::Parser;
use rvirt_util::logging::{self, LogControl, LogSettings};
use rvirtd::server::Server;
use rvirtd::Config;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(
    name = "rvirtd",
    version,
    about = "rvirt's management daemon (libvirtd-compatible)"
)]
struct Args {
    /// Listen for TCP connections (listen_tcp) as well as on unix sockets.
    #[arg(short = 'l', long)]
    listen: bool,
    /// Configuration file, in libvirtd.conf syntax.
    #[arg(short = 'f', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Pid file (default: STATE_DIR/rvirtd.pid).
    #[arg(short = 'p', long = "pid-file", value_name = "FILE")]
    pid_file: Option<PathBuf>,
    /// Log at info level regardless of log_level.
    #[arg(short = 'v', long)]
    verbose: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let cfg = match &args.config {
        Some(path) => Config::from_file(path),
        None => Ok(Config::default()),
    };
    let cfg = match cfg {
        Ok(c) => c,
        Err(e) => return fail(&format!("Can't load config file: {e}")),
    };
    let log = match init_logging(&cfg, args.verbose) {
        Ok(l) => Arc::new(l),
        Err(e) => return fail(&e),
    };
    for key in &cfg.unknown_keys {
        tracing::warn!("ignoring unknown configuration key '{key}'");
    }
    if let Err(e) = cfg.check_supported(args.listen) {
        return fail(&e);
    }
    let pid_path = args
        .pid_file
        .clone()
        .unwrap_or_else(|| cfg.state_dir.join("rvirtd.pid"));
    let pid_file = match PidFile::acquire(&pid_path) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };

    rvirt_driver_test::register();
    // Before the QEMU driver: guests it re-attaches at start may have
    // pool volumes as disks and ports on networks (libvirt initializes
    // its network, storage and secret drivers first too).
    rvirt_driver_network::register();
    rvirt_driver_storage::register();
    rvirt_driver_secret::register();
    rvirt_driver_nwfilter::register();
    rvirt_driver_interface::register();
    rvirt_driver_nodedev::register();
    rvirt_driver_qemu::register();
    // After the local drivers: a peer-to-peer source driver here opens the
    // destination daemon (`test+tcp://...`) through the remote driver.
    rvirt_driver_remote::register_for_daemon();
    if let Err(e) = rvirt::registry::state_initialize(&cfg.state_config()) {
        return fail(&format!(
            "Driver state initialization failed: {}",
            e.message
        ));
    }

    // One reactor thread per CPU (tokio's default): they only move bytes
    // and answer quick reads. `max_workers` bounds the calls running on
    // blocking threads (SessionConfig::workers), as libvirtd's pool does.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rvirtd")
        .build();
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start runtime: {e}")),
    };
    let result = runtime.block_on(async {
        let server = Server::bind(&cfg, args.listen).await?.with_logging(log);
        tracing::info!(pid = std::process::id(), "rvirtd ready");
        server.run(shutdown_signal()).await;
        Ok::<(), String>(())
    });
    // Sessions still open are simply dropped, as libvirtd closes its clients.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    drop(pid_file);
    tracing::info!("rvirtd stopped");
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("rvirtd: error: {msg}");
    ExitCode::FAILURE
}

/// libvirtd's logging: `log_level`, `log_filters` and `log_outputs` from
/// the file, overridden by LIBVIRT_DEBUG, LIBVIRT_LOG_FILTERS and
/// LIBVIRT_LOG_OUTPUTS (`virLogSetFromEnv` runs after the config in
/// daemonSetupLogging); installed reloadably, so virt-admin's
/// daemon-log-filters and daemon-log-outputs change it while rvirtd runs.
fn init_logging(cfg: &Config, verbose: bool) -> Result<LogControl, String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut priority = if verbose && cfg.log_level > 2 {
        2
    } else {
        cfg.log_level as u8
    };
    if let Some(d) = env("LIBVIRT_DEBUG") {
        priority = d
            .parse::<u8>()
            .ok()
            .filter(|p| (1..=4).contains(p))
            .ok_or_else(|| format!("Failed to set logging priority, argument '{d}' is invalid"))?;
    }
    let filters = env("LIBVIRT_LOG_FILTERS").unwrap_or_else(|| cfg.log_filters.clone());
    let outputs = env("LIBVIRT_LOG_OUTPUTS").unwrap_or_else(|| cfg.log_outputs.clone());
    let outputs = if outputs.trim().is_empty() {
        LogSettings::default_outputs(priority)
    } else {
        logging::parse_outputs(&outputs)?
    };
    let settings = LogSettings {
        priority,
        filters: logging::parse_filters(&filters)?,
        outputs,
    };
    settings.install_reloadable()
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => tracing::info!("received SIGTERM"),
        _ = int.recv() => tracing::info!("received SIGINT"),
    }
}

/// A pid file held under an exclusive lock for the daemon's life, so a
/// second daemon with the same one refuses to start (libvirt's
/// `virPidFileAcquirePath`); removed on clean exit.
struct PidFile {
    path: PathBuf,
    _lock: nix::fcntl::Flock<std::fs::File>,
}

impl PidFile {
    fn acquire(path: &Path) -> Result<PidFile, String> {
        let fail = |e: &dyn std::fmt::Display| {
            format!("Failed to acquire pid file '{}': {e}", path.display())
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| fail(&rvirt_util::error::strerror(&e)))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| fail(&rvirt_util::error::strerror(&e)))?;
        let mut lock = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock)
            .map_err(|(_, errno)| fail(&errno.desc()))?;
        lock.set_len(0).map_err(|e| fail(&e))?;
        writeln!(&mut *lock, "{}", std::process::id()).map_err(|e| fail(&e))?;
        Ok(PidFile {
            path: path.to_path_buf(),
            _lock: lock,
        })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
