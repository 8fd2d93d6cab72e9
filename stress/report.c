/* Status lines, verdicts, summary.json, junit.xml and report.md. */
#include "stress.h"

#include <jansson.h>
#include <limits.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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

/* Did injection reach no run at all?  Then the runs tested nothing. */
static bool untested(const struct job *j)
{
	return j->inject_argv && j->runs > 0 && j->inj_reached == 0;
}

/* The runs a pass can speak for: under injection, those it reached. */
static long long tested_runs(const struct job *j)
{
	return j->inject_argv ? j->inj_reached : j->runs;
}

/* "timeout x10, SIGSEGV x2": the signatures that do (or do not) reproduce. */
static char *sig_list(const struct job *j, bool repro)
{
	struct sig **v = xmalloc(sizeof *v * (size_t)(j->nsigs + 1));
	int n = 0;
	for (int i = 0; i < j->nsigs; i++)
		if (j->sigs[i].repro == repro)
			v[n++] = &j->sigs[i];
	qsort(v, (size_t)n, sizeof *v, by_count);
	char buf[700] = "";
	size_t len = 0;
	for (int i = 0; i < n && i < 4 && len < sizeof buf; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s x%lld", i ? ", " : "",
		                        v[i]->text, v[i]->count);
	if (n > 4 && len < sizeof buf)
		snprintf(buf + len, sizeof buf - len, ", ...");
	free(v);
	return xstrdup(buf);
}

static void add_warning(struct job *j, char *w)
{
	j->warnings = xrealloc(j->warnings, sizeof *j->warnings * (size_t)(j->nwarnings + 1));
	j->warnings[j->nwarnings++] = w;
}

/* Append to a malloc'd string. */
static void cat(char **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cat(char **s, const char *fmt, ...)
{
	va_list ap;
	char *t;
	va_start(ap, fmt);
	if (vasprintf(&t, fmt, ap) < 0)
		t = NULL;
	va_end(ap);
	char *u = xasprintf("%s%s", *s ? *s : "", t ? t : "");
	free(t);
	free(*s);
	*s = u;
}

/* Why no run was reached: untouched, lost, or both. */
static void untested_why(const struct job *j, char **v)
{
	if (j->inj_untouched == j->runs)
		cat(v, "injection never reached the program in any of %lld runs", j->runs);
	else if (j->inj_lost == j->runs)
		cat(v, "no run left a complete injection log (%lld of %lld lost), so nothing shows "
		    "that injection reached the program", j->inj_lost, j->runs);
	else
		cat(v, "injection reached none of the %lld runs (%lld untouched, %lld without a "
		    "complete log)", j->runs, j->inj_untouched, j->inj_lost);
}

/* What injection did, said after the verdict when some runs went untouched
 * or lost their log. */
static void injection_note(const struct job *j, char **v)
{
	if (!j->inject_argv || !j->runs)
		return;
	if (j->inj_untouched)
		cat(v, "; injection never reached the program in %lld of %lld runs (no delay, no visit "
		    "to a site the plan could delay)", j->inj_untouched, j->runs);
	if (j->inj_lost)
		cat(v, "; the injection log was missing or cut short in %lld of %lld runs (no evidence "
		    "either way)", j->inj_lost, j->runs);
}

static void warnings_of(struct job *j)
{
	for (int i = 0; i < j->nwarnings; i++)
		free(j->warnings[i]);
	free(j->warnings);
	j->warnings = NULL;
	j->nwarnings = 0;
	if (!j->inject_argv || !j->runs)
		return;
	if (j->inj_fielded && !j->inj_sites_max)
		add_warning(j, xasprintf("the program reached no injection point (no lock-release "
		                         "site at the enabled points) in any of the %lld runs whose "
		                         "log says (inject %s)", j->inj_fielded, j->inject));
	else if (j->inj_fielded && !j->inj_matched_max)
		add_warning(j, xasprintf("the plan's site filter matched none of the sites the "
		                         "program visited, in any of the %lld runs whose log says "
		                         "(inject %s)", j->inj_fielded, j->inject));
	if (j->inj_full_runs)
		add_warning(j, xasprintf("the shim's site table was full in %llu of %lld runs: %llu "
		                         "visits to sites past it were not recorded and never delayed",
		                         j->inj_full_runs, j->runs, j->inj_full_visits));
}

/* Decide each job's expectation and write its verdict and confidence. */
void judge(struct job *jobs, int njobs)
{
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		free(j->verdict);
		free(j->confidence);
		j->verdict = NULL;
		j->confidence = NULL;
		warnings_of(j);
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
		long long unexp = j->failures - j->repros;
		bool unexp_counts = unexp > 0 && !j->unexpected_ignore;
		char *match = j->signature ? xasprintf("matching /%s/", j->signature)
		                           : xstrdup("(any failure but a timeout: no --signature)");
		char *others = sig_list(j, false);
		double lo, hi;
		char **v = &j->verdict;
		switch (j->expect) {
		case EXPECT_FAIL:
			j->met = j->repros > 0 && !unexp_counts;
			wilson(j->repros, j->runs, &lo, &hi);
			if (j->repros > 0) {
				cat(v, "%sreproduced: first failure %s at run %lld after %.2f s; %lld of %lld "
				    "runs reproduced (rate %.3g, 95%% CI %.3g-%.3g)",
				    unexp_counts ? "UNEXPECTED FAILURES: " : "", match, j->first_repro_run,
				    j->first_repro_s, j->repros, j->runs, (double)j->repros / (double)j->runs,
				    lo, hi);
				if (unexp)
					cat(v, "; %lld other failure%s %s: %s", unexp, unexp == 1 ? "" : "s",
					    unexp_counts ? "fail the job (unexpected = fail)"
					                 : "ignored (unexpected = ignore)", others);
			} else {
				cat(v, "NOT REPRODUCED in %lld runs (%.1f s)", j->runs, j->wall_s);
				if (untested(j)) {
					cat(v, ": ");
					untested_why(j, v);
				}
				if (unexp && !j->signature && j->nsigs == 1 &&
				    !strcmp(j->sigs[0].text, "timeout"))
					cat(v, ": only %lld timeouts", unexp);
				else if (unexp)
					cat(v, ": %lld failure%s, none %s: %s", unexp, unexp == 1 ? "" : "s",
					    match, others);
			}
			break;
		case EXPECT_PASS: {
			long long bad = j->unexpected_ignore ? j->repros : j->failures;
			long long n = tested_runs(j);
			if (untested(j)) {
				j->met = 0;
				cat(v, "UNTESTED: ");
				untested_why(j, v);
				cat(v, ", so the runs say nothing about the fix; not a pass");
				if (j->failures)
					cat(v, " (%lld failed anyway)", j->failures);
			} else if (bad == 0 && j->interrupted) {
				j->met = 0;
				cat(v, "INTERRUPTED after %lld clean runs: the job did not finish", j->runs);
			} else if (bad == 0) {
				j->met = 1;
				wilson(0, n, &lo, &hi);
				cat(v, "passed: %lld clean runs (failure rate below %.3g per run, 95%% upper "
				    "bound%s)", j->runs, hi,
				    n != j->runs ? ", over the runs injection reached" : "");
				if (j->failures)
					cat(v, "; no failure %s, %lld other%s ignored (unexpected = ignore): %s",
					    match, unexp, unexp == 1 ? "" : "s", others);
			} else {
				j->met = 0;
				wilson(bad, j->runs, &lo, &hi);
				cat(v, "FAILED: %lld of %lld runs failed (rate %.3g, 95%% CI %.3g-%.3g); first "
				    "at run %lld", bad, j->runs, (double)bad / (double)j->runs, lo, hi,
				    j->first_run);
				if (j->signature)
					cat(v, "; %lld %s (the bug is back), %lld other%s%s%s", j->repros, match,
					    unexp, unexp == 1 ? "" : "s", unexp ? ": " : "", unexp ? others : "");
			}
			break;
		}
		default:
			j->met = -1;
			wilson(j->failures, j->runs, &lo, &hi);
			if (j->failures)
				cat(v, "%lld of %lld runs failed (rate %.3g, 95%% CI %.3g-%.3g)", j->failures,
				    j->runs, (double)j->failures / (double)j->runs, lo, hi);
			else
				cat(v, "no failures in %lld runs", j->runs);
			if (j->signature && j->failures)
				cat(v, "; %lld %s", j->repros, match);
			if (untested(j)) {
				cat(v, "; UNTESTED: ");
				untested_why(j, v);
			}
		}
		if (!untested(j))
			injection_note(j, v);
		for (int k = 0; k < j->nwarnings; k++)
			cat(v, "; WARNING: %s", j->warnings[k]);
		free(match);
		free(others);
	}
	/* Confidence of each pass job from its control's rate of reproductions. */
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		if (j->expect != EXPECT_PASS || !j->control || !j->ran || j->harness_error)
			continue;
		struct job *c = find_job(jobs, njobs, j->control);
		long long tn = tested_runs(j);
		char *n = thousands(tn);
		const char *clean = tn == j->runs ? "clean runs" : "clean runs injection reached";
		if (!c || !c->ran || c->harness_error || !c->runs) {
			j->confidence = xasprintf("the control %s did not run, so the %s %s give no "
			                          "stated confidence", j->control, n, clean);
		} else if (!j->met) {
			j->confidence = xasprintf("not applicable: %s", j->verdict);
		} else if (!c->repros) {
			char *cn = thousands(c->runs);
			j->confidence = xasprintf("the control %s never reproduced (0 of %s runs), so %s %s "
			                          "say nothing about the fix", c->name, cn, n, clean);
			free(cn);
		} else {
			double lo, hi;
			wilson(c->repros, c->runs, &lo, &hi);
			double rate = (double)c->repros / (double)c->runs;
			double l10 = lo >= 1 ? -INFINITY : (double)tn * log10(1 - lo);
			char p[64];
			if (l10 < -300)
				snprintf(p, sizeof p, "below 1e-300");
			else
				snprintf(p, sizeof p, "%.2g", pow(10, l10));
			j->confidence = xasprintf("the %s rate was %.3g per run (95%% lower bound %.3g); "
			                          "%s %s would all pass with probability %s "
			                          "if the bug were still there",
			                          c->name, rate, lo, n, clean, p);
		}
		free(n);
	}
}

static bool job_ok(const struct job *j)
{
	if (j->harness_error || j->met == 0)
		return false;
	if (j->met < 0 && j->ran && (j->failures || j->interrupted || untested(j)))
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
	json_object_set_new(o, "seed_base", json_u64(S.seed_base));
	json_object_set_new(o, "scale", S.scale > 0 ? json_real(S.scale) : json_null());
	json_t *ja = json_array();
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		json_t *e = json_object();
		json_object_set_new(e, "name", json_str(j->name));
		json_object_set_new(e, "command", json_strv(j->argv, j->argc));
		json_object_set_new(e, "inject", jstr(j->inject));
		json_object_set_new(e, "expect", j->expect == EXPECT_FAIL   ? json_string("fail")
		                                 : j->expect == EXPECT_PASS ? json_string("pass")
		                                                            : json_null());
		json_object_set_new(e, "control", jstr(j->control));
		json_object_set_new(e, "signature", jstr(j->signature));
		json_object_set_new(e, "unexpected_policy",
		                    json_string(j->unexpected_ignore ? "ignore" : "fail"));
		json_object_set_new(e, "runs", json_integer(j->runs));
		json_object_set_new(e, "failures", json_integer(j->failures));
		json_object_set_new(e, "reproductions", json_integer(j->repros));
		json_object_set_new(e, "unexpected", json_integer(j->failures - j->repros));
		json_object_set_new(e, "rate", json_real(j->runs ? (double)j->failures / (double)j->runs : 0));
		double lo, hi;
		wilson(j->failures, j->runs, &lo, &hi);
		json_object_set_new(e, "rate_ci95", json_pack("[f,f]", lo, hi));
		json_t *sg = json_object();
		struct sig **v = sorted_sigs(j);
		for (int k = 0; k < j->nsigs; k++) {
			json_object_set_new(sg, v[k]->text,
			                    json_pack("{s:I,s:b,s:o}", "count", (json_int_t)v[k]->count,
			                              "reproduces", v[k]->repro, "kept",
			                              json_strv(v[k]->kept, v[k]->nkept)));
		}
		free(v);
		json_object_set_new(e, "signatures", sg);
		json_object_set_new(e, "first_failure",
		                    j->first_run >= 0 ? json_pack("{s:I,s:f}", "run", (json_int_t)j->first_run,
		                                                  "seconds", j->first_s)
		                                      : json_null());
		json_object_set_new(e, "first_reproduction",
		                    j->first_repro_run >= 0
		                        ? json_pack("{s:I,s:f}", "run", (json_int_t)j->first_repro_run,
		                                    "seconds", j->first_repro_s)
		                        : json_null());
		json_t *inj = json_null();
		if (j->inject_argv)
			inj = json_pack("{s:I,s:I,s:I,s:o,s:I,s:I}", "reached", (json_int_t)j->inj_reached,
			                "untouched", (json_int_t)j->inj_untouched, "lost",
			                (json_int_t)j->inj_lost, "matched_sites_max",
			                j->inj_fielded ? json_integer((json_int_t)j->inj_matched_max)
			                               : json_null(),
			                "full_runs", (json_int_t)j->inj_full_runs, "full_visits",
			                (json_int_t)j->inj_full_visits);
		json_object_set_new(e, "injection", inj);
		json_object_set_new(e, "warnings", json_strv(j->warnings, j->nwarnings));
		json_object_set_new(e, "runs_per_second",
		                    json_real(j->wall_s > 0 ? (double)j->runs / j->wall_s : 0));
		json_object_set_new(e, "wall_seconds", json_real(j->wall_s));
		json_object_set_new(e, "cpu_seconds", json_real(j->cpu_s));
		double mn, mx, md = median_of(j, &mn, &mx);
		json_object_set_new(e, "duration_ms", json_pack("{s:f,s:f,s:f}", "min", mn, "median", md,
		                                                "max", mx));
		json_object_set_new(e, "expectation_met", j->met < 0 ? json_null() : json_boolean(j->met));
		json_object_set_new(e, "verdict", jstr(j->verdict));
		json_object_set_new(e, "confidence", jstr(j->confidence));
		json_object_set_new(e, "harness_error", jstr(j->harness_error));
		json_array_append_new(ja, e);
	}
	json_object_set_new(o, "jobs", ja);
	char *s = json_dump_u64(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
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
			/* A well-formed sequence but U+FFFE and U+FFFF, which XML
			 * also forbids. */
			size_t n = utf8_seq(p, strnlen((const char *)p, 4));
			if (n && !(n == 3 && c == 0xef && p[1] == 0xbf && p[2] >= 0xbe)) {
				bput(b, (const char *)p, n);
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
	bprintf(&b, "%s: started %s, finished %s%s; seed base %llu", ok ? "PASS" : "FAIL", S.started,
	        S.finished, S.interrupted ? " (interrupted)" : "", (unsigned long long)S.seed_base);
	if (S.scale > 0)
		bprintf(&b, "; every job's count and time scaled by %g (--scale)", S.scale);
	bprintf(&b, ".\n\n");
	bprintf(&b, "| job | expect | runs | failures | reproductions | untouched | rate (95%% CI) | "
	        "first failure | runs/s | result |\n");
	bprintf(&b, "|---|---|---:|---:|---:|---:|---|---|---:|---|\n");
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		double lo, hi;
		wilson(j->failures, j->runs, &lo, &hi);
		char ff[64] = "-";
		if (j->first_run >= 0)
			snprintf(ff, sizeof ff, "run %lld, %.2f s", j->first_run, j->first_s);
		char un[32] = "-";
		if (j->inject_argv)
			snprintf(un, sizeof un, "%lld", j->inj_untouched);
		bprintf(&b, "| %s | %s | %lld | %lld | %lld | %s | %.3g (%.3g-%.3g) | %s | %.0f | %s |\n",
		        j->name, j->expect == EXPECT_FAIL ? "fail" : j->expect == EXPECT_PASS ? "pass" : "-",
		        j->runs, j->failures, j->repros, un,
		        j->runs ? (double)j->failures / (double)j->runs : 0, lo, hi,
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
		if (j->signature)
			bprintf(&b, "- signature: `%s`%s\n", j->signature,
			        j->unexpected_ignore ? " (unexpected = ignore)" : "");
		bprintf(&b, "- %s\n", j->verdict ? j->verdict : "");
		if (j->confidence)
			bprintf(&b, "- confidence: %s\n", j->confidence);
		struct sig **v = sorted_sigs(j);
		for (int k = 0; k < j->nsigs; k++) {
			bprintf(&b, "- `%s` x%lld%s", v[k]->text, v[k]->count,
			        j->expect != EXPECT_NONE || j->signature
			            ? (v[k]->repro ? " (reproduces)" : " (unexpected)") : "");
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
