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
  for (size_t i = 0; i < SB_PFS_MAX_CONNS; i++)
    n->conns[i] = -1;
  n->listen_fd = path ? sb_unix_listen (path, &err) : -1;
  if (path && n->listen_fd < 0)
    {
      fprintf (stderr, "sudobox-procfs: %s\n", err->msg);
      return -1;
    }
  return 0;
}

static void
add_fd (int *slots, size_t n, int fd, const char *what)
{
  for (size_t i = 0; i < n; i++)
    if (slots[i] < 0)
      {
        slots[i] = fd;
        return;
      }
  fprintf (stderr, "sudobox-procfs: more than %zu %s, refusing one\n", n, what);
  close (fd);
}

/* A connection sent its message: keep the fd, drop the connection.  */
static void
receive (sb_pfs_notify *n, size_t c)
{
  _cleanup_free_ char *payload = sb_xmalloc0 (PAYLOAD_MAX);
  int fd = -1;

  if (sb_recv_fd (n->conns[c], &fd, payload, PAYLOAD_MAX) < 0 && errno != ECONNRESET)
    fprintf (stderr, "sudobox-procfs: receiving a seccomp listener fd: %s\n", strerror (errno));
  close (n->conns[c]);
  n->conns[c] = -1;
  if (fd >= 0)
    add_fd (n->fds, SB_PFS_MAX_NOTIFY, fd, "seccomp listeners");
}

void
sb_pfs_notify_pollfds (const sb_pfs_notify *n, struct pollfd *p)
{
  p[0] = (struct pollfd){ n->listen_fd, POLLIN, 0 };
  for (size_t i = 0; i < SB_PFS_MAX_CONNS; i++)
    p[1 + i] = (struct pollfd){ n->conns[i], POLLIN, 0 };
  for (size_t i = 0; i < SB_PFS_MAX_NOTIFY; i++)
    p[1 + SB_PFS_MAX_CONNS + i] = (struct pollfd){ n->fds[i], POLLIN, 0 };
}

static void handle (sb_pfs_notify *n, size_t i, short revents);

void
sb_pfs_notify_dispatch (sb_pfs_notify *n, const struct pollfd *p)
{
  if (p[0].revents & POLLIN)
    {
      int conn = accept4 (n->listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (conn >= 0)
        add_fd (n->conns, SB_PFS_MAX_CONNS, conn, "pending connections");
    }
  for (size_t i = 0; i < SB_PFS_MAX_CONNS; i++)
    if (p[1 + i].fd >= 0 && p[1 + i].revents)
      receive (n, i);
  for (size_t i = 0; i < SB_PFS_MAX_NOTIFY; i++)
    if (p[1 + SB_PFS_MAX_CONNS + i].fd >= 0 && p[1 + SB_PFS_MAX_CONNS + i].revents)
      handle (n, i, p[1 + SB_PFS_MAX_CONNS + i].revents);
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

static void
handle (sb_pfs_notify *n, size_t i, short revents)
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
  for (size_t i = 0; i < SB_PFS_MAX_CONNS; i++)
    if (n->conns[i] >= 0)
      close (n->conns[i]);
}
