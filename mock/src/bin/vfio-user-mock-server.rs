//! `vfio-user-mock-server`: the mock device behind a vfio-user socket.
//!
//! `vfio-user-mock-server --socket /tmp/mock.sock [--flags 5] [--mutant NAME]`
//! serves clients one after another until killed.

use clap::Parser;
use std::process::ExitCode;
use vfio_mig_mock::vfio_user_server::MockServer;
use vfio_mig_mock::{MockConfig, Mutant, MAX_STATE_LEN};
use vfio_mig_model::v2::MigrationFlags;
use vfio_mig_model::ProtocolName;

/// Serve the mock device over vfio-user.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The UNIX socket to listen on (removed first if it exists).
    #[arg(long)]
    socket: std::path::PathBuf,
    /// Migration flags as bits (vfio-user servers use 1 or 5: no P2P).
    #[arg(long, default_value_t = 5)]
    flags: u64,
    /// Serve one of the mock's deliberately broken variants.
    #[arg(long)]
    mutant: Option<String>,
    /// Bytes of device state (at most 1048576).
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
    if args.state_len > MAX_STATE_LEN {
        return Err(format!(
            "--state-len {}: at most {MAX_STATE_LEN} (1 MiB of mock state; a run's work grows with it)",
            args.state_len
        ));
    }
    config.state_len = args.state_len;
    if let Some(name) = &args.mutant {
        let m = Mutant::named(name)
            .filter(|m| m.protocol() == ProtocolName::V2)
            .ok_or_else(|| format!("--mutant: no v2 mutant {name:?} (see `vfio-mig mutants`)"))?;
        config.mutant = Some(m);
    }
    let _ = std::fs::remove_file(&args.socket);
    let listener = std::os::unix::net::UnixListener::bind(&args.socket)
        .map_err(|e| format!("{}: cannot listen: {e}", args.socket.display()))?;
    eprintln!("serving the mock on {}", args.socket.display());
    MockServer::new(config, args.instance)
        .serve(&listener)
        .map_err(|e| format!("{}: {e}", args.socket.display()))
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
