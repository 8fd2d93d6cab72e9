/* A kept failure's trace.json (trace.c) drawn as inline SVG for report.html:
 * one lane per thread, in the trace's own order (thread_sort_index: driver,
 * M0, sysmon, the other Ms, then threads only the shim saw), over the window
 * that led to the end: from the program's first own event (gosched's ring
 * covers the failing iteration), or 10 ms, up to the throw.  Injected delays
 * are amber bars, the program's events grey ticks, the stacks at the throw
 * blue marks, the throw or signal a red line across the lanes; each carries
 * its details as an SVG <title> (a tooltip).  Also the HTML escaping that
 * html.c shares. */
#include "stress.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* S as HTML text or attribute value: UTF-8 cleaned, & < > " ' escaped. */
void html_esc(FILE *f, const char *s)
{
	if (!s)
		return;
	char *t = utf8_fix(s, UTF8_CTL);
	if (!t)
		xalloc_die();
	for (const char *p = t; *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*p, f);
		}
	}
	free(t);
}

struct lane {
	json_int_t pid, tid;
	const char *name;
	json_int_t order;
	bool used;
};

static int by_order(const void *a, const void *b)
{
	const struct lane *x = a, *y = b;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int lane_of(const struct lane *l, int n, json_t *e)
{
	json_int_t pid = json_integer_value(json_object_get(e, "pid")),
	           tid = json_integer_value(json_object_get(e, "tid"));
	for (int i = 0; i < n; i++)
		if (l[i].pid == pid && l[i].tid == tid)
			return i;
	return -1;
}

/* A tick step of about a sixth of SPAN (us): 1, 2 or 5 times a power of 10. */
static double nice_step(double span)
{
	double raw = span / 6, p = pow(10, floor(log10(raw)));
	return raw / p < 2 ? p : raw / p < 5 ? 2 * p : 5 * p;
}

/* The SVG of the trace at TRACE_PATH, linked to HREF; a line saying why
 * when it cannot be read. */
void timeline_svg(FILE *f, const char *trace_path, const char *href)
{
	json_error_t je;
	json_t *doc = json_load_file(trace_path, 0, &je);
	json_t *evs = json_object_get(doc, "traceEvents");
	if (!json_is_array(evs)) {
		fprintf(f, "<p>(the timeline could not be read: ");
		html_esc(f, je.text);
		fprintf(f, ")</p>");
		json_decref(doc);
		return;
	}
	size_t n = json_array_size(evs), k;
	json_t *e;
	struct lane *lanes = xmalloc(sizeof *lanes * (n + 1));
	int nl = 0;
	double t_end = -INFINITY, t_first = INFINITY, t_max = -INFINITY;
	json_t *end = NULL;
	json_array_foreach(evs, k, e) {
		const char *ph = json_string_value(json_object_get(e, "ph"));
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *cat = json_string_value(json_object_get(e, "cat"));
		double ts = json_number_value(json_object_get(e, "ts"));
		if (!ph || !name)
			continue;
		if (!strcmp(ph, "M")) {
			json_t *args = json_object_get(e, "args");
			int i = lane_of(lanes, nl, e);
			if (i < 0 && !strcmp(name, "thread_name")) {
				i = nl++;
				lanes[i] = (struct lane){json_integer_value(json_object_get(e, "pid")),
				                         json_integer_value(json_object_get(e, "tid")), "", 1000,
				                         false};
			}
			if (i >= 0 && !strcmp(name, "thread_name"))
				lanes[i].name = json_string_value(json_object_get(args, "name"));
			if (i >= 0 && !strcmp(name, "thread_sort_index"))
				lanes[i].order = json_integer_value(json_object_get(args, "sort_index"));
			continue;
		}
		if (ts > t_max)
			t_max = ts;
		if (cat && !strcmp(cat, "end") && !end) {
			end = e;
			t_end = ts;
		}
		if (cat && !strcmp(cat, "gosched") && ts < t_first)
			t_first = ts;
	}
	if (!end)
		t_end = t_max;
	double t_lo = isfinite(t_first) ? t_first : t_end - 10000;
	if (t_end - t_lo > 50000)
		t_lo = t_end - 50000;
	if (t_end - t_lo < 500)
		t_lo = t_end - 500;
	double t_hi = t_end + (t_end - t_lo) * 0.04;

	/* The lanes with something in the window, in the trace's order. */
	json_array_foreach(evs, k, e) {
		const char *ph = json_string_value(json_object_get(e, "ph"));
		double ts = json_number_value(json_object_get(e, "ts")),
		       dur = json_number_value(json_object_get(e, "dur"));
		int i = lane_of(lanes, nl, e);
		if (ph && strcmp(ph, "M") && i >= 0 && ts <= t_hi && ts + dur >= t_lo)
			lanes[i].used = true;
	}
	qsort(lanes, (size_t)nl, sizeof *lanes, by_order);
	int used = 0;
	for (int i = 0; i < nl; i++)
		if (lanes[i].used)
			lanes[used++] = lanes[i];
	if (used > 24)
		used = 24;
	const double LW = 190, PW = 800, LH = 24, TOP = 8;
	double H = TOP + LH * used + 34, W = LW + PW + 12;
#define X(t) (LW + PW * ((t) - t_lo) / (t_hi - t_lo))
	fprintf(f, "<svg class=\"timeline\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
	        "role=\"img\"><title>timeline of ", W, H, W, H);
	html_esc(f, href);
	fprintf(f, "</title>");
	for (int i = 0; i < used; i++) {
		double y = TOP + LH * i;
		fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"%s\"/>", LW,
		        y, PW, LH, i % 2 ? "#fafafa" : "#f0f0f0");
		fprintf(f, "<text class=\"lane\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">", LW - 6,
		        y + LH / 2 + 4);
		html_esc(f, lanes[i].name);
		fprintf(f, "</text>");
	}
	/* The axis: ms before the end. */
	double step = nice_step(t_hi - t_lo);
	for (double t = t_end; t >= t_lo; t -= step) {
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#ccc\"/>", X(t),
		        TOP, X(t), TOP + LH * used + 4);
		fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%.4g ms</text>", X(t),
		        TOP + LH * used + 16, (t - t_end) / 1000);
	}
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">time before the end; ", LW, TOP + LH * used + 30);
	fprintf(f, "full trace: <a href=\"");
	html_esc(f, href);
	fprintf(f, "\">trace.json</a></text>");
	json_array_foreach(evs, k, e) {
		const char *ph = json_string_value(json_object_get(e, "ph"));
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *cat = json_string_value(json_object_get(e, "cat"));
		json_t *args = json_object_get(e, "args");
		double ts = json_number_value(json_object_get(e, "ts")),
		       dur = json_number_value(json_object_get(e, "dur"));
		int i = lane_of(lanes, used, e);
		if (!ph || !name || !strcmp(ph, "M") || i < 0 || ts > t_hi || ts + dur < t_lo)
			continue;
		double y = TOP + LH * i;
		if (!strcmp(ph, "X")) {
			double a = X(ts < t_lo ? t_lo : ts), b = X(ts + dur > t_hi ? t_hi : ts + dur);
			fprintf(f, "<rect class=\"delay\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			        "fill=\"#e8a33d\"><title>", a, y + 4, b - a > 1 ? b - a : 1, LH - 8);
			html_esc(f, name);
			const char *site = json_string_value(json_object_get(args, "site"));
			fprintf(f, " ");
			html_esc(f, site ? site : "?");
			fprintf(f, ", %.1f us at %.1f us", dur, ts);
			fprintf(f, "</title></rect>");
		} else if (cat && !strcmp(cat, "end")) {
			fprintf(f, "<line class=\"end\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" "
			        "stroke=\"#b3261e\" stroke-width=\"2\"/>", X(ts), TOP, X(ts), TOP + LH * used);
			fprintf(f, "<path d=\"M%.1f %.1fl-6 -9h12z\" fill=\"#b3261e\"><title>", X(ts),
			        y + LH - 3);
			html_esc(f, name);
			fprintf(f, "\n");
			html_esc(f, json_string_value(json_object_get(args, "stack")));
			fprintf(f, "</title></path>");
		} else if (cat && !strcmp(cat, "dump")) {
			fprintf(f, "<path d=\"M%.1f %.1fl5 7l-5 7l-5 -7z\" fill=\"#3461b3\"><title>", X(ts),
			        y + 5);
			html_esc(f, name);
			fprintf(f, "\n");
			html_esc(f, json_string_value(json_object_get(args, "stack")));
			fprintf(f, "</title></path>");
		} else {
			fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#666\">"
			        "<title>", X(ts), y + 5, X(ts), y + LH - 5);
			html_esc(f, name);
			json_t *arg = json_object_get(args, "arg");
			if (arg)
				fprintf(f, " %lld", (long long)json_integer_value(arg));
			fprintf(f, " at %.1f us</title></line>", ts);
		}
	}
#undef X
	fprintf(f, "</svg>");
	free(lanes);
	json_decref(doc);
}
