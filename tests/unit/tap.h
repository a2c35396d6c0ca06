/* A minimal TAP producer for the C unit tests.  */
#ifndef SB_TAP_H
#define SB_TAP_H

#include <stdbool.h>

void tap_ok (bool cond, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* Reports expected vs got strings on mismatch.  */
void tap_is_str (const char *got, const char *expected, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
void tap_is_int (long long got, long long expected, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* A formatted string that lives until tap_done (paths in test setups).  */
const char *tap_str (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* The same below dir: "DIR/<formatted>".  */
const char *tap_path (const char *dir, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* symlink(2) for test setup: aborts on failure rather than fail silently.  */
void tap_symlink (const char *target, const char *path);

/* Prints the plan and returns the exit status (non-zero if any failed).  */
int tap_done (void);

#endif
