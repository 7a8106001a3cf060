/* backends/docker: who owns a container, and the startup sweep of what a
 * crashed runlet left behind (containers, anonymous volumes, staging).
 *
 * Every container and volume runlet makes carries the labels runlet=1 and
 * runlet.owner=<host>/<pid>/<process start time>. A sweep removes those
 * whose owner ran on this host and is gone (pid dead, or reused by another
 * process), and those of any owner older than DOCK_SWEEP_MAX_AGE_S; live
 * runlets' containers (several daemons may share one engine) are left
 * alone. */
#ifndef RUNLET_DOCK_SWEEP_H
#define RUNLET_DOCK_SWEEP_H

#include <stddef.h>

#define DOCK_SWEEP_MAX_AGE_S (24 * 3600)

struct dock_client;

/* "<host>/<pid>/<starttime>" of this process. */
int dock_owner_self(char *out, size_t outlen);
/* Start time (clock ticks since boot, /proc/<pid>/stat field 22); 0 or
 * -ESRCH (no such process, or a zombie). */
int dock_proc_starttime(long pid, unsigned long long *out);
/* 1: owner alive, 0: owner ran on this host and is gone, -1: another host
 * or not a valid tag. */
int dock_owner_alive(const char *tag);

/* Remove stale runlet containers and volumes. Returns how many were
 * removed (>= 0) or -errno with err. */
int dock_sweep(struct dock_client *c, char *err, size_t errlen);

#endif /* RUNLET_DOCK_SWEEP_H */
