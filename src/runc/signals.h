#ifndef SB_RUNC_SIGNALS_H
#define SB_RUNC_SIGNALS_H

/* Accepts "9", "KILL", "SIGKILL" (any case) and "RTMIN+3"-style names.  */
int sb_signal_parse (const char *s, int *sig);

#endif
