/* A stand-in for runlet-runner used by test_native: it runs where the runner
 * would (PID 1 of the sandbox) and reports what it sees as the "out" of
 * test 1, so the tests can check the sandbox itself. The plan's run argv[0]
 * picks what it does: "report", "sleep" (never finishes), "orphan" (leaves a
 * setsid'd grandchild behind and exits), "flood" (endless stdout). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/wire.h"

static void add(struct wire_buf *b, const char *fmt, const char *v)
{
	/* fmt is "<key>%s<sep>": the key, the value, the separator */
	const char *pc = strstr(fmt, "%s");
	wire_buf_append(b, fmt, (size_t)(pc - fmt));
	wire_buf_append(b, v, strlen(v));
	wire_buf_append(b, pc + 2, strlen(pc + 2));
}

static void add_file(struct wire_buf *b, const char *key, const char *path,
		     const char *grep)
{
	char buf[8192];
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		snprintf(buf, sizeof(buf), "%s=ERR:%s\n", key, strerror(errno));
		wire_buf_append(b, buf, strlen(buf));
		return;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (!grep) {
		char head[64];
		snprintf(head, sizeof(head), "%s=%zd:", key, n);
		wire_buf_append(b, head, strlen(head));
		for (char *c = buf; *c; c++)
			if (*c == '\n')
				*c = '|';
		wire_buf_append(b, buf, strlen(buf));
		wire_buf_append(b, "\n", 1);
		return;
	}
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
		if (strncmp(l, grep, strlen(grep)) == 0) {
			add(b, "%s\n", l);
		}
}

static void report(struct wire_buf *b)
{
	char s[512];
	snprintf(s, sizeof(s), "pid=%d\nuid=%d\n", (int)getpid(), (int)getuid());
	wire_buf_append(b, s, strlen(s));
	gethostname(s, sizeof(s));
	add(b, "hostname=%s\n", s);
	add(b, "cwd=%s\n", getcwd(s, sizeof(s)) ? s : "?");
	DIR *d = opendir("/");
	wire_buf_append(b, "root=", 5);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' || strcmp(e->d_name, ".runlet") == 0)
			add(b, "%s,", e->d_name);
	if (d)
		closedir(d);
	wire_buf_append(b, "\n", 1);
	d = opendir("/dev");
	wire_buf_append(b, "dev=", 4);
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			add(b, "%s,", e->d_name);
	if (d)
		closedir(d);
	wire_buf_append(b, "\n", 1);
	struct if_nameindex *ifs = if_nameindex();
	wire_buf_append(b, "ifaces=", 7);
	for (struct if_nameindex *i = ifs; i && i->if_index; i++)
		add(b, "%s,", i->if_name);
	if (ifs)
		if_freenameindex(ifs);
	wire_buf_append(b, "\n", 1);
	add_file(b, "status", "/proc/self/status", "CapBnd");
	add_file(b, "status", "/proc/self/status", "CapEff");
	add_file(b, "status", "/proc/self/status", "NoNewPrivs");
	add_file(b, "shadow", "/etc/shadow", NULL);
	add_file(b, "cgroup", "/proc/self/cgroup", NULL);
	add_file(b, "kcore", "/proc/kcore", NULL);
	const char *paths[] = {"/usr/probe", "/etc/probe", "/probe", "/proc/sys/kernel/hostname", NULL};
	for (int i = 0; paths[i]; i++) {
		int fd = open(paths[i], O_WRONLY | O_CREAT, 0644);
		snprintf(s, sizeof(s), "write%s=%s\n", paths[i],
			 fd >= 0 ? "OK" : strerror(errno));
		wire_buf_append(b, s, strlen(s));
		if (fd >= 0)
			close(fd);
	}
	struct stat st;
	/* a sandbox is used once: no earlier run's file, its own pid ns */
	add(b, "seen_before=%s\n", stat("probe.txt", &st) == 0 ? "yes" : "no");
	ssize_t nl = readlink("/proc/self/ns/pid", s, sizeof(s) - 1);
	s[nl > 0 ? nl : 0] = '\0';
	add(b, "pidns=%s\n", s);
	int fd = open("probe.txt", O_WRONLY | O_CREAT, 0644);
	add(b, "workdir_write=%s\n", fd >= 0 ? "OK" : strerror(errno));
	if (fd >= 0)
		close(fd);
	if (stat(".", &st) == 0) {
		snprintf(s, sizeof(s), "workdir_owner=%d\n", (int)st.st_uid);
		wire_buf_append(b, s, strlen(s));
	}
	add(b, "host_root_visible=%s\n", stat("/root", &st) == 0 ? "yes" : "no");
	add(b, "host_home_visible=%s\n", stat("/home", &st) == 0 ? "yes" : "no");
}

int main(void)
{
	struct wire_buf in = {0}, out = {0}, res = {0};
	char buf[65536];
	ssize_t n;
	while ((n = read(0, buf, sizeof(buf))) > 0)
		wire_buf_append(&in, buf, (size_t)n);
	/* the run step's argv[0], read straight from the records (the probe
	 * depends on nothing but the record syntax) */
	const char *at = in.data ? strstr(in.data, "step 3\nrun\narg ") : NULL;
	char mode[32] = "";
	if (!at) {
		fprintf(stderr, "probe: no run step in the plan\n");
		return 2;
	}
	at += strlen("step 3\nrun\narg ");
	size_t ml = strtoul(at, (char **)&at, 10);
	if (*at == '\n' && ml < sizeof(mode))
		memcpy(mode, at + 1, ml);
	if (strcmp(mode, "sleep") == 0) {
		for (;;)
			pause();
	}
	if (strcmp(mode, "flood") == 0) {
		memset(buf, 'x', sizeof(buf));
		for (;;)
			if (write(1, buf, sizeof(buf)) < 0)
				return 3;
	}
	if (strcmp(mode, "orphan") == 0) {
		if (fork() == 0) {
			setsid();
			if (fork() == 0) {
				signal(SIGTERM, SIG_IGN);
				signal(SIGHUP, SIG_IGN);
				char *const av[] = {"sleep", "987654", NULL};
				execv("/bin/sleep", av);
				_exit(1);
			}
			_exit(0);
		}
		sleep(1);
	}
	if (strcmp(mode, "report") == 0)
		report(&out);
	wire_put_str(&res, "result", "1");
	struct wire_outcome o = {0};
	o.num = 1;
	o.out = out.data ? out.data : "";
	o.out_len = out.len;
	wire_outcome_encode(&o, &res);
	wire_put_str(&res, "end", "");
	fwrite(res.data, 1, res.len, stdout);
	return 0;
}
