/* broker: the work of one job, on a worker thread: judge the body with the
 * core (thread-safe), encode the result, note language and verdict for the
 * log. Touches only the job's output fields (see pool.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "broker/srv.h"
#include "core/dispatch.h"

static void note_lang(void *arg, const struct job *job)
{
	struct mq_job *j = arg;

	if (j->lang[0] == '\0' && job != NULL && job->lang != NULL)
		snprintf(j->lang, sizeof(j->lang), "%s", job->lang);
}

static void on_compiled(void *arg, const struct job *job, int ok)
{
	note_lang(arg, job);
}

static void on_test(void *arg, const struct job *job, size_t index,
		    const struct res_test *t)
{
	note_lang(arg, job);
}

void mq_judge(void *arg, struct mq_job *j)
{
	struct runlet_ctx *ctx = arg;
	struct judge_hooks hooks = {.on_compiled = on_compiled, .on_test = on_test, .arg = j};
	const char *id = mq_meta_id(&j->meta);
	uint64_t t0 = mq_now_ms();
	json_t *out = NULL;

	j->err[0] = '\0';
	j->rc = runlet_judge_body(ctx, j->body, j->len, id[0] ? id : NULL, &hooks,
				  &out, j->err, sizeof(j->err));
	if (out != NULL) {
		const char *st = json_string_value(json_object_get(out, "status"));

		if (st != NULL)
			snprintf(j->verdict, sizeof(j->verdict), "%s", st);
		j->result = json_dumps(out, JSON_COMPACT);
		json_decref(out);
		if (j->result == NULL) {
			j->rc = -ENOMEM;
			snprintf(j->err, sizeof(j->err), "out of memory encoding the result");
		} else {
			j->result_len = strlen(j->result);
		}
	}
	j->judge_ms = mq_now_ms() - t0;
}

