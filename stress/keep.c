/* Kept failures and --record lines.
 *
 * A kept failure is a directory <rundir>/[<job>/]failures/<slug>/<seed>/ with
 * output.txt, inject.log (when injected), meta.json and replay.sh.  It is
 * built under a hidden temporary name and renamed into place, so a reader
 * never sees half of one.
 */
#include "stress.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The argv of one run.  seed and logpath are stored, not copied, so that a
 * slot can rewrite them in place before each run. */
char **build_argv(const struct job *j, const char *seed, const char *logpath)
{
	size_t n = (size_t)j->argc + (size_t)j->inject_argc + 8;
	char **v = xmalloc(sizeof *v * n);
	size_t k = 0;
	if (j->inject_argv) {
		v[k++] = S.launcher;
		for (int i = 0; i < j->inject_argc; i++)
			v[k++] = j->inject_argv[i];
		v[k++] = "--seed";
		v[k++] = (char *)seed;
		v[k++] = "--log";
		v[k++] = (char *)logpath;
		v[k++] = "--";
	}
	for (int i = 0; i < j->argc; i++)
		v[k++] = j->argv[i];
	v[k] = NULL;
	return v;
}

/* A JSON array of strings; out of memory ends stress, as xmalloc does,
 * rather than leave the key out of meta.json. */
static json_t *strv(char *const *v, int n)
{
	json_t *a = json_strv(v, n);
	if (!a)
		xalloc_die();
	return a;
}

static char *replay_script(const struct job *j, const struct runinfo *r, const char *sig)
{
	size_t cap = 4096, len = 0;
	char *s = xmalloc(cap);
#define ADD(...)                                                                              \
	do {                                                                                  \
		char *t_ = xasprintf(__VA_ARGS__);                                            \
		size_t n_ = strlen(t_);                                                       \
		while (len + n_ + 1 > cap)                                                    \
			s = xrealloc(s, cap *= 2);                                            \
		memcpy(s + len, t_, n_ + 1);                                                  \
		len += n_;                                                                    \
		free(t_);                                                                     \
	} while (0)
	char *qcwd = shquote(S.cwd);
	ADD("#!/bin/sh\n# Replays run %lld (seed %llu) of job %s, which failed with: %s\n"
	    "# Same command, same seed, same environment delta; exits with the program's status.\n"
	    "cd %s || exit 125\n",
	    r->run, (unsigned long long)r->seed, j->name, sig, qcwd);
	free(qcwd);
	ADD("export STRESS_RUN=%lld STRESS_SEED=%llu\n", r->run, (unsigned long long)r->seed);
	char *cmd;
	if (j->inject_argv) {
		ADD("export INJECT_SEED=%llu\n", (unsigned long long)r->seed);
		ADD("log=\"${INJECT_REPLAY_LOG:-$(mktemp \"${TMPDIR:-/tmp}/inject-replay.XXXXXX\")}\" || exit 125\n"
		    "echo \"replay.sh: injection log in $log\" >&2\n");
		cmd = shquote(S.launcher);
		ADD("exec %s", cmd);
		free(cmd);
		for (int i = 0; i < j->inject_argc; i++) {
			cmd = shquote(j->inject_argv[i]);
			ADD(" %s", cmd);
			free(cmd);
		}
		ADD(" --seed %llu --log \"$log\" --", (unsigned long long)r->seed);
	} else {
		ADD("exec");
	}
	for (int i = 0; i < j->argc; i++) {
		cmd = shquote(j->argv[i]);
		ADD(" %s", cmd);
		free(cmd);
	}
	ADD("\n");
#undef ADD
	return s;
}

static int write_json(const char *path, json_t *o)
{
	char *txt = json_dump_u64(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	size_t n = strlen(txt);
	txt = xrealloc(txt, n + 2);
	txt[n] = '\n';
	txt[n + 1] = 0;
	int rc = atomic_write(path, txt, n + 1, 0644);
	free(txt);
	return rc;
}

char *keep_failure(struct job *j, const struct runinfo *r, const char *sig, const struct sig *g)
{
	char parent[PATH_MAX], tmp[PATH_MAX + 64], final[PATH_MAX + 64], f[PATH_MAX + 96];
	snprintf(parent, sizeof parent, "%s/failures/%s", j->dir, g->slug);
	int bad = 0, err = 0;
	if (mkdirs(parent) < 0)
		return NULL;
	snprintf(tmp, sizeof tmp, "%s/.%llu.tmp", parent, (unsigned long long)r->seed);
	rm_rf(tmp);
	if (mkdir(tmp, 0755) < 0)
		return NULL;

	snprintf(f, sizeof f, "%s/output.txt", tmp);
	if (atomic_write(f, r->out, r->outlen, 0644) < 0 && !bad++)
		err = errno;
	if (r->logpath) {
		snprintf(f, sizeof f, "%s/inject.log", tmp);
		if (rename(r->logpath, f) < 0 && atomic_write(f, "", 0, 0644) < 0 && !bad++)
			err = errno;
	}

	json_t *m = json_object();
	json_object_set_new(m, "job", json_string(j->name));
	json_object_set_new(m, "signature", json_string(sig));
	json_object_set_new(m, "command", strv(j->argv, j->argc));
	json_object_set_new(m, "inject", json_str(j->inject));
	json_object_set_new(m, "launcher", j->inject ? json_string(S.launcher) : json_null());
	char *sb = xasprintf("%llu", (unsigned long long)r->seed);
	char **full = build_argv(j, sb, "<run dir>/inject.log");
	int nfull = 0;
	while (full[nfull])
		nfull++;
	json_object_set_new(m, "argv", strv(full, nfull));
	free(full);
	json_object_set_new(m, "cwd", json_str(S.cwd));
	json_t *env = json_object();
	char *rb = xasprintf("%lld", r->run);
	json_object_set_new(env, "STRESS_RUN", json_string(rb));
	json_object_set_new(env, "STRESS_SEED", json_string(sb));
	if (j->inject)
		json_object_set_new(env, "INJECT_SEED", json_string(sb));
	free(rb);
	free(sb);
	json_object_set_new(m, "env", env);
	json_object_set_new(m, "seed", json_u64(r->seed));
	json_object_set_new(m, "run", json_integer(r->run));
	json_object_set_new(m, "exit", r->exited ? json_integer(r->code) : json_null());
	json_object_set_new(m, "signal", r->exited ? json_null() : json_string(signame(r->code)));
	json_object_set_new(m, "timed_out", json_boolean(r->timed_out));
	json_object_set_new(m, "duration_ms", json_real(r->dur_ms));
	json_object_set_new(m, "worker", json_integer(r->worker));
	json_object_set_new(m, "timeout_seconds", json_real(j->timeout_s));
	json_object_set_new(m, "grace_seconds", json_real(j->grace_s));
	json_object_set_new(m, "output_bytes", json_integer((json_int_t)r->total_bytes));
	json_object_set_new(m, "output_dropped", json_integer((json_int_t)r->dropped_bytes));
	char ts[32];
	utc_stamp(ts, sizeof ts, true);
	json_object_set_new(m, "kept_at", json_string(ts));
	snprintf(f, sizeof f, "%s/meta.json", tmp);
	if (write_json(f, m) < 0 && !bad++)
		err = errno;
	json_decref(m);

	char *sh = replay_script(j, r, sig);
	snprintf(f, sizeof f, "%s/replay.sh", tmp);
	if (atomic_write(f, sh, strlen(sh), 0755) < 0 && !bad++)
		err = errno;
	free(sh);
	/* A kept failure without its files is no evidence: say so, do not list it. */
	if (bad) {
		rm_rf(tmp);
		errno = err;
		return NULL;
	}

	snprintf(final, sizeof final, "%s/%llu", parent, (unsigned long long)r->seed);
	for (int k = 2; access(final, F_OK) == 0; k++)
		snprintf(final, sizeof final, "%s/%llu-%d", parent, (unsigned long long)r->seed, k);
	if (rename(tmp, final) < 0) {
		err = errno;
		rm_rf(tmp);
		errno = err;
		return NULL;
	}
	return xstrdup(final + strlen(S.rundir) + 1);
}

/* Per-site counts from an injection log's S lines (all process blocks summed). */
static json_t *log_sites(const char *path)
{
	json_t *o = json_object();
	FILE *f = path ? fopen(path, "re") : NULL;
	if (!f)
		return o;
	char line[1024], site[512];
	unsigned long long v, d, ns;
	while (fgets(line, sizeof line, f)) {
		if (line[0] != 'S' || line[1] != ' ')
			continue;
		if (sscanf(line, "S %511s %llu %llu %llu", site, &v, &d, &ns) != 4)
			continue;
		json_t *e = json_object_get(o, site);
		if (!e) {
			e = json_object();
			json_object_set_new(e, "visits", json_integer(0));
			json_object_set_new(e, "delays", json_integer(0));
			json_object_set_new(e, "delay_ns", json_integer(0));
			json_object_set_new(o, site, e);
		}
		json_integer_set(json_object_get(e, "visits"),
		                 json_integer_value(json_object_get(e, "visits")) + (json_int_t)v);
		json_integer_set(json_object_get(e, "delays"),
		                 json_integer_value(json_object_get(e, "delays")) + (json_int_t)d);
		json_integer_set(json_object_get(e, "delay_ns"),
		                 json_integer_value(json_object_get(e, "delay_ns")) + (json_int_t)ns);
	}
	fclose(f);
	return o;
}

/* Open the --record file for appending.  A last line cut short (a full disk
 * under an older stress) is ended first, so that our lines stay whole lines.
 * Returns 0, or -1 with errno set. */
int record_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	struct stat st;
	char last = '\n';
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		int rfd = open(path, O_RDONLY | O_CLOEXEC);
		if (rfd >= 0) {
			if (pread(rfd, &last, 1, st.st_size - 1) != 1)
				last = '\n';
			close(rfd);
		}
	}
	if (last != '\n' && write(fd, "\n", 1) != 1) {
		int e = errno;
		close(fd);
		errno = e ? e : ENOSPC;
		return -1;
	}
	S.record_fd = fd;
	return 0;
}

/* Append one line whole or not at all: reserve its space first where the
 * filesystem can (fallocate beyond the end), write it with one write(2) on
 * the O_APPEND descriptor, and should the write still come up short (a full
 * disk, a file size limit), cut the file back to where the line began. */
static int append_line(int fd, const char *line, size_t len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	off_t start = st.st_size;
	if (S_ISREG(st.st_mode) && fallocate(fd, FALLOC_FL_KEEP_SIZE, start, (off_t)len) < 0 &&
	    errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
		return -1;
	ssize_t w;
	while ((w = write(fd, line, len)) < 0 && errno == EINTR)
		;
	if (w == (ssize_t)len)
		return 0;
	int e = w < 0 ? errno : ENOSPC;
	if (S_ISREG(st.st_mode) && w > 0) {
		/* Another writer may have appended meanwhile: cut only our part. */
		struct stat now;
		if (fstat(fd, &now) == 0 && now.st_size == start + w)
			(void)!ftruncate(fd, start);
	}
	errno = e;
	return -1;
}

int record_run(const struct job *j, const struct runinfo *r, bool failed, const char *sig,
               const char *reach)
{
	json_t *o = json_object();
	json_object_set_new(o, "job", json_string(j->name));
	json_object_set_new(o, "run", json_integer(r->run));
	json_object_set_new(o, "seed", json_u64(r->seed));
	json_object_set_new(o, "status", json_string(failed ? "fail" : "pass"));
	json_object_set_new(o, "signature", failed ? json_string(sig) : json_null());
	json_object_set_new(o, "reproduces", failed ? json_boolean(sig_reproduces(j, sig)) : json_null());
	json_object_set_new(o, "exit", r->exited ? json_integer(r->code) : json_null());
	json_object_set_new(o, "signal", r->exited ? json_null() : json_string(signame(r->code)));
	json_object_set_new(o, "seconds", json_real(r->dur_ms / 1e3));
	json_object_set_new(o, "injection", reach ? json_string(reach) : json_null());
	/* The log has moved into the kept dir when the run was kept. */
	const char *lp = r->logpath;
	char kept[PATH_MAX + 64];
	if (lp && access(lp, F_OK) < 0 && failed && j->nsigs) {
		for (int i = 0; i < j->nsigs; i++)
			if (!strcmp(j->sigs[i].text, sig) && j->sigs[i].nkept) {
				const char *d = j->sigs[i].kept[j->sigs[i].nkept - 1];
				snprintf(kept, sizeof kept, "%s/%s/inject.log", S.rundir, d);
				lp = kept;
			}
	}
	json_object_set_new(o, "sites", log_sites(lp));
	char *txt = json_dump_u64(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	size_t n = strlen(txt);
	txt = xrealloc(txt, n + 2);
	txt[n++] = '\n';
	txt[n] = 0;
	int rc = append_line(S.record_fd, txt, n);
	free(txt);
	return rc;
}
