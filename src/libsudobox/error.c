#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
sb_verror (sb_err **err, int errnum, const char *fmt, va_list ap)
{
  char *msg = NULL;
  char *full = NULL;
  sb_err *e;

  if (err == NULL || *err != NULL)
    return -1;
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  if (msg != NULL && errnum != 0 && asprintf (&full, "%s: %s", msg, strerror (errnum)) >= 0)
    {
      free (msg);
      msg = full;
    }
  e = calloc (1, sizeof (*e));
  if (e == NULL)
    {
      free (msg);
      return -1;
    }
  e->errnum = errnum;
  e->msg = msg != NULL ? msg : strdup ("out of memory");
  *err = e;
  return -1;
}

int
sb_error (sb_err **err, int errnum, const char *fmt, ...)
{
  va_list ap;
  int ret;

  va_start (ap, fmt);
  ret = sb_verror (err, errnum, fmt, ap);
  va_end (ap);
  return ret;
}

int
sb_error_wrap (sb_err **err, const char *fmt, ...)
{
  char *ctx = NULL;
  char *full = NULL;
  va_list ap;

  if (err == NULL || *err == NULL)
    return -1;
  va_start (ap, fmt);
  if (vasprintf (&ctx, fmt, ap) < 0)
    ctx = NULL;
  va_end (ap);
  if (ctx != NULL && asprintf (&full, "%s: %s", ctx, (*err)->msg) >= 0)
    {
      free ((*err)->msg);
      (*err)->msg = full;
    }
  free (ctx);
  return -1;
}

void
sb_err_free (sb_err **err)
{
  if (err == NULL || *err == NULL)
    return;
  free ((*err)->msg);
  free (*err);
  *err = NULL;
}
