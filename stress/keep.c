/* Kept failures.
 *
 * A kept failure is a directory <rundir>/[<job>/]failures/<slug>/<seed>/ with
 * output.txt, inject.log (when injected), events.txt (when the program wrote
 * its own events to STRESS_EVENTS), meta.json, replay.sh and trace.json (its
 * timeline, trace.c).  It is built under a hidden temporary name and renamed
 * into place, so a reader never sees half of one.
 */
#include "stress.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A JSON array of strings; out of memory ends stress, as xmalloc does,
 * rather than leave the key out of meta.json. */
static json_t *strv(char *const *v, int n)
{
	json_t *a = json_strv(v, n);
	if (!a)
		xalloc_die();
	return a;
}

static char *replay_script(const char *cwd, const struct job *j, const struct runinfo *r,
                           const char *sig)
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
	char *qcwd = shquote(cwd);
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
		cmd = shquote(j->launcher);
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
	/* With REPLAY_TRACE=DIR, the same run keeps its output, injection log
	 * and own events in DIR and stress draws DIR/trace.json from them: the
	 * exec line above, run in a child instead, and a tail that draws. */
	char *ex = strstr(s, "\nexec ");
	if (ex) {
		char *line = xstrdup(ex + 6);
		char self[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		self[n > 0 ? n : 0] = 0;
		char *qself = shquote(n > 0 ? self : "stress");
		ex[1] = 0;
		char *head = s;
		s = xasprintf("%s"
		              "if [ -n \"${REPLAY_TRACE:-}\" ]; then\n"
		              "  mkdir -p \"$REPLAY_TRACE\" || exit 125\n"
		              "  rm -f \"$REPLAY_TRACE/events.txt\" \"$REPLAY_TRACE/inject.log\"\n"
		              "  export STRESS_EVENTS=\"$REPLAY_TRACE/events.txt\"\n"
		              "  %.*s >\"$REPLAY_TRACE/output.txt\" 2>&1\n"
		              "  rc=$?\n"
		              "  cat \"$REPLAY_TRACE/output.txt\"\n"
		              "  [ \"$log\" = \"$REPLAY_TRACE/inject.log\" ] || cp \"$log\" \"$REPLAY_TRACE/inject.log\" 2>/dev/null\n"
		              "  %s --trace-json \"$REPLAY_TRACE\" >&2\n"
		              "  exit $rc\n"
		              "fi\n"
		              "exec %s",
		              head, (int)strlen(line) - 1, line, qself, line);
		free(head);
		free(line);
		free(qself);
	}
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

char *keep_failure(const struct runenv *env, struct job *j, const struct runinfo *r,
                   const char *sig, const struct sig *g)
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
	if (r->eventspath) {
		snprintf(f, sizeof f, "%s/events.txt", tmp);
		if (rename(r->eventspath, f) < 0 && !bad++)
			err = errno;
	}

	json_t *m = json_object();
	json_object_set_new(m, "job", json_string(j->name));
	json_object_set_new(m, "signature", json_string(sig));
	json_object_set_new(m, "command", strv(j->argv, j->argc));
	json_object_set_new(m, "inject", json_str(j->inject));
	json_object_set_new(m, "launcher", j->inject ? json_string(j->launcher) : json_null());
	char *sb = xasprintf("%llu", (unsigned long long)r->seed);
	char **full = job_argv(j, sb, "<run dir>/inject.log");
	int nfull = 0;
	while (full[nfull])
		nfull++;
	json_object_set_new(m, "argv", strv(full, nfull));
	free(full);
	json_object_set_new(m, "cwd", json_str(env->cwd));
	json_t *delta = json_object();
	char *rb = xasprintf("%lld", r->run);
	json_object_set_new(delta, "STRESS_RUN", json_string(rb));
	json_object_set_new(delta, "STRESS_SEED", json_string(sb));
	if (j->inject)
		json_object_set_new(delta, "INJECT_SEED", json_string(sb));
	free(rb);
	free(sb);
	json_object_set_new(m, "env", delta);
	json_object_set_new(m, "seed", json_u64(r->seed));
	json_object_set_new(m, "run", json_integer(r->run));
	json_object_set_new(m, "exit", r->exited ? json_integer(r->code) : json_null());
	json_object_set_new(m, "signal", r->exited ? json_null() : json_string(signame(r->code)));
	json_object_set_new(m, "timed_out", json_boolean(r->timed_out));
	json_object_set_new(m, "duration_ms", json_real(r->dur_ms));
	/* On the clock of the shim's t0 and gosched's events: trace.c's origin. */
	json_object_set_new(m, "monotonic_ns", json_pack("{s:f,s:f}", "start", r->start_mono * 1e9,
	                                                 "end", r->end_mono * 1e9));
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

	char *sh = replay_script(env->cwd, j, r, sig);
	snprintf(f, sizeof f, "%s/replay.sh", tmp);
	if (atomic_write(f, sh, strlen(sh), 0755) < 0 && !bad++)
		err = errno;
	free(sh);
	if (!bad && trace_write(tmp) < 0 && !bad++)
		err = errno;
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
	return xstrdup(final + strlen(env->rundir) + 1);
}
