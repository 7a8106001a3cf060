/* Fast cgroup moves through a favordynmods hierarchy. See dynmods.h. */
#include "dynmods.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

/* Bumped per open: a hierarchy that was just let go dies asynchronously,
 * and making one of the same name meanwhile fails (EBUSY), so no name is
 * used twice. */
static atomic_uint opened;

int sbx_dynmods_open(char *err, size_t errlen)
{
	const char *step = "fsopen(\"cgroup\")";
	char name[64];
	int fs = fsopen("cgroup", FSOPEN_CLOEXEC);
	int rc = 0, mfd = -1;

	if (fs < 0) {
		rc = -errno;
		goto out;
	}
	snprintf(name, sizeof(name), "%s-%ld-%u", SBX_DYNMODS_NAME,
		 (long)getpid(), atomic_fetch_add(&opened, 1));
	/* a named hierarchy without controllers: "none,name=...,favordynmods" */
	if ((step = "fsconfig none",
	     fsconfig(fs, FSCONFIG_SET_FLAG, "none", NULL, 0)) < 0 ||
	    (step = "fsconfig name",
	     fsconfig(fs, FSCONFIG_SET_STRING, "name", name, 0)) < 0 ||
	    (step = "fsconfig favordynmods",
	     fsconfig(fs, FSCONFIG_SET_FLAG, "favordynmods", NULL, 0)) < 0 ||
	    (step = "fsconfig create",
	     fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0)) < 0) {
		rc = -errno;
		goto out;
	}
	step = "fsmount";
	mfd = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
					       MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (mfd < 0)
		rc = -errno;
out:
	if (fs >= 0)
		close(fs);
	if (rc < 0) {
		snprintf(err, errlen,
			 "fast cgroup moves unavailable: %s: %s (cgroup moves "
			 "may wait for an RCU grace period each)",
			 step, strerror(-rc));
		return rc;
	}
	return mfd;
}
