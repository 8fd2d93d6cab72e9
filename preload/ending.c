/* ending.c: how the process ends with the shim in it (see ending.h).
 *
 * The end: the log is written once per process, with write(2), by the first
 * of the destructor (exit), the _exit/_Exit hooks, or a fatal signal whose
 * action is the default; the thread that wins (end_state, by CAS) writes with
 * every blockable signal blocked.  Starting the end sets inj_stop, so threads
 * that keep running (a Go-style throw calls exit(2) while others unlock) stop
 * recording and delaying.
 *
 * end_state: OPEN (nothing ended) -> WRITING (end_tid writes the log) ->
 * WRITTEN (the log names end_kind).  Only a forked child goes back to OPEN.
 *
 * The log must be whole and name what really ended the process, but two
 * threads can end it at once (main returns from main while a worker calls
 * abort).  So an ending thread that lost the race does not end the process
 * its own way: it waits while the log is written, and then until the
 * writer's ending takes the process (a fatal signal or _exit does at once).
 * Only when the writer's ending is exit, which still runs the rest of libc's
 * exit code, is the wait bounded (END_WAIT_NS): should exit hang there, the
 * waiter puts its own reason in the end line (rewritten in place while the
 * block is still the file's last) and ends the process its way.  A fatal
 * signal that reaches the writer's own thread after the log is written
 * (its signals are unblocked again) does the same. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "../injector/policy.h"
#include "ending.h"
#include "logfile.h"
#include "shim.h"
#include "state.h"

enum { END_OPEN, END_WRITING, END_WRITTEN };
static int end_state;               /* atomic: the log's state */
static int end_taken;               /* atomic: a thread corrects the reason and ends
				     * the process its way (at most one) */
static int exit_first;              /* atomic: the first thread that entered exit */
static int end_tid;                 /* atomic: the thread that writes or wrote it */
static int end_kind;                /* atomic: the written reason's END_BY_* */

static void nap(void)
{
	struct timespec ts = { 0, 200000 };
	syscall(SYS_nanosleep, &ts, NULL);     /* raw: not a cancellation point */
}

/* End the process otherwise than the log says: only one thread may (it
 * corrects the reason and goes on); any other waits for it to. */
static void take_over(int kind, int sig)
{
	int no = 0;
	if (CAS(&end_taken, &no, 1)) {
		if (inj_logfile_rewrite_reason(kind, sig))
			STORE(&end_kind, kind);
		return;
	}
	for (;;)
		nap();
}

/* How long a thread that is ending the process waits for an exit already
 * under way (its log written) to finish, before it ends the process itself:
 * long enough for the rest of exit on a loaded machine, short enough that a
 * fatal signal still ends an exit that hangs (stdio flushing into a full pipe). */
#define END_WAIT_NS 5000000000ULL

void inj_end(int kind, int sig)
{
	/* A vfork child shares our memory and has no pid of its own in inj_pid:
	 * its _exit must not write (or end) the parent's log. */
	if (getpid() != LOAD(&inj_pid))
		return;
	STORE(&inj_stop, 1);
	if (!inj_cfg.log[0])
		return;
	int saved = errno;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int me = (int)syscall(SYS_gettid);
	int st = END_OPEN;
	if (CAS(&end_state, &st, END_WRITING)) {
		STORE(&end_tid, me);
		inj_logfile_write(kind, sig);
		STORE(&end_kind, kind);
		STORE_REL(&end_state, END_WRITTEN);
	} else if (LOAD(&end_tid) == me) {
		/* This thread wrote the log and now ends the process another way
		 * (a signal that arrived while it wrote, or a fault after). */
		if (LOAD_ACQ(&end_state) == END_WRITTEN)
			take_over(kind, sig);
	} else {
		/* Another thread ends the process: let it. */
		while (LOAD_ACQ(&end_state) != END_WRITTEN)
			nap();
		uint64_t deadline = inject_now_ns() + END_WAIT_NS;
		while (LOAD(&end_kind) != END_BY_EXIT || inject_now_ns() < deadline)
			nap();
		take_over(kind, sig);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
}

/* Two threads in exit at once run its handlers side by side: the one that
 * runs our destructor writes the log, and the other, finding nothing left to
 * run, goes on to exit_group and kills the writer mid-write.  So only the
 * first thread to enter exit goes on; a later one waits for it to end the
 * process, at most END_WAIT_NS (its exit may be waiting for this thread:
 * then both go on, as without the shim). */
void inj_end_exit_called(void)
{
	if (getpid() != LOAD(&inj_pid) || !inj_cfg.log[0])
		return;
	int me = (int)syscall(SYS_gettid);
	if (LOAD_ACQ(&end_state) != END_OPEN) {
		if (LOAD(&end_tid) != me)
			inj_end(END_BY_EXIT, 0);        /* another ending is under way */
		return;
	}
	int first = 0;
	if (CAS(&exit_first, &first, me) || first == me)
		return;
	uint64_t deadline = inject_now_ns() + END_WAIT_NS;
	while (inject_now_ns() < deadline)
		nap();
}

void inj_end_after_fork(void)
{
	STORE(&end_state, END_OPEN);
	STORE(&end_tid, 0);
	STORE(&end_taken, 0);
	STORE(&exit_first, 0);
}
