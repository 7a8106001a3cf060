/* The rlimit table of a step: which limits a child gets and from which plan
 * field (see rlimits.h). */
#include "runner/rlimits.h"

#include <errno.h>
#include <stdint.h>

enum rl_src {
	RL_CONST,    /* always value */
	RL_CPU,      /* from cpu_ms: soft ceil(s)+1, hard soft+1 */
	RL_FIELD_KB, /* field * 1024 when the field is set */
	RL_FIELD,    /* field as is when set */
	RL_NPROC,    /* pids, only without a pids cgroup */
};

static const struct rl_rule {
	int resource;
	const char *name;
	enum rl_src src;
	size_t field; /* offsetof(struct wire_limits, ...) */
	rlim_t value;
} rl_rules[] = {
	{RLIMIT_CPU, "RLIMIT_CPU", RL_CPU, offsetof(struct wire_limits, cpu_ms), 0},
	{RLIMIT_FSIZE, "RLIMIT_FSIZE", RL_FIELD_KB, offsetof(struct wire_limits, fsize_kb), 0},
	{RLIMIT_NOFILE, "RLIMIT_NOFILE", RL_FIELD, offsetof(struct wire_limits, nofile), 0},
	{RLIMIT_STACK, "RLIMIT_STACK", RL_FIELD_KB, offsetof(struct wire_limits, stack_kb), 0},
	{RLIMIT_CORE, "RLIMIT_CORE", RL_CONST, 0, 0},
	{RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK", RL_CONST, 0, 64 * 1024},
	{RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE", RL_CONST, 0, 0},
	{RLIMIT_NPROC, "RLIMIT_NPROC", RL_NPROC, offsetof(struct wire_limits, pids), 0},
};

static uint64_t field_of(const struct wire_limits *l, size_t off)
{
	return *(const uint64_t *)(const void *)((const char *)l + off);
}

void rl_prepare(const struct wire_limits *l, int have_pids_cgroup,
		struct rl_set *set)
{
	set->n = 0;
	for (size_t i = 0; i < sizeof(rl_rules) / sizeof(rl_rules[0]); i++) {
		const struct rl_rule *r = &rl_rules[i];
		uint64_t v = r->src == RL_CONST ? 0 : field_of(l, r->field);
		struct rlimit want;
		switch (r->src) {
		case RL_CONST:
			want.rlim_cur = want.rlim_max = r->value;
			break;
		case RL_CPU:
			if (v == 0)
				continue;
			want.rlim_cur = (rlim_t)((v + 999) / 1000 + 1);
			want.rlim_max = want.rlim_cur + 1;
			break;
		case RL_FIELD_KB:
			if (v == 0)
				continue;
			want.rlim_cur = want.rlim_max =
				v > (UINT64_MAX >> 10) ? RLIM_INFINITY
						       : (rlim_t)(v << 10);
			break;
		case RL_FIELD:
			if (v == 0)
				continue;
			want.rlim_cur = want.rlim_max = (rlim_t)v;
			break;
		case RL_NPROC:
			if (v == 0 || have_pids_cgroup)
				continue;
			want.rlim_cur = want.rlim_max = (rlim_t)v;
			break;
		}
		struct rlimit cur;
		if (getrlimit(r->resource, &cur) == 0 &&
		    cur.rlim_max != RLIM_INFINITY) {
			if (want.rlim_max == RLIM_INFINITY ||
			    want.rlim_max > cur.rlim_max)
				want.rlim_max = cur.rlim_max;
			if (want.rlim_cur == RLIM_INFINITY ||
			    want.rlim_cur > want.rlim_max)
				want.rlim_cur = want.rlim_max;
		}
		set->e[set->n].resource = r->resource;
		set->e[set->n].lim = want;
		set->n++;
	}
}

int rl_apply(const struct rl_set *set, size_t *failed)
{
	for (size_t i = 0; i < set->n; i++) {
		if (setrlimit(set->e[i].resource, &set->e[i].lim) < 0) {
			*failed = i;
			return -errno;
		}
	}
	return 0;
}

const char *rl_name(int resource)
{
	for (size_t i = 0; i < sizeof(rl_rules) / sizeof(rl_rules[0]); i++)
		if (rl_rules[i].resource == resource)
			return rl_rules[i].name;
	return "RLIMIT_?";
}
