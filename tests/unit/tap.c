#include "tap.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

static void
tap_report (bool cond, const char *fmt, va_list ap)
{
  tap_count++;
  if (!cond)
    tap_failed++;
  printf ("%s %d - ", cond ? "ok" : "not ok", tap_count);
  vprintf (fmt, ap);
  putchar ('\n');
  fflush (stdout);
}

void
tap_ok (bool cond, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  tap_report (cond, fmt, ap);
  va_end (ap);
}

void
tap_is_str (const char *got, const char *expected, const char *fmt, ...)
{
  bool cond = (got == NULL && expected == NULL) || (got && expected && strcmp (got, expected) == 0);
  va_list ap;
  va_start (ap, fmt);
  tap_report (cond, fmt, ap);
  va_end (ap);
  if (!cond)
    printf ("#   expected: %s\n#        got: %s\n", expected ? expected : "(null)", got ? got : "(null)");
}

void
tap_is_int (long long got, long long expected, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  tap_report (got == expected, fmt, ap);
  va_end (ap);
  if (got != expected)
    printf ("#   expected: %lld\n#        got: %lld\n", expected, got);
}

int
tap_done (void)
{
  printf ("1..%d\n", tap_count);
  return tap_failed ? 1 : 0;
}
