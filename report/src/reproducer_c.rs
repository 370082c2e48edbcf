//! A failing v2 trace as a small C program that issues the same ioctls,
//! reads and writes through `<linux/vfio.h>`, so a kernel developer can
//! reproduce the failure without Rust.
//!
//! The program opens the device through its IOMMU group and a type1v2
//! container (`repro /dev/vfio/<group> <device name>`), replays every step,
//! prints what the device answered next to what the checked device answered,
//! and exits 1 when an answer differs. Saved bytes are kept so that a write
//! of stream bytes writes what was read; other writes write a fixed pattern.
//! Numbers newer than an old `<linux/vfio.h>` (PRE_COPY, PRECOPY_INFO,
//! MIG_DATA_SIZE) are defined from Linux 6.12 when missing.

use vfio_mig_model::v2::{uapi, DataTag, MigState, Op, Outcome};

/// The file name of the shared header every reproducer includes.
pub const HEADER_FILE: &str = "vfio-mig-repro.h";

/// The shared header: the includes, the numbers an older `<linux/vfio.h>`
/// lacks, and the helpers each reproducer calls. Written once beside the
/// reproducers.
pub fn header() -> String {
    format!(
        "/* Helpers of the reproducers vfio-mig writes; each reproducer includes this. */\n#ifndef VFIO_MIG_REPRO_H\n#define VFIO_MIG_REPRO_H\n{PRELUDE}#endif\n"
    )
}

const PRELUDE: &str = r#"#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

/* Linux 6.12 numbers an older <linux/vfio.h> may lack. */
#ifndef VFIO_MIG_GET_PRECOPY_INFO
#define VFIO_MIG_GET_PRECOPY_INFO _IO(VFIO_TYPE, VFIO_BASE + 21)
struct vfio_precopy_info { uint32_t argsz, flags; uint64_t initial_bytes, dirty_bytes; };
#endif
#ifndef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9
#endif

#define UNUSED __attribute__((unused))
static int dev, fds[64], nfds, mismatches;
static UNUSED unsigned char saved[1 << 20], buf[1 << 20];
static UNUSED size_t nsaved;

/* errno of a failed call, 0 on success. */
#define CALL(x) ((x) < 0 ? errno : 0)

static UNUSED void show(const char *op, const char *got, const char *want)
{
	int same = strcmp(got, want) == 0;
	printf("%-40s -> %-28s %s\n", op, got, same ? "" : want);
	mismatches += !same;
}

static UNUSED int set_state(uint32_t state, int *fd)
{
	struct { struct vfio_device_feature f; struct vfio_device_feature_mig_state s; } a;
	memset(&a, 0, sizeof(a));
	a.f.argsz = sizeof(a);
	a.f.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	a.s.device_state = state;
	a.s.data_fd = -1;
	int e = CALL(ioctl(dev, VFIO_DEVICE_FEATURE, &a));
	*fd = a.s.data_fd;
	return e;
}

static UNUSED int get_state(uint32_t *state)
{
	struct { struct vfio_device_feature f; struct vfio_device_feature_mig_state s; } a;
	memset(&a, 0, sizeof(a));
	a.f.argsz = sizeof(a);
	a.f.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	int e = CALL(ioctl(dev, VFIO_DEVICE_FEATURE, &a));
	*state = a.s.device_state;
	return e;
}

static int open_device(const char *group_path, const char *name)
{
	int container = open("/dev/vfio/vfio", O_RDWR), group = open(group_path, O_RDWR);
	if (container < 0 || group < 0) { perror("open"); exit(2); }
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) || ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		perror("group or container"); exit(2);
	}
	int d = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, name);
	if (d < 0) { perror("VFIO_GROUP_GET_DEVICE_FD"); exit(2); }
	return d;
}

/* The n-th data fd the device returned (-1 when it returned none). */
static UNUSED int fd_at(int n) { return n < nfds ? fds[n] : -1; }

static UNUSED void answer(char *out, int err, long value, const char *what)
{
	if (err) sprintf(out, "errno %d", err);
	else if (what) sprintf(out, "%s %ld", what, value);
	else strcpy(out, "ok");
}
"#;

/// A state number, named in a comment (the enum's PRE_COPY values are
/// missing from headers older than Linux 6.2).
fn state_c(n: u32) -> String {
    match MigState::from_number(n) {
        Some(s) => format!("{n} /* VFIO_DEVICE_STATE_{} */", s.name()),
        None => n.to_string(),
    }
}

/// What the C program prints for `o` (the checked device's answer).
fn expected(o: &Outcome) -> String {
    match o {
        Outcome::SetOk { fd: true } => "ok, data fd".into(),
        Outcome::SetOk { fd: false } => "ok, no data fd".into(),
        Outcome::State(n) => format!("state {n}"),
        Outcome::Bytes(n) => format!("bytes {n}"),
        Outcome::Precopy {
            initial_bytes,
            dirty_bytes,
            flags,
        } => format!("initial {initial_bytes} dirty {dirty_bytes} flags {flags:#x}"),
        Outcome::Size(n) => format!("size {n}"),
        Outcome::Flags(n) => format!("migration flags {n:#x}"),
        Outcome::Done => "ok".into(),
        Outcome::Err(e) => format!("errno {}", e.0),
    }
}

/// One step as C statements.
fn step(op: &Op, o: &Outcome) -> String {
    let want = expected(o).replace('"', "'");
    let shown = op.to_string().replace('"', "'");
    let body = match *op {
        Op::Set(s) => set(s.number()),
        Op::SetRaw(n) => set(n),
        Op::Get => {
            "uint32_t s; int e = get_state(&s); if (e) answer(got, e, 0, 0); else sprintf(got, \"state %u\", s);".into()
        }
        Op::Read { fd, len } => format!(
            "size_t n = {len} < sizeof(buf) ? {len} : sizeof(buf); ssize_t r = read(fd_at({}), buf, n); answer(got, r < 0 ? errno : 0, r, \"bytes\"); if (r > 0 && nsaved + r <= sizeof(saved)) {{ memcpy(saved + nsaved, buf, r); nsaved += r; }}",
            fd.0
        ),
        Op::Write { fd, len, data } => {
            let source = match data {
                DataTag::Stream { offset, .. } => format!(
                    "size_t off = {offset}; const unsigned char *p = off + n <= nsaved ? saved + off : buf; if (p == buf) memset(buf, 0xa5, n);"
                ),
                DataTag::Corrupt { offset, .. } => format!(
                    "size_t off = {offset}; if (off + n <= nsaved) memcpy(buf, saved + off, n); else memset(buf, 0xa5, n); if (n) buf[n / 2] ^= 0x5a; const unsigned char *p = buf;"
                ),
                DataTag::Garbage => "const unsigned char *p = buf; memset(buf, 0xa5, n);".into(),
            };
            format!(
                "size_t n = {len} < sizeof(buf) ? {len} : sizeof(buf); {source} ssize_t r = write(fd_at({}), p, n); answer(got, r < 0 ? errno : 0, r, \"bytes\");",
                fd.0
            )
        }
        Op::PrecopyInfo { fd, flags } => format!(
            "struct vfio_precopy_info i = {{ .argsz = sizeof(i), .flags = {flags:#x}u }}; int e = CALL(ioctl(fd_at({}), VFIO_MIG_GET_PRECOPY_INFO, &i)); if (e) answer(got, e, 0, 0); else sprintf(got, \"initial %llu dirty %llu flags %#x\", (unsigned long long)i.initial_bytes, (unsigned long long)i.dirty_bytes, i.flags);",
            fd.0
        ),
        Op::Feature(req) => format!(
            "struct {{ struct vfio_device_feature f; uint64_t payload; }} a = {{ .f = {{ .argsz = {}u, .flags = {:#x}u }} }}; int e = CALL(ioctl(dev, VFIO_DEVICE_FEATURE, &a)); if (e) answer(got, e, 0, 0); else if ({}) sprintf(got, \"migration flags %#llx\", (unsigned long long)a.payload); else strcpy(got, \"ok\");",
            req.argsz(),
            req.flags(),
            matches!(o, Outcome::Flags(_)) as u8
        ),
        Op::DataSize => format!(
            "struct {{ struct vfio_device_feature f; uint64_t len; }} a = {{ .f = {{ .argsz = sizeof(a), .flags = VFIO_DEVICE_FEATURE_GET | {} }} }}; int e = CALL(ioctl(dev, VFIO_DEVICE_FEATURE, &a)); if (e) answer(got, e, 0, 0); else sprintf(got, \"size %llu\", (unsigned long long)a.len);",
            uapi::FEATURE_MIG_DATA_SIZE
        ),
        Op::Close { fd } => format!("answer(got, CALL(close(fd_at({}))), 0, 0);", fd.0),
        Op::Reset => "answer(got, CALL(ioctl(dev, VFIO_DEVICE_RESET)), 0, 0);".into(),
    };
    format!("\t{{ char got[96]; {body} show(\"{shown}\", got, \"{want}\"); }}\n")
}

fn set(n: u32) -> String {
    format!(
        "int fd; int e = set_state({}, &fd); if (e) answer(got, e, 0, 0); else if (fd >= 0) {{ fds[nfds++] = fd; strcpy(got, \"ok, data fd\"); }} else strcpy(got, \"ok, no data fd\");",
        state_c(n)
    )
}

/// The C reproducer of check `name` whose trace is `steps`.
pub fn v2(name: &str, steps: &[(Op, Outcome)]) -> String {
    let mut out = format!(
        "/* Reproducer of the check {name}, generated by vfio-mig.\n * Build (beside vfio-mig-repro.h): cc -o repro repro.c   Run: ./repro /dev/vfio/<group> <device name>\n * Each line: the operation, what this device answered, and (when it\n * differs) what the checked device answered. */\n"
    );
    out.push_str(&format!("#include \"{HEADER_FILE}\"\n"));
    out.push_str("\nint main(int argc, char **argv)\n{\n\tif (argc != 3) { fprintf(stderr, \"usage: %s /dev/vfio/<group> <device name>\\n\", argv[0]); return 2; }\n\tdev = open_device(argv[1], argv[2]);\n");
    for (op, o) in steps {
        out.push_str(&step(op, o));
    }
    out.push_str("\treturn mismatches ? 1 : 0;\n}\n");
    out
}
