/* pairs: two-site rows from the screening runs (see pairs.h). */
#include "pairs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static int cmp_pairs(const void *x, const void *y)
{
	const struct pair *a = x, *b = y;
	if (a->padj != b->padj)
		return a->padj < b->padj ? -1 : 1;
	if (a->p != b->p)
		return a->p < b->p ? -1 : 1;
	int c = strcmp(a->a, b->a);
	return c ? c : strcmp(a->b, b->b);
}

int rank_pairs(const struct runs *r, int phase, const struct row *rows, int nrows, int top_n,
	       int (*ok)(const char *unit), struct pair **out)
{
	/* The units: tested (delayed in some runs, not in others, visited by
	 * a passing run), targetable, the PAIR_TOP smallest uncorrected p. */
	const struct row *top[PAIR_TOP];
	int k = 0;
	const struct row **all = malloc(sizeof *all * (size_t)(nrows + 1));
	int na = 0;
	for (int i = 0; i < nrows; i++) {
		const struct row *w = &rows[i];
		if (w->n1 > 0 && w->n0 > 0 && !w->after_failure && ok(w->unit))
			all[na++] = w;
	}
	if (top_n > PAIR_TOP)
		top_n = PAIR_TOP;
	for (; k < top_n && k < na; k++) {      /* selection by p, then rank order */
		int best = k;
		for (int i = k + 1; i < na; i++)
			if (all[i]->p < all[best]->p)
				best = i;
		const struct row *t = all[k];
		all[k] = all[best];
		all[best] = t;
		top[k] = all[k];
	}
	free(all);
	/* Which of the K units each site belongs to (-1: none), then one bit
	 * per unit and run: was it delayed?  Pairs then cost a bit test per
	 * run, not a walk over the run's sites (screening asks after every
	 * batch). */
	int *unit_of = malloc(sizeof *unit_of * (size_t)(r->nsites + 1));
	for (int s = 0; s < r->nsites; s++) {
		unit_of[s] = -1;
		for (int i = 0; i < k && unit_of[s] < 0; i++)
			if (strcmp(r->sites[s].func, top[i]->unit) == 0)
				unit_of[s] = i;
	}
	uint64_t *del = calloc((size_t)r->nruns + 1, sizeof *del);
	for (int x = 0; x < r->nruns; x++) {
		const struct run *u = &r->runs[x];
		for (int h = 0; h < u->nhits; h++)
			if (u->hits[h].delays > 0 && unit_of[u->hits[h].site] >= 0)
				del[x] |= 1ULL << unit_of[u->hits[h].site];
	}
	int np = k * (k - 1) / 2;
	struct pair *v = calloc((size_t)np + 1, sizeof *v);
	int n = 0;
	for (int i = 0; i < k; i++)
		for (int j = i + 1; j < k; j++) {
			struct pair *p = &v[n++];
			p->a = top[i]->unit;
			p->b = top[j]->unit;
			for (int x = 0; x < r->nruns; x++) {
				const struct run *u = &r->runs[x];
				if ((phase >= 0 && u->phase != phase) || u->outcome == EXCLUDED)
					continue;
				int d = (int)(del[x] >> i & 1) + (int)(del[x] >> j & 1);
				int f = u->outcome == FAIL;
				if (d == 2)
					p->n11++, p->f11 += f;
				else if (d == 1)
					p->n1++, p->f1 += f;
				else
					p->n0++, p->f0 += f;
			}
			p->p = fisher_greater(p->f11, p->n11, p->f1, p->n1);
		}
	free(unit_of);
	free(del);
	for (int i = 0; i < n; i++)
		v[i].padj = bonferroni(v[i].p, n);
	qsort(v, (size_t)n, sizeof *v, cmp_pairs);
	*out = v;
	return n;
}

int stage_pairs(const struct runs *r, int phase, const struct row *units, int n,
		const char *anchor, struct pair **out)
{
	int np = rank_pairs(r, phase, units, n, PAIR_STAGE_TOP, targetable, out);
	if (!anchor)
		return np;
	int k = 0;
	for (int i = 0; i < np; i++)
		if (strcmp((*out)[i].a, anchor) == 0 || strcmp((*out)[i].b, anchor) == 0)
			(*out)[k++] = (*out)[i];
	return k;
}

int pair_significant(const struct pair *p, double alpha)
{
	return p->padj < alpha && p->f11 >= 3 && p->n11 > 0 && p->n1 > 0 &&
	       (double)p->f11 / p->n11 > (double)p->f1 / p->n1;
}
