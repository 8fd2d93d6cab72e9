/* fixes.c: the table of Go fixes the model can switch off (--fix, --list-fixes).
 * Its own file so that every program built from the runtime (gosched and the
 * throw-case harness) links the same table. */
#include "runtime.h"

/* The fixes the model can switch off.  To add one: an enum value in
 * runtime.h, a row here, and `if (fixOn(FIX_x))` where Go's fix changed the
 * code. */
struct fix fixes[NFIXES] = {
    [FIX_40368] = {40368, "runtime: fatal error: checkdead: runnable g",
                   "go1.14.9 / go1.15 (85afa2eb, CL 245018)",
                   "startm reserves the new M's id (mReserveID) before dropping sched.lock and passes it "
                   "down newm -> allocm -> mcommoninit; off is go1.14.8, where mcommoninit takes the id "
                   "later, so an M parking in between sees no running M",
                   true},
    [FIX_6070] = {6070, "runtime: false deadlock crash (sysmon retake / netpoll inject)",
                  "go1.2 (1da1030b, CL 12602043)",
                  "retake wraps the _Psyscall->_Pidle CAS and handoffp in incidlelocked(-1)/(+1), so "
                  "checkdead counts one more running M for the whole handoff; off removes the pair",
                  true},
    [FIX_38860] = {38860, "runtime: CPU bound goroutines cause unnecessary timer latency",
                   "go1.16 (8fdc79e1, CL 232298), backported",
                   "a new timer wakes a spinning M when no M polls (wakeNetPoller -> wakep, and handoffp "
                   "idles its P before that), and an M about to sleep re-reads every P's first timer "
                   "after dropping its P; off is Go 1.14's timer path, where a timer on a P that idles "
                   "just after a spinning M passed it waits for sysmon, whose deep sleep (up to 60 s) "
                   "may have been set before the timer existed. Sysmon's overdue-timer startm, which "
                   "the same CL removed, stays: it is the #40368 trigger",
                   true},
};
