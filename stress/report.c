/* Status lines, verdicts, summary.json, junit.xml and report.md. */
#include "stress.h"

#include <jansson.h>
#include <limits.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Wilson score interval for k successes in n trials, 95% (z = 1.96). */
void wilson(long long k, long long n, double *lo, double *hi)
{
	if (n <= 0) {
		*lo = 0;
		*hi = 1;
		return;
	}
	const double z = 1.959963984540054;
	double p = (double)k / (double)n, nn = (double)n;
	double den = 1 + z * z / nn;
	double c = (p + z * z / (2 * nn)) / den;
	double h = z / den * sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn));
	*lo = fmax(0, c - h);
	*hi = fmin(1, c + h);
	if (k == 0)
		*lo = 0;
	if (k == n)
		*hi = 1;
}

static int by_count(const void *a, const void *b)
{
	const struct sig *x = *(const struct sig *const *)a, *y = *(const struct sig *const *)b;
	return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->text, y->text);
}

static struct sig **sorted_sigs(const struct job *j)
{
	struct sig **v = xmalloc(sizeof *v * (size_t)(j->nsigs + 1));
	for (int i = 0; i < j->nsigs; i++)
		v[i] = &j->sigs[i];
	qsort(v, (size_t)j->nsigs, sizeof *v, by_count);
	return v;
}

/* "1m5s: 8288 runs, 2 failures (0.02%) [checkdead: runnable g x2], 131 runs/s" */
void status_line(const struct job *j, double elapsed, bool final)
{
	if (S.quiet)
		return;
	char el[32], sigs[512] = "";
	if (j->nsigs) {
		struct sig **v = sorted_sigs(j);
		size_t n = 0;
		n += (size_t)snprintf(sigs + n, sizeof sigs - n, " [");
		for (int i = 0; i < j->nsigs && i < 3 && n < sizeof sigs; i++)
			n += (size_t)snprintf(sigs + n, sizeof sigs - n, "%s%s x%lld", i ? ", " : "",
			                      v[i]->text, v[i]->count);
		if (j->nsigs > 3 && n < sizeof sigs)
			n += (size_t)snprintf(sigs + n, sizeof sigs - n, ", ...");
		if (n < sizeof sigs)
			snprintf(sigs + n, sizeof sigs - n, "]");
		free(v);
	}
	double pct = j->runs ? 100.0 * (double)j->failures / (double)j->runs : 0;
	double rps = elapsed > 0 ? (double)j->runs / elapsed : 0;
	const char *pre = S.tty ? "\r" : "", *post = S.tty && !final ? "\033[K" : "\033[K\n";
	if (!S.tty)
		post = "\n";
	printf("%s%s: %lld runs, %lld failures (%.2f%%)%s, %.0f runs/s%s", pre,
	       fmt_elapsed(elapsed, el, sizeof el), j->runs, j->failures, pct, sigs, rps, post);
	fflush(stdout);
}

static char *thousands(long long v)
{
	char raw[32], out[48];
	snprintf(raw, sizeof raw, "%lld", v);
	size_t n = strlen(raw), k = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0 && raw[i - 1] != '-')
			out[k++] = ',';
		out[k++] = raw[i];
	}
	out[k] = 0;
	return xstrdup(out);
}

static struct job *find_job(struct job *jobs, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(jobs[i].name, name))
			return &jobs[i];
	return NULL;
}

/* Failures that reproduce something: a timeout is a hang we cut short, not
 * the failure a fail job is after, so it neither meets "expect = fail" nor
 * counts toward a control's rate. */
static long long reproductions(const struct job *j)
{
	long long n = j->failures;
	for (int i = 0; i < j->nsigs; i++)
		if (!strcmp(j->sigs[i].text, "timeout"))
			n -= j->sigs[i].count;
	return n;
}

/* Decide each job's expectation and write its verdict and confidence. */
void judge(struct job *jobs, int njobs)
{
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		double lo, hi;
		wilson(j->failures, j->runs, &lo, &hi);
		free(j->verdict);
		free(j->confidence);
		j->confidence = NULL;
		if (j->harness_error) {
			j->met = 0;
			j->verdict = xasprintf("HARNESS ERROR: %s", j->harness_error);
			continue;
		}
		if (!j->ran) {
			j->met = -1;
			j->verdict = xstrdup("not run");
			continue;
		}
		switch (j->expect) {
		case EXPECT_FAIL:
			j->met = reproductions(j) > 0;
			if (!j->met && j->failures)
				j->verdict = xasprintf("NOT REPRODUCED in %lld runs (%.1f s): only %lld "
				                       "timeouts", j->runs, j->wall_s, j->failures);
			else if (j->met)
				j->verdict = xasprintf("reproduced: first failure at run %lld after %.2f s; "
				                       "%lld of %lld runs failed (rate %.3g, 95%% CI %.3g-%.3g)",
				                       j->first_run, j->first_s, j->failures, j->runs,
				                       (double)j->failures / (double)j->runs, lo, hi);
			else
				j->verdict = xasprintf("NOT REPRODUCED in %lld runs (%.1f s)", j->runs, j->wall_s);
			break;
		case EXPECT_PASS:
			j->met = j->failures == 0 && !j->interrupted;
			if (j->failures == 0 && j->interrupted)
				j->verdict = xasprintf("INTERRUPTED after %lld clean runs: the job did not "
				                       "finish", j->runs);
			else if (j->met)
				j->verdict = xasprintf("passed: %lld clean runs (failure rate below %.3g per run, "
				                       "95%% upper bound)", j->runs, hi);
			else
				j->verdict = xasprintf("FAILED: %lld of %lld runs failed (rate %.3g, 95%% CI "
				                       "%.3g-%.3g); first at run %lld",
				                       j->failures, j->runs, (double)j->failures / (double)j->runs,
				                       lo, hi, j->first_run);
			break;
		default:
			j->met = -1;
			if (j->failures)
				j->verdict = xasprintf("%lld of %lld runs failed (rate %.3g, 95%% CI %.3g-%.3g)",
				                       j->failures, j->runs, (double)j->failures / (double)j->runs,
				                       lo, hi);
			else
				j->verdict = xasprintf("no failures in %lld runs", j->runs);
		}
	}
	/* Confidence of each pass job from its control's rate. */
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		if (j->expect != EXPECT_PASS || !j->control || !j->ran || j->harness_error)
			continue;
		struct job *c = find_job(jobs, njobs, j->control);
		char *n = thousands(j->runs);
		if (!c || !c->ran || c->harness_error || !c->runs) {
			j->confidence = xasprintf("the control %s did not run, so the %s clean runs give no "
			                          "stated confidence", j->control, n);
		} else if (j->failures) {
			j->confidence = xasprintf("not applicable: %lld of %s runs failed", j->failures, n);
		} else if (!reproductions(c)) {
			char *cn = thousands(c->runs);
			j->confidence = xasprintf("the control %s never failed (0 of %s runs), so %s clean runs "
			                          "say nothing about the fix", c->name, cn, n);
			free(cn);
		} else {
			double lo, hi;
			wilson(reproductions(c), c->runs, &lo, &hi);
			double rate = (double)reproductions(c) / (double)c->runs;
			double l10 = lo >= 1 ? -INFINITY : (double)j->runs * log10(1 - lo);
			char p[64];
			if (l10 < -300)
				snprintf(p, sizeof p, "below 1e-300");
			else
				snprintf(p, sizeof p, "%.2g", pow(10, l10));
			j->confidence = xasprintf("the %s rate was %.3g per run (95%% lower bound %.3g); %s "
			                          "clean runs would all pass with probability %s if the bug "
			                          "were still there",
			                          c->name, rate, lo, n, p);
		}
		free(n);
	}
}

static bool job_ok(const struct job *j)
{
	if (j->harness_error || j->met == 0)
		return false;
	if (j->met < 0 && j->ran && (j->failures || j->interrupted))
		return false;
	return true;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median_of(const struct job *j, double *mn, double *mx)
{
	if (!j->ndur) {
		*mn = *mx = 0;
		return 0;
	}
	double *v = xmalloc(sizeof *v * j->ndur);
	memcpy(v, j->dur_ms, sizeof *v * j->ndur);
	qsort(v, j->ndur, sizeof *v, cmp_double);
	*mn = v[0];
	*mx = v[j->ndur - 1];
	double m = j->ndur % 2 ? v[j->ndur / 2] : (v[j->ndur / 2 - 1] + v[j->ndur / 2]) / 2;
	free(v);
	return m;
}


static json_t *jstr(const char *s)
{
	return json_str(s);
}

static char *summary_json(struct job *jobs, int njobs, bool ok)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_str(S.name));
	json_object_set_new(o, "started", json_string(S.started));
	json_object_set_new(o, "finished", json_string(S.finished));
	json_object_set_new(o, "interrupted", json_boolean(S.interrupted));
	json_object_set_new(o, "ok", json_boolean(ok));
	json_object_set_new(o, "seed_base", json_integer((json_int_t)S.seed_base));
	json_t *ja = json_array();
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		json_t *e = json_object();
		json_object_set_new(e, "name", json_str(j->name));
		json_t *cmd = json_array();
		for (int k = 0; k < j->argc; k++)
			json_array_append_new(cmd, json_str(j->argv[k]));
		json_object_set_new(e, "command", cmd);
		json_object_set_new(e, "inject", jstr(j->inject));
		json_object_set_new(e, "expect", j->expect == EXPECT_FAIL   ? json_string("fail")
		                                 : j->expect == EXPECT_PASS ? json_string("pass")
		                                                            : json_null());
		json_object_set_new(e, "control", jstr(j->control));
		json_object_set_new(e, "runs", json_integer(j->runs));
		json_object_set_new(e, "failures", json_integer(j->failures));
		json_object_set_new(e, "rate", json_real(j->runs ? (double)j->failures / (double)j->runs : 0));
		double lo, hi;
		wilson(j->failures, j->runs, &lo, &hi);
		json_object_set_new(e, "rate_ci95", json_pack("[f,f]", lo, hi));
		json_t *sg = json_object();
		struct sig **v = sorted_sigs(j);
		for (int k = 0; k < j->nsigs; k++) {
			json_t *kept = json_array();
			for (int m = 0; m < v[k]->nkept; m++)
				json_array_append_new(kept, json_string(v[k]->kept[m]));
			json_object_set_new(sg, v[k]->text, json_pack("{s:I,s:o}", "count",
			                                              (json_int_t)v[k]->count, "kept", kept));
		}
		free(v);
		json_object_set_new(e, "signatures", sg);
		json_object_set_new(e, "first_failure",
		                    j->first_run >= 0 ? json_pack("{s:I,s:f}", "run", (json_int_t)j->first_run,
		                                                  "seconds", j->first_s)
		                                      : json_null());
		json_object_set_new(e, "runs_per_second",
		                    json_real(j->wall_s > 0 ? (double)j->runs / j->wall_s : 0));
		json_object_set_new(e, "wall_seconds", json_real(j->wall_s));
		json_object_set_new(e, "cpu_seconds", json_real(j->cpu_s));
		double mn, mx, md = median_of(j, &mn, &mx);
		json_object_set_new(e, "duration_ms", json_pack("{s:f,s:f,s:f}", "min", mn, "median", md,
		                                                "max", mx));
		json_object_set_new(e, "expectation_met", j->met < 0 ? json_null() : json_boolean(j->met));
		json_object_set_new(e, "confidence", jstr(j->confidence));
		json_object_set_new(e, "harness_error", jstr(j->harness_error));
		json_array_append_new(ja, e);
	}
	json_object_set_new(o, "jobs", ja);
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	char *t = xasprintf("%s\n", s);
	free(s);
	return t;
}

/* A growing string. */
struct buf {
	char *s;
	size_t len, cap;
};

static void bput(struct buf *b, const char *s, size_t n)
{
	while (b->len + n + 1 > b->cap)
		b->s = xrealloc(b->s, b->cap = b->cap ? b->cap * 2 : 4096);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n >= 0) {
		bput(b, s, (size_t)n);
		free(s);
	}
}

/* XML text: escape markup, drop characters XML 1.0 forbids and invalid UTF-8. */
static void xput(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = *p;
		if (c == '&')
			bput(b, "&amp;", 5);
		else if (c == '<')
			bput(b, "&lt;", 4);
		else if (c == '>')
			bput(b, "&gt;", 4);
		else if (c == '"')
			bput(b, "&quot;", 6);
		else if (c < 0x20 && c != '\n' && c != '\t')
			bput(b, "?", 1);
		else if (c < 0x80)
			bput(b, (const char *)p, 1);
		else {
			int n = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
			if (c >= 0xf5)
				n = 0;
			bool good = n > 0;
			for (int k = 1; good && k < n; k++)
				if ((p[k] & 0xc0) != 0x80)
					good = false;
			if (good && n == 3 && c == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf))
				good = false;
			if (good && n == 3 && c == 0xed && p[1] >= 0xa0)
				good = false;
			if (good && n == 3 && c == 0xe0 && p[1] < 0xa0)
				good = false;
			if (good && n == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
				good = false;
			if (good) {
				bput(b, (const char *)p, (size_t)n);
				p += n;
				continue;
			}
			bput(b, "?", 1);
		}
		p++;
	}
}

static char *junit_xml(struct job *jobs, int njobs)
{
	struct buf b = {0};
	long long tests = 0, fails = 0, errors = 0, skipped = 0;
	double t = 0;
	for (int i = 0; i < njobs; i++) {
		tests++;
		t += jobs[i].wall_s;
		if (jobs[i].harness_error)
			errors++;
		else if (!jobs[i].ran)
			skipped++;
		else if (!job_ok(&jobs[i]))
			fails++;
	}
	bprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"");
	xput(&b, S.name);
	bprintf(&b, "\" tests=\"%lld\" failures=\"%lld\" errors=\"%lld\" skipped=\"%lld\" time=\"%.3f\">\n",
	        tests, fails, errors, skipped, t);
	bprintf(&b, "  <testsuite name=\"");
	xput(&b, S.name);
	bprintf(&b, "\" tests=\"%lld\" failures=\"%lld\" errors=\"%lld\" skipped=\"%lld\" time=\"%.3f\" "
	        "timestamp=\"%s\">\n", tests, fails, errors, skipped, t, S.started);
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		bprintf(&b, "    <testcase classname=\"stress.");
		xput(&b, S.name);
		bprintf(&b, "\" name=\"");
		xput(&b, j->name);
		bprintf(&b, "\" time=\"%.3f\">\n", j->wall_s);
		if (j->harness_error) {
			bprintf(&b, "      <error type=\"harness\" message=\"");
			xput(&b, j->harness_error);
			bprintf(&b, "\"/>\n");
		} else if (!j->ran) {
			bprintf(&b, "      <skipped message=\"not run\"/>\n");
		} else if (!job_ok(j)) {
			bprintf(&b, "      <failure type=\"%s\" message=\"",
			        j->expect == EXPECT_FAIL ? "not-reproduced" : "failures");
			xput(&b, j->verdict);
			bprintf(&b, "\">");
			if (j->first_trace) {
				if (j->first_kept) {
					bprintf(&b, "first failure kept in ");
					xput(&b, j->first_kept);
					bprintf(&b, "\n\n");
				}
				xput(&b, j->first_trace);
			}
			bprintf(&b, "</failure>\n");
		}
		bprintf(&b, "      <system-out>");
		xput(&b, j->verdict ? j->verdict : "");
		if (j->confidence) {
			bprintf(&b, "\n");
			xput(&b, j->confidence);
		}
		if (job_ok(j) && j->first_trace) {
			bprintf(&b, "\n\nfirst failure%s", j->first_kept ? " (kept in " : "");
			if (j->first_kept) {
				xput(&b, j->first_kept);
				bprintf(&b, ")");
			}
			bprintf(&b, ":\n");
			xput(&b, j->first_trace);
		}
		bprintf(&b, "</system-out>\n    </testcase>\n");
	}
	bprintf(&b, "  </testsuite>\n</testsuites>\n");
	return b.s;
}

static char *report_md(struct job *jobs, int njobs, bool ok)
{
	struct buf b = {0};
	bprintf(&b, "# stress: %s\n\n", S.name);
	bprintf(&b, "%s: started %s, finished %s%s; seed base %llu.\n\n",
	        ok ? "PASS" : "FAIL", S.started, S.finished, S.interrupted ? " (interrupted)" : "",
	        (unsigned long long)S.seed_base);
	bprintf(&b, "| job | expect | runs | failures | rate (95%% CI) | first failure | runs/s | result |\n");
	bprintf(&b, "|---|---|---:|---:|---|---|---:|---|\n");
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		double lo, hi;
		wilson(j->failures, j->runs, &lo, &hi);
		char ff[64] = "-";
		if (j->first_run >= 0)
			snprintf(ff, sizeof ff, "run %lld, %.2f s", j->first_run, j->first_s);
		bprintf(&b, "| %s | %s | %lld | %lld | %.3g (%.3g-%.3g) | %s | %.0f | %s |\n", j->name,
		        j->expect == EXPECT_FAIL ? "fail" : j->expect == EXPECT_PASS ? "pass" : "-",
		        j->runs, j->failures, j->runs ? (double)j->failures / (double)j->runs : 0, lo, hi,
		        ff, j->wall_s > 0 ? (double)j->runs / j->wall_s : 0,
		        j->harness_error ? "harness error" : !j->ran ? "not run" : job_ok(j) ? "ok" : "NOT OK");
	}
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		bprintf(&b, "\n## %s\n\n", j->name);
		bprintf(&b, "- command: `");
		for (int k = 0; k < j->argc; k++)
			bprintf(&b, "%s%s", k ? " " : "", j->argv[k]);
		bprintf(&b, "`\n");
		if (j->inject)
			bprintf(&b, "- inject: `%s`\n", j->inject);
		bprintf(&b, "- %s\n", j->verdict ? j->verdict : "");
		if (j->confidence)
			bprintf(&b, "- confidence: %s\n", j->confidence);
		struct sig **v = sorted_sigs(j);
		for (int k = 0; k < j->nsigs; k++) {
			bprintf(&b, "- `%s` x%lld", v[k]->text, v[k]->count);
			if (v[k]->nkept)
				bprintf(&b, ", kept: %s%s", v[k]->kept[0], v[k]->nkept > 1 ? " ..." : "");
			bprintf(&b, "\n");
		}
		free(v);
	}
	return b.s;
}

static char *last_report;

/* Write summary.json, junit.xml and report.md (each atomically); returns
 * 0 when every expectation holds. */
int write_reports(struct job *jobs, int njobs)
{
	bool ok = !S.harness_error;
	for (int i = 0; i < njobs; i++)
		ok = ok && job_ok(&jobs[i]);
	utc_stamp(S.finished, sizeof S.finished, true);
	char *sj = summary_json(jobs, njobs, ok), *jx = junit_xml(jobs, njobs),
	     *md = report_md(jobs, njobs, ok);
	char p[PATH_MAX + 32];
	const char *names[] = {"summary.json", "junit.xml", "report.md"}, *texts[] = {sj, jx, md};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/%s", S.rundir, names[i]);
		if (atomic_write(p, texts[i], strlen(texts[i]), 0644) < 0 && !S.write_error)
			S.write_error = xasprintf("cannot write %s: %s", p, strerror(errno));
	}
	free(sj);
	free(jx);
	free(last_report);
	last_report = md;
	return ok ? 0 : 1;
}

void print_report(struct job *jobs, int njobs)
{
	(void)jobs;
	(void)njobs;
	if (last_report && !S.quiet) {
		printf("\n%s\n", last_report);
		fflush(stdout);
	}
}
