/* print.c: the runtime's print (Go 1.14's print.go).  Go's print writes
 * straight to fd 2 under printlock, without malloc, so that a crashing
 * runtime can still talk; ours formats into a stack buffer with vsnprintf and
 * writes it with one write(2), taking no lock (one call is one line or a few,
 * so concurrent prints interleave only between calls). */
#include "runtime.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

/* vfdprint: format into a stack buffer and write it to fd with one write(2)
 * (more only if the kernel takes less), retrying on EINTR. */
static void vfdprint(int fd, const char *fmt, va_list ap)
{
    char buf[1024];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    const char *s = buf;
    while (n > 0) {
        ssize_t w = write(fd, s, (size_t)n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (w == 0)
            return;
        s += w;
        n -= (int)w;
    }
}

/* rprint: Go's print, to fd 2. */
void rprint(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfdprint(2, fmt, ap);
    va_end(ap);
}

/* fdprint: the same to another fd (trace.c's events file). */
void fdprint(int fd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfdprint(fd, fmt, ap);
    va_end(ap);
}
