//! The recording driver and daemon helpers of the migration wire tests:
//! a fake hypervisor that records what reaches it over rvirtd.

use rvirt::driver::{ConnectDriver, DomainRef, HypervisorConnection, OpenOutcome, ParamsArgs};
use rvirt::job::{field, job_type, stats_flags};
use rvirt::migration::params as mparams;
use rvirt::{JobInfo, MigrationDriver, Stream, StreamBackend};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParamValue, TypedParams, Uri};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- fake driver

pub const UUID: [u8; 16] = [
    0x66, 0x95, 0xeb, 1, 0xf6, 0xa4, 0x83, 4, 0x79, 0xaa, 0x97, 0xf2, 0x50, 0x2e, 0x19, 0x3f,
];

/// What one `fake:///NAME` host saw.
#[derive(Default)]
pub struct Host {
    pub received: Vec<u8>,
    pub finished: bool,
    pub aborted: bool,
    /// The sink fails once it holds this many bytes.
    pub fail_at: Option<usize>,
    pub job_running: bool,
    pub job_aborted: bool,
    pub abort_flags: Option<u32>,
    pub max_speed: u64,
    pub max_downtime: u64,
}

#[derive(Default)]
pub struct HostCell {
    pub host: Mutex<Host>,
    pub cond: Condvar,
}

impl HostCell {
    pub fn with<T>(&self, f: impl FnOnce(&mut Host) -> T) -> T {
        let r = f(&mut self.host.lock().unwrap());
        self.cond.notify_all();
        r
    }

    /// Wait (up to 10 s) until `f` holds.
    pub fn wait_for(&self, f: impl Fn(&Host) -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut h = self.host.lock().unwrap();
        while !f(&h) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            h = self.cond.wait_timeout(h, left).unwrap().0;
        }
        true
    }
}

pub fn hosts() -> &'static Mutex<HashMap<String, Arc<HostCell>>> {
    static HOSTS: OnceLock<Mutex<HashMap<String, Arc<HostCell>>>> = OnceLock::new();
    HOSTS.get_or_init(Default::default)
}

pub fn host(name: &str) -> Arc<HostCell> {
    hosts()
        .lock()
        .unwrap()
        .entry(name.to_string())
        .or_insert_with(|| {
            let cell = HostCell::default();
            cell.with(|h| {
                h.max_speed = 8_796_093_022_207;
                h.max_downtime = 300;
            });
            Arc::new(cell)
        })
        .clone()
}

pub struct FakeDriver;

impl ConnectDriver for FakeDriver {
    fn name(&self) -> &'static str {
        "Fake"
    }
    fn open(&self, uri: &Uri, _flags: u32) -> Result<OpenOutcome> {
        if uri.driver() != "fake" || uri.is_remote() {
            return Ok(OpenOutcome::Declined);
        }
        let name = uri.path.trim_start_matches('/').to_string();
        Ok(OpenOutcome::Opened(Arc::new(FakeConn {
            uri: format!("fake:///{name}"),
            host: host(&name),
        })))
    }
}

pub struct FakeConn {
    pub uri: String,
    pub host: Arc<HostCell>,
}

pub fn test_dom() -> DomainRef {
    DomainRef {
        name: "test".into(),
        uuid: UUID,
        id: 1,
    }
}

impl HypervisorConnection for FakeConn {
    fn get_type(&self) -> Result<String> {
        Ok("FAKE".into())
    }
    fn get_uri(&self) -> Result<String> {
        Ok(self.uri.clone())
    }
    fn domain_lookup_by_name(&self, name: &str) -> Result<DomainRef> {
        if name == "test" {
            return Ok(test_dom());
        }
        Err(Error::new(
            ErrorDomain::TEST,
            ErrorCode::NO_DOMAIN,
            format!("no domain with matching name '{name}'"),
        ))
    }
    fn domain_lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<DomainRef> {
        if *uuid == UUID {
            return Ok(test_dom());
        }
        Err(Error::new(
            ErrorDomain::TEST,
            ErrorCode::NO_DOMAIN,
            "no domain with matching uuid",
        ))
    }
}

/// The sink a tunnelled prepare attaches: records, or fails at `fail_at`.
pub struct Sink(Arc<HostCell>);

impl StreamBackend for Sink {
    fn send(&self, data: &[u8]) -> Result<()> {
        self.0.with(|h| {
            h.received.extend_from_slice(data);
            match h.fail_at {
                Some(n) if h.received.len() >= n => Err(Error::new(
                    ErrorDomain::STREAMS,
                    ErrorCode::OPERATION_FAILED,
                    "sink full",
                )),
                _ => Ok(()),
            }
        })
    }
    fn finish(&self) -> Result<()> {
        self.0.with(|h| h.finished = true);
        Ok(())
    }
    fn abort(&self) -> Result<()> {
        self.0.with(|h| h.aborted = true);
        Ok(())
    }
}

pub fn stats() -> TypedParams {
    TypedParams::new()
        .with(field::OPERATION, TypedParamValue::Int(5))
        .with(field::TIME_ELAPSED, TypedParamValue::ULLong(1500))
        .with(field::DATA_TOTAL, TypedParamValue::ULLong(1 << 30))
        .with(field::DATA_PROCESSED, TypedParamValue::ULLong(1 << 28))
        .with(field::DATA_REMAINING, TypedParamValue::ULLong(3 << 28))
        .with(field::MEMORY_TOTAL, TypedParamValue::ULLong(1 << 30))
        .with(field::MEMORY_PROCESSED, TypedParamValue::ULLong(1 << 28))
        .with(field::MEMORY_REMAINING, TypedParamValue::ULLong(3 << 28))
        .with(field::MEMORY_ITERATION, TypedParamValue::ULLong(2))
}

impl MigrationDriver for FakeConn {
    fn domain_migrate_prepare_tunnel3_params(
        &self,
        st: &Stream,
        a: &ParamsArgs,
    ) -> Result<Vec<u8>> {
        match a.params.get(mparams::DEST_NAME) {
            Some(TypedParamValue::String(s)) if s == "refuse" => {
                return Err(Error::new(
                    ErrorDomain::DOMAIN,
                    ErrorCode::OPERATION_INVALID,
                    "refused",
                ));
            }
            Some(TypedParamValue::String(s)) if s == "late" => {
                std::thread::sleep(Duration::from_millis(300));
            }
            _ => {}
        }
        st.attach(Arc::new(Sink(self.host.clone())))?;
        Ok(a.cookie_in.iter().rev().copied().collect())
    }

    /// Peer-to-peer: "migrates" until the job is aborted.
    fn domain_migrate_perform3_params(
        &self,
        _dom: &DomainRef,
        dconnuri: Option<&str>,
        _args: &ParamsArgs,
    ) -> Result<Vec<u8>> {
        assert!(dconnuri.is_some());
        self.host.with(|h| {
            h.job_running = true;
            h.job_aborted = false;
        });
        let aborted = self.host.wait_for(|h| h.job_aborted);
        self.host.with(|h| h.job_running = false);
        if aborted {
            return Err(Error::new(
                ErrorDomain::DOMAIN,
                ErrorCode::OPERATION_ABORTED,
                "migration out: canceled by client",
            ));
        }
        Ok(b"done".to_vec())
    }

    fn domain_get_job_info(&self, _dom: &DomainRef) -> Result<JobInfo> {
        let (t, s) = self.domain_get_job_stats(_dom, 0)?;
        Ok(JobInfo::from_stats(t, &s))
    }
    fn domain_get_job_stats(&self, _dom: &DomainRef, flags: u32) -> Result<(i32, TypedParams)> {
        if flags & stats_flags::COMPLETED != 0 {
            let s = TypedParams::new()
                .with(field::OPERATION, TypedParamValue::Int(5))
                .with(field::TIME_ELAPSED, TypedParamValue::ULLong(42))
                .with(field::ERRMSG, TypedParamValue::String("disk full".into()));
            return Ok((job_type::COMPLETED, s));
        }
        if self.host.with(|h| h.job_running) {
            return Ok((job_type::UNBOUNDED, stats()));
        }
        Ok((job_type::NONE, TypedParams::new()))
    }
    fn domain_abort_job(&self, _dom: &DomainRef, flags: u32) -> Result<()> {
        self.host.with(|h| {
            h.abort_flags = Some(flags);
            if !h.job_running {
                return Err(Error::new(
                    ErrorDomain::DOMAIN,
                    ErrorCode::OPERATION_INVALID,
                    "no job is active on the domain",
                ));
            }
            h.job_aborted = true;
            Ok(())
        })
    }
    fn domain_migrate_set_max_speed(&self, _d: &DomainRef, bandwidth: u64, _f: u32) -> Result<()> {
        self.host.with(|h| h.max_speed = bandwidth);
        Ok(())
    }
    fn domain_migrate_get_max_speed(&self, _d: &DomainRef, _f: u32) -> Result<u64> {
        Ok(self.host.with(|h| h.max_speed))
    }
    fn domain_migrate_set_max_downtime(&self, _d: &DomainRef, ms: u64, _f: u32) -> Result<()> {
        self.host.with(|h| h.max_downtime = ms);
        Ok(())
    }
    fn domain_migrate_get_max_downtime(&self, _d: &DomainRef, _f: u32) -> Result<u64> {
        Ok(self.host.with(|h| h.max_downtime))
    }
}

// ---------------------------------------------------------------- daemon

/// What this process opens URIs with: the fake driver and, for every URI
/// with a transport, the remote driver.
pub fn client_drivers() {
    rvirt::registry::register(Arc::new(FakeDriver));
    rvirt_driver_remote::register();
}

/// rvirtd's server in this process, on an ephemeral port, until the test
/// binary exits.
pub fn daemon() -> u16 {
    client_drivers();
    let dir = std::env::temp_dir().join(format!(
        "rvirtd-migration-wire-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!(
        "listen_tcp = 1\nlisten_tls = 0\nauth_tcp = \"none\"\ntcp_port = \"0\"\nlisten_addr = \"127.0.0.1\"\n\
         unix_sock_dir = \"{}\"\ndefault_uri = \"fake:///default\"\nmax_workers = 4\n",
        dir.display()
    );
    let cfg = rvirtd::Config::from_text("test.conf", &text).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let server = rvirtd::server::Server::bind(&cfg, true).await.unwrap();
            tx.send(server.tcp_port().unwrap()).unwrap();
            server.run(std::future::pending()).await;
        });
    });
    rx.recv_timeout(Duration::from_secs(10)).unwrap()
}

pub fn uri(port: u16, host: &str) -> String {
    format!("fake+tcp://127.0.0.1:{port}/{host}")
}

pub fn dname(name: &str) -> TypedParams {
    TypedParams::new().with(mparams::DEST_NAME, TypedParamValue::String(name.into()))
}

pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 4096) as u8).collect()
}
