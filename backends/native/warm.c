/* The native backend's pool maker: a sandbox made as execute() makes one,
 * up to the exec of the runner, with the largest limits the config allows
 * the language. See "Pool" in sandbox.c. */
#include "nat.h"

#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/config.h"

/* The largest plan the config allows for r: the pool's sandboxes get the
 * submission limits of it (sbx_budget_of), so they cover every job of r. */
static void pool_plan(const struct cfg_runner *r, struct wire_plan *p)
{
	uint64_t mem = r->mem_limit ? r->mem_limit : (256ull << 20);
	uint64_t pids = r->limits.pids_limit ? r->limits.pids_limit : 100;
	memset(p, 0, sizeof(*p));
	if (r->limits.max_mem_limit > mem)
		mem = r->limits.max_mem_limit;
	p->run.lim.mem_kb = mem / 1024;
	p->run.lim.pids = (uint32_t)pids;
	p->has_compile = r->has_compile_args;
	uint64_t cm = r->limits.compile_mem_limit;
	if (!cm)
		cm = mem > (1ull << 30) ? mem : (1ull << 30);
	p->compile.lim.mem_kb = cm / 1024;
	p->compile.lim.pids = (uint32_t)(pids > 256 ? pids : 256);
	/* the core runs up to parallel_tests tests at once (default: the
	 * cores): the pooled sandbox must hold that many */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	p->parallel = r->limits.parallel_tests ? r->limits.parallel_tests
					       : (uint64_t)(ncpu > 0 ? ncpu : 1);
	p->ntests = (size_t)p->parallel;
}

/* The pool's maker: a sandbox of r made as execute() makes one, up to the
 * exec of the runner, with the limits of pool_plan. */
int nat_make(void *arg, const struct cfg_runner *r, struct sbx_pooled *out,
	     char *err, size_t errlen)
{
	struct nat_state *st = arg;
	struct nat_call c;
	struct wire_plan p;
	char id[64];
	int rc, status;
	/* "<pid>-" for the sweep; the state's address keeps two backend
	 * states of one process (sequence numbers of their own) apart */
	snprintf(id, sizeof(id), "%ld-pool%lx-%.16s", (long)getpid(),
		 (unsigned long)(uintptr_t)st, r->code ? r->code : "");
	struct backend_job job = {.cfg = st->cfg, .runner = r, .job_id = id,
				  .plan = &p};
	memset(&c, 0, sizeof(c));
	c.st = st;
	c.job = &job;
	pool_plan(r, &p);
	if ((rc = nat_step_budget(&c, err, errlen)) < 0 ||
	    (rc = nat_step_cgroup(&c, err, errlen)) < 0 ||
	    (rc = nat_step_mounts(&c, err, errlen)) < 0)
		goto out;
	struct sbx_spawn sp = {.child = &c.child, .clone_flags = NAT_CLONE_FLAGS};
	if ((rc = sbx_start(&sp, &out->proc, &status, err, errlen)) < 0)
		goto out;
	out->cg = c.cg;
	out->have_cg = c.have_cg;
	out->mem_bytes = c.budget.mem_bytes;
	out->pids = c.budget.pids;
	c.have_cg = 0; /* the pooled sandbox's now */
out:
	nat_teardown(&c);
	return rc;
}

int nat_warm_died_idle(const struct nat_call *c)
{
	struct wire_buf head = {0};
	int idle;
	if (!c->have_warm || c->run.timed_out || c->run.overflow ||
	    !WIFSIGNALED(c->run.status) || WTERMSIG(c->run.status) != SIGKILL)
		return 0;
	if (wire_put_str(&head, "result", WIRE_VERSION) < 0)
		return 0;
	idle = c->run.out.len == 0 ||
	       (c->run.out.len == head.len &&
		memcmp(c->run.out.data, head.data, head.len) == 0);
	wire_buf_free(&head);
	return idle;
}

void nat_warm_drop(struct nat_call *c)
{
	sbx_proc_kill(&c->warm.proc);
	c->warm.cg = c->cg;
	c->warm.have_cg = c->have_cg;
	c->have_cg = 0;
	c->have_warm = 0;
	sbx_pool_bury(c->st->pool, &c->warm);
	sbx_run_free(&c->run);
	memset(&c->run, 0, sizeof(c->run));
	wire_buf_free(&c->enc);
}
