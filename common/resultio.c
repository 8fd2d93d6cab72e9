/* resultio: atomic result files and UTF-8-safe text and JSON strings (see
 * resultio.h). */
#include "resultio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int atomic_write(const char *path, const char *data, size_t len, int mode)
{
	char tmp[PATH_MAX + 32];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = ENOSPC;
			goto fail;
		}
		off += (size_t)w;
	}
	/* Some filesystems (NFS, delayed allocation) report a full disk only
	 * when the data is flushed: ask before the file takes its name. */
	if (fsync(fd) < 0 && errno != EINVAL && errno != EROFS)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	return 0;
fail:;
	int e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = e;
	return -1;
}

size_t utf8_seq(const unsigned char *p, size_t avail)
{
	if (!avail)
		return 0;
	unsigned c = p[0];
	if (c < 0x80)
		return c ? 1 : 0;
	size_t n = c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
	if (n > avail)
		return 0;
	for (size_t k = 1; k < n; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	/* No overlongs, no surrogates, nothing above U+10FFFF. */
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) || (c == 0xf0 && p[1] < 0x90) ||
	    (c == 0xf4 && p[1] >= 0x90))
		return 0;
	return n;
}

char *utf8_fix_n(const char *s, size_t len, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;
	bool ctl = flags & (UTF8_CTL | UTF8_CTL_NL), nl = flags & UTF8_CTL_NL;
	const char *repl = flags & UTF8_QMARK ? "?" : "\xef\xbf\xbd"; /* U+FFFD */
	size_t rl = strlen(repl), k = 0;
	char *o = malloc(len * rl + 1);
	if (!o)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(p + i, len - i);
		if (n && !(ctl && n == 1 && ((p[i] < 0x20 && p[i] != '\t' && (p[i] != '\n' || nl)) ||
					     p[i] == 0x7f))) {
			memcpy(o + k, p + i, n);
			k += n;
			i += n;
		} else {
			memcpy(o + k, repl, rl);
			k += rl;
			i++;
		}
	}
	o[k] = 0;
	return o;
}

char *utf8_fix(const char *s, unsigned flags)
{
	return utf8_fix_n(s, strlen(s), flags);
}

json_t *json_str(const char *s)
{
	if (!s)
		return json_null();
	json_t *v = json_string(s);
	if (v)
		return v;
	char *o = utf8_fix(s, 0);
	v = o ? json_string(o) : NULL;
	free(o);
	return v;
}

json_t *json_strv(char *const *v, int n)
{
	json_t *a = json_array();
	for (int i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_str(v[i])) < 0) {
			json_decref(a);
			a = NULL;
		}
	return a;
}
