/* screen: steps 1 and 2 of hunt.h, the baseline and the blind screening,
 * and the random site subsets that screening and the confirmation's control
 * share. */
#include "screen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../injector/spec.h"
#include "campaign.h"
#include "hunt.h"
#include "pairs.h"

static void add(char *buf, size_t n, const char *s)
{
	size_t l = strlen(buf);
	snprintf(buf + l, n - l, "%s%s", l ? "," : "", s);
}

int subset_list(struct hunt *h, char *const *set, int nset, int exact, char *buf, size_t n)
{
	static int drawn[INJ_MAXPAT * 64];
	buf[0] = 0;
	int k = 0, first = -1, seen = 0;
	for (int s = 0; s < h->runs.nsites; s++) {
		const struct site *st = &h->runs.sites[s];
		if (!targetable(st->name))
			continue;
		int in_set = 0;
		for (int j = 0; j < nset && !in_set; j++)
			in_set = strcmp(set[j], exact ? st->name : st->func) == 0;
		if (in_set)
			continue;
		/* Reservoir pick of one site, the fallback for an empty draw. */
		if (urand(h) < 1.0 / ++seen)
			first = s;
		if (urand(h) < h->fraction && k < (int)(sizeof drawn / sizeof *drawn))
			drawn[k++] = s;
	}
	if (k == 0 && first >= 0)
		drawn[k++] = first;
	/* The shim takes at most INJ_MAXPAT patterns in INJECT_SITES, in
	 * INJ_PATBUF - 1 bytes, and refuses more (the launcher's one-line
	 * usage error, which stopped a hunt whose program has more than about
	 * twice as many sites).  A draw past either bound keeps a random part
	 * of it: each site is still in or out by chance, independently of the
	 * runs' outcomes, so a site's delayed and undelayed runs stay
	 * comparable.  A draw within both is written as it was drawn. */
	size_t len = 0;
	for (int i = 0; i < k; i++)
		len += strlen(h->runs.sites[drawn[i]].name) + (i > 0);
	int keep = k;
	if (k > INJ_MAXPAT || len >= INJ_PATBUF) {
		for (int i = 0; i < k - 1; i++) {	/* Fisher-Yates */
			int j = i + (int)(rng(h) % (uint64_t)(k - i));
			int t = drawn[i];
			drawn[i] = drawn[j];
			drawn[j] = t;
		}
		len = 0;
		for (keep = 0; keep < k && keep < INJ_MAXPAT; keep++) {
			size_t l = strlen(h->runs.sites[drawn[keep]].name) + (keep > 0);
			if (len + l >= INJ_PATBUF)
				break;
			len += l;
		}
	}
	for (int i = 0; i < keep; i++)
		add(buf, n, h->runs.sites[drawn[i]].name);
	return keep;
}

/* Step 1. */
void baseline(struct hunt *h)
{
	struct wv w = {0};
	base_words(h, &w, "0");
	progress(h, "baseline: %ld runs without delays, listing the lock-release sites",
		 h->baseline);
	campaign(h, "baseline", PH_BASE, &w, h->baseline);
	wv_free(&w);
	long f, p, x;
	rank_outcomes(&h->runs, PH_BASE, &f, &p, &x);
	double visits = 0;
	long nr = 0;
	for (int i = 0; i < h->runs.nruns; i++) {
		struct run *u = &h->runs.runs[i];
		if (u->phase != PH_BASE)
			continue;
		nr++;
		for (int hi = 0; hi < u->nhits; hi++)
			if (targetable(h->runs.sites[u->hits[hi].site].name))
				visits += u->hits[hi].visits;
	}
	h->base_visits = nr ? visits / nr : 0;
	int tg = 0;
	for (int s = 0; s < h->runs.nsites; s++)
		tg += targetable(h->runs.sites[s].name);
	progress(h, "baseline: %d sites (%d targetable), %.0f visits a run, %ld of %ld runs failed",
		 h->runs.nsites, tg, h->base_visits, f, f + p);
	if (tg == 0) {
		/* Not a harness error: /bin/true and /bin/false do this.  But the
		 * shim found nothing to delay, so the runs test nothing; the
		 * report says so instead of a verdict about the command. */
		h->no_sites = 1;
		h->stop_reason = "no lock-release site";
		progress(h, "baseline: no lock-release site to delay; nothing to screen");
		h->blind_done = 1;
		return;
	}
	if (h->prob_auto) {
		double active = h->base_visits * h->fraction;
		double pr = active > 0 ? h->target_delays / active : 0.5;
		if (pr > 0.5)
			pr = 0.5;
		if (pr < 0.001)
			pr = 0.001;
		snprintf(h->prob, sizeof h->prob, "%.3g", pr);
		progress(h, "blind probability %s (aiming at %.0f delays a run)", h->prob,
			 h->target_delays);
	}
}

int significant(struct hunt *h, const struct row *w)
{
	return w->padj < h->alpha && w->a >= 3 && w->r1 > w->r0;
}

static int blind_should_stop(struct hunt *h)
{
	struct row *rows, *srows;
	int m, n = rank_rows(&h->runs, PH_BLIND, 1, &rows, &m);
	int ns = rank_rows(&h->runs, PH_BLIND, 0, &srows, &m);
	long f, p, x;
	rank_outcomes(&h->runs, PH_BLIND, &f, &p, &x);
	if (n > 0 && ns > 0)
		progress(h, "screening: %ld runs, %ld failures, %ld excluded; top %s %ld/%ld vs "
			 "%ld/%ld (p=%.2g adj), site %s %ld/%ld vs %ld/%ld (p=%.2g adj)", f + p + x,
			 f, x, rows[0].unit, rows[0].a, rows[0].n1, rows[0].c, rows[0].n0,
			 rows[0].padj, srows[0].unit, srows[0].a, srows[0].n1, srows[0].c,
			 srows[0].n0, srows[0].padj);
	/* A failure that needs two delays at once may show no single unit
	 * strongly: a pair whose joint delay fails beyond each alone stops
	 * screening too. */
	struct pair *pairs;
	int np = rank_pairs(&h->runs, PH_BLIND, rows, n, PAIR_TOP, targetable, &pairs);
	if (np > 0 && pair_significant(&pairs[0], h->alpha))
		progress(h, "screening: pair %s + %s: both delayed %ld/%ld vs one %ld/%ld (p=%.2g adj)",
			 pairs[0].a, pairs[0].b, pairs[0].f11, pairs[0].n11, pairs[0].f1,
			 pairs[0].n1, pairs[0].padj);
	int stop = f + p >= h->min_runs && ((n > 0 && significant(h, &rows[0])) ||
					  (ns > 0 && significant(h, &srows[0])) ||
					  (np > 0 && pair_significant(&pairs[0], h->alpha)));
	free(pairs);
	rank_free(rows, n);
	rank_free(srows, ns);
	return stop;
}

long delayed_runs(struct hunt *h, int phase)
{
	long k = 0;
	for (int i = 0; i < h->runs.nruns; i++) {
		const struct run *u = &h->runs.runs[i];
		int d = 0;
		for (int hi = 0; u->phase == phase && hi < u->nhits && !d; hi++)
			d = u->hits[hi].delays > 0;
		k += d;
	}
	return k;
}

/* Step 2. */
void blind(struct hunt *h)
{
	static char list[1 << 16];
	h->blind_runs = 0;
	h->stop_reason = "budget";
	for (int b = 0; h->blind_runs < h->max_runs; b++) {
		if (elapsed(h) > h->time_limit * h->blind_share) {
			h->stop_reason = "time";
			break;
		}
		subset_list(h, NULL, 0, 0, list, sizeof list);
		struct wv w = {0};
		base_words(h, &w, h->prob);
		wv_push(&w, "--sites");
		wv_push(&w, list);
		char label[32];
		snprintf(label, sizeof label, "blind-%03d", b);
		long want = h->batch;
		if (want > h->max_runs - h->blind_runs)
			want = h->max_runs - h->blind_runs;
		h->blind_runs += campaign(h, label, PH_BLIND, &w, want);
		wv_free(&w);
		h->blind_delayed = delayed_runs(h, PH_BLIND);
		if (blind_should_stop(h)) {
			h->stop_reason = "significant";
			break;
		}
	}
	h->blind_delayed = delayed_runs(h, PH_BLIND);
	h->blind_done = 1;
}

/* --analyze: every file must be a --record file, and together they must
 * hold runs; anything else is a usage error, before a folder is made. */
void load_analyze(struct hunt *h)
{
	char err[PATH_MAX + 256];
	for (int i = 0; i < h->nanalyze; i++)
		if (runs_load(&h->runs, h->analyze[i], PH_BLIND, err, sizeof err) < 0)
			usage_exit("--analyze %s", err);
	if (h->runs.nruns == 0)
		usage_exit("--analyze: no runs in %s%s", h->analyze[0],
			   h->nanalyze > 1 ? " and the other files" : "");
	h->blind_runs = h->runs.nruns;
	h->blind_delayed = delayed_runs(h, PH_BLIND);
}
