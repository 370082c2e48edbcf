//! A failing v2 check as a small C program that issues the same ioctls,
//! reads and writes through `<linux/vfio.h>`, so a kernel developer can
//! reproduce the failure without Rust.
//!
//! The program opens the device through its IOMMU group and a type1v2
//! container (`repro /dev/vfio/<group> <device>`, and a second pair for the
//! destination when the check used two instances), replays every event of
//! the check in order (calls on either instance, reopens, state snapshots
//! and their comparisons), prints what the device answered next to what the
//! checked device answered, and exits 1 when an answer or a comparison
//! differs. Writes are made as the check made them: bytes of the stream
//! this program read from the source (altered where the check altered
//! them), or the same junk. Faults the check armed cannot be armed from C:
//! the program says so where one was. State snapshots read the bytes named
//! by `VFIO_MIG_STATE_BYTES` (`region:offset,...`, as for the suite); unset,
//! comparisons are reported as not made. Numbers newer than an old
//! `<linux/vfio.h>` are defined from Linux 6.12 and 7.3 when missing.

use vfio_mig_engine::trace::{Event, Fill, FLIP};
use vfio_mig_model::v2::{uapi, Fsm, MigState, Op, Outcome};

/// The file name of the shared header every reproducer includes.
pub const HEADER_FILE: &str = "vfio-mig-repro.h";

/// The shared header: the includes, the numbers an older `<linux/vfio.h>`
/// lacks, and the helpers each reproducer calls. Written once beside the
/// reproducers.
pub fn header() -> String {
    format!(
        "/* Helpers of the reproducers vfio-mig writes; each reproducer includes this. */\n#ifndef VFIO_MIG_REPRO_H\n#define VFIO_MIG_REPRO_H\n{PRELUDE}#define JUNK_BYTE(i) ((unsigned char)((i) * 37u + 11u))\n#define FLIP_BYTE {FLIP:#04x}\n{HELPERS}#endif\n"
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

/* Linux 6.12 and 7.3 numbers an older <linux/vfio.h> may lack. */
#ifndef VFIO_MIG_GET_PRECOPY_INFO
#define VFIO_MIG_GET_PRECOPY_INFO _IO(VFIO_TYPE, VFIO_BASE + 21)
struct vfio_precopy_info { uint32_t argsz, flags; uint64_t initial_bytes, dirty_bytes; };
#endif
#ifndef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9
#endif

#define UNUSED __attribute__((unused))
"#;

const HELPERS: &str = r#"
/* Per instance (0 = source, 1 = destination): the device, the files that
 * hold it open, the data fds it returned, its state snapshots. */
struct instance {
	int dev, group, container, fds[64], nfds;
	const char *group_path, *name;
	unsigned char snaps[16][256];
	int snap_len[16], nsnaps;
};
static struct instance in[2] = { { .dev = -1 }, { .dev = -1 } };
static int mismatches;
/* The stream read from the source; writes take their bytes from it. */
static UNUSED unsigned char saved[16 << 20], buf[1 << 20];
static UNUSED size_t nsaved;

/* errno of a failed call, 0 on success. */
#define CALL(x) ((x) < 0 ? errno : 0)

static UNUSED void show(int i, const char *op, const char *got, const char *want)
{
	int same = strcmp(got, want) == 0;
	printf("%d %-44s -> %-28s %s\n", i, op, got, same ? "" : want);
	mismatches += !same;
}

static void open_instance(int i)
{
	struct instance *d = &in[i];
	d->container = open("/dev/vfio/vfio", O_RDWR);
	d->group = open(d->group_path, O_RDWR);
	if (d->container < 0 || d->group < 0) { perror("open"); exit(2); }
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container) || ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		perror("group or container"); exit(2);
	}
	d->dev = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, d->name);
	if (d->dev < 0) { perror("VFIO_GROUP_GET_DEVICE_FD"); exit(2); }
	d->nfds = 0;
	/* As the suite does, give each instance its own value in the bytes
	 * VFIO_MIG_SCRATCH_BYTES names, so that a resume that changes
	 * nothing shows. */
	const char *spec = getenv("VFIO_MIG_SCRATCH_BYTES");
	for (const char *p = spec ? spec : ""; *p;) {
		unsigned region; long long off; int used;
		unsigned char value = (unsigned char)(0x40 + i);
		if (sscanf(p, "%u:%lli%n", &region, &off, &used) != 2) break;
		struct vfio_region_info r = { .argsz = sizeof(r), .index = region };
		if (ioctl(d->dev, VFIO_DEVICE_GET_REGION_INFO, &r) || pwrite(d->dev, &value, 1, r.offset + off) != 1)
			printf("%d (scratch byte %u:%lli cannot be written: errno %d)\n", i, region, off, errno);
		p += used;
		if (*p == ',') p++;
	}
}

/* Closes instance i (its data fds, the device, the group, the container)
 * and opens it again. */
static UNUSED void reopen(int i)
{
	struct instance *d = &in[i];
	for (int n = 0; n < d->nfds; n++) if (d->fds[n] >= 0) close(d->fds[n]);
	close(d->dev); close(d->group); close(d->container);
	open_instance(i);
	printf("%d (closed and opened again)\n", i);
}

/* The n-th data fd instance i returned (-1 when it returned none). */
static UNUSED int fd_at(int i, int n) { return n < in[i].nfds ? in[i].fds[n] : -1; }

static UNUSED void answer(char *out, int err, long value, const char *what)
{
	if (err) sprintf(out, "errno %d", err);
	else if (what) sprintf(out, "%s %ld", what, value);
	else strcpy(out, "ok");
}

static UNUSED int set_state(int i, uint32_t state, int *fd)
{
	struct { struct vfio_device_feature f; struct vfio_device_feature_mig_state s; } a;
	memset(&a, 0, sizeof(a));
	a.f.argsz = sizeof(a);
	a.f.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	a.s.device_state = state;
	a.s.data_fd = -1;
	int e = CALL(ioctl(in[i].dev, VFIO_DEVICE_FEATURE, &a));
	*fd = a.s.data_fd;
	return e;
}

static UNUSED int get_state(int i, uint32_t *state)
{
	struct { struct vfio_device_feature f; struct vfio_device_feature_mig_state s; } a;
	memset(&a, 0, sizeof(a));
	a.f.argsz = sizeof(a);
	a.f.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	int e = CALL(ioctl(in[i].dev, VFIO_DEVICE_FEATURE, &a));
	*state = a.s.device_state;
	return e;
}

/* Makes n bytes to write: from the saved stream at `at` (flipping the byte
 * at `flip` when it is not -1), or junk when at is -1. */
static UNUSED const unsigned char *fill(long long at, long flip, size_t n)
{
	if (at < 0) {
		for (size_t k = 0; k < n; k++) buf[k] = JUNK_BYTE(k);
		return buf;
	}
	if ((size_t)at + n > nsaved) {
		printf("  (the source gave %zu bytes, fewer than this write takes: junk instead)\n", nsaved);
		return fill(-1, -1, n);
	}
	memcpy(buf, saved + at, n);
	if (flip >= 0 && (size_t)flip < n) buf[flip] ^= FLIP_BYTE;
	return buf;
}

/* Reads the bytes VFIO_MIG_STATE_BYTES names (region:offset,...) of
 * instance i; records nothing when the variable is unset. */
static UNUSED void snapshot(int i)
{
	struct instance *d = &in[i];
	const char *spec = getenv("VFIO_MIG_STATE_BYTES");
	int k = d->nsnaps < 16 ? d->nsnaps++ : 15;
	d->snap_len[k] = -1;
	if (!spec || !*spec) { printf("%d (state not read: VFIO_MIG_STATE_BYTES is unset)\n", i); return; }
	int len = 0;
	for (const char *p = spec; *p && len < 256;) {
		unsigned region; long long off; int used;
		if (sscanf(p, "%u:%lli%n", &region, &off, &used) != 2) break;
		struct vfio_region_info r = { .argsz = sizeof(r), .index = region };
		if (ioctl(d->dev, VFIO_DEVICE_GET_REGION_INFO, &r) || pread(d->dev, &d->snaps[k][len], 1, r.offset + off) != 1) {
			printf("%d (state byte %u:%lli cannot be read: errno %d)\n", i, region, off, errno);
			return;
		}
		len++;
		p += used;
		if (*p == ',') p++;
	}
	d->snap_len[k] = len;
	printf("%d (state read: %d bytes)\n", i, len);
}

/* Snapshot an_ of instance ai against bn_ of bi, as the check compared them. */
static UNUSED void same(int ai, int an, int bi, int bn, const char *rule)
{
	struct instance *a = &in[ai], *b = &in[bi];
	if (an >= a->nsnaps || bn >= b->nsnaps || a->snap_len[an] < 0 || b->snap_len[bn] < 0) {
		printf("  (state comparison for %s not made: no state read)\n", rule);
		return;
	}
	int differs = a->snap_len[an] != b->snap_len[bn] || memcmp(a->snaps[an], b->snaps[bn], a->snap_len[an]);
	printf("  state of %d (snapshot %d) against %d (snapshot %d): %s%s\n", bi, bn, ai, an,
	       differs ? "DIFFERS, breaking " : "same", differs ? rule : "");
	mismatches += differs;
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

/// The C expression `fill()` takes for a write made as `fill` says.
fn fill_c(fill: Option<Fill>) -> String {
    match fill {
        Some(Fill::Saved { at }) => format!("{at}LL, -1"),
        Some(Fill::Flipped { at, flip }) => format!("{at}LL, {flip}"),
        Some(Fill::Junk) | None => "-1, -1".into(),
    }
}

/// One step on instance `i` as C statements.
fn step(i: u8, op: &Op, o: &Outcome, fill: Option<Fill>) -> String {
    let want = expected(o).replace('"', "'");
    let shown = op.to_string().replace('"', "'");
    let body = match *op {
        Op::Set(s) => set(i, s.number()),
        Op::SetRaw(n) => set(i, n),
        Op::Get => format!(
            "uint32_t s; int e = get_state({i}, &s); if (e) answer(got, e, 0, 0); else sprintf(got, \"state %u\", s);"
        ),
        Op::Read { fd, len } => {
            // Only the source's reads make the stream the writes take.
            let keep = if i == 0 {
                " if (r > 0 && nsaved + r <= sizeof(saved)) { memcpy(saved + nsaved, buf, r); nsaved += r; }"
            } else {
                ""
            };
            format!(
                "size_t n = {len} < sizeof(buf) ? {len} : sizeof(buf); ssize_t r = read(fd_at({i}, {}), buf, n); answer(got, r < 0 ? errno : 0, r, \"bytes\");{keep}",
                fd.0
            )
        }
        Op::Write { fd, len, .. } => format!(
            "size_t n = {len} < sizeof(buf) ? {len} : sizeof(buf); const unsigned char *p = fill({}, n); ssize_t r = write(fd_at({i}, {}), p, n); answer(got, r < 0 ? errno : 0, r, \"bytes\");",
            fill_c(fill),
            fd.0
        ),
        Op::PrecopyInfo { fd, flags } => format!(
            "struct vfio_precopy_info p = {{ .argsz = sizeof(p), .flags = {flags:#x}u }}; int e = CALL(ioctl(fd_at({i}, {}), VFIO_MIG_GET_PRECOPY_INFO, &p)); if (e) answer(got, e, 0, 0); else sprintf(got, \"initial %llu dirty %llu flags %#x\", (unsigned long long)p.initial_bytes, (unsigned long long)p.dirty_bytes, p.flags);",
            fd.0
        ),
        Op::DataSize => format!(
            "struct {{ struct vfio_device_feature f; uint64_t len; }} a = {{ .f = {{ .argsz = sizeof(a), .flags = VFIO_DEVICE_FEATURE_GET | {} }} }}; int e = CALL(ioctl(in[{i}].dev, VFIO_DEVICE_FEATURE, &a)); if (e) answer(got, e, 0, 0); else sprintf(got, \"size %llu\", (unsigned long long)a.len);",
            uapi::FEATURE_MIG_DATA_SIZE
        ),
        Op::Feature(req) => format!(
            "struct {{ struct vfio_device_feature f; uint64_t payload; }} a = {{ .f = {{ .argsz = {}u, .flags = {:#x}u }} }}; int e = CALL(ioctl(in[{i}].dev, VFIO_DEVICE_FEATURE, &a)); if (e) answer(got, e, 0, 0); else if ({}) sprintf(got, \"migration flags %#llx\", (unsigned long long)a.payload); else strcpy(got, \"ok\");",
            req.argsz(),
            req.flags(),
            matches!(o, Outcome::Flags(_)) as u8
        ),
        Op::Close { fd } => format!("answer(got, CALL(close(fd_at({i}, {}))), 0, 0);", fd.0),
        Op::Reset => format!("answer(got, CALL(ioctl(in[{i}].dev, VFIO_DEVICE_RESET)), 0, 0);"),
    };
    format!("\t{{ char got[96]; {body} show({i}, \"{shown}\", got, \"{want}\"); }}\n")
}

fn set(i: u8, n: u32) -> String {
    format!(
        "int fd; int e = set_state({i}, {}, &fd); if (e) answer(got, e, 0, 0); else if (fd >= 0) {{ in[{i}].fds[in[{i}].nfds++] = fd; strcpy(got, \"ok, data fd\"); }} else strcpy(got, \"ok, no data fd\");",
        state_c(n)
    )
}

/// The C reproducer of check `name` whose events are `events`.
pub fn v2(name: &str, events: &[Event<Fsm>]) -> String {
    let two = events.iter().any(|e| match e {
        Event::Step(s) => s.instance == 1,
        Event::Inject { instance, .. } | Event::Reopen { instance } | Event::Snapshot { instance } => {
            *instance == 1
        }
        Event::Same { a, b, .. } => a.instance == 1 || b.instance == 1,
    });
    let (usage, argc) = if two {
        ("/dev/vfio/<group> <device> /dev/vfio/<group> <device>", 5)
    } else {
        ("/dev/vfio/<group> <device>", 3)
    };
    let mut out = format!(
        "/* Reproducer of the check {name}, generated by vfio-mig.\n * Build (beside {HEADER_FILE}): cc -o repro repro.c   Run: ./repro {usage}\n * Each line: the instance (0 source, 1 destination), the operation, what this\n * device answered, and (when it differs) what the checked device answered.\n * State comparisons read the bytes VFIO_MIG_STATE_BYTES names (region:offset,...),\n * after giving each instance its own value in those VFIO_MIG_SCRATCH_BYTES names;\n * for mtty: VFIO_MIG_STATE_BYTES=0:1,0:3,0:4,0:7,1:1,1:3,1:4,1:7 VFIO_MIG_SCRATCH_BYTES=0:7,1:7 */\n"
    );
    out.push_str(&format!("#include \"{HEADER_FILE}\"\n"));
    out.push_str(&format!(
        "\nint main(int argc, char **argv)\n{{\n\tif (argc != {argc}) {{ fprintf(stderr, \"usage: %s {usage}\\n\", argv[0]); return 2; }}\n\tin[0].group_path = argv[1]; in[0].name = argv[2]; open_instance(0);\n"
    ));
    if two {
        out.push_str("\tin[1].group_path = argv[3]; in[1].name = argv[4]; open_instance(1);\n");
    }
    for e in events {
        match e {
            Event::Step(s) => out.push_str(&step(s.instance, &s.op, &s.outcome, s.fill)),
            Event::Inject { instance, fault } => out.push_str(&format!(
                "\tprintf(\"{instance} (the check armed a fault here, {}, which this program cannot: what follows may differ)\\n\");\n",
                format!("{fault:?}").replace('"', "'")
            )),
            Event::Reopen { instance } => out.push_str(&format!("\treopen({instance});\n")),
            Event::Snapshot { instance } => out.push_str(&format!("\tsnapshot({instance});\n")),
            Event::Same { a, b, rule } => out.push_str(&format!(
                "\tsame({}, {}, {}, {}, \"{}\");\n",
                a.instance,
                a.nth,
                b.instance,
                b.nth,
                rule.id()
            )),
        }
    }
    out.push_str("\treturn mismatches ? 1 : 0;\n}\n");
    out
}
