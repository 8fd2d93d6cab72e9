/* st_daemon MARK [CLOSE]: daemonize the classic way (fork, setsid, fork) so
 * that a grandchild sleeps a minute outside the run's process group and
 * session, then exit 0 once the grandchild is in place.  With CLOSE the
 * grandchild closes stdout/stderr first; without, it holds the output pipe.
 * stress must not leave it behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int p[2];
	if (pipe(p) < 0)
		return 3;
	pid_t c = fork();
	if (c == 0) {
		close(p[0]);
		setsid();
		pid_t g = fork();
		if (g == 0) {
			if (argc > 2 && !strcmp(argv[2], "close")) {
				freopen("/dev/null", "w", stdout);
				freopen("/dev/null", "w", stderr);
			}
			if (write(p[1], "x", 1) != 1)
				_exit(4);
			close(p[1]);
			sleep(60);
			_exit(0);
		}
		_exit(0);
	}
	close(p[1]);
	char b;
	if (read(p[0], &b, 1) != 1)
		return 5;
	waitpid(c, NULL, 0);
	printf("daemonized (%s)\n", argc > 1 ? argv[1] : "");
	return 0;
}
