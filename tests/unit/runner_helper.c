/* runner_helper: small programs the runner tests run through runlet-runner
 * (runner_helper <mode> [args]); each prints what the test asserts. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int h_alloc(int argc, char **argv)
{
	long mb = argc > 2 ? atol(argv[2]) : 100;
	for (long i = 0; i < mb; i++) {
		char *p = malloc(1 << 20);
		if (!p)
			return 3;
		memset(p, (int)i, 1 << 20);
	}
	printf("allocated %ld\n", mb);
	return 0;
}

static int h_forkcount(int argc, char **argv)
{
	int max = argc > 2 ? atoi(argv[2]) : 50, n = 0;
	for (int i = 0; i < max; i++) {
		pid_t p = fork();
		if (p < 0)
			break;
		if (p == 0) {
			pause();
			_exit(0);
		}
		n++;
	}
	printf("%d\n", n);
	return 0;
}

static int h_busy(void)
{
	for (volatile unsigned long i = 0;; i++)
		;
	return 0;
}

/* Burn ms milliseconds of this process's CPU time, then exit. */
static int h_cpuspin(int argc, char **argv)
{
	long ms = argc > 2 ? atol(argv[2]) : 200;
	struct timespec ts;
	for (volatile unsigned long i = 0;; i++) {
		if ((i & 0xffff) != 0)
			continue;
		if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0)
			return 2;
		if (ts.tv_sec * 1000 + ts.tv_nsec / 1000000 >= ms)
			break;
	}
	printf("spun %ld\n", ms);
	return 0;
}

static void *thread_fn(void *arg)
{
	return arg;
}

static void probe(const char *name, long rc)
{
	printf("%s=%s\n", name, rc < 0 ? strerror(errno) : "ok");
}

/* Try the calls the seccomp filter cares about; print each result. */
static int h_probe(void)
{
	pthread_t t;
	void *ret = NULL;
	int prc = pthread_create(&t, NULL, thread_fn, (void *)1);
	printf("thread=%s\n", prc == 0 && pthread_join(t, &ret) == 0 && ret
				      ? "ok" : strerror(prc));
	errno = 0;
	probe("ptrace", ptrace(PTRACE_TRACEME, 0, NULL, NULL));
	probe("unshare", syscall(SYS_unshare, CLONE_NEWUSER));
	probe("clone_newns", syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0));
	probe("clone3", syscall(SYS_clone3, NULL, 0));
	probe("mknod_chr", mknod("dev0", S_IFCHR | 0600, makedev(1, 3)));
	probe("mknod_fifo", mknod("fifo0", S_IFIFO | 0600, 0));
	probe("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
	probe("keyctl", syscall(SYS_keyctl, 0, 0, 0, 0, 0));
	probe("chroot", chroot("/"));
	/* a plain fork still works */
	pid_t p = fork();
	if (p == 0)
		_exit(7);
	int st = 0;
	waitpid(p, &st, 0);
	printf("fork=%s\n", p > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 7
				    ? "ok" : "failed");
	return 0;
}

/* What the process got: fds, ids, capabilities, signal state. */
static int h_state(void)
{
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			printf("fd %d\n", fd);
	printf("uid %d %d gid %d %d\n", (int)getuid(), (int)geteuid(),
	       (int)getgid(), (int)getegid());
	printf("groups %d\n", getgroups(0, NULL));
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Cap", 3) || !strncmp(line, "Sig", 3) ||
		    !strncmp(line, "NoNewPrivs", 10) ||
		    !strncmp(line, "Seccomp:", 8))
			fputs(line, stdout);
	if (f)
		fclose(f);
	printf("pgrp %d pid %d\n", (int)getpgrp(), (int)getpid());
	return 0;
}

/* Leave a grandchild in its own session, then exit. */
static int h_daemon(int argc, char **argv)
{
	int secs = argc > 2 ? atoi(argv[2]) : 100;
	int fds[2];
	if (pipe(fds) < 0)
		return 2;
	pid_t p = fork();
	if (p == 0) {
		setsid();
		pid_t g = fork();
		if (g == 0) {
			close(fds[0]);
			char b[32];
			int n = snprintf(b, sizeof(b), "%d\n", (int)getpid());
			if (write(fds[1], b, (size_t)n) < 0)
				_exit(1);
			close(fds[1]);
			close(1);
			close(2);
			sleep((unsigned)secs);
			_exit(0);
		}
		_exit(0);
	}
	close(fds[1]);
	waitpid(p, NULL, 0);
	char b[32] = "";
	ssize_t n = read(fds[0], b, sizeof(b) - 1);
	if (n > 0)
		fputs(b, stdout);
	return 0;
}

/* kill(-1, SIGKILL), but only inside a pid namespace whose PID 1 is the
 * runner and which is not the namespace of the test (RUNLET_HOST_PIDNS). */
static int h_killall(void)
{
	char comm[64] = "", ns[64] = "";
	int fd = open("/proc/1/comm", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, comm, sizeof(comm) - 1);
		comm[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
	ns[n > 0 ? n : 0] = '\0';
	const char *host = getenv("RUNLET_HOST_PIDNS");
	if (strcmp(comm, "runlet-runner\n") != 0 || !host || !*ns ||
	    strcmp(host, ns) == 0) {
		printf("refused: not in the runner's own pid namespace\n");
		return 2;
	}
	pid_t victim = fork();
	if (victim == 0) {
		pause();
		_exit(0);
	}
	int rc = kill(-1, SIGKILL), st = 0;
	waitpid(victim, &st, 0);
	printf("killed %d, child signal %d, still here\n", rc,
	       WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 0;
}

/* Other-architecture system calls: must be killed by the filter. */
static int h_i386(void)
{
#if defined(__x86_64__)
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	printf("i386 getpid returned %ld\n", ret);
#endif
	return 0;
}

static int h_x32(void)
{
#if defined(__x86_64__)
	long ret = syscall(39L | 0x40000000L); /* x32 getpid */
	printf("x32 getpid returned %ld\n", ret);
#endif
	return 0;
}

/* The baseline of the overhead measurement: n bare fork+exec+wait of a
 * program from a small process. */
static int h_spawn(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 1000;
	const char *prog = argc > 3 ? argv[3] : "/bin/true";
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p == 0) {
			execl(prog, prog, (char *)NULL);
			_exit(127);
		}
		if (p < 0 || waitpid(p, NULL, 0) != p)
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(m, "alloc"))
		return h_alloc(argc, argv);
	if (!strcmp(m, "forkcount"))
		return h_forkcount(argc, argv);
	if (!strcmp(m, "busy"))
		return h_busy();
	if (!strcmp(m, "cpuspin"))
		return h_cpuspin(argc, argv);
	if (!strcmp(m, "segv"))
		return raise(SIGSEGV);
	if (!strcmp(m, "probe"))
		return h_probe();
	if (!strcmp(m, "state"))
		return h_state();
	if (!strcmp(m, "daemon"))
		return h_daemon(argc, argv);
	if (!strcmp(m, "killall"))
		return h_killall();
	if (!strcmp(m, "i386"))
		return h_i386();
	if (!strcmp(m, "x32"))
		return h_x32();
	if (!strcmp(m, "spawn"))
		return h_spawn(argc, argv);
	fprintf(stderr, "runner_helper: unknown mode \"%s\"\n", m);
	return 100;
}
