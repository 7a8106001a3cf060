/* The job model: one submission as the platform sends it (CONTRACT.md §1),
 * parsed and validated with jansson.
 * Ownership: struct job owns everything inside; job_free releases it.
 */
#ifndef RUNLET_JOB_H
#define RUNLET_JOB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;

struct job_test {
	int64_t num;        /* test_num, positive, unique in the job */
	char *input;        /* owned, NUL-terminated, input_len bytes */
	size_t input_len;
	char *expected;     /* owned or NULL: the "output" extension */
	size_t expected_len;
};

/* The "limits" extension; has_* says which keys were given. */
struct job_limits {
	int has_time, has_memory, has_output;
	uint64_t time_ms;
	uint64_t memory_bytes;
	uint64_t output_bytes;
};

struct job {
	/* ids echoed back as given (number or string): owned references */
	json_t *student_id;
	json_t *problem_id;
	json_t *course_id;
	char *lang;         /* owned */
	char *code;         /* owned, NUL-terminated, code_len bytes */
	size_t code_len;
	struct job_test *tests; /* owned, ntests entries, request order */
	size_t ntests;
	struct job_limits limits;
	char *id;           /* owned or NULL: message/correlation id if known */
};

/* What is known of a submission that failed validation, so an error result
 * can still be sent. Owned references / strings, freed by job_ids_clear. */
struct job_ids {
	int identifiable;   /* the three ids parsed */
	json_t *student_id, *problem_id, *course_id;
	json_t *code;       /* the code as given, or NULL */
	json_t *run_data;   /* the run_data array as given, or NULL */
};

/* Parse and validate a body. cfg supplies declared languages and size caps.
 * 0 on success (*out owned by caller), -EINVAL with a message naming the
 * field ("run_data[2].test_num: expected a positive integer, got -1").
 * On failure, if ids is not NULL it is filled with what could be read. */
int job_parse(const char *body, size_t len, const struct cfg *cfg,
	      struct job **out, struct job_ids *ids, char *err, size_t errlen);
void job_free(struct job *j);
void job_ids_clear(struct job_ids *ids);

#endif /* RUNLET_JOB_H */
