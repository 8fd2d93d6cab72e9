/* rank: per-unit 2x2 tables, Wilson intervals and Fisher p-values. */
#include "rank.h"

#include "hunt.h"

#include <stdlib.h>
#include <string.h>

#include "../common/wilson.h"
#include "stats.h"

void rank_outcomes(const struct runs *r, int phase, long *fail, long *pass, long *excl)
{
	*fail = *pass = *excl = 0;
	for (int i = 0; i < r->nruns; i++) {
		const struct run *u = &r->runs[i];
		if (phase >= 0 && u->phase != phase)
			continue;
		if (u->outcome == FAIL)
			(*fail)++;
		else if (u->outcome == PASS)
			(*pass)++;
		else
			(*excl)++;
	}
}

static int cmp_rows(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	if (a->padj != b->padj)
		return a->padj < b->padj ? -1 : 1;
	if (a->p != b->p)
		return a->p < b->p ? -1 : 1;
	double da = a->r1 - a->r0, db = b->r1 - b->r0;
	if (da != db)
		return da > db ? -1 : 1;
	return strcmp(a->unit, b->unit);
}

int rank_rows(const struct runs *r, int phase, int by_func, struct row **out, int *tested)
{
	/* Units: sites, or distinct function names. */
	int nunits = 0;
	char **names = calloc(r->nsites + 1, sizeof *names);
	int *unit_of = calloc(r->nsites + 1, sizeof *unit_of);
	for (int s = 0; s < r->nsites; s++) {
		const char *n = by_func ? r->sites[s].func : r->sites[s].name;
		int k;
		for (k = 0; k < nunits; k++)
			if (strcmp(names[k], n) == 0)
				break;
		if (k == nunits)
			names[nunits++] = strdup(n);
		unit_of[s] = k;
	}
	struct row *rows = calloc(nunits + 1, sizeof *rows);
	double *delay = calloc(nunits + 1, sizeof *delay);
	long *dl = calloc(nunits + 1, sizeof *dl), *vis = calloc(nunits + 1, sizeof *vis);
	double *dns = calloc(nunits + 1, sizeof *dns);
	char *pass_seen = calloc(nunits + 1, 1);
	/* Sites that only failing runs visit (a crash handler's locks, the
	 * unwinder printing stacks) follow the failure instead of causing it:
	 * every run that visits them fails.  Only units that some passing run
	 * visited are tested. */
	for (int i = 0; i < r->nruns; i++) {
		const struct run *u = &r->runs[i];
		if (u->outcome != PASS)
			continue;
		for (int h = 0; h < u->nhits; h++)
			if (u->hits[h].visits > 0 || u->hits[h].delays > 0)
				pass_seen[unit_of[u->hits[h].site]] = 1;
	}
	for (int i = 0; i < r->nruns; i++) {
		const struct run *u = &r->runs[i];
		if ((phase >= 0 && u->phase != phase) || u->outcome == EXCLUDED)
			continue;
		memset(dl, 0, nunits * sizeof *dl);
		memset(vis, 0, nunits * sizeof *vis);
		memset(dns, 0, nunits * sizeof *dns);
		for (int h = 0; h < u->nhits; h++) {
			int k = unit_of[u->hits[h].site];
			dl[k] += u->hits[h].delays;
			vis[k] += u->hits[h].visits;
			dns[k] += u->hits[h].delay_ns;
		}
		int failed = u->outcome == FAIL;
		for (int k = 0; k < nunits; k++) {
			struct row *w = &rows[k];
			if (vis[k] > 0 || dl[k] > 0)
				w->visited++;
			if (dl[k] > 0) {
				w->n1++;
				w->a += failed;
				delay[k] += dns[k];
			} else {
				w->n0++;
				w->c += failed;
			}
		}
	}
	int m = 0;
	for (int k = 0; k < nunits; k++) {
		struct row *w = &rows[k];
		w->unit = names[k];
		w->func = by_func;
		w->r1 = w->n1 ? (double)w->a / w->n1 : 0;
		w->r0 = w->n0 ? (double)w->c / w->n0 : 0;
		wilson(w->a, w->n1, &w->lo1, &w->hi1);
		wilson(w->c, w->n0, &w->lo0, &w->hi0);
		w->after_failure = !pass_seen[k];
		w->p = w->after_failure ? 1 : fisher_greater(w->a, w->n1, w->c, w->n0);
		w->delay_ms = w->n1 ? delay[k] / w->n1 / 1e6 : 0;
		strcpy(w->where, "-");
		if (w->n1 > 0 && w->n0 > 0 && !w->after_failure)
			m++;
	}
	for (int k = 0; k < nunits; k++)
		rows[k].padj = bonferroni(rows[k].p, m);
	qsort(rows, nunits, sizeof *rows, cmp_rows);
	free(names);
	free(unit_of);
	free(delay);
	free(dl);
	free(vis);
	free(dns);
	free(pass_seen);
	*out = rows;
	*tested = m;
	return nunits;
}

void rank_free(struct row *rows, int n)
{
	for (int k = 0; k < n; k++)
		free(rows[k].unit);
	free(rows);
}

void rank_screening(struct hunt *h, struct row **funcs, int *nf, struct row **sites, int *ns)
{
	*nf = rank_rows(&h->runs, PH_BLIND, 1, funcs, &h->tested_funcs);
	*ns = rank_rows(&h->runs, PH_BLIND, 0, sites, &h->tested_sites);
}
