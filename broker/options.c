/* broker: the command line of `runlet serve`, and where its state goes by
 * default. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/options.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: runlet serve [--config F] [--backend native|docker] [--once]\n"
		"                    [--max-jobs N] [--workers N] [--prefetch N]\n"
		"                    [--state-dir DIR] [--log-level error|warn|info|debug]\n"
		"                    [--plugin-dir D] [--runner PATH] [--insecure]\n"
		"Consumes submissions from RabbitMQ and publishes their results.\n"
		"Broker: broker.url in config, else $RUNLET_AMQP_URL, else\n"
		"$RABBITMQ_HOST/$RABBITMQ_PORT/$RABBITMQ_USER/$RABBITMQ_PASSWORD.\n");
}

static int parse_count(const char *opt, const char *v, long min, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > 65535) {
		fprintf(stderr, "runlet serve: %s: expected a whole number %ld-65535, got \"%s\"\n",
			opt, min, v);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

int mq_parse_opts(int argc, char **argv, struct serve_opts *o)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"backend", required_argument, NULL, 'b'},
		{"once", no_argument, NULL, '1'},
		{"max-jobs", required_argument, NULL, 'n'},
		{"workers", required_argument, NULL, 'w'},
		{"prefetch", required_argument, NULL, 'p'},
		{"state-dir", required_argument, NULL, 's'},
		{"log-level", required_argument, NULL, 'l'},
		{"plugin-dir", required_argument, NULL, 'P'},
		{"runner", required_argument, NULL, 'R'},
		{"insecure", no_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	long v;
	int c;

	memset(o, 0, sizeof(*o));
	o->log_level = getenv("RUNLET_LOG_LEVEL");
	o->state_dir = getenv("RUNLET_STATE_DIR");
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:b:n:w:p:s:l:P:R:ih", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->ctx.config_path = optarg; break;
		case 'b': o->ctx.backend = optarg; break;
		case '1': o->once = 1; break;
		case 'n':
			if (parse_count("--max-jobs", optarg, 1, &v) < 0)
				return -EINVAL;
			o->max_jobs = (uint64_t)v;
			break;
		case 'w':
			if (parse_count("--workers", optarg, 1, &o->workers) < 0)
				return -EINVAL;
			break;
		case 'p':
			if (parse_count("--prefetch", optarg, 1, &o->prefetch) < 0)
				return -EINVAL;
			break;
		case 's': o->state_dir = optarg; break;
		case 'l': o->log_level = optarg; break;
		case 'P': o->ctx.plugin_dir = optarg; break;
		case 'R': o->ctx.runner_path = optarg; break;
		case 'i': o->ctx.insecure = 1; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "runlet serve: unexpected argument \"%s\"\n", argv[optind]);
		return -EINVAL;
	}
	if (o->ctx.backend && strcmp(o->ctx.backend, "native") != 0 &&
	    strcmp(o->ctx.backend, "docker") != 0) {
		fprintf(stderr, "runlet serve: --backend: expected native or docker, got \"%s\"\n",
			o->ctx.backend);
		return -EINVAL;
	}
	if (o->once)
		o->max_jobs = 1;
	return 0;
}

/* Where attempt counts survive a crash: --state-dir / RUNLET_STATE_DIR,
 * systemd's $STATE_DIRECTORY, /var/lib/runlet for root, else
 * $XDG_STATE_HOME/runlet or ~/.local/state/runlet. */
const char *mq_default_state_dir(char *buf, size_t len)
{
	const char *v = getenv("STATE_DIRECTORY");

	if (v != NULL && *v != '\0')
		return v;
	if (geteuid() == 0)
		return "/var/lib/runlet";
	v = getenv("XDG_STATE_HOME");
	if (v != NULL && *v == '/') {
		snprintf(buf, len, "%s/runlet", v);
		return buf;
	}
	v = getenv("HOME");
	if (v != NULL && *v == '/') {
		snprintf(buf, len, "%s/.local/state/runlet", v);
		return buf;
	}
	return NULL;
}

