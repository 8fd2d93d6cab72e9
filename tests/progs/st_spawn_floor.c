/* st_spawn_floor N PROG [ARGS...]: the floor for a stress driver: run PROG
 * N times, one at a time, with posix_spawn and waitpid and nothing else
 * (output to /dev/null), and print runs per second. */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: st_spawn_floor N PROG [ARGS...]\n");
		return 64;
	}
	long n = atol(argv[1]);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		pid_t pid;
		int st;
		if (posix_spawn(&pid, argv[2], &fa, NULL, argv + 2, environ)) {
			perror("posix_spawn");
			return 125;
		}
		waitpid(pid, &st, 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("%ld runs in %.3f s: %.0f runs/s\n", n, s, (double)n / s);
	return 0;
}
