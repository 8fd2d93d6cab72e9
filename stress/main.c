/* stress: run a command many times in parallel and classify its failures.
 *
 *   stress [options] -- COMMAND ARGS...
 *   stress --campaign FILE.ini [options]
 *   stress --replay DIR [--count K]
 *
 * Exit status: 0 the expectation holds (without one: no failures), 1 it does
 * not, 64 usage, 125 the harness failed (a command that cannot run, the
 * inject launcher refusing its flags).
 */
#include "stress.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: stress [options] -- COMMAND ARGS...\n"
	"       stress --campaign FILE.ini [options]\n"
	"       stress --replay DIR [--count K] [-p N]\n"
	"       stress merge --out DIR SHARD_DIR...\n"
	"       stress history [--json] [--window DURATION] RESULTS_DIR...\n"
	"       stress --trace-json DIR   (draw DIR/trace.json from a kept failure's files)\n"
	"\n"
	"Runs COMMAND over and over on parallel workers; classifies each failure by its\n"
	"signature (fatal error line, panic/assertion, signal, exit status, timeout), keeps\n"
	"the first traces of each, and writes summary.json, junit.xml, report.md and\n"
	"report.html.\n"
	"\n"
	"  -p N                 workers (default: the number of CPUs)\n"
	"  --kill=false         a run that times out is left alive, its pid printed (for\n"
	"                       gdb -p PID), and stress waits for it; it counts as a timeout\n"
	"  -o PREFIX            each failure's output also to PREFIX + a unique suffix\n"
	"  --count N            stop after N runs, N >= 1 (default: no limit)\n"
	"  --time DURATION      stop starting runs after DURATION (e.g. 30s, 5m; above 0)\n"
	"  --max-failures N     stop after N failures\n"
	"  --failfast           stop at the first failure, killing the runs in flight\n"
	"  --timeout DURATION   per run, above 0: SIGQUIT, then SIGKILL after --grace\n"
	"                       (default 10m); durations are at most a year\n"
	"  --grace DURATION     between SIGQUIT and SIGKILL (default 2s)\n"
	"  --failure RE         count a run as failed only if its output matches RE\n"
	"  --ignore RE          do not count a run whose output matches RE\n"
	"  --ok-status LIST     exit statuses that pass (default 0), e.g. 0,6\n"
	"  --expect fail|pass   the expectation that sets the exit status\n"
	"  --signature RE       the failure the job is after (POSIX ERE on the failure's\n"
	"                       signature, e.g. 'checkdead', '^timeout$'): only a match\n"
	"                       reproduces; without it, any failure but a timeout does\n"
	"  --unexpected fail|ignore\n"
	"                       whether failures that do not match --signature fail the\n"
	"                       job (default fail); they are reported either way\n"
	"  --seed BASE          run i gets seed BASE+i, modulo 2^64 (0 to 2^64-1;\n"
	"                       default: from the clock, printed)\n"
	"  --inject \"FLAGS\"     run each run as `inject FLAGS --seed S --log L -- COMMAND`\n"
	"  --keep N             traces kept per signature (default 5)\n"
	"  --results DIR        where results go (default results)\n"
	"  --name NAME          results folder prefix (default: the command's name)\n"
	"  --record FILE.jsonl  one JSON line per run\n"
	"  --status DURATION    status line interval (default 5s; 0 = none)\n"
	"  --max-output BYTES   output kept per run, head and tail (default 1048576)\n"
	"  --campaign FILE.ini  run the jobs of a campaign (stress/README.md)\n"
	"  --scale F            campaign: every job's count times F, rounded up (F > 0;\n"
	"                       a job with only a time: its time); time caps stay\n"
	"  --only JOB[,JOB...]  campaign: run only these jobs\n"
	"  --replay DIR         rerun a kept failure --count times (default 20)\n"
	"  --shard K/N          run shard K of N of every job: run indices i with\n"
	"                       i % N = K-1, seeds as unsharded (1 <= K <= N); merge\n"
	"                       the N results folders with `stress merge`\n"
	"  --history DIR        afterwards, compare this run with the earlier runs of the\n"
	"                       same name in DIR (stress history; exit 1 on a new signature)\n"
	"\n"
	"Go's stress spelling works too: -count=N (0: no limit), -failfast, -failure RE,\n"
	"-ignore RE, -kill=false, -o PREFIX, -p=N, -timeout=D, '=' or a space (stress/README.md).\n"
	"DURATION is Go's: a number and a unit (ns, us, ms, s, m, h), or several\n"
	"(1h30m, 1.5s, 200ms); 0 alone needs no unit.  docs/interfaces.md, Durations.\n";

static void usage(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void usage(const char *fmt, ...)
{
	va_list ap;
	fputs("stress: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (stress --help for usage)\n", stderr);
	exit(EXIT_USAGE);
}

/* RESULTS/<name>-<UTC stamp>/ and its scratch dir, claimed for our life. */
static int setup_rundir(struct session *ses, const char *results)
{
	char stamp[32], path[PATH_MAX];
	utc_stamp(stamp, sizeof stamp, false);
	if (mkdirs(results) < 0) {
		fprintf(stderr, "stress: cannot create %s: %s\n", results, strerror(errno));
		return -1;
	}
	char *abs = realpath(results, NULL);
	snprintf(path, sizeof path, "%s/%s-%s", abs, ses->name, stamp);
	for (int k = 2; mkdir(path, 0755) < 0; k++) {
		if (errno != EEXIST || k > 1000) {
			fprintf(stderr, "stress: cannot create %s: %s\n", path, strerror(errno));
			free(abs);
			return -1;
		}
		snprintf(path, sizeof path, "%s/%s-%s-%d", abs, ses->name, stamp, k);
	}
	/* Scratch dirs left by a stress that was killed: their owner is dead
	 * when we can take their lock. */
	int cleaned = clean_abandoned(abs);
	if (cleaned)
		printf("stress: removed %d abandoned scratch dir%s in %s (their stress had died)\n",
		       cleaned, cleaned == 1 ? "" : "s", abs);
	free(abs);
	ses->env.rundir = xstrdup(path);
	char *tmpdir = xasprintf("%s/.tmp", path);
	ses->env.tmpdir = tmpdir;
	if (tmp_claim(tmpdir) < 0) {
		fprintf(stderr, "stress: cannot set up %s: %s\n", tmpdir, strerror(errno));
		return -1;
	}
	return 0;
}

/* The session's defaults, from where and how we run; returns the inject
 * launcher next to this binary. */
static char *setup_self(struct session *ses)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n < 0)
		n = 0;
	buf[n] = 0;
	char *launcher = xasprintf("%s/inject", n ? dirname(buf) : ".");
	char *cwd = getcwd(NULL, 0);
	ses->env.cwd = cwd ? cwd : xstrdup(".");
	ses->env.tty = isatty(1);
	ses->env.status_every = 5;
	ses->env.max_output = 1 << 20;
	ses->env.record_fd = -1;
	utc_stamp(ses->started, sizeof ses->started, true);
	return launcher;
}

static char *clean_name(const char *s)
{
	char *n = xstrdup(s);
	for (char *p = n; *p; p++)
		if (*p == '/' || *p == ' ' || *p == '\t')
			*p = '_';
	if (!*n || *n == '.') {
		free(n);
		n = xstrdup("stress");
	}
	return n;
}

/* Judge, write the reports, print them and the results path; the exit status. */
static int finish(struct session *ses, struct job *jobs, int njobs)
{
	judge(jobs, njobs);
	for (int i = 0; i < njobs; i++) {
		if (jobs[i].harness_error && !ses->harness_error)
			ses->harness_error = jobs[i].harness_error;
		ses->interrupted = ses->interrupted || jobs[i].interrupted;
	}
	int rc = write_reports(ses, jobs, njobs);
	print_report(ses, jobs, njobs);
	sentinel_stop();
	if (ses->env.tmpdir)
		rm_rf(ses->env.tmpdir);
	if (ses->env.record_fd >= 0)
		close(ses->env.record_fd);
	if (ses->interrupted)
		printf("stress: interrupted; the summary covers the runs that finished\n");
	if (ses->harness_error) {
		fprintf(stderr, "stress: HARNESS ERROR: %s; stopped, and no run was counted as a "
		        "reproduction%s%s\n", ses->harness_error, ses->write_error ? "; and " : "",
		        ses->write_error ? ses->write_error : "");
		rc = EXIT_HARNESS;
	} else if (ses->write_error) {
		/* The results are what a campaign is for: without them, no verdict. */
		fprintf(stderr, "stress: HARNESS ERROR: %s\n", ses->write_error);
		rc = EXIT_HARNESS;
	}
	if (ses->history)
		rc = history_after_run(ses->history, ses->env.rundir, rc);
	printf("results: %s\n", ses->env.rundir);
	fflush(stdout);
	return rc;
}

enum {
	O_COUNT = 256, O_TIME, O_MAXFAIL, O_FAILFAST, O_TIMEOUT, O_GRACE, O_FAILURE, O_IGNORE,
	O_OKSTATUS, O_EXPECT, O_SEED, O_INJECT, O_KEEP, O_RESULTS, O_NAME, O_RECORD, O_STATUS,
	O_MAXOUT, O_CAMPAIGN, O_REPLAY, O_SIGNATURE, O_UNEXPECTED, O_SCALE, O_ONLY,
	O_SHARD,
	O_HISTORY, O_KILL,
};

static regex_t *compile(const char *re, const char *flag)
{
	regex_t *r = xmalloc(sizeof *r);
	int e = regcomp(r, re, REG_EXTENDED | REG_NEWLINE | REG_NOSUB);
	if (e) {
		char m[256];
		regerror(e, r, m, sizeof m);
		usage("bad %s regular expression \"%s\": %s", flag, re, m);
	}
	return r;
}

/* --only a,b: keep those jobs, in the file's order. */
static void select_jobs(const char *only, struct job *jobs, int *njobs)
{
	char *list = xstrdup(only), *save = NULL;
	bool *keep = calloc((size_t)*njobs, sizeof *keep);
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int k;
		for (k = 0; k < *njobs && strcmp(jobs[k].name, t); k++)
			;
		if (k == *njobs)
			usage("bad --only: no job [%s] in the campaign", t);
		keep[k] = true;
	}
	int n = 0;
	for (int i = 0; i < *njobs; i++)
		if (keep[i])
			jobs[n++] = jobs[i];
	if (!n)
		usage("bad --only \"%s\": no job named", only);
	*njobs = n;
	free(keep);
	free(list);
}

/* Each job's inject flags, checked by the launcher before anything runs
 * or any results folder is made: a bad flag is a usage error (64, one line). */
static void check_injections(struct job *jobs, int njobs, const char *campaign)
{
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		char line[1024];
		if (job_check_inject(j, line, sizeof line) != EXIT_USAGE)
			continue;
		if (campaign)
			fprintf(stderr, "stress: %s:%d: job [%s]: bad inject: %s\n", campaign,
			        j->inject_line ? j->inject_line : j->line, j->name, line);
		else
			fprintf(stderr, "stress: bad --inject \"%s\": %s\n", j->inject, line);
		exit(EXIT_USAGE);
	}
}

/* A campaign job's first line: "== NAME: [inject FLAGS -- ]COMMAND (sizes)". */
static void print_banner(const struct job *j)
{
	printf("== %s: %s%s", j->name, j->inject ? "inject " : "", j->inject ? j->inject : "");
	printf("%s", j->inject ? " -- " : "");
	for (int k = 0; k < j->argc; k++)
		printf("%s%s", k ? " " : "", j->argv[k]);
	printf(" (");
	if (j->count)
		printf("count %lld, ", j->count);
	if (j->time_s > 0)
		printf("time %gs, ", j->time_s);
	printf("%d workers, expect %s)\n", j->procs,
	       j->expect == EXPECT_FAIL ? "fail" : j->expect == EXPECT_PASS ? "pass" : "none");
	fflush(stdout);
}

/* What the command line asked for, besides the session's settings. */
struct options {
	struct job cli;       /* the single job, or the defaults of a campaign's jobs */
	const char *campaign, *replay, *record, *only;
	const char *results;  /* --results (default "results") */
	char *name;           /* --name, or NULL */
	bool count_given, procs_given, timeout_given, seed_given;
};

/* Read the flags into o (the cli job's settings among them) and ses (the
 * run-wide ones); a bad one is a usage error, --help prints the usage and
 * exits.  optind is left at the command in argv, rewritten in place from
 * Go's spelling (goflags.c); returns its new argc. */
static int parse_options(int argc, char **argv, const char *launcher, struct options *o,
                         struct session *ses)
{
	static const struct option opts[] = {
		{"count", required_argument, 0, O_COUNT},
		{"time", required_argument, 0, O_TIME},
		{"max-failures", required_argument, 0, O_MAXFAIL},
		{"failfast", no_argument, 0, O_FAILFAST},
		{"timeout", required_argument, 0, O_TIMEOUT},
		{"grace", required_argument, 0, O_GRACE},
		{"failure", required_argument, 0, O_FAILURE},
		{"ignore", required_argument, 0, O_IGNORE},
		{"ok-status", required_argument, 0, O_OKSTATUS},
		{"expect", required_argument, 0, O_EXPECT},
		{"seed", required_argument, 0, O_SEED},
		{"inject", required_argument, 0, O_INJECT},
		{"keep", required_argument, 0, O_KEEP},
		{"results", required_argument, 0, O_RESULTS},
		{"name", required_argument, 0, O_NAME},
		{"record", required_argument, 0, O_RECORD},
		{"status", required_argument, 0, O_STATUS},
		{"max-output", required_argument, 0, O_MAXOUT},
		{"campaign", required_argument, 0, O_CAMPAIGN},
		{"replay", required_argument, 0, O_REPLAY},
		{"signature", required_argument, 0, O_SIGNATURE},
		{"unexpected", required_argument, 0, O_UNEXPECTED},
		{"scale", required_argument, 0, O_SCALE},
		{"only", required_argument, 0, O_ONLY},
		{"shard", required_argument, 0, O_SHARD},
		{"history", required_argument, 0, O_HISTORY},
		{"kill", optional_argument, 0, O_KILL},
		{"procs", required_argument, 0, 'p'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	long long v;
	double d;

	memset(o, 0, sizeof *o);
	o->results = "results";
	job_defaults(&o->cli);
	o->cli.launcher = launcher;
	opterr = 0;
	int c;
	char err[512];
	bool b;
	if ((argc = goflags_rewrite(argc, argv, opts, "p:o:h", err, sizeof err)) < 0)
		usage("%s", err);
	while ((c = getopt_long(argc, argv, "+p:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_ll(optarg, 1, &v) < 0 || v > 4096)
				usage("bad -p \"%s\": want a number of workers from 1 to 4096", optarg);
			o->cli.procs = (int)v;
			o->procs_given = true;
			break;
		case O_COUNT:
			if (parse_ll(optarg, 1, &v) < 0)
				usage("bad --count \"%s\": want a number of runs from 1 (omit --count for "
				      "no limit)", optarg);
			o->cli.count = v;
			o->count_given = true;
			break;
		case O_TIME:
			if (duration_seconds(optarg, 0, STRESS_DURATION_MAX, &d) < 0 || d <= 0)
				usage("bad --time \"%s\": want a duration above 0 and at most a year, such "
				      "as 30s or 5m", optarg);
			o->cli.time_s = d;
			break;
		case O_MAXFAIL:
			if (parse_ll(optarg, 1, &v) < 0)
				usage("bad --max-failures \"%s\": want a number from 1", optarg);
			o->cli.max_failures = v;
			break;
		case O_FAILFAST:
			o->cli.failfast = true;
			break;
		case O_TIMEOUT:
			if (duration_seconds(optarg, 0, STRESS_DURATION_MAX, &d) < 0 || d <= 0)
				usage("bad --timeout \"%s\": want a duration above 0 and at most a year, "
				      "such as 10s", optarg);
			o->cli.timeout_s = d;
			o->timeout_given = true;
			break;
		case O_GRACE:
			if (duration_seconds(optarg, 0, STRESS_DURATION_MAX, &d) < 0)
				usage("bad --grace \"%s\": want a duration such as 2s (0: SIGKILL at once)",
				      optarg);
			o->cli.grace_s = d;
			break;
		case O_FAILURE:
			o->cli.failure_re = compile(optarg, "--failure");
			break;
		case O_IGNORE:
			o->cli.ignore_re = compile(optarg, "--ignore");
			break;
		case O_OKSTATUS:
			if (parse_ok_list(optarg, o->cli.ok_status, &o->cli.nok, 32) < 0)
				usage("bad --ok-status \"%s\": want exit statuses such as 0,6", optarg);
			break;
		case O_EXPECT:
			if (!strcmp(optarg, "fail"))
				o->cli.expect = EXPECT_FAIL;
			else if (!strcmp(optarg, "pass"))
				o->cli.expect = EXPECT_PASS;
			else
				usage("bad --expect \"%s\": want fail or pass", optarg);
			break;
		case O_SEED:
			if (parse_u64(optarg, &ses->env.seed_base) < 0)
				usage("bad --seed \"%s\": want a number from 0 to 2^64-1", optarg);
			o->seed_given = true;
			break;
		case O_SIGNATURE:
			o->cli.signature = optarg;
			o->cli.signature_re = compile(optarg, "--signature");
			break;
		case O_UNEXPECTED:
			if (!strcmp(optarg, "fail") || !strcmp(optarg, "ignore"))
				o->cli.unexpected_ignore = !strcmp(optarg, "ignore");
			else
				usage("bad --unexpected \"%s\": want fail or ignore", optarg);
			break;
		case O_SCALE:
			errno = 0;
			{
				char *end;
				d = strtod(optarg, &end);
				if (end == optarg || *end || errno || !isfinite(d) || d <= 0 || d > 1e6)
					usage("bad --scale \"%s\": want a factor above 0 such as 0.01",
					      optarg);
			}
			ses->scale = d;
			break;
		case O_INJECT:
			o->cli.inject = optarg;
			break;
		case O_KEEP:
			if (parse_ll(optarg, 0, &v) < 0 || v > 100000)
				usage("bad --keep \"%s\": want a number of traces from 0", optarg);
			o->cli.keep = (int)v;
			break;
		case O_RESULTS:
			if (!*optarg)
				usage("bad --results: empty path");
			o->results = optarg;
			break;
		case O_NAME:
			if (!*optarg || strchr(optarg, '/'))
				usage("bad --name \"%s\": want a name without '/'", optarg);
			o->name = optarg;
			break;
		case O_RECORD:
			o->record = optarg;
			break;
		case O_STATUS:
			if (duration_seconds(optarg, 0, STRESS_DURATION_MAX, &d) < 0 || (d > 0 && d < 0.01))
				usage("bad --status \"%s\": want a duration such as 5s (0 = none, else at "
				      "least 10ms)", optarg);
			ses->env.status_every = d;
			break;
		case O_MAXOUT:
			if (parse_ll(optarg, 1024, &v) < 0 || v > (1LL << 30))
				usage("bad --max-output \"%s\": want bytes from 1024 to 2^30", optarg);
			ses->env.max_output = (size_t)v;
			break;
		case O_CAMPAIGN:
			o->campaign = optarg;
			break;
		case O_ONLY:
			if (!*optarg)
				usage("bad --only: empty (want job names, comma-separated)");
			o->only = optarg;
			break;
		case O_REPLAY:
			o->replay = optarg;
			break;
		case O_SHARD:
			if (shard_parse(optarg, &ses->env.shard_k, &ses->env.shard_n) < 0)
				usage("bad --shard \"%s\": want K/N, shard K of N, 1 <= K <= N <= 1000000",
				      optarg);
			break;
		case O_HISTORY:
			ses->history = optarg;
			break;
		case O_KILL:
			if (optarg && go_parse_bool(optarg, &b) < 0)
				usage("bad --kill=%s: want true or false", optarg);
			o->cli.nokill = optarg && !b;
			break;
		case 'o':
			if (go_output_check(optarg, err, sizeof err) < 0)
				usage("%s", err);
			o->cli.out_prefix = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(EXIT_OK);
		default:
			if (optopt && optopt < 256)
				usage("unknown or incomplete flag -%c", optopt);
			usage("unknown or incomplete flag %s", argv[optind - 1]);
		}
	}
	return argc;
}

int main(int argc, char **argv)
{
	/* The sentinel (spawn.c): this binary again, with the pipe on fd 3. */
	if (argc == 2 && !strcmp(argv[1], "--sentinel"))
		return sentinel_main();
	if (argc >= 2 && !strcmp(argv[1], "merge"))
		return merge_main(argc - 1, argv + 1);
	/* stress history: earlier nights against the newest (history.c). */
	if (argc >= 2 && !strcmp(argv[1], "history"))
		return history_main(argc - 1, argv + 1);
	/* A kept failure's (or a replay.sh run's) timeline, trace.c. */
	if (argc == 3 && !strcmp(argv[1], "--trace-json"))
		return trace_main(argv[2]);
	struct session ses = {0};
	struct runenv *env = &ses.env;
	char *launcher = setup_self(&ses);
	struct options opt;
	argc = parse_options(argc, argv, launcher, &opt, &ses);
	struct job cli = opt.cli;
	const char *campaign = opt.campaign, *only = opt.only;
	char *name = opt.name;
	char **cmd = argv + optind;
	int ncmd = argc - optind;

	/* --history DIR: a folder of earlier results, or the --results folder to be. */
	if (ses.history && strcmp(ses.history, opt.results) && access(ses.history, R_OK | X_OK) < 0)
		usage("bad --history \"%s\": want a folder of earlier results", ses.history);
	if ((ses.scale > 0 || only) && !campaign)
		usage("%s applies to the jobs of a --campaign FILE.ini", only ? "--only" : "--scale");
	if (opt.replay) {
		if (campaign || ncmd || env->shard_n)
			usage("--replay takes a kept failure's directory and no command or --shard");
		if (ses.history)
			usage("--history applies to a run or a campaign, not to --replay");
		return replay_main(env, launcher, opt.replay,
		                   opt.count_given ? (cli.count ? cli.count : 20) : 20,
		                   opt.procs_given ? cli.procs : 1, opt.timeout_given ? cli.timeout_s : 0);
	}
	if (!opt.seed_given) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		env->seed_base = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	}

	struct job *jobs;
	int njobs;
	char err[512];
	if (campaign) {
		if (ncmd)
			usage("--campaign takes no command");
		/* Command-line settings are the defaults the campaign's keys override. */
		if (campaign_load(campaign, &cli, ses.scale, &jobs, &njobs) < 0)
			return EXIT_USAGE;
		ses.campaign = realpath(campaign, NULL);
		if (only)
			select_jobs(only, jobs, &njobs);
		if (!name) {
			char *b = xstrdup(campaign), *base = basename(b);
			char *dot = strrchr(base, '.');
			if (dot && dot != base)
				*dot = 0;
			name = clean_name(base);
		}
	} else {
		if (!ncmd)
			usage("no command to run: stress [options] -- COMMAND ARGS...");
		jobs = xmalloc(sizeof *jobs);
		njobs = 1;
		jobs[0] = cli;
		jobs[0].argv = cmd;
		jobs[0].argc = ncmd;
		if (!name) {
			char *b = xstrdup(cmd[0]);
			name = clean_name(basename(b));
		}
		jobs[0].name = name;
		if (job_prepare(&jobs[0], err, sizeof err) < 0)
			usage("bad --inject: %s", err);
	}
	check_injections(jobs, njobs, campaign);

	ses.name = name;
	if (setup_rundir(&ses, opt.results) < 0)
		return EXIT_HARNESS;
	for (int i = 0; i < njobs; i++) {
		if (campaign) {
			jobs[i].dir = xasprintf("%s/%s", env->rundir, jobs[i].name);
			mkdir(jobs[i].dir, 0755);
		} else {
			jobs[i].dir = xstrdup(env->rundir);
		}
	}
	if (opt.record) {
		if ((env->record_fd = record_open(opt.record)) < 0) {
			fprintf(stderr, "stress: cannot open --record %s: %s\n", opt.record,
			        strerror(errno));
			return EXIT_HARNESS;
		}
	}
	if (engine_init() < 0) {
		fprintf(stderr, "stress: cannot set up the run loop (signals, the sentinel): %s\n",
		        strerror(errno));
		return EXIT_HARNESS;
	}

	if (env->shard_n)
		printf("stress: %s: shard %d/%d (run indices %d, %d, ...)\n", ses.name, env->shard_k,
		       env->shard_n, env->shard_k - 1, env->shard_k - 1 + env->shard_n);
	printf("stress: %s: seed base %llu (--seed %llu repeats it); results in %s\n", ses.name,
	       (unsigned long long)env->seed_base, (unsigned long long)env->seed_base, env->rundir);
	fflush(stdout);
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		if (campaign)
			print_banner(j);
		engine_run(env, j);
		if (j->harness_error || j->interrupted)
			break;
	}
	return finish(&ses, jobs, njobs);
}
