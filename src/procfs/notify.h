/* seccomp user notifications of the workspace's processes, answered by the
   supervisor.  The runtime connects to the socket given by the spec's
   linux.seccomp.listenerPath and passes the listener fd of each filter it
   installs; a notification is dispatched by syscall number to a handler.
   sysinfo(2) is the one handled today; another system-mode feature (a mount
   policy) adds its entry to the table in notify.c.  */
#ifndef SB_PFS_NOTIFY_H
#define SB_PFS_NOTIFY_H

#include <linux/seccomp.h>
#include <stddef.h>

#include "server.h"

#include <poll.h>

#define SB_PFS_MAX_NOTIFY 64
#define SB_PFS_MAX_CONNS 8
/* pollfd entries sb_pfs_notify_pollfds fills at most.  */
#define SB_PFS_NOTIFY_POLLFDS (1 + SB_PFS_MAX_CONNS + SB_PFS_MAX_NOTIFY)

typedef struct sb_pfs_notify
{
  int listen_fd;
  /* Accepted connections that have not sent their fd yet: the runtime may
     connect long before it sends (or never send on a connection).  */
  int conns[SB_PFS_MAX_CONNS];
  int fds[SB_PFS_MAX_NOTIFY]; /* listener fds received, -1 when free */
  sb_pfs_source *src;         /* the figures handlers answer with */
  sb_pfs_shared *shared;
} sb_pfs_notify;

/* What a handler does with one notification: fill resp (val, error, flags);
   memory of the caller is written through sb_pfs_notify_write.  */
typedef void (*sb_pfs_notify_fn) (sb_pfs_notify *n, int fd, const struct seccomp_notif *req,
                                  struct seccomp_notif_resp *resp);

int sb_pfs_notify_open (sb_pfs_notify *n, const char *path, sb_pfs_source *src, sb_pfs_shared *shared);
/* The listening socket, pending connections and listener fds to poll
   (entries of closed ones have fd -1): SB_PFS_NOTIFY_POLLFDS entries.  */
void sb_pfs_notify_pollfds (const sb_pfs_notify *n, struct pollfd *p);
/* Acts on what poll reported in p: accepts connections, takes the fd a
   connection passes, answers notifications, closes listener fds whose
   filter has no process left.  */
void sb_pfs_notify_dispatch (sb_pfs_notify *n, const struct pollfd *p);
void sb_pfs_notify_close (sb_pfs_notify *n);

/* Copies len bytes to addr in the calling process, after checking that the
   notification is still live (the pid may otherwise be reused).  Returns 0
   or an errno value for the reply.  */
int sb_pfs_notify_write (int fd, const struct seccomp_notif *req, unsigned long long addr, const void *data,
                         size_t len);

/* The handlers.  */
void sb_pfs_handle_sysinfo (sb_pfs_notify *n, int fd, const struct seccomp_notif *req,
                            struct seccomp_notif_resp *resp);

#endif
