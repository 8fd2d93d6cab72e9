/* report: text table, JSON, SVG plot and the replay plan. */
#include "report.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/resultio.h"
#include "../common/wilson.h"
#include "../common/words.h"
#include "../common/xalloc.h"
#include "hunt.h"
#include "pairs.h"
#include "srcline.h"

static void fill_where(const struct hunt *h, struct row *funcs, int nf, struct row *sites, int ns)
{
	struct srcmap *m = h->binary ? srcmap_open(h->binary) : NULL;
	for (int i = 0; i < ns; i++)
		srcmap_lookup(m, sites[i].unit, sites[i].where, sizeof sites[i].where);
	/* A function row shows where its best-ranked delayed site is. */
	for (int i = 0; i < nf; i++)
		for (int j = 0; j < ns; j++) {
			char *f = site_func(sites[j].unit);
			int same = strcmp(f, funcs[i].unit) == 0;
			free(f);
			if (same && strcmp(sites[j].where, "-") != 0) {
				snprintf(funcs[i].where, sizeof funcs[i].where, "%s", sites[j].where);
				break;
			}
		}
	srcmap_close(m);
}

static const struct confirm *conf_of(const struct hunt *h, const char *unit, int exact)
{
	for (int i = 0; i < h->nconf; i++)
		if (h->conf[i].nset == 1 && h->conf[i].exact == exact &&
		    strcmp(h->conf[i].set[0], unit) == 0)
			return &h->conf[i];
	return NULL;
}

static const char *conf_word(const struct confirm *c)
{
	if (!c)
		return "-";
	if (!c->done)
		return c->tested ? "incomplete (sufficiency only)" : "incomplete";
	if (c->except_n == 0)
		return c->sufficient ? "sufficient" : "not sufficient";
	if (c->sufficient && c->needed && c->replaced)
		return "needed+sufficient, but a pair with it fails more";
	if (c->sufficient && c->needed)
		return "CULPRIT (needed+sufficient)";
	if (c->sufficient)
		return "sufficient, not needed";
	if (c->needed)
		return "needed, not sufficient";
	/* Neither shown in --confirm runs: not evidence that it is innocent
	 * (3 failures in 40 against none is inconclusive, not a refutation). */
	return "neither shown";
}

static void shell_word(FILE *o, const char *w)
{
	char *q = shquote(w);
	fputs(q, o);
	free(q);
}

/* P relative to the current folder when it is inside it (the plan's
 * paths are relative to the folder hunt ran in). */
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

static char *plan_line(const struct hunt *h)
{
	if (!h->culprit)
		return NULL;
	const char *sites = h->exact_site ? h->exact_site : h->culprit->sites;
	char *buf = NULL;
	size_t n = 0;
	FILE *o = open_memstream(&buf, &n);
	shell_word(o, relpath(h->inject));
	/* No --seed: the plan is the configuration confirmation measured, with a fresh seed
	 * each run, so its reproduction rate is the confirmed one.  Pinning one failing run's
	 * seed would replay that run's decisions, whose rate can be anything from 0 to 1. */
	fprintf(o, " --prob %s %s ", h->culprit->prob[0] ? h->culprit->prob : h->prob,
		h->plan ? "--plan" : "--delay");
	shell_word(o, h->plan ? h->plan : h->delay);
	fputs(" --sites ", o);
	shell_word(o, sites);
	for (int i = 0; i < h->nextra; i++) {
		fputc(' ', o);
		shell_word(o, h->extra_argv[i]);
	}
	fputs(" --", o);
	for (int i = 0; i < h->ncmd; i++) {
		fputc(' ', o);
		shell_word(o, h->cmd[i]);
	}
	fclose(o);
	return buf;
}

static void rate(FILE *o, long k, long n)
{
	double lo, hi;
	wilson(k, n, &lo, &hi);
	if (n == 0)
		fprintf(o, "%-24s", "    -");
	else {
		char b[64];
		snprintf(b, sizeof b, "%3ld/%-3ld %5.1f%% [%2.0f-%3.0f]", k, n, 100.0 * k / n,
			 100 * lo, 100 * hi);
		fprintf(o, "%-24s", b);
	}
}

static void table(const struct hunt *h, FILE *o, const char *title, struct row *rows, int n,
		  int exact, int limit)
{
	fprintf(o, "%s\n", title);
	fprintf(o, "%-4s %-28s %-26s %-24s %-24s %-9s %s\n", "rank", exact ? "site" : "function",
		"where", "delayed: fail rate [95%]", "undelayed: fail rate", "p (Bonf)",
		"confirmation");
	for (int i = 0; i < n && i < limit; i++) {
		struct row *w = &rows[i];
		fprintf(o, "%-4d %-28s %-26s ", i + 1, w->unit, w->where);
		rate(o, w->a, w->n1);
		fputc(' ', o);
		rate(o, w->c, w->n0);
		fprintf(o, " %-9.2g %s\n", w->padj, w->after_failure ? "untested: only failing runs "
			"visit it" : conf_word(conf_of(h, w->unit, exact)));
	}
	if (n > limit)
		fprintf(o, "     ... %d more in hunt.json\n", n - limit);
}

/* Append V to the array A; a NULL V (a value jansson could not build) makes
 * the whole document fail instead of silently leaving an element out. */
static void push(json_t *a, json_t *v, int *bad)
{
	if (!v || json_array_append_new(a, v) < 0)
		(*bad)++;
}

static json_t *jrow(const struct hunt *h, const struct row *w, int exact)
{
	const struct confirm *c = conf_of(h, w->unit, exact);
	json_t *o = json_pack("{s:o, s:o, s:I, s:{s:I, s:I, s:f, s:[f,f]}, s:{s:I, s:I, s:f, s:[f,f]},"
			      " s:f, s:f, s:f, s:s, s:b}",
			      exact ? "site" : "function", json_str(w->unit),
			      "where", json_str(w->where),
			      "visited_runs", (json_int_t)w->visited,
			      "delayed", "runs", (json_int_t)w->n1, "failures", (json_int_t)w->a,
			      "rate", w->r1, "ci95", w->lo1, w->hi1,
			      "undelayed", "runs", (json_int_t)w->n0, "failures", (json_int_t)w->c,
			      "rate", w->r0, "ci95", w->lo0, w->hi0,
			      "p", w->p, "p_bonferroni", w->padj, "mean_delay_ms", w->delay_ms,
			      "confirmation", conf_word(c), "only_in_failing_runs", w->after_failure);
	return o;
}

static json_t *jconf(const struct confirm *c)
{
	json_t *set = json_strv(c->set, c->nset);
	double lo, hi, elo, ehi;
	wilson(c->only_f, c->only_n, &lo, &hi);
	wilson(c->except_f, c->except_n, &elo, &ehi);
	double clo, chi;
	wilson(c->ctrl_f, c->ctrl_n, &clo, &chi);
	json_t *o = json_pack("{s:o, s:b, s:{s:I, s:I, s:I, s:f, s:[f,f]},"
			      " s:{s:I, s:I, s:f, s:[f,f], s:o}, s:o, s:b}",
			      "set", set, "exact_sites", c->exact,
			      "only", "runs", (json_int_t)c->only_n, "failures", (json_int_t)c->only_f,
			      "set_delayed_runs", (json_int_t)c->only_delayed,
			      "rate", c->only_n ? (double)c->only_f / c->only_n : 0.0, "ci95", lo, hi,
			      "control", "runs", (json_int_t)c->ctrl_n,
			      "failures", (json_int_t)c->ctrl_f,
			      "rate", c->ctrl_n ? (double)c->ctrl_f / c->ctrl_n : 0.0, "ci95", clo, chi,
			      "borrowed_from", c->ctrl_of ? json_str(c->ctrl_of->sites) : json_null(),
			      "p_sufficient", c->tested ? json_real(c->p_suff) : json_null(),
			      "sufficient", c->sufficient);
	if (o)
		json_object_set_new(o, "complete", json_boolean(c->done));
	if (o)
		json_object_set_new(o, "prob", json_str(c->prob));
	if (o)
		json_object_set_new(o, "replaced_by_pair", json_boolean(c->replaced));
	if (o && c->except_n > 0) {
		json_object_set_new(o, "except", json_pack("{s:I, s:I, s:f, s:[f,f]}",
			"runs", (json_int_t)c->except_n, "failures", (json_int_t)c->except_f,
			"rate", (double)c->except_f / c->except_n, "ci95", elo, ehi));
		json_object_set_new(o, "p_needed", json_real(c->p_need));
		json_object_set_new(o, "needed", json_boolean(c->needed));
	}
	return o;
}

/* Text for an SVG element: escaped, and valid UTF-8 without the control
 * characters XML forbids (U+FFFD for each bad byte): a file name from DWARF
 * or a site name can hold any bytes. */
static void xml(FILE *o, const char *raw)
{
	char *fixed = utf8_fix(raw, UTF8_CTL);
	for (const char *s = fixed ? fixed : "?"; *s; s++)
		switch (*s) {
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '&': fputs("&amp;", o); break;
		case '"': fputs("&quot;", o); break;
		default: fputc(*s, o);
		}
	free(fixed);
}

/* Horizontal bars per site: failure rate when delayed (with its Wilson
 * interval) over the rate when not delayed (grey). */
static char *svg(const struct hunt *h, struct row *sites, int ns, const char *culprit)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	int n = ns < 30 ? ns : 30;
	int left = 380, width = 420, top = 60, rowh = 22;
	int height = top + n * rowh + 60;
	fprintf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"font-family=\"monospace\" font-size=\"12\">\n", left + width + 40, height);
	fprintf(o, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fprintf(o, "<text x=\"10\" y=\"20\" font-size=\"14\">hunt: failure rate per lock-release "
		"site (screening, %ld runs)</text>\n", h->blind_runs ? h->blind_runs : 0);
	fprintf(o, "<text x=\"10\" y=\"40\" fill=\"#555\">bar: runs where the site was delayed "
		"(95%% Wilson interval); grey: runs where it was not</text>\n");
	for (int t = 0; t <= 10; t += 2) {
		int x = left + width * t / 10;
		fprintf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>\n", x, top - 5,
			x, top + n * rowh);
		fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%d%%</text>\n", x,
			top + n * rowh + 16, t * 10);
	}
	for (int i = 0; i < n; i++) {
		struct row *w = &sites[i];
		int y = top + i * rowh;
		int hot = culprit && strcmp(w->unit, culprit) == 0;
		fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\"%s>", left - 8, y + 14,
			hot ? " font-weight=\"bold\" fill=\"#b00\"" : "");
		xml(o, w->unit);
		if (strcmp(w->where, "-") != 0) {
			fputs(" (", o);
			const char *base = strrchr(w->where, '/');
			xml(o, base ? base + 1 : w->where);
			fputs(")", o);
		}
		fputs("</text>\n", o);
		fprintf(o, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"8\" fill=\"#bbb\"/>\n", left,
			y + 12, width * w->r0);
		fprintf(o, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"10\" fill=\"%s\"/>\n", left,
			y + 2, width * w->r1, hot ? "#c33" : "#47a");
		fprintf(o, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"black\"/>\n",
			left + width * w->lo1, y + 7, left + width * w->hi1, y + 7);
	}
	fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">failure rate</text>\n",
		left + width / 2, top + n * rowh + 36);
	fprintf(o, "</svg>\n");
	fclose(o);
	return buf;
}

/* The first result file that could not be written, and why. */
static char write_error[PATH_MAX + 256];

/* Write one result file whole (or not at all); a failure is remembered, and
 * makes hunt's exit status 125: a report that is not there is no verdict. */
static void save(const struct hunt *h, const char *name, const char *text, int mode)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/%s", h->dir, name);
	if (text && atomic_write(path, text, strlen(text), mode) == 0)
		return;
	if (!write_error[0])
		snprintf(write_error, sizeof write_error, "cannot write %s: %s", path,
			 text ? strerror(errno) : "its text could not be built (a value jansson refused)");
}

const char *report_write_error(void)
{
	return write_error[0] ? write_error : NULL;
}

/* The verdict the runs support, its reason and the exit status. */
static const char *judge(const struct hunt *h, struct row *funcs, int nf, char *why, size_t n,
			 int *rc)
{
	long f, p, x, bf, bp, bx;
	rank_outcomes(&h->runs, PH_BLIND, &f, &p, &x);
	rank_outcomes(&h->runs, PH_BASE, &bf, &bp, &bx);
	*rc = 1;
	if (h->no_sites) {
		/* /bin/true, /bin/false, a program without pthread mutexes: the
		 * shim ran and found nothing to delay, so the runs tested nothing
		 * and support no claim about the race. */
		snprintf(why, n, "COMMAND visited no lock-release site hunt can delay in %ld runs "
			 "without delays (%ld of them failed), so no delay could be injected and the "
			 "runs test nothing%s", bf + bp + bx, bf, bf ? "; its failures happen "
			 "without any delay" : "");
		return "injection never reached the program";
	}
	if (h->culprit) {
		*rc = 0;
		const struct confirm *c = h->culprit;
		snprintf(why, n, "delaying only %s reproduces the failure (%ld/%ld runs, against "
			 "%ld/%ld in a fresh control without a delay there)%s", c->sites, c->only_f,
			 c->only_n, c->ctrl_f, c->ctrl_n, c->needed ?
			 ", and delaying everything else does not" :
			 "; other sites can also trigger it (not needed)");
		const struct confirm *s = h->superseded;
		if (s) {
			size_t l = strlen(why);
			snprintf(why + l, n - l, "; %s alone was confirmed too but fails less often "
				 "(%ld/%ld, p=%.2g): the failure needs both", s->sites, s->only_f,
				 s->only_n, h->p_more);
		}
		return "culprit";
	}
	if (f + p == 0) {
		snprintf(why, n, "no screening run can be counted (%ld ran, %ld excluded: %s), so "
			 "nothing can be said about the race", f + p + x, x, h->runs.fail_on ?
			 "failures with another signature than --fail-on" :
			 "timeouts, see --count-timeouts");
		return "inconclusive";
	}
	if (h->blind_delayed == 0) {
		snprintf(why, n, "no delay was injected in any of the %ld screening runs (%ld failed), "
			 "so they test nothing", f + p + x, f);
		return "injection never reached the program";
	}
	if (h->nanalyze && nf > 0 && funcs[0].padj < h->alpha && funcs[0].a > 0) {
		*rc = 0;
		snprintf(why, n, "%s's delays predict failure (p=%.2g, Bonferroni); not confirmed "
			 "(--analyze runs no campaigns)", funcs[0].unit, funcs[0].padj);
		return "candidate";
	}
	if (f == 0) {
		double lo, hi;
		wilson(0, f + p, &lo, &hi);
		char more[128] = "";
		if (x)
			snprintf(more, sizeof more, "; %ld more runs were excluded (%s)", x,
				 h->runs.fail_on ? "other signatures than --fail-on" : "timeouts");
		snprintf(why, n, "0 failures in %ld screening runs with random delays (failure rate "
			 "below %.1f%% at 95%%; a delay was injected in %ld of all %ld)%s", f + p,
			 100 * hi, h->blind_delayed, f + p + x, more);
		return "nothing reproduces";
	}
	if (h->ncand == 0) {
		snprintf(why, n, "%ld failures in %ld screening runs, but no site's delays predict "
			 "them (best: %s, p=%.2g after Bonferroni)", f, f + p, nf ? funcs[0].unit : "-",
			 nf ? funcs[0].padj : 1.0);
		return "no culprit";
	}
	snprintf(why, n, "%d candidate(s) from screening, none confirmed on fresh runs%s%s",
		 h->ncand, h->conf_note ? ": " : "", h->conf_note ? h->conf_note : "");
	return "no culprit";
}

/* plan.sh: the plan, run from the folder hunt ran in (its paths are
 * relative to it), as stress's replay.sh does. */
static char *plan_script(const char *plan)
{
	char *sh = NULL, *cwd = getcwd(NULL, 0);
	size_t sn = 0;
	FILE *s = open_memstream(&sh, &sn);
	fprintf(s, "#!/bin/sh\n# hunt's plan: delay only the culprit (paths are relative to the "
		"folder hunt ran in)\ncd ");
	shell_word(s, cwd ? cwd : ".");
	fprintf(s, " || exit 125\nexec %s\n", plan);
	fclose(s);
	free(cwd);
	return sh;
}

/* hunt.json's text, with the seed spliced in as the exact unsigned 64-bit
 * number (jansson's integers stop at 2^63-1).  The key is at the top level,
 * so its line is "\n  \"seed\": 0," where the placeholder 0 was packed; no
 * string can hold that (JSON escapes a newline inside a string). */
static char *with_seed(const struct hunt *h, char *text)
{
	static const char key[] = "\n  \"seed\": 0,";
	char *at = text ? strstr(text, key) : NULL;
	if (!at) {
		free(text);
		return NULL;
	}
	*at = 0;
	char *out = xasprintf("%s\n  \"seed\": %llu,%s", text, (unsigned long long)h->seed,
			      at + strlen(key));
	free(text);
	return out;
}

int report(const struct hunt *h, struct row *funcs, int nf, struct row *sites, int ns, int abort_rc)
{
	fill_where(h, funcs, nf, sites, ns);
	long f, p, x;
	rank_outcomes(&h->runs, PH_BLIND, &f, &p, &x);
	long bf, bp, bx;
	rank_outcomes(&h->runs, PH_BASE, &bf, &bp, &bx);
	char *plan = abort_rc ? NULL : plan_line(h);
	const char *culprit_site = abort_rc ? NULL : h->exact_site;

	const char *verdict, *reason;
	char why[8192];
	int rc;
	if (abort_rc) {
		verdict = h->abort_verdict;
		reason = h->abort_reason;
		rc = abort_rc;
	} else {
		verdict = judge(h, funcs, nf, why, sizeof why, &rc);
		reason = why;
	}

	char *text = NULL;
	size_t tn = 0;
	FILE *o = open_memstream(&text, &tn);
	fprintf(o, "hunt: %s\n", verdict);
	fprintf(o, "command:");
	for (int i = 0; i < h->ncmd; i++) {
		fputc(' ', o);
		shell_word(o, h->cmd[i]);
	}
	fprintf(o, "\nscreening: %ld runs (%ld failed, %ld excluded, %ld with a delay), stopped "
		"on %s; delays --prob %s %s %s, each site in a batch's subset with chance %.2f; "
		"baseline without delays: %ld/%ld failed\n",
		f + p, f, x, h->blind_delayed, h->nanalyze ? "input" : h->stop_reason ?
		h->stop_reason : "-", h->prob[0] ? h->prob : "?", h->plan ? "--plan" : "--delay",
		h->plan ? h->plan : h->delay, h->fraction, bf,
		bf + bp);
	fprintf(o, "test: one-sided Fisher exact (delayed runs fail more), Bonferroni over %d "
		"functions / %d sites; confirmation: one-sided Fisher on fresh runs (only-set "
		"against a fresh control, and against except-set), Bonferroni over %d tests; alpha "
		"%.3g\n\n", h->tested_funcs, h->tested_sites, h->conf_tests, h->alpha);
	table(h, o, "by function:", funcs, nf, 0, 15);
	fputc('\n', o);
	table(h, o, "by site:", sites, ns, 1, 15);
	/* The pair stage's rows when it ran (its fresh runs test the pairs);
	 * else the screening's. */
	struct pair *pairs;
	int npairs = h->pair_phase ? stage_pairs(&h->runs, h->pair_phase, h->pair_units,
						 h->npair_units, h->pair_anchor, &pairs)
				   : rank_pairs(&h->runs, PH_BLIND, funcs, nf, PAIR_TOP, targetable,
						&pairs);
	if (npairs > 0 && h->pair_anchor) {
		int k = h->npair_units;
		fprintf(o, "\npairs of functions, pair stage, with %s in every run (both delayed "
			"against exactly one, Bonferroni over %d pairs):\n", h->pair_anchor,
			k * (k - 1) / 2);
	} else if (npairs > 0) {
		fprintf(o, "\npairs of functions, %s (both delayed against exactly one, Bonferroni "
			"over %d pairs):\n", h->pair_phase ? "pair stage" : "screening", npairs);
	}
	if (npairs > 0) {
		for (int i = 0; i < npairs && i < 5; i++) {
			const struct pair *q = &pairs[i];
			char name[600];
			snprintf(name, sizeof name, "%s + %s", q->a, q->b);
			fprintf(o, "%-4d %-55s both ", i + 1, name);
			rate(o, q->f11, q->n11);
			fputs(" one ", o);
			rate(o, q->f1, q->n1);
			fprintf(o, " %-9.2g\n", q->padj);
		}
	}
	if (h->nconf) {
		fprintf(o, "\nconfirmation (fresh runs):\n");
		for (int i = 0; i < h->nconf; i++) {
			const struct confirm *c = &h->conf[i];
			fprintf(o, "  only %-28s ", c->sites);
			rate(o, c->only_f, c->only_n);
			if (c->prob[0] && strcmp(c->prob, h->prob))
				fprintf(o, " (--prob %s)", c->prob);
			if (c->tested)
				fprintf(o, " vs control %ld/%ld%s: p=%.2g", c->ctrl_f, c->ctrl_n,
					c->ctrl_of ? " (its function's)" : "", c->p_suff);
			else
				fprintf(o, " (its control did not finish)");
			if (c->except_n) {
				fprintf(o, "\n  except %-26s ", c->sites);
				rate(o, c->except_f, c->except_n);
				fprintf(o, " vs only: p=%.2g", c->p_need);
			}
			fprintf(o, "  => %s\n", conf_word(c));
		}
	}
	fprintf(o, "\nverdict: %s: %s\n", verdict, reason);
	if (h->culprit && !abort_rc) {
		fprintf(o, "culprit: %s", h->culprit->sites);
		if (culprit_site)
			fprintf(o, " (site %s", culprit_site);
		for (int i = 0; culprit_site && i < ns; i++)
			if (strcmp(sites[i].unit, culprit_site) == 0)
				fprintf(o, " at %s", sites[i].where);
		if (culprit_site)
			fputs(")", o);
		fputc('\n', o);
		fprintf(o, "plan: %s\n", plan);
	}
	fprintf(o, "runs: %ld in %ld stress campaigns, %.1f s (screening %.1f s)\n", h->total_runs,
		h->stress_calls, elapsed(h), h->blind_s);
	fclose(o);
	/* The files first: a closed stdout (a hung-up terminal) must not cost
	 * the report. */
	save(h, "hunt.txt", text, 0644);
	if (plan) {
		char *sh = plan_script(plan);
		save(h, "plan.sh", sh, 0755);
		free(sh);
	}

	/* Every string that comes from outside (command words, paths, site and
	 * file names, option values, and the reason and plan built from them)
	 * goes through json_str: U+FFFD for bytes that are not UTF-8.  Any value
	 * jansson still cannot build fails hunt.json as a whole (exit 125). */
	int bad = 0;
	json_t *jf = json_array(), *js = json_array(), *jc = json_array();
	for (int i = 0; jf && i < nf; i++)
		push(jf, jrow(h, &funcs[i], 0), &bad);
	for (int i = 0; js && i < ns; i++)
		push(js, jrow(h, &sites[i], 1), &bad);
	for (int i = 0; jc && i < h->nconf; i++)
		push(jc, jconf(&h->conf[i]), &bad);
	json_t *jp = json_array();
	for (int i = 0; jp && i < npairs; i++) {
		const struct pair *q = &pairs[i];
		push(jp, json_pack("{s:[o,o], s:{s:I, s:I}, s:{s:I, s:I}, s:{s:I, s:I}, s:f, s:f}",
				   "functions", json_str(q->a), json_str(q->b),
				   "both", "runs", (json_int_t)q->n11, "failures", (json_int_t)q->f11,
				   "one", "runs", (json_int_t)q->n1, "failures", (json_int_t)q->f1,
				   "neither", "runs", (json_int_t)q->n0, "failures", (json_int_t)q->f0,
				   "p", q->p, "p_bonferroni", q->padj), &bad);
	}
	free(pairs);
	json_t *culp = json_null();
	if (h->culprit && !abort_rc)
		culp = json_pack("{s:o, s:o, s:b, s:b, s:o}",
				 "functions", json_strv(h->culprit->set, h->culprit->nset),
				 "site", json_str(culprit_site),
				 "sufficient", h->culprit->sufficient,
				 "needed", h->culprit->needed,
				 "replaces", h->superseded ?
				 json_pack("{s:o, s:I, s:I, s:f}", "functions",
					   json_strv(h->superseded->set, h->superseded->nset),
					   "only_runs", (json_int_t)h->superseded->only_n,
					   "only_failures", (json_int_t)h->superseded->only_f,
					   "p", h->p_more) : json_null());
	json_t *root = json_pack("{s:s, s:o, s:i, s:b, s:o, s:o, s:i, s:o, s:o, s:f, s:f, s:f}",
				 "verdict", verdict, "reason", json_str(reason), "exit", rc,
				 "interrupted", h->stop_sig != 0,
				 "command", json_strv(h->cmd, h->ncmd),
				 "binary", json_str(h->binary),
				 "seed", 0, "prob", json_str(h->prob),
				 "delay", json_str(h->plan ? NULL : h->delay),
				 "fraction", h->fraction, "alpha", h->alpha,
				 "time_limit_seconds", h->time_limit);
	if (root && json_object_set_new(root, "family", json_str(h->plan)) < 0)
		bad++;
	const char *keys[] = {"screening", "functions", "sites", "pairs", "confirmations",
			      "culprit", "plan", "runs_total", "wall_seconds"};
	json_t *vals[] = {
		json_pack("{s:I, s:I, s:I, s:I, s:o, s:I, s:I}",
			  "runs", (json_int_t)(f + p), "failures", (json_int_t)f,
			  "excluded", (json_int_t)x, "delayed_runs", (json_int_t)h->blind_delayed,
			  "stopped", json_str(h->nanalyze ? "input" : h->stop_reason),
			  "baseline_runs", (json_int_t)(bf + bp), "baseline_failures", (json_int_t)bf),
		jf, js, jp, jc, culp, json_str(plan), json_integer(h->total_runs),
		json_real(elapsed(h))};
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (!vals[i] || json_object_set_new(root, keys[i], vals[i]) < 0)
			bad++;
	char *js_text = bad || !root ? NULL : with_seed(h, json_dumps(root, JSON_INDENT(2) |
								    JSON_PRESERVE_ORDER));
	json_decref(root);
	save(h, "hunt.json", js_text, 0644);
	free(js_text);

	char *sv = svg(h, sites, ns, culprit_site);
	save(h, "failure-rate.svg", sv, 0644);
	free(sv);
	if (!abort_rc || h->stop_sig)
		fputs(text, stdout);
	printf("results: %s\n", h->dir);
	free(plan);
	free(text);
	return write_error[0] ? 125 : rc;
}
