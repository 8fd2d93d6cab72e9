/* What a finished run adds to its job: the counts (runs, failures,
 * reproductions, CPU time, durations), the table of failure signatures,
 * the first failure and reproduction, the first failure's output, the kept
 * failures' dirs, and what the run's injection log says about reach.  The
 * verdicts and reports are made from these alone.
 */
#include "stress.h"

#include <stdlib.h>
#include <string.h>

/* The job's entry for failure signature TEXT, made on first sight. */
static struct sig *find_sig(struct job *j, const char *text)
{
	for (int i = 0; i < j->nsigs; i++)
		if (!strcmp(j->sigs[i].text, text))
			return &j->sigs[i];
	j->sigs = xrealloc(j->sigs, sizeof *j->sigs * (size_t)(j->nsigs + 1));
	struct sig *g = &j->sigs[j->nsigs++];
	memset(g, 0, sizeof *g);
	g->text = xstrdup(text);
	g->slug = slugify(text);
	g->repro = sig_reproduces(j, text);
	/* Two signatures with one slug would share a directory: tell them apart. */
	for (int i = 0; i < j->nsigs - 1; i++)
		if (!strcmp(j->sigs[i].slug, g->slug)) {
			char *s2 = xasprintf("%s-%d", g->slug, j->nsigs);
			free(g->slug);
			g->slug = s2;
		}
	return g;
}

/* Count whether injection reached the run whose log is LOGPATH (read it
 * before a kept failure takes it); returns the word --record uses. */
const char *tally_injection(struct job *j, const char *logpath)
{
	struct evidence ev;
	read_evidence(logpath, &ev);
	enum reach rc = reach_of(&ev);
	j->inj_reached += rc == REACH_REACHED;
	j->inj_untouched += rc == REACH_UNTOUCHED;
	j->inj_lost += rc == REACH_LOST;
	if (rc != REACH_LOST && ev.fields) {
		j->inj_fielded++;
		if (ev.matched > j->inj_matched_max)
			j->inj_matched_max = ev.matched;
		if (ev.sites > j->inj_sites_max)
			j->inj_sites_max = ev.sites;
	}
	if (ev.full) {
		j->inj_full_runs++;
		j->inj_full_visits += ev.full;
	}
	return reach_name(rc);
}

/* Count run R, which failed with signature SIG (NULL: it passed) T seconds
 * into the job.  Returns the failure's signature entry, or NULL. */
struct sig *tally_run(struct job *j, const struct runinfo *r, const char *sig, double t)
{
	j->runs++;
	j->cpu_s += r->cpu_s;
	if (j->ndur == j->capdur) {
		j->capdur = j->capdur ? j->capdur * 2 : 1024;
		j->dur_ms = xrealloc(j->dur_ms, sizeof *j->dur_ms * j->capdur);
	}
	j->dur_ms[j->ndur++] = r->dur_ms;
	if (!sig)
		return NULL;
	j->failures++;
	struct sig *g = find_sig(j, sig);
	g->count++;
	if (j->nfails == j->capfails) {
		j->capfails = j->capfails ? j->capfails * 2 : 256;
		j->fails = xrealloc(j->fails, sizeof *j->fails * j->capfails);
	}
	j->fails[j->nfails++] = (struct failpt){r->run, t, g->repro};
	if (j->first_run < 0) {
		j->first_run = r->run;
		j->first_s = t;
	}
	if (g->repro) {
		j->repros++;
		if (j->first_repro_run < 0) {
			j->first_repro_run = r->run;
			j->first_repro_s = t;
		}
	}
	if (!j->first_trace) {
		size_t n = r->outlen < 65536 ? r->outlen : 65536;
		j->first_trace = xmalloc(n + 1);
		memcpy(j->first_trace, r->out, n);
		j->first_trace[n] = 0;
	}
	return g;
}

/* A failure of signature G was kept in DIR (relative to the run dir,
 * malloc'd; the job takes it). */
void tally_kept(struct job *j, struct sig *g, char *dir)
{
	g->kept = xrealloc(g->kept, sizeof *g->kept * (size_t)(g->nkept + 1));
	g->kept[g->nkept++] = dir;
	if (!j->first_kept)
		j->first_kept = xstrdup(dir);
}

static int by_count(const void *a, const void *b)
{
	const struct sig *x = *(const struct sig *const *)a, *y = *(const struct sig *const *)b;
	return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->text, y->text);
}

/* The job's signatures, most frequent first (then by text): a malloc'd
 * array of pointers into j->sigs. */
struct sig **sigs_by_count(const struct job *j)
{
	struct sig **v = xmalloc(sizeof *v * (size_t)(j->nsigs + 1));
	for (int i = 0; i < j->nsigs; i++)
		v[i] = &j->sigs[i];
	qsort(v, (size_t)j->nsigs, sizeof *v, by_count);
	return v;
}
