/* The children's seccomp filter (see seccomp_filter.h): the deny table and
 * its export to a BPF program. */
#include "runner/seccomp_filter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Denied with EPERM whatever their arguments. Names, not numbers: a call the
 * architecture lacks is skipped. */
static const char *const sf_denied[] = {
	"ptrace", "process_vm_readv", "process_vm_writev",
	"mount", "umount2", "pivot_root", "chroot",
	"bpf", "perf_event_open",
	"kexec_load", "kexec_file_load",
	"init_module", "finit_module", "delete_module",
	"keyctl", "add_key", "request_key",
	"unshare", "setns",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"clock_settime", "clock_adjtime", "settimeofday", "adjtimex",
	"reboot", "swapon", "swapoff", "acct", "quotactl", "syslog",
	"userfaultfd", "open_by_handle_at", "name_to_handle_at",
	"lookup_dcookie", "fanotify_init",
	"iopl", "ioperm", "vhangup",
};

/* Denied with EPERM when (argument & mask) == value. */
static const struct sf_argrule {
	const char *name;
	unsigned arg;
	uint64_t mask;
	uint64_t value;
} sf_argrules[] = {
	{"mknod", 1, S_IFMT, S_IFCHR},
	{"mknod", 1, S_IFMT, S_IFBLK},
	{"mknodat", 2, S_IFMT, S_IFCHR},
	{"mknodat", 2, S_IFMT, S_IFBLK},
	/* clone's flags are its first argument on x86 and arm64 alike */
	{"clone", 0, CLONE_NEWNS, CLONE_NEWNS},
	{"clone", 0, CLONE_NEWCGROUP, CLONE_NEWCGROUP},
	{"clone", 0, CLONE_NEWUTS, CLONE_NEWUTS},
	{"clone", 0, CLONE_NEWIPC, CLONE_NEWIPC},
	{"clone", 0, CLONE_NEWUSER, CLONE_NEWUSER},
	{"clone", 0, CLONE_NEWPID, CLONE_NEWPID},
	{"clone", 0, CLONE_NEWNET, CLONE_NEWNET},
};

/* Answered with an errno other than EPERM. */
static const struct sf_errrule {
	const char *name;
	int err;
} sf_errrules[] = {
	{"clone3", ENOSYS},
};

static int sf_fill(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	int rc;
	const char *what = "attribute";

	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			      SCMP_ACT_KILL_PROCESS);
	/* the runner sets PR_SET_NO_NEW_PRIVS itself, in its documented place */
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	for (size_t i = 0; rc == 0 && i < sizeof(sf_denied) / sizeof(*sf_denied);
	     i++) {
		what = sf_denied[i];
		int nr = seccomp_syscall_resolve_name(what);
		if (nr == __NR_SCMP_ERROR)
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	for (size_t i = 0;
	     rc == 0 && i < sizeof(sf_argrules) / sizeof(*sf_argrules); i++) {
		const struct sf_argrule *r = &sf_argrules[i];
		what = r->name;
		int nr = seccomp_syscall_resolve_name(what);
		if (nr == __NR_SCMP_ERROR)
			continue;
		struct scmp_arg_cmp cmp = {r->arg, SCMP_CMP_MASKED_EQ, r->mask,
					   r->value};
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
					    &cmp);
	}
	for (size_t i = 0;
	     rc == 0 && i < sizeof(sf_errrules) / sizeof(*sf_errrules); i++) {
		what = sf_errrules[i].name;
		int nr = seccomp_syscall_resolve_name(what);
		if (nr == __NR_SCMP_ERROR)
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(sf_errrules[i].err),
				      nr, 0);
	}
	if (rc < 0)
		snprintf(err, errlen, "seccomp: cannot add the rule for %s: %s",
			 what, strerror(-rc));
	return rc;
}

static int sf_new(scmp_filter_ctx *out, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		snprintf(err, errlen, "seccomp: seccomp_init failed");
		return -ENOMEM;
	}
	int rc = sf_fill(ctx, err, errlen);
	if (rc < 0) {
		seccomp_release(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

int sf_build(struct sock_fprog *prog, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = NULL;
	int fd = -1;
	char *buf = NULL;
	int rc = sf_new(&ctx, err, errlen);
	if (rc < 0)
		return rc;
	fd = memfd_create("runlet-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "seccomp: memfd_create: %s", strerror(-rc));
		goto out;
	}
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0) {
		snprintf(err, errlen, "seccomp: exporting the filter: %s",
			 strerror(-rc));
		goto out;
	}
	off_t size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0 ||
	    size / (off_t)sizeof(struct sock_filter) > 0xffff) {
		rc = -EINVAL;
		snprintf(err, errlen, "seccomp: exported filter has a bad size %lld",
			 (long long)size);
		goto out;
	}
	buf = malloc((size_t)size);
	if (!buf) {
		rc = -ENOMEM;
		snprintf(err, errlen, "seccomp: out of memory");
		goto out;
	}
	if (pread(fd, buf, (size_t)size, 0) != size) {
		rc = -EIO;
		snprintf(err, errlen, "seccomp: reading back the filter failed");
		goto out;
	}
	prog->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
	prog->filter = (struct sock_filter *)(void *)buf;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	seccomp_release(ctx);
	return rc;
}

void sf_free(struct sock_fprog *prog)
{
	free(prog->filter);
	prog->filter = NULL;
	prog->len = 0;
}

int sf_dump(int fd)
{
	char err[256];
	scmp_filter_ctx ctx = NULL;
	int rc = sf_new(&ctx, err, sizeof(err));
	if (rc < 0)
		return rc;
	rc = seccomp_export_pfc(ctx, fd);
	seccomp_release(ctx);
	return rc;
}
