/* stubs.c: the runtime's clock, sleep and random numbers, which Go 1.14 keeps
 * beside its assembly: nanotime (time_nofake.go, over the vDSO's
 * clock_gettime), usleep (declared in stubs2.go, a nanosleep in
 * sys_linux_amd64.s) and fastrand (stubs.go).  Simplified: fastrand is a
 * 64-bit xorshift per M where Go keeps two 32-bit words per M. */
#include "runtime.h"

#include <time.h>

/* nanotime: Go's nanotime: the monotonic clock in ns. */
int64_t nanotime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* usleep: Go 1.14's usleep (nanosleep); short waits are at the kernel's mercy.
 * usleep_model, since libc has a usleep of its own. */
void usleep_model(uint32_t us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* fastrand: Go 1.14's fastrand: a cheap per-M random number (no lock). */
uint32_t fastrand(void)
{
    m *mp = g_m;
    uint64_t x = mp->fastrand;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    mp->fastrand = x;
    return (uint32_t)(x >> 16);
}
