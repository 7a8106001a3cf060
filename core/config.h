/* Configuration: config.yaml (libyaml) into struct cfg.
 *
 * Accepts the whole schema of the existing gateway (CONTRACT.md §3) unchanged,
 * plus runlet's own keys. Every error names file:line:column, the key path and
 * what was expected; unknown keys are errors with a did-you-mean.
 * Ownership: a struct cfg owns every string and array inside it; cfg_free
 * releases all. Sizes are bytes, times milliseconds.
 */
#ifndef RUNLET_CONFIG_H
#define RUNLET_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* Limits that can be set at top level (defaults for every runner) and per
 * runner (override). */
struct cfg_limits {
	uint64_t compile_timeout_ms; /* compile_timeout (s), default 30 s */
	uint64_t compile_mem_limit;  /* compile_mem_limit, default max(mem, 1g) */
	uint64_t wall_timeout_ms;    /* wall_timeout (s); 0 = 2*run+1 s */
	uint64_t output_limit;       /* output_limit (size), default 1m */
	uint64_t stderr_limit;       /* stderr_limit (size), default 64k */
	uint64_t pids_limit;         /* pids_limit, default 100 */
	uint64_t tmpfs_size;         /* tmpfs_size (size), default 256m */
	uint64_t max_code_size;      /* max_code_size (size), default 256k */
	uint64_t max_input_size;     /* max_input_size (size, per test), default 64m */
	uint64_t max_tests;          /* max_tests, default 1000 */
	/* upper bounds for a job's "limits" extension; 0 = the runner's own
	 * value (a job may lower but not raise) */
	uint64_t max_run_timeout_ms; /* max_run_timeout (s) */
	uint64_t max_mem_limit;      /* max_mem_limit (size) */
	uint64_t max_output_limit;   /* max_output_limit (size) */
	uint64_t parallel_tests;     /* parallel_tests: most tests of one
				      * submission run at once when cores are
				      * idle; 0 = the number of cores, 1 = off */
};

struct cfg_runner {
	char *code;          /* language code: the key under runners: */
	char *image;         /* docker image of the language (may be NULL) */
	uint64_t mem_limit;  /* bytes; default 256m */
	double cpu_cores;    /* default 1.0 */
	char **envs;         /* KEY=VALUE, NULL-terminated, nenvs entries */
	size_t nenvs;
	char **compile_args; /* NULL-terminated; has_compile_args=0 when absent */
	size_t ncompile_args;
	int has_compile_args;
	char **run_args;     /* NULL-terminated; has_run_args=0 when absent */
	size_t nrun_args;
	int has_run_args;
	uint64_t run_timeout_ms; /* run_timeout (s, may be fractional); default 10 s */
	char *plugin;        /* plugin name or path; default from code */
	char *backend;       /* NULL: the top-level backend */
	struct cfg_limits limits; /* resolved: top-level defaults + overrides */
	int line, col;       /* where the entry starts in the file */
};

struct cfg_broker {
	char *url;              /* broker.url or RUNLET_AMQP_URL; NULL = from env */
	char *queue;            /* default "test_solutions" */
	char *dlx;              /* default "dlx" */
	char *dlq;              /* default "test_solutions_dlq" */
	char *results_queue;    /* routing key for results, default "results" */
	char *task_name;        /* incoming header value, default "test_solution" */
	char *result_task_name; /* default "handle_test_result" */
	uint64_t dlq_ttl_ms;    /* default 86400 (the contract's x-message-ttl) */
	uint64_t workers;       /* 0 = number of cores */
	uint64_t prefetch;      /* 0 = workers */
	uint64_t max_redeliveries; /* default 3 */
	uint64_t drain_timeout_ms; /* default 30 s */
};

struct cfg_sandbox {
	uint64_t uid;      /* default 1001 (the contract's sandbox user) */
	uint64_t gid;      /* default 1001 */
	char *rootfs;      /* NULL: the host's root, read-only */
	char *runner_path; /* NULL: next to the runlet binary */
	uint64_t pool_size; /* pre-forked sandboxes per language (a long-lived
			     * runlet, from a language's second job); 0 = off,
			     * default 2, at most 8 */
	uint64_t fast_cgroup_moves; /* 1 (default): the kernel's favordynmods
				     * cgroup mode (backends/native/dynmods.h) */
};

struct cfg_docker {
	char *host;        /* NULL: $DOCKER_HOST or unix:///var/run/docker.sock */
	uint64_t pool_size; /* warm containers per language, 0 = off */
};

struct cfg_cache {
	char *dir;          /* NULL: /var/cache/runlet/compile */
	uint64_t max_size;  /* bytes on disk, LRU beyond; 0 = no cache. 512m */
};

struct cfg {
	char *path;                 /* file it was read from */
	struct cfg_runner *runners; /* nrunners entries, in file order */
	size_t nrunners;
	/* keys of the existing system, kept and used by the docker backend */
	char *context_path;
	char *dockerfiles_path;
	char *runner_dockerfile_name;
	char *shared_dockerfile_name;
	char *runner_image_name_pattern;
	char *shared_image_name;
	char *src_placeholder;      /* default "{src}" */
	char *bin_placeholder;      /* default "{bin}" */
	char *volume_name;
	char *runner_mountpoint;    /* default /home/sandbox */
	char *gateway_source_data_dir;
	char *tmpfs;                /* default /tmp: the sandbox's writable dir */
	/* runlet's keys */
	char *plugin_dir;           /* NULL: build/plugins next to the binary */
	char *backend;              /* "native" (default) or "docker" */
	struct cfg_limits limits;   /* top-level defaults */
	struct cfg_broker broker;
	struct cfg_sandbox sandbox;
	struct cfg_docker docker;
	struct cfg_cache cache;     /* compile cache */
};

/* Load and validate. On error returns -EINVAL (or -errno for I/O) with a
 * message "FILE:LINE:COL: key.path: what was expected" in err. *out owned
 * by the caller on success. */
int cfg_load(const char *path, struct cfg **out, char *err, size_t errlen);
/* Same from a buffer; name is used in messages. */
int cfg_load_buffer(const char *name, const char *text, size_t len,
		    struct cfg **out, char *err, size_t errlen);
void cfg_free(struct cfg *c);

/* Borrowed pointer into c, or NULL. */
const struct cfg_runner *cfg_runner_find(const struct cfg *c, const char *code);

/* Default plugin name for a language code: py->python, go->go, js->js,
 * cs->csharp, cpp->cpp; otherwise the code itself. Static string. */
const char *cfg_default_plugin(const char *code);

/* Parse "256m", "1.5g", "64k", "1024" into bytes. 0 or -EINVAL. */
int cfg_parse_size(const char *s, uint64_t *out);

#endif /* RUNLET_CONFIG_H */
