/* --shard K/N: this stress runs shard K of N of every job, and its summary
 * says what `stress merge` (merge.c) needs to make one result of N.
 *
 * Which runs a shard makes: run indices K-1, K-1+N, K-1+2N, ... (i % N ==
 * K-1), each with the seed it has unsharded (base seed + run index).  Strided
 * rather than contiguous blocks because a job bounded by time has no last run
 * index to cut into blocks: strides never meet, however long each shard
 * runs, so shards never share a run index or a seed.  A count-bounded job's
 * shards together make exactly runs 0..count-1; a time-bounded job runs its
 * time on every shard; and when a time cap cuts a count short, the union is
 * still close to a prefix of the run indices (each shard's residue class cut
 * at about the same place), so "first failure by run index" keeps its sense.
 *
 * The summary (report.c calls shard_summary and shard_job_summary) carries:
 * the shard (index, of, the seed base as an exact decimal string), the
 * campaign file, the binaries' GNU build ids (stress, inject, libinject.so;
 * each job's program), each job's size (count, time, keep, timeout), whether
 * it ran or was interrupted, the injection tallies the warnings need, and a
 * histogram of run durations (merged medians are read from it).
 */
#include "stress.h"

#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "K/N", 1 <= K <= N <= 10^6.  0, or -1 when malformed. */
int shard_parse(const char *s, int *k, int *n)
{
	const char *slash = strchr(s, '/');
	if (!slash || slash == s)
		return -1;
	char kb[16];
	size_t kl = (size_t)(slash - s);
	if (kl >= sizeof kb)
		return -1;
	memcpy(kb, s, kl);
	kb[kl] = 0;
	long long kv, nv;
	if (parse_ll(kb, 1, &kv) < 0 || parse_ll(slash + 1, 1, &nv) < 0 || nv > 1000000 || kv > nv)
		return -1;
	*k = (int)kv;
	*n = (int)nv;
	return 0;
}

/* The run index of a job's NTH run (from 0) on this shard. */
long long shard_run(const struct runenv *env, long long nth)
{
	if (env->shard_n <= 0)
		return nth;
	return (long long)(env->shard_k - 1) + nth * (long long)env->shard_n;
}

/* The GNU build id of the ELF file at PATH as hex (malloc'd), or NULL (no
 * such file, not ELF, no build-id note).  elfutils reads the note. */
char *build_id(const char *path)
{
	if (!path)
		return NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	char *hex = NULL;
	const void *id;
	ssize_t n;
	if (e && elf_kind(e) == ELF_K_ELF && (n = dwelf_elf_gnu_build_id(e, &id)) > 0) {
		hex = xmalloc((size_t)n * 2 + 1);
		for (ssize_t i = 0; i < n; i++)
			snprintf(hex + 2 * i, 3, "%02x", ((const unsigned char *)id)[i]);
	}
	if (e)
		elf_end(e);
	close(fd);
	return hex;
}

static json_t *binary(const char *path)
{
	char *id = build_id(path);
	json_t *b = json_pack("{s:o,s:o}", "path", json_str(path), "build_id", json_str(id));
	free(id);
	return b;
}

/* The binaries this stress runs its jobs with: itself, the inject launcher
 * next to it and the shim next to that. */
static json_t *binaries(const struct job *jobs, int njobs)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	self[n > 0 ? n : 0] = 0;
	const char *launcher = njobs ? jobs[0].launcher : NULL;
	json_t *o = json_object();
	json_object_set_new(o, "stress", binary(n > 0 ? self : NULL));
	json_object_set_new(o, "inject", binary(launcher));
	char *lib = NULL;
	if (launcher) {
		char *d = xstrdup(launcher);
		lib = xasprintf("%s/libinject.so", dirname(d));
		free(d);
	}
	json_object_set_new(o, "libinject.so", binary(lib));
	free(lib);
	return o;
}

/* Top-level keys: "shard", "campaign", "binaries".  A merged session's
 * shard coverage and binaries are the ones merge.c put in ses->shards. */
void shard_summary(json_t *o, const struct session *ses, const struct job *jobs, int njobs)
{
	json_object_set_new(o, "campaign", json_str(ses->campaign));
	if (ses->shards) {
		json_object_set(o, "shard", json_object_get(ses->shards, "shard"));
		json_object_set(o, "binaries", json_object_get(ses->shards, "binaries"));
		return;
	}
	char seed[24];
	snprintf(seed, sizeof seed, "%llu", (unsigned long long)ses->env.seed_base);
	int k = ses->env.shard_n ? ses->env.shard_k : 1, n = ses->env.shard_n ? ses->env.shard_n : 1;
	json_object_set_new(o, "shard", json_pack("{s:o,s:i,s:[i],s:[],s:s}", "index",
	                                          ses->env.shard_n ? json_integer(k) : json_null(),
	                                          "of", n, "present", k, "missing", "seed_base", seed));
	json_object_set_new(o, "binaries", binaries(jobs, njobs));
}

/* The bucket of a run that took MS milliseconds. */
static long long dur_bucket(double ms)
{
	double us = ms * 1e3;
	long long b = us < 1 ? 0 : (long long)floor(log(us) / log(DUR_BASE));
	return b < DUR_BUCKETS ? b : DUR_BUCKETS - 1;
}

/* [[bucket, runs], ...] of counts per bucket, the buckets that have runs. */
json_t *dur_hist_json(const long long *counts)
{
	json_t *a = json_array();
	for (long long b = 0; b < DUR_BUCKETS; b++)
		if (counts[b])
			json_array_append_new(a, json_pack("[I,I]", (json_int_t)b, (json_int_t)counts[b]));
	return a;
}

/* The histogram of job j's run durations. */
static json_t *dur_hist(const struct job *j)
{
	long long *counts = calloc(DUR_BUCKETS, sizeof *counts);
	if (!counts)
		xalloc_die();
	for (size_t i = 0; i < j->ndur; i++)
		counts[dur_bucket(j->dur_ms[i])]++;
	json_t *a = dur_hist_json(counts);
	free(counts);
	return a;
}

/* The middle duration (ms) of histogram H of N runs: its bucket's middle. */
static double hist_median(json_t *h, long long n)
{
	long long want = (n + 1) / 2, seen = 0;
	size_t i;
	json_t *e;
	json_array_foreach(h, i, e) {
		seen += (long long)json_number_value(json_array_get(e, 1));
		if (seen >= want)
			return 1e-3 * pow(DUR_BASE, json_number_value(json_array_get(e, 0)) + 0.5);
	}
	return 0;
}

/* Per-job keys merge needs beyond the report's own. */
void shard_job_summary(json_t *e, const struct job *j)
{
	json_object_set_new(e, "count", j->count ? json_integer(j->count) : json_null());
	json_object_set_new(e, "time_seconds", j->time_s > 0 ? json_real(j->time_s) : json_null());
	json_object_set_new(e, "keep", json_integer(j->keep));
	json_object_set_new(e, "timeout_seconds", json_real(j->timeout_s));
	json_object_set_new(e, "ran", json_boolean(j->ran));
	json_object_set_new(e, "interrupted", json_boolean(j->interrupted));
	/* The injection tallies the warnings need beside "injection"'s. */
	json_object_set_new(e, "injection_sites",
	                    j->inject_argv ? json_pack("{s:I,s:I}", "fielded", (json_int_t)j->inj_fielded,
	                                               "sites_max", (json_int_t)j->inj_sites_max)
	                                   : json_null());
	if (j->merged) {
		/* Durations as merged: min and max exact, the median from the
		 * histogram; the program as the shards named it. */
		json_t *h = json_object_get(j->merged, "duration_hist");
		json_object_set_new(e, "duration_ms",
		                    json_pack("{s:O,s:f,s:O}", "min",
		                              json_object_get(j->merged, "duration_min"), "median",
		                              hist_median(h, j->runs), "max",
		                              json_object_get(j->merged, "duration_max")));
		json_object_set(e, "program", json_object_get(j->merged, "program"));
		json_object_set_new(e, "duration_hist",
		                    json_pack("{s:f,s:O}", "base", DUR_BASE, "buckets", h));
		return;
	}
	json_object_set_new(e, "program", binary(j->path));
	json_object_set_new(e, "duration_hist",
	                    json_pack("{s:f,s:o}", "base", DUR_BASE, "buckets", dur_hist(j)));
}

/* A line for report.md's head: which shard this is, or which shards a
 * merged result covers (and which are missing); NULL when unsharded. */
char *shard_note(const struct session *ses)
{
	if (!ses->shards) {
		if (!ses->env.shard_n)
			return NULL;
		return xasprintf("Shard %d of %d: run indices %d, %d, ... of each job (i %% %d = %d); "
		                 "`stress merge` makes one result of the %d shards.", ses->env.shard_k,
		                 ses->env.shard_n, ses->env.shard_k - 1,
		                 ses->env.shard_k - 1 + ses->env.shard_n, ses->env.shard_n,
		                 ses->env.shard_k - 1, ses->env.shard_n);
	}
	json_t *s = json_object_get(ses->shards, "shard");
	json_t *present = json_object_get(s, "present"), *missing = json_object_get(s, "missing");
	int of = (int)json_number_value(json_object_get(s, "of"));
	char *p = xstrdup(""), *m = xstrdup("");
	size_t i;
	json_t *v;
	json_array_foreach(present, i, v) {
		char *t = xasprintf("%s%s%d", p, i ? ", " : "", (int)json_number_value(v));
		free(p);
		p = t;
	}
	json_array_foreach(missing, i, v) {
		char *t = xasprintf("%s%s%d", m, i ? ", " : "", (int)json_number_value(v));
		free(m);
		m = t;
	}
	char *note;
	if (json_array_size(missing))
		note = xasprintf("PARTIAL: merged from shard%s %s of %d; shard%s %s missing, so these "
		                 "counts are not the whole campaign.",
		                 json_array_size(present) == 1 ? "" : "s", p, of,
		                 json_array_size(missing) == 1 ? "" : "s", m);
	else
		note = xasprintf("Merged from all %d shard%s (%s).", of, of == 1 ? "" : "s", p);
	free(p);
	free(m);
	return note;
}
