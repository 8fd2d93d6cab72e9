/* --replay DIR: rerun a kept failure K times with its exact command, seed,
 * run index and environment delta (from its meta.json), and say how often
 * the same signature comes back.  The first rerun of each signature is kept
 * as a failure is (keep.c: its output, logs and trace.json) in a folder
 * under TMPDIR, named at the end. */
#include "stress.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int bad(const char *dir, const char *what)
{
	fprintf(stderr, "stress: --replay %s: %s\n", dir, what);
	return EXIT_USAGE;
}

/* Rerun the kept failure in DIR COUNT times on PROCS workers, in BASE's
 * settings but for its own cwd, seed and run index, under its own launcher
 * when that can still run (else LAUNCHER).  Returns the exit status. */
int replay_main(const struct runenv *base, const char *launcher, const char *dir, long long count,
                int procs, double timeout_s)
{
	struct runenv env = *base;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/meta.json", dir);
	json_error_t je;
	/* Integers as reals: a seed of 2^63 or more is too big for jansson's
	 * integers; the exact seed is read from env.STRESS_SEED, a string. */
	json_t *m = json_load_file(path, JSON_DECODE_INT_AS_REAL, &je);
	if (!m)
		return bad(dir, "no readable meta.json (want a kept failure's directory)");
	json_t *cmd = json_object_get(m, "command");
	const char *sig = json_string_value(json_object_get(m, "signature"));
	json_t *seed = json_object_get(m, "seed"), *run = json_object_get(m, "run");
	if (!json_is_array(cmd) || !json_array_size(cmd) || !sig || !json_is_number(seed) ||
	    !json_is_number(run))
		return bad(dir, "meta.json lacks command, signature, seed or run");
	uint64_t seedv;
	const char *es = json_string_value(json_object_get(json_object_get(m, "env"), "STRESS_SEED"));
	if (!es || parse_u64(es, &seedv) < 0) {
		double sv = json_number_value(seed);
		if (!(sv >= 0 && sv < 9007199254740992.0))
			return bad(dir, "meta.json: no exact seed (env.STRESS_SEED)");
		seedv = (uint64_t)sv;
	}

	struct job j;
	job_defaults(&j);
	j.name = "replay";
	j.argc = (int)json_array_size(cmd);
	j.argv = xmalloc(sizeof *j.argv * (size_t)(j.argc + 1));
	for (int i = 0; i < j.argc; i++) {
		const char *a = json_string_value(json_array_get(cmd, (size_t)i));
		if (!a)
			return bad(dir, "meta.json: command is not a list of strings");
		j.argv[i] = xstrdup(a);
	}
	j.argv[j.argc] = NULL;
	const char *inj = json_string_value(json_object_get(m, "inject"));
	j.inject = inj ? xstrdup(inj) : NULL;
	const char *kept_launcher = json_string_value(json_object_get(m, "launcher"));
	const char *cwd = json_string_value(json_object_get(m, "cwd"));
	if (cwd && chdir(cwd) == 0)
		env.cwd = xstrdup(cwd);
	j.launcher = kept_launcher && access(kept_launcher, X_OK) == 0 ? xstrdup(kept_launcher)
	                                                              : launcher;
	j.count = count;
	j.procs = procs;
	/* The first rerun of each signature is kept, with its trace.json, in
	 * a scratch folder that outlives the replay (said at the end). */
	j.keep = 1;
	j.timeout_s = timeout_s;
	if (!timeout_s && json_is_number(json_object_get(m, "timeout_seconds")))
		j.timeout_s = json_number_value(json_object_get(m, "timeout_seconds"));
	if (json_is_number(json_object_get(m, "grace_seconds")))
		j.grace_s = json_number_value(json_object_get(m, "grace_seconds"));
	j.fixed_seed = true;
	j.fixed_run = (long long)json_number_value(run);
	env.seed_base = seedv;
	env.quiet = true;

	env.record_fd = -1;
	char err[512];
	if (job_prepare(&j, err, sizeof err) < 0)
		return bad(dir, err);
	char line[1024];
	if (job_check_inject(&j, line, sizeof line) == EXIT_USAGE)
		return bad(dir, line);

	if (j.harness_error) {
		fprintf(stderr, "stress: HARNESS ERROR: %s\n", j.harness_error);
		return EXIT_HARNESS;
	}
	const char *tdir = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/stress-replay.XXXXXX", tdir && *tdir ? tdir : "/tmp");
	if (!mkdtemp(tmpl)) {
		fprintf(stderr, "stress: cannot make a scratch dir: %s\n", strerror(errno));
		return EXIT_HARNESS;
	}
	char *scratch = xasprintf("%s/.tmp", tmpl);
	mkdir(scratch, 0700);
	env.rundir = tmpl;
	env.tmpdir = scratch;
	j.dir = tmpl;
	if (engine_init() < 0) {
		fprintf(stderr, "stress: cannot set up the run loop (signals, the sentinel): %s\n",
		        strerror(errno));
		return EXIT_HARNESS;
	}
	printf("replay: %s: run %lld, seed %llu, %lld times: ", dir, j.fixed_run,
	       (unsigned long long)env.seed_base, count);
	fflush(stdout);
	engine_run(&env, &j);
	sentinel_stop();
	rm_rf(scratch);
	bool kept = false;
	for (int i = 0; i < j.nsigs; i++)
		kept = kept || j.sigs[i].nkept > 0;
	if (!kept)
		rm_rf(tmpl);
	if (j.harness_error) {
		printf("\n");
		fprintf(stderr, "stress: HARNESS ERROR: %s\n", j.harness_error);
		return EXIT_HARNESS;
	}
	long long same = 0;
	for (int i = 0; i < j.nsigs; i++)
		if (!strcmp(j.sigs[i].text, sig))
			same = j.sigs[i].count;
	double lo, hi;
	wilson(same, j.runs, &lo, &hi);
	printf("reproduced \"%s\" %lld of %lld times (%.0f%%, 95%% CI %.2f-%.2f)", sig, same, j.runs,
	       j.runs ? 100.0 * (double)same / (double)j.runs : 0, lo, hi);
	if (j.runs - j.failures)
		printf("; passed %lld", j.runs - j.failures);
	for (int i = 0; i < j.nsigs; i++)
		if (strcmp(j.sigs[i].text, sig))
			printf("; \"%s\" x%lld", j.sigs[i].text, j.sigs[i].count);
	printf("%s\n", j.interrupted ? " (interrupted)" : "");
	for (int i = 0; i < j.nsigs; i++)
		for (int k = 0; k < j.sigs[i].nkept; k++)
			printf("replay: \"%s\" kept, with its trace.json: %s/%s\n", j.sigs[i].text, tmpl,
			       j.sigs[i].kept[k]);
	json_decref(m);
	return same > 0 ? EXIT_OK : EXIT_UNMET;
}
