/* report.html: what report.md says, drawn, for a person opening the results
 * in the morning.  Self-contained: inline CSS and SVG drawn here, no script,
 * no font, no image to fetch; a Content-Security-Policy forbids any load,
 * so a page that tried one would show it as an error in the browser's
 * console (tests/test_report_html.py looks there).
 *
 * Per job: the verdict, the rate of failures with its 95% Wilson interval
 * on a 0-1 scale, the failures over the runs (cumulative, reproductions and
 * unexpected ones apart) with the first failure marked, the signatures with
 * their counts and, for each kept failure, links to its output, trace.json,
 * replay.sh and meta.json and the commands that replay it; then the first
 * kept failure that has a trace.json, drawn as one lane per thread
 * (timeline.c); and an empty <div class="history"> where a per-night history
 * of the job's rate can be put (stress history). */
#include "stress.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A relative path as an href: every byte but the unreserved and '/'
 * percent-encoded. */
static void href(FILE *f, const char *path)
{
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~/", *p))
			fputc(*p, f);
		else
			fprintf(f, "%%%02X", *p);
	}
}

static const char style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1100px;color:#222;"
	"padding:0 1em}"
	"h1{font-size:1.5em}h2{font-size:1.2em;margin:0 0 .4em}"
	"section.job{border:1px solid #ccc;border-radius:6px;padding:1em;margin:1.2em 0}"
	".ok{color:#fff;background:#2a7d2e}.bad{color:#fff;background:#b3261e}"
	".na{color:#222;background:#ddd}"
	".verdict{padding:.15em .5em;border-radius:4px;font-weight:600}"
	"table{border-collapse:collapse;margin:.5em 0}"
	"td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}"
	"th{background:#f4f4f4}code{background:#f4f4f4;padding:0 .2em;word-break:break-all}"
	"figure{margin:.6em 0}figcaption{color:#555;font-size:.9em}"
	".history:empty{display:none}"
	"svg text{font:11px system-ui,sans-serif;fill:#333}";

/* The rate and its interval on a 0-1 scale. */
static void rate_svg(FILE *f, const struct job *j)
{
	double lo, hi, r = j->runs ? (double)j->failures / (double)j->runs : 0;
	wilson(j->failures, j->runs, &lo, &hi);
	const int W = 420, x0 = 10, w = 400;
	fprintf(f, "<svg class=\"rate\" width=\"%d\" height=\"46\" viewBox=\"0 0 %d 46\" role=\"img\">"
	        "<title>failure rate %.4g, 95%% CI %.4g-%.4g</title>", W, W, r, lo, hi);
	fprintf(f, "<line x1=\"%d\" y1=\"20\" x2=\"%d\" y2=\"20\" stroke=\"#bbb\"/>", x0, x0 + w);
	for (int k = 0; k <= 10; k++)
		fprintf(f, "<line x1=\"%g\" y1=\"16\" x2=\"%g\" y2=\"24\" stroke=\"#bbb\"/>",
		        x0 + w * k / 10.0, x0 + w * k / 10.0);
	fprintf(f, "<text x=\"%d\" y=\"40\">0</text><text x=\"%d\" y=\"40\" text-anchor=\"end\">1</text>",
	        x0, x0 + w);
	fprintf(f, "<rect x=\"%.1f\" y=\"13\" width=\"%.1f\" height=\"14\" fill=\"#e8a33d\" "
	        "fill-opacity=\".45\"/>", x0 + w * lo, w * (hi - lo) > 1 ? w * (hi - lo) : 1);
	fprintf(f, "<circle cx=\"%.1f\" cy=\"20\" r=\"4\" fill=\"#b3261e\"/>", x0 + w * r);
	fprintf(f, "<text x=\"%.1f\" y=\"10\" text-anchor=\"middle\">%.3g (%.3g-%.3g)</text></svg>",
	        x0 + w * (lo + hi) / 2, r, lo, hi);
}

/* Failures over the runs: the cumulative count against the run index. */
static void fails_svg(FILE *f, const struct job *j)
{
	const int W = 640, H = 170, L = 46, R = 12, T = 12, B = 30;
	double pw = W - L - R, ph = H - T - B;
	/* Run index 0 at the left edge, the last at the right. */
	long long n = j->runs > 1 ? j->runs - 1 : 1, nf = j->failures > 0 ? j->failures : 1;
	fprintf(f, "<svg class=\"fails\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">"
	        "<title>%lld failures in %lld runs</title>", W, H, W, H, j->failures, j->runs);
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#ccc\"/>",
	        L, T, pw, ph);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%lld</text>", L - 4, T + 8, j->failures);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>", L - 4, T + (int)ph);
	fprintf(f, "<text x=\"%d\" y=\"%d\">run 0</text>", L, H - 10);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">run %lld</text>", W - R, H - 10,
	        j->runs ? j->runs - 1 : 0);
	fprintf(f, "<text x=\"%g\" y=\"%d\" text-anchor=\"middle\">failures so far, by run index</text>",
	        L + pw / 2, H - 10);
	/* Runs finish out of order on -p workers: sort the points by run. */
	struct failpt *v = xmalloc(sizeof *v * (j->nfails + 1));
	memcpy(v, j->fails, sizeof *v * j->nfails);
	for (size_t a = 1; a < j->nfails; a++)
		for (size_t b = a; b > 0 && v[b - 1].run > v[b].run; b--) {
			struct failpt t = v[b];
			v[b] = v[b - 1];
			v[b - 1] = t;
		}
	fprintf(f, "<polyline fill=\"none\" stroke=\"#555\" points=\"%d,%g", L, T + ph);
	for (size_t k = 0; k < j->nfails; k++) {
		double x = L + pw * (double)v[k].run / (double)n;
		fprintf(f, " %.1f,%.1f %.1f,%.1f", x, T + ph - ph * (double)k / (double)nf, x,
		        T + ph - ph * (double)(k + 1) / (double)nf);
	}
	fprintf(f, " %g,%.1f\"/>", L + pw, T + ph - ph * (double)j->nfails / (double)nf);
	for (size_t k = 0; k < j->nfails; k++)
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"><title>run %lld, %.2f s"
		        "%s</title></circle>", L + pw * (double)v[k].run / (double)n,
		        T + ph - ph * (double)(k + 1) / (double)nf, v[k].repro ? "#b3261e" : "#e8a33d",
		        v[k].run, v[k].t, v[k].repro ? "" : " (unexpected)");
	if (j->first_run >= 0) {
		double x = L + pw * (double)j->first_run / (double)n;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%g\" stroke=\"#b3261e\" "
		        "stroke-dasharray=\"3 2\"/>", x, T, x, T + ph);
	}
	free(v);
	fprintf(f, "</svg>");
}

/* The kept failures of signature g: links and the commands that replay them. */
static void kept_rows(FILE *f, const struct session *ses, const struct sig *g)
{
	for (int k = 0; k < g->nkept; k++) {
		const char *d = g->kept[k];
		fprintf(f, "<li><a href=\"");
		href(f, d);
		fprintf(f, "/output.txt\">");
		html_esc(f, d);
		fprintf(f, "</a>: ");
		static const char *const files[] = {"trace.json", "replay.sh", "meta.json", "inject.log"};
		for (int i = 0; i < 4; i++) {
			char p[PATH_MAX + 64];
			snprintf(p, sizeof p, "%s/%s/%s", ses->env.rundir, d, files[i]);
			if (access(p, F_OK) < 0)
				continue;
			fprintf(f, "<a href=\"");
			href(f, d);
			fprintf(f, "/%s\">%s</a> ", files[i], files[i]);
		}
		char *sh = xasprintf("%s/%s/replay.sh", ses->env.rundir, d),
		     *dir = xasprintf("%s/%s", ses->env.rundir, d), *q1 = shquote(sh), *q2 = shquote(dir);
		fprintf(f, "<br>replay: <code>sh ");
		html_esc(f, q1);
		fprintf(f, "</code> or <code>stress --replay ");
		html_esc(f, q2);
		fprintf(f, "</code></li>");
		free(sh);
		free(dir);
		free(q1);
		free(q2);
	}
}

static const char *verdict_class(const struct job *j)
{
	if (!j->ran && !j->harness_error)
		return "na";
	return job_ok(j) ? "ok" : "bad";
}

static void job_html(FILE *f, const struct session *ses, const struct job *j)
{
	fprintf(f, "<section class=\"job\" id=\"job-");
	href(f, j->name);
	fprintf(f, "\"><h2>");
	html_esc(f, j->name);
	fprintf(f, " <span class=\"verdict %s\">", verdict_class(j));
	html_esc(f, j->verdict ? j->verdict : j->ran ? "" : "not run");
	fprintf(f, "</span></h2><p><code>");
	if (j->inject) {
		fprintf(f, "inject ");
		html_esc(f, j->inject);
		fprintf(f, " -- ");
	}
	for (int k = 0; k < j->argc; k++) {
		html_esc(f, j->argv[k]);
		fputc(k + 1 < j->argc ? ' ' : '<', f);
	}
	fprintf(f, "/code></p><table><tr><th>expect</th><th>runs</th><th>failures</th>"
	        "<th>reproductions</th><th>unexpected</th><th>first failure</th>"
	        "<th>first reproduction</th><th>runs/s</th></tr><tr>");
	fprintf(f, "<td>%s</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td>",
	        j->expect == EXPECT_FAIL ? "fail" : j->expect == EXPECT_PASS ? "pass" : "-", j->runs,
	        j->failures, j->repros, j->failures - j->repros);
	if (j->first_run >= 0)
		fprintf(f, "<td>run %lld, %.2f s</td>", j->first_run, j->first_s);
	else
		fprintf(f, "<td>none</td>");
	if (j->first_repro_run >= 0)
		fprintf(f, "<td>run %lld, %.2f s</td>", j->first_repro_run, j->first_repro_s);
	else
		fprintf(f, "<td>none</td>");
	fprintf(f, "<td>%.1f</td></tr></table>", j->wall_s > 0 ? (double)j->runs / j->wall_s : 0);
	if (j->signature) {
		fprintf(f, "<p>signature: <code>");
		html_esc(f, j->signature);
		fprintf(f, "</code>%s</p>", j->unexpected_ignore ? " (unexpected = ignore)" : "");
	}
	if (j->confidence) {
		fprintf(f, "<p>confidence: ");
		html_esc(f, j->confidence);
		fprintf(f, "</p>");
	}
	for (int k = 0; k < j->nwarnings; k++) {
		fprintf(f, "<p><b>WARNING</b>: ");
		html_esc(f, j->warnings[k]);
		fprintf(f, "</p>");
	}
	if (j->inject_argv)
		fprintf(f, "<p>injection reached %lld runs, untouched %lld, evidence lost %lld</p>",
		        j->inj_reached, j->inj_untouched, j->inj_lost);
	fprintf(f, "<figure>");
	rate_svg(f, j);
	fprintf(f, "<figcaption>failure rate with its 95%% Wilson interval</figcaption></figure>");
	fprintf(f, "<figure>");
	fails_svg(f, j);
	fprintf(f, "<figcaption>failures over the runs (red: reproductions, amber: unexpected; dashed: "
	        "the first failure to finish");
	if (j->first_run >= 0)
		fprintf(f, ", run %lld after %.2f s", j->first_run, j->first_s);
	fprintf(f, ")</figcaption></figure>");

	struct sig **v = sigs_by_count(j);
	if (j->nsigs) {
		fprintf(f, "<table class=\"sigs\"><tr><th>signature</th><th>count</th><th>kind</th>"
		        "<th>kept failures</th></tr>");
		for (int k = 0; k < j->nsigs; k++) {
			fprintf(f, "<tr><td><code>");
			html_esc(f, v[k]->text);
			fprintf(f, "</code></td><td>%lld</td><td>%s</td><td><ul>", v[k]->count,
			        j->expect != EXPECT_NONE || j->signature
			            ? (v[k]->repro ? "reproduces" : "unexpected") : "-");
			kept_rows(f, ses, v[k]);
			fprintf(f, "</ul></td></tr>");
		}
		fprintf(f, "</table>");
	}
	/* The first kept failure that has a timeline. */
	for (int k = 0; k < j->nsigs; k++) {
		bool drawn = false;
		for (int i = 0; i < v[k]->nkept && !drawn; i++) {
			char p[PATH_MAX + 64], h[PATH_MAX + 64];
			snprintf(p, sizeof p, "%s/%s/trace.json", ses->env.rundir, v[k]->kept[i]);
			snprintf(h, sizeof h, "%s/trace.json", v[k]->kept[i]);
			if (access(p, F_OK) == 0) {
				fprintf(f, "<figure class=\"timeline\">");
				timeline_svg(f, p, h);
				fprintf(f, "<figcaption>the kept failure ");
				html_esc(f, v[k]->kept[i]);
				fprintf(f, " as a timeline, one lane per thread: injected delays (amber), the "
				        "program's own events (grey ticks), the stacks at the throw (blue), "
				        "the throw or signal (red); hover for details, open trace.json in "
				        "Perfetto's UI for all of it</figcaption></figure>");
				drawn = true;
			}
		}
		if (drawn)
			break;
	}
	free(v);
	fprintf(f, "<div class=\"history\" data-job=\"");
	html_esc(f, j->name);
	fprintf(f, "\"></div></section>\n");
}

/* The whole page (malloc'd). */
char *report_html(const struct session *ses, struct job *jobs, int njobs, bool ok)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	if (!f)
		xalloc_die();
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	        "style-src 'unsafe-inline'\">"
	        "<meta name=\"viewport\" content=\"width=device-width\"><title>stress: ");
	html_esc(f, ses->name);
	fprintf(f, "</title><style>%s</style></head><body>\n<h1>stress: ", style);
	html_esc(f, ses->name);
	fprintf(f, " <span class=\"verdict %s\">%s</span></h1><p>started %s, finished %s%s; seed "
	        "base %llu", ok ? "ok" : "bad", ok ? "PASS" : "FAIL", ses->started, ses->finished,
	        ses->interrupted ? " (interrupted)" : "", (unsigned long long)ses->env.seed_base);
	if (ses->scale > 0)
		fprintf(f, "; counts scaled by %g", ses->scale);
	fprintf(f, ". Also: <a href=\"report.md\">report.md</a>, <a href=\"summary.json\">"
	        "summary.json</a>, <a href=\"junit.xml\">junit.xml</a>.</p>\n");
	if (ses->harness_error) {
		fprintf(f, "<p class=\"bad\">HARNESS ERROR: ");
		html_esc(f, ses->harness_error);
		fprintf(f, "</p>");
	}
	fprintf(f, "<table><tr><th>job</th><th>verdict</th></tr>");
	for (int i = 0; i < njobs; i++) {
		fprintf(f, "<tr><td><a href=\"#job-");
		href(f, jobs[i].name);
		fprintf(f, "\">");
		html_esc(f, jobs[i].name);
		fprintf(f, "</a></td><td><span class=\"verdict %s\">", verdict_class(&jobs[i]));
		html_esc(f, jobs[i].verdict ? jobs[i].verdict : "not run");
		fprintf(f, "</span></td></tr>");
	}
	fprintf(f, "</table>\n");
	for (int i = 0; i < njobs; i++)
		job_html(f, ses, &jobs[i]);
	fprintf(f, "</body></html>\n");
	if (fclose(f) != 0 || !s)
		xalloc_die();
	return s;
}
