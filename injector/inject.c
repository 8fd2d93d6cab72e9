/* inject: run a program under libinject.so with seeded delays at lock-release
 * points.
 *
 *   inject [options] -- PROGRAM ARGS...
 *   inject --check [options]
 *
 * Sets the INJECT_* variables from the flags, checks every INJECT_* value with
 * the shim's own parser (injector/spec.c) so that a bad value fails here with
 * status 125 before the program runs, puts the shim (found next to this
 * binary) first in LD_PRELOAD and execs.  --list-sites runs the program once
 * with probability 0 and prints its sites, busiest first.  --check only says
 * whether a launch would accept the flags (stress and hunt ask it once,
 * before their first run). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inject_target.h"
#include "plan.h"
#include "spec.h"

static const char usage_line[] =
	"usage: inject [--seed N] [--prob P] [--delay SPEC] [--sites LIST] [--skip LIST] "
	"[--points LIST] [--sample N] [--action A] [--max N] [--log FILE] [--plan NAME[,NAME...]] "
	"[--list-sites] "
	"[--verbose] "
	"-- PROGRAM ARGS...";

static const char help_text[] =
	"Run PROGRAM under libinject.so, which delays threads at lock-release points\n"
	"with seeded random delays, so that narrow races show up in a few runs.\n"
	"\n"
	"Options (each sets the INJECT_* variable named; a variable already in the\n"
	"environment is kept unless its flag is given):\n"
	"  --seed N       INJECT_SEED    64-bit seed (default: from the clock; printed\n"
	"                                with --verbose). Decisions are a pure function of\n"
	"                                (seed, thread lineage, site, visit number).\n"
	"  --prob P       INJECT_PROB    probability of a delay at a matching site visit,\n"
	"                                decimal (0.25, 1e-3; default: the plan\n"
	"                                family's; without one, 1 when --sites names a\n"
	"                                site, else 0.1)\n"
	"  --delay SPEC   INJECT_DELAY   fixed:D, uniform:MIN:MAX, exp:MEAN or\n"
	"                                loguniform:MIN:MAX (default: the plan\n"
	"                                family's, else " INJECT_DEFAULT_DELAY ");\n"
	"                                a duration as\n"
	"                                in Go, with a decimal exponent allowed\n"
	"                                (200us, 1.5ms, 2e3ns, 1m30s; units ns, us,\n"
	"                                ms, s, m, h; docs/interfaces.md), from 0 to\n"
	"                                1h; so is every delay: exp is capped at the\n"
	"                                lesser of 50 x MEAN and 1h\n"
	"  --sites LIST   INJECT_SITES   comma list of function names or globs\n"
	"                                (startm, *lock*); !NAME excludes; matched\n"
	"                                against the function and against fn+0xoff;\n"
	"                                unset or empty: every site\n"
	"  --skip LIST    INJECT_SKIP    glob list of wrapper functions to skip when\n"
	"                                naming a site (their caller is the site)\n"
	"  --points LIST  INJECT_POINTS  comma list of mutex_unlock, mutex_lock,\n"
	"                                rwlock_unlock, spin_unlock, sem_post,\n"
	"                                cond_signal, cond_broadcast, thread_start,\n"
	"                                access, atomic, or all (default: the plan\n"
	"                                family's, else " INJECT_DEFAULT_POINTS "); the site of\n"
	"                                thread_start is the function that called\n"
	"                                pthread_create; access and atomic are every\n"
	"                                plain access and atomic of a program compiled\n"
	"                                with -fsanitize=thread and linked against\n"
	"                                libinject.so (preload/README.md), the site\n"
	"                                the function making it\n"
	"  --sample N     INJECT_SAMPLE  an access (atomic) is a visit once in N of a\n"
	"                                thread's accesses (atomics), drawn at random\n"
	"                                from the seed (default 1 when --sites names a\n"
	"                                site, else " INJECT_DEFAULT_SAMPLE "); only the visits are\n"
	"                                counted and decided with --prob\n"
	"  --action A     INJECT_ACTION  sleep, yield or spin (default sleep; sleep\n"
	"                                busy-waits below 100us, which nanosleep\n"
	"                                does not honour)\n"
	"  --max N        INJECT_MAX     most delays in one process (default: no bound)\n"
	"  --log FILE     INJECT_LOG     append the event log and per-site counts to\n"
	"                                FILE at exit, _exit and on a fatal signal\n"
	"                                (format: docs/interfaces.md)\n"
	"  --plan NAME    INJECT_PLAN    a plan family by name, or portfolio: each run\n"
	"                                draws its family from its seed (default when\n"
	"                                none of --prob, --delay, --sites, --points,\n"
	"                                --action is given), or a comma list of\n"
	"                                families (release-mid,one-cpu): each run\n"
	"                                draws one of them from its seed, as the\n"
	"                                portfolio does; access-noise is drawn only\n"
	"                                for a program built with -fsanitize=thread,\n"
	"                                and a plan of it alone is refused for\n"
	"                                another; a flag given keeps its value over\n"
	"                                the family's. Families:\n"
	"%s"
	"  --list-sites                  run PROGRAM once counting visits without\n"
	"                                delaying, then print visits<TAB>site,\n"
	"                                busiest first\n"
	"  --verbose                     print the seed and the environment set\n"
	"  --help                        this text\n"
	"  --check FLAGS...              (first) check FLAGS as a launch would, with\n"
	"                                the INJECT_* values in the environment, and\n"
	"                                run nothing: silent and 0 when a launch would\n"
	"                                accept them, else one line and 64; flags that\n"
	"                                change the mode (--help, --list-sites) and a\n"
	"                                program or -- are refused (stress --inject and\n"
	"                                hunt check their flags this way)\n"
	"\n"
	"Examples:\n"
	"  inject --list-sites -- build/gosched --fix off\n"
	"  inject --sites startm --delay uniform:200us:2ms --log /tmp/l -- build/gosched --fix off\n"
	"  inject --seed 42 --prob 0.2 --points all -- xz -T2 file\n"
	"\n"
	"Exit status: PROGRAM's; 64 for a usage error; 125 for a bad INJECT_* value,\n"
	"a program that cannot be run, or one the shim cannot enter (statically linked,\n"
	"set-user/group-ID, linked with libtsan, or calling a __tsan_* function the\n"
	"shim does not define).  Setting LD_PRELOAD=libinject.so and the\n"
	"INJECT_* variables by hand works too (the shim checks them the same way).\n"
	"\n"
	"Empty is unset: an INJECT_* variable set to the empty string (VAR= in a\n"
	"script, --flag '') counts as not set; its default applies.  The shim injects\n"
	"only when at least one INJECT_* variable is set and not empty; otherwise it\n"
	"passes every call straight through (so INJECT_SITES= alone does nothing, and\n"
	"means every site only next to another variable that is set).  inject always\n"
	"sets INJECT_SEED, so under inject the shim always injects.\n";

static void die(int status, const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "inject: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	exit(status);
}

static const struct { const char *flag, *var; } flags[] = {
	{ "--seed", "INJECT_SEED" }, { "--prob", "INJECT_PROB" },
	{ "--delay", "INJECT_DELAY" }, { "--sites", "INJECT_SITES" },
	{ "--skip", "INJECT_SKIP" }, { "--points", "INJECT_POINTS" },
	{ "--action", "INJECT_ACTION" }, { "--max", "INJECT_MAX" },
	{ "--log", "INJECT_LOG" }, { "--sample", "INJECT_SAMPLE" }, { "--plan", "INJECT_PLAN" },
};

static void shim_path(char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		die(125, "cannot read /proc/self/exe: %s%s", strerror(errno), "");
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	*slash = 0;
	snprintf(out, len, "%s/libinject.so", exe);
	if (access(out, R_OK) != 0)
		die(125, "cannot find the shim %s: %s", out, strerror(errno));
}

struct siteline { char name[256]; unsigned long long visits; };

static int by_visits(const void *a, const void *b)
{
	const struct siteline *x = a, *y = b;
	if (x->visits != y->visits)
		return x->visits < y->visits ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* Run the program once with probability 0 and print its sites. */
static int list_sites(char **argv)
{
	char tmpl[] = "/tmp/inject-sites-XXXXXX";
	int fd = mkstemp(tmpl);
	if (fd < 0)
		die(125, "cannot create a temporary file: %s%s", strerror(errno), "");
	close(fd);
	setenv("INJECT_LOG", tmpl, 1);
	setenv("INJECT_PROB", "0", 1);
	if (!getenv("INJECT_SAMPLE") || !*getenv("INJECT_SAMPLE"))
		setenv("INJECT_SAMPLE", "1", 1);        /* every access site is seen */
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		die(125, "fork: %s%s", strerror(errno), "");
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "inject: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(125);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 125) {
		unlink(tmpl);
		return 125;
	}
	FILE *f = fopen(tmpl, "r");
	if (!f)
		die(125, "cannot read %s: %s", tmpl, strerror(errno));
	size_t n = 0, cap = 64;
	struct siteline *v = malloc(cap * sizeof *v);
	char line[1024];
	while (v && fgets(line, sizeof line, f)) {
		char name[256];
		unsigned long long visits;
		if (sscanf(line, "S %255s %llu", name, &visits) != 2)
			continue;
		size_t i;
		for (i = 0; i < n && strcmp(v[i].name, name); i++)
			;
		if (i == n) {
			if (n == cap && !(v = realloc(v, (cap *= 2) * sizeof *v)))
				break;
			snprintf(v[n].name, sizeof v[n].name, "%s", name);
			v[n++].visits = 0;
		}
		v[i].visits += visits;   /* forked children add their blocks */
	}
	fclose(f);
	unlink(tmpl);
	if (!v)
		die(125, "out of memory%s%s", "", "");
	qsort(v, n, sizeof *v, by_visits);
	printf("# visits\tsite\n");
	for (size_t i = 0; i < n; i++)
		printf("%llu\t%s\n", v[i].visits, v[i].name);
	free(v);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (WIFSIGNALED(st))
			fprintf(stderr, "inject: %s was killed by signal %d\n", argv[0], WTERMSIG(st));
		else
			fprintf(stderr, "inject: %s exited with status %d\n", argv[0],
				WEXITSTATUS(st));
	}
	return 0;
}

/* What the flags before the program ask for. */
struct flags {
	int list, verbose, help, check;
	int prog;               /* argv index of PROGRAM (argc when none) */
	int dashdash;           /* a "--" was given */
};

/* Parse the flags from argv[start]: set each INJECT_* variable a flag names
 * and stop at "--", at the first word that is not a flag (the program), or at
 * --help.  One parser for a launch and for --check, so that --check accepts
 * exactly what a launch accepts.  Returns 0, or 64 with the one-line message
 * in err. */
static int parse_flags(int argc, char **argv, int start, struct flags *f, char *err, size_t n)
{
	int i;
	memset(f, 0, sizeof *f);
	for (i = start; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			f->dashdash = 1;
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			f->help = 1;
			break;
		}
		if (!strcmp(a, "--list-sites")) {
			f->list = 1;
			continue;
		}
		if (!strcmp(a, "--check")) {
			f->check = 1;
			continue;
		}
		if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
			f->verbose = 1;
			continue;
		}
		size_t k;
		const char *val = NULL;
		for (k = 0; k < sizeof flags / sizeof flags[0]; k++) {
			size_t fl = strlen(flags[k].flag);
			if (!strncmp(a, flags[k].flag, fl) && a[fl] == '=') {
				val = a + fl + 1;
				break;
			}
			if (!strcmp(a, flags[k].flag)) {
				/* "--seed -- prog": the value is missing, not "--" (no
				 * value of any flag starts with "--"). */
				if (i + 1 >= argc || !strncmp(argv[i + 1], "--", 2)) {
					snprintf(err, n, "inject: %s needs a value (see inject --help)", a);
					return 64;
				}
				val = argv[++i];
				break;
			}
		}
		if (k == sizeof flags / sizeof flags[0]) {
			snprintf(err, n, "inject: unknown option %s (see inject --help)", a);
			return 64;
		}
		setenv(flags[k].var, val, 1);
	}
	f->prog = i;
	return 0;
}

/* inject --check FLAGS...: would a launch accept FLAGS?  The same parser and
 * the same INJECT_* checks as a launch (with the environment as it is), but
 * nothing runs and no file is made.  FLAGS are what stress --inject and hunt
 * put before their own --seed, --log and program, so a flag that changes the
 * launcher's mode (--help, --list-sites, --check) and a program or "--" are
 * refused too.  Silent and 0 when accepted; else one line and 64. */
static int check_flags(int argc, char **argv)
{
	char err[2048];
	struct flags f;
	int rc = parse_flags(argc, argv, 2, &f, err, sizeof err);
	if (rc) {
		fprintf(stderr, "%s\n", err);
		return rc;
	}
	const char *mode = f.help ? "--help" : f.list ? "--list-sites" : f.check ? "--check" : NULL;
	if (mode) {
		fprintf(stderr, "inject: %s changes what the launcher does (it would not run the "
			"program under injection); not allowed in injection flags\n", mode);
		return 64;
	}
	if (f.dashdash || f.prog < argc) {
		if (f.prog < argc)
			fprintf(stderr, "inject: the injection flags name a program (\"%s\"); give "
				"only flags: the program comes from the caller\n", argv[f.prog]);
		else
			fprintf(stderr, "inject: the injection flags end with --; give only flags: "
				"the program comes from the caller\n");
		return 64;
	}
	static struct inject_config cfg;
	if (inject_config_from_env(&cfg, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 64;
	}
	if (cfg.log[0]) {
		/* As a launch would: a file the program can append to; but make
		 * nothing.  An existing file must be writable, else its directory. */
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%s", cfg.log);
		char *slash = strrchr(dir, '/');
		if (!slash)
			strcpy(dir, ".");
		else if (slash == dir)
			dir[1] = 0;
		else
			*slash = 0;
		int ok = access(cfg.log, F_OK) == 0 ? access(cfg.log, W_OK) == 0
						    : access(dir, W_OK | X_OK) == 0;
		if (!ok) {
			fprintf(stderr, "inject: INJECT_LOG: bad value \"%s\": expected a file the "
				"program can append to (%s)\n", cfg.log, strerror(errno));
			return 64;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	char err[2048];
	struct flags fl;
	if (argc > 1 && !strcmp(argv[1], "--check"))
		return check_flags(argc, argv);
	int rc = parse_flags(argc, argv, 1, &fl, err, sizeof err);
	if (rc) {
		fprintf(stderr, "%s\n", err);
		return rc;
	}
	if (fl.help) {
		char fams[4096] = "";
		for (const struct inject_family *f = inject_families; f->name; f++) {
			size_t l = strlen(fams);
			l += (size_t)snprintf(fams + l, sizeof fams - l, "%34s%-14s", "", f->name);
			/* The description's lines, each indented under the first. */
			for (const char *w = f->what; *w && l < sizeof fams;) {
				const char *nl = strchr(w, '\n');
				int len = nl ? (int)(nl - w) : (int)strlen(w);
				l += (size_t)snprintf(fams + l, sizeof fams - l, "%s%.*s", w == f->what
						      ? "" : "\n                                                ",
						      len, w);
				w += len + (nl != NULL);
			}
			snprintf(fams + l, sizeof fams - l, "%s\n",
				 inject_family_available(f) ? "" : " (not in this build)");
		}
		printf("%s\n       inject --check [options]\n\n", usage_line);
		printf(help_text, fams);
		return 0;
	}
	if (fl.check)
		die(64, "--check comes first: inject --check FLAGS...%s%s", "", "");
	int i = fl.prog, list = fl.list, verbose = fl.verbose;
	if (i >= argc)
		die(64, "no program given: %s%s", usage_line + 7, "");

	if (!getenv("INJECT_SEED") || !*getenv("INJECT_SEED")) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		char seed[32];
		snprintf(seed, sizeof seed, "%llu",
			 (unsigned long long)((uint64_t)ts.tv_sec * 1000000007u ^
					      (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 40)));
		setenv("INJECT_SEED", seed, 1);
	}

	/* The program is looked at first: whether it is instrumented decides
	 * which plan families the portfolio can draw (access-noise only where
	 * there are accesses to delay), in this process and in the shim. */
	char shim[PATH_MAX + 32];
	shim_path(shim, sizeof shim);
	char why[2 * PATH_MAX + 512];
	if (inject_unreachable(argv[i], why, sizeof why)) {
		fprintf(stderr, "%s\n", why);
		return 125;
	}
	int instrumented;
	if (inject_tsan_unserved(argv[i], shim, &instrumented, why, sizeof why)) {
		fprintf(stderr, "%s\n", why);
		return 125;
	}
	setenv("INJECT_INSTRUMENTED", instrumented ? "1" : "0", 1);

	static struct inject_config cfg;
	if (inject_config_from_env(&cfg, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 125;
	}
	if (cfg.plan_unreached && !instrumented) {
		/* Every family the plan names delays at accesses this program
		 * does not have: each run would be undelayed, and a pass would
		 * say nothing.  (--check cannot see this: it has no program.) */
		fprintf(stderr, "inject: INJECT_PLAN: bad value \"%s\" for %s: its families delay "
			"only at -fsanitize=thread accesses, and it has none (no run would be "
			"delayed)\n", getenv("INJECT_PLAN"), argv[i]);
		return 125;
	}
	if (cfg.log[0] && cfg.log[0] != '/') {
		/* Children exec'd after a chdir must append to the same file. */
		char cwd[PATH_MAX], abs[PATH_MAX + sizeof cfg.log];
		if (!getcwd(cwd, sizeof cwd))
			die(125, "INJECT_LOG: cannot make %s absolute: %s", cfg.log, strerror(errno));
		snprintf(abs, sizeof abs, "%s/%s", cwd, cfg.log);
		setenv("INJECT_LOG", abs, 1);
	}
	if (cfg.log[0]) {
		FILE *f = fopen(cfg.log, "a");
		if (!f) {
			fprintf(stderr, "inject: INJECT_LOG: bad value \"%s\": expected a file the "
				"program can append to (%s)\n", cfg.log, strerror(errno));
			return 125;
		}
		fclose(f);
	}

	const char *old = getenv("LD_PRELOAD");
	size_t len = strlen(shim) + (old ? strlen(old) : 0) + 2;
	char *pre = malloc(len);
	if (!pre)
		die(125, "out of memory%s%s", "", "");
	snprintf(pre, len, "%s%s%s", shim, old && *old ? ":" : "", old && *old ? old : "");
	setenv("LD_PRELOAD", pre, 1);
	free(pre);

	if (verbose) {
		fprintf(stderr, "inject: seed=%s prob=%s delay=%s action=%s points=%s sample=%llu "
			"sites=%s plan=%s\n", getenv("INJECT_SEED"), cfg.prob_str, cfg.delay_str,
			(const char *[]){ "sleep", "yield", "spin" }[cfg.action], cfg.points_str,
			(unsigned long long)cfg.sample, cfg.sites_str[0] ? cfg.sites_str : "*",
			cfg.plan_str);
		fprintf(stderr, "inject: LD_PRELOAD=%s\n", getenv("LD_PRELOAD"));
	}
	/* An instrumented library it loads later needing an entry point the
	 * shim lacks then fails in dlopen, naming it, not at that call. */
	if (instrumented)
		setenv("LD_BIND_NOW", "1", 1);
	if (list)
		return list_sites(argv + i);
	execvp(argv[i], argv + i);
	fprintf(stderr, "inject: cannot run %s: %s\n", argv[i], strerror(errno));
	return 125;
}
