/* hunt: the order of the steps, and how hunt ends (a verdict, or an early
 * finish: harness error, usage error, interrupted).  See hunt.h for the
 * method. */
#include "hunt.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/path.h"
#include "campaign.h"
#include "confirm.h"
#include "finish.h"
#include "options.h"
#include "report.h"
#include "screen.h"

/* RESULTS/NAME-<UTC stamp>[-k]/ and its runs/, made with mkdir so that two
 * hunts started in the same second get different folders. */
static void make_dir(struct hunt *h)
{
	if (mkdirs(h->results) < 0)
		harness_fail(h, "cannot create %s: %s", h->results, strerror(errno));
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	char ts[32];
	strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/%s-%s", h->results, h->name, ts);
	for (int k = 2; mkdir(dir, 0755) < 0; k++) {
		if (errno != EEXIST || k > 1000)
			harness_fail(h, "cannot create %s: %s", dir, strerror(errno));
		snprintf(dir, sizeof dir, "%s/%s-%s-%d", h->results, h->name, ts, k);
	}
	char runs[PATH_MAX + 8];
	snprintf(runs, sizeof runs, "%s/runs", dir);
	if (mkdir(runs, 0755) < 0)
		harness_fail(h, "cannot create %s: %s", runs, strerror(errno));
	snprintf(h->dir, sizeof h->dir, "%s", dir);
}

int main(int argc, char **argv)
{
	/* One hunt, handed to every step (static: its confirmation table is
	 * large for a stack). */
	static struct hunt state;
	struct hunt *h = &state;
	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_options(h, argc, argv);
	h->t0 = now_s();
	signals_init();
	if (h->nanalyze) {
		load_analyze(h);
	} else {
		if (!h->binary)
			usage_exit("command not found: %s", h->cmd[0]);
		if (access(h->stress, X_OK) != 0)
			harness_fail(h, "no stress driver at %s (build/stress); use --stress",
				     h->stress);
		if (access(h->inject, X_OK) != 0)
			harness_fail(h, "no inject launcher at %s (build/inject); use --inject",
				     h->inject);
		/* Every flag the runs will get, checked once by the launcher's own
		 * parser before anything runs or is made. */
		struct wv w = {0};
		base_words(h, &w, h->prob_auto ? "0" : h->prob);
		if (h->plan && h->prob_auto) {     /* "0" listed the points instead */
			wv_push(&w, "--plan");
			wv_push(&w, h->plan);
		}
		check_inject_flags(h, &w);
		wv_free(&w);
	}
	make_dir(h);
	if (!h->nanalyze) {
		progress(h, "results in %s, seed %llu", h->dir, (unsigned long long)h->seed);
		baseline(h);
		if (!h->no_sites)
			blind(h);
	}
	h->blind_s = elapsed(h);
	struct row *funcs, *sites;
	int nf, ns;
	rank_screening(h, &funcs, &nf, &sites, &ns);
	if (!h->nanalyze)
		confirmation(h, funcs, nf, sites, ns);
	h->where = "the report";
	if (h->stop_sig || (h->stop_sig = signal_pending_stop(h)))
		finish_early(h, 0);
	int rc = report(h, funcs, nf, sites, ns, 0);
	if (report_write_error()) {
		fflush(stdout);
		fprintf(stderr, "hunt: HARNESS ERROR: %s\n", report_write_error());
	}
	rank_free(funcs, nf);
	rank_free(sites, ns);
	return rc;
}
