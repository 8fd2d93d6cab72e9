/* signals.c: watching the signals that end the process, so that the log is
 * written before one does.
 *
 * For every signal whose default action ends the process (the standard ones:
 * see fatal_signals[]) our handler stays installed; the sigaction/signal hooks
 * (hooks.c) record what the program asks for and report it back, so the
 * program's handler is the one that runs.  Our handler writes the log only
 * when the program's action is the default (the process is about to die),
 * then restores the default and sends the signal again, which kills us as
 * soon as the handler returns. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "ending.h"
#include "real.h"
#include "shim.h"
#include "signals.h"
#include "state.h"

/* Every standard signal whose default action ends the process. */
static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS,
				     SIGABRT, SIGQUIT, SIGTERM, SIGINT, SIGHUP, SIGPIPE,
				     SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU, SIGXFSZ, SIGVTALRM,
				     SIGPROF, SIGIO, SIGPWR, SIGSTKFLT };
static struct sigaction prog_action[NSIG];  /* what the program asked for */
static unsigned char watched[NSIG];

int inj_signal_watched(int sig)
{
	return sig > 0 && sig < NSIG && watched[sig];
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	struct sigaction *pa = &prog_action[sig];
	if (pa->sa_handler == SIG_IGN) {
		errno = saved;
		return;
	}
	if (pa->sa_handler != SIG_DFL) {
		/* The program's handler runs: we only observe. */
		struct sigaction run = *pa;
		if (run.sa_flags & SA_RESETHAND) {
			pa->sa_handler = SIG_DFL;
			pa->sa_flags &= ~SA_SIGINFO;
		}
		errno = saved;
		if (run.sa_flags & SA_SIGINFO)
			run.sa_sigaction(sig, si, uc);
		else
			run.sa_handler(sig);
		return;
	}
	inj_end(END_BY_SIGNAL, sig);
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	inj_real_sigaction(sig, &dfl, NULL);
	/* Pending (blocked while this handler runs) until it returns, then fatal.
	 * Sent for a fault too: not every fault recurs when we return (int3's
	 * SIGTRAP, a seccomp SIGSYS). */
	raise(sig);
	errno = saved;
}

static void install_ours(int sig, const struct sigaction *like)
{
	struct sigaction ours;
	memset(&ours, 0, sizeof ours);
	if (like) {
		ours.sa_mask = like->sa_mask;
		ours.sa_flags = like->sa_flags;
	} else {
		sigemptyset(&ours.sa_mask);
	}
	ours.sa_flags = (ours.sa_flags | SA_SIGINFO | SA_ONSTACK) & ~SA_RESETHAND;
	ours.sa_sigaction = on_signal;
	inj_real_sigaction(sig, &ours, NULL);
}

void inj_signals_install(void)
{
	if (!inj_cfg.log[0])
		return;
	for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) {
		int sig = fatal_signals[i];
		if (inj_real_sigaction(sig, NULL, &prog_action[sig]) != 0)
			continue;
		if (prog_action[sig].sa_handler == SIG_IGN)
			continue;        /* inherited ignore: leave it alone */
		install_ours(sig, prog_action[sig].sa_handler == SIG_DFL ? NULL : &prog_action[sig]);
		watched[sig] = 1;
	}
}

/* sigaction() for a watched signal: record the program's action and keep ours
 * in front of it (with the program's mask and flags); SIG_IGN goes to the
 * kernel as asked, so an exec'd child inherits it. */
int inj_sigaction_hook(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction prev = prog_action[sig];
	if (act) {
		if (act->sa_handler == SIG_IGN) {
			if (inj_real_sigaction(sig, act, NULL) != 0)
				return -1;
		} else {
			install_ours(sig, act);
		}
		prog_action[sig] = *act;
	}
	if (old)
		*old = prev;
	return 0;
}
