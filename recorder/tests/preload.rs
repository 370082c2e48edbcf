//! The recorder preloaded into real processes (small C programs compiled
//! here): it must never harm the host. No VFIO device is needed: the calls
//! that must not crash are made on ordinary fds, and
//! `vfio_mig_recorder_test_set` tells the recorder that an ordinary fd is a
//! data fd, as a SET that returned it would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use vfio_mig_model::{Profile, ProtocolName};
use vfio_mig_trace::{check, Header, Step};

/// What every program starts with: `test_set` is a no-op (-1) when the
/// recorder is not loaded.
const PRELUDE: &str = r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vfio.h>
#ifndef VFIO_MIG_GET_PRECOPY_INFO /* Linux 6.2 and later */
#define VFIO_MIG_GET_PRECOPY_INFO _IO(VFIO_TYPE, VFIO_BASE + 21)
#endif

static int test_set(int dev, unsigned state, int data_fd)
{
	int (*f)(int, unsigned, int) = (int (*)(int, unsigned, int))dlsym(RTLD_DEFAULT, "vfio_mig_recorder_test_set");
	return f ? f(dev, state, data_fd) : -1;
}
"#;

/// The preloadable library cargo built beside this test, or the one
/// `VFIO_MIG_RECORDER_LIB` names (to show that the tests catch another
/// build's faults).
fn library() -> PathBuf {
    if let Some(lib) = std::env::var_os("VFIO_MIG_RECORDER_LIB") {
        return lib.into();
    }
    let exe = std::env::current_exe().unwrap();
    let so = exe.parent().unwrap().join("libvfio_mig_recorder.so");
    assert!(so.exists(), "{} was not built", so.display());
    so
}

/// A fresh directory for one test, removed when the test passes (kept
/// for a look when it fails).
struct Tmp(PathBuf);

impl std::ops::Deref for Tmp {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn tmp(name: &str) -> Tmp {
    let dir = std::env::temp_dir().join(format!("vfio-mig-preload-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Tmp(dir)
}

/// `body` (a `main` and what it needs) compiled with the prelude.
fn build(dir: &Path, body: &str) -> PathBuf {
    let src = dir.join("prog.c");
    let bin = dir.join("prog");
    std::fs::write(&src, format!("{PRELUDE}\n{body}")).unwrap();
    let out = Command::new("cc")
        .args(["-O1", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&bin)
        .arg(&src)
        .args(["-ldl", "-pthread"])
        .output()
        .expect("cannot run cc");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    bin
}

/// Runs `bin`, under the recorder writing into `traces` when given, and
/// fails the test when it does not finish within a minute.
fn run(bin: &Path, traces: Option<&Path>) -> Output {
    let mut cmd = Command::new(bin);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(dir) = traces {
        cmd.env("LD_PRELOAD", library()).env("VFIO_MIG_TRACE_DIR", dir);
    }
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{} did not finish within 60 s (deadlocked?)", bin.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "{:?}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The trace files in `dir`, by name.
fn traces(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("vfio-mig-trace-")
        })
        .collect();
    v.sort();
    v
}

fn steps(text: &str) -> Vec<Step> {
    text.lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn profile() -> Profile {
    Profile::defaults(ProtocolName::V2)
}

/// Item: an ioctl with the VFIO_DEVICE_FEATURE number and a pointer the
/// kernel refuses fails as it does without the recorder (EFAULT, ENOTTY),
/// instead of crashing the host; the argument is read only after the call.
#[test]
fn ioctls_with_bad_pointers_fail_as_without_the_recorder() {
    let dir = tmp("ioctl");
    let bin = build(
        &dir,
        r#"
static void show(const char *what, int ret)
{
	printf("%s %d %d\n", what, ret, ret < 0 ? errno : 0);
}

int main(void)
{
	int fd = open("/dev/null", O_RDWR), data = open("/dev/null", O_RDWR);
	char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fd < 0 || data < 0 || pages == MAP_FAILED || mprotect(pages + 4096, 4096, PROT_NONE))
		return 2;
	/* A header at the end of a readable page whose payload is not readable. */
	struct vfio_device_feature head = { .argsz = 16,
		.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE };
	memcpy(pages + 4088, &head, sizeof(head));
	struct { struct vfio_device_feature f; struct vfio_device_feature_mig_state s; } ok;
	memset(&ok, 0, sizeof(ok));
	ok.f.argsz = sizeof(ok);
	ok.f.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	ok.s.device_state = 3;
	ok.s.data_fd = -1;
	void *bad[] = { (void *)16, (void *)-4096L, pages + 4096, pages + 4088 };
	for (int round = 0; round < 2; round++) {
		/* Second round: fd is a device and data a data fd to the recorder. */
		if (round == 1 && test_set(fd, 3, data) == 0)
			printf("recording\n");
		for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			show("feature", ioctl(fd, VFIO_DEVICE_FEATURE, bad[i]));
			show("precopy", ioctl(data, VFIO_MIG_GET_PRECOPY_INFO, bad[i]));
			show("reset", ioctl(fd, VFIO_DEVICE_RESET, bad[i]));
		}
		show("feature-readable", ioctl(fd, VFIO_DEVICE_FEATURE, &ok));
	}
	return 0;
}
"#,
    );
    let without = stdout(&run(&bin, None));
    let traced = tmp("ioctl-traces");
    let with = stdout(&run(&bin, Some(&*traced)));
    assert_eq!(with.replacen("recording\n", "", 1), without, "the same answers");
    assert!(with.contains("recording\n"));
    assert_eq!(without.lines().count(), 2 * (4 * 3 + 1));
    // The device's trace: the test SET, then what could be known. A reset
    // needs no argument, a failed PRECOPY_INFO none either; the readable
    // request is recorded with its errno (ENOTTY); nothing of the others.
    let files = traces(&traced);
    assert_eq!(files.len(), 1, "{files:?}");
    let s = steps(&std::fs::read_to_string(&files[0]).unwrap());
    let ops: Vec<(&str, Option<u32>, Option<i32>)> =
        s.iter().map(|s| (s.op.as_str(), s.state, s.errno)).collect();
    let (precopy, reset) = (("precopy_info", None, Some(25)), ("reset", None, Some(25)));
    assert_eq!(
        ops,
        [
            ("set", Some(3), None),
            precopy,
            reset,
            precopy,
            reset,
            precopy,
            reset,
            precopy,
            reset,
            ("set", Some(3), Some(25))
        ]
    );
}

/// Item: a signal handler that calls write() while its thread is inside
/// the recorder does not deadlock; its write on an fd the recorder does
/// not follow takes no lock, and its write on a data fd is counted as
/// lost in the trace, so every write is either a step or counted.
#[test]
fn a_signal_handler_writing_does_not_deadlock_and_every_write_is_accounted_for() {
    let dir = tmp("signal");
    let bin = build(
        &dir,
        r#"
static int data_fd, other_fd;
static volatile sig_atomic_t handled, handler_writes;

static void on_alarm(int sig)
{
	int e = errno;
	(void)sig;
	handled++;
	if (write(other_fd, "x", 1) != 1)
		_exit(3);
	if (write(data_fd, "y", 1) == 1)
		handler_writes++;
	errno = e;
}

int main(void)
{
	static char buf[16];
	data_fd = open("/dev/null", O_WRONLY);
	other_fd = open("/dev/null", O_WRONLY);
	if (test_set(1000, 4, data_fd))
		return 2;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 50 }, { 0, 50 } }, off;
	memset(&off, 0, sizeof(off));
	setitimer(ITIMER_REAL, &it, NULL);
	long writes = 0;
	for (int i = 0; i < 20000; i++)
		if (write(data_fd, buf, sizeof(buf)) == sizeof(buf))
			writes++;
	setitimer(ITIMER_REAL, &off, NULL);
	test_set(1000, 1, -1);
	printf("%ld %d %d\n", writes, (int)handler_writes, (int)handled);
	return 0;
}
"#,
    );
    for _ in 0..3 {
        let traced = tmp("signal-traces");
        let out = stdout(&run(&bin, Some(&*traced)));
        let n: Vec<u64> = out.split_whitespace().map(|x| x.parse().unwrap()).collect();
        let (writes, handler_writes, handled) = (n[0], n[1], n[2]);
        assert_eq!(writes, 20000);
        assert!(handled >= 10, "the timer fired {handled} times only");
        let files = traces(&traced);
        assert_eq!(files.len(), 1, "{files:?}");
        let text = std::fs::read_to_string(&files[0]).unwrap();
        let s = steps(&text);
        let recorded = s.iter().filter(|s| s.op == "write").count() as u64;
        let lost: u64 = s.iter().filter(|s| s.op == "lost").filter_map(|s| s.count).sum();
        assert_eq!(recorded + lost, writes + handler_writes, "{lost} lost");
        check(&text, profile()).unwrap();
    }
}

/// Item: null pointers and zero lengths on a data fd are passed through
/// and recorded by their numbers; no slice is made of the program's
/// buffers.
#[test]
fn null_buffers_and_zero_lengths_on_data_fds_are_recorded_not_touched() {
    let dir = tmp("null");
    let bin = build(
        &dir,
        r#"
int main(void)
{
	char *volatile nul = NULL; /* hidden from the compiler's checks */
	int p[2];
	ssize_t r;
	if (pipe(p))
		return 2;
	test_set(1000, 3, p[0]);
	r = read(p[0], nul, 0);
	printf("read0 %zd %d\n", r, r < 0 ? errno : 0);
	if (write(p[1], "abcd", 4) != 4)
		return 2;
	r = read(p[0], nul, 16);
	printf("read16 %zd %d\n", r, r < 0 ? errno : 0);
	test_set(1000, 1, -1);
	test_set(1000, 4, p[1]);
	r = write(p[1], nul, 16);
	printf("write16 %zd %d\n", r, r < 0 ? errno : 0);
	r = write(p[1], nul, 0);
	printf("write0 %zd %d\n", r, r < 0 ? errno : 0);
	return 0;
}
"#,
    );
    let without = stdout(&run(&bin, None));
    let traced = tmp("null-traces");
    assert_eq!(stdout(&run(&bin, Some(&*traced))), without);
    assert_eq!(without, "read0 0 0\nread16 -1 14\nwrite16 -1 14\nwrite0 0 0\n");
    let files = traces(&traced);
    let s = steps(&std::fs::read_to_string(&files[0]).unwrap());
    type Io<'a> = (&'a str, Option<u64>, Option<u64>, Option<i32>);
    let io: Vec<Io> = s
        .iter()
        .filter(|s| s.op == "read" || s.op == "write")
        .map(|s| (s.op.as_str(), s.len, s.bytes, s.errno))
        .collect();
    assert_eq!(
        io,
        [
            ("read", Some(0), Some(0), None),
            ("read", Some(16), None, Some(14)),
            ("write", Some(16), None, Some(14)),
            ("write", Some(0), Some(0), None),
        ]
    );
}

/// Item: reading 1 GiB through a data fd adds no memory: the recorder
/// keeps lengths, not bytes.
#[test]
fn a_gigabyte_read_through_a_data_fd_keeps_no_bytes() {
    let dir = tmp("gib");
    let bin = build(
        &dir,
        r#"
int main(void)
{
	static char buf[1 << 20];
	char line[256];
	long total = 0, hwm = -1;
	int z = open("/dev/zero", O_RDONLY);
	if (z < 0 || test_set(1000, 3, z))
		return 2;
	for (int i = 0; i < 1024; i++) {
		ssize_t n = read(z, buf, sizeof(buf));
		if (n <= 0)
			return 3;
		total += n;
	}
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "VmHWM: %ld kB", &hwm);
	printf("%ld %ld\n", total, hwm);
	return 0;
}
"#,
    );
    let traced = tmp("gib-traces");
    let out = stdout(&run(&bin, Some(&*traced)));
    let n: Vec<i64> = out.split_whitespace().map(|x| x.parse().unwrap()).collect();
    assert_eq!(n[0], 1 << 30);
    // Keeping the bytes took 1 GiB more than this.
    assert!((0..64 << 10).contains(&n[1]), "peak resident set {} KiB", n[1]);
    let files = traces(&traced);
    let s = steps(&std::fs::read_to_string(&files[0]).unwrap());
    assert_eq!(s.iter().filter(|s| s.op == "read").count(), 1024);
}

/// Items: a read asking more than 4 GiB is recorded with its whole length,
/// and the recorded save and resume of a real process check clean offline
/// (the resume's total is the sum of its writes).
#[test]
fn a_recorded_save_and_resume_with_a_read_above_four_gib_checks_clean() {
    let dir = tmp("huge");
    let bin = build(
        &dir,
        r#"
int main(void)
{
	static char stream[96];
	size_t big = (5UL << 30) + 16;
	int p[2], q[2];
	char *buf = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (buf == MAP_FAILED || pipe(p) || pipe(q))
		return 2;
	memset(stream, 7, sizeof(stream));
	if (test_set(2000, 3, p[0]) || write(p[1], stream, 96) != 96 || close(p[1]))
		return 2;
	printf("%zd ", read(p[0], buf, big));
	printf("%zd\n", read(p[0], buf, big));
	test_set(2000, 1, -1);
	close(p[0]);
	test_set(2000, 4, q[1]);
	if (write(q[1], buf, 64) != 64 || write(q[1], buf + 64, 32) != 32)
		return 3;
	test_set(2000, 1, -1);
	close(q[1]);
	test_set(2000, 2, -1);
	return 0;
}
"#,
    );
    let traced = tmp("huge-traces");
    assert_eq!(stdout(&run(&bin, Some(&*traced))), "96 0\n");
    let files = traces(&traced);
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let s = steps(&text);
    assert_eq!(
        (s[1].op.as_str(), s[1].len, s[1].bytes),
        ("read", Some((5 << 30) + 16), Some(96))
    );
    let c = check(&text, profile()).unwrap();
    assert_eq!((c.steps, c.violation, c.lost), (11, None, None), "{text}");
}

/// Item: after fork the child's steps go to a file of its own (named with
/// its pid, starting with the parent's steps up to the fork), and the
/// parent's file holds the parent's steps only.
#[test]
fn a_forked_child_records_into_its_own_file() {
    let dir = tmp("fork");
    let bin = build(
        &dir,
        r#"
int main(void)
{
	static char buf[64];
	int n = open("/dev/null", O_WRONLY), st;
	if (n < 0 || test_set(1000, 4, n))
		return 2;
	if (write(n, buf, 64) != 64 || write(n, buf, 64) != 64)
		return 2;
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		if (write(n, buf, 32) != 32)
			_exit(3);
		test_set(1000, 1, -1);
		_exit(0);
	}
	if (c < 0 || waitpid(c, &st, 0) != c || st != 0)
		return 4;
	if (write(n, buf, 16) != 16)
		return 5;
	test_set(1000, 1, -1);
	printf("%d %d\n", (int)getpid(), (int)c);
	return 0;
}
"#,
    );
    let traced = tmp("fork-traces");
    let out = stdout(&run(&bin, Some(&*traced)));
    let pids: Vec<u32> = out.split_whitespace().map(|x| x.parse().unwrap()).collect();
    let (parent, child) = (pids[0], pids[1]);
    let file = |pid: u32| traced.join(format!("vfio-mig-trace-{pid}-fd1000.json"));
    assert_eq!(traces(&traced).len(), 2);
    let writes = |text: &str| -> (Vec<u64>, Option<u64>) {
        let s = steps(text);
        let w = s
            .iter()
            .filter(|s| s.op == "write")
            .filter_map(|s| s.bytes)
            .collect();
        (w, s.last().and_then(|s| s.stream_total))
    };
    let p = std::fs::read_to_string(file(parent)).unwrap();
    let c = std::fs::read_to_string(file(child)).unwrap();
    assert_eq!(writes(&p), (vec![64, 64, 16], Some(144)), "{p}");
    assert_eq!(writes(&c), (vec![64, 64, 32], Some(160)), "{c}");
    let header: Header = serde_json::from_str(c.lines().next().unwrap()).unwrap();
    assert_eq!(header.forked_from, Some(parent));
    for t in [&p, &c] {
        assert_eq!(check(t, profile()).unwrap().violation, None, "{t}");
    }
}

/// Item: a child forked while another thread is inside the recorder
/// (holding its lock) records on, instead of waiting forever for a lock
/// whose holder does not exist in the child.
#[test]
fn children_forked_while_another_thread_records_do_not_hang() {
    let dir = tmp("fork-threads");
    let bin = build(
        &dir,
        r#"
static int data_fd;
static volatile int stop;

static void *spin(void *arg)
{
	static char b[16];
	(void)arg;
	while (!stop)
		if (write(data_fd, b, sizeof(b)) != sizeof(b))
			_exit(5);
	return NULL;
}

int main(void)
{
	pthread_t t;
	int forks = 100, st;
	data_fd = open("/dev/null", O_WRONLY);
	if (data_fd < 0 || test_set(1000, 4, data_fd) || pthread_create(&t, NULL, spin, NULL))
		return 2;
	for (int i = 0; i < forks; i++) {
		pid_t c = fork();
		if (c == 0) {
			/* Another device: the child enters the recorder. */
			test_set(2000, 1, -1);
			_exit(0);
		}
		if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st))
			return 4;
	}
	stop = 1;
	pthread_join(t, NULL);
	printf("%d\n", forks);
	return 0;
}
"#,
    );
    let traced = tmp("fork-threads-traces");
    assert_eq!(stdout(&run(&bin, Some(&*traced))), "100\n");
    let children = traces(&traced)
        .iter()
        .filter(|p| p.to_string_lossy().ends_with("-fd2000.json"))
        .count();
    assert_eq!(children, 100, "each child recorded its own device");
}

/// Item: a child that runs in the parent's memory (vfork) records nothing
/// and leaves the parent's state alone: its close of a data fd (its own
/// copy) is not the parent's.
#[test]
fn a_vforked_child_leaves_the_parents_trace_alone() {
    let dir = tmp("vfork");
    let bin = build(
        &dir,
        r#"
int main(void)
{
	static char buf[64];
	int n = open("/dev/null", O_WRONLY), st;
	if (n < 0 || test_set(1000, 4, n) || write(n, buf, 64) != 64)
		return 2;
	pid_t c = vfork();
	if (c == 0) {
		close(n);
		_exit(0);
	}
	if (c < 0 || waitpid(c, &st, 0) != c || st != 0 || write(n, buf, 32) != 32)
		return 3;
	test_set(1000, 1, -1);
	return 0;
}
"#,
    );
    let traced = tmp("vfork-traces");
    stdout(&run(&bin, Some(&*traced)));
    let files = traces(&traced);
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let ops: Vec<String> = steps(&text).into_iter().map(|s| s.op).collect();
    assert_eq!(ops, ["set", "write", "write", "set"], "{text}");
    assert_eq!(check(&text, profile()).unwrap().violation, None);
}

/// Item: an unwritable trace directory is said once on stderr, naming the
/// directory and the error, and the program runs on unharmed.
#[test]
fn an_unwritable_trace_directory_is_said_once_and_the_program_runs_on() {
    let dir = tmp("unwritable");
    let bin = build(
        &dir,
        r#"
int main(void)
{
	static char buf[16];
	int n = open("/dev/null", O_WRONLY);
	if (n < 0 || test_set(1000, 4, n))
		return 2;
	for (int i = 0; i < 100; i++)
		if (write(n, buf, 16) != 16)
			return 3;
	test_set(1000, 1, -1);
	test_set(2000, 3, -1);
	printf("done\n");
	return 0;
}
"#,
    );
    let missing = dir.join("no-such-dir");
    let out = run(&bin, Some(&*missing));
    assert_eq!(stdout(&out), "done\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&missing.display().to_string()) && err.contains("No such file or directory"),
        "{err}"
    );
}
