/* hunt: options, the campaigns (baseline, blind screening, confirmation),
 * the verdict and the exit status.  See hunt.h for the method. */
#include "hunt.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report.h"
#include "stats.h"

struct hunt H;

static void usage_exit(const char *fmt, const char *arg)
{
	fprintf(stderr, "hunt: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (hunt --help)\n");
	exit(64);
}

static void help(void)
{
	printf(
"usage: hunt [options] -- COMMAND ARGS...\n"
"       hunt [options] --analyze RUNS.jsonl... [-- COMMAND]\n"
"Find the lock-release site whose injected delay makes COMMAND fail.\n"
"\n"
"  -p N               parallel runs (default: number of CPUs)\n"
"  --timeout D        per-run timeout, as stress takes it (default 20s)\n"
"  --prob P           per-visit delay probability in screening (default: auto,\n"
"                     from the baseline's visit counts and --delays)\n"
"  --delays N         auto --prob aims at N delays per run (default 40)\n"
"  --delay SPEC       delay distribution (default loguniform:100us:10ms)\n"
"  --fraction F       chance a site is in a screening batch's subset (default 0.5)\n"
"  --batch N          runs per screening batch (default: -p)\n"
"  --min-runs N       screening runs before it may stop early (default 40)\n"
"  --max-runs N       screening budget in runs (default 400)\n"
"  --baseline N       undelayed runs that list the sites (default 4)\n"
"  --confirm N        runs per confirmation campaign (default 40)\n"
"  --top K            candidates to confirm (default 3)\n"
"  --alpha A          family-wise error rate of each stage (default 0.05)\n"
"  --time-limit S     wall-clock budget in seconds (default 170)\n"
"  --fail-on TEXT     hunt failures whose signature contains TEXT (default:\n"
"                     every failure but a timeout)\n"
"  --count-timeouts   count a timeout as a failure\n"
"  --inject-flags F   more flags for inject in every run (--points, --action, ...)\n"
"  --seed N           seed of the site subsets and of stress (default: clock)\n"
"  --binary PATH      binary whose DWARF names file:line (default: COMMAND)\n"
"  --results DIR      results root (default results)\n"
"  --name NAME        results folder prefix (default hunt)\n"
"  --stress PATH      stress driver (default: next to hunt)\n"
"  --inject PATH      inject launcher (default: next to hunt)\n"
"  --analyze FILE     rank existing --record files only, no campaigns\n"
"  -q                 no progress lines\n"
"Exit: 0 culprit named, 1 nothing reproduces / no culprit (also when COMMAND visits\n"
"no lock-release site: nothing reproduces if it never fails, no culprit if it fails\n"
"anyway, as no site explains that), 64 usage, 125 harness\n"
"error (stress or inject failing, or a result file that cannot be written).\n");
	exit(0);
}

double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double elapsed(void)
{
	return now_s() - H.t0;
}

static uint64_t rng(void)
{
	/* splitmix64 */
	uint64_t z = (H.rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double urand(void)
{
	return (rng() >> 11) * (1.0 / 9007199254740992.0);
}

void progress(const char *fmt, ...)
{
	if (H.quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "hunt: [%5.1fs] ", elapsed());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
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

/* COMMAND's first word through PATH, as execvp would find it. */
static char *which(const char *prog)
{
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0 ? strdup(prog) : NULL;
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/bin:/bin";
	char *copy = strdup(path), *save = NULL;
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char buf[PATH_MAX];
		snprintf(buf, sizeof buf, "%s/%s", *d ? d : ".", prog);
		if (access(buf, X_OK) == 0) {
			free(copy);
			return strdup(buf);
		}
	}
	free(copy);
	return NULL;
}

static void harness_fail(const char *what)
{
	fprintf(stderr, "hunt: HARNESS ERROR: %s\n", what);
	if (H.dir[0]) {
		/* Pass on stress's own explanation, its last "stress: " line. */
		char path[PATH_MAX + 16], *line = NULL, *last = NULL;
		size_t cap = 0;
		snprintf(path, sizeof path, "%s/stress.log", H.dir);
		FILE *f = fopen(path, "r");
		while (f && getline(&line, &cap, f) >= 0)
			if (strncmp(line, "stress: ", 8) == 0) {
				free(last);
				last = strdup(line);
			}
		if (f)
			fclose(f);
		if (last)
			fprintf(stderr, "hunt: %s", last);
		free(last);
		free(line);
		fprintf(stderr, "hunt: stress output is in %s\n", path);
	}
	exit(125);
}

/* Run one stress campaign of COUNT runs with the given inject flags; its
 * records are loaded with PHASE.  Returns the number of runs loaded. */
static int campaign(const char *label, int phase, const char *flags, long count)
{
	char record[PATH_MAX + 64], sdir[PATH_MAX + 16], logf[PATH_MAX + 16];
	char cnt[32], procs[32], timeout[32], seed[32];
	snprintf(record, sizeof record, "%s/runs/%s.jsonl", H.dir, label);
	snprintf(sdir, sizeof sdir, "%s/stress", H.dir);
	snprintf(logf, sizeof logf, "%s/stress.log", H.dir);
	snprintf(cnt, sizeof cnt, "%ld", count);
	snprintf(procs, sizeof procs, "%d", H.procs);
	snprintf(timeout, sizeof timeout, "%s", H.timeout);
	snprintf(seed, sizeof seed, "%llu", (unsigned long long)(rng() >> 1));
	const char *argv[64 + H.ncmd];
	int n = 0;
	argv[n++] = H.stress;
	argv[n++] = "--count";
	argv[n++] = cnt;
	argv[n++] = "-p";
	argv[n++] = procs;
	argv[n++] = "--timeout";
	argv[n++] = timeout;
	argv[n++] = "--seed";
	argv[n++] = seed;
	argv[n++] = "--inject";
	argv[n++] = flags;
	argv[n++] = "--record";
	argv[n++] = record;
	argv[n++] = "--results";
	argv[n++] = sdir;
	argv[n++] = "--name";
	argv[n++] = label;
	argv[n++] = "--";
	for (int i = 0; i < H.ncmd; i++)
		argv[n++] = H.cmd[i];
	argv[n] = NULL;

	/* stress.log is a log that grows while stress runs (stress's own output
	 * goes there), so it is appended to, not written atomically; its
	 * results and --record files are stress's, and stress reports a failure
	 * to write them as a harness error (exit 125), which stops the hunt. */
	int lfd = open(logf, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	int werr = lfd < 0 || dprintf(lfd, "\n### %s:", label) < 0;
	for (int i = 0; i < n && !werr; i++)
		werr = dprintf(lfd, " %s", argv[i]) < 0;
	if (werr || dprintf(lfd, "\n") < 0) {
		char msg[PATH_MAX + 128];
		snprintf(msg, sizeof msg, "cannot write %s: %s", logf, strerror(errno));
		fprintf(stderr, "hunt: HARNESS ERROR: %s\n", msg);
		exit(125);
	}
	pid_t pid = fork();
	if (pid < 0)
		harness_fail("fork failed");
	if (pid == 0) {
		dup2(lfd, 1);
		dup2(lfd, 2);
		execv(H.stress, (char **)argv);
		dprintf(2, "hunt: cannot run %s: %s\n", H.stress, strerror(errno));
		_exit(127);
	}
	close(lfd);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			harness_fail("waitpid failed");
	int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	H.stress_calls++;
	if (rc != 0 && rc != 1) {
		char msg[256];
		snprintf(msg, sizeof msg, "stress exited with status %d in campaign %s", rc, label);
		harness_fail(msg);
	}
	int got = runs_load(&H.R, record, phase);
	if (got < 0)
		harness_fail("stress wrote no --record file");
	H.total_runs += got;
	return got;
}

/* May this site name go into an INJECT_SITES list as itself? */
static int targetable(const char *name)
{
	return name[0] && name[0] != '?' && !strpbrk(name, "*?[]!, \t");
}

static void add_flag(char *buf, size_t n, const char *fmt, const char *v)
{
	size_t l = strlen(buf);
	snprintf(buf + l, n - l, fmt, v);
}

static void base_flags(char *buf, size_t n, const char *prob)
{
	snprintf(buf, n, "--prob %s --delay %s", prob, H.delay);
	if (H.extra)
		add_flag(buf, n, " %s", H.extra);
}

/* Step 1. */
static void baseline(void)
{
	char flags[1024];
	base_flags(flags, sizeof flags, "0");
	progress("baseline: %ld runs without delays, listing the lock-release sites", H.baseline);
	campaign("baseline", PH_BASE, flags, H.baseline);
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
		/* Not a harness error: /bin/true and /bin/false do this.  There is
		 * nothing to delay, so no site can cause or explain a failure; the
		 * report says which of "nothing reproduces" and "no culprit". */
		H.no_sites = 1;
		H.stop_reason = "no lock-release site";
		progress("baseline: no lock-release site to delay; nothing to screen");
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

static int significant(const struct row *w)
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

/* Step 2. */
static void blind(void)
{
	H.blind_runs = 0;
	H.stop_reason = "budget";
	for (int b = 0; H.blind_runs < H.max_runs; b++) {
		if (elapsed() > H.time_limit * H.blind_share) {
			H.stop_reason = "time";
			break;
		}
		static char flags[1 << 16];
		static char list[1 << 16];
		list[0] = 0;
		int k = 0, first = -1;
		for (int s = 0; s < H.R.nsites; s++) {
			const char *nm = H.R.sites[s].name;
			if (!targetable(nm))
				continue;
			if (first < 0 || urand() < 1.0 / (s + 1))
				first = s;	/* a fallback, so no subset is empty */
			if (urand() < H.fraction) {
				add_flag(list, sizeof list, k ? ",%s" : "%s", nm);
				k++;
			}
		}
		if (k == 0)
			add_flag(list, sizeof list, "%s", H.R.sites[first].name);
		base_flags(flags, sizeof flags, H.prob);
		add_flag(flags, sizeof flags, " --sites %s", list);
		char label[32];
		snprintf(label, sizeof label, "blind-%03d", b);
		long want = H.batch;
		if (want > H.max_runs - H.blind_runs)
			want = H.max_runs - H.blind_runs;
		H.blind_runs += campaign(label, PH_BLIND, flags, want);
		H.blind_batches++;
		if (blind_should_stop()) {
			H.stop_reason = "significant";
			break;
		}
	}
}

static void tally(int phase_tag, long *n, long *f)
{
	*n = *f = 0;
	for (int i = 0; i < H.R.nruns; i++) {
		struct run *u = &H.R.runs[i];
		if (u->phase != phase_tag || u->outcome == EXCLUDED)
			continue;
		(*n)++;
		*f += u->outcome == FAIL;
	}
}

/* Runs without a delay at the set: screening runs in which no site of the
 * set was delayed, the baseline, and the except-set campaign.  An only-set
 * campaign must fail more often than these to be sufficient. */
static void reference(struct confirm *c, long *n, long *f)
{
	*n = *f = 0;
	for (int i = 0; i < H.R.nruns; i++) {
		struct run *u = &H.R.runs[i];
		if (u->outcome == EXCLUDED)
			continue;
		if (u->phase == PH_BASE || (c->except_phase && u->phase == c->except_phase)) {
			(*n)++;
			*f += u->outcome == FAIL;
			continue;
		}
		if (u->phase != PH_BLIND)
			continue;
		int delayed = 0;
		for (int h = 0; h < u->nhits && !delayed; h++) {
			if (u->hits[h].delays <= 0)
				continue;
			const struct site *s = &H.R.sites[u->hits[h].site];
			for (int j = 0; j < c->nset; j++)
				if (strcmp(c->set[j], c->exact ? s->name : s->func) == 0)
					delayed = 1;
		}
		if (!delayed) {
			(*n)++;
			*f += u->outcome == FAIL;
		}
	}
}

static int next_phase = 10;

/* Step 4: one set, two campaigns (the except-set one only when asked). */
static struct confirm *confirm_set(char **set, int nset, int exact, int with_except)
{
	if (H.nconf >= MAX_CONF)
		return NULL;
	struct confirm *c = &H.conf[H.nconf++];
	memset(c, 0, sizeof *c);
	c->nset = nset;
	c->exact = exact;
	for (int i = 0; i < nset; i++) {
		c->set[i] = set[i];
		add_flag(c->sites, sizeof c->sites, i ? ",%s" : "%s", set[i]);
	}
	char flags[8192], label[64];
	base_flags(flags, sizeof flags, H.prob);
	add_flag(flags, sizeof flags, " --sites %s", c->sites);
	snprintf(label, sizeof label, "confirm-%02d-only", H.nconf);
	progress("confirm: delay only %s (%ld runs)", c->sites, H.confirm);
	c->only_phase = next_phase++;
	campaign(label, c->only_phase, flags, H.confirm);
	tally(c->only_phase, &c->only_n, &c->only_f);
	c->p_need = 1;
	if (with_except) {
		base_flags(flags, sizeof flags, H.prob);
		add_flag(flags, sizeof flags, " --sites", "");
		for (int i = 0; i < nset; i++)
			add_flag(flags, sizeof flags, i ? ",!%s" : " !%s", set[i]);
		snprintf(label, sizeof label, "confirm-%02d-except", H.nconf);
		progress("confirm: delay everything except %s (%ld runs)", c->sites, H.confirm);
		c->except_phase = next_phase++;
		campaign(label, c->except_phase, flags, H.confirm);
		tally(c->except_phase, &c->except_n, &c->except_f);
		c->p_need = fisher_greater(c->only_f, c->only_n, c->except_f, c->except_n);
		c->needed = c->only_f > 0 && bonferroni(c->p_need, H.conf_tests) < H.alpha;
	}
	reference(c, &c->ref_n, &c->ref_f);
	c->p_suff = fisher_greater(c->only_f, c->only_n, c->ref_f, c->ref_n);
	c->sufficient = c->only_f > 0 && bonferroni(c->p_suff, H.conf_tests) < H.alpha;
	progress("confirm: only %s %ld/%ld (sufficient: %s, p=%.2g vs %ld/%ld undelayed)%s",
		 c->sites, c->only_f, c->only_n, c->sufficient ? "yes" : "no", c->p_suff,
		 c->ref_f, c->ref_n, "");
	if (with_except)
		progress("confirm: except %s %ld/%ld (needed: %s, p=%.2g)", c->sites, c->except_f,
			 c->except_n, c->needed ? "yes" : "no", c->p_need);
	return c;
}

static int time_for(long runs)
{
	/* Estimate from the runs so far: wall seconds per run. */
	double per = H.total_runs ? elapsed() / H.total_runs : 0.5;
	return elapsed() + per * runs < H.time_limit;
}

/* Step 4, the driver: singles in rank order, then a growing union. */
static void confirmation(struct row *funcs, int nfuncs, struct row *sites, int nsites)
{
	/* Candidates: functions, in the order of their best evidence, from the
	 * function's own row or from its best site's row. */
	char *cand[8];
	int nc = 0;
	int fi = 0, si = 0;
	while (nc < H.top && (fi < nfuncs || si < nsites)) {
		struct row *w;
		if (si >= nsites || (fi < nfuncs && funcs[fi].padj <= sites[si].padj))
			w = &funcs[fi++];
		else
			w = &sites[si++];
		if (!significant(w))
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
	H.ncand = nc;
	if (nc == 0)
		return;
	H.conf_tests = 2 * nc;
	struct confirm *found = NULL;
	for (int i = 0; i < nc && !found; i++) {
		if (!time_for(2 * H.confirm)) {
			H.conf_note = "the time limit cut confirmation short";
			break;
		}
		struct confirm *c = confirm_set(&cand[i], 1, 0, 1);
		if (c && c->sufficient && c->needed)
			found = c;
	}
	/* A set: the significant candidates, then functions whose delays look
	 * harmful before correction (a failure that needs two delays shows each
	 * one only weakly). */
	for (int i = 0; i < nfuncs && nc < H.top; i++) {
		struct row *w = &funcs[i];
		int dup = !targetable(w->unit) || w->p >= H.alpha || w->r1 <= w->r0;
		for (int k = 0; k < nc && !dup; k++)
			dup = strcmp(cand[k], w->unit) == 0;
		if (!dup)
			cand[nc++] = w->unit;
	}
	for (int k = 2; !found && k <= nc; k++) {
		if (!time_for(2 * H.confirm)) {
			H.conf_note = "the time limit cut confirmation short";
			break;
		}
		struct confirm *c = confirm_set(cand, k, 0, 1);
		if (c && c->sufficient && c->needed)
			found = c;
	}
	if (!found) {
		/* No set both: name the best sufficient single, flagged not needed. */
		for (int i = 0; i < H.nconf && !found; i++)
			if (H.conf[i].sufficient)
				found = &H.conf[i];
	}
	if (!found)
		return;
	H.culprit = found;
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
		H.exact_site = sites[best].unit;
		return;
	}
	if (!time_for(H.confirm))
		return;
	H.conf_tests++;
	char *one = sites[best].unit;
	struct confirm *c = confirm_set(&one, 1, 1, 0);
	if (c && c->sufficient) {
		H.exact_site = sites[best].unit;
		H.exact_conf = c;
	}
}

static const char *relpath(const char *p)
{
	static char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		return p;
	size_t n = strlen(cwd);
	if (strncmp(p, cwd, n) == 0 && p[n] == '/')
		return p + n + 1;
	return p;
}

static void mkdirs(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *s = buf + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			mkdir(buf, 0755);
			*s = '/';
		}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "hunt: HARNESS ERROR: cannot create %s: %s\n", buf, strerror(errno));
		exit(125);
	}
}

static void make_dir(void)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	char ts[32];
	strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
	for (int i = 0; i < 100; i++) {
		if (i)
			snprintf(H.dir, sizeof H.dir, "%s/%s-%s-%d", H.results, H.name, ts, i);
		else
			snprintf(H.dir, sizeof H.dir, "%s/%s-%s", H.results, H.name, ts);
		struct stat st;
		if (stat(H.dir, &st) < 0)
			break;
	}
	char runs[PATH_MAX + 8];
	mkdirs(H.dir);
	snprintf(runs, sizeof runs, "%s/runs", H.dir);
	mkdirs(runs);
}

static long num(const char *opt, const char *v, long lo)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || *end || end == v || x < lo)
		usage_exit("bad value for %s", opt);
	return x;
}

static double real(const char *opt, const char *v, double lo, double hi)
{
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (errno || *end || end == v || !(x >= lo && x <= hi))
		usage_exit("bad value for %s", opt);
	return x;
}

enum {
	O_TIMEOUT = 256, O_PROB, O_DELAYS, O_DELAY, O_FRACTION, O_BATCH, O_MINRUNS, O_MAXRUNS,
	O_BASELINE, O_CONFIRM, O_TOP, O_ALPHA, O_TIMELIMIT, O_FAILON, O_COUNTTO, O_EXTRA,
	O_SEED, O_BINARY, O_RESULTS, O_NAME, O_STRESS, O_INJECT, O_ANALYZE, O_HELP,
};

static const struct option longopts[] = {
	{"timeout", 1, 0, O_TIMEOUT}, {"prob", 1, 0, O_PROB}, {"delays", 1, 0, O_DELAYS},
	{"delay", 1, 0, O_DELAY}, {"fraction", 1, 0, O_FRACTION}, {"batch", 1, 0, O_BATCH},
	{"min-runs", 1, 0, O_MINRUNS}, {"max-runs", 1, 0, O_MAXRUNS},
	{"baseline", 1, 0, O_BASELINE}, {"confirm", 1, 0, O_CONFIRM}, {"top", 1, 0, O_TOP},
	{"alpha", 1, 0, O_ALPHA}, {"time-limit", 1, 0, O_TIMELIMIT},
	{"fail-on", 1, 0, O_FAILON}, {"count-timeouts", 0, 0, O_COUNTTO},
	{"inject-flags", 1, 0, O_EXTRA}, {"seed", 1, 0, O_SEED}, {"binary", 1, 0, O_BINARY},
	{"results", 1, 0, O_RESULTS}, {"name", 1, 0, O_NAME}, {"stress", 1, 0, O_STRESS},
	{"inject", 1, 0, O_INJECT}, {"analyze", 1, 0, O_ANALYZE}, {"help", 0, 0, O_HELP},
	{0, 0, 0, 0},
};

static void parse(int argc, char **argv)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	H.procs = ncpu > 0 ? ncpu : 2;
	H.timeout = "20s";
	H.prob_auto = 1;
	H.target_delays = 40;
	H.delay = "loguniform:100us:10ms";
	H.fraction = 0.5;
	H.min_runs = 40;
	H.max_runs = 400;
	H.baseline = 4;
	H.confirm = 40;
	H.top = 3;
	H.alpha = 0.05;
	H.time_limit = 170;
	H.blind_share = 0.6;
	H.results = "results";
	H.name = "hunt";
	H.seed = (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid();
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+p:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': H.procs = num("-p", optarg, 1); break;
		case 'q': H.quiet = 1; break;
		case 'h': case O_HELP: help(); break;
		case O_TIMEOUT: H.timeout = optarg; break;
		case O_PROB:
			real("--prob", optarg, 1e-9, 1);
			snprintf(H.prob, sizeof H.prob, "%s", optarg);
			H.prob_auto = 0;
			break;
		case O_DELAYS: H.target_delays = real("--delays", optarg, 0.01, 1e9); break;
		case O_DELAY: H.delay = optarg; break;
		case O_FRACTION: H.fraction = real("--fraction", optarg, 0.01, 1); break;
		case O_BATCH: H.batch = num("--batch", optarg, 1); break;
		case O_MINRUNS: H.min_runs = num("--min-runs", optarg, 0); break;
		case O_MAXRUNS: H.max_runs = num("--max-runs", optarg, 1); break;
		case O_BASELINE: H.baseline = num("--baseline", optarg, 1); break;
		case O_CONFIRM: H.confirm = num("--confirm", optarg, 1); break;
		case O_TOP: H.top = num("--top", optarg, 1); if (H.top > 6) H.top = 6; break;
		case O_ALPHA: H.alpha = real("--alpha", optarg, 1e-12, 0.5); break;
		case O_TIMELIMIT: H.time_limit = real("--time-limit", optarg, 1, 1e7); break;
		case O_FAILON: H.R.fail_on = optarg; break;
		case O_COUNTTO: H.R.count_timeouts = 1; break;
		case O_EXTRA: H.extra = optarg; break;
		case O_SEED: H.seed = (uint64_t)num("--seed", optarg, 0); break;
		case O_BINARY: H.binary = optarg; break;
		case O_RESULTS: H.results = optarg; break;
		case O_NAME: H.name = optarg; break;
		case O_STRESS: H.stress = optarg; break;
		case O_INJECT: H.inject = optarg; break;
		case O_ANALYZE:
			if (H.nanalyze < MAX_ANALYZE)
				H.analyze[H.nanalyze++] = optarg;
			break;
		default:
			usage_exit("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0 && !H.nanalyze)
		usage_exit("options end with --, then the command: %s", argv[optind]);
	H.cmd = argv + optind;
	H.ncmd = argc - optind;
	if (H.ncmd == 0 && !H.nanalyze)
		usage_exit("%s", "no command given after --");
	if (H.batch == 0)
		H.batch = H.procs;
	H.rng = H.seed;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	parse(argc, argv);
	H.t0 = now_s();
	char *dir = self_dir();
	static char spath[PATH_MAX + 16], ipath[PATH_MAX + 16];
	if (!H.stress) {
		snprintf(spath, sizeof spath, "%s/stress", dir);
		H.stress = spath;
	}
	if (!H.inject) {
		snprintf(ipath, sizeof ipath, "%s/inject", dir);
		H.inject = ipath;
	}
	if (H.ncmd > 0 && !H.binary)
		H.binary = which(H.cmd[0]);
	if (H.nanalyze) {
		for (int i = 0; i < H.nanalyze; i++)
			if (runs_load(&H.R, H.analyze[i], PH_BLIND) < 0)
				exit(125);
		make_dir();
	} else {
		if (!H.binary)
			usage_exit("command not found: %s", H.cmd[0]);
		if (access(H.stress, X_OK) != 0)
			harness_fail("no stress driver next to hunt (build/stress); use --stress");
		make_dir();
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
	H.inject_rel = relpath(H.inject);
	int rc = report(funcs, nf, sites, ns);
	rank_free(funcs, nf);
	rank_free(sites, ns);
	return rc;
}
