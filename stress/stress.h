/* stress: run a command over and over on parallel workers, classify each
 * failure by its signature, keep the first few traces of each signature,
 * and write a summary.  See stress/README.md for the user's view and
 * docs/interfaces.md for the pinned formats (results layout, summary.json,
 * --record lines, campaign keys, the injection log we parse).
 *
 * The files, in the order data flows through them (from the command line
 * to the reports); none calls back into a file that calls it:
 *   main.c      the command line: flags, the modes, the results folder, exit
 *               statuses
 *   goflags.c   Go's stress spelling (-count=5, -kill=false) rewritten into
 *               ours before main.c reads it; the file -o writes per failure
 *   campaign.c  --campaign FILE.ini: its sections as jobs
 *   replay.c    --replay DIR: a kept failure's meta.json as a job, rerun
 *   merge.c     stress merge: shards' results into one folder, judged by
 *               verdict.c and written by report.c
 *   job.c       what a job is: its defaults, its preparation (the command
 *               found, the inject flags split and checked), a run's argv
 *   engine.c    the run loop: -p slots, one pipe per run, a signalfd for
 *               SIGCHLD/SIGINT/SIGTERM/SIGHUP, poll, timeouts (SIGQUIT, then
 *               SIGKILL to the run's process group), stop conditions, and
 *               the policy on harness errors
 *   spawn.c     starting a run (clone + exec, with a parent-death signal),
 *               the sentinel that ends runs whose stress was killed, the
 *               results folder's abandoned scratch dirs, `inject --check`
 *   classify.c  a finished run's output and status -> pass, fail (with a
 *               signature) or harness error
 *   evidence.c  what a run's injection log says: did injection reach it?
 *   tally.c     what a finished run adds to its job: counts, signatures,
 *               first failures, injection reach
 *   keep.c      kept failures (output.txt, inject.log, events.txt, meta.json,
 *               replay.sh, trace.json)
 *   trace.c     a kept failure's trace.json (Chrome Trace Event format)
 *   family.c    per plan family: runs, failures, signatures; the shim-only
 *               control's runs
 *   record.c    --record lines
 *   verdict.c   a job's counts -> its verdict, expectation met, confidence
 *   report.c    status lines, summary.json, junit.xml, report.md
 *   shard.c     --shard K/N: a shard's run indices; what its summary carries
 *               for merge (shard, exact seed, build ids, sizes, durations)
 *   history.c   stress history, --history: the newest summary.json against
 *               the earlier nights' of the same campaign
 *   html.c      report.html: the same, drawn (inline SVG), with each job's
 *               first kept failure as a timeline (timeline.c)
 *   timeline.c  a trace.json drawn as SVG lanes
 *   util.c      time stamps, slugs, rm -rf, numbers from flags, unsigned
 *               64-bit numbers in JSON
 * and, shared with hunt (and the shim, for durations), common/: the duration
 * grammar, word splitting and shell quoting, the PATH lookup and mkdirs,
 * allocation, UTF-8 cleaning, atomic writes, the Wilson interval.
 *
 * Everything runs on one thread; no locks.
 */
#ifndef STRESS_H
#define STRESS_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/duration.h"
#include "../common/path.h"
#include "../common/resultio.h"
#include "../common/wilson.h"
#include "../common/words.h"
#include "../common/xalloc.h"

/* Exit statuses (docs/interfaces.md). */
enum {
	EXIT_OK = 0,          /* every expectation holds (without one: no failures) */
	EXIT_UNMET = 1,       /* an expectation does not hold */
	EXIT_USAGE = 64,      /* bad flags or campaign file: one line, before any run */
	EXIT_HARNESS = 125,   /* stress or the launcher failed, not the program */
};

/* The longest duration any stress flag or key takes: longer is surely a typo. */
#define STRESS_DURATION_MAX (366 * 24 * DURATION_HOUR)

enum expect { EXPECT_NONE, EXPECT_FAIL, EXPECT_PASS };

/* One failure signature seen in a job. */
struct sig {
	char *text;           /* "checkdead: runnable g", "SIGSEGV", "exit 3", "timeout" */
	char *slug;           /* its directory name */
	long long count;      /* all failures with this signature */
	bool repro;           /* it matches the job's --signature: a reproduction */
	int nkept;
	char **kept;          /* kept dirs, relative to the results run dir */
};

/* A failure as report.html plots it. */
struct failpt {
	long long run;        /* its run index */
	double t;             /* seconds into the job */
	bool repro;           /* it matches the job's signature */
};

/* What the runs of one plan family did in a job (family.c). */
struct family_tally {
	char name[64];        /* the log header's plan=: a family, "custom" or "unknown" */
	long long runs, failures, repros;
	struct { const char *text; long long count; } *sigs;  /* text: the job's sig's */
	int nsigs;
};

/* A job: what to run and, once run, what happened. */
struct job {
	/* configuration */
	char *name;
	char **argv;          /* the user's command, NULL-terminated */
	int argc;
	char *path;           /* argv[0] resolved through PATH */
	const char *launcher; /* the inject launcher, which runs it when inject is set */
	char *inject;         /* launcher flags as written, or NULL */
	int inject_line;      /* campaign: the inject key's line */
	char **inject_argv;   /* the same, split; NULL-terminated */
	int inject_argc;
	long long count;      /* runs to start; 0 = no limit */
	double time_s;        /* stop starting runs after this; 0 = no limit */
	double timeout_s;     /* per run; 0 = none */
	double grace_s;       /* SIGQUIT -> SIGKILL */
	long long max_failures; /* 0 = no limit */
	bool failfast;
	bool nokill;          /* -kill=false: a run that times out is left alive (for gdb) */
	const char *out_prefix; /* -o: each failure's output also to PREFIX + a unique suffix */
	int procs;
	int keep;
	enum expect expect;
	char *control;
	regex_t *failure_re, *ignore_re;
	char *signature;      /* the failure it is after (POSIX ERE), or NULL */
	regex_t *signature_re;
	bool unexpected_ignore; /* other failures do not fail the job */
	int ok_status[32];
	int nok;
	int line;             /* campaign: the section's line, for messages */
	long long shim_control; /* runs of the shim-only control (--prob 0); 0: none */
	/* replay mode: every run uses the same seed and run index */
	bool fixed_seed;
	long long fixed_run;

	/* results */
	char *dir;            /* absolute job dir (results run dir, or run dir/job) */
	bool ran;
	long long started, runs, failures;
	long long repros;     /* failures whose signature matches */
	long long first_repro_run; /* -1 when none */
	double first_repro_s;
	/* Injected jobs: what each run's injection log says (tally.c, from evidence.c). */
	long long inj_reached, inj_untouched, inj_lost;
	long long inj_fielded;  /* runs whose log has the matched= fields */
	unsigned long long inj_matched_max, inj_sites_max, inj_full_runs, inj_full_visits;
	struct sig *sigs;
	int nsigs;
	double *dur_ms;
	size_t ndur, capdur;
	long long first_run;  /* -1 when none */
	double first_s;
	double wall_s, cpu_s;
	char *harness_error;
	struct failpt *fails; /* every failure, in the order they finished (report.html) */
	size_t nfails, capfails;
	char *first_trace;    /* output of the first failure (bounded) */
	char *first_kept;     /* relative dir of the first kept failure */
	bool interrupted;
	long long hung;       /* -kill=false: timed-out runs left alive, not yet ended */
	int hung_pid;         /* the latest of them */
	int met;              /* expectation met: 1, 0, or -1 (none) */
	char *confidence;
	char *verdict;        /* one human line */
	char *partial;        /* merged: which shards are missing (the verdict says so), or NULL */
	struct json_t *merged; /* merged: what only a merge knows (merge.c, shard.c), or NULL */
	char **warnings;      /* loud: the plan matched nothing, the site table was full */
	int nwarnings;
	struct family_tally *fams; /* per plan family (family.c) */
	int nfams;
	struct job *ctl;      /* the shim-only control's runs, or NULL (family.c) */
};

/* What the runs of every job share: set up before the first run (main.c;
 * replay.c for --replay) and read-only after.  engine.c runs jobs in it,
 * keep.c and record.c write what it says where. */
struct runenv {
	const char *cwd;      /* the runs' working directory (meta.json, replay.sh) */
	uint64_t seed_base;   /* run i gets seed seed_base + i, modulo 2^64 */
	size_t max_output;    /* bytes of a run's output kept (head + tail) */
	double status_every;  /* seconds between status lines; 0: none */
	bool tty;             /* stdout is a terminal: a status line rewrites itself */
	bool quiet;           /* no status lines, no report on stdout (--replay) */
	const char *rundir;   /* the absolute results run dir; NULL: keep nothing */
	const char *tmpdir;   /* the scratch dir: per-worker dirs and injection logs */
	int record_fd;        /* --record, O_APPEND; -1 when none */
	int shard_k, shard_n; /* --shard K/N: run indices K-1, K-1+N, ...; 0/0: all */
};

/* One stress invocation as its reports describe it (main.c fills it in,
 * report.c writes it out). */
struct session {
	const char *name;     /* campaign or job name: the results folder's prefix */
	double scale;         /* --scale: campaign counts (or times) times this; 0: none */
	char started[32], finished[32]; /* UTC, ISO 8601 */
	bool interrupted;     /* Ctrl-C, SIGTERM or SIGHUP cut a job short */
	const char *harness_error; /* the first job's harness error, or NULL */
	char *write_error;    /* the reports could not be written, and why */
	const char *history;  /* --history DIR: compare with its earlier runs, or NULL */
	struct runenv env;    /* what its runs shared */
	const char *campaign; /* the campaign file, absolute, or NULL */
	struct json_t *shards; /* merged: the shard coverage and binaries (merge.c), or NULL */
};

/* campaign.c */
int campaign_load(const char *file, const struct job *defaults, double scale, struct job **jobs,
                  int *njobs);

/* history.c */
int history_main(int argc, char **argv);
int history_after_run(const char *dir, const char *rundir, int rc);

/* goflags.c: Go's stress flags (-count=5, -kill=false, -o PREFIX ...) as ours. */
struct option;
int goflags_rewrite(int argc, char **argv, const struct option *longopts, const char *shortopts,
                    char *err, size_t errsz);
int go_parse_bool(const char *s, bool *v);
int go_output_check(const char *prefix, char *err, size_t errsz);
struct runinfo;
int go_output_write(const char *prefix, const struct runinfo *r, const char *sig, char *path,
                    size_t n);

/* replay.c */
int replay_main(const struct runenv *base, const char *launcher, const char *dir, long long count,
                int procs, double timeout_s);

/* job.c */
void job_defaults(struct job *j);
int job_prepare(struct job *j, char *err, size_t errsz);
int job_check_inject(struct job *j, char *line, size_t n);
char **job_argv(const struct job *j, const char *seed, const char *logpath);

/* engine.c */
int engine_init(void);
void engine_run(const struct runenv *env, struct job *j);
void shim_control_run(const struct runenv *env, struct job *j);

/* spawn.c */
int spawn_run(const char *path, char *const argv[], char *const envp[], int outfd, pid_t *pid);
int sentinel_start(void);
int sentinel_main(void);
void sentinel_stop(void);
void sentinel_add(pid_t pgid);
void sentinel_del(pid_t pgid);
bool sentinel_is(pid_t pid);
int tmp_claim(const char *tmpdir);
int clean_abandoned(const char *results);
int check_inject(const struct job *j, char *line, size_t n);

/* classify.c: a finished run, as engine.c describes it, and its outcome. */
enum outcome { OUT_PASS, OUT_FAIL, OUT_HARNESS };
struct runinfo {
	long long run;
	uint64_t seed;
	int worker;
	bool exited;          /* exited normally (else killed by a signal) */
	int code;             /* exit code, or signal number */
	bool timed_out;
	double dur_ms;
	double cpu_s;
	const char *out;      /* the kept output, NUL-terminated (NULs replaced) */
	size_t outlen;
	unsigned long long total_bytes, dropped_bytes;
	const char *logpath;  /* the run's injection log, or NULL */
	const char *eventspath; /* the program's own events (STRESS_EVENTS), or NULL */
	double start_mono, end_mono; /* when the run was started and reaped (now_mono) */
};
enum outcome classify(const struct job *j, const struct runinfo *r, char *sig, size_t sigsz);
bool sig_reproduces(const struct job *j, const char *sig);
const char *signame(int sig);

/* evidence.c: what a run's injection log says.  Several process blocks
 * (forks) are summed. */
struct evidence {
	int blocks, ended;    /* "# inject-log" headers, "# end" lines */
	bool fields;          /* every end line has matched_visits= (newer shims) */
	unsigned long long delays, slines, sites, matched, matched_visits, full;
};
enum reach { REACH_REACHED, REACH_UNTOUCHED, REACH_LOST };
void read_evidence(const char *path, struct evidence *e);
enum reach reach_of(const struct evidence *e);
const char *reach_name(enum reach r);

/* tally.c */
const char *tally_injection(struct job *j, const char *logpath);
struct sig *tally_run(struct job *j, const struct runinfo *r, const char *sig, double t);
void tally_kept(struct job *j, struct sig *g, char *dir);
struct sig **sigs_by_count(const struct job *j);

/* family.c: per-family tallies, and how the reports say the shim-only control */
void family_tally(struct job *j, const char *logpath, const struct sig *g);
struct json_t *families_json(struct job *j);
struct json_t *shim_only_json(const struct job *j);
char *families_md(struct job *j);
char *shim_only_warning(const struct job *j);

/* keep.c */
char *keep_failure(const struct runenv *env, struct job *j, const struct runinfo *r,
                   const char *sig, const struct sig *s);

/* trace.c */
int trace_write(const char *dir);
int trace_main(const char *dir);

/* record.c */
int record_open(const char *path);
int record_run(int fd, const struct job *j, const struct runinfo *r, const char *sig,
               const char *reach, const char *logpath);

/* verdict.c */
void judge(struct job *jobs, int njobs);
bool job_ok(const struct job *j);

/* report.c */
void status_line(const struct runenv *env, const struct job *j, double elapsed, bool final);
int write_reports(struct session *s, struct job *jobs, int njobs);
void print_report(const struct session *s, struct job *jobs, int njobs);

/* shard.c: --shard K/N, what a shard's summary says for merge.  Run
 * durations are kept as a histogram: bucket b holds the runs that took
 * [1 us * DUR_BASE^b, 1 us * DUR_BASE^(b+1)) (below 1 us: bucket 0); a
 * median read from it is within half a bucket (0.5%) of the true one. */
#define DUR_BASE 1.01
#define DUR_BUCKETS 4096      /* 1.01^4096 us is far beyond a year */
struct json_t *dur_hist_json(const long long *counts);
int shard_parse(const char *s, int *k, int *n);
long long shard_run(const struct runenv *env, long long nth);
char *build_id(const char *path);
void shard_summary(struct json_t *o, const struct session *ses, const struct job *jobs, int njobs);
void shard_job_summary(struct json_t *e, const struct job *j);
char *shard_note(const struct session *ses);

/* merge.c: stress merge --out DIR SHARD_DIR... */
int merge_main(int argc, char **argv);
/* html.c */
char *report_html(const struct session *s, struct job *jobs, int njobs, bool ok);
int html_history(const char *rundir, struct json_t *h);

/* timeline.c */
void timeline_svg(FILE *f, const char *trace_path, const char *href);
void html_esc(FILE *f, const char *s);

/* util.c */
char *fmt_elapsed(double s, char *buf, size_t n);
void utc_stamp(char *buf, size_t n, bool iso);
char *slugify(const char *s);
double now_mono(void);
int rm_rf(const char *path);
int parse_ll(const char *s, long long min, long long *out);
int parse_u64(const char *s, uint64_t *out);
struct json_t;
struct json_t *json_u64(uint64_t v);
char *json_dump_u64(struct json_t *o, size_t flags);
int parse_ok_list(const char *s, int *codes, int *n, int max);

#endif
