/* confirm: step 4 of hunt.h.  Every test here is made on fresh runs: the
 * screening runs that proposed a candidate never serve as its reference,
 * since the candidate was chosen because those runs favour it (its
 * undelayed screening runs look cleaner than they would on new runs). */
#include "confirm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign.h"
#include "hunt.h"
#include "pairs.h"
#include "screen.h"
#include "stats.h"

static void tally(struct hunt *h, int phase_tag, long *n, long *f)
{
	*n = *f = 0;
	for (int i = 0; i < h->runs.nruns; i++) {
		struct run *u = &h->runs.runs[i];
		if (u->phase != phase_tag || u->outcome == EXCLUDED)
			continue;
		(*n)++;
		*f += u->outcome == FAIL;
	}
}

/* Runs of PHASE (not excluded) in which some site of C's set got a delay. */
static long set_delayed(struct hunt *h, const struct confirm *c, int phase)
{
	long k = 0;
	for (int i = 0; i < h->runs.nruns; i++) {
		const struct run *u = &h->runs.runs[i];
		if (u->phase != phase || u->outcome == EXCLUDED)
			continue;
		int d = 0;
		for (int hi = 0; hi < u->nhits && !d; hi++) {
			if (u->hits[hi].delays <= 0)
				continue;
			const struct site *s = &h->runs.sites[u->hits[hi].site];
			for (int j = 0; j < c->nset && !d; j++)
				d = strcmp(c->set[j], c->exact ? s->name : s->func) == 0;
		}
		k += d;
	}
	return k;
}

/* A phase tag of its own for each confirmation campaign. */
static int new_phase(struct hunt *h)
{
	return PH_CONFIRM + h->confirm_phases++;
}

/* The fresh control of C: the set at probability 0, everything else as in
 * screening (batches of --batch runs, each with a fresh random subset of
 * the other sites, at the screening probability). */
static void control(struct hunt *h, struct confirm *c)
{
	static char list[1 << 16];
	c->ctrl_phase = new_phase(h);
	progress(h, "confirm: control for %s: %ld runs, it at probability 0, the rest as in "
		 "screening", c->sites, h->confirm);
	long done = 0;
	for (int b = 0; done < h->confirm; b++) {
		struct wv w = {0};
		if (subset_list(h, c->set, c->nset, c->exact, list, sizeof list) > 0) {
			base_words(h, &w, h->prob);
			wv_push(&w, "--sites");
			wv_push(&w, list);
		} else {
			base_words(h, &w, "0");	/* no other site: no delay at all */
		}
		char label[64];
		snprintf(label, sizeof label, "confirm-%02d-control-%03d", h->nconf, b);
		long want = h->batch < h->confirm - done ? h->batch : h->confirm - done;
		done += campaign(h, label, c->ctrl_phase, &w, want);
		wv_free(&w);
	}
	tally(h, c->ctrl_phase, &c->ctrl_n, &c->ctrl_f);
}

/* The only-set probability of a set of units.  The screening probability
 * spreads --delays delays a run over every site, so the few that land on
 * one unit make its failures rare: a true culprit failed in 4 of 40 runs
 * against 0 of 40 at the screening's 0.11 (under load), not enough to show
 * anything.  And a failure that needs a set's members delayed in the same
 * run is a product of such rare events.  So the set alone gets the
 * probability that aims the screening's delays a run at its own visits in
 * the baseline, capped at 0.5 as in screening, never below the
 * screening's; with --prob given, the set keeps it.  The control and the
 * except-set runs keep the screening's. */
static void set_prob(struct hunt *h, char *const *set, int nset, int exact, char *out, size_t n)
{
	snprintf(out, n, "%s", h->prob);
	if (!h->prob_auto)
		return;
	double visits = 0;
	long nr = 0;
	for (int i = 0; i < h->runs.nruns; i++) {
		const struct run *u = &h->runs.runs[i];
		if (u->phase != PH_BASE)
			continue;
		nr++;
		for (int k = 0; k < u->nhits; k++) {
			const struct site *s = &h->runs.sites[u->hits[k].site];
			for (int j = 0; j < nset; j++)
				if (strcmp(set[j], exact ? s->name : s->func) == 0) {
					visits += u->hits[k].visits;
					break;
				}
		}
	}
	double pr = nr && visits > 0 ? h->target_delays / (visits / nr) : 0.5;
	if (pr > 0.5)
		pr = 0.5;
	if (pr > atof(h->prob))
		snprintf(out, n, "%.3g", pr);
}

/* Step 4: one set; the except-set campaign only when asked; the control
 * borrowed from BORROW when given (narrowing: a site of a function whose
 * control delayed no site of that function). */
static struct confirm *confirm_set(struct hunt *h, char **set, int nset, int exact, int with_except,
				   const struct confirm *borrow)
{
	if (h->nconf >= MAX_CONF)
		return NULL;
	struct confirm *c = &h->conf[h->nconf++];
	memset(c, 0, sizeof *c);
	c->nset = nset;
	c->exact = exact;
	for (int i = 0; i < nset; i++) {
		c->set[i] = set[i];
		size_t l = strlen(c->sites);
		snprintf(c->sites + l, sizeof c->sites - l, "%s%s", i ? "," : "", set[i]);
	}
	set_prob(h, set, nset, exact, c->prob, sizeof c->prob);
	struct wv w = {0};
	base_words(h, &w, c->prob);
	wv_push(&w, "--sites");
	wv_push(&w, c->sites);
	char label[64];
	snprintf(label, sizeof label, "confirm-%02d-only", h->nconf);
	progress(h, "confirm: delay only %s (%ld runs, --prob %s)", c->sites, h->confirm, c->prob);
	c->only_phase = new_phase(h);
	campaign(h, label, c->only_phase, &w, h->confirm);
	wv_free(&w);
	tally(h, c->only_phase, &c->only_n, &c->only_f);
	c->only_delayed = set_delayed(h, c, c->only_phase);
	if (borrow) {
		c->ctrl_of = borrow;
		c->ctrl_phase = borrow->ctrl_phase;
		c->ctrl_n = borrow->ctrl_n;
		c->ctrl_f = borrow->ctrl_f;
	} else {
		control(h, c);
	}
	c->p_suff = fisher_greater(c->only_f, c->only_n, c->ctrl_f, c->ctrl_n);
	/* A set never delayed in its own runs cannot have caused their failures. */
	c->sufficient = c->only_f > 0 && c->only_delayed > 0 &&
			bonferroni(c->p_suff, h->conf_tests) < h->alpha;
	c->tested = 1;
	c->p_need = 1;
	if (with_except) {
		char except[sizeof c->sites + 8 * 2];
		except[0] = 0;
		for (int i = 0; i < nset; i++) {
			size_t l = strlen(except);
			snprintf(except + l, sizeof except - l, "%s!%s", i ? "," : "", set[i]);
		}
		base_words(h, &w, h->prob);
		wv_push(&w, "--sites");
		wv_push(&w, except);
		snprintf(label, sizeof label, "confirm-%02d-except", h->nconf);
		progress(h, "confirm: delay everything except %s (%ld runs)", c->sites, h->confirm);
		c->except_phase = new_phase(h);
		campaign(h, label, c->except_phase, &w, h->confirm);
		wv_free(&w);
		tally(h, c->except_phase, &c->except_n, &c->except_f);
		c->p_need = fisher_greater(c->only_f, c->only_n, c->except_f, c->except_n);
		c->needed = c->only_f > 0 && bonferroni(c->p_need, h->conf_tests) < h->alpha;
	}
	c->done = 1;
	progress(h, "confirm: only %s %ld/%ld, delayed in %ld (sufficient: %s, p=%.2g vs control "
		 "%ld/%ld)", c->sites, c->only_f, c->only_n, c->only_delayed,
		 c->sufficient ? "yes" : "no", c->p_suff, c->ctrl_f, c->ctrl_n);
	if (with_except)
		progress(h, "confirm: except %s %ld/%ld (needed: %s, p=%.2g)", c->sites,
			 c->except_f, c->except_n, c->needed ? "yes" : "no", c->p_need);
	return c;
}

static int time_for(struct hunt *h, long runs);

/* The most screening runs the pair stage makes, and the fewest before it may
 * stop on a significant pair. */
#define PAIR_RUNS 80
#define PAIR_MIN_RUNS 20

/* The pair stage's rows (none when it did not run). */
static int pairs_of_stage(struct hunt *h, struct pair **out)
{
	*out = NULL;
	if (!h->pair_phase)
		return 0;
	return stage_pairs(&h->runs, h->pair_phase, h->pair_units, h->npair_units,
			   h->pair_anchor, out);
}

/* The pair stage: fresh runs that delay random subsets of the
 * PAIR_STAGE_TOP function units with the smallest screening p (each in with
 * chance --fraction), at the probability that aims --delays at those units'
 * own visits.  At the screening's probability, spread over every site, two
 * delays that must meet in one run rarely do; here they meet in every run
 * whose subset holds both, so a pair's joint effect shows against each
 * alone.  Rows of these runs rank the pairs (pairs.h); the top-unit choice
 * came from other runs, so it does not favour them.
 *
 * Without ANCHOR_OF it runs after no single candidate was confirmed.  With
 * ANCHOR_OF (a confirmed single) the single is one of the units, in every
 * run's subset, and the runs keep its confirmed probability; so a pair
 * (single, X) compares runs that delayed X beside the single with runs that
 * delayed the single alone: does X add to it?  The other pairs' rows are
 * kept (and counted in the Bonferroni), but only the single's pairs are
 * candidates (confirmation). */
static void pair_stage(struct hunt *h, struct row *funcs, int nfuncs,
		       const struct confirm *anchor_of)
{
	const char *anchor = anchor_of ? anchor_of->set[0] : NULL;
	static char list[1 << 16];
	char *top[PAIR_STAGE_TOP];
	int k = 0;
	struct pair *pairs;
	int np;
	int used[1024] = {0};
	for (int i = 0; anchor && i < nfuncs && i < 1024; i++)
		if (strcmp(funcs[i].unit, anchor) == 0) {
			used[i] = 1;
			h->pair_units[k] = funcs[i];
			top[k++] = funcs[i].unit;
		}
	if (anchor && k == 0)
		return;
	/* The others (all, without an anchor): the smallest p. */
	for (; k < PAIR_STAGE_TOP; k++) {
		int best = -1;
		for (int i = 0; i < nfuncs && i < 1024; i++) {
			const struct row *w = &funcs[i];
			if (used[i] || !(w->n1 > 0 && w->n0 > 0 && !w->after_failure) ||
			    !targetable(w->unit))
				continue;
			if (best < 0 || w->p < funcs[best].p)
				best = i;
		}
		if (best < 0)
			break;
		used[best] = 1;
		h->pair_units[k] = funcs[best];
		top[k] = funcs[best].unit;
	}
	h->npair_units = k;
	if (k < 2)
		return;
	/* Anchored, the single's own confirmed probability: runs that delay no
	 * partner repeat its confirmation, and a partner is delayed as the
	 * single is (aimed at the six units' visits, the single's delays would
	 * thin out: hunt_pair's halves then met in 25/38 runs' failures where
	 * the pair alone fails 40/40, and no partner stood out). */
	char prob[32];
	if (anchor_of)
		snprintf(prob, sizeof prob, "%s", anchor_of->prob);
	else
		set_prob(h, top, k, 0, prob, sizeof prob);
	h->pair_phase = new_phase(h);
	h->pair_anchor = anchor;
	if (anchor)
		progress(h, "pairs: does a partner add to %s? up to %d runs delaying it and random "
			 "subsets of the %d other functions with the smallest p (--prob %s)", anchor,
			 PAIR_RUNS, k - 1, prob);
	else
		progress(h, "pairs: up to %d runs delaying random subsets of the %d functions with "
			 "the smallest p (--prob %s)", PAIR_RUNS, k, prob);
	long done = 0;
	for (int b = 0; done < PAIR_RUNS; b++) {
		if (!time_for(h, h->batch))
			break;
		list[0] = 0;
		int n = 0;
		for (int i = 0; i < k; i++)
			if ((anchor && i == 0) || urand(h) < h->fraction) {
				size_t l = strlen(list);
				snprintf(list + l, sizeof list - l, "%s%s", n++ ? "," : "", top[i]);
			}
		if (n == 0)
			snprintf(list, sizeof list, "%s", top[rng(h) % (uint64_t)k]);
		struct wv w = {0};
		base_words(h, &w, prob);
		wv_push(&w, "--sites");
		wv_push(&w, list);
		char label[32];
		snprintf(label, sizeof label, "pairs-%03d", b);
		done += campaign(h, label, h->pair_phase, &w, h->batch);
		wv_free(&w);
		if (done < PAIR_MIN_RUNS)
			continue;
		np = pairs_of_stage(h, &pairs);
		int stop = np > 0 && pair_significant(&pairs[0], h->alpha);
		if (np > 0)
			progress(h, "pairs: %ld runs; top %s + %s: both delayed %ld/%ld vs one %ld/%ld "
				 "(p=%.2g adj)", done, pairs[0].a, pairs[0].b, pairs[0].f11,
				 pairs[0].n11, pairs[0].f1, pairs[0].n1, pairs[0].padj);
		free(pairs);
		if (stop)
			break;
	}
}

static int time_for(struct hunt *h, long runs)
{
	/* Estimate from the runs so far: wall seconds per run. */
	double per = h->total_runs ? elapsed(h) / h->total_runs : 0.5;
	return elapsed(h) + per * runs < h->time_limit;
}

/* A confirmed single that fails in fewer than half of its own runs may be
 * one half of a failure that needs two delays: tests/progs/hunt_pair.c's
 * second_half alone was confirmed at 7/40 (its partner naps by itself now
 * and then), where the pair fails 38/40.  The anchored pair stage looks for
 * a partner that adds to it; the best significant one is confirmed as a
 * set, and replaces the single when it is both sufficient and needed and
 * its only-set runs fail more than the single's (one-sided Fisher).  Those
 * three tests are in conf_tests from the start.  A single that fails in
 * half or more of its runs leaves a partner little to add, and hunt does
 * not spend the runs. */
static struct confirm *partner(struct hunt *h, struct confirm *single, struct row *funcs,
			       int nfuncs)
{
	if (2 * single->only_f >= single->only_n || h->nconf >= MAX_CONF)
		return single;
	if (!time_for(h, PAIR_RUNS + 3 * h->confirm)) {
		h->conf_note = "the time limit left no time to look for a partner of the single";
		return single;
	}
	pair_stage(h, funcs, nfuncs, single);
	struct pair *pairs;
	int np = pairs_of_stage(h, &pairs);
	char *set[2] = {NULL, NULL};
	for (int i = 0; i < np && !set[0]; i++)
		if (pair_significant(&pairs[i], h->alpha)) {
			set[0] = pairs[i].a;
			set[1] = pairs[i].b;
		}
	free(pairs);
	if (!set[0])
		return single;
	h->npairs = 1;
	h->ncand++;
	struct confirm *c = confirm_set(h, set, 2, 0, 1, NULL);
	if (!c || !c->sufficient || !c->needed)
		return single;
	double p = fisher_greater(c->only_f, c->only_n, single->only_f, single->only_n);
	progress(h, "confirm: %s %ld/%ld against %s alone %ld/%ld (p=%.2g)", c->sites, c->only_f,
		 c->only_n, single->sites, single->only_f, single->only_n, p);
	if (bonferroni(p, h->conf_tests) >= h->alpha)
		return single;
	single->replaced = 1;
	h->superseded = single;
	h->p_more = p;
	return c;
}

/* Step 4, the driver: singles in rank order, then the significant pairs,
 * then a growing union. */
#define MAX_PAIRS 2
void confirmation(struct hunt *h, struct row *funcs, int nfuncs, struct row *sites, int nsites)
{
	/* Candidates: functions, in the order of their best evidence, from the
	 * function's own row or from its best site's row. */
	char *cand[8];
	int nc = 0;
	int fi = 0, si = 0;
	while (nc < h->top && (fi < nfuncs || si < nsites)) {
		struct row *w;
		if (si >= nsites || (fi < nfuncs && funcs[fi].padj <= sites[si].padj))
			w = &funcs[fi++];
		else
			w = &sites[si++];
		if (!significant(h, w))
			continue;
		char *f = site_func(w->unit);
		int dup = !targetable(f);
		for (int k = 0; k < nc && !dup; k++)
			dup = strcmp(cand[k], f) == 0;
		if (!dup) {
			for (int k = 0; k < nfuncs; k++)
				if (strcmp(funcs[k].unit, f) == 0)
					cand[nc++] = funcs[k].unit;
		}
		free(f);
	}
	h->ncand = nc;
	/* Failures but no single candidate: a failure that needs two delays
	 * at once may leave every single unit weak; the pair stage below
	 * looks for it. */
	int failures = 0;
	for (int i = 0; i < h->runs.nruns && !failures; i++)
		failures = h->runs.runs[i].phase == PH_BLIND && h->runs.runs[i].outcome == FAIL;
	if (nc == 0 && !failures)
		return;
	/* A set: the significant candidates, then functions whose delays look
	 * harmful before correction (a failure that needs two delays shows each
	 * one only weakly). */
	int nsingle = nc;
	for (int i = 0; i < nfuncs && nc < h->top; i++) {
		struct row *w = &funcs[i];
		int dup = !targetable(w->unit) || w->p >= h->alpha || w->r1 <= w->r0;
		for (int k = 0; k < nc && !dup; k++)
			dup = strcmp(cand[k], w->unit) == 0;
		if (!dup)
			cand[nc++] = w->unit;
	}
	/* Bonferroni over every test this stage may make, fixed before the
	 * first result: two per single, two per significant pair, two per union
	 * of 2..nc candidates, the narrowing of a function culprit to one site,
	 * and the partner search's three (its pair sufficient and needed, and
	 * failing more than the single). */
	h->conf_tests = 2 * nsingle + 2 * MAX_PAIRS + 2 * (nc > 1 ? nc - 1 : 0) + 1 + 3;
	struct confirm *found = NULL;
	for (int i = 0; i < nsingle && !found; i++) {
		if (!time_for(h, 3 * h->confirm)) {
			h->conf_note = "the time limit cut confirmation short";
			break;
		}
		struct confirm *c = confirm_set(h, &cand[i], 1, 0, 1, NULL);
		if (c && c->sufficient && c->needed)
			found = c;
	}
	if (found)
		found = partner(h, found, funcs, nfuncs);
	char *pset[MAX_PAIRS][2];
	int npair = 0;
	if (!found && time_for(h, PAIR_RUNS + 3 * h->confirm)) {
		pair_stage(h, funcs, nfuncs, NULL);
		struct pair *pairs;
		int np = pairs_of_stage(h, &pairs);
		for (int i = 0; i < np && npair < MAX_PAIRS; i++)
			if (pair_significant(&pairs[i], h->alpha)) {
				pset[npair][0] = pairs[i].a;
				pset[npair][1] = pairs[i].b;
				npair++;
			}
		free(pairs);
		h->npairs = npair;
		h->ncand += npair;
	} else if (!found && nc == 0) {
		h->conf_note = "the time limit left no time for the pair stage";
	}
	for (int i = 0; i < npair && !found; i++) {
		if (!time_for(h, 3 * h->confirm)) {
			h->conf_note = "the time limit cut confirmation short";
			break;
		}
		struct confirm *c = confirm_set(h, pset[i], 2, 0, 1, NULL);
		if (c && c->sufficient && c->needed)
			found = c;
	}
	for (int k = 2; !found && k <= nc; k++) {
		if (!time_for(h, 3 * h->confirm)) {
			h->conf_note = "the time limit cut confirmation short";
			break;
		}
		struct confirm *c = confirm_set(h, cand, k, 0, 1, NULL);
		if (c && c->sufficient && c->needed)
			found = c;
	}
	if (!found) {
		/* No set both: name the best sufficient single, flagged not needed. */
		for (int i = 0; i < h->nconf && !found; i++)
			if (h->conf[i].sufficient)
				found = &h->conf[i];
	}
	if (!found)
		return;
	h->culprit = found;
	/* Narrow a single function to its top exact site. */
	if (found->nset != 1)
		return;
	int nsites_in = 0, best = -1;
	for (int i = 0; i < nsites; i++) {
		char *f = site_func(sites[i].unit);
		if (strcmp(f, found->set[0]) == 0 && sites[i].n1 > 0) {
			nsites_in++;
			if (best < 0)
				best = i;
		}
		free(f);
	}
	if (best < 0 || !targetable(sites[best].unit))
		return;
	if (nsites_in == 1) {
		h->exact_site = sites[best].unit;
		return;
	}
	if (!time_for(h, h->confirm))
		return;
	char *one = sites[best].unit;
	struct confirm *c = confirm_set(h, &one, 1, 1, 0, found);
	if (c && c->sufficient)
		h->exact_site = sites[best].unit;
}
