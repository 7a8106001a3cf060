/* runlet plugin ABI: the only header a language plugin includes.
 *
 * A plugin is a shared object `runlet-<name>.so` exporting exactly one symbol,
 * RUNLET_PLUGIN_ENTRY, a function returning a pointer to a const struct
 * runlet_plugin that lives as long as the object is loaded.
 *
 * Versioning (redis module / collectd style):
 *   - abi_major must equal RUNLET_PLUGIN_ABI_MAJOR or the loader refuses the file;
 *   - struct_size tells the core how much of struct runlet_plugin the plugin knows:
 *     new fields and hooks are only ever appended, and the core reads a field only
 *     when struct_size covers it (RUNLET_PLUGIN_HAS(p, field)).
 *   - every hook may be NULL: the core then uses its default.
 *
 * Memory: hooks never allocate anything the core must free. Everything a hook
 * produces goes through the core-owned handles (struct runlet_strv, struct
 * runlet_buf) and the functions of struct runlet_host, which the core passes in.
 * Plugins link against nothing of the core.
 */
#ifndef RUNLET_PLUGIN_H
#define RUNLET_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RUNLET_PLUGIN_ABI_MAJOR 1
#define RUNLET_PLUGIN_ENTRY "runlet_plugin_entry"

#if defined(__GNUC__)
#define RUNLET_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define RUNLET_PLUGIN_EXPORT
#endif

/* Verdicts: what the student's program did (never what runlet did wrong). */
enum runlet_verdict {
	RUNLET_VERDICT_NONE = 0, /* classify: no opinion, use the core default */
	RUNLET_VERDICT_OK,
	RUNLET_VERDICT_WA,
	RUNLET_VERDICT_TLE,
	RUNLET_VERDICT_MLE,
	RUNLET_VERDICT_RE,
	RUNLET_VERDICT_OLE,
	RUNLET_VERDICT_CE,
	RUNLET_VERDICT_SKIPPED,
	RUNLET_VERDICT_IE,
};

enum runlet_phase {
	RUNLET_PHASE_COMPILE = 0,
	RUNLET_PHASE_RUN = 1,
};

enum runlet_log_level {
	RUNLET_LOG_ERROR = 0,
	RUNLET_LOG_WARN,
	RUNLET_LOG_INFO,
	RUNLET_LOG_DEBUG,
};

/* How one process ended, as the runner measured it. */
enum runlet_exit_kind {
	RUNLET_EXIT_EXITED = 0,   /* exited by itself: see exit_code */
	RUNLET_EXIT_SIGNALED,     /* killed by a signal it got: see signal */
	RUNLET_EXIT_TIMEOUT,      /* killed by runlet at the wall-clock limit */
	RUNLET_EXIT_CPU_TIMEOUT,  /* used more CPU time than allowed */
	RUNLET_EXIT_OUTPUT_LIMIT, /* wrote more than allowed, killed */
	RUNLET_EXIT_MEMORY,       /* killed by the memory limit (cgroup OOM) */
	RUNLET_EXIT_SETUP,        /* never started: exec failed etc. (see note) */
};

/* Opaque, core-owned list of strings (argv or KEY=VALUE env). */
struct runlet_strv;
/* Opaque, core-owned growable byte buffer. */
struct runlet_buf;

/* Limits in force for one phase, after config and job limits were applied. */
struct runlet_limits {
	uint64_t time_ms;      /* CPU time per test (or for the compile) */
	uint64_t wall_ms;      /* wall-clock per test (or for the compile) */
	uint64_t memory_bytes; /* memory limit; 0 = none */
	uint64_t output_bytes; /* stdout cap */
	uint32_t pids;         /* process/thread limit */
};

/* What the core gives a plugin: logging, string lists, buffers. Borrowed for
 * the duration of the call. */
struct runlet_host {
	uint32_t abi_major;
	uint32_t struct_size;

	void (*log)(enum runlet_log_level level, const char *plugin,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

	/* string lists: index-based; strings are copied in, returned pointers are
	 * borrowed until the list changes. Return 0 or -errno. */
	size_t (*strv_len)(const struct runlet_strv *v);
	const char *(*strv_get)(const struct runlet_strv *v, size_t i);
	int (*strv_set)(struct runlet_strv *v, size_t i, const char *s);
	int (*strv_insert)(struct runlet_strv *v, size_t i, const char *s);
	int (*strv_remove)(struct runlet_strv *v, size_t i);
	/* env lists: replace KEY=... or append it */
	int (*env_set)(struct runlet_strv *env, const char *key,
		       const char *value);
	const char *(*env_get)(const struct runlet_strv *env, const char *key);

	/* buffers */
	int (*buf_append)(struct runlet_buf *b, const char *data, size_t len);
	int (*buf_printf)(struct runlet_buf *b, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));

	/* Find an executable by name on the native sandbox's default PATH
	 * (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin of the
	 * host, which the native sandbox shows read-only). Writes the absolute
	 * path into out. 0 or -ENOENT. Meaningless for the docker backend (the
	 * image decides): check plan->backend first. */
	int (*find_program)(const char *name, char *out, size_t outlen);
};

/* Everything a plan hook may look at or change. */
struct runlet_plan {
	const char *code;       /* language code from config, e.g. "py" */
	const char *backend;    /* "native" or "docker" */
	const char *workdir;    /* writable dir inside the sandbox (cwd) */
	const char *src_path;   /* absolute path of the source in the sandbox */
	const char *bin_path;   /* absolute path of the compiled artifact */
	struct runlet_strv *compile_argv; /* empty: no compile step */
	struct runlet_strv *run_argv;
	struct runlet_strv *env;          /* shared by compile and run */
	struct runlet_limits *compile_limits; /* may be adjusted */
	struct runlet_limits *run_limits;     /* may be adjusted */
};

/* How one compile or test run ended. Everything borrowed for the call. */
struct runlet_exit {
	enum runlet_phase phase;
	enum runlet_exit_kind kind;
	int exit_code;
	int signal;
	uint64_t cpu_ms;
	uint64_t wall_ms;
	uint64_t memory_kb;  /* peak */
	const struct runlet_limits *limits;
	const char *out;     /* stdout (capped), not NUL-terminated */
	size_t out_len;
	const char *err;     /* stderr (capped), not NUL-terminated */
	size_t err_len;
};

struct runlet_plugin {
	/* -- header: never changes -- */
	uint32_t abi_major;    /* RUNLET_PLUGIN_ABI_MAJOR */
	uint32_t struct_size;  /* sizeof(struct runlet_plugin) when built */
	const char *name;      /* plugin name, e.g. "python" */
	const char *version;   /* plugin version, e.g. "1.0.0" */

	/* -- data -- */
	const char *source_name;  /* file name of the source, e.g. "main.py" */
	const char *binary_name;  /* compiled artifact name, NULL if none ("main") */
	/* NULL-terminated defaults used when config gives no compile_args/run_args.
	 * Placeholders {src} and {bin} are expanded by the core after plan(). */
	const char *const *default_compile_argv;
	const char *const *default_run_argv;

	/* -- hooks (each may be NULL) -- */

	/* Adjust argv/env/limits. Return 0, or -errno with a message logged. */
	int (*plan)(const struct runlet_host *host, struct runlet_plan *plan);

	/* Normalize stdout in place (only ever shrinks it). Default: strip
	 * trailing '\n' characters, the contract's rule. */
	void (*normalize_output)(char *buf, size_t *len);

	/* Make a compiler or runtime message readable for a student: append the
	 * cleaned text to out. `in` is not NUL-terminated. Default: replace the
	 * sandbox paths (plan->src_path, plan->workdir + "/") by the bare file
	 * name. src_path/workdir are given so the plugin can do the same. */
	void (*clean_diagnostics)(const struct runlet_host *host,
				  enum runlet_phase phase, const char *src_path,
				  const char *workdir, const char *in, size_t len,
				  struct runlet_buf *out);

	/* Turn an exit into a verdict where the language knows more than the exit
	 * code (MemoryError, heap OOM aborts, ...). Return RUNLET_VERDICT_NONE to
	 * take the core's default. May also append a short explanation to note
	 * (shown first in the output/err_msg), e.g. "Segmentation fault". */
	enum runlet_verdict (*classify)(const struct runlet_host *host,
					const struct runlet_exit *ex,
					struct runlet_buf *note);
};

#define RUNLET_PLUGIN_HAS(p, field)                                           \
	((p)->struct_size >= offsetof(struct runlet_plugin, field) +           \
				     sizeof((p)->field))

typedef const struct runlet_plugin *(*runlet_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* RUNLET_PLUGIN_H */
