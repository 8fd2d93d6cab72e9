/* stress history: the newest night of a campaign against its earlier nights.
 *
 *   stress history [--json] [--window DURATION] RESULTS_DIR...
 *   stress --campaign FILE.ini --history DIR ...   (after the campaign)
 *
 * Each night is a results folder's summary.json (report.c writes it).  The
 * nights are ordered by their "started" time; the newest is compared with
 * the others, job by job (jobs are matched by name):
 *
 *   new        a signature the newest night has and no earlier night given
 *              has (for that job): "never seen before".  Exit 1.
 *   gone       a signature last week had and the newest night has not, with
 *              the count last week's rate would have given.
 *   moved      the job's failure rate (all failures over all runs) has a 95%
 *              Wilson interval (common/wilson.c) that does not overlap last
 *              week's.
 *
 * "Last week" is the pooled counts (runs, failures, each signature's count,
 * summed) of the earlier nights that started at most --window (168h) before
 * the newest started, and in which the job ran.  Pooling takes the rate as
 * constant over the window; a rate that drifted within it widens nothing, so
 * "steady" means only that tonight's interval overlaps the week's.
 *
 * Exit: 0 nothing new, 1 a new signature, 64 bad input (one line: not a
 * results folder, an unreadable summary, nights of different campaigns).
 */
#include "stress.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HISTORY_WINDOW_DEFAULT (7 * 24 * 3600.0)

/* One night: a results folder's summary. */
struct night {
	char *dir;            /* the results folder, as named */
	char *real;           /* its real path (to drop a night named twice) */
	const char *name;     /* the campaign ("name" in summary.json) */
	const char *started;  /* ISO 8601 UTC */
	time_t t;
	bool interrupted;
	json_t *root;
};

/* A job's counts in one night, or pooled over several. */
struct counts {
	long long runs, failures;
	json_t *sigs;         /* {"signature": count}, owned */
};

static long long num(json_t *v)
{
	return json_is_number(v) ? (long long)json_number_value(v) : 0;
}

/* "2026-12-02T01:00:00Z" -> seconds since the epoch, or -1. */
static time_t parse_iso(const char *s)
{
	struct tm tm = {0};
	const char *e = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	if (!e || *e)
		return -1;
	return timegm(&tm);
}

/* Read DIR/summary.json (or DIR itself when it names a summary.json file)
 * into n.  Returns 0, or -1 with why in err. */
static int night_load(const char *dir, struct night *n, char *err, size_t errsz)
{
	memset(n, 0, sizeof *n);
	struct stat st;
	char *path;
	if (stat(dir, &st) < 0) {
		snprintf(err, errsz, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		path = xasprintf("%s/summary.json", dir);
		n->dir = xstrdup(dir);
	} else {
		path = xstrdup(dir);
		char *slash = strrchr(dir, '/');
		n->dir = slash ? xasprintf("%.*s", (int)(slash - dir), dir) : xstrdup(".");
	}
	json_error_t je;
	/* seed_base can exceed 2^63-1 (docs/interfaces.md): read numbers as reals. */
	n->root = json_load_file(path, JSON_DECODE_INT_AS_REAL, &je);
	if (!n->root) {
		if (access(path, F_OK) < 0)
			snprintf(err, errsz, "%s: not a results folder (no summary.json)", dir);
		else
			snprintf(err, errsz, "%s: unreadable summary.json: %s (line %d)", path, je.text,
			         je.line);
		free(path);
		return -1;
	}
	free(path);
	n->name = json_string_value(json_object_get(n->root, "name"));
	n->started = json_string_value(json_object_get(n->root, "started"));
	n->t = parse_iso(n->started);
	n->interrupted = json_is_true(json_object_get(n->root, "interrupted"));
	if (!n->name || n->t < 0 || !json_is_array(json_object_get(n->root, "jobs"))) {
		snprintf(err, errsz, "%s: not a stress summary.json (no name, started or jobs)", dir);
		return -1;
	}
	n->real = realpath(n->dir, NULL);
	if (!n->real)
		n->real = xstrdup(n->dir);
	return 0;
}

static void night_free(struct night *n)
{
	free(n->dir);
	free(n->real);
	json_decref(n->root);
}

/* The job named NAME in night n, or NULL. */
static json_t *night_job(const struct night *n, const char *name)
{
	size_t i;
	json_t *j;
	json_array_foreach(json_object_get(n->root, "jobs"), i, j) {
		const char *jn = json_string_value(json_object_get(j, "name"));
		if (jn && !strcmp(jn, name))
			return j;
	}
	return NULL;
}

/* Add job j's counts to c (j may be NULL: nothing). */
static void counts_add(struct counts *c, json_t *j)
{
	if (!c->sigs)
		c->sigs = json_object();
	if (!j)
		return;
	c->runs += num(json_object_get(j, "runs"));
	c->failures += num(json_object_get(j, "failures"));
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(j, "signatures"), k, v) {
		long long add = num(json_object_get(v, "count"));
		json_object_set_new(c->sigs, k, json_integer(num(json_object_get(c->sigs, k)) + add));
	}
}

static json_t *rate_json(long long k, long long n)
{
	double lo, hi;
	wilson(k, n, &lo, &hi);
	return json_pack("{s:I,s:I,s:f,s:[f,f]}", "runs", (json_int_t)n, "failures", (json_int_t)k,
	                 "rate", n ? (double)k / (double)n : 0.0, "rate_ci95", lo, hi);
}

static int cmp_night(const void *a, const void *b)
{
	const struct night *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return strcmp(x->dir, y->dir);
}

/* The comparison of the newest night (the last of nv, sorted) with the
 * others, as JSON (the --json output and history.json): see the top of
 * this file and docs/interfaces.md. */
static json_t *compare(struct night *nv, int n, double window_s)
{
	const struct night *newest = &nv[n - 1];
	json_t *o = json_object(), *nights = json_array(), *jobs = json_array();
	json_object_set_new(o, "campaign", json_str(newest->name));
	json_object_set_new(o, "window_seconds", json_real(window_s));
	json_object_set_new(o, "newest", json_str(newest->dir));
	for (int i = 0; i < n; i++)
		json_array_append_new(nights,
		                      json_pack("{s:o,s:s,s:b,s:b}", "dir", json_str(nv[i].dir),
		                                "started", nv[i].started, "interrupted",
		                                nv[i].interrupted, "in_last_week",
		                                i < n - 1 && difftime(newest->t, nv[i].t) <= window_s));
	json_object_set_new(o, "nights", nights);

	/* Every job name, the newest night's first, in their order. */
	json_t *names = json_array();
	for (int i = n - 1; i >= 0; i--) {
		size_t k;
		json_t *j;
		json_array_foreach(json_object_get(nv[i].root, "jobs"), k, j) {
			json_t *nm = json_object_get(j, "name");
			bool seen = !json_is_string(nm);
			size_t m;
			json_t *x;
			json_array_foreach(names, m, x) seen = seen || json_equal(x, nm);
			if (!seen)
				json_array_append(names, nm);
		}
	}
	long long nnew = 0, ngone = 0, nmoved = 0;
	size_t ji;
	json_t *jname;
	json_array_foreach(names, ji, jname) {
		const char *name = json_string_value(jname);
		json_t *e = json_object(), *series = json_array();
		struct counts week = {0}, ever = {0}, now = {0};
		int week_nights = 0, earlier_nights = 0;
		for (int i = 0; i < n; i++) {
			json_t *j = night_job(&nv[i], name);
			if (!j || num(json_object_get(j, "runs")) <= 0)
				continue;
			json_t *p = rate_json(num(json_object_get(j, "failures")),
			                      num(json_object_get(j, "runs")));
			json_object_set_new(p, "night", json_integer(i));
			struct counts one = {0};
			counts_add(&one, j);
			json_object_set_new(p, "signatures", one.sigs);
			json_array_append_new(series, p);
			if (i == n - 1) {
				counts_add(&now, j);
			} else {
				counts_add(&ever, j);
				earlier_nights++;
				if (difftime(newest->t, nv[i].t) <= window_s) {
					counts_add(&week, j);
					week_nights++;
				}
			}
		}
		counts_add(&now, NULL);
		counts_add(&ever, NULL);
		counts_add(&week, NULL);
		json_object_set_new(e, "name", json_string(name));
		json_object_set_new(e, "nights", series);
		bool ran = now.runs > 0;
		json_object_set_new(e, "newest", ran ? rate_json(now.failures, now.runs) : json_null());
		json_object_set_new(e, "earlier_nights", json_integer(earlier_nights));
		json_t *wk = json_null();
		if (week_nights) {
			wk = rate_json(week.failures, week.runs);
			json_object_set_new(wk, "nights", json_integer(week_nights));
		}
		json_object_set_new(e, "last_week", wk);

		/* New: in the newest night, in no earlier one. */
		json_t *nw = json_array(), *gone = json_array();
		const char *k;
		json_t *v;
		if (ran && n > 1) {
			json_object_foreach(now.sigs, k, v) {
				if (num(v) > 0 && num(json_object_get(ever.sigs, k)) <= 0) {
					json_array_append_new(nw, json_pack("{s:o,s:I}", "signature", json_str(k),
					                                    "count", (json_int_t)num(v)));
					nnew++;
				}
			}
		}
		/* Gone: last week had it, the newest night has not. */
		if (ran && week_nights) {
			json_object_foreach(week.sigs, k, v) {
				if (num(v) > 0 && num(json_object_get(now.sigs, k)) <= 0) {
					double expected = (double)now.runs * (double)num(v) / (double)week.runs;
					json_array_append_new(gone,
					                      json_pack("{s:o,s:I,s:f}", "signature", json_str(k),
					                                "last_week_count", (json_int_t)num(v),
					                                "expected", expected));
					ngone++;
				}
			}
		}
		json_object_set_new(e, "new_signatures", nw);
		json_object_set_new(e, "gone_signatures", gone);
		/* The rate: do the two intervals overlap? */
		const char *change = NULL;
		if (ran && week_nights && week.runs > 0) {
			double lo1, hi1, lo2, hi2;
			wilson(now.failures, now.runs, &lo1, &hi1);
			wilson(week.failures, week.runs, &lo2, &hi2);
			change = lo1 > hi2 ? "up" : hi1 < lo2 ? "down" : "steady";
			nmoved += strcmp(change, "steady") != 0;
		}
		json_object_set_new(e, "rate_change", change ? json_string(change) : json_null());
		json_array_append_new(jobs, e);
		json_decref(now.sigs);
		json_decref(ever.sigs);
		json_decref(week.sigs);
	}
	json_decref(names);
	json_object_set_new(o, "jobs", jobs);
	json_object_set_new(o, "new_signatures", json_integer(nnew));
	json_object_set_new(o, "gone_signatures", json_integer(ngone));
	json_object_set_new(o, "rates_moved", json_integer(nmoved));
	json_object_set_new(o, "exit", json_integer(nnew ? EXIT_UNMET : EXIT_OK));
	return o;
}

static void print_rate(FILE *f, json_t *r)
{
	json_t *ci = json_object_get(r, "rate_ci95");
	fprintf(f, "%.3g (%.3g-%.3g) in %lld runs", json_number_value(json_object_get(r, "rate")),
	        json_number_value(json_array_get(ci, 0)), json_number_value(json_array_get(ci, 1)),
	        num(json_object_get(r, "runs")));
}

/* The comparison as text: new signatures first (what wakes someone up),
 * then each job: its rate against last week's, what went. */
static void print_history(FILE *f, json_t *h)
{
	json_t *nights = json_object_get(h, "nights"), *jobs = json_object_get(h, "jobs");
	size_t n = json_array_size(nights), i;
	json_t *j;
	int week = 0;
	json_array_foreach(nights, i, j) week += json_is_true(json_object_get(j, "in_last_week"));
	fprintf(f, "stress history: %s, %zu night%s from %s to %s; newest %s\n",
	        json_string_value(json_object_get(h, "campaign")), n, n == 1 ? "" : "s",
	        json_string_value(json_object_get(json_array_get(nights, 0), "started")),
	        json_string_value(json_object_get(json_array_get(nights, n - 1), "started")),
	        json_string_value(json_object_get(h, "newest")));
	if (n == 1) {
		fprintf(f, "only one night: nothing to compare it with\n");
		return;
	}
	if (json_is_true(json_object_get(json_array_get(nights, n - 1), "interrupted")))
		fprintf(f, "the newest night was interrupted: its counts cover the runs that finished\n");
	fprintf(f, "last week: the %d earlier night%s started within %gh before the newest, pooled\n",
	        week, week == 1 ? "" : "s",
	        json_number_value(json_object_get(h, "window_seconds")) / 3600);
	long long nnew = num(json_object_get(h, "new_signatures"));
	if (nnew) {
		fprintf(f, "NEW SIGNATURES (in no earlier night):\n");
		json_array_foreach(jobs, i, j) {
			size_t k;
			json_t *s;
			json_array_foreach(json_object_get(j, "new_signatures"), k, s)
				fprintf(f, "  %s: `%s` x%lld in %lld runs%s\n",
				        json_string_value(json_object_get(j, "name")),
				        json_string_value(json_object_get(s, "signature")),
				        num(json_object_get(s, "count")),
				        num(json_object_get(json_object_get(j, "newest"), "runs")),
				        num(json_object_get(j, "earlier_nights")) ? "" : " (a new job)");
		}
	}
	json_array_foreach(jobs, i, j) {
		const char *name = json_string_value(json_object_get(j, "name"));
		json_t *now = json_object_get(j, "newest"), *wk = json_object_get(j, "last_week");
		fprintf(f, "== %s: ", name);
		if (json_is_null(now)) {
			fprintf(f, "not run in the newest night\n");
			continue;
		}
		print_rate(f, now);
		if (json_is_null(wk)) {
			fprintf(f, "; last week: not run%s\n",
			        num(json_object_get(j, "earlier_nights")) ? "" : " (a new job)");
		} else {
			const char *c = json_string_value(json_object_get(j, "rate_change"));
			fprintf(f, "; last week ");
			print_rate(f, wk);
			fprintf(f, " over %lld night%s: %s\n", num(json_object_get(wk, "nights")),
			        num(json_object_get(wk, "nights")) == 1 ? "" : "s",
			        !strcmp(c, "steady") ? "steady (the intervals overlap)"
			        : !strcmp(c, "up")   ? "RATE UP (the intervals do not overlap)"
			                             : "RATE DOWN (the intervals do not overlap)");
		}
		size_t k;
		json_t *s;
		json_array_foreach(json_object_get(j, "new_signatures"), k, s)
			fprintf(f, "   new: `%s` x%lld\n", json_string_value(json_object_get(s, "signature")),
			        num(json_object_get(s, "count")));
		json_array_foreach(json_object_get(j, "gone_signatures"), k, s)
			fprintf(f, "   gone: `%s` (x%lld last week; %.2g expected tonight at last week's rate)\n",
			        json_string_value(json_object_get(s, "signature")),
			        num(json_object_get(s, "last_week_count")),
			        json_number_value(json_object_get(s, "expected")));
	}
	fprintf(f, "history: %lld new signature%s, %lld gone, %lld rate%s moved\n", nnew,
	        nnew == 1 ? "" : "s", num(json_object_get(h, "gone_signatures")),
	        num(json_object_get(h, "rates_moved")),
	        num(json_object_get(h, "rates_moved")) == 1 ? "" : "s");
}

/* Sort the nights, drop a folder named twice, check they are one
 * campaign.  Returns the number left, or -1 with why in err. */
static int nights_prepare(struct night *nv, int n, char *err, size_t errsz)
{
	qsort(nv, (size_t)n, sizeof *nv, cmp_night);
	int m = 0;
	for (int i = 0; i < n; i++) {
		bool dup = false;
		for (int k = 0; k < m && !dup; k++)
			dup = !strcmp(nv[k].real, nv[i].real);
		if (dup) {
			night_free(&nv[i]);
			continue;
		}
		nv[m++] = nv[i];
	}
	for (int i = 0; i < m; i++) {
		if (strcmp(nv[i].name, nv[m - 1].name)) {
			snprintf(err, errsz, "%s is campaign \"%s\" and %s is \"%s\": compare one campaign's "
			         "nights", nv[i].dir, nv[i].name, nv[m - 1].dir, nv[m - 1].name);
			return -1;
		}
	}
	return m;
}

static const char history_usage[] =
	"usage: stress history [--json] [--window DURATION] RESULTS_DIR...\n"
	"\n"
	"Compares the newest of the nights (results folders of one campaign, by their\n"
	"summary.json's start time) with the earlier ones, job by job: signatures never\n"
	"seen before (exit 1), signatures last week had and the newest night has not,\n"
	"and failure rates whose 95% Wilson interval does not overlap last week's (the\n"
	"pooled earlier nights started within --window, default 168h, of the newest).\n"
	"\n"
	"  --json               the comparison as JSON on stdout (docs/interfaces.md)\n"
	"  --window DURATION    what \"last week\" spans (default 168h)\n"
	"\n"
	"Exit status: 0 nothing new, 1 a new signature, 64 bad input.\n";

int history_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, 0, 'j'},
		{"window", required_argument, 0, 'w'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	bool as_json = false;
	double window = HISTORY_WINDOW_DEFAULT;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			as_json = true;
			break;
		case 'w':
			if (duration_seconds(optarg, 0, STRESS_DURATION_MAX, &window) < 0 || window <= 0) {
				fprintf(stderr, "stress: history: bad --window \"%s\": want a duration above 0 "
				        "such as 168h\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(history_usage, stdout);
			return EXIT_OK;
		default:
			fprintf(stderr, "stress: history: unknown or incomplete flag %s (stress history "
			        "--help for usage)\n", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	int n = argc - optind;
	if (n < 1) {
		fprintf(stderr, "stress: history: no results folders (stress history RESULTS_DIR...)\n");
		return EXIT_USAGE;
	}
	struct night *nv = xmalloc(sizeof *nv * (size_t)n);
	char err[PATH_MAX + 256];
	for (int i = 0; i < n; i++) {
		if (night_load(argv[optind + i], &nv[i], err, sizeof err) < 0) {
			fprintf(stderr, "stress: history: %s\n", err);
			return EXIT_USAGE;
		}
	}
	if ((n = nights_prepare(nv, n, err, sizeof err)) < 0) {
		fprintf(stderr, "stress: history: %s\n", err);
		return EXIT_USAGE;
	}
	json_t *h = compare(nv, n, window);
	int rc = (int)num(json_object_get(h, "exit"));
	if (as_json) {
		char *s = json_dumps(h, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
	} else {
		print_history(stdout, h);
	}
	fflush(stdout);
	json_decref(h);
	for (int i = 0; i < n; i++)
		night_free(&nv[i]);
	free(nv);
	return rc;
}

/* --history DIR on a run: the folders in DIR whose summary names the same
 * campaign, and the run just written (RUNDIR), its newest night whatever the
 * clocks say.  Prints the comparison, writes it to RUNDIR/history.json, and
 * returns the run's exit status RC, made 1 by a new signature when it was
 * 0, and 125 when the history could not be made from a run that passed. */
int history_after_run(const char *dir, const char *rundir, int rc)
{
	char err[PATH_MAX + 256];
	struct night self;
	if (night_load(rundir, &self, err, sizeof err) < 0) {
		fprintf(stderr, "stress: history: cannot compare this run: %s\n", err);
		return rc == EXIT_OK ? EXIT_HARNESS : rc;
	}
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "stress: history: cannot read %s: %s\n", dir, strerror(errno));
		night_free(&self);
		return rc == EXIT_OK ? EXIT_HARNESS : rc;
	}
	int n = 0, cap = 16;
	struct night *nv = xmalloc(sizeof *nv * (size_t)cap);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *p = xasprintf("%s/%s", dir, de->d_name), *sj = xasprintf("%s/summary.json", p);
		struct stat st;
		if (stat(sj, &st) == 0) {
			if (n + 1 >= cap)
				nv = xrealloc(nv, sizeof *nv * (size_t)(cap *= 2));
			if (night_load(p, &nv[n], err, sizeof err) < 0)
				fprintf(stderr, "stress: history: skipped %s\n", err);
			else if (strcmp(nv[n].name, self.name) || !strcmp(nv[n].real, self.real))
				night_free(&nv[n]);
			else
				n++;
		}
		free(p);
		free(sj);
	}
	closedir(d);
	qsort(nv, (size_t)n, sizeof *nv, cmp_night);
	nv[n++] = self;
	json_t *h = compare(nv, n, HISTORY_WINDOW_DEFAULT);
	printf("\n");
	print_history(stdout, h);
	char *s = json_dumps(h, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	char *path = xasprintf("%s/history.json", rundir), *text = xasprintf("%s\n", s);
	if (atomic_write(path, text, strlen(text), 0644) < 0) {
		fprintf(stderr, "stress: HARNESS ERROR: cannot write %s: %s\n", path, strerror(errno));
		rc = EXIT_HARNESS;
	} else if (rc == EXIT_OK && num(json_object_get(h, "exit")) == EXIT_UNMET) {
		rc = EXIT_UNMET;
	}
	fflush(stdout);
	free(s);
	free(text);
	free(path);
	json_decref(h);
	for (int i = 0; i < n; i++)
		night_free(&nv[i]);
	free(nv);
	return rc;
}
