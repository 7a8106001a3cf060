/* The seccomp filter the runner puts on every child when the plan asks for
 * it: default allow, a table of denied system calls (EPERM), clone with a
 * namespace flag denied, clone3 answered with ENOSYS (so libcs fall back to
 * clone, whose flags can be checked), other architectures killed.
 *
 * Built once per runner with libseccomp and exported as a raw BPF program,
 * so the child only has to prctl() it (no allocation after fork). */
#ifndef RUNLET_RUNNER_SECCOMP_FILTER_H
#define RUNLET_RUNNER_SECCOMP_FILTER_H

#include <linux/filter.h>
#include <stddef.h>

/* Build the program. prog->filter is owned by the caller: sf_free. On error
 * returns -errno and writes a message into err. */
int sf_build(struct sock_fprog *prog, char *err, size_t errlen);
void sf_free(struct sock_fprog *prog);
/* Write the filter in libseccomp's readable form to fd (for debugging and
 * tests). 0 or -errno. */
int sf_dump(int fd);

#endif /* RUNLET_RUNNER_SECCOMP_FILTER_H */
