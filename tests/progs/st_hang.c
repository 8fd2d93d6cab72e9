/* st_hang [--ignore-quit] [MARK]: hang.  On SIGQUIT print a Go-like dump and
 * exit 2, unless --ignore-quit, when only SIGKILL ends it.  MARK is only
 * there so that a test can find the process in /proc. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void quit(int sig)
{
	static const char m[] = "SIGQUIT: quit\nPC=0x0 m=0 sigcode=0\n\ngoroutine 1 [running]:\nmain.hang()\n";
	(void)sig;
	write(2, m, sizeof m - 1);
	_exit(2);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--ignore-quit"))
		signal(SIGQUIT, SIG_IGN);
	else
		signal(SIGQUIT, quit);
	printf("hanging\n");
	fflush(stdout);
	for (;;)
		pause();
}
