/* Per-workspace shadows of /proc/sys entries that are not namespaced but
   that systemd, dockerd and the kubelet write at start (and fail or warn
   when they cannot).  A write is kept in the server for this workspace only:
   the host's value never changes.  */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *const sb_pfs_sysctls[] = {
  "kernel/panic",
  "kernel/panic_on_oops",
  "kernel/keys/root_maxkeys",
  "kernel/keys/root_maxbytes",
  "kernel/sysrq",
  "kernel/kptr_restrict",
  "kernel/pid_max",
  "vm/overcommit_memory",
  "vm/panic_on_oom",
  "vm/max_map_count",
  "fs/protected_hardlinks",
  "fs/protected_symlinks",
  "fs/protected_regular",
  "fs/protected_fifos",
  "net/netfilter/nf_conntrack_max",
  NULL,
};

void
sb_pfs_sysctl_seed (sb_pfs_shared *shared)
{
  for (int i = 0; sb_pfs_sysctls[i] && i < SB_PFS_MAX_SYSCTL; i++)
    {
      char path[256];
      ssize_t n = -1;
      int fd;
      snprintf (path, sizeof (path), "/proc/sys/%s", sb_pfs_sysctls[i]);
      fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          n = read (fd, shared->sysctl[i], SB_PFS_SYSCTL_LEN - 1);
          close (fd);
        }
      /* An entry the host lacks (module not loaded) stays empty: not served.  */
      shared->sysctl[i][n > 0 ? n : 0] = '\0';
    }
}

/* Every entry above holds one or a few integers.  */
static bool
valid_ints (const char *s, size_t len)
{
  size_t i = 0, digits = 0;

  while (i < len)
    {
      if (s[i] == '-' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t'))
        i++;
      for (digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
      if (digits == 0)
        return false;
      while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    }
  return digits > 0;
}

int
sb_pfs_sysctl_write (sb_pfs_shared *shared, int i, const char *data, size_t len)
{
  while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' ' || data[len - 1] == '\t'))
    len--;
  if (len == 0 || len + 2 > SB_PFS_SYSCTL_LEN || !valid_ints (data, len))
    return EINVAL;
  /* Built aside, then copied with its newline: the shared copy (which
     outlives a worker) is only ever a complete value.  Only the worker's
     single thread writes or reads it.  */
  char v[SB_PFS_SYSCTL_LEN];
  memcpy (v, data, len);
  v[len] = '\n';
  v[len + 1] = '\0';
  memcpy (shared->sysctl[i], v, len + 2);
  return 0;
}
