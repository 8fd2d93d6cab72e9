/* signals.h: the fatal signals the shim watches (signals.c). */
#ifndef INJECT_SIGNALS_H
#define INJECT_SIGNALS_H

#include <signal.h>

#include "shim.h"

/* Put our handler in front of every fatal signal (when there is a log): the
 * constructor. */
void inj_signals_install(void) HIDDEN;
/* Is sig one whose action the sigaction/signal hooks must keep for the
 * program (inj_sigaction_hook) rather than pass to the kernel? */
int inj_signal_watched(int sig) HIDDEN;
/* sigaction() for a watched signal. */
int inj_sigaction_hook(int sig, const struct sigaction *act, struct sigaction *old) HIDDEN;

#endif
