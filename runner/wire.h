/* The runner protocol: how a backend hands a plan to runlet-runner and how the
 * runner reports back. Shared by the runner (static, libc only) and the core.
 *
 * Encoding: a flat sequence of records, each
 *     <tag> SP <decimal length> LF <length bytes> LF
 * Tags are short lowercase ASCII words. Values are raw bytes (binary safe).
 * Numbers are decimal ASCII. Unknown tags are an error (same build on both
 * sides: the runner is shipped with the core).
 *
 * Plan (backend -> runner, on the runner's stdin or in a file):
 *   plan "1"; workdir; uid; gid; seccomp "0|1";
 *   cgroup dirs (optional): cgmem, cgpids, cgcpu, cgv2 "0|1";
 *   file (relative path) / mode (octal) / data       (repeated)
 *   step "compile"|"run", then arg*, env*, and the limits
 *     cpu_ms wall_ms mem_kb out_kb err_kb errmax_kb fsize_kb nofile stack_kb pids
 *   test <num> / input <bytes>                        (repeated)
 *   parallel <n>  (optional: run up to n tests at once; default 1)
 *   emit "1"      (optional: after a successful compile, send back every
 *                  regular file it left at the top of workdir)
 *   await_mem <bytes>, oomwatch "1"  (optional, docker: see the fields)
 *   end ""
 * Result (runner -> backend, on the runner's stdout), written as it happens:
 *   result "1";
 *   oomwatch "1"  (when the plan asked and the runner can: see oomwatch.h)
 *   outcome "compile"|<test num>, then
 *     status exit signal cpu_ms wall_ms mem_kb oom out out_trunc err err_trunc note
 *     artifact <name> / amode <octal> / adata <bytes>   (repeated; compile
 *     outcome only, when the plan asked: emit)
 *   (one per outcome, compile first, tests in plan order)
 *   error <message>      (runner could not go on; may come anywhere)
 *   end ""
 */
#ifndef RUNLET_WIRE_H
#define RUNLET_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_VERSION "1"
#define WIRE_MAX_RECORD (1ull << 30) /* no single value is larger than 1 GiB */

/* Growable buffer. data is owned by the buffer; wire_buf_free releases it. */
struct wire_buf {
	char *data;
	size_t len;
	size_t cap;
};

int wire_buf_append(struct wire_buf *b, const void *data, size_t len);
void wire_buf_free(struct wire_buf *b);

/* Append one record. 0 or -ENOMEM. */
int wire_put(struct wire_buf *b, const char *tag, const void *val, size_t len);
int wire_put_str(struct wire_buf *b, const char *tag, const char *s);
int wire_put_u64(struct wire_buf *b, const char *tag, uint64_t v);
int wire_put_i64(struct wire_buf *b, const char *tag, int64_t v);

/* Sequential reader over a complete buffer (borrowed). */
struct wire_reader {
	const char *p;
	size_t len;
	size_t off;
};

/* Read the next record: tag (NUL-terminated copy, at most 15 chars) and a
 * pointer into the buffer for the value. 1 = got one, 0 = clean end of
 * buffer, -EPROTO = malformed / truncated. */
int wire_next(struct wire_reader *r, char tag[16], const char **val,
	      size_t *len);

/* Limits of one step. 0 means "no limit" for every field. */
struct wire_limits {
	uint64_t cpu_ms;
	uint64_t wall_ms;
	uint64_t mem_kb;    /* memory limit for the step's cgroup */
	uint64_t out_kb;    /* stdout kept; more is OUTPUT_LIMIT */
	uint64_t err_kb;    /* stderr kept; more is discarded */
	uint64_t errmax_kb; /* stderr beyond this is OUTPUT_LIMIT */
	uint64_t fsize_kb;  /* RLIMIT_FSIZE */
	uint64_t nofile;    /* RLIMIT_NOFILE */
	uint64_t stack_kb;  /* RLIMIT_STACK */
	uint64_t pids;      /* cgroup pids.max (and RLIMIT_NPROC fallback) */
};

struct wire_step {
	char **argv; /* owned, NULL-terminated, argc entries */
	size_t argc;
	char **envp; /* owned, NULL-terminated, envc entries */
	size_t envc;
	struct wire_limits lim;
};

struct wire_file {
	char *path;  /* owned; relative to workdir, no "..", no leading "/" */
	uint32_t mode;
	char *data;  /* owned */
	size_t len;
};

struct wire_test {
	uint64_t num;
	char *input; /* owned */
	size_t len;
};

struct wire_plan {
	char *workdir;   /* owned; absolute path inside the sandbox */
	int64_t uid;     /* -1: keep the runner's */
	int64_t gid;     /* -1: keep the runner's */
	int seccomp;     /* 1: apply the runner's seccomp filter to children */
	char *cg_mem;    /* owned or NULL: cgroup dirs the runner may use */
	char *cg_pids;
	char *cg_cpu;
	int cg_v2;       /* 1: cg_mem is a unified (v2) dir */
	struct wire_file *files;
	size_t nfiles;
	int has_compile;
	struct wire_step compile;
	struct wire_step run;
	struct wire_test *tests;
	size_t ntests;
	int emit;        /* 1: send back what the compile made (artifacts) */
	uint64_t parallel; /* tests run at once; 0 and 1 mean one at a time.
			    * Outcomes are still reported in plan order. */
	uint64_t await_mem; /* > 0 (docker): after a successful compile, write
			     * an "await" record and start no test before the
			     * sandbox's memory limit is at most this many
			     * bytes (runner/memwait.h) */
	int oomwatch;    /* 1 (docker): steps without a cgroup of their own
			  * read the OOM kills of the runner's cgroup
			  * (runner/oomwatch.h) */
};

/* Most a runner sends back of a compile's artifacts, in all. */
#define WIRE_MAX_ARTIFACT (256u << 20)

struct wire_artifact {
	char *name;      /* owned: a plain file name */
	uint32_t mode;
	char *data;      /* owned */
	size_t len;
};

/* Status of one outcome: enum runlet_exit_kind values (plugin.h), plus: */
#define WIRE_STATUS_NOT_RUN 100 /* runner stopped before it */

struct wire_outcome {
	int is_compile;
	uint64_t num;      /* test number; 0 for compile */
	int status;        /* enum runlet_exit_kind or WIRE_STATUS_NOT_RUN */
	int exit_code;
	int signal;
	uint64_t cpu_ms;
	uint64_t wall_ms;
	uint64_t mem_kb;
	int oom;           /* the cgroup saw an OOM kill */
	char *out;         /* owned, NUL-terminated for convenience */
	size_t out_len;
	int out_trunc;
	char *err;         /* owned, NUL-terminated */
	size_t err_len;
	int err_trunc;
	char *note;        /* owned or NULL: runner's own remark, e.g. exec error */
	struct wire_artifact *artifacts; /* owned: compile only, when emit */
	size_t nartifacts;
};

/* Free an outcome's artifacts only (the rest of it stays). */
void wire_artifacts_clear(struct wire_outcome *o);

/* Append an artifact (name and data copied). 0 or -ENOMEM. */
int wire_artifact_add(struct wire_outcome *o, const char *name, uint32_t mode,
		      const char *data, size_t len);

struct wire_result {
	int has_compile;
	struct wire_outcome compile;
	struct wire_outcome *tests; /* owned, ntests entries, in received order */
	size_t ntests;
	char *error;  /* owned or NULL: runner-level failure */
	int complete; /* saw "end" */
	int oom_watched; /* saw "oomwatch": every outcome's oom is the runner's
			  * own finding (plan oomwatch) */
};

int wire_plan_encode(const struct wire_plan *p, struct wire_buf *out);
/* On error writes a message into err. The plan is zeroed first; free it with
 * wire_plan_free whatever the result. */
int wire_plan_decode(const char *buf, size_t len, struct wire_plan *p,
		     char *err, size_t errlen);
void wire_plan_free(struct wire_plan *p);

int wire_outcome_encode(const struct wire_outcome *o, struct wire_buf *out);
int wire_result_decode(const char *buf, size_t len, struct wire_result *r,
		       char *err, size_t errlen);
void wire_outcome_free(struct wire_outcome *o);
void wire_result_free(struct wire_result *r);

/* helpers for building steps: duplicate s and append to a NULL-terminated
 * vector. 0 or -ENOMEM. */
int wire_strv_push(char ***v, size_t *n, const char *s);
void wire_strv_free(char **v, size_t n);

#endif /* RUNLET_WIRE_H */
