#include "signals.h"

#include <signal.h>
#include <string.h>
#include <strings.h>

#include "util.h"

int
sb_signal_parse (const char *s, int *sig)
{
  int64_t n;
  const char *name = s;

  if (sb_parse_i64 (s, &n) == 0)
    {
      if (n <= 0 || n > SIGRTMAX)
        return -1;
      *sig = (int)n;
      return 0;
    }
  if (strncasecmp (name, "SIG", 3) == 0)
    name += 3;
  /* n <= SIGRTMAX - SIGRTMIN, not SIGRTMIN + n <= SIGRTMAX: a huge n
     would overflow.  */
  if (strncasecmp (name, "RTMIN+", 6) == 0 && sb_parse_i64 (name + 6, &n) == 0 && n >= 0
      && n <= SIGRTMAX - SIGRTMIN)
    {
      *sig = SIGRTMIN + (int)n;
      return 0;
    }
  for (int i = 1; i < NSIG; i++)
    {
      const char *abbrev = sigabbrev_np (i);
      if (abbrev && strcasecmp (abbrev, name) == 0)
        {
          *sig = i;
          return 0;
        }
    }
  return -1;
}
