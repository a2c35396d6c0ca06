/* sysinfo(2) of a workspace process, answered with the same figures as
   /proc/meminfo, /proc/uptime and /proc/loadavg show it.  */
#include "notify.h"

#include <string.h>
#include <sys/sysinfo.h>

void
sb_pfs_handle_sysinfo (sb_pfs_notify *n, int fd, const struct seccomp_notif *req,
                       struct seccomp_notif_resp *resp)
{
  struct sysinfo si;
  sb_pfs_mem m;
  sb_pfs_tasks t = sb_pfs_tasks_get (n->shared);
  int r;

  sb_pfs_source_mem (n->src, &m);
  sb_pfs_fill_sysinfo (&si, sb_pfs_read (n->src, SB_PFS_HOST_MEMINFO), &m, sb_pfs_source_uptime (n->src),
                       &t.load, t.threads);
  r = sb_pfs_notify_write (fd, req, req->data.args[0], &si, sizeof (si));
  resp->val = 0;
  resp->error = -r;
}
