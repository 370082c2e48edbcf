//! `vfio-user-mock-server`'s options: a state size beyond its limit, or a
//! mutant that is not v2, is refused before it allocates or listens; the
//! limit itself and a v2 mutant are served. (The tool's own input: no requirement of the
//! catalogue.)

use std::process::Command;

#[test]
fn a_state_beyond_the_limit_is_refused_before_listening() {
    let dir = tempfile::Builder::new()
        .prefix("vfio-mig-server-args-")
        .tempdir()
        .unwrap();
    let socket = dir.path().join("0.sock");
    let over = (vfio_mig_mock::MAX_STATE_LEN + 1).to_string();
    for len in [u64::MAX.to_string(), "100000000000".to_owned(), over] {
        let o = Command::new(env!("CARGO_BIN_EXE_vfio-user-mock-server"))
            .args(["--socket", socket.to_str().unwrap(), "--state-len", &len])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!(
                "--state-len {len}: at most {}",
                vfio_mig_mock::MAX_STATE_LEN
            )),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert!(!socket.exists(), "refused before listening");
    }
}

/// Whether the server started with `args` listens on its socket (it is
/// stopped afterwards).
fn listens(args: &[&str]) -> bool {
    let dir = tempfile::Builder::new()
        .prefix("vfio-mig-server-args-")
        .tempdir()
        .unwrap();
    let socket = dir.path().join("0.sock");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vfio-user-mock-server"))
        .arg("--socket")
        .arg(&socket)
        .args(args)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut listening = false;
    for _ in 0..500 {
        if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
            listening = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    listening
}

/// The limit itself is a state size the server takes: it listens.
#[test]
fn a_state_at_the_limit_is_served() {
    let max = vfio_mig_mock::MAX_STATE_LEN.to_string();
    assert!(listens(&["--state-len", &max]));
}

/// `--mutant` takes the name of a v2 mutant and serves it; a v1 mutant's
/// name is refused, naming the option, before listening.
#[test]
fn the_mutant_option_takes_only_v2_mutants() {
    use vfio_mig_mock::MUTANTS;
    use vfio_mig_model::ProtocolName;
    let of = |p: ProtocolName| MUTANTS.iter().find(|m| m.protocol == p).unwrap().name;
    assert!(listens(&["--mutant", of(ProtocolName::V2)]));
    let v1 = of(ProtocolName::V1);
    let o = Command::new(env!("CARGO_BIN_EXE_vfio-user-mock-server"))
        .args(["--socket", "/nonexistent/0.sock", "--mutant", v1])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("--mutant: no v2 mutant {v1:?}")), "{err}");
}
