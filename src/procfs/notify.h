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

#define SB_PFS_MAX_NOTIFY 64

typedef struct sb_pfs_notify
{
  int listen_fd;
  int fds[SB_PFS_MAX_NOTIFY]; /* listener fds received, -1 when free */
  sb_pfs_source *src;         /* the figures handlers answer with */
  sb_pfs_shared *shared;
} sb_pfs_notify;

/* What a handler does with one notification: fill resp (val, error, flags);
   memory of the caller is written through sb_pfs_notify_write.  */
typedef void (*sb_pfs_notify_fn) (sb_pfs_notify *n, int fd, const struct seccomp_notif *req,
                                  struct seccomp_notif_resp *resp);

int sb_pfs_notify_open (sb_pfs_notify *n, const char *path, sb_pfs_source *src, sb_pfs_shared *shared);
/* Accepts one connection of the runtime and keeps the fd it passes.  */
void sb_pfs_notify_accept (sb_pfs_notify *n);
/* Receives, answers and replies one notification pending on fds[i]; closes
   it when its filter has no process left.  */
void sb_pfs_notify_handle (sb_pfs_notify *n, size_t i, short revents);
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
