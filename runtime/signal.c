/* signal.c: the model's signal setup (Go 1.14's signal_unix.go: initsig,
 * the per-M minitSignals, and SIGQUIT's dump-and-exit).  Two signals matter:
 * the stack signal (SIGURG, Go's preemption signal), whose handler
 * (traceback.c) unwinds the thread it lands on for a dump, and SIGQUIT, which
 * is blocked in every thread but a dedicated one that waits for it with
 * sigwait and then dumps, as Go does on SIGQUIT, and exits 2.  Go handles
 * every signal on its own signal stack in one handler; ours leaves every
 * other signal to its default action.
 */
#include "runtime.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

/* sigquitThread: wait for SIGQUIT, then dump and exit 2. */
static void *sigquitThread(void *arg)
{
    (void)arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGQUIT);
    int sig;
    while (sigwait(&set, &sig) != 0) {
    }
    /* Between iterations the state is being freed or built: wait (briefly)
     * for the next iteration, so that the dump has something to show. */
    int64_t deadline = nanotime() + 200 * 1000 * 1000LL;
    while (atomic_load(&schedFreeing) != 0 && nanotime() < deadline) {
        struct timespec ts = {0, 20 * 1000};
        nanosleep(&ts, NULL);
    }
    dumpAndExit("SIGQUIT: quit");
}

/* minitSignals: Go 1.14's minitSignals, the per-M signal setup, which mstart
 * runs: nothing to do here (the mask is inherited: SIGQUIT stays blocked, the
 * stack signal open; Go also sets up a signal stack per M). */
void minitSignals(void) {}

/* initsig: Go 1.14's initsig, once at start-up: install the stack signal,
 * block SIGQUIT everywhere and start the thread that waits for it.  No
 * libunwind warm-up: the first unwind is in a dump.  (The LD_PRELOAD shim
 * does not unwind at every unlock: it names a site from the ELF symbol table
 * and calls libunwind only for INJECT_SKIP, never for a site inside
 * libunwind.) */
void initsig(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = sigStackHandler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(STACKSIG, &sa, NULL);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGQUIT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, sigquitThread, NULL) == 0)
        pthread_detach(t);
}
