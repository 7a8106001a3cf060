/* Submission-wide limits, deadline and cgroup name. See budget.h. */
#include "budget.h"

#include <stdio.h>
#include <string.h>

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t wall_of(const struct wire_limits *l)
{
	if (l->wall_ms)
		return l->wall_ms;
	if (l->cpu_ms)
		return 2 * l->cpu_ms + 1000;
	return 60000;
}

static uint64_t outcome_max(const struct wire_limits *l)
{
	uint64_t out = l->out_kb ? l->out_kb : 65536;
	uint64_t err = l->err_kb ? l->err_kb : 65536;
	return (out + err) * 1024 + 4096;
}

void sbx_budget_of(const struct wire_plan *p, uint64_t tmpfs_bytes,
		   uint64_t default_mem, struct sbx_budget *b)
{
	uint64_t mem = p->run.lim.mem_kb * 1024, pids = p->run.lim.pids;
	uint64_t dl = SBX_DEADLINE_MARGIN_MS, out = 1 << 20;
	/* tests run n at a time each under its own limits (and the runner's
	 * n workers): the sandbox as a whole must hold all of them */
	uint64_t n = p->parallel > 1 ? p->parallel : 1;
	if (n > p->ntests && p->ntests > 0)
		n = p->ntests;
	if (!mem)
		mem = default_mem;
	mem *= n;
	pids = pids * n + (n > 1 ? n : 0);
	if (p->has_compile) {
		uint64_t cm = p->compile.lim.mem_kb * 1024;
		mem = max64(mem, cm ? cm : default_mem);
		pids = max64(pids, p->compile.lim.pids ? p->compile.lim.pids : 256);
		dl += wall_of(&p->compile.lim);
		out += outcome_max(&p->compile.lim);
	}
	if (!pids)
		pids = 256;
	dl += p->ntests * (wall_of(&p->run.lim) + SBX_DEADLINE_PER_TEST_MS);
	out += p->ntests * outcome_max(&p->run.lim);
	b->mem_bytes = mem + tmpfs_bytes + SBX_SHM_SIZE + SBX_MEM_SLACK;
	b->pids = pids + SBX_PIDS_SLACK;
	b->deadline_ms = dl;
	b->out_max = (size_t)out;
}

void sbx_cg_name(const char *job_id, unsigned long seq, char *out,
		 size_t outlen)
{
	char clean[49];
	size_t n = 0;
	for (const char *c = job_id ? job_id : ""; *c && n < 48; c++) {
		char ch = *c;
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			 (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
			 (ch == '.' && n > 0);
		clean[n++] = ok ? ch : '_';
	}
	clean[n] = '\0';
	snprintf(out, outlen, "%s%s%lu", clean[0] ? clean : "job", "-s", seq);
}
