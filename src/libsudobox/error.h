/* One error convention for the whole library: a fallible function returns a
   negative value and, when err is not NULL, fills *err with a message that
   names what went wrong.  Callers either handle it or pass it up unchanged.  */
#ifndef SB_ERROR_H
#define SB_ERROR_H

#include <stdarg.h>

typedef struct sb_err
{
  int errnum; /* errno at the failure, 0 when not a system error */
  char *msg;  /* complete message, strerror already appended */
} sb_err;

/* Fills *err (if err and *err is NULL) and returns -1.  When errnum is not 0
   its strerror is appended as ": <text>".  */
int sb_error (sb_err **err, int errnum, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));
int sb_verror (sb_err **err, int errnum, const char *fmt, va_list ap);

/* Prepends context to an existing error ("context: old message"); returns -1.  */
int sb_error_wrap (sb_err **err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

void sb_err_free (sb_err **err);

#define _cleanup_err_ __attribute__ ((cleanup (sb_err_free)))

#endif
