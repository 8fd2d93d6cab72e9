/* hunt: find the lock-release site whose delay makes a program fail.
 *
 * The method, as numbered steps (main.c drives them; README.md has the
 * user's view):
 *   1. Baseline.  `stress` runs the command a few times under the shim with
 *      probability 0: the injection logs list every lock-release site the
 *      program visits, and the runs give the failure rate without delays.
 *   2. Blind screening.  Batches of runs, each batch with a fresh random
 *      subset of the sites (each site in with probability --fraction),
 *      delayed with per-visit probability --prob and a log-uniform delay.
 *      Randomising which sites may be delayed makes the activation of one
 *      site independent of every other, so a harmless site cannot inherit
 *      the culprit's correlation with failure (with one global probability
 *      every busy site is delayed in every run, and all look guilty).
 *   3. Ranking.  Per site, and per function (all its sites together): the
 *      failure rate of runs where it was delayed against runs where it was
 *      not, 95% Wilson intervals, a one-sided Fisher exact test,
 *      Bonferroni-corrected across the units tested.  Screening stops as
 *      soon as the top function is significant (or the budget runs out).
 *   4. Confirmation, on fresh runs: for the top candidates, delay only the
 *      set (`--sites F`) and delay everything except it (`--sites '!F'`).
 *      Sufficient: only-set runs fail more than screening runs in which the
 *      set was not delayed.  Needed: only-set runs fail more than
 *      except-set runs.  Both one-sided Fisher, Bonferroni across the sets
 *      tried.  The set grows greedily, in rank order, until it is needed;
 *      the culprit is the set when it is also sufficient.  A function
 *      culprit is then narrowed to its top exact site when that alone is
 *      sufficient.
 *   5. Report: ranked table with DWARF file:line, the plan as a ready
 *      `inject` command line, hunt.txt, hunt.json, failure-rate.svg.
 */
#ifndef HUNT_H
#define HUNT_H

#include <limits.h>
#include <stdint.h>

#include "rank.h"
#include "runs.h"

/* Phase tags of loaded runs. */
enum { PH_BASE = 1, PH_BLIND = 2, PH_CONFIRM = 3 };

struct confirm {
	char sites[4096];	/* the --sites value of the only-set campaign */
	int nset;
	char *set[8];
	long only_n, only_f, except_n, except_f;
	long ref_n, ref_f;	/* screening runs without the set delayed */
	double p_suff, p_need;
	int sufficient, needed, exact;	/* exact: a single exact site */
	int only_phase, except_phase;
};

#define MAX_CONF 16
#define MAX_ANALYZE 64

struct hunt {
	/* options */
	int procs, quiet, prob_auto, top;
	const char *timeout, *delay, *results, *name, *extra, *binary, *stress, *inject;
	char prob[32];
	double target_delays, fraction, alpha, time_limit, blind_share;
	long batch, min_runs, max_runs, baseline, confirm;
	uint64_t seed, rng;
	const char *analyze[MAX_ANALYZE];
	int nanalyze;
	char **cmd;
	int ncmd;
	/* state */
	struct runs R;
	char dir[PATH_MAX];
	double t0, blind_s, base_visits;
	long stress_calls, total_runs, blind_runs, blind_batches;
	const char *stop_reason, *conf_note, *inject_rel;
	struct confirm conf[MAX_CONF];
	int nconf, conf_tests, ncand, tested_funcs, tested_sites;
	struct confirm *culprit, *exact_conf;
	const char *exact_site;
	int no_sites;	/* the baseline visited no site hunt can delay */
};

extern struct hunt H;

double now_s(void);
double elapsed(void);
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
