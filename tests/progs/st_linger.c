/* st_linger MARK [CODE]: fork a grandchild that sleeps a minute (holding
 * the output pipe), then exit CODE at once.  stress must kill it. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	pid_t p = fork();
	if (p == 0) {
		sleep(60);
		_exit(0);
	}
	printf("parent %d left child %d (%s)\n", (int)getpid(), (int)p, argc > 1 ? argv[1] : "");
	return argc > 2 ? atoi(argv[2]) : 0;
}
