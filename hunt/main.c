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

#include "campaign.h"
#include "confirm.h"
#include "finish.h"
#include "options.h"
#include "report.h"
#include "screen.h"
#include "sutil.h"

struct hunt H;

/* RESULTS/NAME-<UTC stamp>[-k]/ and its runs/, made with mkdir so that two
 * hunts started in the same second get different folders. */
static void make_dir(void)
{
	if (mkdirs(H.results) < 0)
		harness_fail("cannot create %s: %s", H.results, strerror(errno));
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	char ts[32];
	strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/%s-%s", H.results, H.name, ts);
	for (int k = 2; mkdir(dir, 0755) < 0; k++) {
		if (errno != EEXIST || k > 1000)
			harness_fail("cannot create %s: %s", dir, strerror(errno));
		snprintf(dir, sizeof dir, "%s/%s-%s-%d", H.results, H.name, ts, k);
	}
	char runs[PATH_MAX + 8];
	snprintf(runs, sizeof runs, "%s/runs", dir);
	if (mkdir(runs, 0755) < 0)
		harness_fail("cannot create %s: %s", runs, strerror(errno));
	snprintf(H.dir, sizeof H.dir, "%s", dir);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_options(argc, argv);
	H.t0 = now_s();
	signals_init();
	if (H.nanalyze) {
		load_analyze();
	} else {
		if (!H.binary)
			usage_exit("command not found: %s", H.cmd[0]);
		if (access(H.stress, X_OK) != 0)
			harness_fail("no stress driver at %s (build/stress); use --stress", H.stress);
		if (access(H.inject, X_OK) != 0)
			harness_fail("no inject launcher at %s (build/inject); use --inject", H.inject);
		/* Every flag the runs will get, checked once by the launcher's own
		 * parser before anything runs or is made. */
		struct wv w = {0};
		base_words(&w, H.prob_auto ? "0" : H.prob);
		check_inject_flags(&w);
		wv_free(&w);
	}
	make_dir();
	if (!H.nanalyze) {
		progress("results in %s, seed %llu", H.dir, (unsigned long long)H.seed);
		baseline();
		if (!H.no_sites)
			blind();
	}
	H.blind_s = elapsed();
	struct row *funcs, *sites;
	int mf, ms;
	int nf = rank_rows(&H.R, PH_BLIND, 1, &funcs, &mf);
	int ns = rank_rows(&H.R, PH_BLIND, 0, &sites, &ms);
	H.tested_funcs = mf;
	H.tested_sites = ms;
	if (!H.nanalyze)
		confirmation(funcs, nf, sites, ns);
	H.where = "the report";
	if (H.stop_sig || (H.stop_sig = signal_pending_stop()))
		finish_early(0);
	int rc = report(funcs, nf, sites, ns, 0);
	if (report_write_error()) {
		fflush(stdout);
		fprintf(stderr, "hunt: HARNESS ERROR: %s\n", report_write_error());
	}
	rank_free(funcs, nf);
	rank_free(sites, ns);
	return rc;
}
