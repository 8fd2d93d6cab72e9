/* screen: steps 1 and 2 of hunt.h, the baseline and the blind screening,
 * and the random site subsets that screening and the confirmation's control
 * share. */
#include "screen.h"

#include <stdio.h>
#include <string.h>

#include "campaign.h"
#include "hunt.h"
#include "stats.h"

/* May this site name go into an INJECT_SITES list as itself? */
int targetable(const char *name)
{
	return name[0] && name[0] != '?' && !strpbrk(name, "*?[]!, \t");
}

static void add(char *buf, size_t n, const char *s)
{
	size_t l = strlen(buf);
	snprintf(buf + l, n - l, "%s%s", l ? "," : "", s);
}

int subset_list(char *const *set, int nset, int exact, char *buf, size_t n)
{
	buf[0] = 0;
	int k = 0, first = -1, seen = 0;
	for (int s = 0; s < H.R.nsites; s++) {
		const struct site *st = &H.R.sites[s];
		if (!targetable(st->name))
			continue;
		int in_set = 0;
		for (int j = 0; j < nset && !in_set; j++)
			in_set = strcmp(set[j], exact ? st->name : st->func) == 0;
		if (in_set)
			continue;
		/* Reservoir pick of one site, the fallback for an empty draw. */
		if (urand() < 1.0 / ++seen)
			first = s;
		if (urand() < H.fraction) {
			add(buf, n, st->name);
			k++;
		}
	}
	if (k == 0 && first >= 0) {
		add(buf, n, H.R.sites[first].name);
		k = 1;
	}
	return k;
}

/* Step 1. */
void baseline(void)
{
	struct wv w = {0};
	base_words(&w, "0");
	progress("baseline: %ld runs without delays, listing the lock-release sites", H.baseline);
	campaign("baseline", PH_BASE, &w, H.baseline);
	wv_free(&w);
	long f, p, x;
	rank_outcomes(&H.R, PH_BASE, &f, &p, &x);
	double visits = 0;
	long nr = 0;
	for (int i = 0; i < H.R.nruns; i++) {
		struct run *u = &H.R.runs[i];
		if (u->phase != PH_BASE)
			continue;
		nr++;
		for (int h = 0; h < u->nhits; h++)
			if (targetable(H.R.sites[u->hits[h].site].name))
				visits += u->hits[h].visits;
	}
	H.base_visits = nr ? visits / nr : 0;
	int tg = 0;
	for (int s = 0; s < H.R.nsites; s++)
		tg += targetable(H.R.sites[s].name);
	progress("baseline: %d sites (%d targetable), %.0f visits a run, %ld of %ld runs failed",
		 H.R.nsites, tg, H.base_visits, f, f + p);
	if (tg == 0) {
		/* Not a harness error: /bin/true and /bin/false do this.  But the
		 * shim found nothing to delay, so the runs test nothing; the
		 * report says so instead of a verdict about the command. */
		H.no_sites = 1;
		H.stop_reason = "no lock-release site";
		progress("baseline: no lock-release site to delay; nothing to screen");
		H.blind_done = 1;
		return;
	}
	if (H.prob_auto) {
		double active = H.base_visits * H.fraction;
		double pr = active > 0 ? H.target_delays / active : 0.5;
		if (pr > 0.5)
			pr = 0.5;
		if (pr < 0.001)
			pr = 0.001;
		snprintf(H.prob, sizeof H.prob, "%.3g", pr);
		progress("blind probability %s (aiming at %.0f delays a run)", H.prob,
			 H.target_delays);
	}
}

int significant(const struct row *w)
{
	return w->padj < H.alpha && w->a >= 3 && w->r1 > w->r0;
}

static int blind_should_stop(void)
{
	struct row *rows, *srows;
	int m, n = rank_rows(&H.R, PH_BLIND, 1, &rows, &m);
	int ns = rank_rows(&H.R, PH_BLIND, 0, &srows, &m);
	long f, p, x;
	rank_outcomes(&H.R, PH_BLIND, &f, &p, &x);
	if (n > 0 && ns > 0)
		progress("screening: %ld runs, %ld failures, %ld excluded; top %s %ld/%ld vs "
			 "%ld/%ld (p=%.2g adj), site %s %ld/%ld vs %ld/%ld (p=%.2g adj)", f + p + x,
			 f, x, rows[0].unit, rows[0].a, rows[0].n1, rows[0].c, rows[0].n0,
			 rows[0].padj, srows[0].unit, srows[0].a, srows[0].n1, srows[0].c,
			 srows[0].n0, srows[0].padj);
	int stop = f + p >= H.min_runs && ((n > 0 && significant(&rows[0])) ||
					  (ns > 0 && significant(&srows[0])));
	rank_free(rows, n);
	rank_free(srows, ns);
	return stop;
}

long delayed_runs(int phase)
{
	long k = 0;
	for (int i = 0; i < H.R.nruns; i++) {
		const struct run *u = &H.R.runs[i];
		int d = 0;
		for (int h = 0; u->phase == phase && h < u->nhits && !d; h++)
			d = u->hits[h].delays > 0;
		k += d;
	}
	return k;
}

/* Step 2. */
void blind(void)
{
	static char list[1 << 16];
	H.blind_runs = 0;
	H.stop_reason = "budget";
	for (int b = 0; H.blind_runs < H.max_runs; b++) {
		if (elapsed() > H.time_limit * H.blind_share) {
			H.stop_reason = "time";
			break;
		}
		subset_list(NULL, 0, 0, list, sizeof list);
		struct wv w = {0};
		base_words(&w, H.prob);
		wv_push(&w, "--sites");
		wv_push(&w, list);
		char label[32];
		snprintf(label, sizeof label, "blind-%03d", b);
		long want = H.batch;
		if (want > H.max_runs - H.blind_runs)
			want = H.max_runs - H.blind_runs;
		H.blind_runs += campaign(label, PH_BLIND, &w, want);
		wv_free(&w);
		H.blind_batches++;
		H.blind_delayed = delayed_runs(PH_BLIND);
		if (blind_should_stop()) {
			H.stop_reason = "significant";
			break;
		}
	}
	H.blind_delayed = delayed_runs(PH_BLIND);
	H.blind_done = 1;
}

/* --analyze: every file must be a --record file, and together they must
 * hold runs; anything else is a usage error, before a folder is made. */
void load_analyze(void)
{
	char err[PATH_MAX + 256];
	for (int i = 0; i < H.nanalyze; i++)
		if (runs_load(&H.R, H.analyze[i], PH_BLIND, err, sizeof err) < 0)
			usage_exit("--analyze %s", err);
	if (H.R.nruns == 0)
		usage_exit("--analyze: no runs in %s%s", H.analyze[0],
			   H.nanalyze > 1 ? " and the other files" : "");
	H.blind_runs = H.R.nruns;
	H.blind_delayed = delayed_runs(PH_BLIND);
}
