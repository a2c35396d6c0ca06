/* The "cgroup" filesystem inside the container: the v2 hierarchy, or a
   tmpfs with a directory per v1 hierarchy.  With a cgroup namespace of its
   own the container mounts the hierarchies; without one (or when the kernel
   refuses) the container's own cgroups of the host are bind mounted in
   their place.  */
#include "mounts-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "util.h"

/* Mounts a cgroup hierarchy at fd, or when that is refused (no cgroup
   namespace of our own) binds the container's own cgroup of the host.  */
static int
mount_cgroup_hierarchy (int fd, const sb_mount_ctx *ctx, const sb_mnt_entry *e, const char *controllers,
                        unsigned long flags, sb_err **err)
{
  char p[SB_FD_PATH_LEN];
  bool v2 = strcmp (e->fstype, "cgroup2") == 0;
  _cleanup_free_ char *src = NULL;
  _cleanup_close_ int tree = -1;
  struct mount_attr attr = { 0 };

  sb_fd_path (p, fd);
  if (ctx->spec->linux.namespaces[SB_NS_CGROUP].present)
    {
      if (mount ("cgroup", p, e->fstype, flags, v2 ? NULL : controllers) == 0)
        return 0;
      if (errno != EPERM && errno != EBUSY)
        return sb_error (err, errno, "mount %s `%s`", e->fstype, v2 ? "" : controllers);
    }
  src = sb_xasprintf ("%s/%s", e->mountpoint, ctx->cgroup_path ? ctx->cgroup_path : "");
  /* A detached copy gets its attributes before it is attached: the fd of
     the mount point cannot name the mount that will cover it.  */
  tree = open_tree (AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0)
    return sb_error (err, errno, "bind mount `%s`", src);
  attr.attr_set = sb_ms_to_mount_attr (flags & ATTR_FLAGS);
  if (attr.attr_set & MOUNT_ATTR__ATIME)
    attr.attr_clr = MOUNT_ATTR__ATIME;
  if (mount_setattr (tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof (attr)) < 0)
    return sb_error (err, errno, "set the attributes of the bind mount of `%s`", src);
  if (move_mount (tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return sb_error (err, errno, "attach the bind mount of `%s`", src);
  return 0;
}

static bool
is_cgroup_controller_opt (const char *opt)
{
  static const char *const not_controllers[]
      = { "rw", "ro", "xattr", "clone_children", "noprefix", "cpuset_v2_mode", "favordynmods" };
  for (size_t i = 0; i < sizeof (not_controllers) / sizeof (not_controllers[0]); i++)
    if (strcmp (opt, not_controllers[i]) == 0)
      return false;
  return strncmp (opt, "release_agent=", 14) != 0;
}

/* One v1 hierarchy (or the hybrid "unified" one) below the cgroup tmpfs:
   its directory named as on the host, plus a symlink per co-mounted
   controller ("cpu" -> "cpu,cpuacct").  */
static int
mount_cgroup_v1_entry (int tmpfd, const sb_mount_ctx *ctx, const sb_mnt_entry *e, unsigned long flags,
                       sb_err **err)
{
  const char *name = strrchr (e->mountpoint, '/') + 1;
  _cleanup_free_ char *opts = sb_xstrdup (e->super_opts);
  _cleanup_free_ char *controllers = sb_xmalloc0 (strlen (e->super_opts) + 1);
  _cleanup_close_ int fd = -1;
  char *save = NULL;

  if (*name == '\0' || strcmp (name, "..") == 0 || strcmp (name, ".") == 0)
    return 0;
  for (char *tok = strtok_r (opts, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
    if (is_cgroup_controller_opt (tok))
      {
        if (*controllers)
          strcat (controllers, ",");
        strcat (controllers, tok);
      }
  /* The same hierarchy mounted twice on the host is mounted once.  */
  if (mkdirat (tmpfd, name, 0755) < 0)
    return errno == EEXIST ? 0 : sb_error (err, errno, "mkdir `%s`", name);
  fd = openat (tmpfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return sb_error (err, errno, "open `%s`", name);
  if (mount_cgroup_hierarchy (fd, ctx, e, controllers, flags, err) < 0)
    return sb_error_wrap (err, "cgroup hierarchy `%s`", name);
  save = NULL;
  for (char *tok = strtok_r (controllers, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
    if (strcmp (tok, name) != 0 && strchr (tok, '=') == NULL && symlinkat (name, tmpfd, tok) < 0
        && errno != EEXIST)
      return sb_error (err, errno, "symlink `%s` to `%s`", tok, name);
  return 0;
}

static int
mount_cgroup_v1 (int rootfd, const sb_mount_ctx *ctx, const char *dest, unsigned long flags, sb_err **err)
{
  char p[SB_FD_PATH_LEN];
  _cleanup_close_ int fd = sb_mount_dest (rootfd, dest, true, err);
  _cleanup_close_ int tmpfd = -1;
  sb_mnt_entry *entries __attribute__ ((cleanup (sb_mnt_entries_free))) = NULL;

  if (fd < 0 || sb_read_mountinfo (&entries, err) < 0)
    return -1;
  if (mount ("tmpfs", sb_fd_path (p, fd), "tmpfs", flags & ~MS_RDONLY, "mode=755") < 0)
    return sb_error (err, errno, "mount the cgroup tmpfs");
  tmpfd = sb_reopen_dest (rootfd, dest, err);
  if (tmpfd < 0)
    return -1;
  for (sb_mnt_entry *e = entries; e->mountpoint; e++)
    {
      sb_err *ignored = NULL;
      if (strcmp (e->fstype, "cgroup") == 0 && mount_cgroup_v1_entry (tmpfd, ctx, e, flags, err) < 0)
        return -1;
      /* The v2 hierarchy of a hybrid host is optional, as in runc.  */
      if (strcmp (e->fstype, "cgroup2") == 0 && strcmp (strrchr (e->mountpoint, '/'), "/unified") == 0)
        {
          mount_cgroup_v1_entry (tmpfd, ctx, e, flags, &ignored);
          sb_err_free (&ignored);
        }
    }
  if ((flags & MS_RDONLY) && sb_remount_bind (tmpfd, MS_RDONLY, 0, err) < 0)
    return sb_error_wrap (err, "cgroup tmpfs");
  return 0;
}

int
sb_mount_cgroup (int rootfd, const sb_mount_ctx *ctx, const sb_mount *m, const char *dest, sb_err **err)
{
  unsigned long flags = NEW_MOUNT_FLAGS (m->flags);
  _cleanup_close_ int fd = -1;
  sb_mnt_entry e = { .mountpoint = (char *)"/sys/fs/cgroup", .fstype = (char *)"cgroup2" };

  if (!ctx->cgroup_unified)
    return mount_cgroup_v1 (rootfd, ctx, dest, flags, err);
  fd = sb_mount_dest (rootfd, dest, true, err);
  if (fd < 0)
    return -1;
  return mount_cgroup_hierarchy (fd, ctx, &e, NULL, flags, err);
}
