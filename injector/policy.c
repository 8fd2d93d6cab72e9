/* policy.c: seeded decisions and delays (see policy.h).  Called from inside
 * hooks: no malloc, no stdio, no locks; only clock_gettime, nanosleep,
 * sched_yield and libm's log/exp, all async-signal-safe in practice.  The
 * sleep is the raw system call: glibc's clock_nanosleep is a cancellation
 * point, and a delay inside pthread_mutex_unlock must not become one. */
#include "policy.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

uint64_t inject_hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return inject_mix64(h);
}

/* A double in [0, 1) from the top 53 bits. */
static double unit_interval(uint64_t h)
{
	return (double)(h >> 11) * 0x1.0p-53;
}

uint64_t inject_decide(const struct inject_config *c, uint64_t seed, uint64_t lineage,
		       uint64_t site, uint64_t visit)
{
	if (!(c->prob > 0))
		return 0;
	uint64_t h = inject_mix64(seed ^ inject_mix64(lineage ^ inject_mix64(site ^
			inject_mix64(visit + 0x632be59bd9b4e019ULL))));
	if (c->prob < 1 && unit_interval(h) >= c->prob)
		return 0;
	double u = unit_interval(inject_mix64(h ^ 0xd1b54a32d192ed03ULL));
	double a = (double)c->delay.a, b = (double)c->delay.b, d;
	switch (c->delay.dist) {
	case DIST_UNIFORM:
		d = a + u * (b - a);
		break;
	case DIST_EXP:
		d = -a * log1p(-u);
		if (d > 50 * a)       /* a far tail would only hang the run */
			d = 50 * a;
		break;
	case DIST_LOGUNIFORM:
		d = exp(log(a) + u * (log(b) - log(a)));
		break;
	default:
		d = a;
		break;
	}
	/* No delay is longer than the longest duration a spec may give: exp's
	 * 50 x MEAN cap alone allowed 50 h (exp:3600s). */
	if (!(d <= (double)INJECT_DELAY_MAX_NS))
		d = (double)INJECT_DELAY_MAX_NS;
	uint64_t ns = (uint64_t)(d + 0.5);
	return ns ? ns : 1;
}

uint64_t inject_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void inject_wait(int action, uint64_t ns)
{
	uint64_t deadline = inject_now_ns() + ns;
	if (action == ACT_SLEEP && ns >= INJECT_SPIN_BELOW_NS) {
		struct timespec ts = { (time_t)(deadline / 1000000000u),
				       (long)(deadline % 1000000000u) };
		while (syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0 &&
		       errno == EINTR)
			;
		return;
	}
	if (action == ACT_YIELD) {
		do
			sched_yield();
		while (inject_now_ns() < deadline);
		return;
	}
	while (inject_now_ns() < deadline) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	}
}
