/* hunt: find the lock-release site whose delay makes a program fail.
 *
 * The method, as numbered steps (README.md has the user's view):
 *   0. Check.  Before anything is made, every option is validated as stress
 *      and inject will read it (durations in common/duration.h's grammar,
 *      which stress reads too; the inject flags by `inject --check`): a bad
 *      value is a usage error (64).
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
 *      soon as the top function or the top site is significant, after
 *      --min-runs (or when --max-runs or its share of --time-limit is
 *      spent).
 *   4. Confirmation, on fresh runs only (never the screening runs that chose
 *      the candidate): for each candidate set, three campaigns.  Only: delay
 *      the set alone (`--sites F`).  Control: the set at probability 0 and
 *      everything else as in screening (batches with fresh random subsets
 *      of the other sites).  Except: delay everything but the set
 *      (`--sites '!F'`).  Sufficient: only-set runs fail more than the
 *      control's, and the set was delayed in them.  Needed: only-set runs
 *      fail more than except-set runs.  Both one-sided Fisher, Bonferroni
 *      over every test the stage may make, fixed before the first result.
 *      Single candidates first, in rank order; if none is both, a union
 *      that grows in rank order (a failure that needs two delays at once).
 *      Between the two, when screening saw failures but no single was
 *      confirmed, a pair stage: fresh runs delaying random subsets of the six
 *      functions with the smallest screening p at a probability aimed at
 *      their own visits, where both-delayed runs are tested against
 *      one-delayed runs for each pair (pairs.c); significant pairs are
 *      confirmed as sets.  A set of two or more is delayed at the
 *      probability aimed at its own visits.  A single confirmed in fewer
 *      than half its own runs may be half of a pair (each half alone fails a
 *      few runs): an anchored pair stage (the single in every run) looks for
 *      a partner that adds to it, and a pair confirmed with a higher only-set
 *      rate than the single's replaces it as the culprit.
 *      The culprit is the first set both needed and sufficient, else the
 *      first sufficient one (flagged not needed).  A function culprit is
 *      then narrowed to its top exact site when that alone is sufficient
 *      against the function's control (which delays no site of the
 *      function).
 *   5. Report: ranked tables with DWARF file:line, the confirmations, the
 *      verdict and the plan as a ready `inject` command line: hunt.txt,
 *      hunt.json, failure-rate.svg, plan.sh.
 * A verdict states only what runs showed: no site visited or no delay ever
 * injected is "injection never reached the program"; a stress or inject
 * refusal is a harness (125) or usage (64) error; a signal stops every
 * child and leaves a report marked interrupted.
 *
 * Where each step is: options.c (0, the options), main.c (0, the tools and
 * inject flags; the order of the steps), screen.c (1, 2), rank.c, pairs.c
 * and stats.c (3), confirm.c (4, with the pair stage), report.c (5);
 * campaign.c runs the children for every step, and finish.c ends hunt when
 * no verdict can be given.
 */
#ifndef HUNT_H
#define HUNT_H

#include <limits.h>
#include <stdint.h>

#include "pairs.h"
#include "rank.h"
#include "runs.h"

/* Phase tags of loaded runs: the baseline, the screening, and from
 * PH_CONFIRM up one per confirmation campaign. */
enum { PH_BASE = 1, PH_BLIND = 2, PH_CONFIRM = 3 };

struct confirm {
	char sites[4096];	/* the --sites value of the only-set campaign */
	char prob[32];		/* the --prob of the only-set campaign */
	int nset;
	char *set[8];
	long only_n, only_f, except_n, except_f;
	long only_delayed;	/* only-set runs in which the set got a delay */
	long ctrl_n, ctrl_f;	/* the fresh control: the set at probability 0 */
	double p_suff, p_need;
	int sufficient, needed, exact;	/* exact: set names exact sites, not functions */
	int only_phase, except_phase, ctrl_phase;
	const struct confirm *ctrl_of;	/* control borrowed from (narrowing) */
	int tested, done;	/* sufficiency tested; every campaign of it ran */
	int replaced;		/* both, but a pair containing it failed more */
};

#define MAX_CONF 16
#define MAX_ANALYZE 64

/* One hunt: its options (set by options.c, read-only afterwards) and what
 * its steps found.  main.c holds the one instance and hands it to every
 * step as `h`. */
struct hunt {
	/* options */
	int procs, quiet, prob_auto, top;
	const char *plan;	/* --plan: a family or the portfolio gives the delays */
	const char *timeout, *delay, *results, *name, *extra, *binary, *stress, *inject;
	char **extra_argv;	/* --inject-flags split as stress splits --inject */
	int nextra;
	char prob[32];
	double target_delays, fraction, alpha, time_limit, blind_share;
	long batch, min_runs, max_runs, baseline, confirm;
	uint64_t seed, rng;
	const char *analyze[MAX_ANALYZE];
	int nanalyze;
	char **cmd;
	int ncmd;
	/* state */
	struct runs runs;	/* every run loaded so far, tagged with its phase */
	char dir[PATH_MAX];
	double t0, blind_s, base_visits;
	long stress_calls, total_runs, blind_runs;
	const char *stop_reason, *conf_note;
	struct confirm conf[MAX_CONF];
	int nconf, conf_tests, ncand, tested_funcs, tested_sites;
	int npairs;		/* significant pairs of the pair stage, confirmed as sets */
	int pair_phase;		/* the pair stage's phase tag; 0: it did not run */
	struct row pair_units[PAIR_STAGE_TOP];	/* the functions the pair stage delayed */
	int npair_units;
	const char *pair_anchor;	/* a confirmed single in every pair-stage run, or NULL */
	/* A confirmed single that a pair containing it replaced as the
	 * culprit: the pair's only-set runs failed more (p_more, one-sided
	 * Fisher, Bonferroni over conf_tests). */
	const struct confirm *superseded;
	double p_more;
	int confirm_phases;	/* phase tags given out by confirmation so far */
	struct confirm *culprit;
	const char *exact_site;
	int no_sites;	/* the baseline visited no site hunt can delay */
	long blind_delayed;	/* screening runs in which some delay was injected */
	/* an ending that is not a verdict: "harness error", "usage error" or
	 * "interrupted"; why, and the signal that interrupted */
	const char *abort_verdict;
	char abort_reason[1024];
	int stop_sig;
	const char *where;	/* the campaign running, for "interrupted in" */
	int blind_done;		/* screening ended (stop_reason is final) */
};

/* hunt.c: the services every step uses. */
/* One line on stderr, "hunt: ... (hunt --help)", and exit 64. */
void usage_exit(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
double now_s(void);
double elapsed(const struct hunt *h);
void progress(const struct hunt *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
uint64_t rng(struct hunt *h);
double urand(struct hunt *h);

#endif
