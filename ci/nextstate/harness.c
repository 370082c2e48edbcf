/*
 * Runs the kernel's own vfio_mig_get_next_state() (extracted unchanged from
 * drivers/vfio/vfio_main.c by ci/nextstate.sh) the way a driver drives it,
 * for every migration flags combination the uAPI accepts and every (from, to)
 * pair of states, and prints one line per case.
 *
 * How a case runs: the device's migration_flags is FLAGS. The function is
 * called once as vfio_mig_get_next_state(dev, FROM, TO, &next); its return
 * value is `first`. Then the driver loop: cur = FROM; while cur != TO, take
 * the function's answer for (cur, TO) (for the first step, the call above),
 * stop on a non-zero return, else step cur = next. The loop gives up after
 * MAX_STEPS (16) steps. A call that uses 250 ms of CPU time without
 * returning is abandoned (the function spins); CPU time, not wall time, so
 * that a loaded machine cannot make a slow call look like a spin.
 *
 * Output format, version 1 (stable: `vfio-mig uapi-check --next-state FILE`
 * reads it). Lines starting with '#' are comments. Every other line is one
 * case: fields separated by one space, each KEY=VALUE, always in this order:
 *
 *   flags=F from=S to=S first=R result=RESULT path=S[,S...] warn=N
 *
 *   flags   migration flags, decimal: 1 STOP_COPY, 2 P2P, 4 PRE_COPY; the
 *           cases run flags 1, 3, 5 and 7 (the combinations the uAPI accepts)
 *   from    the starting state, decimal enum vfio_device_mig_state:
 *           0 ERROR, 1 STOP, 2 RUNNING, 3 STOP_COPY, 4 RESUMING,
 *           5 RUNNING_P2P, 6 PRE_COPY, 7 PRE_COPY_P2P
 *   to      the requested state, same numbering; every from and every to in
 *           0..7 is run, supported or not (256 cases in all)
 *   first   the return value of the first call (FROM, TO), decimal: 0 or a
 *           negative errno (-22 is -EINVAL); HANG if it did not return.
 *           The call is made even when FROM == TO (a driver would not call).
 *   result  OK      the loop reached TO (at once when FROM == TO)
 *           EINVAL  a call returned -EINVAL; path ends at the state in which
 *                   it was refused
 *           RET<n>  a call returned another value n (e.g. RET-5)
 *           LOOP    16 steps without reaching TO (path has 17 states)
 *           HANG    a call did not return (250 ms of CPU time); path ends
 *                   at the state it was called in
 *   path    the states the driver loop visited, FROM first, comma-separated
 *   warn    how many times the function's WARN_ON fired during the case
 *           (it fires when it is called in a state the flags do not support)
 *
 * Cases come in a fixed order: flags ascending, then from, then to.
 * Exit code: 0 when every case ran (whatever its result), 1 on a usage error.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "kstub.h"

#define MAX_STEPS 16
#define NUM_STATES 8
#define CALL_LIMIT_CPU_USEC 250000

unsigned int nextstate_warnings;

static sigjmp_buf hang_jump;

static void on_alarm(int sig)
{
	(void)sig;
	siglongjmp(hang_jump, 1);
}

static void arm(long usec)
{
	struct itimerval t;

	memset(&t, 0, sizeof(t));
	t.it_value.tv_sec = usec / 1000000;
	t.it_value.tv_usec = usec % 1000000;
	setitimer(ITIMER_VIRTUAL, &t, NULL);
}

/*
 * One call under the time limit: 1 when it returned (*ret set), 0 when it
 * did not return in time.
 */
static int call(struct vfio_device *dev, unsigned int cur, unsigned int to,
		unsigned int *next, int *ret)
{
	enum vfio_device_mig_state n = VFIO_DEVICE_STATE_ERROR;

	/* Nothing set after sigsetjmp is read after the jump back. */
	if (sigsetjmp(hang_jump, 1)) {
		arm(0);
		return 0;
	}
	arm(CALL_LIMIT_CPU_USEC);
	*ret = vfio_mig_get_next_state(dev, (enum vfio_device_mig_state)cur,
				       (enum vfio_device_mig_state)to, &n);
	arm(0);
	*next = (unsigned int)n;
	return 1;
}

static void run_case(unsigned int flags, unsigned int from, unsigned int to)
{
	struct vfio_device dev = { .migration_flags = flags };
	char path[512], first[16], result[16];
	unsigned int cur = from, next = 0, steps = 0;
	int ret = 0, first_ret = 0, first_done;
	size_t len;

	nextstate_warnings = 0;
	first_done = call(&dev, from, to, &next, &first_ret);
	if (first_done)
		snprintf(first, sizeof(first), "%d", first_ret);
	else
		snprintf(first, sizeof(first), "HANG");
	unsigned int first_next = next;

	len = (size_t)snprintf(path, sizeof(path), "%u", from);
	for (;;) {
		if (cur == to) {
			snprintf(result, sizeof(result), "OK");
			break;
		}
		if (steps == MAX_STEPS) {
			snprintf(result, sizeof(result), "LOOP");
			break;
		}
		int done;
		if (steps == 0) {
			/* The same call as the first one: use its answer. */
			done = first_done;
			ret = first_ret;
			next = first_next;
		} else {
			done = call(&dev, cur, to, &next, &ret);
		}
		if (!done) {
			snprintf(result, sizeof(result), "HANG");
			break;
		}
		if (ret == -EINVAL) {
			snprintf(result, sizeof(result), "EINVAL");
			break;
		}
		if (ret != 0) {
			snprintf(result, sizeof(result), "RET%d", ret);
			break;
		}
		cur = next;
		steps++;
		len += (size_t)snprintf(path + len, sizeof(path) - len, ",%u", cur);
	}
	printf("flags=%u from=%u to=%u first=%s result=%s path=%s warn=%u\n",
	       flags, from, to, first, result, path, nextstate_warnings);
}

int main(int argc, char **argv)
{
	static const unsigned int flag_sets[] = {
		VFIO_MIGRATION_STOP_COPY,
		VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P,
		VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY,
		VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY,
	};
	struct sigaction sa;
	unsigned int f, from, to;

	if (argc != 1) {
		fprintf(stderr, "usage: %s (no arguments; see the top of harness.c)\n", argv[0]);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGVTALRM, &sa, NULL);

	printf("# vfio_mig_get_next_state driven like a driver; format version 1 (see ci/nextstate/harness.c)\n");
	for (f = 0; f < ARRAY_SIZE(flag_sets); f++)
		for (from = 0; from < NUM_STATES; from++)
			for (to = 0; to < NUM_STATES; to++) {
				run_case(flag_sets[f], from, to);
				fflush(stdout);
			}
	return 0;
}
