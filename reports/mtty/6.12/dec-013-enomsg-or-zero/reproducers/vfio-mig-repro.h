/* Helpers of the reproducers vfio-mig writes; each reproducer includes this. */
#ifndef VFIO_MIG_REPRO_H
#define VFIO_MIG_REPRO_H
#include <errno.h>
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
#define JUNK_BYTE(i) ((unsigned char)((i) * 37u + 11u))
#define FLIP_BYTE 0x5a

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
#endif
