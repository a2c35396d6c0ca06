/* Receiving seccomp listener fds and dispatching their notifications by
   syscall number.  */
#include "notify.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util.h"

/* The dispatch table: add a syscall here to answer it.  */
static const struct
{
  long nr;
  sb_pfs_notify_fn fn;
} handlers[] = {
  { SYS_sysinfo, sb_pfs_handle_sysinfo },
};

/* The runtime's message carries the container state as JSON; only the fd
   matters here.  */
#define PAYLOAD_MAX 65536

int
sb_pfs_notify_open (sb_pfs_notify *n, const char *path, sb_pfs_source *src, sb_pfs_shared *shared)
{
  _cleanup_err_ sb_err *err = NULL;

  n->src = src;
  n->shared = shared;
  for (size_t i = 0; i < SB_PFS_MAX_NOTIFY; i++)
    n->fds[i] = -1;
  n->listen_fd = path ? sb_unix_listen (path, &err) : -1;
  if (path && n->listen_fd < 0)
    {
      fprintf (stderr, "sudobox-procfs: %s\n", err->msg);
      return -1;
    }
  return 0;
}

void
sb_pfs_notify_accept (sb_pfs_notify *n)
{
  _cleanup_free_ char *payload = sb_xmalloc0 (PAYLOAD_MAX);
  _cleanup_close_ int conn = accept4 (n->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  int fd = -1;

  if (conn < 0 || sb_recv_fd (conn, &fd, payload, PAYLOAD_MAX) < 0 || fd < 0)
    {
      fprintf (stderr, "sudobox-procfs: receiving a seccomp listener fd: %s\n", strerror (errno));
      return;
    }
  for (size_t i = 0; i < SB_PFS_MAX_NOTIFY; i++)
    if (n->fds[i] < 0)
      {
        n->fds[i] = fd;
        return;
      }
  fprintf (stderr, "sudobox-procfs: more than %d seccomp listeners, refusing one\n", SB_PFS_MAX_NOTIFY);
  close (fd);
}

int
sb_pfs_notify_write (int fd, const struct seccomp_notif *req, unsigned long long addr, const void *data,
                     size_t len)
{
  struct iovec local = { (void *)data, len }, remote = { (void *)(uintptr_t)addr, len };
  __u64 id = req->id;

  /* Between RECV and here the caller may have died and its pid been
     reused: the id check makes sure the pid still names the caller.  */
  if (ioctl (fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0)
    return ENOENT;
  if (process_vm_writev (req->pid, &local, 1, &remote, 1, 0) != (ssize_t)len)
    return EFAULT;
  return 0;
}

void
sb_pfs_notify_handle (sb_pfs_notify *n, size_t i, short revents)
{
  struct seccomp_notif req;
  struct seccomp_notif_resp resp;
  int fd = n->fds[i];

  if (!(revents & POLLIN))
    {
      /* POLLHUP: every process of that filter is gone.  */
      close (fd);
      n->fds[i] = -1;
      return;
    }
  memset (&req, 0, sizeof (req));
  if (ioctl (fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
    return; /* the caller died meanwhile (ENOENT) or a signal interrupted it */
  resp = (struct seccomp_notif_resp){ .id = req.id, .error = -ENOSYS };
  for (size_t h = 0; h < sizeof (handlers) / sizeof (handlers[0]); h++)
    if (handlers[h].nr == req.data.nr)
      handlers[h].fn (n, fd, &req, &resp);
  if (ioctl (fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
    fprintf (stderr, "sudobox-procfs: seccomp reply for pid %d: %s\n", req.pid, strerror (errno));
}

void
sb_pfs_notify_close (sb_pfs_notify *n)
{
  if (n->listen_fd >= 0)
    close (n->listen_fd);
  for (size_t i = 0; i < SB_PFS_MAX_NOTIFY; i++)
    if (n->fds[i] >= 0)
      close (n->fds[i]);
}
