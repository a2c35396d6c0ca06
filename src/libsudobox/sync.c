#include "sync.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#define SYNC_MAX (256 * 1024)

int
sb_sync_send (int sock, enum sb_sync_type type, int32_t value, int fd, const char *payload)
{
  size_t plen = payload ? strlen (payload) : 0;
  _cleanup_free_ char *buf = sb_xmalloc0 (8 + plen);
  uint32_t t = type;

  memcpy (buf, &t, 4);
  memcpy (buf + 4, &value, 4);
  if (plen)
    memcpy (buf + 8, payload, plen);
  return sb_send_fd (sock, fd, buf, 8 + plen);
}

int
sb_sync_recv (int sock, sb_sync_msg *msg, sb_err **err)
{
  _cleanup_free_ char *buf = sb_xmalloc0 (SYNC_MAX + 1);
  int n = sb_recv_fd (sock, &msg->fd, buf, SYNC_MAX);

  msg->payload = NULL;
  if (n < 0 && errno == ECONNRESET)
    return sb_error (err, 0, "the container's init process exited during setup");
  if (n < 0)
    return sb_error (err, errno, "receive from the container's init");
  if (n < 8)
    return sb_error (err, 0, "short message from the container's init");
  memcpy (&msg->type, buf, 4);
  memcpy (&msg->value, buf + 4, 4);
  if (n > 8)
    msg->payload = strndup (buf + 8, (size_t)n - 8);
  return 0;
}

int
sb_sync_expect (int sock, enum sb_sync_type type, sb_sync_msg *msg, sb_err **err)
{
  if (sb_sync_recv (sock, msg, err) < 0)
    return -1;
  if (msg->type == SB_SYNC_ERROR)
    {
      sb_error (err, 0, "%s", msg->payload ? msg->payload : "unknown error in the container's init");
      sb_sync_msg_release (msg);
      return -1;
    }
  if (msg->type != (uint32_t)type)
    {
      sb_error (err, 0, "protocol error: expected message %d from the container's init, got %u", type,
                msg->type);
      sb_sync_msg_release (msg);
      return -1;
    }
  return 0;
}

void
sb_sync_msg_release (sb_sync_msg *msg)
{
  if (msg->fd >= 0)
    close (msg->fd);
  msg->fd = -1;
  free (msg->payload);
  msg->payload = NULL;
}
