#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/nsfs.h>

#include "util.h"

int
sb_ns_new_flags (const sb_spec *spec)
{
  int flags = 0;
  for (int k = 0; k < SB_NS_KINDS; k++)
    if (k != SB_NS_USER && spec->linux.namespaces[k].present && spec->linux.namespaces[k].path == NULL)
      flags |= sb_ns_clone_flag (k);
  return flags;
}

static int
join_one (const sb_spec *spec, enum sb_ns_kind k, sb_err **err)
{
  const char *path = spec->linux.namespaces[k].path;
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return sb_error (err, errno, "open %s namespace `%s`", sb_ns_name (k), path);
  if (setns (fd, sb_ns_clone_flag (k)) < 0)
    return sb_error (err, errno, "join %s namespace `%s`", sb_ns_name (k), path);
  return 0;
}

int
sb_ns_join_paths (const sb_spec *spec, sb_err **err)
{
  /* The mount namespace last: after it, paths resolve in the container.  */
  static const enum sb_ns_kind order[]
      = { SB_NS_IPC, SB_NS_UTS, SB_NS_NETWORK, SB_NS_PID, SB_NS_CGROUP, SB_NS_TIME, SB_NS_MOUNT };
  for (size_t i = 0; i < sizeof (order) / sizeof (order[0]); i++)
    if (spec->linux.namespaces[order[i]].path && join_one (spec, order[i], err) < 0)
      return -1;
  return 0;
}

int
sb_ns_join_user (const sb_spec *spec, sb_err **err)
{
  if (spec->linux.namespaces[SB_NS_USER].path == NULL)
    return 0;
  return join_one (spec, SB_NS_USER, err);
}

static int
write_map (pid_t pid, const char *file, const sb_idmap *m, size_t n, sb_err **err)
{
  _cleanup_free_ char *buf = sb_xmalloc0 (n * 40 + 1);
  char path[64];
  size_t off = 0;

  for (size_t i = 0; i < n; i++)
    off += (size_t)sprintf (buf + off, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
  snprintf (path, sizeof (path), "/proc/%d/%s", pid, file);
  if (sb_write_file_at (AT_FDCWD, path, buf, err) < 0)
    return sb_error_wrap (err, "user namespace %s", file);
  return 0;
}

int
sb_ns_write_maps (pid_t pid, const sb_idmap *uids, size_t nu, const sb_idmap *gids, size_t ng, sb_err **err)
{
  if (write_map (pid, "gid_map", gids, ng, err) < 0)
    return -1;
  return write_map (pid, "uid_map", uids, nu, err);
}

int
sb_ns_set_time_offsets (const sb_spec *spec, sb_err **err)
{
  char buf[128];
  if (!spec->linux.has_time_offsets)
    return 0;
  snprintf (buf, sizeof (buf), "monotonic %lld %u\nboottime %lld %u\n",
            (long long)spec->linux.time_offsets[0].secs, spec->linux.time_offsets[0].nanosecs,
            (long long)spec->linux.time_offsets[1].secs, spec->linux.time_offsets[1].nanosecs);
  if (sb_write_file_at (AT_FDCWD, "/proc/self/timens_offsets", buf, err) < 0)
    return sb_error_wrap (err, "linux.timeOffsets");
  return 0;
}

int
sb_ns_check_paths (const sb_spec *spec, sb_err **err)
{
  for (int k = 0; k < SB_NS_KINDS; k++)
    {
      const char *path = spec->linux.namespaces[k].path;
      _cleanup_close_ int fd = -1;
      int type;
      if (path == NULL)
        continue;
      fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return sb_error (err, errno, "linux.namespaces: %s namespace path `%s`", sb_ns_name (k), path);
      type = ioctl (fd, NS_GET_NSTYPE);
      if (type < 0 || type != sb_ns_clone_flag (k))
        return sb_error (err, 0, "linux.namespaces: `%s` is not a %s namespace", path, sb_ns_name (k));
    }
  return 0;
}
