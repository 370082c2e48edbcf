//! QEMU's vfio-user client (`vfio-user-pci`) attaches to the mock's server
//! and detaches from it cleanly, under TCG with a paused machine (no KVM,
//! no guest code runs).
//!
//! QEMU is `qemu-system-x86_64` from `PATH`, or the command in
//! `VFIO_MIG_QEMU` (for example `chroot /srv/trixie qemu-system-x86_64`);
//! when QEMU runs in another root, `VFIO_MIG_QEMU_ROOT` names it, so that
//! the server's socket is made where QEMU sees it. Without QEMU the test
//! prints why it did not run and passes; `ci/qemu-vfio-user.sh` turns that
//! into a skipped stage, which fails under CI unless allowed.
//!
//! What it also pins down: QEMU 11.1's `vfio-user-pci` has no migration
//! support (no `enable-migration` property, no DEVICE_FEATURE,
//! MIG_DATA_READ or MIG_DATA_WRITE on the wire), and a `migrate` of the
//! paused machine completes without asking the device for its state. A
//! QEMU that starts migrating vfio-user devices fails the last assertion,
//! which is the cue to migrate between two QEMU processes instead.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use vfio_mig_mock::vfio_user_server::MockServer;
use vfio_mig_mock::MockConfig;
use vfio_mig_model::v2::MigrationFlags;
use vfio_mig_vfio_user::codec::TYPE_COMMAND;
use vfio_mig_vfio_user::{read_frame, write_frame, Header, Reply, Request};

/// How QEMU is started: the command words, and the root it sees as `/`.
fn qemu() -> Result<(Vec<String>, PathBuf), String> {
    let words: Vec<String> = match std::env::var("VFIO_MIG_QEMU") {
        Ok(cmd) if !cmd.trim().is_empty() => cmd.split_whitespace().map(str::to_owned).collect(),
        _ => vec!["qemu-system-x86_64".to_owned()],
    };
    let root = PathBuf::from(std::env::var("VFIO_MIG_QEMU_ROOT").unwrap_or_else(|_| "/".to_owned()));
    let out = Command::new(&words[0])
        .args(&words[1..])
        .args(["-device", "help"])
        .output()
        .map_err(|e| {
            format!(
                "no QEMU: `{}` cannot run ({e}); set VFIO_MIG_QEMU",
                words.join(" ")
            )
        })?;
    let devices = String::from_utf8_lossy(&out.stdout);
    if !devices.contains("\"vfio-user-pci\"") {
        return Err(format!(
            "`{}` has no vfio-user-pci device (QEMU 10.1 or later has it)",
            words.join(" ")
        ));
    }
    Ok((words, root))
}

/// QMP over QEMU's standard input and output, with a deadline per answer.
struct Qmp {
    to: std::process::ChildStdin,
    from: mpsc::Receiver<serde_json::Value>,
}

impl Qmp {
    fn next(&self, what: &str) -> serde_json::Value {
        self.from
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("QEMU sent nothing for {what} within 60 s"))
    }

    /// Runs `cmd`; its `return` (or its `error`), skipping events.
    fn run(&mut self, cmd: serde_json::Value) -> serde_json::Value {
        writeln!(self.to, "{cmd}").unwrap();
        loop {
            let v = self.next(&cmd.to_string());
            if v.get("return").is_some() || v.get("error").is_some() {
                return v;
            }
        }
    }
}

/// QEMU's process, killed if the test ends before it quit (a panic on a
/// missed deadline included).
struct Qemu(std::process::Child);

impl Drop for Qemu {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn qemu_attaches_to_the_mock_server_and_detaches_cleanly() {
    let (words, root) = match qemu() {
        Ok(q) => q,
        Err(why) => {
            println!("SKIP qemu_attaches_to_the_mock_server_and_detaches_cleanly: {why}");
            return;
        }
    };
    // The socket where QEMU sees it: under its root's /tmp.
    let name = format!("vfio-mig-qemu-{}.sock", std::process::id());
    let host = root.join("tmp").join(&name);
    let inside = PathBuf::from("/tmp").join(&name);
    let _ = std::fs::remove_file(&host);
    let listener = UnixListener::bind(&host).unwrap();
    let server = MockServer::new(MockConfig::v2(MigrationFlags::new(5).unwrap()), 0);
    let counts = server.counts();
    std::thread::spawn(move || server.serve(&listener));

    let device = serde_json::json!({
        "driver": "vfio-user-pci",
        "id": "vu0",
        "socket": {"type": "unix", "path": inside.to_string_lossy()},
    });
    let mut qemu = Qemu(
        Command::new(&words[0])
            .args(&words[1..])
            .args([
                "-machine",
                "q35",
                "-accel",
                "tcg",
                "-nodefaults",
                "-display",
                "none",
                "-S",
                "-m",
                "64",
            ])
            .args(["-qmp", "stdio", "-device", &device.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let child = &mut qemu.0;
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                if tx.send(v).is_err() {
                    return;
                }
            }
        }
    });
    let mut qmp = Qmp {
        to: child.stdin.take().unwrap(),
        from: rx,
    };
    let greeting = qmp.next("the greeting");
    assert!(greeting.get("QMP").is_some(), "{greeting}");
    qmp.run(serde_json::json!({"execute": "qmp_capabilities"}));

    // Attached: QEMU read our config space (IDs, class) and BAR0's size.
    let pci = qmp.run(serde_json::json!({"execute": "query-pci"}));
    let ours = pci["return"][0]["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["qdev_id"] == "vu0")
        .cloned()
        .unwrap_or_else(|| panic!("vu0 is not on the bus: {pci}"));
    assert_eq!(ours["id"]["vendor"], 0x1b36, "{ours}");
    assert_eq!(ours["id"]["device"], 0x0011, "{ours}");
    assert_eq!(ours["regions"][0]["size"], 4096, "{ours}");
    let n = |c: usize| counts[c].load(Ordering::Relaxed);
    let all: Vec<u64> = (0..32).map(n).collect();
    assert!(n(2) > 0, "QEMU mapped guest memory (DMA_MAP): {all:?}");
    assert!(n(5) >= 7, "QEMU asked for the regions (DEVICE_GET_REGION_INFO)");
    assert!(n(9) > 0, "QEMU read config space (REGION_READ)");

    // A migration of the paused machine, to nowhere: QEMU 11.1 neither
    // refuses it nor asks the device for its state.
    let m = qmp.run(serde_json::json!({"execute": "migrate", "arguments": {"uri": "exec:cat > /dev/null"}}));
    let until = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let q = qmp.run(serde_json::json!({"execute": "query-migrate"}));
        let s = q["return"]["status"].as_str().unwrap_or("").to_owned();
        if matches!(s.as_str(), "completed" | "failed" | "cancelled") || Instant::now() > until {
            break format!("{s} ({m} {q})");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    println!("migrate with vfio-user-pci attached: {status}");

    // Detached: QEMU quits, unmapping and closing the connection.
    qmp.run(serde_json::json!({"execute": "quit"}));
    let until = Instant::now() + Duration::from_secs(60);
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("QEMU did not quit within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    let migration_messages = (n(16), n(17), n(18));
    assert!(code.success(), "QEMU exited with {code}: {err}");
    let said = err.to_lowercase();
    assert!(
        !said.contains("error") && !said.contains("warning"),
        "QEMU complained: {err}"
    );
    // The server outlived its client: a new one is served, the device is
    // still RUNNING.
    let mut s = UnixStream::connect(&host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let h = |command: u16| Header {
        msg_id: 1,
        command,
        size: 0,
        flags: TYPE_COMMAND,
        error: 0,
    };
    let hello = Request::Version {
        major: 0,
        minor: 1,
        caps: String::new(),
    };
    write_frame(&mut s, h(1), &hello.payload()).unwrap();
    assert!(!read_frame(&mut s, 1 << 16).unwrap().0.is_error());
    let get = Request::Feature {
        argsz: 16,
        flags: (1 << 16) | 2,
        data: Vec::new(),
    };
    write_frame(&mut s, h(16), &get.payload()).unwrap();
    let (r, p) = read_frame(&mut s, 1 << 16).unwrap();
    assert!(!r.is_error());
    let Reply::Feature { data, .. } = Reply::decode(vfio_mig_vfio_user::Command::DeviceFeature, &p).unwrap()
    else {
        panic!()
    };
    assert_eq!(data[..4], 2u32.to_le_bytes(), "RUNNING");
    let _ = std::fs::remove_file(&host);

    // No migration on the wire: QEMU 11.1's vfio-user client does not
    // migrate (see the module's comment).
    assert_eq!(
        migration_messages,
        (0, 0, 0),
        "QEMU sent DEVICE_FEATURE or MIG_DATA_*: its vfio-user client migrates now; migrate between two QEMU processes"
    );
}
