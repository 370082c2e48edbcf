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
#endif
