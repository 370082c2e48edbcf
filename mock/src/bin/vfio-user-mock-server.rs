//! `vfio-user-mock-server`: the mock device behind a vfio-user socket.
//!
//! `vfio-user-mock-server --socket /tmp/mock.sock [--flags 5] [--mutant NAME]`
//! serves clients concurrently until killed.

use clap::Parser;
use std::process::ExitCode;
use vfio_mig_mock::vfio_user_server::MockServer;
use vfio_mig_mock::{MockConfig, Mutant};
use vfio_mig_model::v2::MigrationFlags;
use vfio_mig_model::ProtocolName;

/// Serve the mock device over vfio-user.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The UNIX socket to listen on. A socket file left there by a server
    /// that is gone is removed first; any other file, or a socket a server
    /// still listens on, is an error.
    #[arg(long)]
    socket: std::path::PathBuf,
    /// How long one message may take to arrive whole once its first byte
    /// came, and a reply to be taken, in milliseconds: a client that
    /// trickles or stops reading loses its connection.
    #[arg(long, default_value_t = 10_000)]
    message_deadline_ms: u64,
    /// Migration flags as bits (vfio-user servers use 1 or 5: no P2P).
    #[arg(long, default_value_t = 5)]
    flags: u64,
    /// Serve one of the mock's deliberately broken variants.
    #[arg(long)]
    mutant: Option<String>,
    /// Bytes of device state.
    #[arg(long, default_value_t = 256)]
    state_len: usize,
    /// Which instance (instances differ in their device state: serve 0 as the
    /// source and 1 as the destination of a round trip).
    #[arg(long, default_value_t = 0)]
    instance: u64,
}

fn run(args: Args) -> Result<(), String> {
    let flags = MigrationFlags::new(args.flags).map_err(|e| format!("--flags: {e}"))?;
    let mut config = MockConfig::v2(flags);
    config.state_len = args.state_len;
    if let Some(name) = &args.mutant {
        let m = Mutant::named(name)
            .filter(|m| m.protocol() == ProtocolName::V2)
            .ok_or_else(|| format!("--mutant: no v2 mutant {name:?} (see `vfio-mig mutants`)"))?;
        config.mutant = Some(m);
    }
    remove_stale(&args.socket)?;
    if args.message_deadline_ms == 0 || args.message_deadline_ms > 86_400_000 {
        return Err(format!(
            "--message-deadline-ms {}: give 1 to 86400000 (a day)",
            args.message_deadline_ms
        ));
    }
    let listener = std::os::unix::net::UnixListener::bind(&args.socket)
        .map_err(|e| format!("{}: cannot listen: {e}", args.socket.display()))?;
    eprintln!("serving the mock on {}", args.socket.display());
    MockServer::new(config, args.instance)
        .with_message_deadline(std::time::Duration::from_millis(args.message_deadline_ms))
        .serve(&listener)
        .map_err(|e| format!("{}: {e}", args.socket.display()))
}

/// Removes `path` only when it is a socket no server listens on.
fn remove_stale(path: &std::path::Path) -> Result<(), String> {
    use std::os::unix::fs::FileTypeExt;
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if !meta.file_type().is_socket() {
        return Err(format!(
            "{}: exists and is not a socket; not removed (choose another --socket)",
            path.display()
        ));
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(format!("{}: a server is listening on it", path.display()));
    }
    std::fs::remove_file(path).map_err(|e| format!("{}: cannot remove the stale socket: {e}", path.display()))
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vfio-user-mock-server: {e}");
            ExitCode::from(2)
        }
    }
}
