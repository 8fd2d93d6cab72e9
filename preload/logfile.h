/* logfile.h: writing the process's block of INJECT_LOG (logfile.c); the
 * format is in docs/interfaces.md. */
#ifndef INJECT_LOGFILE_H
#define INJECT_LOGFILE_H

#include "shim.h"

/* What ended the process, as the end line's reason names it. */
enum { END_BY_EXIT, END_BY__EXIT, END_BY_SIGNAL };

/* Append this process's block (header, E lines from the rings, S lines from
 * the site table, the end line with reason kind (END_BY_SIGNAL: signal
 * sig)), with write(2) only.  Called once, by the thread that ends the
 * process, with its signals blocked (ending.c). */
void inj_logfile_write(int kind, int sig) HIDDEN;

/* The process ends otherwise than the written end line says: correct its
 * reason in place, if the block is still the file's last.  1 when the block
 * was still the last (the reason now says kind), else 0. */
int inj_logfile_rewrite_reason(int kind, int sig) HIDDEN;

/* In a forked child: no block written yet. */
void inj_logfile_after_fork(void) HIDDEN;

#endif
