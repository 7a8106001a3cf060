/* Fast cgroup moves: the kernel's "favordynmods" cgroup mode.
 *
 * Moving a process into a cgroup (a write to cgroup.procs) takes the
 * kernel's cgroup threadgroup lock for writing. In the kernel's default
 * mode that write waits for an RCU grace period unless another move
 * happened a moment before: measured here, 9-15 ms per move when moves are
 * tens of milliseconds apart, 0.03 ms in favordynmods mode. A sandbox
 * makes one move for itself and one per test, so the default mode costs a
 * judge more than the rest of its sandbox setup.
 *
 * favordynmods is a property of a cgroup hierarchy (the cgroup2 and cgroup
 * v1 mount option of that name, or the cgroup_favordynmods=1 boot
 * option); the lock it changes is global, so one hierarchy in that mode
 * is enough. runlet makes its own: a named cgroup v1 hierarchy with no
 * controllers, created through the mount API as a detached mount that
 * appears in no mount table and is held by a close-on-exec fd. It holds
 * no process and changes no other hierarchy's options. In exchange forks
 * and exits host-wide take the lock's slower reader path (an atomic
 * operation instead of a per-CPU one). The kernel returns to its default
 * mode when the hierarchy goes away (the fd is closed, or runlet exits),
 * except kernels that keep favordynmods until reboot once it was on, as
 * the boot option would (6.18 does, and says so in its log).
 *
 * Making the hierarchy takes 12-16 ms, about what one slow move costs, so
 * only a long-lived runlet does it: the native pool's refill thread when
 * it starts (native.c). Config: sandbox.fast_cgroup_moves (default true).
 */
#ifndef RUNLET_NATIVE_DYNMODS_H
#define RUNLET_NATIVE_DYNMODS_H

#include <stddef.h>

/* The prefix of runlet's hierarchies' names ("name=" of a cgroup v1
 * mount): runlet-dynmods-<pid>-<n>. */
#define SBX_DYNMODS_NAME "runlet-dynmods"

/* Make a favordynmods hierarchy of runlet's own. Returns the detached
 * mount's fd (owned by the caller, O_CLOEXEC; close it to let go) or
 * -errno with err saying what failed (the kernel lacks the mount API,
 * cgroup v1 named hierarchies or the option; not root). Nothing is left
 * behind on failure. */
int sbx_dynmods_open(char *err, size_t errlen);

#endif
