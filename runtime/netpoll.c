/* netpoll.c: the network poller (Go 1.14's netpoll.go, and netpoll_epoll.go
 * for netpoll and netpollBreak), with no descriptors: the model's only use of
 * it is the one Go's scheduler makes for timers, an M that blocks in netpoll
 * until the next timer falls due (findrunnable) or a break wakes it.
 * Simplified: epoll_wait becomes a timed wait on a note, nanosecond-precise
 * (as kqueue's is; Linux epoll rounds to milliseconds), and netpoll never
 * returns ready goroutines.  Who polls and until when (sched.lastpoll,
 * sched.pollUntil) is the scheduler's business: see proc.c. */
#include "runtime.h"

_Atomic int netpollInited; /* [atomic] Go's netpollInited */
note netpollNote;          /* the model's epoll: netpoll blocks here, a break posts */

/* netpollGenericInit: Go initialises the poller on the first timer. */
void netpollGenericInit(void) { atomic_store(&netpollInited, 1); }
/* netpollinited: Go's netpollinited. */
bool netpollinited(void) { return atomic_load(&netpollInited) != 0; }

/* netpollBreak: Go 1.14's netpollBreak: interrupt a blocked netpoll.  Go
 * writes a byte to a pipe that epoll watches; a break sent while nobody polls
 * stays in the pipe and makes the next netpoll return at once.  The note's
 * semaphore count is that pipe.  (Go 1.16 added netpollWakeSig to coalesce
 * breaks; 1.14 has no such flag.) */
void netpollBreak(void)
{
    traceEvent("netpollBreak", 0);
    notewakeup(&netpollNote);
}

/* netpoll: Go 1.14's netpoll(delay): block for delay ns (< 0: until broken), return
 * the number of Gs made ready, always 0 here since no descriptors exist.  The
 * timed wait is nanosecond-precise, as kqueue's is (Linux epoll rounds to ms).*/
int netpoll(int64_t delay)
{
    if (delay == 0)
        return 0;
    bool broken = true;
    if (delay < 0)
        notesleep(&netpollNote);
    else
        broken = notetsleep(&netpollNote, delay);
    /* Woken by a break: drain the pipe, as Go reads the break fd.  Timed out:
     * leave it, so a break that races with the timeout is not lost. */
    if (broken)
        noteclear(&netpollNote);
    return 0;
}
