//! `vfio-user-mock-server` refuses a state size beyond its limit before it
//! allocates or listens. (The tool's own input: no requirement of the
//! catalogue.)

use std::process::Command;

#[test]
fn a_state_beyond_the_limit_is_refused_before_listening() {
    let socket = std::env::temp_dir().join(format!("vfio-mig-server-args-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&socket);
    for len in [u64::MAX.to_string(), "100000000000".to_owned()] {
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
