/* st_exit CODE [--sleep MS] [LINE...]: print each LINE on stderr (and the
 * run's STRESS_RUN/STRESS_SEED/INJECT_SEED on stdout), sleep, exit CODE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: st_exit CODE [--sleep MS] [LINE...]\n");
		return 64;
	}
	int code = atoi(argv[1]);
	const char *r = getenv("STRESS_RUN"), *s = getenv("STRESS_SEED"), *i = getenv("INJECT_SEED");
	printf("run=%s seed=%s inject_seed=%s\n", r ? r : "-", s ? s : "-", i ? i : "-");
	fflush(stdout);
	for (int k = 2; k < argc; k++) {
		if (!strcmp(argv[k], "--sleep") && k + 1 < argc) {
			long ms = atol(argv[++k]);
			struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
			continue;
		}
		fprintf(stderr, "%s\n", argv[k]);
	}
	return code;
}
