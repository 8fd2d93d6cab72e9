/* options: hunt's command line, each value checked as its reader will read
 * it (a refusal is one line and exit 64), the defaults, and the tools
 * hunt runs (stress and inject next to hunt unless named). */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/duration.h"
#include "../common/path.h"
#include "../common/words.h"
#include "hunt.h"

/* The longest duration hunt takes (--timeout, --time-limit), in seconds:
 * about 116 days. */
#define MAX_SECONDS INT64_C(10000000)

static void help(void)
{
	printf(
"usage: hunt [options] -- COMMAND ARGS...\n"
"       hunt [options] --analyze RUNS.jsonl... [-- COMMAND]\n"
"Find the lock-release site whose injected delay makes COMMAND fail.\n"
"\n"
"  -p N               parallel runs, 1 to 4096 (default: number of CPUs)\n"
"  --timeout D        per-run timeout, a duration above 0 such as 20s or 2m\n"
"                     (default 20s)\n"
"  --prob P           per-visit delay probability in screening (default: auto,\n"
"                     from the baseline's visit counts and --delays)\n"
"  --delays N         auto --prob aims at N delays per run (default 40)\n"
"  --delay SPEC       delay distribution, one inject --delay value (default\n"
"                     loguniform:100us:10ms)\n"
"  --plan NAME        a plan family (inject --help lists them), a comma list of\n"
"                     families or portfolio (a family drawn per run from its\n"
"                     seed, among the list's or among all) gives the delays,\n"
"                     points, action and CPU instead of --delay; the baseline\n"
"                     then lists the sites of every lock-level point (hunt's\n"
"                     README, \"The default plan\", has why the default is\n"
"                     --delay and not the portfolio)\n"
"  --fraction F       chance a site is in a screening batch's subset (default 0.5)\n"
"  --batch N          runs per screening batch (default: -p)\n"
"  --min-runs N       screening runs before it may stop early (default 40)\n"
"  --max-runs N       screening budget in runs (default 400)\n"
"  --baseline N       undelayed runs that list the sites (default 4)\n"
"  --confirm N        runs per confirmation campaign (default 40)\n"
"  --top K            candidates to confirm, 1 to 6 (default 3)\n"
"  --alpha A          family-wise error rate of each stage (default 0.05)\n"
"  --time-limit D     wall-clock budget, a duration of 1s or more (default 170s)\n"
"  --fail-on TEXT     hunt failures whose signature contains TEXT (default:\n"
"                     every failure but a timeout)\n"
"  --count-timeouts   count a timeout as a failure\n"
"  --inject-flags F   more flags for inject in every run (--points, --action,\n"
"                     --skip, --max), split as stress splits --inject; checked\n"
"                     by inject --check before anything runs\n"
"  --seed N           seed of the site subsets and of stress, 0 to 2^64-1\n"
"                     (default: clock)\n"
"  --binary PATH      binary whose DWARF names file:line (default: COMMAND)\n"
"  --results DIR      results root (default results)\n"
"  --name NAME        results folder prefix, no '/' (default hunt)\n"
"  --stress PATH      stress driver (default: next to hunt)\n"
"  --inject PATH      inject launcher (default: next to hunt)\n"
"  --analyze FILE     rank existing --record files only, no campaigns\n"
"  -q                 no progress lines\n"
"Exit: 0 culprit named; 1 no culprit named (nothing reproduces, failures no site\n"
"explains, the injection never reached the program, or the runs were\n"
"inconclusive); 64 usage error; 125 harness error (stress or inject failing or\n"
"refusing, or a result file that cannot be written).  SIGINT, SIGTERM and SIGHUP\n"
"stop every run, write the report marked interrupted, and end hunt by the same\n"
"signal.\n");
	exit(0);
}

static char *self_dir(void)
{
	static char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n <= 0)
		return strcpy(buf, ".");
	buf[n] = 0;
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = 0;
	return buf;
}

/* stress and inject default to the ones next to hunt; the binary whose
 * DWARF names file:line, to the command as PATH finds it. */
static void default_tools(struct hunt *h)
{
	char *dir = self_dir();
	static char spath[PATH_MAX + 16], ipath[PATH_MAX + 16];
	if (!h->stress) {
		snprintf(spath, sizeof spath, "%s/stress", dir);
		h->stress = spath;
	}
	if (!h->inject) {
		snprintf(ipath, sizeof ipath, "%s/inject", dir);
		h->inject = ipath;
	}
	if (h->ncmd > 0 && !h->binary)
		h->binary = find_in_path(h->cmd[0]);
}

static long opt_long(const char *opt, const char *v, long lo, long hi)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || *end || end == v || x < lo || x > hi)
		usage_exit("bad value for %s: \"%s\" (want a whole number from %ld to %ld)", opt, v,
			   lo, hi);
	return x;
}

static double opt_real(const char *opt, const char *v, double lo, double hi)
{
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (errno || *end || end == v || !(x >= lo && x <= hi))
		usage_exit("bad value for %s: \"%s\" (want a number from %g to %g)", opt, v, lo, hi);
	return x;
}

/* An unsigned 64-bit decimal: no sign, no space, no overflow. */
static uint64_t opt_u64(const char *opt, const char *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || errno || *end)
		usage_exit("bad value for %s: \"%s\" (want a whole number from 0 to "
			   "18446744073709551615)", opt, v);
	return x;
}

/* --inject-flags: split as stress splits --inject, and none of the flags
 * hunt sets itself (inject --check refuses the rest of what is wrong). */
static void split_extra(struct hunt *h, const char *s)
{
	static const char *const own[] = {"--prob", "--delay", "--sites", "--seed", "--log",
					  "--plan"};
	char err[512];
	if (split_words(s, &h->extra_argv, &h->nextra, err, sizeof err) < 0)
		usage_exit("bad --inject-flags: %s", err);
	for (int i = 0; i < h->nextra; i++)
		for (size_t k = 0; k < sizeof own / sizeof *own; k++) {
			size_t n = strlen(own[k]);
			const char *w = h->extra_argv[i];
			if (strncmp(w, own[k], n) == 0 && (w[n] == 0 || w[n] == '='))
				usage_exit("bad --inject-flags: %s is hunt's to set (hunt has --prob and "
					   "--delay and --plan; it chooses the sites and seeds)", own[k]);
		}
}

enum {
	O_TIMEOUT = 256, O_PROB, O_DELAYS, O_DELAY, O_PLAN, O_FRACTION, O_BATCH, O_MINRUNS, O_MAXRUNS,
	O_BASELINE, O_CONFIRM, O_TOP, O_ALPHA, O_TIMELIMIT, O_FAILON, O_COUNTTO, O_EXTRA,
	O_SEED, O_BINARY, O_RESULTS, O_NAME, O_STRESS, O_INJECT, O_ANALYZE, O_HELP,
};

static const struct option longopts[] = {
	{"timeout", 1, 0, O_TIMEOUT}, {"prob", 1, 0, O_PROB}, {"delays", 1, 0, O_DELAYS},
	{"delay", 1, 0, O_DELAY}, {"plan", 1, 0, O_PLAN}, {"fraction", 1, 0, O_FRACTION},
	{"batch", 1, 0, O_BATCH},
	{"min-runs", 1, 0, O_MINRUNS}, {"max-runs", 1, 0, O_MAXRUNS},
	{"baseline", 1, 0, O_BASELINE}, {"confirm", 1, 0, O_CONFIRM}, {"top", 1, 0, O_TOP},
	{"alpha", 1, 0, O_ALPHA}, {"time-limit", 1, 0, O_TIMELIMIT},
	{"fail-on", 1, 0, O_FAILON}, {"count-timeouts", 0, 0, O_COUNTTO},
	{"inject-flags", 1, 0, O_EXTRA}, {"seed", 1, 0, O_SEED}, {"binary", 1, 0, O_BINARY},
	{"results", 1, 0, O_RESULTS}, {"name", 1, 0, O_NAME}, {"stress", 1, 0, O_STRESS},
	{"inject", 1, 0, O_INJECT}, {"analyze", 1, 0, O_ANALYZE}, {"help", 0, 0, O_HELP},
	{0, 0, 0, 0},
};

void parse_options(struct hunt *h, int argc, char **argv)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	h->procs = ncpu > 0 ? ncpu : 2;
	h->timeout = "20s";
	h->prob_auto = 1;
	h->target_delays = 40;
	h->delay = "loguniform:100us:10ms";
	h->fraction = 0.5;
	h->min_runs = 40;
	h->max_runs = 400;
	h->baseline = 4;
	h->confirm = 40;
	h->top = 3;
	h->alpha = 0.05;
	h->time_limit = 170;
	h->blind_share = 0.6;
	h->results = "results";
	h->name = "hunt";
	h->seed = (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid();
	const long big = 100000000;
	double d;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+p:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': h->procs = opt_long("-p", optarg, 1, 4096); break;
		case 'q': h->quiet = 1; break;
		case 'h': case O_HELP: help(); break;
		case O_TIMEOUT:
			/* The common grammar, which stress reads it by too; 0 would
			 * mean no timeout at all, and a run that hangs would stop
			 * the hunt. */
			if (duration_seconds(optarg, 1, MAX_SECONDS * DURATION_S, &d) < 0)
				usage_exit("bad value for --timeout: \"%s\" (want a duration above 0 "
					   "such as 20s or 2m)", optarg);
			h->timeout = optarg;
			break;
		case O_PROB:
			opt_real("--prob", optarg, 1e-9, 1);
			snprintf(h->prob, sizeof h->prob, "%s", optarg);
			h->prob_auto = 0;
			break;
		case O_DELAYS: h->target_delays = opt_real("--delays", optarg, 0.01, 1e9); break;
		case O_DELAY:
			if (!*optarg)
				usage_exit("bad value for --delay: empty (want a spec such as "
					   "loguniform:100us:10ms)");
			h->delay = optarg;
			break;
		case O_PLAN:
			if (!*optarg)
				usage_exit("bad value for --plan: empty (want a family, a comma list of "
				   "families, or portfolio)");
			h->plan = optarg;
			break;
		case O_FRACTION: h->fraction = opt_real("--fraction", optarg, 0.01, 1); break;
		case O_BATCH: h->batch = opt_long("--batch", optarg, 1, big); break;
		case O_MINRUNS: h->min_runs = opt_long("--min-runs", optarg, 0, big); break;
		case O_MAXRUNS: h->max_runs = opt_long("--max-runs", optarg, 1, big); break;
		case O_BASELINE: h->baseline = opt_long("--baseline", optarg, 1, big); break;
		case O_CONFIRM: h->confirm = opt_long("--confirm", optarg, 1, big); break;
		case O_TOP: h->top = opt_long("--top", optarg, 1, 6); break;
		case O_ALPHA: h->alpha = opt_real("--alpha", optarg, 1e-12, 0.5); break;
		case O_TIMELIMIT:
			if (duration_seconds(optarg, DURATION_S, MAX_SECONDS * DURATION_S,
					     &h->time_limit) < 0)
				usage_exit("bad value for --time-limit: \"%s\" (want a duration from 1s "
					   "to %llds, such as 170s or 3m)", optarg,
					   (long long)MAX_SECONDS);
			break;
		case O_FAILON:
			if (!*optarg)
				usage_exit("bad value for --fail-on: empty (want a signature text)");
			h->runs.fail_on = optarg;
			break;
		case O_COUNTTO: h->runs.count_timeouts = 1; break;
		case O_EXTRA: h->extra = optarg; break;
		case O_SEED: h->seed = opt_u64("--seed", optarg); break;
		case O_BINARY: h->binary = optarg; break;
		case O_RESULTS:
			if (!*optarg)
				usage_exit("bad value for --results: empty (want a folder)");
			h->results = optarg;
			break;
		case O_NAME:
			if (!*optarg || strchr(optarg, '/'))
				usage_exit("bad value for --name: \"%s\" (want a name without '/')",
					   optarg);
			h->name = optarg;
			break;
		case O_STRESS: h->stress = optarg; break;
		case O_INJECT: h->inject = optarg; break;
		case O_ANALYZE:
			if (h->nanalyze >= MAX_ANALYZE)
				usage_exit("too many --analyze files (at most %d)", MAX_ANALYZE);
			h->analyze[h->nanalyze++] = optarg;
			break;
		default:
			usage_exit("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0 && !h->nanalyze)
		usage_exit("options end with --, then the command: %s", argv[optind]);
	h->cmd = argv + optind;
	h->ncmd = argc - optind;
	if (h->ncmd == 0 && !h->nanalyze)
		usage_exit("no command given after --");
	if (h->extra)
		split_extra(h, h->extra);
	if (h->batch == 0)
		h->batch = h->procs;
	h->rng = h->seed;
	default_tools(h);
}
