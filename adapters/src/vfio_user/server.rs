//! A server the run starts itself (`--server-cmd 'CMD {socket}'`): one
//! process per device instance, in its own process group, its output kept
//! in a file so that a crash can be shown; killed when the run ends.

use std::fs::File;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// One started server.
pub struct ServerProcess {
    child: Child,
    /// The command as run, `{socket}` replaced.
    pub command: String,
    /// The socket it was told to listen on.
    pub socket: PathBuf,
    log: PathBuf,
    status: Option<ExitStatus>,
}

/// `path` quoted for a POSIX shell.
fn quoted(path: &Path) -> String {
    format!("'{}'", path.to_string_lossy().replace('\'', r"'\''"))
}

/// Removes `path` when it is a socket file (left by an earlier server);
/// any other kind of file is an error, never removed.
pub fn remove_stale_socket(path: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("{}: {e}", path.display())),
        Ok(m) if m.file_type().is_socket() => std::fs::remove_file(path)
            .map_err(|e| format!("{}: cannot remove the old socket: {e}", path.display())),
        Ok(_) => Err(format!(
            "{}: exists and is not a socket; not removed",
            path.display()
        )),
    }
}

fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        _ => format!("{status}"),
    }
}

impl ServerProcess {
    /// Runs `template` (which names `{socket}`) with `sh -c`, `{socket}`
    /// replaced by `socket` and `{instance}` by `instance` (0 or 1), and waits at most `within` until the socket
    /// exists (without connecting: a server that serves one client would
    /// take a probe for it). Its output goes to `log`.
    pub fn start(
        template: &str,
        instance: usize,
        socket: &Path,
        log: &Path,
        within: Duration,
    ) -> Result<Self, String> {
        if !template.contains("{socket}") {
            return Err(format!(
                "--server-cmd `{template}` does not name {{socket}}, the socket the server must listen on"
            ));
        }
        remove_stale_socket(socket)?;
        let command = template
            .replace("{socket}", &quoted(socket))
            .replace("{instance}", &instance.to_string());
        let out = File::create(log)
            .map_err(|e| format!("{}: cannot create the server's log: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| format!("{}: {e}", log.display()))?;
        let child = Command::new("sh")
            .arg("-c")
            .arg(&command)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("--server-cmd: cannot run `{command}`: {e}"))?;
        let mut s = ServerProcess {
            child,
            command,
            socket: socket.to_owned(),
            log: log.to_owned(),
            status: None,
        };
        let until = Instant::now() + within;
        loop {
            if std::fs::symlink_metadata(socket).is_ok_and(|m| m.file_type().is_socket()) {
                return Ok(s);
            }
            if let Some(status) = s.exited() {
                return Err(format!(
                    "--server-cmd: `{}` ended ({}) before its socket {} appeared{}",
                    s.command,
                    describe(status),
                    socket.display(),
                    s.tail_for_message()
                ));
            }
            if Instant::now() >= until {
                s.stop();
                return Err(format!(
                    "--server-cmd: `{}` did not create its socket {} within {} ms{}",
                    s.command,
                    socket.display(),
                    within.as_millis(),
                    s.tail_for_message()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The exit status, once the process has ended.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits at most `grace` for the process to end: whether it ended
    /// cleanly (status 0), and how, with its last lines.
    pub fn ended_within(&mut self, grace: Duration) -> Option<(bool, String)> {
        let until = Instant::now() + grace;
        loop {
            if let Some(status) = self.exited() {
                return Some((
                    status.success(),
                    format!("{}{}", describe(status), self.tail_for_message()),
                ));
            }
            if Instant::now() >= until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The last lines the server printed, for a message (empty when none).
    pub fn tail_for_message(&self) -> String {
        let text = std::fs::read(&self.log).unwrap_or_default();
        let text = String::from_utf8_lossy(&text[text.len().saturating_sub(64 << 10)..]).into_owned();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut keep: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| {
                l.contains("ERROR: AddressSanitizer")
                    || l.starts_with("SUMMARY:")
                    || l.contains("runtime error:")
            })
            .take(3)
            .collect();
        for l in &lines[lines.len().saturating_sub(4)..] {
            if !keep.contains(l) {
                keep.push(l);
            }
        }
        if keep.is_empty() {
            String::new()
        } else {
            format!("; its last output: {}", keep.join(" | "))
        }
    }

    /// Ends the process group: SIGTERM, then SIGKILL after a second.
    pub fn stop(&mut self) {
        if self.exited().is_none() {
            let pid = rustix::process::Pid::from_raw(self.child.id() as i32);
            if let Some(pid) = pid {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::TERM);
                if self.ended_within(Duration::from_secs(1)).is_none() {
                    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
                }
            }
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
        } else if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            // The shell may have ended before what it started.
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
