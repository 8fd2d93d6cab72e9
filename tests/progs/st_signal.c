/* st_signal SIGNUM [LINE...]: print each LINE on stderr, then die of SIGNUM. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: st_signal SIGNUM [LINE...]\n");
		return 64;
	}
	int sig = atoi(argv[1]);
	for (int k = 2; k < argc; k++)
		fprintf(stderr, "%s\n", argv[k]);
	signal(sig, SIG_DFL);
	raise(sig);
	pause();
	return 0;
}
