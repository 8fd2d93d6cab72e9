/* What a job is and how it is prepared: its defaults, the command resolved
 * and the inject flags split and checked by the launcher itself, and the
 * argv each of its runs gets.  main.c (the command line), campaign.c (a
 * section of a campaign file) and replay.c (a kept failure's meta.json)
 * each fill in a job's configuration and prepare it here; engine.c runs it.
 */
#include "stress.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void job_defaults(struct job *j)
{
	memset(j, 0, sizeof *j);
	j->timeout_s = 600;
	j->grace_s = 2;
	j->keep = 5;
	j->procs = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (j->procs < 1)
		j->procs = 1;
	j->ok_status[0] = 0;
	j->nok = 1;
	j->first_run = -1;
	j->first_repro_run = -1;
	j->met = -1;
}

/* Resolve the command and split the inject flags.  A command or launcher
 * that cannot run is a harness error (recorded, not fatal here: the
 * summary still gets written).  Returns -1 with err set on a usage error. */
int job_prepare(struct job *j, char *err, size_t errsz)
{
	if (j->inject) {
		if (split_words(j->inject, &j->inject_argv, &j->inject_argc, err, errsz) < 0)
			return -1;
		if (access(j->launcher, X_OK) < 0)
			j->harness_error = xasprintf("the inject launcher %s cannot run: %s", j->launcher,
			                             strerror(errno));
	}
	j->path = find_in_path(j->argv[0]);
	if (!j->path && !j->harness_error)
		j->harness_error = xasprintf("cannot run %s: no such executable", j->argv[0]);
	if (!j->path)
		j->path = xstrdup(j->argv[0]);
	return 0;
}

/* The job's inject flags, checked once by the launcher itself before
 * anything runs (`inject --check`, spawn.c): a bad flag is the user's usage
 * error, never a run's failure.  Returns EXIT_USAGE with the launcher's
 * one-line reason in line; or 0, having made a launcher that could not
 * answer the job's harness error. */
int job_check_inject(struct job *j, char *line, size_t n)
{
	if (!j->inject_argv || j->harness_error)
		return 0;
	int rc = check_inject(j, line, n);
	if (rc == EXIT_USAGE)
		return EXIT_USAGE;
	if (rc < 0)
		j->harness_error = xasprintf("the inject launcher could not check the flags: %s", line);
	return 0;
}

/* The argv of one run.  seed and logpath are stored, not copied, so that a
 * slot can rewrite them in place before each run. */
char **job_argv(const struct job *j, const char *seed, const char *logpath)
{
	size_t n = (size_t)j->argc + (size_t)j->inject_argc + 8;
	char **v = xmalloc(sizeof *v * n);
	size_t k = 0;
	if (j->inject_argv) {
		v[k++] = (char *)j->launcher;
		for (int i = 0; i < j->inject_argc; i++)
			v[k++] = j->inject_argv[i];
		v[k++] = "--seed";
		v[k++] = (char *)seed;
		v[k++] = "--log";
		v[k++] = (char *)logpath;
		v[k++] = "--";
	}
	for (int i = 0; i < j->argc; i++)
		v[k++] = j->argv[i];
	v[k] = NULL;
	return v;
}
