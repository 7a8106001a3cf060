/* runlet plugin for C++ with g++: main.cpp compiled into ./main. Knows the
 * signals a C++ program dies of (named for the student), libstdc++'s
 * std::bad_alloc termination (MLE) and g++'s message paths. */
#include <signal.h>
#include <string.h>

#include "runlet/plugin.h"
#include "../common/ptext.h"

#define CPP_NAME "cpp"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* an abort with peak memory this close to the limit (percent) is taken as
 * an allocation failing at the limit (the memory cgroup's kill is MLE by
 * the core already) */
#define CPP_MEM_NEAR_PERCENT 95

/* The existing system's command; docs/CONFIG recommend adding -O2
 * -std=gnu++17 through compile_args. */
static const char *const cpp_compile_argv[] = { "g++", "-o", "{bin}", "{src}",
						NULL };
static const char *const cpp_run_argv[] = { "{src}", NULL };

/* Signals a student's program dies of, as a shell would name them. */
static const struct {
	int sig;
	const char *text;
} cpp_signals[] = {
	{ SIGSEGV, "Segmentation fault (invalid memory access or stack "
		   "overflow)" },
	{ SIGFPE, "Floating point exception (integer division by zero or "
		  "overflow)" },
	{ SIGABRT, "Aborted" },
	{ SIGBUS, "Bus error" },
	{ SIGILL, "Illegal instruction" },
	{ SIGTRAP, "Trace/breakpoint trap" },
	{ SIGSYS, "Bad system call" },
	{ SIGPIPE, "Broken pipe" },
};

/* stderr that says an allocation failed. */
static const char *const cpp_oom_marks[] = {
	"std::bad_alloc",
	"std::bad_array_new_length",
};

static int cpp_plan(const struct runlet_host *host, struct runlet_plan *plan)
{
	(void)host;
	/* g++ runs cc1plus, as, collect2 and ld; template-heavy code needs
	 * memory */
	ptext_raise_u32(&plan->compile_limits->pids, 16);
	ptext_raise_u64(&plan->compile_limits->memory_bytes, 512ull << 20);
	return 0;
}

static void cpp_clean(const struct runlet_host *host, enum runlet_phase phase,
		      const char *src_path, const char *workdir, const char *in,
		      size_t len, struct runlet_buf *out)
{
	(void)phase;
	ptext_append_clean(host, src_path, workdir, in, len, out);
}

static int cpp_near_limit(const struct runlet_exit *ex)
{
	uint64_t lim = ex->limits ? ex->limits->memory_bytes : 0;

	return lim > 0 &&
	       ex->memory_kb * 1024 >= lim / 100 * CPP_MEM_NEAR_PERCENT;
}

static enum runlet_verdict cpp_classify(const struct runlet_host *host,
					const struct runlet_exit *ex,
					struct runlet_buf *note)
{
	size_t i;
	int sig;

	if (ex->phase != RUNLET_PHASE_RUN)
		return RUNLET_VERDICT_NONE; /* the core words compile limits */
	if (ex->kind == RUNLET_EXIT_SIGNALED)
		sig = ex->signal;
	else if (ex->kind == RUNLET_EXIT_EXITED && ex->exit_code != 0)
		sig = 0;
	else
		return RUNLET_VERDICT_NONE;
	for (i = 0; i < NELEM(cpp_oom_marks); i++)
		if (ptext_find(ex->err, ex->err_len, cpp_oom_marks[i]))
			return RUNLET_VERDICT_MLE;
	/* not SIGSEGV: a stack overflow can also end near the limit, and it
	 * is a runtime error */
	if ((sig == SIGABRT || sig == SIGBUS) && cpp_near_limit(ex))
		return RUNLET_VERDICT_MLE;
	for (i = 0; sig && i < NELEM(cpp_signals); i++) {
		if (cpp_signals[i].sig == sig) {
			host->buf_printf(note, "%s", cpp_signals[i].text);
			return RUNLET_VERDICT_RE;
		}
	}
	return RUNLET_VERDICT_NONE;
}

static const struct runlet_plugin cpp_plugin = {
	.abi_major = RUNLET_PLUGIN_ABI_MAJOR,
	.struct_size = sizeof(struct runlet_plugin),
	.name = CPP_NAME,
	.version = "1.0.0",
	.source_name = "main.cpp",
	.binary_name = "main",
	.default_compile_argv = cpp_compile_argv,
	.default_run_argv = cpp_run_argv,
	.plan = cpp_plan,
	.normalize_output = NULL, /* the contract's: strip trailing '\n' */
	.clean_diagnostics = cpp_clean,
	.classify = cpp_classify,
};

RUNLET_PLUGIN_EXPORT const struct runlet_plugin *runlet_plugin_entry(void);

RUNLET_PLUGIN_EXPORT const struct runlet_plugin *runlet_plugin_entry(void)
{
	return &cpp_plugin;
}
