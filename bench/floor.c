/* bench-floor: the benchmarks' floor and stopwatch. Runs a program once per
 * input with fork/exec/wait4, feeding the input on a pipe and draining stdout
 * on another (what a judge must do at the very least), and prints the wall
 * time of every run. The benchmarks time runlet itself with it too, so both
 * sides of a ratio are measured by the same code.
 *
 *   bench-floor [-n REPEAT] [-j JOBS] [-c] [-e VAR=VAL]... [-d DIR]
 *               [-i FILE]... [-O FILE] -- PROG ARG...
 *
 *   -n  run the whole input list REPEAT times (default 1)
 *   -j  split the runs over JOBS processes running at once (throughput)
 *   -c  clear the environment (then -e adds to it)
 *   -e  set VAR=VAL in the program's environment
 *   -d  chdir to DIR in the child before exec
 *   -i  an input file; one run per -i (none: one run with empty stdin)
 *   -O  write the last run's stdout to FILE
 *
 * Output on stdout, one line each: `run <index> <ns> <status>` per run (status
 * as wait4 reports it), then `total <ns> <runs>`: the wall time from the first
 * fork to the last reap. Exit status 0 when every run exited 0, else 1; 2 on
 * a usage or system error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_INPUTS 4096
#define MAX_ENV 64

struct input {
	char *data; /* owned */
	size_t len;
};

struct opts {
	long repeat;
	long jobs;
	int clear_env;
	const char *env[MAX_ENV + 1];
	size_t nenv;
	const char *dir;
	struct input inputs[MAX_INPUTS];
	size_t ninputs;
	const char *out_path;
	char **argv; /* borrowed from main's argv */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int read_file(const char *path, struct input *in)
{
	FILE *f = fopen(path, "rb");
	long n;
	int rc = 0;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		rc = -EIO;
		goto out;
	}
	in->data = malloc((size_t)n + 1);
	if (!in->data) {
		rc = -ENOMEM;
		goto out;
	}
	in->len = fread(in->data, 1, (size_t)n, f);
	if (in->len != (size_t)n)
		rc = -EIO;
out:
	fclose(f);
	return rc;
}

/* Feed in to fd_in, drain fd_out into a growing buffer (kept when keep is
 * set, else discarded), until both are done. Closes both fds. */
static int pump(int fd_in, int fd_out, const struct input *in, char **keep,
		size_t *keep_len)
{
	static char scratch[65536];
	size_t off = 0, cap = 0, n = 0;
	char *buf = NULL;
	int rc = 0;

	if (!in || in->len == 0) {
		close(fd_in);
		fd_in = -1;
	}
	while (fd_out >= 0) {
		struct pollfd p[2] = {{fd_out, POLLIN, 0}, {fd_in, POLLOUT, 0}};
		if (poll(p, fd_in >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (fd_in >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(fd_in, in->data + off, in->len - off);
			if (w > 0)
				off += (size_t)w;
			if (w < 0 || off == in->len) {
				close(fd_in);
				fd_in = -1;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(fd_out, scratch, sizeof(scratch));
			if (r <= 0) {
				close(fd_out);
				fd_out = -1;
				break;
			}
			if (keep) {
				if (n + (size_t)r > cap) {
					size_t nc = (cap ? cap * 2 : 65536) + (size_t)r;
					char *nb = realloc(buf, nc);
					if (!nb) {
						rc = -ENOMEM;
						break;
					}
					buf = nb;
					cap = nc;
				}
				memcpy(buf + n, scratch, (size_t)r);
				n += (size_t)r;
			}
		}
	}
	if (fd_in >= 0)
		close(fd_in);
	if (fd_out >= 0)
		close(fd_out);
	if (keep) {
		*keep = buf;
		*keep_len = n;
	} else {
		free(buf);
	}
	return rc;
}

/* One run: fork, exec, pump, wait4. *status is wait4's. */
static int run_once(const struct opts *o, char *const envp[],
		    const struct input *in, int keep, char **out, size_t *out_len,
		    int *status)
{
	int pin[2], pout[2], devnull;
	pid_t pid;
	int rc;

	if (pipe2(pin, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(pout, O_CLOEXEC) < 0) {
		rc = -errno;
		close(pin[0]);
		close(pin[1]);
		return rc;
	}
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid = fork();
	if (pid == 0) {
		/* child: only async-signal-safe calls until exec */
		if (dup2(pin[0], 0) < 0 || dup2(pout[1], 1) < 0 ||
		    (devnull >= 0 && dup2(devnull, 2) < 0))
			_exit(126);
		if (o->dir && chdir(o->dir) < 0)
			_exit(126);
		signal(SIGPIPE, SIG_DFL);
		if (envp)
			execve(o->argv[0], o->argv, envp);
		else
			execvp(o->argv[0], o->argv);
		_exit(127);
	}
	rc = pid < 0 ? -errno : 0;
	close(pin[0]);
	close(pout[1]);
	if (devnull >= 0)
		close(devnull);
	if (rc < 0) {
		close(pin[1]);
		close(pout[0]);
		return rc;
	}
	rc = pump(pin[1], pout[0], in, keep ? out : NULL, out_len);
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return rc;
}

static int write_out(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int rc = 0;

	if (!f)
		return -errno;
	if (len && fwrite(buf, 1, len, f) != len)
		rc = -EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = -EIO;
	return rc;
}

/* Runs index first, first+stride, ... of the full list; prints a line each.
 * Returns the number of runs that did not exit 0, or -errno. */
static long run_share(const struct opts *o, char *const envp[], size_t first,
		      size_t stride)
{
	size_t per = o->ninputs ? o->ninputs : 1;
	size_t total = per * (size_t)o->repeat;
	long bad = 0;

	for (size_t i = first; i < total; i += stride) {
		const struct input *in = o->ninputs ? &o->inputs[i % per] : NULL;
		int last = o->out_path && i + stride >= total;
		char *out = NULL;
		size_t out_len = 0;
		int status = 0, rc;
		uint64_t t0 = now_ns(), t1;

		rc = run_once(o, envp, in, last, &out, &out_len, &status);
		t1 = now_ns();
		if (rc < 0) {
			free(out);
			return rc;
		}
		printf("run %zu %llu %d\n", i, (unsigned long long)(t1 - t0), status);
		if (status != 0)
			bad++;
		if (last && write_out(o->out_path, out, out_len) < 0)
			bad++;
		free(out);
	}
	fflush(stdout);
	return bad;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench-floor [-n REPEAT] [-j JOBS] [-c] [-e VAR=VAL]... [-d DIR]\n"
		"                   [-i FILE]... [-O FILE] -- PROG ARG...\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	int c;

	o->repeat = 1;
	o->jobs = 1;
	while ((c = getopt(argc, argv, "n:j:ce:d:i:O:")) != -1) {
		switch (c) {
		case 'n': o->repeat = strtol(optarg, NULL, 10); break;
		case 'j': o->jobs = strtol(optarg, NULL, 10); break;
		case 'c': o->clear_env = 1; break;
		case 'e':
			if (o->nenv == MAX_ENV) {
				fprintf(stderr, "bench-floor: more than %d -e\n", MAX_ENV);
				return -EINVAL;
			}
			o->env[o->nenv++] = optarg;
			break;
		case 'd': o->dir = optarg; break;
		case 'i':
			if (o->ninputs == MAX_INPUTS) {
				fprintf(stderr, "bench-floor: more than %d -i\n", MAX_INPUTS);
				return -EINVAL;
			}
			if (read_file(optarg, &o->inputs[o->ninputs]) < 0) {
				fprintf(stderr, "bench-floor: -i %s: %s\n", optarg, strerror(errno));
				return -EINVAL;
			}
			o->ninputs++;
			break;
		case 'O': o->out_path = optarg; break;
		default: return -EINVAL;
		}
	}
	if (optind >= argc || o->repeat < 1 || o->jobs < 1 || o->jobs > 64)
		return -EINVAL;
	o->argv = argv + optind;
	return 0;
}

int main(int argc, char **argv)
{
	static struct opts o;
	extern char **environ;
	char **envp = NULL;
	long bad = 0;
	uint64_t t0, t1;
	size_t runs;
	int rc = 2;

	if (parse(argc, argv, &o) < 0) {
		usage();
		return 2;
	}
	if (o.clear_env || o.nenv) {
		size_t n = 0, base = 0;
		if (!o.clear_env)
			while (environ[base])
				base++;
		envp = calloc(base + o.nenv + 1, sizeof(*envp));
		if (!envp)
			return 2;
		for (size_t i = 0; i < base; i++)
			envp[n++] = environ[i];
		for (size_t i = 0; i < o.nenv; i++)
			envp[n++] = (char *)o.env[i];
		if (o.clear_env && strchr(o.argv[0], '/') == NULL) {
			fprintf(stderr, "bench-floor: -c needs PROG as a path\n");
			goto out;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	/* one write per line: lines of -j children never interleave */
	setvbuf(stdout, NULL, _IOLBF, 0);
	runs = (o.ninputs ? o.ninputs : 1) * (size_t)o.repeat;
	fflush(stdout);
	t0 = now_ns();
	if (o.jobs == 1) {
		bad = run_share(&o, envp, 0, 1);
	} else {
		pid_t kids[64];
		for (long j = 0; j < o.jobs; j++) {
			kids[j] = fork();
			if (kids[j] == 0) {
				long b = run_share(&o, envp, (size_t)j, (size_t)o.jobs);
				_exit(b == 0 ? 0 : 1);
			}
			if (kids[j] < 0) {
				perror("bench-floor: fork");
				goto out;
			}
		}
		for (long j = 0; j < o.jobs; j++) {
			int st;
			if (waitpid(kids[j], &st, 0) < 0 || st != 0)
				bad++;
		}
	}
	t1 = now_ns();
	if (bad < 0) {
		fprintf(stderr, "bench-floor: %s: %s\n", o.argv[0], strerror((int)-bad));
		goto out;
	}
	printf("total %llu %zu\n", (unsigned long long)(t1 - t0), runs);
	rc = bad == 0 ? 0 : 1;
out:
	free(envp);
	for (size_t i = 0; i < o.ninputs; i++)
		free(o.inputs[i].data);
	return rc;
}
