/* /dev inside the container: device nodes (made with mknod, or bind mounted
   from the host where a user namespace forbids mknod), the standard
   symlinks and the console.  */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "dev.h"
#include "util.h"

typedef struct dev_node
{
  const char *path; /* inside the container */
  const char *host; /* the host node to bind in a user namespace */
  char type;
  int64_t major, minor;
  mode_t mode;
  uid_t uid;
  gid_t gid;
} dev_node;

static const dev_node default_nodes[] = {
  { "/dev/null", "/dev/null", 'c', 1, 3, 0666, 0, 0 },
  { "/dev/zero", "/dev/zero", 'c', 1, 5, 0666, 0, 0 },
  { "/dev/full", "/dev/full", 'c', 1, 7, 0666, 0, 0 },
  { "/dev/random", "/dev/random", 'c', 1, 8, 0666, 0, 0 },
  { "/dev/urandom", "/dev/urandom", 'c', 1, 9, 0666, 0, 0 },
  { "/dev/tty", "/dev/tty", 'c', 5, 0, 0666, 0, 0 },
};

static mode_t
node_format (char type)
{
  switch (type)
    {
    case 'b':
      return S_IFBLK;
    case 'p':
      return S_IFIFO;
    default:
      return S_IFCHR;
    }
}

/* Refuses to bind a host path that is not the device the spec describes.  */
static int
check_host_node (const dev_node *n, sb_err **err)
{
  struct stat st;

  if (stat (n->host, &st) < 0)
    return sb_error (err, errno, "device `%s`: the host node to bind", n->host);
  if ((st.st_mode & S_IFMT) != node_format (n->type) || major (st.st_rdev) != n->major
      || minor (st.st_rdev) != n->minor)
    return sb_error (err, 0, "device `%s`: the host node `%s` is not %c %lld:%lld", n->path, n->host, n->type,
                     (long long)n->major, (long long)n->minor);
  return 0;
}

static int
bind_node (int rootfd, const dev_node *n, sb_err **err)
{
  char src[SB_FD_PATH_LEN], dst[SB_FD_PATH_LEN];
  _cleanup_close_ int host = -1;
  _cleanup_close_ int fd = -1;

  if (check_host_node (n, err) < 0)
    return -1;
  host = open (n->host, O_PATH | O_CLOEXEC);
  if (host < 0)
    return sb_error (err, errno, "device `%s`: open the host node `%s`", n->path, n->host);
  fd = sb_mount_dest (rootfd, n->path, false, err);
  if (fd < 0)
    return sb_error_wrap (err, "device `%s`", n->path);
  if (mount (sb_fd_path (src, host), sb_fd_path (dst, fd), NULL, MS_BIND, NULL) < 0)
    return sb_error (err, errno, "device `%s`: bind mount the host node `%s`", n->path, n->host);
  return 0;
}

static int
mknod_node (int rootfd, const dev_node *n, sb_err **err)
{
  _cleanup_free_ char *parent = sb_xstrdup (n->path);
  _cleanup_close_ int pfd = -1;
  const char *base = strrchr (n->path, '/') + 1;
  dev_t dev = makedev ((unsigned)n->major, (unsigned)n->minor);
  mode_t fmt = node_format (n->type);

  *strrchr (parent, '/') = '\0';
  pfd = sb_mkdir_in_root (rootfd, parent, 0755, err);
  if (pfd < 0)
    return sb_error_wrap (err, "device `%s`", n->path);
  if (mknodat (pfd, base, fmt | (n->mode & 0777), dev) < 0)
    {
      if (errno != EEXIST)
        return sb_error (err, errno, "device `%s`: mknod", n->path);
      /* Whatever the image has there is replaced by the spec's node.  */
      if (unlinkat (pfd, base, 0) < 0)
        return sb_error (err, errno, "device `%s`: remove the existing entry", n->path);
      if (mknodat (pfd, base, fmt | (n->mode & 0777), dev) < 0)
        return sb_error (err, errno, "device `%s`: mknod", n->path);
    }
  /* Explicitly: mknod's mode went through the umask.  */
  if (fchownat (pfd, base, n->uid, n->gid, AT_SYMLINK_NOFOLLOW) < 0)
    return sb_error (err, errno, "device `%s`: chown to %u:%u", n->path, n->uid, n->gid);
  if (fchmodat (pfd, base, n->mode & 07777, 0) < 0)
    return sb_error (err, errno, "device `%s`: chmod to %04o", n->path, n->mode & 07777);
  return 0;
}

static int
create_node (int rootfd, const dev_node *n, bool userns, sb_err **err)
{
  /* A FIFO needs no privilege, the others need mknod outside a user
     namespace.  */
  if (userns && n->type != 'p')
    return bind_node (rootfd, n, err);
  return mknod_node (rootfd, n, err);
}

static bool
spec_has_device (const sb_spec *spec, const char *path)
{
  for (size_t i = 0; i < spec->linux.n_devices; i++)
    {
      _cleanup_free_ char *p = sb_clean_path (spec->linux.devices[i].path);
      if (strcmp (p, path) == 0)
        return true;
    }
  return false;
}

static int
create_spec_device (int rootfd, const sb_device *d, bool userns, sb_err **err)
{
  _cleanup_free_ char *path = NULL;
  dev_node n;

  if (d->path == NULL || d->path[0] != '/')
    return sb_error (err, 0, "device path `%s` is not absolute", d->path ? d->path : "");
  path = sb_clean_path (d->path);
  n = (dev_node){
    .path = path,
    .host = d->path,
    .type = d->type,
    .major = d->major,
    .minor = d->minor,
    .mode = d->has_file_mode ? d->file_mode : 0666,
    .uid = d->has_uid ? d->uid : 0,
    .gid = d->has_gid ? d->gid : 0,
  };
  return create_node (rootfd, &n, userns, err);
}

static int
create_symlinks (int rootfd, bool userns, sb_err **err)
{
  static const struct
  {
    const char *target, *name;
  } links[] = {
    { "/proc/self/fd", "fd" },
    { "/proc/self/fd/0", "stdin" },
    { "/proc/self/fd/1", "stdout" },
    { "/proc/self/fd/2", "stderr" },
  };
  _cleanup_close_ int devfd = sb_open_in_root (rootfd, "/dev", O_PATH | O_DIRECTORY, 0, err);

  if (devfd < 0)
    return -1;
  for (size_t i = 0; i < sizeof (links) / sizeof (links[0]); i++)
    if (symlinkat (links[i].target, devfd, links[i].name) < 0 && errno != EEXIST)
      return sb_error (err, errno, "symlink /dev/%s", links[i].name);
  if (!userns && symlinkat ("/proc/kcore", devfd, "core") < 0 && errno != EEXIST)
    return sb_error (err, errno, "symlink /dev/core");
  /* The ptmx of the container's own devpts instance, whatever the image
     has.  */
  if (unlinkat (devfd, "ptmx", 0) < 0 && errno != ENOENT)
    return sb_error (err, errno, "remove /dev/ptmx");
  if (symlinkat ("pts/ptmx", devfd, "ptmx") < 0)
    return sb_error (err, errno, "symlink /dev/ptmx");
  return 0;
}

int
sb_dev_mount_tmpfs (int rootfd, sb_err **err)
{
  char p[SB_FD_PATH_LEN];
  _cleanup_close_ int fd = sb_mount_dest (rootfd, "/dev", true, err);

  if (fd < 0)
    return -1;
  if (mount ("tmpfs", sb_fd_path (p, fd), "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k") < 0)
    return sb_error (err, errno, "mount a tmpfs at /dev");
  return 0;
}

static int
setup_console (int rootfd, int slave, sb_err **err)
{
  char src[SB_FD_PATH_LEN], dst[SB_FD_PATH_LEN];
  _cleanup_close_ int fd = sb_mount_dest (rootfd, "/dev/console", false, err);

  if (fd < 0)
    return sb_error_wrap (err, "/dev/console");
  if (mount (sb_fd_path (src, slave), sb_fd_path (dst, fd), NULL, MS_BIND, NULL) < 0)
    return sb_error (err, errno, "bind mount the console onto /dev/console");
  return 0;
}

int
sb_dev_setup (int rootfd, const sb_mount_ctx *ctx, enum sb_dev_kind kind, sb_err **err)
{
  const sb_spec *spec = ctx->spec;

  if (kind != SB_DEV_BIND)
    {
      for (size_t i = 0; i < sizeof (default_nodes) / sizeof (default_nodes[0]); i++)
        if (!spec_has_device (spec, default_nodes[i].path)
            && create_node (rootfd, &default_nodes[i], ctx->userns, err) < 0)
          return -1;
      for (size_t i = 0; i < spec->linux.n_devices; i++)
        if (create_spec_device (rootfd, &spec->linux.devices[i], ctx->userns, err) < 0)
          return -1;
      if (create_symlinks (rootfd, ctx->userns, err) < 0)
        return -1;
    }
  if (ctx->console_slave >= 0 && setup_console (rootfd, ctx->console_slave, err) < 0)
    return -1;
  return 0;
}
