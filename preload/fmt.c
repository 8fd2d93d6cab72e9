/* fmt.c: async-signal-safe formatting and the stderr line (see fmt.h). */
#include "fmt.h"

#include <errno.h>
#include <string.h>

char *inj_fmt_u64(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = tmp[--n];
	return p;
}

char *inj_fmt_hex(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;
	do
		tmp[n++] = "0123456789abcdef"[v & 15];
	while ((v >>= 4));
	while (n)
		*p++ = tmp[--n];
	return p;
}

char *inj_fmt_str(char *p, const char *s, char *end)
{
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

void inj_write_err(const char *msg)
{
	int saved = errno;
	size_t n = strlen(msg);
	while (n) {
		ssize_t w = inj_write(2, msg, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		msg += w;
		n -= (size_t)w;
	}
	while (inj_write(2, "\n", 1) < 0 && errno == EINTR)
		;
	errno = saved;
}
