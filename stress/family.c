/* Which plan family each injected run had, and what each family found.
 *
 * Blind injection draws a plan family per run from the run's seed
 * (injector/plan.h); the shim names it in its log's header (plan=NAME,
 * "custom" when the inject flags alone make the plan).  A job tallies, per
 * family, its runs, failures and reproductions and the signatures of the
 * failures, so the reports say which family found each failure and how
 * often each family hit.  Read before a kept failure moves the log; a log
 * without a header (lost) counts under "unknown".
 *
 * The shim-only control (--shim-control N, campaign key shim_control): after
 * an injected job's runs, N more runs of the same command under the shim at
 * probability 0 (loaded, no delay; engine.c's shim_control_run makes them),
 * so that the reports give the rate without delays beside the rate with
 * them: loading the shim alone changes a program's timing, and failures it
 * causes are no credit to the delays.  Here: how the reports say it. */
#include "stress.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The plan= of the first block header of the log at PATH, into NAME. */
static void log_plan(const char *path, char *name, size_t n)
{
	snprintf(name, n, "unknown");
	FILE *f = path ? fopen(path, "re") : NULL;
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "# inject-log ", 13))
			continue;
		char *p = strstr(line, " plan=");
		if (p) {
			p += 6;
			size_t l = strcspn(p, " \n");
			snprintf(name, n, "%.*s", (int)(l < n - 1 ? l : n - 1), p);
		} else {
			snprintf(name, n, "custom");    /* an older shim: no families */
		}
		break;
	}
	free(line);
	fclose(f);
}

static struct family_tally *find_family(struct job *j, const char *name)
{
	for (int i = 0; i < j->nfams; i++)
		if (!strcmp(j->fams[i].name, name))
			return &j->fams[i];
	j->fams = xrealloc(j->fams, sizeof *j->fams * (size_t)(j->nfams + 1));
	struct family_tally *f = &j->fams[j->nfams++];
	memset(f, 0, sizeof *f);
	snprintf(f->name, sizeof f->name, "%s", name);
	return f;
}

void family_tally(struct job *j, const char *logpath, const struct sig *g)
{
	if (!j->inject_argv)
		return;
	char name[64];
	log_plan(logpath, name, sizeof name);
	struct family_tally *f = find_family(j, name);
	f->runs++;
	if (!g)
		return;
	f->failures++;
	f->repros += g->repro;
	int k;
	for (k = 0; k < f->nsigs && strcmp(f->sigs[k].text, g->text); k++)
		;
	if (k == f->nsigs) {
		f->sigs = xrealloc(f->sigs, sizeof *f->sigs * (size_t)(f->nsigs + 1));
		f->sigs[k].text = g->text;   /* the job's signature entry owns it */
		f->sigs[k].count = 0;
		f->nsigs++;
	}
	f->sigs[k].count++;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct family_tally *)a)->name, ((const struct family_tally *)b)->name);
}

json_t *families_json(struct job *j)
{
	if (!j->inject_argv)
		return json_null();
	qsort(j->fams, (size_t)j->nfams, sizeof *j->fams, by_name);
	json_t *o = json_object();
	for (int i = 0; i < j->nfams; i++) {
		const struct family_tally *f = &j->fams[i];
		json_t *s = json_object();
		for (int k = 0; k < f->nsigs; k++)
			json_object_set_new(s, f->sigs[k].text, json_integer(f->sigs[k].count));
		json_object_set_new(o, f->name,
		                    json_pack("{s:I,s:I,s:I,s:o}", "runs", (json_int_t)f->runs,
		                              "failures", (json_int_t)f->failures, "reproductions",
		                              (json_int_t)f->repros, "signatures", s));
	}
	return o;
}

json_t *shim_only_json(const struct job *j)
{
	if (!j->ctl)
		return json_null();
	const struct job *c = j->ctl;
	double lo, hi;
	wilson(c->failures, c->runs, &lo, &hi);
	return json_pack("{s:I,s:I,s:I,s:f,s:[f,f]}", "runs", (json_int_t)c->runs, "failures",
	                 (json_int_t)c->failures, "reproductions", (json_int_t)c->repros, "rate",
	                 c->runs ? (double)c->failures / (double)c->runs : 0.0, "rate_ci95", lo, hi);
}

char *families_md(struct job *j)
{
	char *s = xstrdup("");
	if (j->inject_argv && j->nfams > 0) {
		qsort(j->fams, (size_t)j->nfams, sizeof *j->fams, by_name);
		char *t = xasprintf("- plan families (failed/runs):");
		free(s);
		s = t;
		for (int i = 0; i < j->nfams; i++) {
			const struct family_tally *f = &j->fams[i];
			t = xasprintf("%s%s %s %lld/%lld", s, i ? "," : "", f->name, f->failures, f->runs);
			free(s);
			s = t;
			for (int k = 0; k < f->nsigs; k++) {
				t = xasprintf("%s%s`%s` x%lld%s", s, k ? ", " : " (", f->sigs[k].text,
				              f->sigs[k].count, k == f->nsigs - 1 ? ")" : "");
				free(s);
				s = t;
			}
		}
		t = xasprintf("%s\n", s);
		free(s);
		s = t;
	}
	if (j->ctl) {
		const struct job *c = j->ctl;
		double lo, hi, clo, chi;
		wilson(j->failures, j->runs, &lo, &hi);
		wilson(c->failures, c->runs, &clo, &chi);
		char *t = xasprintf("%s- without delays (the shim loaded, --prob 0): %lld/%lld failed "
		                    "(%.3g, 95%% CI %.3g-%.3g), beside %lld/%lld with them (%.3g, "
		                    "%.3g-%.3g)\n", s, c->failures, c->runs,
		                    c->runs ? (double)c->failures / (double)c->runs : 0.0, clo, chi,
		                    j->failures, j->runs,
		                    j->runs ? (double)j->failures / (double)j->runs : 0.0, lo, hi);
		free(s);
		s = t;
	}
	return s;
}

char *shim_only_warning(const struct job *j)
{
	const struct job *c = j->ctl;
	if (!c || !c->runs || !c->repros)
		return NULL;
	double lo, hi, clo, chi;
	wilson(j->repros, j->runs, &lo, &hi);
	wilson(c->repros, c->runs, &clo, &chi);
	if (lo > chi)
		return NULL;    /* the delays' rate is above the shim's alone */
	return xasprintf("with the shim loaded and no delay (--prob 0) %lld of %lld runs "
	                 "reproduced (95%% CI %.3g-%.3g), not clearly fewer than %lld of %lld "
	                 "with delays (%.3g-%.3g): loading the shim perturbs timing, and these "
	                 "runs do not show that the delays caused the failures",
	                 c->repros, c->runs, clo, chi, j->repros, j->runs, lo, hi);
}
