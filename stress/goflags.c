/* Go's stress spelling: the flags of golang.org/x/tools/cmd/stress (read at
 * x/tools commit 9476bfec: -count, -failure, -ignore, -kill, -o, -p,
 * -timeout), single dash, with '=' or a space, as Go's flag package takes
 * them, turned into ours before getopt reads the command line; and the file
 * Go's -o writes for each failure.
 *
 * The rewrite is word for word: -count=5 becomes --count=5, -count 5 becomes
 * --count 5, -p=4 becomes -p4, -o=DIR/x- becomes -oDIR/x-, -kill=false becomes
 * --kill=false.  Where Go's meaning differs from our flag's, the rewrite
 * gives Go's: -count 0 (or below) is Go's "no limit" and is dropped (our
 * --count 0 is refused); -failfast=false is dropped.  As in Go's flag
 * package, a bool flag takes its value only after '=': "-kill false" would
 * make `false` the command, so it is refused instead.  -failfast is not in
 * the Go source we read; it is taken as ours (stop at the first failure).
 *
 * Only the words before the command are read: scanning stops at "--" and at
 * the first word that is not a flag, and our own flags' values (known from
 * the getopt tables main.c passes) are skipped, so `--failure -count` or the
 * command's own -test.count=3 are left alone. */
#include "stress.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Go's flag names of more than one letter; -p and -o are our short options
 * too, and -h/-help print the usage as in Go. */
static const char *const go_long[] = {"count", "failfast", "failure", "ignore", "kill", "timeout",
                                      "help", NULL};

/* strconv.ParseBool's spellings. */
int go_parse_bool(const char *s, bool *v)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True", NULL};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False", NULL};
	for (int i = 0; yes[i]; i++)
		if (!strcmp(s, yes[i]))
			return *v = true, 0;
	for (int i = 0; no[i]; i++)
		if (!strcmp(s, no[i]))
			return *v = false, 0;
	return -1;
}

static bool is_go_long(const char *name, size_t len)
{
	for (int i = 0; go_long[i]; i++)
		if (strlen(go_long[i]) == len && !strncmp(go_long[i], name, len))
			return true;
	return false;
}

/* Does our long option NAME (LEN bytes) take its value from the next word? */
static bool long_takes_next(const struct option *opts, const char *name, size_t len)
{
	for (const struct option *o = opts; o->name; o++)
		if (strlen(o->name) == len && !strncmp(o->name, name, len))
			return o->has_arg == required_argument;
	return false;
}

static bool short_takes_value(const char *shortopts, char c)
{
	const char *p = strchr(shortopts, c);
	return c != ':' && c != '+' && p && p[1] == ':';
}

int goflags_rewrite(int argc, char **argv, const struct option *longopts, const char *shortopts,
                    char *err, size_t errsz)
{
	int out = 1, i = 1;
	while (i < argc) {
		char *a = argv[i];
		if (!strcmp(a, "--") || a[0] != '-' || !a[1])
			break;
		if (a[1] == '-') {
			/* Ours (or Go's with two dashes, which Go's flag package also takes). */
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			bool b;
			if (!eq && len == 4 && !strncmp(a + 2, "kill", 4) && i + 1 < argc &&
			    go_parse_bool(argv[i + 1], &b) == 0) {
				snprintf(err, errsz, "write --kill=%s: a bool flag takes its value after '=' "
				         "(as in Go), and \"%s\" would be the command", argv[i + 1], argv[i + 1]);
				return -1;
			}
			argv[out++] = argv[i++];
			if (!eq && long_takes_next(longopts, a + 2, len) && i < argc)
				argv[out++] = argv[i++];
			continue;
		}
		const char *eq = strchr(a + 1, '=');
		size_t len = eq ? (size_t)(eq - a - 1) : strlen(a + 1);
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (len == 1 && short_takes_value(shortopts, a[1])) {
			/* -p 4, -p4, -p=4 (Go), and so for -o. */
			argv[out++] = eq ? xasprintf("-%c%s", a[1], eq + 1) : a;
			i++;
			if (!eq && !a[2] && i < argc)
				argv[out++] = argv[i++];
			continue;
		}
		if (len == 1 || !is_go_long(a + 1, len)) {
			if (len > 1 && !strchr(shortopts, a[1])) {
				snprintf(err, errsz, "unknown flag %.*s: Go's stress flags take one dash (-count, "
				         "-failfast, -failure, -ignore, -kill, -o, -p, -timeout), stress's own "
				         "two (--%.*s)", (int)len + 1, a, (int)len, a + 1);
				return -1;
			}
			argv[out++] = argv[i++];  /* a short option such as -h: getopt's */
			continue;
		}
		bool b;
		if (!strncmp(a + 1, "count", len)) {
			const char *v = eq ? eq + 1 : next;
			char *end;
			errno = 0;
			long long n = v ? strtoll(v, &end, 0) : 1;
			if (v && *v && !*end && !errno && n <= 0) {
				i += eq ? 1 : 2;      /* Go: 0 (the default) or less is no limit */
				continue;
			}
		} else if (!strncmp(a + 1, "failfast", len) && eq) {
			if (go_parse_bool(eq + 1, &b) < 0) {
				snprintf(err, errsz, "bad %s: want -failfast, -failfast=true or -failfast=false", a);
				return -1;
			}
			i++;
			if (b)
				argv[out++] = "--failfast";
			continue;
		} else if (!strncmp(a + 1, "kill", len) && !eq && next &&
		           go_parse_bool(next, &b) == 0) {
			snprintf(err, errsz, "write -kill=%s: a bool flag takes its value after '=' (as in Go), "
			         "and \"%s\" would be the command", next, next);
			return -1;
		}
		/* -name[=value] -> --name[=value]; the value, if separate, follows. */
		argv[out++] = xasprintf("-%s", a);
		i++;
		if (!eq && long_takes_next(longopts, a + 1, len) && i < argc)
			argv[out++] = argv[i++];
	}
	while (i < argc)
		argv[out++] = argv[i++];
	argv[out] = NULL;
	return out;
}

/* -o PREFIX: its folder must exist and take files. */
int go_output_check(const char *prefix, char *err, size_t errsz)
{
	char *copy = xstrdup(prefix);
	const char *dir = prefix[strlen(prefix) - 1] == '/' ? copy : dirname(copy);
	int rc = 0;
	if (!*prefix || access(dir, W_OK | X_OK) < 0) {
		snprintf(err, errsz, "bad -o \"%s\": %s is not a folder we can write to", prefix,
		         *prefix ? dir : "\"\"");
		rc = -1;
	}
	free(copy);
	return rc;
}

/* A failure's output at PREFIX plus a unique suffix (mkstemp's, where Go's
 * os.CreateTemp adds random digits), followed as in Go by an ERROR line
 * saying how the run ended.  The name is reserved by mkstemp and the
 * content then renamed over it (atomic_write), so a reader sees an empty
 * file or the whole output.  Returns 0 with the name in path, or -1 with
 * errno set. */
int go_output_write(const char *prefix, const struct runinfo *r, const char *sig, char *path,
                    size_t n)
{
	if ((size_t)snprintf(path, n, "%sXXXXXX", prefix) >= n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	fchmod(fd, 0644);
	close(fd);
	char how[96];
	if (r->exited)
		snprintf(how, sizeof how, "exit status %d", r->code);
	else
		snprintf(how, sizeof how, "signal: %s", signame(r->code));
	char *text = xasprintf("%s\n\nERROR: %s%s (stress: run %lld, seed %llu, signature \"%s\")\n",
	                       r->out, how, r->timed_out ? ", timed out" : "", r->run,
	                       (unsigned long long)r->seed, sig);
	int rc = atomic_write(path, text, strlen(text), 0644);
	int e = errno;
	free(text);
	if (rc < 0)
		unlink(path);
	errno = e;
	return rc;
}
