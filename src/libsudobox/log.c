#include "log.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* The CLI configures logging once at start; the settings are process-wide
   like stderr itself.  */
static int log_fd = -1;
static bool log_json, log_debug, log_stderr = true;

int
sb_log_init (const char *path, bool json, bool debug)
{
  log_json = json;
  log_debug = debug;
  if (path == NULL || *path == '\0')
    return 0;
  log_fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  return log_fd < 0 ? -1 : 0;
}

void
sb_log_set_stderr (bool on)
{
  log_stderr = on;
}

static const char *
level_name (enum sb_log_level level)
{
  static const char *names[] = { "error", "warning", "info", "debug" };
  return names[level];
}

static char *
format_line (enum sb_log_level level, const char *msg, bool json)
{
  struct timespec ts;
  struct tm tm;
  char when[64], stamp[96];

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (when, sizeof (when), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (stamp, sizeof (stamp), "%s.%09ldZ", when, ts.tv_nsec);
  if (json)
    {
      json_object *o = json_object_new_object ();
      char *line;
      json_object_object_add (o, "level", json_object_new_string (level_name (level)));
      json_object_object_add (o, "msg", json_object_new_string (msg));
      json_object_object_add (o, "time", json_object_new_string (stamp));
      line = sb_xasprintf ("%s\n", json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN));
      json_object_put (o);
      return line;
    }
  return sb_xasprintf ("%s %s: %s\n", stamp, level_name (level), msg);
}

void
sb_log (enum sb_log_level level, const char *fmt, ...)
{
  _cleanup_free_ char *msg = NULL;
  va_list ap;

  if (level == SB_LOG_DEBUG && !log_debug)
    return;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  if (msg == NULL)
    return;
  if (log_fd >= 0)
    {
      _cleanup_free_ char *line = format_line (level, msg, log_json);
      sb_write_all (log_fd, line, strlen (line));
    }
  if (log_stderr && (level <= SB_LOG_WARNING || log_debug))
    fprintf (stderr, "sudobox-runc: %s%s\n", level == SB_LOG_WARNING ? "warning: " : "", msg);
}
