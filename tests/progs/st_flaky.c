/* st_flaky PERMILLE [MSG]: fail like a Go throw ("fatal error: MSG", exit 2)
 * in PERMILLE of 1000 runs, decided by a hash of STRESS_SEED alone, so the
 * same seed always gives the same outcome (what --replay relies on). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: st_flaky PERMILLE [MSG]\n");
		return 64;
	}
	const char *s = getenv("STRESS_SEED");
	if (!s) {
		fprintf(stderr, "st_flaky: no STRESS_SEED\n");
		return 3;
	}
	uint64_t x = strtoull(s, NULL, 10) + 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	printf("seed %s\n", s);
	if ((int)(x % 1000) < atoi(argv[1])) {
		fprintf(stderr, "runtime: checkdead: find g 1 in status 1\n");
		fprintf(stderr, "fatal error: %s\n\nruntime stack:\nruntime.throw()\n",
		        argc > 2 ? argv[2] : "checkdead: runnable g");
		return 2;
	}
	return 0;
}
