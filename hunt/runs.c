/* runs: load stress's --record JSON lines into a site table and a run table. */
#include "runs.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/xalloc.h"

char *site_func(const char *name)
{
	const char *plus = strrchr(name, '+');
	size_t n = plus && plus != name ? (size_t)(plus - name) : strlen(name);
	char *f = xrealloc(NULL, n + 1);
	memcpy(f, name, n);
	f[n] = 0;
	return f;
}

int runs_find_site(const struct runs *r, const char *name)
{
	for (int i = 0; i < r->nsites; i++)
		if (strcmp(r->sites[i].name, name) == 0)
			return i;
	return -1;
}

int runs_site(struct runs *r, const char *name)
{
	int i = runs_find_site(r, name);
	if (i >= 0)
		return i;
	if (r->nsites == r->capsites) {
		r->capsites = r->capsites ? 2 * r->capsites : 64;
		r->sites = xrealloc(r->sites, r->capsites * sizeof *r->sites);
	}
	r->sites[r->nsites].name = xstrdup(name);
	r->sites[r->nsites].func = site_func(name);
	return r->nsites++;
}

static enum outcome classify(const struct runs *r, const char *status, const char *sig)
{
	if (!status || strcmp(status, "fail") != 0)
		return PASS;
	if (!sig)
		sig = "";
	if (r->fail_on)
		return strstr(sig, r->fail_on) ? FAIL : EXCLUDED;
	if (!r->count_timeouts && strcmp(sig, "timeout") == 0)
		return EXCLUDED;
	return FAIL;
}

/* A count from a record: a number from 0 to 1e15 (out of range is
 * clamped, never cast undefined), else 0. */
static long jlong(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	double x = json_is_number(v) ? json_number_value(v) : 0;
	return x > 1e15 ? (long)1e15 : x > 0 ? (long)x : 0;
}

static double jreal(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : 0;
}

/* Why O is not a --record line, or NULL when it is one. */
static const char *not_record(json_t *o)
{
	if (!json_is_object(o))
		return "not a JSON object";
	const char *st = json_string_value(json_object_get(o, "status"));
	if (!st || (strcmp(st, "pass") != 0 && strcmp(st, "fail") != 0))
		return "no \"status\": \"pass\" or \"fail\"";
	json_t *sites = json_object_get(o, "sites");
	if (sites && !json_is_object(sites) && !json_is_null(sites))
		return "\"sites\" is not an object";
	return NULL;
}

/* Undo the appends of a file that turned out not to be a record file. */
static void rollback(struct runs *r, int nruns, int nsites)
{
	while (r->nruns > nruns) {
		struct run *u = &r->runs[--r->nruns];
		free(u->signature);
		free(u->hits);
	}
	while (r->nsites > nsites) {
		struct site *s = &r->sites[--r->nsites];
		free(s->name);
		free(s->func);
	}
}

int runs_load(struct runs *r, const char *file, int phase, char *err, size_t errsz)
{
	FILE *fp = fopen(file, "re");
	struct stat st;
	if (!fp || fstat(fileno(fp), &st) < 0 || S_ISDIR(st.st_mode)) {
		snprintf(err, errsz, "%s: %s", file, fp ? "a directory, not a --record file" :
			 strerror(errno));
		if (fp)
			fclose(fp);
		return -1;
	}
	int nruns0 = r->nruns, nsites0 = r->nsites;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int n = 0, lineno = 0;
	*err = 0;
	while ((len = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if (line[strspn(line, " \t\r\n")] == 0)
			continue;
		json_error_t jerr;
		/* Integers as reals: a seed above 2^63 (stress's seeds are
		 * unsigned 64-bit) is still a number, not a parse error; the
		 * counts hunt reads stay exact far beyond any real run. */
		json_t *o = json_loadb(line, (size_t)len, JSON_DECODE_INT_AS_REAL, &jerr);
		const char *why = o ? not_record(o) : jerr.text;
		if (why) {
			snprintf(err, errsz, "%s:%d: not a stress --record line: %s", file, lineno, why);
			json_decref(o);
			break;
		}
		if (r->nruns == r->capruns) {
			r->capruns = r->capruns ? 2 * r->capruns : 256;
			r->runs = xrealloc(r->runs, r->capruns * sizeof *r->runs);
		}
		struct run *u = &r->runs[r->nruns++];
		memset(u, 0, sizeof *u);
		u->phase = phase;
		const char *sig = json_string_value(json_object_get(o, "signature"));
		u->outcome = classify(r, json_string_value(json_object_get(o, "status")), sig);
		u->signature = sig && u->outcome != PASS ? xstrdup(sig) : NULL;
		u->seconds = jreal(o, "seconds");
		json_t *sites = json_object_get(o, "sites");
		if (json_is_object(sites)) {
			u->hits = xrealloc(NULL, (json_object_size(sites) + 1) * sizeof *u->hits);
			const char *key;
			json_t *v;
			json_object_foreach(sites, key, v) {
				struct hit *h = &u->hits[u->nhits++];
				h->site = runs_site(r, key);
				h->visits = jlong(v, "visits");
				h->delays = jlong(v, "delays");
				h->delay_ns = jreal(v, "delay_ns");
			}
		}
		json_decref(o);
		n++;
	}
	if (!*err && ferror(fp))
		snprintf(err, errsz, "%s: %s", file, strerror(errno));
	free(line);
	fclose(fp);
	if (*err) {
		rollback(r, nruns0, nsites0);
		return -1;
	}
	return n;
}

void runs_free(struct runs *r)
{
	for (int i = 0; i < r->nsites; i++) {
		free(r->sites[i].name);
		free(r->sites[i].func);
	}
	for (int i = 0; i < r->nruns; i++) {
		free(r->runs[i].signature);
		free(r->runs[i].hits);
	}
	free(r->sites);
	free(r->runs);
	memset(r, 0, sizeof *r);
}
