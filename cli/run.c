/* runlet run: judge one submission from a file or stdin, print the result. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/dispatch.h"

#define MAX_BODY (512u << 20)

/* Read a whole file ("-" = stdin). Caller owns *out. */
static int read_all(const char *path, char **out, size_t *len, char *err,
		    size_t errlen)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	for (;;) {
		if (n + 65536 + 1 > cap) {
			cap = cap ? cap * 2 : 131072;
			char *nb = realloc(buf, cap);
			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, 65536, f);
		n += r;
		if (n > MAX_BODY) {
			snprintf(err, errlen, "%s: larger than %u MB", path,
				 MAX_BODY >> 20);
			rc = -EFBIG;
			break;
		}
		if (r < 65536) {
			if (ferror(f)) {
				snprintf(err, errlen, "%s: read error", path);
				rc = -EIO;
			}
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static void progress_compiled(void *arg, const struct job *job, int ok)
{
	fprintf(stderr, "runlet: compile %s\n", ok ? "ok" : "failed");
}

static void progress_test(void *arg, const struct job *job, size_t index,
			  const struct res_test *t)
{
	fprintf(stderr, "runlet: test %lld (%zu/%zu): %s  %llu ms cpu, %llu ms wall, %llu KB\n",
		(long long)t->num, index + 1, job->ntests,
		verdict_name(t->status), (unsigned long long)t->time_ms,
		(unsigned long long)t->wall_ms,
		(unsigned long long)t->memory_kb);
}

static void run_usage(void)
{
	fprintf(stderr,
		"usage: runlet run [--config F] [--backend native|docker] [--pretty] [--insecure]\n"
		"                  [--plugin-dir D] [--runner PATH] JOB.json|-\n");
}

int run_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"backend", required_argument, NULL, 'b'},
		{"pretty", no_argument, NULL, 'p'},
		{"insecure", no_argument, NULL, 'i'},
		{"plugin-dir", required_argument, NULL, 'P'},
		{"runner", required_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct runlet_ctx_opts opts = {0};
	struct runlet_ctx *ctx = NULL;
	struct judge_hooks hooks = {progress_compiled, progress_test, NULL};
	int pretty = 0, c, rc;
	char err[2048] = "", *body = NULL;
	size_t len = 0;
	json_t *res = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:b:piP:R:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': opts.config_path = optarg; break;
		case 'b': opts.backend = optarg; break;
		case 'p': pretty = 1; break;
		case 'i': opts.insecure = 1; break;
		case 'P': opts.plugin_dir = optarg; break;
		case 'R': opts.runner_path = optarg; break;
		case 'h': run_usage(); return CLI_EXIT_OK;
		default: run_usage(); return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		run_usage();
		return CLI_EXIT_USAGE;
	}
	if (opts.backend && strcmp(opts.backend, "native") != 0 &&
	    strcmp(opts.backend, "docker") != 0) {
		fprintf(stderr, "runlet run: --backend: expected native or docker, got \"%s\"\n",
			opts.backend);
		return CLI_EXIT_USAGE;
	}
	if (read_all(argv[optind], &body, &len, err, sizeof(err)) < 0) {
		fprintf(stderr, "runlet run: %s\n", err);
		return CLI_EXIT_USAGE;
	}
	rc = runlet_ctx_open(&opts, &ctx, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "runlet run: %s\n", err);
		free(body);
		return rc == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_INTERNAL;
	}
	rc = runlet_judge_body(ctx, body, len, NULL,
			       isatty(STDERR_FILENO) ? &hooks : NULL, &res,
			       err, sizeof(err));
	free(body);
	if (rc == -EINVAL) {
		fprintf(stderr, "runlet run: invalid job %s: %s\n",
			argv[optind], err);
		json_decref(res);
		runlet_ctx_close(ctx);
		return CLI_EXIT_USAGE;
	}
	if (rc < 0 || !res) {
		fprintf(stderr, "runlet run: %s\n", err[0] ? err : "internal error");
		runlet_ctx_close(ctx);
		return CLI_EXIT_INTERNAL;
	}
	rc = json_dumpf(res, stdout,
			(pretty ? JSON_INDENT(2) : JSON_COMPACT)) < 0
		     ? CLI_EXIT_INTERNAL
		     : CLI_EXIT_OK;
	fputc('\n', stdout);
	if (fflush(stdout) != 0)
		rc = CLI_EXIT_INTERNAL;
	json_decref(res);
	runlet_ctx_close(ctx);
	return rc;
}
