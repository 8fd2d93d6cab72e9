/* What stress prints and writes: the status lines while a job runs, and at
 * the end summary.json, junit.xml and report.md, from the jobs' counts
 * (tally.c) and verdicts (verdict.c). */
#include "stress.h"

#include <jansson.h>
#include <limits.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* "1m5s: 8288 runs, 2 failures (0.02%) [checkdead: runnable g x2], 131 runs/s" */
void status_line(const struct runenv *env, const struct job *j, double elapsed, bool final)
{
	if (env->quiet)
		return;
	char el[32], sigs[512] = "";
	if (j->nsigs) {
		struct sig **v = sigs_by_count(j);
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
	const char *pre = env->tty ? "\r" : "", *post = env->tty && !final ? "\033[K" : "\033[K\n";
	if (!env->tty)
		post = "\n";
	char hung[128] = "";
	if (j->hung > 0)
		snprintf(hung, sizeof hung, ", waiting for %lld timed-out run%s left alive (pid %d, "
		         "-kill=false)", j->hung, j->hung == 1 ? "" : "s", j->hung_pid);
	printf("%s%s: %lld runs, %lld failures (%.2f%%)%s, %.0f runs/s%s%s", pre,
	       fmt_elapsed(elapsed, el, sizeof el), j->runs, j->failures, pct, sigs, rps, hung, post);
	fflush(stdout);
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



static char *summary_json(const struct session *ses, struct job *jobs, int njobs, bool ok)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_str(ses->name));
	json_object_set_new(o, "started", json_string(ses->started));
	json_object_set_new(o, "finished", json_string(ses->finished));
	json_object_set_new(o, "interrupted", json_boolean(ses->interrupted));
	json_object_set_new(o, "ok", json_boolean(ok));
	json_object_set_new(o, "seed_base", json_u64(ses->env.seed_base));
	json_object_set_new(o, "scale", ses->scale > 0 ? json_real(ses->scale) : json_null());
	shard_summary(o, ses, jobs, njobs);
	json_t *ja = json_array();
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		json_t *e = json_object();
		json_object_set_new(e, "name", json_str(j->name));
		json_object_set_new(e, "command", json_strv(j->argv, j->argc));
		json_object_set_new(e, "inject", json_str(j->inject));
		json_object_set_new(e, "expect", j->expect == EXPECT_FAIL   ? json_string("fail")
		                                 : j->expect == EXPECT_PASS ? json_string("pass")
		                                                            : json_null());
		json_object_set_new(e, "control", json_str(j->control));
		json_object_set_new(e, "signature", json_str(j->signature));
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
		struct sig **v = sigs_by_count(j);
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
		json_object_set_new(e, "verdict", json_str(j->verdict));
		json_object_set_new(e, "confidence", json_str(j->confidence));
		json_object_set_new(e, "harness_error", json_str(j->harness_error));
		shard_job_summary(e, j);
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

static void buf_add(struct buf *b, const char *s, size_t n)
{
	while (b->len + n + 1 > b->cap)
		b->s = xrealloc(b->s, b->cap = b->cap ? b->cap * 2 : 4096);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n >= 0) {
		buf_add(b, s, (size_t)n);
		free(s);
	}
}

/* XML text: escape markup, drop characters XML 1.0 forbids and invalid UTF-8. */
static void buf_add_xml(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = *p;
		if (c == '&')
			buf_add(b, "&amp;", 5);
		else if (c == '<')
			buf_add(b, "&lt;", 4);
		else if (c == '>')
			buf_add(b, "&gt;", 4);
		else if (c == '"')
			buf_add(b, "&quot;", 6);
		else if (c < 0x20 && c != '\n' && c != '\t')
			buf_add(b, "?", 1);
		else if (c < 0x80)
			buf_add(b, (const char *)p, 1);
		else {
			/* A well-formed sequence but U+FFFE and U+FFFF, which XML
			 * also forbids. */
			size_t n = utf8_seq(p, strnlen((const char *)p, 4));
			if (n && !(n == 3 && c == 0xef && p[1] == 0xbf && p[2] >= 0xbe)) {
				buf_add(b, (const char *)p, n);
				p += n;
				continue;
			}
			buf_add(b, "?", 1);
		}
		p++;
	}
}

static char *junit_xml(const struct session *ses, struct job *jobs, int njobs)
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
	buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"");
	buf_add_xml(&b, ses->name);
	buf_printf(&b, "\" tests=\"%lld\" failures=\"%lld\" errors=\"%lld\" skipped=\"%lld\" time=\"%.3f\">\n",
	        tests, fails, errors, skipped, t);
	buf_printf(&b, "  <testsuite name=\"");
	buf_add_xml(&b, ses->name);
	buf_printf(&b, "\" tests=\"%lld\" failures=\"%lld\" errors=\"%lld\" skipped=\"%lld\" time=\"%.3f\" "
	        "timestamp=\"%s\">\n", tests, fails, errors, skipped, t, ses->started);
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		buf_printf(&b, "    <testcase classname=\"stress.");
		buf_add_xml(&b, ses->name);
		buf_printf(&b, "\" name=\"");
		buf_add_xml(&b, j->name);
		buf_printf(&b, "\" time=\"%.3f\">\n", j->wall_s);
		if (j->harness_error) {
			buf_printf(&b, "      <error type=\"harness\" message=\"");
			buf_add_xml(&b, j->harness_error);
			buf_printf(&b, "\"/>\n");
		} else if (!j->ran) {
			buf_printf(&b, "      <skipped message=\"not run\"/>\n");
		} else if (!job_ok(j)) {
			buf_printf(&b, "      <failure type=\"%s\" message=\"",
			        j->expect == EXPECT_FAIL ? "not-reproduced" : "failures");
			buf_add_xml(&b, j->verdict);
			buf_printf(&b, "\">");
			if (j->first_trace) {
				if (j->first_kept) {
					buf_printf(&b, "first failure kept in ");
					buf_add_xml(&b, j->first_kept);
					buf_printf(&b, "\n\n");
				}
				buf_add_xml(&b, j->first_trace);
			}
			buf_printf(&b, "</failure>\n");
		}
		buf_printf(&b, "      <system-out>");
		buf_add_xml(&b, j->verdict ? j->verdict : "");
		if (j->confidence) {
			buf_printf(&b, "\n");
			buf_add_xml(&b, j->confidence);
		}
		if (job_ok(j) && j->first_trace) {
			buf_printf(&b, "\n\nfirst failure%s", j->first_kept ? " (kept in " : "");
			if (j->first_kept) {
				buf_add_xml(&b, j->first_kept);
				buf_printf(&b, ")");
			}
			buf_printf(&b, ":\n");
			buf_add_xml(&b, j->first_trace);
		}
		buf_printf(&b, "</system-out>\n    </testcase>\n");
	}
	buf_printf(&b, "  </testsuite>\n</testsuites>\n");
	return b.s;
}

static char *report_md(const struct session *ses, struct job *jobs, int njobs, bool ok)
{
	struct buf b = {0};
	buf_printf(&b, "# stress: %s\n\n", ses->name);
	buf_printf(&b, "%s: started %s, finished %s%s; seed base %llu", ok ? "PASS" : "FAIL",
	        ses->started, ses->finished, ses->interrupted ? " (interrupted)" : "",
	        (unsigned long long)ses->env.seed_base);
	if (ses->scale > 0)
		buf_printf(&b, "; every job's count and time scaled by %g (--scale)", ses->scale);
	buf_printf(&b, ".\n\n");
	char *note = shard_note(ses);
	if (note)
		buf_printf(&b, "%s\n\n", note);
	free(note);
	buf_printf(&b, "| job | expect | runs | failures | reproductions | untouched | rate (95%% CI) | "
	        "first failure | runs/s | result |\n");
	buf_printf(&b, "|---|---|---:|---:|---:|---:|---|---|---:|---|\n");
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
		buf_printf(&b, "| %s | %s | %lld | %lld | %lld | %s | %.3g (%.3g-%.3g) | %s | %.0f | %s |\n",
		        j->name, j->expect == EXPECT_FAIL ? "fail" : j->expect == EXPECT_PASS ? "pass" : "-",
		        j->runs, j->failures, j->repros, un,
		        j->runs ? (double)j->failures / (double)j->runs : 0, lo, hi,
		        ff, j->wall_s > 0 ? (double)j->runs / j->wall_s : 0,
		        j->harness_error ? "harness error" : !j->ran ? "not run" : job_ok(j) ? "ok" : "NOT OK");
	}
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		buf_printf(&b, "\n## %s\n\n", j->name);
		buf_printf(&b, "- command: `");
		for (int k = 0; k < j->argc; k++)
			buf_printf(&b, "%s%s", k ? " " : "", j->argv[k]);
		buf_printf(&b, "`\n");
		if (j->inject)
			buf_printf(&b, "- inject: `%s`\n", j->inject);
		if (j->signature)
			buf_printf(&b, "- signature: `%s`%s\n", j->signature,
			        j->unexpected_ignore ? " (unexpected = ignore)" : "");
		buf_printf(&b, "- %s\n", j->verdict ? j->verdict : "");
		if (j->confidence)
			buf_printf(&b, "- confidence: %s\n", j->confidence);
		struct sig **v = sigs_by_count(j);
		for (int k = 0; k < j->nsigs; k++) {
			buf_printf(&b, "- `%s` x%lld%s", v[k]->text, v[k]->count,
			        j->expect != EXPECT_NONE || j->signature
			            ? (v[k]->repro ? " (reproduces)" : " (unexpected)") : "");
			if (v[k]->nkept)
				buf_printf(&b, ", kept: %s%s", v[k]->kept[0], v[k]->nkept > 1 ? " ..." : "");
			buf_printf(&b, "\n");
		}
		free(v);
	}
	return b.s;
}

/* Every job's expectation holds and nothing failed the harness. */
static bool all_ok(const struct session *ses, struct job *jobs, int njobs)
{
	bool ok = !ses->harness_error;
	for (int i = 0; i < njobs; i++)
		ok = ok && job_ok(&jobs[i]);
	return ok;
}

/* Write summary.json, junit.xml, report.md and report.html (each atomically) into the
 * run dir, with the time they were finished; a file that cannot be written
 * is the session's write_error.  Returns the exit status the expectations
 * give (EXIT_OK or EXIT_UNMET). */
int write_reports(struct session *ses, struct job *jobs, int njobs)
{
	bool ok = all_ok(ses, jobs, njobs);
	utc_stamp(ses->finished, sizeof ses->finished, true);
	char *sj = summary_json(ses, jobs, njobs, ok), *jx = junit_xml(ses, jobs, njobs),
	     *md = report_md(ses, jobs, njobs, ok), *ht = report_html(ses, jobs, njobs, ok);
	char p[PATH_MAX + 32];
	const char *names[] = {"summary.json", "junit.xml", "report.md", "report.html"},
	           *texts[] = {sj, jx, md, ht};
	for (int i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s/%s", ses->env.rundir, names[i]);
		if (atomic_write(p, texts[i], strlen(texts[i]), 0644) < 0 && !ses->write_error)
			ses->write_error = xasprintf("cannot write %s: %s", p, strerror(errno));
	}
	free(sj);
	free(jx);
	free(md);
	free(ht);
	return ok ? EXIT_OK : EXIT_UNMET;
}

/* report.md on stdout, as write_reports wrote it (unless quiet). */
void print_report(const struct session *ses, struct job *jobs, int njobs)
{
	if (ses->env.quiet)
		return;
	char *md = report_md(ses, jobs, njobs, all_ok(ses, jobs, njobs));
	printf("\n%s\n", md);
	fflush(stdout);
	free(md);
}
