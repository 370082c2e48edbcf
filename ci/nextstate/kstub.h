/*
 * The little of the kernel that vfio_mig_get_next_state() needs, so that the
 * function, extracted unchanged from drivers/vfio/vfio_main.c by
 * ci/nextstate.sh, compiles as ordinary user-space C with the harness.
 *
 * The migration states and flags come from the kernel's own uAPI header
 * (<linux/vfio.h> as installed from the same linux-source package).
 */
#ifndef VFIO_MIG_KSTUB_H
#define VFIO_MIG_KSTUB_H

#include <errno.h>
#include <stddef.h>
#include <linux/vfio.h>

typedef unsigned char u8;
typedef unsigned int u32;

#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]))

/* A kernel WARN_ON: counted, and the condition's value returned. */
extern unsigned int nextstate_warnings;
#define WARN_ON(cond) ({                          \
	int __warned = !!(cond);                  \
	if (__warned)                             \
		nextstate_warnings++;             \
	__warned;                                 \
})

#define EXPORT_SYMBOL_GPL(sym) extern int nextstate_exported_##sym

/* The only field of struct vfio_device the function reads. */
struct vfio_device {
	u32 migration_flags;
};

int vfio_mig_get_next_state(struct vfio_device *device,
			    enum vfio_device_mig_state cur_fsm,
			    enum vfio_device_mig_state new_fsm,
			    enum vfio_device_mig_state *next_fsm);

#endif
