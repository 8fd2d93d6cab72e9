/* stress merge --out DIR SHARD_DIR...: the results folders of the shards of
 * one campaign (stress --shard K/N, shard.c), or of earlier merges, as one
 * results folder, as if one machine had made every run.
 *
 * From each input's summary.json: the counts are summed (runs, failures,
 * reproductions, each signature's, injection reach, CPU seconds, runs/s),
 * the first failure and reproduction are the ones with the lowest run index,
 * run durations are merged through their histograms, and the kept failures
 * are united: of each signature, the first `keep` by run index, their
 * folders linked (or copied) into DIR, whose replay.sh, naming the command's
 * own directory and binaries, works from there.  Verdicts, Wilson intervals
 * and a pass job's confidence from its merged control are then made by
 * verdict.c, and summary.json, junit.xml and report.md written by report.c,
 * as for a stress that ran the jobs itself.  A merged folder says which
 * shards it covers, so merging merged folders gives the same result
 * (associative), and a shard given twice is refused.
 *
 * Refused, in one line with exit 125 and no DIR made: inputs that are not
 * results folders, shards of different campaigns (names, jobs, sizes,
 * expectations, --scale), different commands, base seeds, shard counts or
 * binaries (build ids), a shard given twice.  Missing shards are named, and
 * every job's verdict then starts PARTIAL and holds no expectation (exit 1).
 */
#include "stress.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

/* One input folder. */
struct input {
	const char *dir;      /* as given */
	char *abs;
	json_t *sum;
	int of;               /* the shard count */
	int index;            /* the shard, or 0 (unsharded or merged) */
	json_t *present;      /* the shards it covers */
};

/* One kept failure of one input. */
struct cand {
	const char *sig;
	long long run;
	char *seed;           /* decimal */
	char *src;            /* absolute folder */
};

static void refuse(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void refuse(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "stress merge: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_HARNESS);
}

static void usage_merge(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void usage_merge(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "stress merge: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (usage: stress merge --out DIR SHARD_DIR...)\n");
	exit(EXIT_USAGE);
}

static double num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static long long lnum(json_t *o, const char *k)
{
	return (long long)llround(json_number_value(json_object_get(o, k)));
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* A JSON value as short text for a refusal ("null", "[\"a\", \"b\"]"). */
static char *text(json_t *v)
{
	if (!v)
		return xstrdup("none");
	/* Read as reals (JSON_DECODE_INT_AS_REAL): whole numbers as written. */
	double d = json_number_value(v);
	if (json_is_real(v) && d == floor(d) && fabs(d) < 1e15)
		return xasprintf("%lld", (long long)d);
	char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!t)
		xalloc_die();
	return t;
}

static void load(struct input *in)
{
	char path[PATH_MAX + 16];
	in->abs = realpath(in->dir, NULL);
	if (!in->abs)
		refuse("%s: %s (want a results folder of stress --shard or stress merge)", in->dir,
		       strerror(errno));
	snprintf(path, sizeof path, "%s/summary.json", in->abs);
	json_error_t je;
	/* Integers as reals: a seed of 2^63 or more is too big for jansson;
	 * the exact seed base is shard.seed_base, a string. */
	in->sum = json_load_file(path, JSON_DECODE_INT_AS_REAL, &je);
	if (!in->sum)
		refuse("%s: no readable summary.json (%s): not a results folder, or its stress "
		       "died before writing one", in->dir, je.text);
	json_t *sh = json_object_get(in->sum, "shard");
	if (!json_is_object(sh) || !str(sh, "seed_base") || !json_is_array(json_object_get(sh, "present")))
		refuse("%s: its summary.json has no shard section (written by a stress older than "
		       "--shard): cannot merge it", in->dir);
	in->of = (int)lnum(sh, "of");
	in->index = json_is_number(json_object_get(sh, "index")) ? (int)lnum(sh, "index") : 0;
	in->present = json_object_get(sh, "present");
	if (!json_is_array(json_object_get(in->sum, "jobs")))
		refuse("%s: summary.json has no jobs", in->dir);
}

static const char *const job_keys[] = {"name", "expect", "control", "signature",
                                       "unexpected_policy", "count", "time_seconds", "keep",
                                       "timeout_seconds"};

/* B against A: the same campaign, commands, seed, shard count, binaries. */
static void compare(const struct input *a, const struct input *b)
{
	json_t *sa = a->sum, *sb = b->sum;
	if (!json_equal(json_object_get(sa, "name"), json_object_get(sb, "name")))
		refuse("%s and %s are results of different campaigns (%s and %s)", a->dir, b->dir,
		       str(sa, "name"), str(sb, "name"));
	if (!json_equal(json_object_get(sa, "scale"), json_object_get(sb, "scale")))
		refuse("%s and %s are results of different campaigns (--scale %s and %s)", a->dir,
		       b->dir, text(json_object_get(sa, "scale")), text(json_object_get(sb, "scale")));
	json_t *ja = json_object_get(sa, "jobs"), *jb = json_object_get(sb, "jobs");
	if (json_array_size(ja) != json_array_size(jb))
		refuse("%s and %s are results of different campaigns (%zu and %zu jobs)", a->dir,
		       b->dir, json_array_size(ja), json_array_size(jb));
	for (size_t i = 0; i < json_array_size(ja); i++) {
		json_t *x = json_array_get(ja, i), *y = json_array_get(jb, i);
		for (size_t k = 0; k < sizeof job_keys / sizeof *job_keys; k++) {
			json_t *vx = json_object_get(x, job_keys[k]), *vy = json_object_get(y, job_keys[k]);
			if (!json_equal(vx, vy) && !(json_is_number(vx) && json_is_number(vy) &&
			                             json_number_value(vx) == json_number_value(vy)))
				refuse("%s and %s are results of different campaigns (job %s: %s %s and "
				       "%s)", a->dir, b->dir, str(x, "name"), job_keys[k], text(vx), text(vy));
		}
		if (!json_equal(json_object_get(x, "command"), json_object_get(y, "command")) ||
		    !json_equal(json_object_get(x, "inject"), json_object_get(y, "inject")))
			refuse("%s and %s ran different commands (job %s: %s --inject %s and %s --inject "
			       "%s)", a->dir, b->dir, str(x, "name"), text(json_object_get(x, "command")),
			       text(json_object_get(x, "inject")), text(json_object_get(y, "command")),
			       text(json_object_get(y, "inject")));
	}
	json_t *sha = json_object_get(sa, "shard"), *shb = json_object_get(sb, "shard");
	if (strcmp(str(sha, "seed_base"), str(shb, "seed_base")))
		refuse("%s and %s have different base seeds (%s and %s): their runs are not shards "
		       "of one campaign", a->dir, b->dir, str(sha, "seed_base"), str(shb, "seed_base"));
	if (a->of != b->of)
		refuse("%s and %s are shards of different shard counts (of %d and of %d)", a->dir,
		       b->dir, a->of, b->of);
	const char *bins[] = {"stress", "inject", "libinject.so"};
	json_t *ba = json_object_get(sa, "binaries"), *bb = json_object_get(sb, "binaries");
	for (int k = 0; k < 3; k++) {
		json_t *x = json_object_get(json_object_get(ba, bins[k]), "build_id");
		json_t *y = json_object_get(json_object_get(bb, bins[k]), "build_id");
		if (!json_equal(x, y))
			refuse("%s and %s ran different binaries (%s build id %s and %s)", a->dir, b->dir,
			       bins[k], text(x), text(y));
	}
	for (size_t i = 0; i < json_array_size(ja); i++) {
		json_t *x = json_object_get(json_object_get(json_array_get(ja, i), "program"), "build_id");
		json_t *y = json_object_get(json_object_get(json_array_get(jb, i), "program"), "build_id");
		if (!json_equal(x, y))
			refuse("%s and %s ran different binaries (job %s's program, build id %s and %s)",
			       a->dir, b->dir, str(json_array_get(ja, i), "name"), text(x), text(y));
	}
}

/* Hard-link (same filesystem) or copy the files of kept failure SRC into DST. */
static int copy_kept(const char *src, const char *dst)
{
	if (mkdirs(dst) < 0)
		return -1;
	DIR *d = opendir(src);
	if (!d)
		return -1;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d)) && !rc) {
		if (e->d_name[0] == '.')
			continue;
		char s[PATH_MAX], t[PATH_MAX];
		snprintf(s, sizeof s, "%s/%s", src, e->d_name);
		snprintf(t, sizeof t, "%s/%s", dst, e->d_name);
		if (link(s, t) == 0)
			continue;
		struct stat st;
		int in = open(s, O_RDONLY | O_CLOEXEC);
		if (in < 0 || fstat(in, &st) < 0) {
			rc = -1;
		} else {
			char *buf = xmalloc((size_t)st.st_size + 1);
			ssize_t n = read(in, buf, (size_t)st.st_size);
			rc = n != st.st_size ? -1 : atomic_write(t, buf, (size_t)n, st.st_mode & 07777);
			free(buf);
		}
		if (in >= 0)
			close(in);
	}
	int err = errno;
	closedir(d);
	errno = err;
	return rc;
}

static int by_run(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	return x->run < y->run ? -1 : x->run > y->run;
}

static int by_text(const void *a, const void *b)
{
	return strcmp(((const struct sig *)a)->text, ((const struct sig *)b)->text);
}

/* Up to 64 KiB of FILE, or NULL. */
static char *slurp(const char *file)
{
	FILE *f = fopen(file, "re");
	if (!f)
		return NULL;
	char *b = xmalloc(65537);
	size_t n = fread(b, 1, 65536, f);
	fclose(f);
	b[n] = 0;
	return b;
}

/* The kept failures of job JI in every input, read from their meta.json:
 * run index and seed. */
static struct cand *candidates(struct input *ins, int nin, size_t ji, size_t *ncand)
{
	struct cand *c = NULL;
	size_t n = 0;
	for (int i = 0; i < nin; i++) {
		json_t *sg = json_object_get(json_array_get(json_object_get(ins[i].sum, "jobs"), ji),
		                             "signatures");
		const char *text;
		json_t *v;
		json_object_foreach(sg, text, v) {
			size_t k;
			json_t *rel;
			json_array_foreach(json_object_get(v, "kept"), k, rel) {
				char *src = xasprintf("%s/%s", ins[i].abs, json_string_value(rel));
				char *mp = xasprintf("%s/meta.json", src);
				json_t *m = json_load_file(mp, JSON_DECODE_INT_AS_REAL, NULL);
				const char *seed = m ? str(json_object_get(m, "env"), "STRESS_SEED") : NULL;
				if (!m || !seed || !json_is_number(json_object_get(m, "run")))
					refuse("%s: kept failure %s has no readable meta.json with its run and "
					       "seed", ins[i].dir, json_string_value(rel));
				c = xrealloc(c, sizeof *c * (n + 1));
				c[n].sig = text;
				c[n].run = lnum(m, "run");
				c[n].seed = xstrdup(seed);
				c[n].src = src;
				n++;
				json_decref(m);
				free(mp);
			}
		}
	}
	qsort(c, n, sizeof *c, by_run);
	*ncand = n;
	return c;
}

/* Job JI of every input, merged into j; kept failures linked under OUT. */
static int merge_job(struct input *ins, int nin, size_t ji, struct job *j, const char *out,
                     bool campaign)
{
	json_t *first = json_array_get(json_object_get(ins[0].sum, "jobs"), ji);
	job_defaults(j);
	j->name = xstrdup(str(first, "name"));
	json_t *cmd = json_object_get(first, "command");
	j->argc = (int)json_array_size(cmd);
	j->argv = xmalloc(sizeof *j->argv * (size_t)(j->argc + 1));
	for (int k = 0; k < j->argc; k++)
		j->argv[k] = xstrdup(json_string_value(json_array_get(cmd, (size_t)k)) ? json_string_value(json_array_get(cmd, (size_t)k)) : "");
	j->argv[j->argc] = NULL;
	if (str(first, "inject")) {
		char err[256];
		j->inject = xstrdup(str(first, "inject"));
		if (split_words(j->inject, &j->inject_argv, &j->inject_argc, err, sizeof err) < 0)
			refuse("%s: job %s: bad inject in summary.json: %s", ins[0].dir, j->name, err);
	}
	const char *ex = str(first, "expect");
	j->expect = !ex ? EXPECT_NONE : !strcmp(ex, "fail") ? EXPECT_FAIL : EXPECT_PASS;
	j->control = str(first, "control") ? xstrdup(str(first, "control")) : NULL;
	j->signature = str(first, "signature") ? xstrdup(str(first, "signature")) : NULL;
	j->unexpected_ignore = str(first, "unexpected_policy") &&
	                       !strcmp(str(first, "unexpected_policy"), "ignore");
	j->count = lnum(first, "count");
	j->time_s = num(first, "time_seconds");
	j->keep = (int)lnum(first, "keep");
	j->timeout_s = num(first, "timeout_seconds");
	j->dir = campaign ? xasprintf("%s/%s", out, j->name) : xstrdup(out);

	long long *hist = calloc(DUR_BUCKETS, sizeof *hist);
	if (!hist)
		xalloc_die();
	double dmin = INFINITY, dmax = 0, rps = 0, wall = 0;
	json_t *program = NULL;
	for (int i = 0; i < nin; i++) {
		json_t *e = json_array_get(json_object_get(ins[i].sum, "jobs"), ji);
		long long runs = lnum(e, "runs");
		j->ran = j->ran || json_is_true(json_object_get(e, "ran"));
		j->interrupted = j->interrupted || json_is_true(json_object_get(e, "interrupted"));
		if (str(e, "harness_error") && !j->harness_error)
			j->harness_error = ins[i].index ? xasprintf("shard %d: %s", ins[i].index,
			                                            str(e, "harness_error"))
			                                : xstrdup(str(e, "harness_error"));
		j->runs += runs;
		j->failures += lnum(e, "failures");
		j->repros += lnum(e, "reproductions");
		j->cpu_s += num(e, "cpu_seconds");
		rps += num(e, "runs_per_second");
		wall = fmax(wall, num(e, "wall_seconds"));
		json_t *ff = json_object_get(e, "first_failure"), *fr = json_object_get(e, "first_reproduction");
		if (json_is_object(ff) && (j->first_run < 0 || lnum(ff, "run") < j->first_run)) {
			j->first_run = lnum(ff, "run");
			j->first_s = num(ff, "seconds");
		}
		if (json_is_object(fr) && (j->first_repro_run < 0 || lnum(fr, "run") < j->first_repro_run)) {
			j->first_repro_run = lnum(fr, "run");
			j->first_repro_s = num(fr, "seconds");
		}
		json_t *inj = json_object_get(e, "injection");
		if (json_is_object(inj)) {
			j->inj_reached += lnum(inj, "reached");
			j->inj_untouched += lnum(inj, "untouched");
			j->inj_lost += lnum(inj, "lost");
			json_t *is = json_object_get(e, "injection_sites");
			j->inj_fielded += lnum(is, "fielded");
			j->inj_full_runs += (unsigned long long)lnum(inj, "full_runs");
			j->inj_full_visits += (unsigned long long)lnum(inj, "full_visits");
			unsigned long long m = (unsigned long long)lnum(inj, "matched_sites_max");
			unsigned long long s = (unsigned long long)lnum(is, "sites_max");
			j->inj_matched_max = m > j->inj_matched_max ? m : j->inj_matched_max;
			j->inj_sites_max = s > j->inj_sites_max ? s : j->inj_sites_max;
		}
		if (runs > 0) {
			json_t *d = json_object_get(e, "duration_ms");
			dmin = fmin(dmin, num(d, "min"));
			dmax = fmax(dmax, num(d, "max"));
		}
		size_t k;
		json_t *b;
		json_array_foreach(json_object_get(json_object_get(e, "duration_hist"), "buckets"), k, b) {
			long long bi = (long long)json_number_value(json_array_get(b, 0));
			if (bi >= 0 && bi < DUR_BUCKETS)
				hist[bi] += (long long)json_number_value(json_array_get(b, 1));
		}
		if (!program)
			program = json_object_get(e, "program");
		/* The signatures, united by text. */
		const char *t;
		json_t *v;
		json_object_foreach(json_object_get(e, "signatures"), t, v) {
			int s;
			for (s = 0; s < j->nsigs && strcmp(j->sigs[s].text, t); s++)
				;
			if (s == j->nsigs) {
				j->sigs = xrealloc(j->sigs, sizeof *j->sigs * (size_t)(j->nsigs + 1));
				memset(&j->sigs[s], 0, sizeof *j->sigs);
				j->sigs[s].text = xstrdup(t);
				j->sigs[s].repro = json_is_true(json_object_get(v, "reproduces"));
				j->nsigs++;
			}
			j->sigs[s].count += lnum(v, "count");
		}
	}
	/* As if one machine had run them all: its runs/s the shards' sum. */
	j->wall_s = rps > 0 ? (double)j->runs / rps : wall;

	/* Slugs in the order of the signatures' text, so that every merge of
	 * the same shards names the same folders. */
	qsort(j->sigs, (size_t)j->nsigs, sizeof *j->sigs, by_text);
	for (int s = 0; s < j->nsigs; s++) {
		j->sigs[s].slug = slugify(j->sigs[s].text);
		for (int p = 0; p < s; p++)
			if (!strcmp(j->sigs[p].slug, j->sigs[s].slug)) {
				char *s2 = xasprintf("%s-%d", j->sigs[s].slug, s + 1);
				free(j->sigs[s].slug);
				j->sigs[s].slug = s2;
			}
	}

	/* Kept failures: of each signature the first `keep` by run index. */
	size_t nc;
	struct cand *c = candidates(ins, nin, ji, &nc);
	long long first_kept_run = -1;
	for (size_t k = 0; k < nc; k++) {
		if (c[k].run == j->first_run && !j->first_trace) {
			char *p = xasprintf("%s/output.txt", c[k].src);
			j->first_trace = slurp(p);
			free(p);
		}
		struct sig *g = NULL;
		for (int s = 0; s < j->nsigs && !g; s++)
			if (!strcmp(j->sigs[s].text, c[k].sig))
				g = &j->sigs[s];
		if (!g || g->nkept >= j->keep)
			continue;
		char *rel = xasprintf("%s%sfailures/%s/%s", campaign ? j->name : "", campaign ? "/" : "",
		                      g->slug, c[k].seed);
		char *dst = xasprintf("%s/%s", out, rel);
		if (copy_kept(c[k].src, dst) < 0) {
			fprintf(stderr, "stress merge: HARNESS ERROR: cannot put %s into %s: %s\n",
			        c[k].src, dst, strerror(errno));
			return -1;
		}
		free(dst);
		tally_kept(j, g, rel);
		if (first_kept_run < 0 || c[k].run < first_kept_run) {
			first_kept_run = c[k].run;
			free(j->first_kept);
			j->first_kept = xstrdup(rel);
		}
	}
	for (size_t k = 0; k < nc; k++) {
		free(c[k].seed);
		free(c[k].src);
	}
	free(c);

	/* What report.c's writers cannot know from the counts: durations. */
	json_t *h = dur_hist_json(hist);
	free(hist);
	j->merged = json_pack("{s:o,s:f,s:f,s:O}", "duration_hist", h, "duration_min",
	                      isfinite(dmin) ? dmin : 0.0, "duration_max", dmax, "program",
	                      program ? program : json_null());
	return 0;
}

int merge_main(int argc, char **argv)
{
	const char *out = NULL;
	struct input *ins = xmalloc(sizeof *ins * (size_t)argc);
	int nin = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: stress merge --out DIR SHARD_DIR...\n\n"
			       "Merges the results folders of stress --shard K/N (or of earlier merges)\n"
			       "into DIR, a new folder, as if one machine had made every run.\n");
			return EXIT_OK;
		}
		if (!strcmp(argv[i], "--out")) {
			if (i + 1 >= argc)
				usage_merge("--out needs a folder");
			out = argv[++i];
		} else if (!strncmp(argv[i], "--out=", 6)) {
			out = argv[i] + 6;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			usage_merge("unknown flag %s", argv[i]);
		} else {
			ins[nin++].dir = argv[i];
		}
	}
	if (!out || !*out)
		usage_merge("--out DIR is required");
	if (!nin)
		usage_merge("no shard folders to merge");
	if (access(out, F_OK) == 0)
		usage_merge("--out %s exists: merge makes a new folder", out);

	for (int i = 0; i < nin; i++)
		load(&ins[i]);
	for (int i = 1; i < nin; i++)
		compare(&ins[0], &ins[i]);
	/* The shards each input covers: none twice. */
	int of = ins[0].of;
	const char **owner = calloc((size_t)of + 1, sizeof *owner);
	for (int i = 0; i < nin; i++) {
		size_t k;
		json_t *v;
		json_array_foreach(ins[i].present, k, v) {
			long long s = (long long)json_number_value(v);
			if (s < 1 || s > of)
				refuse("%s: shard %lld is not one of 1..%d", ins[i].dir, s, of);
			if (owner[s])
				refuse("shard %lld of %d listed twice (in %s and in %s)", s, of, owner[s],
				       ins[i].dir);
			owner[s] = ins[i].dir;
		}
	}
	json_t *present = json_array(), *missing = json_array();
	char *miss = xstrdup("");
	int nmiss = 0;
	for (int s = 1; s <= of; s++) {
		json_array_append_new(owner[s] ? present : missing, json_integer(s));
		if (!owner[s]) {
			char *t = xasprintf("%s%s%d", miss, nmiss++ ? ", " : "", s);
			free(miss);
			miss = t;
		}
	}

	/* The merged folder is built under a temporary name and renamed. */
	char *dcopy = xstrdup(out);
	if (mkdirs(dirname(dcopy)) < 0)
		refuse("cannot create the folder of %s: %s", out, strerror(errno));
	char *absparent = realpath(dirname(strcpy(dcopy, out)), NULL);
	char *bcopy = xstrdup(out);
	char *final = xasprintf("%s/%s", absparent, basename(bcopy));
	char *tmp = xasprintf("%s/.%s.merging-%d", absparent, basename(bcopy), (int)getpid());
	rm_rf(tmp);
	if (mkdir(tmp, 0755) < 0)
		refuse("cannot create %s: %s", tmp, strerror(errno));

	struct session ses = {0};
	json_t *s0 = ins[0].sum;
	ses.name = str(s0, "name");
	ses.scale = num(s0, "scale");
	ses.campaign = str(s0, "campaign");
	const char *started = str(s0, "started");
	for (int i = 0; i < nin; i++) {
		if (str(ins[i].sum, "started") && (!started || strcmp(str(ins[i].sum, "started"), started) < 0))
			started = str(ins[i].sum, "started");
		ses.interrupted = ses.interrupted || json_is_true(json_object_get(ins[i].sum, "interrupted"));
	}
	snprintf(ses.started, sizeof ses.started, "%s", started ? started : "");
	parse_u64(str(json_object_get(s0, "shard"), "seed_base"), &ses.env.seed_base);
	ses.env.rundir = tmp;
	ses.env.record_fd = -1;
	json_t *from = json_array();
	for (int i = 0; i < nin; i++)
		json_array_append_new(from, json_str(ins[i].abs));
	ses.shards = json_pack("{s:{s:n,s:i,s:o,s:o,s:s,s:o},s:O}", "shard", "index", "of", of,
	                       "present", present, "missing", missing, "seed_base",
	                       str(json_object_get(s0, "shard"), "seed_base"), "from", from,
	                       "binaries", json_object_get(s0, "binaries"));

	json_t *jobs0 = json_object_get(s0, "jobs");
	int njobs = (int)json_array_size(jobs0);
	struct job *jobs = calloc((size_t)njobs, sizeof *jobs);
	char *partial = nmiss ? xasprintf("shard%s %s of %d missing", nmiss == 1 ? "" : "s", miss, of)
	                      : NULL;
	for (int k = 0; k < njobs; k++) {
		if (merge_job(ins, nin, (size_t)k, &jobs[k], tmp, ses.campaign != NULL) < 0) {
			rm_rf(tmp);
			return EXIT_HARNESS;
		}
		jobs[k].partial = partial;
	}
	judge(jobs, njobs);
	for (int k = 0; k < njobs; k++)
		if (jobs[k].harness_error && !ses.harness_error)
			ses.harness_error = jobs[k].harness_error;
	int rc = write_reports(&ses, jobs, njobs);
	if (ses.write_error) {
		fprintf(stderr, "stress merge: HARNESS ERROR: %s\n", ses.write_error);
		rm_rf(tmp);
		return EXIT_HARNESS;
	}
	if (rename(tmp, final) < 0) {
		fprintf(stderr, "stress merge: HARNESS ERROR: cannot rename %s to %s: %s\n", tmp, final,
		        strerror(errno));
		rm_rf(tmp);
		return EXIT_HARNESS;
	}
	ses.env.rundir = final;
	print_report(&ses, jobs, njobs);
	if (nmiss)
		printf("stress merge: PARTIAL: %s; no job's expectation holds on part of its runs\n",
		       partial);
	if (ses.harness_error) {
		fprintf(stderr, "stress merge: HARNESS ERROR: %s\n", ses.harness_error);
		rc = EXIT_HARNESS;
	}
	printf("results: %s\n", final);
	fflush(stdout);
	return rc;
}
