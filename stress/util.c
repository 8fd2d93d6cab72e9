/* Small helpers of stress's own: time stamps, slugs, rm -rf, numbers from
 * flags, unsigned 64-bit numbers in JSON.  The helpers stress shares with
 * hunt and the shim (durations, words, paths, allocation, UTF-8, atomic
 * writes, Wilson intervals) are in common/. */
#include "stress.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
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
	if (!t)
		xalloc_die();
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
