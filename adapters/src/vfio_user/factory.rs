//! vfio-user devices for a whole run: one connection per device instance,
//! kept from the first open to the end (a server may serve one client and
//! exit when it leaves), servers started per instance when asked, and what
//! runs on the same connection after the suites.

use super::adapter::{lock, Link, Shared, VfioUserAdapter};
use super::malformed::malformed_suite;
use super::server::ServerProcess;
use super::wire::{observed, wire_checks, Peer};
use crate::probe::Probe;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use vfio_mig_device::{Device, DeviceError, DeviceFactory};
use vfio_mig_engine::verdict::Verdict;
use vfio_mig_model::v2::Fsm;

/// Where the devices are: sockets of running servers, or a command that
/// starts one server per instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Servers {
    /// The sockets of instance 0 and 1 (either may be missing).
    Sockets([Option<String>; 2]),
    /// A command naming `{socket}`, run once per instance.
    Command(String),
}

#[derive(Default)]
struct State {
    links: [Option<Shared>; 2],
    servers: [Option<Arc<Mutex<ServerProcess>>>; 2],
    dir: Option<PathBuf>,
}

/// Opens vfio-user devices, one connection per instance for the whole run.
pub struct VfioUserFactory {
    servers: Servers,
    timeout: Duration,
    probe: Probe,
    state: Mutex<State>,
}

fn not_configured() -> DeviceError {
    DeviceError::NotConfigured(
        "set VFIO_MIG_SOCKET (and VFIO_MIG_SOCKET2) to the UNIX sockets of vfio-user servers, or give a command that starts one".into(),
    )
}

impl VfioUserFactory {
    /// Devices at `servers`; every request waits at most `timeout`; the
    /// state bytes (fingerprint) and scratch bytes of `probe`.
    pub fn new(servers: Servers, timeout: Duration, probe: Probe) -> Self {
        VfioUserFactory {
            servers,
            timeout,
            probe,
            state: Mutex::default(),
        }
    }

    /// The sockets of `VFIO_MIG_SOCKET` and `VFIO_MIG_SOCKET2`, the deadline
    /// of `VFIO_MIG_TIMEOUT_MS`, the bytes of `VFIO_MIG_STATE_BYTES` and
    /// `VFIO_MIG_SCRATCH_BYTES`. Invalid variables are reported when a
    /// device is opened.
    pub fn from_env() -> Self {
        let named = crate::Named::from_env(["VFIO_MIG_SOCKET", "VFIO_MIG_SOCKET2"]);
        let timeout =
            vfio_mig_engine::handle::timeout_from_env().unwrap_or(vfio_mig_engine::handle::DEFAULT_TIMEOUT);
        let probe = Probe::from_env().ok().flatten().unwrap_or_default();
        Self::new(Servers::Sockets(named.devices), timeout, probe)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The socket of instance `index`, starting its server when the run
    /// starts servers (again, when the last one ended).
    fn socket(&self, st: &mut State, index: usize) -> Result<String, DeviceError> {
        match &self.servers {
            Servers::Sockets(s) => s[index].clone().ok_or_else(not_configured),
            Servers::Command(cmd) => {
                if let Some(s) = &st.servers[index] {
                    let mut s = s.lock().unwrap_or_else(|p| p.into_inner());
                    if s.exited().is_none() {
                        return Ok(s.socket.to_string_lossy().into_owned());
                    }
                }
                if st.dir.is_none() {
                    static RUNS: AtomicUsize = AtomicUsize::new(0);
                    let dir = std::env::temp_dir().join(format!(
                        "vfio-mig-servers-{}-{}",
                        std::process::id(),
                        RUNS.fetch_add(1, Ordering::Relaxed)
                    ));
                    std::fs::DirBuilder::new().mode(0o700).create(&dir).map_err(|e| {
                        DeviceError::unusable(format!("{}: cannot create: {e}", dir.display()))
                    })?;
                    st.dir = Some(dir);
                }
                let dir = st.dir.clone().unwrap_or_default();
                let socket = dir.join(format!("instance-{index}.sock"));
                let log = dir.join(format!("instance-{index}.log"));
                st.servers[index] = None;
                let s = ServerProcess::start(cmd, index, &socket, &log, self.timeout)
                    .map_err(DeviceError::unusable)?;
                let path = socket.to_string_lossy().into_owned();
                st.servers[index] = Some(Arc::new(Mutex::new(s)));
                Ok(path)
            }
        }
    }

    /// A new connection to instance `index` (its server started when
    /// needed); a refused connection is retried within the deadline while
    /// a server the run started is still coming up.
    fn connect(&self, st: &mut State, index: usize) -> Result<Link, DeviceError> {
        let path = self.socket(st, index)?;
        let until = Instant::now() + self.timeout;
        loop {
            match Link::open(&path, index, self.timeout, self.probe.clone()) {
                Ok(mut l) => {
                    l.server = st.servers[index].clone();
                    return Ok(l);
                }
                Err(e) => {
                    let server = st.servers[index].clone();
                    let starting = server.as_ref().is_some_and(|s| server_lock(s).exited().is_none());
                    let refused = e.to_string().contains("cannot connect");
                    if !(starting && refused) || Instant::now() >= until {
                        let tail = server
                            .as_ref()
                            .and_then(|s| {
                                server_lock(s)
                                    .ended_within(Duration::from_millis(200))
                                    .map(|(_, how)| format!(" (the server process ended: {how})"))
                            })
                            .unwrap_or_default();
                        return Err(match e {
                            DeviceError::Unusable { what, source } => DeviceError::Unusable {
                                what: format!("{what}{tail}"),
                                source,
                            },
                            other => other,
                        });
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
    }

    /// The connection of instance `index`, if one was opened.
    pub fn link(&self, index: usize) -> Option<Shared> {
        self.state().links[index.min(1)].clone()
    }

    /// What runs after the suites, on the same connections: what the
    /// adapter saw (refused resets, stalls), then, unless the run stopped,
    /// the wire checks and the malformed-message suite on instance 0.
    pub fn post_run(&self, halted: bool) -> Vec<Verdict> {
        let links: Vec<Shared> = self.state().links.iter().flatten().cloned().collect();
        let mut out = Vec::new();
        for l in &links {
            out.extend(observed(&lock(l)));
        }
        let owned = matches!(self.servers, Servers::Command(_));
        if halted && !owned {
            return out;
        }
        let Some(link) = self.link(0) else { return out };
        let mut l = lock(&link);
        if halted {
            // The suites stopped; a server the run starts itself is
            // started afresh for the checks that remain.
            match (FactoryPeer {
                factory: self,
                index: 0,
            })
            .reopen()
            {
                Ok(fresh) => *l = fresh,
                Err(_) => return out,
            }
        }
        let mut peer = FactoryPeer {
            factory: self,
            index: 0,
        };
        out.extend(wire_checks(&mut l, &mut peer));
        out.extend(malformed_suite(&mut l, &mut peer));
        drop(l);
        out
    }

    /// Ends the servers the run started and removes their directory.
    pub fn shutdown(&self) {
        let mut st = self.state();
        st.links = [None, None];
        st.servers = [None, None];
        if let Some(dir) = st.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Drop for VfioUserFactory {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl DeviceFactory<Fsm> for VfioUserFactory {
    fn open(&self, index: usize) -> Result<Box<dyn Device<Fsm>>, DeviceError> {
        let index = index.min(1);
        let mut st = self.state();
        if let Some(link) = &st.links[index] {
            if lock(link).conn.broken.is_none() {
                return Ok(Box::new(VfioUserAdapter::on(Arc::clone(link))));
            }
        }
        let link = Arc::new(Mutex::new(self.connect(&mut st, index)?));
        st.links[index] = Some(Arc::clone(&link));
        Ok(Box::new(VfioUserAdapter::on(link)))
    }
}

fn server_lock(s: &Arc<Mutex<ServerProcess>>) -> MutexGuard<'_, ServerProcess> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// The server of one instance, as the malformed-message suite sees it.
struct FactoryPeer<'a> {
    factory: &'a VfioUserFactory,
    index: usize,
}

impl Peer for FactoryPeer<'_> {
    fn owned(&self) -> bool {
        matches!(self.factory.servers, Servers::Command(_))
    }

    fn exited(&mut self, grace: Duration) -> Option<(bool, String)> {
        let server = self.factory.state().servers[self.index].clone()?;
        let mut s = server.lock().unwrap_or_else(|p| p.into_inner());
        s.ended_within(grace)
    }

    fn reopen(&mut self) -> Result<Link, String> {
        let mut st = self.factory.state();
        if let Some(s) = st.servers[self.index].take() {
            // A server the run started is started afresh: one that serves a
            // single client, or hangs, takes no second connection.
            server_lock(&s).stop();
        }
        self.factory
            .connect(&mut st, self.index)
            .map_err(|e| e.to_string())
    }
}
