/* libFuzzer target for command-line values and names: the byte before the
   string picks the parser (workspace/image name, container id, --memory,
   --cpus, --pids, a signal, a 64-bit integer).  Every input must be refused
   with an error message or give a value inside the parser's documented
   range, never crash or hit undefined behaviour.  */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "registry.h"
#include "signals.h"
#include "state.h"
#include "util.h"
#include "wsconfig.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check (int r, sb_err **err, int ok)
{
  if (r < 0 && (*err == NULL || (*err)->msg == NULL))
    __builtin_trap (); /* a refusal must say why */
  if (r == 0 && !ok)
    __builtin_trap (); /* accepted a value outside the range */
  sb_err_free (err);
}

static int
charset (const char *s, const char *allowed)
{
  return strspn (s, allowed) == strlen (s);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  _cleanup_free_ char *s = NULL;
  sb_err *err = NULL;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  int sig = 0, r;

  if (size < 1)
    return 0;
  s = strndup ((const char *)data + 1, size - 1);
  if (s == NULL)
    return 0;
  switch (data[0] % 7)
    {
    case 0:
      r = sb_check_name ("workspace", s, &err);
      check (r, &err,
             strlen (s) >= 1 && strlen (s) <= 64 && charset (s, "abcdefghijklmnopqrstuvwxyz0123456789_.-")
                 && s[0] != '.' && s[0] != '_' && s[0] != '-');
      break;
    case 1:
      r = sb_state_check_id (s, &err);
      check (r, &err, strlen (s) >= 1 && strchr (s, '/') == NULL && strcmp (s, ".") && strcmp (s, ".."));
      break;
    case 2:
      r = sb_parse_memory (s, &i, &err);
      check (r, &err, i >= 6 * 1024 * 1024);
      break;
    case 3:
      r = sb_parse_cpus (s, &d, &err);
      check (r, &err, isfinite (d) && d >= 0.01 && d <= 4096);
      break;
    case 4:
      r = sb_parse_count ("--pids", s, &i, &err);
      check (r, &err, i > 0 && i <= (int64_t)1 << 32);
      break;
    case 5:
      if (sb_signal_parse (s, &sig) == 0 && (sig < 1 || sig > SIGRTMAX))
        __builtin_trap ();
      break;
    case 6:
      sb_parse_i64 (s, &i);
      sb_parse_u64 (s, &u);
      break;
    }
  return 0;
}
