/* A kept failure as a timeline: trace.json in the Chrome Trace Event format
 * (the JSON that Perfetto's UI and chrome://tracing open).
 *
 * It is drawn from the files of the failure's directory alone, so that the
 * same code serves the keep path (keep.c, before the directory is renamed
 * into place) and `stress --trace-json DIR` (a replay.sh run's directory):
 *   inject.log   the shim's delays: one complete slice ("X") per delay on
 *                the delayed thread's track, site, point and length in args;
 *                its header's t0 and E times put them on CLOCK_MONOTONIC,
 *                its T lines name each lineage's kernel thread
 *   events.txt   the program's own events where it keeps them (gosched's
 *                ring, written under STRESS_EVENTS): an instant ("i") per
 *                event on its M's thread, each M's role, and when and on
 *                which M the throw or dump began (absolute CLOCK_MONOTONIC)
 *   output.txt   the fatal error and the stacks of the dump: the throw is an
 *                instant on the throwing thread with its stack in args, and
 *                each other M's stack an instant on its track
 *   meta.json    the job, seed and signature, and when stress started and
 *                reaped the run (CLOCK_MONOTONIC too, stress's now_mono): a
 *                program without its own events gets its signal, exit or
 *                timeout as an instant at the moment stress saw it
 * Times are microseconds from the run's start as stress saw it (else from
 * the shim's t0, else from the first event), all on one clock.  One track
 * per thread, named by its lineage and, for gosched, its M and role. */
#include "stress.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* One thread's track. */
struct track {
	long long pid, tid;
	char lineage[64];     /* the shim's lineage, "" when unknown */
	long long mid;        /* gosched's M id; meaningful when has_m */
	char role[16];        /* "m0", "sysmon", "m", "driver" */
	bool has_m;
};

/* An event and the time it sorts by. */
struct tev {
	double ts;
	json_t *ev;
};

struct tl {
	struct track *tracks;
	int ntracks;
	struct tev *evs;
	size_t nevs, capevs;
	double origin_ns;     /* ts 0 on CLOCK_MONOTONIC, ns */
	bool have_origin;
	long long pid;        /* the program's process (the first block's) */
	json_t *notes;        /* what could not be placed, said in otherData */
};

static struct track *track_get(struct tl *t, long long pid, long long tid)
{
	for (int i = 0; i < t->ntracks; i++)
		if (t->tracks[i].pid == pid && t->tracks[i].tid == tid)
			return &t->tracks[i];
	t->tracks = xrealloc(t->tracks, sizeof *t->tracks * (size_t)(t->ntracks + 1));
	struct track *k = &t->tracks[t->ntracks++];
	memset(k, 0, sizeof *k);
	k->pid = pid;
	k->tid = tid;
	if (tid == pid)
		strcpy(k->lineage, "0"); /* the main thread is the shim's lineage 0 */
	return k;
}

static void add_ev(struct tl *t, double ts_ns, json_t *ev)
{
	if (!ev)
		xalloc_die();
	if (t->nevs == t->capevs) {
		t->capevs = t->capevs ? t->capevs * 2 : 256;
		t->evs = xrealloc(t->evs, sizeof *t->evs * t->capevs);
	}
	double ts = (ts_ns - t->origin_ns) / 1e3;
	json_object_set_new(ev, "ts", json_real(ts));
	t->evs[t->nevs].ts = ts;
	t->evs[t->nevs++].ev = ev;
}

/* A new event object: ph, name, category, on track k. */
static json_t *ev_new(const char *ph, const char *name, const char *cat, const struct track *k)
{
	json_t *e = json_object();
	json_object_set_new(e, "name", json_str(name));
	json_object_set_new(e, "cat", json_string(cat));
	json_object_set_new(e, "ph", json_string(ph));
	json_object_set_new(e, "pid", json_integer(k->pid));
	json_object_set_new(e, "tid", json_integer(k->tid));
	return e;
}

/* The whole of a small file, NUL-terminated, or NULL. */
static char *slurp(const char *dir, const char *name)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "r");
	if (!f)
		return NULL;
	size_t cap = 65536, len = 0;
	char *s = xmalloc(cap);
	size_t n;
	while ((n = fread(s + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2)
			s = xrealloc(s, cap *= 2);
	}
	fclose(f);
	s[len] = 0;
	return s;
}

/* The value of field KEY= in a header line, or -1. */
static long long hdr_field(const char *line, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = line; (p = strstr(p, key)); p += kl)
		if ((p == line || p[-1] == ' ') && p[kl] == '=')
			return strtoll(p + kl + 1, NULL, 10);
	return -1;
}

/* gosched's events file: the Ms and their threads, then the events, then
 * the throw or dump (X).  Sets *end_ns and *end_tid when it has an X line. */
static void read_events(struct tl *t, char *text, double *end_ns, long long *end_tid,
                        char **why)
{
	long long pid = -1;
	struct { long long mid, tid; } ms[256];
	int nms = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, "# gosched-events ", 17)) {
			pid = hdr_field(line, "pid");
			if (t->pid < 0)
				t->pid = pid;
			continue;
		}
		if (pid < 0)
			continue;
		long long a, b, c;
		int off = 0;
		char role[16];
		if (line[0] == 'M' && sscanf(line, "M %lld %lld %15s", &a, &b, role) == 3) {
			if (b <= 0)
				continue;  /* an M whose thread had not started */
			struct track *k = track_get(t, pid, b);
			k->has_m = true;
			k->mid = a;
			snprintf(k->role, sizeof k->role, "%s", role);
			if (nms < 256) {
				ms[nms].mid = a;
				ms[nms++].tid = b;
			}
		} else if (line[0] == 'E' && sscanf(line, "E %lld %lld %lld %n", &a, &b, &c, &off) == 3 &&
		           off) {
			long long tid = -1;
			for (int i = 0; i < nms; i++)
				if (ms[i].mid == b)
					tid = ms[i].tid;
			if (tid < 0)
				continue;
			struct track *k = track_get(t, pid, tid);
			json_t *e = ev_new("i", line + off, "gosched", k);
			json_object_set_new(e, "s", json_string("t"));
			json_object_set_new(e, "args", json_pack("{s:I}", "arg", (json_int_t)c));
			add_ev(t, (double)a, e);
		} else if (line[0] == 'X' && sscanf(line, "X %lld %lld %n", &a, &b, &off) == 2 && off) {
			*end_ns = (double)a;
			*end_tid = pid;
			for (int i = 0; i < nms; i++)
				if (ms[i].mid == b)
					*end_tid = ms[i].tid;
			*why = line + off;
		}
	}
}

/* The shim's log: per process block, its t0 and T lines, then a slice per
 * delay. */
static void read_inject_log(struct tl *t, char *text)
{
	long long pid = -1;
	double t0 = -1;
	struct { char lin[64]; long long tid; } th[512];
	int nth = 0, synth = 0;
	bool warned = false;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, "# inject-log ", 13)) {
			pid = hdr_field(line, "pid");
			long long v = hdr_field(line, "t0");
			t0 = (double)v;
			nth = 0;
			if (t->pid < 0)
				t->pid = pid;
			if (v < 0 && !warned) {
				warned = true;
				json_array_append_new(t->notes, json_string(
					"the injection log has no t0 (an older shim): its delays are "
					"placed from the run's start, not on the program's clock"));
			}
			if (v < 0)
				t0 = t->origin_ns;
			continue;
		}
		if (pid < 0)
			continue;
		char lin[64], point[32], site[256];
		long long a, b, c, d;
		if (line[0] == 'T' && sscanf(line, "T %63s %lld", lin, &a) == 2) {
			if (nth < 512 && a > 0) {
				snprintf(th[nth].lin, sizeof th[nth].lin, "%s", lin);
				th[nth++].tid = a;
			}
		} else if (line[0] == 'E' && sscanf(line, "E %lld %63s %31s %255s %lld %lld", &a, lin,
		                                    point, site, &b, &c) == 6) {
			d = -1;
			for (int i = 0; i < nth; i++)
				if (!strcmp(th[i].lin, lin))
					d = th[i].tid;
			if (d < 0) {
				/* No T line (an older shim): a track of its own per lineage. */
				d = 0;
				for (int i = 0; i < t->ntracks; i++)
					if (t->tracks[i].pid == pid && !strcmp(t->tracks[i].lineage, lin))
						d = t->tracks[i].tid;
				if (!d)
					d = 1000000000LL + synth++;
			}
			struct track *k = track_get(t, pid, d);
			if (strcmp(lin, "?"))
				snprintf(k->lineage, sizeof k->lineage, "%s", lin);
			char *fn = xstrdup(site), *plus = strchr(fn, '+');
			if (plus)
				*plus = 0;
			char *name = xasprintf("delay in %s", fn);
			json_t *e = ev_new("X", name, "inject", k);
			free(name);
			free(fn);
			json_object_set_new(e, "dur", json_real((double)c / 1e3));
			json_object_set_new(e, "args", json_pack("{s:o,s:s,s:I,s:I}", "site", json_str(site),
			                                         "point", point, "delay_ns", (json_int_t)c,
			                                         "visit", (json_int_t)b));
			add_ev(t, t0 + (double)a, e);
		}
	}
}

/* In the dump: the block of lines after the line HEAD, up to a blank line
 * (malloc'd), or NULL. */
static char *block_after(const char *out, const char *head)
{
	const char *p = strstr(out, head);
	if (!p)
		return NULL;
	p = strchr(p + strlen(head), '\n');
	if (!p)
		return NULL;
	p++;
	const char *e = strstr(p, "\n\n");
	size_t n = e ? (size_t)(e - p) : strlen(p);
	if (n > 8192)
		n = 8192;
	char *s = xmalloc(n + 1);
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

/* The first line starting with PREFIX, after it (malloc'd), or NULL. */
static char *line_after(const char *out, const char *prefix)
{
	size_t pl = strlen(prefix);
	for (const char *p = out; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, pl)) {
			const char *e = strchr(p + pl, '\n');
			size_t n = e ? (size_t)(e - p - pl) : strlen(p + pl);
			char *s = xmalloc(n + 1);
			memcpy(s, p + pl, n);
			s[n] = 0;
			return s;
		}
	return NULL;
}

/* The stack of each other M in the dump ("M1 (thread 32750) sysmon stack:"),
 * as an instant at the throw on that M's thread. */
static void other_stacks(struct tl *t, const char *out, double at_ns)
{
	for (const char *p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		long long mid, tid;
		int n = 0;
		if (sscanf(p, "M%lld (thread %lld) %n", &mid, &tid, &n) != 2 || !n)
			continue;
		const char *eol = strchr(p, '\n');
		if (!eol || eol - p < 7 || strncmp(eol - 7, " stack:", 7))
			continue;
		char head[64];
		size_t hl = (size_t)(eol - p) < sizeof head - 1 ? (size_t)(eol - p) : sizeof head - 1;
		memcpy(head, p, hl);
		head[hl] = 0;
		char *stack = block_after(p, head);
		struct track *k = track_get(t, t->pid, tid);
		json_t *e = ev_new("i", "stack at the throw", "dump", k);
		json_object_set_new(e, "s", json_string("t"));
		json_object_set_new(e, "args", json_pack("{s:o}", "stack", json_str(stack)));
		add_ev(t, at_ns, e);
		free(stack);
	}
}

/* The throw, signal, exit or timeout: an instant on the thread it happened
 * on (the thrower's, when the program said), with the throwing stack. */
static void the_end(struct tl *t, const char *out, json_t *meta, double end_ns, long long end_tid,
                    const char *why)
{
	char *fatal = out ? line_after(out, "fatal error: ") : NULL;
	char *stack = out ? block_after(out, "\nruntime stack:") : NULL;
	if (!stack && out)
		stack = block_after(out, "\ngoroutine ");
	const char *where = "when the program began its dump (its own clock)";
	json_t *mono = json_object_get(meta, "monotonic_ns");
	if (end_ns < 0) {
		where = "when stress reaped the run (the program gave no time of its own)";
		end_ns = json_number_value(json_object_get(mono, "end"));
		end_tid = t->pid;
		if (json_is_true(json_object_get(meta, "timed_out"))) {
			double st = json_number_value(json_object_get(mono, "start"));
			double to = json_number_value(json_object_get(meta, "timeout_seconds"));
			if (st > 0 && to > 0) {
				end_ns = st + to * 1e9;
				where = "when stress's timeout sent SIGQUIT";
			}
		}
		if (!(end_ns > 0)) {
			/* No time at all: after the last event. */
			end_ns = t->origin_ns;
			for (size_t i = 0; i < t->nevs; i++)
				if (t->evs[i].ts * 1e3 + t->origin_ns > end_ns)
					end_ns = t->evs[i].ts * 1e3 + t->origin_ns;
			where = "unknown: placed after the last event";
		}
	}
	char *name;
	const char *sig = json_string_value(json_object_get(meta, "signal"));
	if (fatal)
		name = xasprintf("fatal error: %s", fatal);
	else if (json_is_true(json_object_get(meta, "timed_out")))
		name = xstrdup(why ? "timeout: the dump after stress's SIGQUIT" : "timeout");
	else if (why)
		name = xstrdup(why);
	else if (sig)
		name = xasprintf("signal %s", sig);
	else if (json_is_integer(json_object_get(meta, "exit")))
		name = xasprintf("exit %lld", (long long)json_integer_value(json_object_get(meta, "exit")));
	else
		name = xstrdup("the run ended");
	if (t->pid < 0)
		t->pid = 0;
	if (end_tid < 0)
		end_tid = t->pid;
	struct track *k = track_get(t, t->pid, end_tid);
	json_t *e = ev_new("i", name, "end", k);
	json_object_set_new(e, "s", json_string("t"));
	json_object_set_new(e, "args", json_pack("{s:o,s:o,s:s}", "message", json_str(fatal ? fatal : why),
	                                         "stack", json_str(stack), "time", where));
	add_ev(t, end_ns, e);
	if (out)
		other_stacks(t, out, end_ns);
	free(name);
	free(fatal);
	free(stack);
}

static int by_ts(const void *a, const void *b)
{
	const struct tev *x = a, *y = b;
	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* The name of track k and the order it is shown in. */
static char *track_name(const struct track *k, int *order)
{
	char m[48] = "";
	*order = 1000;
	if (k->has_m && !strcmp(k->role, "driver")) {
		snprintf(m, sizeof m, "driver");
		*order = 0;
	} else if (k->has_m) {
		snprintf(m, sizeof m, "M%lld%s", k->mid, !strcmp(k->role, "sysmon") ? " sysmon" : "");
		*order = !strcmp(k->role, "m0") ? 1 : !strcmp(k->role, "sysmon") ? 2 : 3 + (int)k->mid;
	}
	if (k->lineage[0] && m[0])
		return xasprintf("%s (thread %s)", m, k->lineage);
	if (m[0])
		return xstrdup(m);
	if (k->lineage[0])
		return xasprintf("thread %s", k->lineage);
	return xasprintf("thread %lld", k->tid);
}

/* Draw DIR's trace.json from the files in DIR.  Returns 0, or -1 with errno
 * set when it could not be written (what could not be read is left out and
 * said in otherData.notes). */
int trace_write(const char *dir)
{
	struct tl t = {.pid = -1, .notes = json_array()};
	json_error_t je;
	char p[PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/meta.json", dir);
	json_t *meta = json_load_file(p, JSON_DECODE_INT_AS_REAL, &je);
	if (!meta)
		meta = json_object();
	json_t *mono = json_object_get(meta, "monotonic_ns");
	double start = json_number_value(json_object_get(mono, "start"));
	char *log = slurp(dir, "inject.log"), *evs = slurp(dir, "events.txt"),
	     *out = slurp(dir, "output.txt");
	if (start > 0) {
		t.origin_ns = start;
	} else {
		/* No start from stress: the shim's t0, else the program's first event. */
		long long v = log ? hdr_field(log, "t0") : -1;
		const char *e1 = evs ? strstr(evs, "\nE ") : NULL;
		t.origin_ns = v > 0 ? (double)v : e1 ? strtod(e1 + 3, NULL) : 0;
	}
	double end_ns = -1;
	long long end_tid = -1;
	char *why = NULL;
	if (evs)
		read_events(&t, evs, &end_ns, &end_tid, &why);
	if (log)
		read_inject_log(&t, log);
	the_end(&t, out, meta, end_ns, end_tid, why);

	qsort(t.evs, t.nevs, sizeof *t.evs, by_ts);
	json_t *arr = json_array();
	const char *cmd0 = json_string_value(json_array_get(json_object_get(meta, "command"), 0));
	const char *base = cmd0 && strrchr(cmd0, '/') ? strrchr(cmd0, '/') + 1 : cmd0;
	char *pname = xasprintf("%s (pid %lld)", base ? base : "the program", t.pid);
	json_array_append_new(arr, json_pack("{s:s,s:s,s:f,s:I,s:I,s:{s:o}}", "name", "process_name",
	                                     "ph", "M", "ts", 0.0, "pid", (json_int_t)t.pid, "tid",
	                                     (json_int_t)t.pid, "args", "name", json_str(pname)));
	free(pname);
	/* A forked child's threads: a process of its own. */
	for (int i = 0; i < t.ntracks; i++) {
		bool seen = t.tracks[i].pid == t.pid;
		for (int k = 0; k < i && !seen; k++)
			seen = t.tracks[k].pid == t.tracks[i].pid;
		if (seen)
			continue;
		pname = xasprintf("%s (pid %lld, a child)", base ? base : "the program", t.tracks[i].pid);
		json_array_append_new(arr, json_pack("{s:s,s:s,s:f,s:I,s:I,s:{s:o}}", "name",
		                                     "process_name", "ph", "M", "ts", 0.0, "pid",
		                                     (json_int_t)t.tracks[i].pid, "tid",
		                                     (json_int_t)t.tracks[i].pid, "args", "name",
		                                     json_str(pname)));
		free(pname);
	}
	for (int i = 0; i < t.ntracks; i++) {
		int order;
		char *name = track_name(&t.tracks[i], &order);
		json_int_t pid = t.tracks[i].pid, tid = t.tracks[i].tid;
		json_array_append_new(arr, json_pack("{s:s,s:s,s:f,s:I,s:I,s:{s:o}}", "name",
		                                     "thread_name", "ph", "M", "ts", 0.0, "pid", pid,
		                                     "tid", tid, "args", "name", json_str(name)));
		json_array_append_new(arr, json_pack("{s:s,s:s,s:f,s:I,s:I,s:{s:i}}", "name",
		                                     "thread_sort_index", "ph", "M", "ts", 0.0, "pid",
		                                     pid, "tid", tid, "args", "sort_index", order));
		free(name);
	}
	for (size_t i = 0; i < t.nevs; i++)
		json_array_append_new(arr, t.evs[i].ev);

	json_t *other = json_object();
	json_object_set(other, "job", json_object_get(meta, "job") ? json_object_get(meta, "job")
	                                                           : json_null());
	json_object_set(other, "signature", json_object_get(meta, "signature")
	                                            ? json_object_get(meta, "signature") : json_null());
	json_t *seed = json_object_get(json_object_get(meta, "env"), "STRESS_SEED");
	json_object_set(other, "seed", seed ? seed : json_null());
	json_object_set_new(other, "clock", json_string(
		"CLOCK_MONOTONIC; ts in microseconds from the run's start as stress saw it"));
	json_object_set_new(other, "sources", json_pack("{s:b,s:b,s:b,s:b}", "inject.log", log != NULL,
	                                                "events.txt", evs != NULL, "output.txt",
	                                                out != NULL, "meta.json", start > 0));
	json_object_set_new(other, "notes", t.notes);
	json_t *doc = json_pack("{s:o,s:s,s:o}", "traceEvents", arr, "displayTimeUnit", "ms",
	                        "otherData", other);
	if (!doc)
		xalloc_die();
	char *txt = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!txt)
		xalloc_die();
	size_t n = strlen(txt);
	snprintf(p, sizeof p, "%s/trace.json", dir);
	int rc = atomic_write(p, txt, n, 0644);
	int err = errno;
	free(txt);
	json_decref(doc);
	json_decref(meta);
	free(t.evs);
	free(t.tracks);
	free(log);
	free(evs);
	free(out);
	errno = err;
	return rc;
}

/* stress --trace-json DIR: draw DIR/trace.json (a kept failure, or what a
 * replay.sh run under REPLAY_TRACE=DIR left there). */
int trace_main(const char *dir)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/output.txt", dir);
	FILE *f = fopen(p, "r");
	if (!f) {
		fprintf(stderr, "stress: --trace-json %s: no output.txt there (want a kept failure's "
		        "directory, or a replay.sh REPLAY_TRACE directory)\n", dir);
		return EXIT_USAGE;
	}
	fclose(f);
	if (trace_write(dir) < 0) {
		fprintf(stderr, "stress: cannot write %s/trace.json: %s\n", dir, strerror(errno));
		return EXIT_HARNESS;
	}
	printf("trace: %s/trace.json\n", dir);
	return EXIT_OK;
}
