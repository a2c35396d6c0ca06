/* Logging for the runtime: one line per event on stderr and, when --log is
   given, in that file as text or as runc's JSON ({"level","msg","time"}),
   which containerd and podman read back to report errors.  */
#ifndef SB_LOG_H
#define SB_LOG_H

#include <stdbool.h>

enum sb_log_level
{
  SB_LOG_ERROR,
  SB_LOG_WARNING,
  SB_LOG_INFO,
  SB_LOG_DEBUG,
};

/* path may be NULL (stderr only).  A path of the form "/proc/self/fd/N"
   or an existing fifo is opened for append like any file.  */
int sb_log_init (const char *path, bool json, bool debug);
void sb_log (enum sb_log_level level, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* Also write to stderr (the CLI's final error line) besides the log file.  */
void sb_log_set_stderr (bool on);

#define sb_debug(...) sb_log (SB_LOG_DEBUG, __VA_ARGS__)
#define sb_warn(...) sb_log (SB_LOG_WARNING, __VA_ARGS__)

#endif
