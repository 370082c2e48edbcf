/* A minimal live migration between two VFIO devices through the v2 uAPI:
 * save from the first (STOP_COPY, read to the end, STOP), resume into the
 * second (RESUMING, write, STOP), then both back to RUNNING. The guest job
 * runs it under the vfio-mig recorder (LD_PRELOAD) and checks the traces.
 * Usage: migrate /dev/vfio/<group1> <device1> /dev/vfio/<group2> <device2> */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

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

/* SET the migration state; returns the data fd or -1, exits on failure. */
static int set_state(int dev, uint32_t state)
{
	struct { struct vfio_device_feature f; struct vfio_device_feature_mig_state s; } a;
	memset(&a, 0, sizeof(a));
	a.f.argsz = sizeof(a);
	a.f.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	a.s.device_state = state;
	a.s.data_fd = -1;
	if (ioctl(dev, VFIO_DEVICE_FEATURE, &a)) { fprintf(stderr, "SET %u: %s\n", state, strerror(errno)); exit(1); }
	return a.s.data_fd;
}

int main(int argc, char **argv)
{
	static unsigned char stream[1 << 20];
	size_t len = 0;
	if (argc != 5) { fprintf(stderr, "usage: %s group1 dev1 group2 dev2\n", argv[0]); return 2; }
	int src = open_device(argv[1], argv[2]), dst = open_device(argv[3], argv[4]);

	int fd = set_state(src, VFIO_DEVICE_STATE_STOP_COPY);
	for (;;) {
		ssize_t n = read(fd, stream + len, 4096);
		if (n < 0) { perror("read"); return 1; }
		if (n == 0) break;
		len += n;
	}
	set_state(src, VFIO_DEVICE_STATE_STOP);
	close(fd);

	fd = set_state(dst, VFIO_DEVICE_STATE_RESUMING);
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, stream + off, len - off < 64 ? len - off : 64);
		if (n <= 0) { perror("write"); return 1; }
		off += n;
	}
	set_state(dst, VFIO_DEVICE_STATE_STOP);
	close(fd);
	set_state(dst, VFIO_DEVICE_STATE_RUNNING);
	set_state(src, VFIO_DEVICE_STATE_RUNNING);
	printf("migrated %zu bytes\n", len);
	return 0;
}
