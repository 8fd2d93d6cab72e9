/* What a job's counts mean: its verdict line, whether its expectation is
 * met, its warnings, and a pass job's confidence from its control's rate.
 * stress/README.md ("What a verdict means") is the user's description;
 * every verdict says only what the runs show. */
#include "stress.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	struct sig **all = sigs_by_count(j);
	int n = 0;
	for (int i = 0; i < j->nsigs; i++)
		if (all[i]->repro == repro)
			all[n++] = all[i];
	char buf[700] = "";
	size_t len = 0;
	for (int i = 0; i < n && i < 4 && len < sizeof buf; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s x%lld", i ? ", " : "",
		                        all[i]->text, all[i]->count);
	if (n > 4 && len < sizeof buf)
		snprintf(buf + len, sizeof buf - len, ", ...");
	free(all);
	return xstrdup(buf);
}

static void add_warning(struct job *j, char *w)
{
	j->warnings = xrealloc(j->warnings, sizeof *j->warnings * (size_t)(j->nwarnings + 1));
	j->warnings[j->nwarnings++] = w;
}

/* Append printf-style to *s, a malloc'd string (or NULL). */
static void appendf(char **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void appendf(char **s, const char *fmt, ...)
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
		appendf(v, "injection never reached the program in any of %lld runs", j->runs);
	else if (j->inj_lost == j->runs)
		appendf(v, "no run left a complete injection log (%lld of %lld lost), so nothing shows "
		    "that injection reached the program", j->inj_lost, j->runs);
	else
		appendf(v, "injection reached none of the %lld runs (%lld untouched, %lld without a "
		    "complete log)", j->runs, j->inj_untouched, j->inj_lost);
}

/* What injection did, said after the verdict when some runs went untouched
 * or lost their log. */
static void injection_note(const struct job *j, char **v)
{
	if (!j->inject_argv || !j->runs)
		return;
	if (j->inj_untouched)
		appendf(v, "; injection never reached the program in %lld of %lld runs (no delay, no visit "
		    "to a site the plan could delay)", j->inj_untouched, j->runs);
	if (j->inj_lost)
		appendf(v, "; the injection log was missing or cut short in %lld of %lld runs (no evidence "
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

/* What every verdict line names: the failures that are not reproductions
 * (and whether they fail the job), what a reproduction is, the others. */
struct words {
	long long unexp;
	bool unexp_counts;
	char *match, *others;
};

/* expect = fail: reproduced, or not (and why not). */
static void verdict_fail(struct job *j, const struct words *w)
{
	long long unexp = w->unexp;
	bool unexp_counts = w->unexp_counts;
	const char *match = w->match, *others = w->others;
	double lo, hi;
	char **v = &j->verdict;
	j->met = j->repros > 0 && !unexp_counts;
	wilson(j->repros, j->runs, &lo, &hi);
	if (j->repros > 0) {
		appendf(v, "%sreproduced: first failure %s at run %lld after %.2f s; %lld of %lld "
		    "runs reproduced (rate %.3g, 95%% CI %.3g-%.3g)",
		    unexp_counts ? "UNEXPECTED FAILURES: " : "", match, j->first_repro_run,
		    j->first_repro_s, j->repros, j->runs, (double)j->repros / (double)j->runs,
		    lo, hi);
		if (unexp)
			appendf(v, "; %lld other failure%s %s: %s", unexp, unexp == 1 ? "" : "s",
			    unexp_counts ? "fail the job (unexpected = fail)"
			                 : "ignored (unexpected = ignore)", others);
	} else {
		appendf(v, "NOT REPRODUCED in %lld runs (%.1f s)", j->runs, j->wall_s);
		if (untested(j)) {
			appendf(v, ": ");
			untested_why(j, v);
		}
		if (unexp && !j->signature && j->nsigs == 1 &&
		    !strcmp(j->sigs[0].text, "timeout"))
			appendf(v, ": only %lld timeouts", unexp);
		else if (unexp)
			appendf(v, ": %lld failure%s, none %s: %s", unexp, unexp == 1 ? "" : "s",
			    match, others);
	}
}

/* expect = pass: passed with its upper bound, failed, interrupted, or
 * untested. */
static void verdict_pass(struct job *j, const struct words *w)
{
	long long unexp = w->unexp;
	const char *match = w->match, *others = w->others;
	double lo, hi;
	char **v = &j->verdict;
	long long bad = j->unexpected_ignore ? j->repros : j->failures;
	long long n = tested_runs(j);
	if (untested(j)) {
		j->met = 0;
		appendf(v, "UNTESTED: ");
		untested_why(j, v);
		appendf(v, ", so the runs say nothing about the fix; not a pass");
		if (j->failures)
			appendf(v, " (%lld failed anyway)", j->failures);
	} else if (bad == 0 && j->interrupted) {
		j->met = 0;
		appendf(v, "INTERRUPTED after %lld clean runs: the job did not finish", j->runs);
	} else if (bad == 0) {
		j->met = 1;
		wilson(0, n, &lo, &hi);
		appendf(v, "passed: %lld clean runs (failure rate below %.3g per run, 95%% upper "
		    "bound%s)", j->runs, hi,
		    n != j->runs ? ", over the runs injection reached" : "");
		if (j->failures)
			appendf(v, "; no failure %s, %lld other%s ignored (unexpected = ignore): %s",
			    match, unexp, unexp == 1 ? "" : "s", others);
	} else {
		j->met = 0;
		wilson(bad, j->runs, &lo, &hi);
		appendf(v, "FAILED: %lld of %lld runs failed (rate %.3g, 95%% CI %.3g-%.3g); first "
		    "at run %lld", bad, j->runs, (double)bad / (double)j->runs, lo, hi,
		    j->first_run);
		if (j->signature)
			appendf(v, "; %lld %s (the bug is back), %lld other%s%s%s", j->repros, match,
			    unexp, unexp == 1 ? "" : "s", unexp ? ": " : "", unexp ? others : "");
	}
}

/* No expectation: the failures, as counted. */
static void verdict_none(struct job *j, const struct words *w)
{
	double lo, hi;
	char **v = &j->verdict;
	j->met = -1;
	wilson(j->failures, j->runs, &lo, &hi);
	if (j->failures)
		appendf(v, "%lld of %lld runs failed (rate %.3g, 95%% CI %.3g-%.3g)", j->failures,
		    j->runs, (double)j->failures / (double)j->runs, lo, hi);
	else
		appendf(v, "no failures in %lld runs", j->runs);
	if (j->signature && j->failures)
		appendf(v, "; %lld %s", j->repros, w->match);
	if (untested(j)) {
		appendf(v, "; UNTESTED: ");
		untested_why(j, v);
	}
}

/* Decide job j's expectation (met) and write its verdict line. */
static void verdict(struct job *j)
{
	free(j->verdict);
	free(j->confidence);
	j->verdict = NULL;
	j->confidence = NULL;
	warnings_of(j);
	if (j->harness_error) {
		j->met = 0;
		j->verdict = xasprintf("HARNESS ERROR: %s", j->harness_error);
		return;
	}
	if (!j->ran) {
		j->met = -1;
		j->verdict = xstrdup("not run");
		return;
	}
	struct words w;
	w.unexp = j->failures - j->repros;
	w.unexp_counts = w.unexp > 0 && !j->unexpected_ignore;
	w.match = j->signature ? xasprintf("matching /%s/", j->signature)
	                       : xstrdup("(any failure but a timeout: no --signature)");
	w.others = sig_list(j, false);
	if (j->expect == EXPECT_FAIL)
		verdict_fail(j, &w);
	else if (j->expect == EXPECT_PASS)
		verdict_pass(j, &w);
	else
		verdict_none(j, &w);
	if (!untested(j))
		injection_note(j, &j->verdict);
	for (int k = 0; k < j->nwarnings; k++)
		appendf(&j->verdict, "; WARNING: %s", j->warnings[k]);
	/* A merge missing shards: what the runs there show is said, but no
	 * expectation holds on part of the runs (a missing shard may hold the
	 * failure a pass forbids, or an unexpected one). */
	if (j->partial) {
		char *v = xasprintf("PARTIAL (%s): %s", j->partial, j->verdict);
		free(j->verdict);
		j->verdict = v;
		j->met = 0;
	}
	free(w.match);
	free(w.others);
}

/* The confidence of pass job j (with a control) from its control's rate of
 * reproductions: how likely all its clean runs were, were the bug there. */
static void confidence(struct job *j, struct job *jobs, int njobs)
{
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

/* Decide each job's expectation and write its verdict and confidence. */
void judge(struct job *jobs, int njobs)
{
	for (int i = 0; i < njobs; i++)
		verdict(&jobs[i]);
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		if (j->expect == EXPECT_PASS && j->control && j->ran && !j->harness_error)
			confidence(j, jobs, njobs);
	}
}

/* Does job j hold: met, or with no expectation, clean and tested? */
bool job_ok(const struct job *j)
{
	if (j->harness_error || j->met == 0)
		return false;
	if (j->met < 0 && j->ran && (j->failures || j->interrupted || untested(j)))
		return false;
	return true;
}
