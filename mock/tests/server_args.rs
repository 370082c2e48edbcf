//! `vfio-user-mock-server` refuses a state size beyond its limit before it
//! allocates or listens. (The tool's own input: no requirement of the
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

/// The limit itself is a state size the server takes: it listens.
#[test]
fn a_state_at_the_limit_is_served() {
    let dir = tempfile::Builder::new()
        .prefix("vfio-mig-server-args-")
        .tempdir()
        .unwrap();
    let socket = dir.path().join("0.sock");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vfio-user-mock-server"))
        .arg("--socket")
        .arg(&socket)
        .args(["--state-len", &vfio_mig_mock::MAX_STATE_LEN.to_string()])
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
    let status = child.wait().unwrap();
    assert!(listening, "the server listens ({status})");
}
