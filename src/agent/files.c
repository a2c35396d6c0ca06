/* Files copied into the guest: a microvm shares no filesystem with the
   host, so the spec's bind mounts (a pod's /etc/hosts, resolv.conf,
   secrets and config maps) arrive as FILE frames after SETUP and are
   written into the workspace's root.  The guest is the boundary: a path
   that crosses a symlink of the image lands where the image points, inside
   the guest.  */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* The directories above path, made as root 0755 where missing.  */
static int
make_parents (const char *path, sb_err **err)
{
  const char *last = strrchr (path, '/');
  _cleanup_free_ char *dir = sb_xasprintf ("%.*s", (int)(last - path), path);

  return dir[0] ? sb_mkdir_p (dir, 0755, err) : 0;
}

/* What is at path goes unless it is a directory (which a file or link
   cannot replace).  */
static int
clear_path (const char *path, sb_err **err)
{
  struct stat st;

  if (lstat (path, &st) < 0)
    return errno == ENOENT ? 0 : sb_error (err, errno, "%s", path);
  if (S_ISDIR (st.st_mode))
    return sb_error (err, EISDIR, "%s", path);
  if (unlink (path) < 0)
    return sb_error (err, errno, "replace %s", path);
  return 0;
}

static int
set_owner_mode (int fd, const sb_agent_file *f, sb_err **err)
{
  if (fchown (fd, f->uid, f->gid) < 0 || fchmod (fd, f->mode & 07777) < 0)
    return sb_error (err, errno, "owner and mode of %s", f->path);
  return 0;
}

static int
write_regular (const sb_agent_file *f, sb_err **err)
{
  _cleanup_close_ int fd = -1;

  if (!f->append && clear_path (f->path, err) < 0)
    return -1;
  fd = open (f->path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (f->append ? O_APPEND : O_EXCL), 0600);
  if (fd < 0)
    return sb_error (err, errno, "open %s", f->path);
  if (sb_write_all (fd, f->data, f->len) < 0)
    return sb_error (err, errno, "write %s", f->path);
  return f->append ? 0 : set_owner_mode (fd, f, err);
}

static int
write_dir (const sb_agent_file *f, sb_err **err)
{
  _cleanup_close_ int fd = -1;

  if (mkdir (f->path, 0700) < 0 && errno != EEXIST)
    return sb_error (err, errno, "mkdir %s", f->path);
  fd = open (f->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return sb_error (err, errno, "open %s", f->path);
  return set_owner_mode (fd, f, err);
}

static int
write_link (const sb_agent_file *f, sb_err **err)
{
  char target[PATH_MAX];

  snprintf (target, sizeof (target), "%.*s", (int)f->len, (const char *)f->data);
  if (clear_path (f->path, err) < 0)
    return -1;
  if (symlink (target, f->path) < 0 || lchown (f->path, f->uid, f->gid) < 0)
    return sb_error (err, errno, "symlink %s", f->path);
  return 0;
}

/* A mount with "ro": the copy bound on itself read-only, so the
   workspace's processes cannot change it (root in the guest could undo
   it: the guest is the boundary).  */
static int
bind_readonly (const char *path, sb_err **err)
{
  if (mount (path, path, NULL, MS_BIND | MS_REC, NULL) < 0
      || mount (NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
    return sb_error (err, errno, "bind %s read-only", path);
  return 0;
}

int
agent_write_file (const sb_agent_file *f, sb_err **err)
{
  if (f->readonly)
    return bind_readonly (f->path, err);
  if (make_parents (f->path, err) < 0)
    return -1;
  switch (f->mode & S_IFMT)
    {
    case S_IFDIR:
      return write_dir (f, err);
    case S_IFLNK:
      return write_link (f, err);
    default:
      return write_regular (f, err);
    }
}
