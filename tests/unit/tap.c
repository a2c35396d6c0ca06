#include "tap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tap_count, tap_failed;
/* Strings handed out by tap_str/tap_path, freed by tap_done.  */
static char **tap_strings;
static size_t tap_nstrings;

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

static const char *
keep (char *s)
{
  if (s == NULL)
    abort ();
  tap_strings = realloc (tap_strings, (tap_nstrings + 1) * sizeof (char *));
  if (tap_strings == NULL)
    abort ();
  tap_strings[tap_nstrings++] = s;
  return s;
}

const char *
tap_str (const char *fmt, ...)
{
  va_list ap;
  char *s;
  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) < 0)
    s = NULL;
  va_end (ap);
  return keep (s);
}

const char *
tap_path (const char *dir, const char *fmt, ...)
{
  va_list ap;
  char *rel, *s;
  va_start (ap, fmt);
  if (vasprintf (&rel, fmt, ap) < 0)
    abort ();
  va_end (ap);
  if (asprintf (&s, "%s/%s", dir, rel) < 0)
    s = NULL;
  free (rel);
  return keep (s);
}

void
tap_symlink (const char *target, const char *path)
{
  if (symlink (target, path) < 0)
    {
      perror (path);
      abort ();
    }
}

int
tap_done (void)
{
  for (size_t i = 0; i < tap_nstrings; i++)
    free (tap_strings[i]);
  free (tap_strings);
  tap_strings = NULL;
  tap_nstrings = 0;
  printf ("1..%d\n", tap_count);
  return tap_failed ? 1 : 0;
}
