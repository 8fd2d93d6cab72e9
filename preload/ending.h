/* ending.h: how the process ends with the shim in it (ending.c): which
 * thread writes the log, and what the others wait for. */
#ifndef INJECT_ENDING_H
#define INJECT_ENDING_H

#include "logfile.h"
#include "shim.h"

/* The process is ending (kind: END_BY_*; END_BY_SIGNAL: by signal sig).
 * Write the log if no thread has; else wait for the thread that does and
 * for its ending to take the process (ending.c says how long).  Returns
 * when the caller is to go on and end the process its own way; the log then
 * names the caller's reason. */
void inj_end(int kind, int sig) HIDDEN;

/* A thread enters exit (the exit hook; main's return from main through a
 * thread-local destructor): when another thread is already ending the
 * process, or is in exit before it, wait for that; else return at once (the
 * destructor writes the log). */
void inj_end_exit_called(void) HIDDEN;

/* In a forked child: nothing has ended. */
void inj_end_after_fork(void) HIDDEN;

#endif
