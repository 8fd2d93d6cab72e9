/* --campaign FILE.ini: one section per job.
 *
 *   [repro-40368]
 *   command = build/gosched --workload timer-syscall --fix off
 *   inject  = --sites startm --delay uniform:200us:2ms
 *   count   = 200            ; and/or time = 30s
 *   timeout = 10s
 *   expect  = fail           ; fail: must reproduce; pass: must never fail
 *   control = repro-40368    ; (pass jobs) the fail job whose rate states the confidence
 *   procs   = 2
 *   keep    = 5
 *   signature = ^checkdead   ; the failure it is after (POSIX ERE)
 *   unexpected = fail        ; or ignore: may other failures pass?
 *
 * Parsed with inih through a line-counting reader, so that every problem
 * is reported as one line naming FILE:LINE: the reader itself refuses what
 * inih would silently take (a NUL byte, whose line inih reads up to it; an
 * unclosed '[', which inih reports but whose keys then land in the previous
 * job; an indented line, which inih passes as a new value for the last key),
 * and a key given twice is an error, not last-wins.  Unset keys take the
 * command line's values (-p, --timeout, --keep, ...).  --scale multiplies
 * every job's count (rounding up), or its time when it has no count.
 */
#include "stress.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct secline {
	char *name;
	int line;
};

static const char *const keys[] = {"command", "inject", "count", "time", "timeout", "expect",
                                   "control", "procs", "keep", "signature", "unexpected"};
#define NKEYS (int)(sizeof keys / sizeof keys[0])

struct cstate {
	FILE *f;
	const char *file;
	const struct job *defaults; /* the command line's settings, which keys override */
	int line;
	struct secline *secs;
	int nsecs;
	struct job *jobs;
	int njobs;
	char err[600];
	int errline;
	bool *count_set, *time_set;
	int (*keyline)[NKEYS];  /* per job: the line each key was given on */
	bool prev_key;          /* a key since the last section line */
	int cont_line;          /* an indented line inih takes as a continuation */
};

static void fail(struct cstate *c, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct cstate *c, int line, const char *fmt, ...)
{
	if (c->err[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	c->errline = line;
}

/* inih's reader: one physical line per call into str (size bytes), counted;
 * remembers where each section starts. */
static char *reader(char *str, int size, void *stream)
{
	struct cstate *c = stream;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, c->f);
	if (n < 0) {
		free(line);
		return NULL;
	}
	c->line++;
	if (memchr(line, 0, (size_t)n))
		fail(c, c->line, "a NUL byte in the line (the text after it would be ignored)");
	if (n >= size) {
		fail(c, c->line, "line too long (at most %d characters)", size - 2);
		line[size - 2] = '\n';
		line[size - 1] = 0;
	}
	snprintf(str, (size_t)size, "%s", line);
	const char *p = line;
	while (isspace((unsigned char)*p))
		p++;
	if (p > line && *p && *p != ';' && *p != '#' && *p != '[' && c->prev_key)
		c->cont_line = c->line;
	if (*p == '[') {
		c->prev_key = false;
		const char *e = strchr(p, ']');
		if (!e)
			fail(c, c->line, "unclosed '[' (want [job])");
		if (e) {
			char *name = strndup(p + 1, (size_t)(e - p - 1));
			char *s = name, *t = name + strlen(name);
			while (isspace((unsigned char)*s))
				s++;
			while (t > s && isspace((unsigned char)t[-1]))
				*--t = 0;
			for (int i = 0; i < c->nsecs; i++)
				if (!strcmp(c->secs[i].name, s))
					fail(c, c->line, "job [%s] defined twice (first at line %d)", s,
					     c->secs[i].line);
			if (!*s)
				fail(c, c->line, "empty job name");
			for (const char *q = s; *q; q++)
				if (*q == '/' || isspace((unsigned char)*q) || iscntrl((unsigned char)*q))
					fail(c, c->line, "bad job name [%s]: no '/' or blanks", s);
			/* The name is a directory in the run dir: "..", "." or ".tmp"
			 * (the scratch dir, removed at the end) would put kept failures
			 * outside it or lose them; the report files' names would make
			 * the reports unwritable. */
			if (*s == '.' || !strcmp(s, "summary.json") || !strcmp(s, "junit.xml") ||
			    !strcmp(s, "report.md"))
				fail(c, c->line, "bad job name [%s]: it names a directory of the results, so "
				     "no leading '.' and not summary.json, junit.xml or report.md", s);
			c->secs = xrealloc(c->secs, sizeof *c->secs * (size_t)(c->nsecs + 1));
			c->secs[c->nsecs].name = xstrdup(s);
			c->secs[c->nsecs++].line = c->line;
			free(name);
		}
	}
	free(line);
	return str;
}

static int job_index(struct cstate *c, const char *section)
{
	for (int i = 0; i < c->njobs; i++)
		if (!strcmp(c->jobs[i].name, section))
			return i;
	c->jobs = xrealloc(c->jobs, sizeof *c->jobs * (size_t)(c->njobs + 1));
	c->count_set = xrealloc(c->count_set, sizeof *c->count_set * (size_t)(c->njobs + 1));
	c->keyline = xrealloc(c->keyline, sizeof *c->keyline * (size_t)(c->njobs + 1));
	memset(c->keyline[c->njobs], 0, sizeof *c->keyline);
	c->time_set = xrealloc(c->time_set, sizeof *c->time_set * (size_t)(c->njobs + 1));
	struct job *j = &c->jobs[c->njobs];
	*j = *c->defaults;
	j->name = xstrdup(section);
	j->argv = NULL;
	j->inject = NULL;
	j->inject_line = 0;
	j->line = c->line;
	for (int i = 0; i < c->nsecs; i++)
		if (!strcmp(c->secs[i].name, section))
			j->line = c->secs[i].line;
	c->count_set[c->njobs] = c->defaults->count > 0;
	c->time_set[c->njobs] = c->defaults->time_s > 0;
	return c->njobs++;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct cstate *c = user;
	int ln = c->line;
	if (c->err[0])
		return 1;
	if (!*section) {
		fail(c, ln, "key \"%s\" outside a [job] section", name);
		return 0;
	}
	if (ln == c->cont_line) {
		fail(c, ln, "an indented line would replace the value of \"%s\" (inih reads it as a "
		     "continuation); write each key on one line, unindented", name);
		return 0;
	}
	c->prev_key = true;
	int ji = job_index(c, section);
	struct job *j = &c->jobs[ji];
	int ki;
	for (ki = 0; ki < NKEYS && strcmp(keys[ki], name); ki++)
		;
	if (ki < NKEYS && c->keyline[ji][ki]) {
		fail(c, ln, "key \"%s\" given twice in [%s] (first at line %d)", name, section,
		     c->keyline[ji][ki]);
		return 0;
	}
	if (ki < NKEYS)
		c->keyline[ji][ki] = ln;
	long long v;
	double d;
	char err[512];
	if (!strcmp(name, "command")) {
		if (split_words(value, &j->argv, &j->argc, err, sizeof err) < 0) {
			fail(c, ln, "bad command: %s", err);
			return 0;
		}
		if (!j->argc) {
			fail(c, ln, "empty command");
			return 0;
		}
	} else if (!strcmp(name, "inject")) {
		j->inject = *value ? xstrdup(value) : NULL;
		j->inject_line = ln;
		if (j->inject) {
			char **av;
			int ac;
			if (split_words(value, &av, &ac, err, sizeof err) < 0) {
				fail(c, ln, "bad inject: %s", err);
				return 0;
			}
		}
	} else if (!strcmp(name, "count")) {
		if (parse_ll(value, 1, &v) < 0) {
			fail(c, ln, "bad count \"%s\": want a number of runs from 1", value);
			return 0;
		}
		j->count = v;
		c->count_set[ji] = true;
	} else if (!strcmp(name, "time") || !strcmp(name, "timeout")) {
		bool t = !strcmp(name, "time");
		if (duration_seconds(value, 0, STRESS_DURATION_MAX, &d) < 0 || d <= 0) {
			fail(c, ln, "bad %s \"%s\": want a duration above 0 and at most a year, such as "
			     "30s or 5m", name, value);
			return 0;
		}
		if (t) {
			j->time_s = d;
			c->time_set[ji] = true;
		} else {
			j->timeout_s = d;
		}
	} else if (!strcmp(name, "expect")) {
		if (!strcmp(value, "fail"))
			j->expect = EXPECT_FAIL;
		else if (!strcmp(value, "pass"))
			j->expect = EXPECT_PASS;
		else {
			fail(c, ln, "bad expect \"%s\": want fail or pass", value);
			return 0;
		}
	} else if (!strcmp(name, "control")) {
		j->control = xstrdup(value);
	} else if (!strcmp(name, "procs")) {
		if (parse_ll(value, 1, &v) < 0 || v > 4096) {
			fail(c, ln, "bad procs \"%s\": want a number of workers from 1 to 4096", value);
			return 0;
		}
		j->procs = (int)v;
	} else if (!strcmp(name, "keep")) {
		if (parse_ll(value, 0, &v) < 0 || v > 100000) {
			fail(c, ln, "bad keep \"%s\": want a number of traces from 0", value);
			return 0;
		}
		j->keep = (int)v;
	} else if (!strcmp(name, "signature")) {
		regex_t *re = xmalloc(sizeof *re);
		int e = regcomp(re, value, REG_EXTENDED | REG_NOSUB);
		if (e || !*value) {
			char m[256] = "empty";
			if (e)
				regerror(e, re, m, sizeof m);
			fail(c, ln, "bad signature \"%s\": %s (want a POSIX extended regular "
			     "expression)", value, m);
			return 0;
		}
		j->signature = xstrdup(value);
		j->signature_re = re;
	} else if (!strcmp(name, "unexpected")) {
		if (strcmp(value, "fail") && strcmp(value, "ignore")) {
			fail(c, ln, "bad unexpected \"%s\": want fail or ignore", value);
			return 0;
		}
		j->unexpected_ignore = !strcmp(value, "ignore");
	} else {
		fail(c, ln, "unknown key \"%s\" (want command, inject, count, time, timeout, expect, "
		     "control, procs, keep, signature, unexpected)", name);
		return 0;
	}
	return 1;
}

/* Read FILE's jobs, each starting from DEFAULTS (whose launcher they run
 * under) and sized by SCALE (0: as written), and prepare them.  Returns 0,
 * or -1 having said what is wrong in one line. */
int campaign_load(const char *file, const struct job *defaults, double scale, struct job **jobsp,
                  int *njobsp)
{
	struct cstate c = {0};
	c.file = file;
	c.defaults = defaults;
	c.f = fopen(file, "re");
	if (!c.f) {
		fprintf(stderr, "stress: %s: cannot open: %s\n", file, strerror(errno));
		return -1;
	}
	int rc = ini_parse_stream(reader, &c, handler, &c);
	fclose(c.f);
	/* The first problem by line: inih's own (rc) or ours. */
	if (rc > 0 && (!c.err[0] || rc < c.errline)) {
		fprintf(stderr, "stress: %s:%d: syntax error (want [job] or key = value)\n", file, rc);
		return -1;
	}
	if (c.err[0]) {
		fprintf(stderr, "stress: %s:%d: %s\n", file, c.errline, c.err);
		return -1;
	}
	if (rc) {
		fprintf(stderr, "stress: %s: cannot read: %s\n", file, strerror(errno));
		return -1;
	}
	/* Sections with no keys never reach the handler. */
	for (int i = 0; i < c.nsecs; i++) {
		bool seen = false;
		for (int k = 0; k < c.njobs; k++)
			seen = seen || !strcmp(c.jobs[k].name, c.secs[i].name);
		if (!seen) {
			fprintf(stderr, "stress: %s:%d: job [%s] has no command\n", file, c.secs[i].line,
			        c.secs[i].name);
			return -1;
		}
	}
	if (!c.njobs) {
		fprintf(stderr, "stress: %s:%d: no jobs (want [name] sections with command = ...)\n",
		        file, c.line ? c.line : 1);
		return -1;
	}
	for (int i = 0; i < c.njobs; i++) {
		struct job *j = &c.jobs[i];
		if (!j->argv) {
			fprintf(stderr, "stress: %s:%d: job [%s] has no command\n", file, j->line, j->name);
			return -1;
		}
		if (!c.count_set[i] && !c.time_set[i]) {
			fprintf(stderr, "stress: %s:%d: job [%s] needs count or time\n", file, j->line,
			        j->name);
			return -1;
		}
		if (j->control) {
			if (j->expect != EXPECT_PASS) {
				fprintf(stderr, "stress: %s:%d: job [%s] names a control but does not "
				        "expect pass\n", file, j->line, j->name);
				return -1;
			}
			int k;
			for (k = 0; k < c.njobs; k++)
				if (!strcmp(c.jobs[k].name, j->control))
					break;
			if (k == c.njobs) {
				fprintf(stderr, "stress: %s:%d: job [%s]: control \"%s\" is not a job in "
				        "this file\n", file, j->line, j->name, j->control);
				return -1;
			}
			if (c.jobs[k].expect != EXPECT_FAIL) {
				fprintf(stderr, "stress: %s:%d: job [%s]: control \"%s\" must expect fail\n",
				        file, j->line, j->name, j->control);
				return -1;
			}
		}
		/* --scale: a job's size is its count; its time is a cap, unless it
		 * has no count. */
		if (scale > 0) {
			if (j->count)
				j->count = (long long)ceil((double)j->count * scale - 1e-9);
			else
				j->time_s *= scale;
		}
		char err[512];
		if (job_prepare(j, err, sizeof err) < 0) {
			fprintf(stderr, "stress: %s:%d: job [%s]: bad inject: %s\n", file,
			        j->inject_line ? j->inject_line : j->line, j->name, err);
			return -1;
		}
	}
	*jobsp = c.jobs;
	*njobsp = c.njobs;
	return 0;
}
