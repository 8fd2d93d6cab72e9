/* Small helpers: durations, time stamps, slugs, atomic writes, word
 * splitting and shell quoting. */
#include "stress.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "stress: out of memory\n");
		exit(EX_HARNESS);
	}
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "stress: out of memory\n");
		exit(EX_HARNESS);
	}
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fprintf(stderr, "stress: out of memory\n");
		exit(EX_HARNESS);
	}
	return s;
}

double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Go's time.ParseDuration syntax ("1m30s", "200ms", "2s"); a bare number
 * means seconds.  Infinite, NaN and overflowing values are refused, and so is
 * anything above DURATION_MAX (a year: longer is surely a typo, and 1e999s
 * would otherwise read as infinity).  Returns 0 on success. */
#define DURATION_MAX (366.0 * 86400)
int parse_duration(const char *s, double *out)
{
	static const struct { const char *u; double mul; } units[] = {
		{"ns", 1e-9}, {"us", 1e-6}, {"µs", 1e-6}, {"ms", 1e-3},
		{"s", 1}, {"m", 60}, {"h", 3600},
	};
	double total = 0;
	const char *p = s;
	if (!*p || strpbrk(p, "xXpP"))   /* no hex floats */
		return -1;
	char *end;
	errno = 0;
	double bare = strtod(p, &end);
	if (end != p && !*end) {
		if (errno || !isfinite(bare) || bare < 0 || bare > DURATION_MAX ||
		    (!isdigit((unsigned char)*p) && *p != '.'))
			return -1;
		*out = bare;
		return 0;
	}
	while (*p) {
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -1;
		errno = 0;
		double v = strtod(p, &end);
		if (end == p || errno || !isfinite(v) || v < 0)
			return -1;
		p = end;
		size_t best = 0;
		double mul = 0;
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
			size_t n = strlen(units[i].u);
			if (n > best && strncmp(p, units[i].u, n) == 0) {
				best = n;
				mul = units[i].mul;
			}
		}
		if (!best)
			return -1;
		p += best;
		total += v * mul;
		if (!isfinite(total) || total > DURATION_MAX)
			return -1;
	}
	*out = total;
	return 0;
}

/* Elapsed time the way Go prints a Duration rounded to seconds: 5s, 1m5s, 1h0m5s. */
char *fmt_elapsed(double s, char *buf, size_t n)
{
	long long t = (long long)(s + 0.5);
	if (t < 60)
		snprintf(buf, n, "%llds", t);
	else if (t < 3600)
		snprintf(buf, n, "%lldm%llds", t / 60, t % 60);
	else
		snprintf(buf, n, "%lldh%lldm%llds", t / 3600, t / 60 % 60, t % 60);
	return buf;
}

void utc_stamp(char *buf, size_t n, bool iso)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, n, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y%m%dT%H%M%SZ", &tm);
}

/* A copy of s that is valid UTF-8 without control characters (but tab):
 * each bad byte becomes '?'.  What a program prints can be anything, but a
 * signature is a JSON key, a file's text and an XML attribute. */
char *utf8_clean(const char *s, size_t len)
{
	char *o = xmalloc(len + 1);
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k = 0;
	while (i < len) {
		size_t n = p[i] ? utf8_seq(p + i) : 0;
		if (n && i + n <= len && (p[i] >= 0x20 || p[i] == '\t') && p[i] != 0x7f) {
			memcpy(o + k, p + i, n);
			k += n;
			i += n;
		} else {
			o[k++] = '?';
			i++;
		}
	}
	o[k] = 0;
	return o;
}

/* "checkdead: runnable g" -> "checkdead-runnable-g"; never empty, at most 64 bytes. */
char *slugify(const char *s)
{
	char *out = xmalloc(65);
	size_t n = 0;
	bool dash = false;
	for (const char *p = s; *p && n < 64; p++) {
		unsigned char c = *p;
		if (isalnum(c) || c == '_' || c == '.') {
			if (dash && n)
				out[n++] = '-';
			dash = false;
			if (n < 64)
				out[n++] = tolower(c);
		} else {
			dash = true;
		}
	}
	while (n && (out[n - 1] == '.' || out[n - 1] == '-'))
		n--;
	if (!n || out[0] == '.')
		n = (size_t)snprintf(out, 65, "sig");
	out[n] = 0;
	return out;
}

/* Split a flag string into words: blanks separate, '...' is literal,
 * "..." allows \" \\ \$ \` escapes, a backslash outside quotes escapes the
 * next character.  No expansion of any kind (no globs, no $VAR, no $(...)). */
int split_words(const char *s, char ***argvp, int *argcp, char *err, size_t errsz)
{
	char **argv = NULL;
	int argc = 0;
	size_t len = strlen(s);
	char *w = xmalloc(len + 1);
	const char *p = s;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		size_t n = 0;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
			if (*p == '\'') {
				const char *q = strchr(p + 1, '\'');
				if (!q) {
					snprintf(err, errsz, "unterminated ' in \"%s\"", s);
					goto fail;
				}
				memcpy(w + n, p + 1, (size_t)(q - p - 1));
				n += (size_t)(q - p - 1);
				p = q + 1;
			} else if (*p == '"') {
				p++;
				while (*p && *p != '"') {
					if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
						p++;
					w[n++] = *p++;
				}
				if (!*p) {
					snprintf(err, errsz, "unterminated \" in \"%s\"", s);
					goto fail;
				}
				p++;
			} else if (*p == '\\' && p[1]) {
				w[n++] = p[1];
				p += 2;
			} else {
				w[n++] = *p++;
			}
		}
		w[n] = 0;
		argv = xrealloc(argv, sizeof *argv * (size_t)(argc + 2));
		argv[argc++] = xstrdup(w);
		argv[argc] = NULL;
	}
	free(w);
	if (!argv) {
		argv = xmalloc(sizeof *argv);
		argv[0] = NULL;
	}
	*argvp = argv;
	*argcp = argc;
	return 0;
fail:
	free(w);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
	return -1;
}

/* Quote s for a POSIX shell; plain words stay as they are. */
char *shquote(const char *s)
{
	bool plain = *s != 0;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_./=:,+@%", *p))
			plain = false;
	if (plain)
		return xstrdup(s);
	size_t n = 3;
	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 4 : 1;
	char *o = xmalloc(n), *q = o;
	*q++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(q, "'\\''", 4);
			q += 4;
		} else {
			*q++ = *p;
		}
	}
	*q++ = '\'';
	*q = 0;
	return o;
}

/* mkdir -p: create path and its missing parents; 0 or -1 with errno. */
int mkdirs(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

int rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char sub[PATH_MAX];
		snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
		rm_rf(sub);
	}
	closedir(d);
	return rmdir(path);
}

int parse_ll(const char *s, long long min, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < min)
		return -1;
	*out = v;
	return 0;
}

/* Decimal digits only, 0 to 2^64-1 (strtoull alone would take "-1" and a
 * leading blank or '+'). */
int parse_u64(const char *s, uint64_t *out)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || errno)
		return -1;
	*out = v;
	return 0;
}

/* "0,6" -> {0, 6} */
int parse_ok_list(const char *s, int *codes, int *n, int max)
{
	char *copy = xstrdup(s), *save = NULL;
	*n = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		long long v;
		if (parse_ll(t, 0, &v) < 0 || v > 255 || *n >= max) {
			free(copy);
			return -1;
		}
		codes[(*n)++] = (int)v;
	}
	free(copy);
	return *n ? 0 : -1;
}

/* The absolute path that execvp would run, or NULL. */
char *find_in_path(const char *cmd)
{
	char buf[PATH_MAX];
	if (strchr(cmd, '/')) {
		if (access(cmd, X_OK) < 0)
			return NULL;
		struct stat st;
		if (stat(cmd, &st) < 0 || S_ISDIR(st.st_mode))
			return NULL;
		return realpath(cmd, buf) ? xstrdup(buf) : xstrdup(cmd);
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *c = strchr(path, ':');
		size_t n = c ? (size_t)(c - path) : strlen(path);
		snprintf(buf, sizeof buf, "%.*s/%s", (int)n, n ? path : ".", cmd);
		struct stat st;
		if (access(buf, X_OK) == 0 && stat(buf, &st) == 0 && !S_ISDIR(st.st_mode))
			return xstrdup(buf);
		path += n + (c != NULL);
		if (!c)
			break;
	}
	return NULL;
}

/* Unsigned 64-bit integers in JSON.  jansson's integers are signed 64-bit,
 * so a seed of 2^63 or more would be written negative.  json_u64 stands in a
 * string holding a per-process random mark and the digits; json_dump_u64
 * dumps and puts the bare digits where each such string was.  The mark
 * starts with a control character that jansson always escapes, and nobody
 * else knows its random part, so no string from outside can be taken for one. */
static char u64_mark[40];

static void u64_init(void)
{
	if (u64_mark[0])
		return;
	unsigned long long r[2] = {0, 0};
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, r, sizeof r) != (ssize_t)sizeof r) {
		r[0] = (unsigned long long)now_mono() * 1000003ULL ^ (unsigned long long)getpid();
		r[1] = (unsigned long long)time(NULL);
	}
	if (fd >= 0)
		close(fd);
	snprintf(u64_mark, sizeof u64_mark, "%016llx%016llx", r[0], r[1]);
}

json_t *json_u64(uint64_t v)
{
	u64_init();
	char s[80];
	snprintf(s, sizeof s, "\001u64:%s:%llu", u64_mark, (unsigned long long)v);
	return json_string(s);
}

char *json_dump_u64(json_t *o, size_t flags)
{
	u64_init();
	char *t = json_dumps(o, flags);
	if (!t) {
		fprintf(stderr, "stress: out of memory\n");
		exit(EX_HARNESS);
	}
	char pre[64];
	int pl = snprintf(pre, sizeof pre, "\"\\u0001u64:%s:", u64_mark);
	char *w = t;
	for (const char *r = t; *r;) {
		if (!strncmp(r, pre, (size_t)pl)) {
			r += pl;
			while (isdigit((unsigned char)*r))
				*w++ = *r++;
			r++;            /* the closing quote */
		} else {
			*w++ = *r++;
		}
	}
	*w = 0;
	return t;
}
