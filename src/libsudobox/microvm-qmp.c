/* Saving a VM through QMP: hand QEMU the output file's fd (getfd),
   migrate into it and wait until the migration completes.  The VM is not
   paused first: the runstate travels with the migration, and a paused
   source restores paused.  The file is then restored with -incoming
   fd:N.  */
#include "microvm.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

typedef struct qmp
{
  int fd;
  char buf[65536];
  size_t len;
} qmp;

/* The next JSON line from QEMU (events are skipped).  */
static int
qmp_read (qmp *q, json_object **out, sb_err **err)
{
  for (;;)
    {
      char *nl = memchr (q->buf, '\n', q->len);
      struct pollfd p = { .fd = q->fd, .events = POLLIN };
      ssize_t n;

      if (nl != NULL)
        {
          json_object *o;
          *nl = '\0';
          o = json_tokener_parse (q->buf);
          q->len -= (size_t)(nl + 1 - q->buf);
          memmove (q->buf, nl + 1, q->len);
          if (o == NULL)
            return sb_error (err, 0, "QMP: unparsable reply");
          if (json_object_object_get_ex (o, "event", NULL))
            {
              json_object_put (o);
              continue;
            }
          *out = o;
          return 0;
        }
      if (q->len == sizeof (q->buf))
        return sb_error (err, 0, "QMP: reply too long");
      if (poll (&p, 1, 30000) <= 0)
        return sb_error (err, ETIMEDOUT, "QMP: no reply");
      n = read (q->fd, q->buf + q->len, sizeof (q->buf) - q->len);
      if (n <= 0)
        return sb_error (err, n < 0 ? errno : 0, "QMP: connection closed");
      q->len += (size_t)n;
    }
}

/* Runs a command (with fd passed along when >= 0); *ret gets "return".  */
static int
qmp_cmd (qmp *q, const char *cmd, int fd, json_object **ret, sb_err **err)
{
  json_object *o = NULL, *r, *e;
  int rc;

  rc = fd >= 0 ? sb_send_fd (q->fd, fd, cmd, strlen (cmd)) : sb_write_all (q->fd, cmd, strlen (cmd));
  if (rc < 0)
    return sb_error (err, errno, "QMP: send");
  if (qmp_read (q, &o, err) < 0)
    return -1;
  if (json_object_object_get_ex (o, "error", &e))
    {
      json_object *d = NULL;
      json_object_object_get_ex (e, "desc", &d);
      rc = sb_error (err, 0, "QMP: %s", d ? json_object_get_string (d) : "error");
      json_object_put (o);
      return rc;
    }
  if (ret && json_object_object_get_ex (o, "return", &r))
    *ret = json_object_get (r);
  json_object_put (o);
  return 0;
}

static int
wait_migration (qmp *q, sb_err **err)
{
  for (int i = 0; i < 6000; i++)
    {
      json_object *r = NULL, *st = NULL;
      const char *s;
      if (qmp_cmd (q, "{\"execute\":\"query-migrate\"}\n", -1, &r, err) < 0)
        return -1;
      json_object_object_get_ex (r, "status", &st);
      s = st ? json_object_get_string (st) : "";
      if (strcmp (s, "completed") == 0)
        {
          json_object_put (r);
          return 0;
        }
      if (strcmp (s, "failed") == 0 || strcmp (s, "cancelled") == 0)
        {
          json_object *e = NULL;
          json_object_object_get_ex (r, "error-desc", &e);
          sb_error (err, 0, "QMP: migration %s: %s", s, e ? json_object_get_string (e) : "");
          json_object_put (r);
          return -1;
        }
      json_object_put (r);
      usleep (10000);
    }
  return sb_error (err, ETIMEDOUT, "QMP: migration did not complete");
}

int
sb_microvm_save (const char *run_dir, int out_fd, sb_err **err)
{
  _cleanup_free_ char *path = sb_xasprintf ("%s/qmp.sock", run_dir);
  qmp q = { .fd = -1 };
  json_object *greeting = NULL;
  int r;

  q.fd = sb_unix_connect (path, err);
  if (q.fd < 0)
    return -1;
  r = qmp_read (&q, &greeting, err);
  json_object_put (greeting);
  if (r == 0)
    r = qmp_cmd (&q, "{\"execute\":\"qmp_capabilities\"}\n", -1, NULL, err);
  if (r == 0)
    r = qmp_cmd (&q, "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"snapshot\"}}\n", out_fd, NULL, err);
  if (r == 0)
    r = qmp_cmd (&q, "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"fd:snapshot\"}}\n", -1, NULL, err);
  if (r == 0)
    r = wait_migration (&q, err);
  close (q.fd);
  return r;
}
