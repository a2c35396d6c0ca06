#include "mounts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include "mounts-internal.h"
#include "util.h"

char *
sb_fd_path (char buf[static SB_FD_PATH_LEN], int fd)
{
  snprintf (buf, SB_FD_PATH_LEN, "/proc/self/fd/%d", fd);
  return buf;
}

char *
sb_clean_path (const char *path)
{
  char *out = sb_xmalloc0 (strlen (path) + 2);
  size_t len = 0;

  while (*path)
    {
      size_t n;
      while (*path == '/')
        path++;
      n = strcspn (path, "/");
      if (n == 0 || (n == 1 && path[0] == '.'))
        ;
      else if (n == 2 && path[0] == '.' && path[1] == '.')
        {
          while (len > 0 && out[len] != '/')
            len--;
          out[len] = '\0';
        }
      else
        {
          out[len++] = '/';
          memcpy (out + len, path, n);
          len += n;
          out[len] = '\0';
        }
      path += n;
    }
  if (len == 0)
    strcpy (out, "/");
  return out;
}

static int
create_file_in_root (int rootfd, const char *dest, sb_err **err)
{
  _cleanup_free_ char *parent = sb_xstrdup (dest);
  _cleanup_close_ int pfd = -1;
  _cleanup_close_ int fd = -1;

  *strrchr (parent, '/') = '\0';
  pfd = sb_mkdir_in_root (rootfd, parent, 0755, err);
  if (pfd < 0)
    return -1;
  /* Through rootfd again, so a dangling symlink at dest is created inside
     the root too.  */
  fd = sb_open_in_root (rootfd, dest, O_CREAT | O_WRONLY, 0644, err);
  if (fd < 0)
    return -1;
  return sb_open_in_root (rootfd, dest, O_PATH, 0, err);
}

int
sb_mount_dest (int rootfd, const char *dest, bool dir, sb_err **err)
{
  int fd = sb_open_in_root (rootfd, dest, O_PATH, 0, NULL);

  if (fd >= 0)
    return fd;
  if (errno != ENOENT)
    return sb_error (err, errno, "open `%s` inside the root", dest);
  if (dir)
    return sb_mkdir_in_root (rootfd, dest, 0755, err);
  return create_file_in_root (rootfd, dest, err);
}

static int
current_mount_flags (int fd, unsigned long *out)
{
  static const struct
  {
    unsigned long st, ms;
  } map[] = {
    { ST_RDONLY, MS_RDONLY },     { ST_NOSUID, MS_NOSUID },   { ST_NODEV, MS_NODEV },
    { ST_NOEXEC, MS_NOEXEC },     { ST_NOATIME, MS_NOATIME }, { ST_NODIRATIME, MS_NODIRATIME },
    { ST_RELATIME, MS_RELATIME },
  };
  struct statvfs sv;

  if (fstatvfs (fd, &sv) < 0)
    return -1;
  *out = 0;
  for (size_t i = 0; i < sizeof (map) / sizeof (map[0]); i++)
    if (sv.f_flag & map[i].st)
      *out |= map[i].ms;
  /* A remount without any atime flag means relatime, which would change a
     strictatime mount (and fail when that is locked).  */
  if (!(*out & (MS_NOATIME | MS_RELATIME)))
    *out |= MS_STRICTATIME;
  return 0;
}

int
sb_remount_bind (int fd, unsigned long set, unsigned long clear, sb_err **err)
{
  char p[SB_FD_PATH_LEN];
  unsigned long cur, flags;

  if (current_mount_flags (fd, &cur) < 0)
    return sb_error (err, errno, "statvfs of the mount to remount");
  if (set & ATIME_FLAGS)
    cur &= ~ATIME_FLAGS;
  flags = ((cur & ~clear) | set) & ATTR_FLAGS;
  if (mount (NULL, sb_fd_path (p, fd), NULL, MS_BIND | MS_REMOUNT | flags, NULL) < 0)
    return sb_error (err, errno, "remount with flags 0x%lx", flags);
  return 0;
}

int
sb_reopen_dest (int rootfd, const char *dest, sb_err **err)
{
  return sb_open_in_root (rootfd, dest, O_PATH, 0, err);
}

void
sb_mnt_entries_free (sb_mnt_entry **v)
{
  for (sb_mnt_entry *e = *v; e && e->mountpoint; e++)
    {
      free (e->mountpoint);
      free (e->fstype);
      free (e->super_opts);
    }
  free (*v);
}

static char *
unescaped_copy (const char *s)
{
  char *out = sb_xstrdup (s);
  sb_unescape_octal (out);
  return out;
}

int
sb_read_mountinfo (sb_mnt_entry **out, sb_err **err)
{
  _cleanup_fclose_ FILE *f = fopen ("/proc/self/mountinfo", "re");
  _cleanup_free_ char *line = NULL;
  size_t cap = 0, n = 0;
  sb_mnt_entry *v = sb_xmalloc0 (sizeof (*v));

  if (f == NULL)
    {
      free (v);
      return sb_error (err, errno, "open /proc/self/mountinfo");
    }
  while (getline (&line, &cap, f) > 0)
    {
      /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER */
      char mp[4096], fstype[256], super[4096];
      char *sep = strstr (line, " - ");
      if (sep == NULL || sscanf (line, "%*s %*s %*s %*s %4095s", mp) != 1
          || sscanf (sep + 3, "%255s %*s %4095s", fstype, super) != 2)
        continue;
      v = sb_xrealloc (v, (n + 2) * sizeof (*v));
      v[n].mountpoint = unescaped_copy (mp);
      v[n].fstype = sb_xstrdup (fstype);
      v[n].super_opts = sb_xstrdup (super);
      n++;
      memset (&v[n], 0, sizeof (v[n]));
    }
  *out = v;
  return 0;
}

/* runc's rule: nothing may be mounted inside /proc but procfs at /proc
   itself and the files lxcfs emulates.  */
static int
check_proc_dest (const char *dest, const sb_mount *m, int source_fd)
{
  static const char *const allowed[] = {
    "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo",  "/proc/stat",    "/proc/swaps",
    "/proc/uptime",  "/proc/loadavg",   "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
  };
  struct statfs sfs;

  if (strcmp (dest, "/proc") == 0)
    {
      if (m->type && strcmp (m->type, "proc") == 0 && !m->bind)
        return 0;
      if (source_fd >= 0 && fstatfs (source_fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC)
        return 0;
      if (source_fd < 0 && m->bind && m->source && statfs (m->source, &sfs) == 0
          && sfs.f_type == PROC_SUPER_MAGIC)
        return 0;
      errno = EPERM;
      return -1;
    }
  if (strncmp (dest, "/proc/", 6) != 0)
    return 0;
  for (size_t i = 0; i < sizeof (allowed) / sizeof (allowed[0]); i++)
    if (strcmp (dest, allowed[i]) == 0)
      return 0;
  errno = EPERM;
  return -1;
}

/* The path of fd relative to rootfd ("/proc/x"), or NULL when it cannot be
   told (then the lexical check is all there is).  */
static char *
path_in_root (int rootfd, int fd)
{
  char p[SB_FD_PATH_LEN], root[4096], full[4096];
  ssize_t rl = readlink (sb_fd_path (p, rootfd), root, sizeof (root) - 1);
  ssize_t fl = readlink (sb_fd_path (p, fd), full, sizeof (full) - 1);

  if (rl <= 0 || fl <= 0)
    return NULL;
  root[rl] = full[fl] = '\0';
  if (strcmp (root, "/") == 0)
    return sb_xstrdup (full);
  if (strncmp (full, root, (size_t)rl) != 0 || (full[rl] != '/' && full[rl] != '\0'))
    return NULL;
  return sb_xstrdup (full[rl] ? full + rl : "/");
}

static int
check_resolved_dest (int rootfd, int fd, const sb_mount *m, int source_fd, sb_err **err)
{
  _cleanup_free_ char *rel = path_in_root (rootfd, fd);
  if (rel != NULL && check_proc_dest (rel, m, source_fd) < 0)
    return sb_error (
        err, 0, "resolves to `%s`: only procfs at /proc and a few lxcfs files may be mounted inside /proc",
        rel);
  return 0;
}

unsigned long
sb_ms_to_mount_attr (unsigned long ms)
{
  unsigned long a = 0;
  a |= (ms & MS_RDONLY) ? MOUNT_ATTR_RDONLY : 0;
  a |= (ms & MS_NOSUID) ? MOUNT_ATTR_NOSUID : 0;
  a |= (ms & MS_NODEV) ? MOUNT_ATTR_NODEV : 0;
  a |= (ms & MS_NOEXEC) ? MOUNT_ATTR_NOEXEC : 0;
  a |= (ms & MS_NODIRATIME) ? MOUNT_ATTR_NODIRATIME : 0;
  a |= (ms & MS_NOATIME) ? MOUNT_ATTR_NOATIME : 0;
  a |= (ms & MS_STRICTATIME) ? MOUNT_ATTR_STRICTATIME : 0;
  a |= (ms & MS_RELATIME) ? MOUNT_ATTR_RELATIME : 0;
  return a;
}

static int
attach_premount (int rootfd, int pfd, const sb_mount *m, const char *dest, sb_err **err)
{
  struct stat st;
  struct mount_attr attr = { 0 };
  _cleanup_close_ int fd = -1;
  _cleanup_close_ int top = -1;

  if (fstat (pfd, &st) < 0)
    return sb_error (err, errno, "fstat the prepared mount");
  fd = sb_mount_dest (rootfd, dest, S_ISDIR (st.st_mode), err);
  if (fd < 0 || check_resolved_dest (rootfd, fd, m, pfd, err) < 0)
    return -1;
  if (move_mount (pfd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return sb_error (err, errno, "attach the prepared mount");
  attr.attr_set = sb_ms_to_mount_attr (m->flags);
  /* The kernel takes the atime mode as a whole: cleared together, set as
     one value.  */
  attr.attr_clr = sb_ms_to_mount_attr (m->clear_flags & ~ATIME_FLAGS) & ~attr.attr_set;
  if (m->flags & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME))
    attr.attr_clr |= MOUNT_ATTR__ATIME;
  if (attr.attr_set == 0 && attr.attr_clr == 0)
    return 0;
  /* Only now: before, the mount belonged to the creator's namespace.  */
  top = sb_reopen_dest (rootfd, dest, err);
  if (top < 0)
    return -1;
  if (mount_setattr (top, "", AT_EMPTY_PATH | (m->recursive ? AT_RECURSIVE : 0), &attr, sizeof (attr)) < 0)
    return sb_error (err, errno, "set the attributes of the prepared mount");
  return 0;
}

static int
bind_source (int rootfd, const char *source, const char *dest, bool recursive, unsigned long set,
             unsigned long clear, sb_err **err)
{
  char p[SB_FD_PATH_LEN];
  _cleanup_close_ int fd = -1;

  fd = sb_reopen_dest (rootfd, dest, err);
  if (fd < 0)
    return -1;
  if (mount (source, sb_fd_path (p, fd), NULL, MS_BIND | (recursive ? MS_REC : 0), NULL) < 0)
    return sb_error (err, errno, "bind mount `%s`", source);
  if (!(set & ATTR_FLAGS))
    return 0;
  close (fd);
  fd = sb_reopen_dest (rootfd, dest, err);
  if (fd < 0 || sb_remount_bind (fd, set, clear, err) < 0)
    return -1;
  return 0;
}

static int
mount_bind (int rootfd, const sb_mount *m, const char *dest, sb_err **err)
{
  struct stat st;
  _cleanup_close_ int fd = -1;

  if (m->source == NULL)
    return sb_error (err, 0, "a bind mount needs a source");
  if (stat (m->source, &st) < 0)
    return sb_error (err, errno, "bind source `%s`", m->source);
  fd = sb_mount_dest (rootfd, dest, S_ISDIR (st.st_mode), err);
  if (fd < 0 || check_resolved_dest (rootfd, fd, m, -1, err) < 0)
    return -1;
  return bind_source (rootfd, m->source, dest, m->recursive, m->flags, m->clear_flags, err);
}

/* devpts data without its "gid=N" option.  */
static char *
data_without_gid (const char *data)
{
  _cleanup_free_ char *copy = sb_xstrdup (data);
  char *out = sb_xmalloc0 (strlen (data) + 1), *save = NULL;

  for (char *tok = strtok_r (copy, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
    {
      if (strncmp (tok, "gid=", 4) == 0)
        continue;
      if (*out)
        strcat (out, ",");
      strcat (out, tok);
    }
  return out;
}

static int copy_tree (int src, int dst, sb_err **err);

static int
mount_fs (int rootfd, const sb_mount_ctx *ctx, const sb_mount *m, const char *dest, sb_err **err)
{
  char p[SB_FD_PATH_LEN];
  _cleanup_close_ int fd = sb_mount_dest (rootfd, dest, true, err);
  _cleanup_close_ int orig = -1;
  unsigned long flags = NEW_MOUNT_FLAGS (m->flags);
  /* A read-only sysfs is made read-only by its mount flag, not its
     superblock, which every later sysfs mount of this network namespace
     shares: the kernel lets a nested runtime (system mode) mount a
     read-write sysfs for a privileged container only while a visible one
     has a writable superblock.  Its files stay guarded by their owners.  */
  bool ro_after = strcmp (m->type, "sysfs") == 0 && (flags & MS_RDONLY);
  int r;

  if (fd < 0 || check_resolved_dest (rootfd, fd, m, -1, err) < 0)
    return -1;
  if (ro_after)
    flags &= ~MS_RDONLY;
  if (m->tmpcopyup)
    {
      orig = openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (orig < 0)
        return sb_error (err, errno, "open the directory to copy up");
    }
  r = mount (m->source ? m->source : m->type, sb_fd_path (p, fd), m->type, flags, m->data);
  if (r < 0 && errno == EINVAL && strcmp (m->type, "devpts") == 0 && m->data && strstr (m->data, "gid="))
    {
      /* The tty group is not mapped in this user namespace.  */
      _cleanup_free_ char *data = data_without_gid (m->data);
      r = mount (m->source ? m->source : m->type, p, m->type, flags, data);
    }
  if (r < 0 && errno == EPERM && ctx->userns && strcmp (m->type, "sysfs") == 0)
    /* A sysfs mount needs a network namespace owned by our user
       namespace; like runc, fall back to the host's /sys read-only.  */
    return bind_source (rootfd, "/sys", dest, true, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, err);
  if (r < 0)
    return sb_error (err, errno, "mount %s `%s`%s%s", m->type, m->source ? m->source : m->type,
                     m->data ? " with " : "", m->data ? m->data : "");
  if (ro_after)
    {
      _cleanup_close_ int top = sb_reopen_dest (rootfd, dest, err);
      if (top < 0 || sb_remount_bind (top, MS_RDONLY, 0, err) < 0)
        return sb_error_wrap (err, "make `%s` read-only", dest);
    }
  if (orig >= 0)
    {
      _cleanup_close_ int copy = sb_open_in_root (rootfd, dest, O_RDONLY | O_DIRECTORY, 0, err);
      if (copy < 0 || copy_tree (orig, copy, err) < 0)
        return sb_error_wrap (err, "tmpcopyup");
    }
  return 0;
}

static int
copy_file (int src, int dst, const char *name, sb_err **err)
{
  char buf[65536];
  _cleanup_close_ int in = openat (src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  _cleanup_close_ int out = openat (dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  ssize_t n;

  if (in < 0 || out < 0)
    return sb_error (err, errno, "copy `%s`", name);
  while ((n = read (in, buf, sizeof (buf))) > 0)
    if (sb_write_all (out, buf, (size_t)n) < 0)
      return sb_error (err, errno, "write `%s`", name);
  if (n < 0)
    return sb_error (err, errno, "read `%s`", name);
  return 0;
}

static int
copy_entry (int src, int dst, const char *name, sb_err **err)
{
  struct stat st;
  char target[4096];
  ssize_t n;

  if (fstatat (src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return sb_error (err, errno, "stat `%s`", name);
  if (S_ISDIR (st.st_mode))
    {
      _cleanup_close_ int s = -1;
      _cleanup_close_ int d = -1;
      if (mkdirat (dst, name, 0700) < 0)
        return sb_error (err, errno, "mkdir `%s`", name);
      s = openat (src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      d = openat (dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (s < 0 || d < 0)
        return sb_error (err, errno, "open `%s`", name);
      if (copy_tree (s, d, err) < 0)
        return sb_error_wrap (err, "%s", name);
    }
  else if (S_ISREG (st.st_mode))
    {
      if (copy_file (src, dst, name, err) < 0)
        return -1;
    }
  else if (S_ISLNK (st.st_mode))
    {
      n = readlinkat (src, name, target, sizeof (target) - 1);
      if (n < 0)
        return sb_error (err, errno, "readlink `%s`", name);
      target[n] = '\0';
      if (symlinkat (target, dst, name) < 0)
        return sb_error (err, errno, "symlink `%s`", name);
    }
  else if (mknodat (dst, name, st.st_mode, st.st_rdev) < 0)
    return sb_error (err, errno, "mknod `%s`", name);
  if (fchownat (dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL)
    return sb_error (err, errno, "chown `%s`", name);
  if (!S_ISLNK (st.st_mode) && fchmodat (dst, name, st.st_mode & 07777, 0) < 0)
    return sb_error (err, errno, "chmod `%s`", name);
  return 0;
}

/* The original contents of a directory into the tmpfs now covering it.  */
static int
copy_tree (int src, int dst, sb_err **err)
{
  struct stat st;
  int dup = fcntl (src, F_DUPFD_CLOEXEC, 3);
  DIR *d = dup >= 0 ? fdopendir (dup) : NULL;
  struct dirent *de;
  int r = 0;

  if (d == NULL)
    {
      if (dup >= 0)
        close (dup);
      return sb_error (err, errno, "read directory");
    }
  while (r == 0 && (de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      r = copy_entry (src, dst, de->d_name, err);
  closedir (d);
  if (r < 0)
    return -1;
  if (fstat (src, &st) < 0 || fchmod (dst, st.st_mode & 07777) < 0)
    return sb_error (err, errno, "copy the directory mode");
  if (fchown (dst, st.st_uid, st.st_gid) < 0 && errno != EINVAL)
    return sb_error (err, errno, "copy the directory owner");
  return 0;
}

static int
mount_one (int rootfd, const sb_mount_ctx *ctx, size_t i, sb_err **err)
{
  const sb_mount *m = &ctx->spec->mounts[i];
  _cleanup_free_ char *dest = NULL;
  _cleanup_close_ int fd = -1;
  char p[SB_FD_PATH_LEN];
  bool bind = m->bind || (m->type && strcmp (m->type, "bind") == 0);
  int pfd = ctx->premounts ? ctx->premounts[i] : -1;
  int r;

  if (m->destination == NULL || m->destination[0] != '/')
    return sb_error (err, 0, "mounts[%zu]: the destination `%s` is not absolute", i,
                     m->destination ? m->destination : "");
  dest = sb_clean_path (m->destination);
  if (check_proc_dest (dest, m, pfd) < 0)
    return sb_error (
        err, 0, "mounts[%zu] (%s): only procfs at /proc and a few lxcfs files may be mounted inside /proc", i,
        dest);
  if (pfd >= 0)
    r = attach_premount (rootfd, pfd, m, dest, err);
  else if (m->idmap)
    r = sb_error (err, 0, "an idmapped mount must be prepared by the runtime");
  else if (bind)
    r = mount_bind (rootfd, m, dest, err);
  else if (m->type == NULL)
    r = sb_error (err, 0, "no filesystem type and not a bind mount");
  else if (strcmp (m->type, "cgroup") == 0)
    r = sb_mount_cgroup (rootfd, ctx, m, dest, err);
  else
    r = mount_fs (rootfd, ctx, m, dest, err);
  if (r < 0)
    return sb_error_wrap (err, "mounts[%zu] (%s)", i, dest);
  if (m->propagation == 0)
    return 0;
  fd = sb_reopen_dest (rootfd, dest, err);
  if (fd < 0 || mount (NULL, sb_fd_path (p, fd), NULL, m->propagation, NULL) < 0)
    return sb_error (err, errno, "mounts[%zu] (%s): set propagation 0x%lx", i, dest, m->propagation);
  return 0;
}

static enum sb_dev_kind
spec_dev_kind (const sb_spec *spec)
{
  enum sb_dev_kind kind = SB_DEV_NONE;
  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const sb_mount *m = &spec->mounts[i];
      _cleanup_free_ char *dest = m->destination ? sb_clean_path (m->destination) : NULL;
      if (dest && strcmp (dest, "/dev") == 0)
        kind = (m->bind || (m->type && strcmp (m->type, "bind") == 0)) ? SB_DEV_BIND : SB_DEV_FS;
    }
  return kind;
}

/* A file gets the container's /dev/null over it (the host's when the
   container has none), a directory an empty read-only tmpfs.  */
static int
mask_path (int rootfd, const char *path, sb_err **err)
{
  char p[SB_FD_PATH_LEN], null_path[SB_FD_PATH_LEN];
  _cleanup_close_ int fd = sb_open_in_root (rootfd, path, O_PATH, 0, NULL);
  _cleanup_close_ int null_fd = -1;
  struct stat st;

  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
    return 0;
  if (fd < 0 || fstat (fd, &st) < 0)
    return sb_error (err, errno, "masked path `%s`", path);
  sb_fd_path (p, fd);
  if (S_ISDIR (st.st_mode))
    {
      if (mount ("tmpfs", p, "tmpfs", MS_RDONLY, NULL) < 0)
        return sb_error (err, errno, "masked path `%s`: mount a read-only tmpfs", path);
      return 0;
    }
  null_fd = sb_open_in_root (rootfd, "/dev/null", O_PATH, 0, NULL);
  if (mount (null_fd >= 0 ? sb_fd_path (null_path, null_fd) : "/dev/null", p, NULL, MS_BIND, NULL) < 0)
    return sb_error (err, errno, "masked path `%s`: bind mount /dev/null", path);
  return 0;
}

static int
readonly_path (int rootfd, const char *path, sb_err **err)
{
  char p[SB_FD_PATH_LEN];
  _cleanup_close_ int fd = sb_open_in_root (rootfd, path, O_PATH, 0, NULL);
  _cleanup_close_ int top = -1;

  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
    return 0;
  if (fd < 0)
    return sb_error (err, errno, "read-only path `%s`", path);
  sb_fd_path (p, fd);
  if (mount (p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
    return sb_error (err, errno, "read-only path `%s`: bind mount", path);
  top = sb_open_in_root (rootfd, path, O_PATH, 0, err);
  if (top < 0 || sb_remount_bind (top, MS_RDONLY, 0, err) < 0)
    return sb_error_wrap (err, "read-only path `%s`", path);
  return 0;
}

/* pivot_root refuses a shared parent mount of the new root: with
   rootfsPropagation "shared" the mount holding the rootfs's parent
   directory becomes private, as runc does.  */
static int
make_rootfs_parent_private (const char *rootfs, sb_err **err)
{
  sb_mnt_entry *entries __attribute__ ((cleanup (sb_mnt_entries_free))) = NULL;
  _cleanup_free_ char *parent = sb_clean_path (rootfs);
  const char *best = NULL;

  *strrchr (parent, '/') = '\0';
  if (sb_read_mountinfo (&entries, err) < 0)
    return -1;
  for (sb_mnt_entry *e = entries; e->mountpoint; e++)
    {
      size_t n = strlen (e->mountpoint);
      bool under = strcmp (e->mountpoint, "/") == 0
                   || (strncmp (parent, e->mountpoint, n) == 0 && (parent[n] == '/' || parent[n] == '\0'));
      if (under && (best == NULL || strlen (best) <= n))
        best = e->mountpoint;
    }
  if (best && mount (NULL, best, NULL, MS_PRIVATE, NULL) < 0)
    return sb_error (err, errno, "make `%s` private", best);
  return 0;
}

/* Clones the rootfs (or takes the runtime's idmapped copy) and attaches it
   over the rootfs directory through fds only; the clone's fd stays the
   anchor for everything that follows.  */
static int
setup_rootfs (sb_mount_ctx *ctx, sb_err **err)
{
  unsigned long prop = ctx->spec->linux.rootfs_propagation & PROPAGATION_FLAGS;
  _cleanup_close_ int tree = -1;
  char path[64];

  if (mount (NULL, "/", NULL, MS_REC | (prop ? prop : MS_SLAVE), NULL) < 0)
    return sb_error (err, errno, "set the propagation of / to 0x%lx", prop ? prop : MS_SLAVE);
  if ((prop & MS_SHARED) && make_rootfs_parent_private (ctx->rootfs, err) < 0)
    return -1;
  tree = ctx->rootfs_premount >= 0
             ? fcntl (ctx->rootfs_premount, F_DUPFD_CLOEXEC, 3)
             : open_tree (ctx->rootfs_dir, "",
                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
  if (tree < 0)
    return sb_error (err, errno, "clone the rootfs `%s`", ctx->rootfs);
  if (move_mount (tree, "", ctx->rootfs_dir, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return sb_error (err, errno, "attach the rootfs mount at `%s`", ctx->rootfs);
  /* Shared propagation is applied after pivot_root, which refuses it.  */
  prop = (prop && !(prop & MS_SHARED)) ? prop : MS_PRIVATE;
  snprintf (path, sizeof (path), "/proc/self/fd/%d", tree);
  if (mount (NULL, path, NULL, MS_REC | prop, NULL) < 0)
    return sb_error (err, errno, "set the propagation of the rootfs `%s`", ctx->rootfs);
  ctx->root_mount = sb_steal_fd (&tree);
  return 0;
}

int
sb_mounts_setup (sb_mount_ctx *ctx, sb_err **err)
{
  const sb_spec *spec = ctx->spec;
  enum sb_dev_kind dev_kind = spec_dev_kind (spec);
  int rootfd;

  if (setup_rootfs (ctx, err) < 0)
    return -1;
  rootfd = ctx->root_mount;
  if (dev_kind == SB_DEV_NONE && sb_dev_mount_tmpfs (rootfd, err) < 0)
    return -1;
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (mount_one (rootfd, ctx, i, err) < 0)
      return -1;
  return sb_dev_setup (rootfd, ctx, dev_kind, err);
}

int
sb_mounts_restrict (const sb_mount_ctx *ctx, sb_err **err)
{
  const sb_spec *spec = ctx->spec;

  for (char **p = spec->linux.masked_paths; p && *p; p++)
    if (mask_path (ctx->root_mount, *p, err) < 0)
      return -1;
  for (char **p = spec->linux.readonly_paths; p && *p; p++)
    if (readonly_path (ctx->root_mount, *p, err) < 0)
      return -1;
  return 0;
}

static int
pivot_into (int newroot, const char *rootfs, sb_err **err)
{
  _cleanup_close_ int oldroot = open ("/", O_DIRECTORY | O_PATH | O_CLOEXEC);

  if (oldroot < 0)
    return sb_error (err, errno, "open `/`");
  /* pivot_root(".", ".") stacks the old root on top of the new one; it is
     then detached from under us without needing a directory for it.  */
  if (fchdir (newroot) < 0)
    return sb_error (err, errno, "chdir to `%s`", rootfs);
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return sb_error (err, errno, "pivot_root to `%s`", rootfs);
  if (fchdir (oldroot) < 0)
    return sb_error (err, errno, "chdir to the old root");
  if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return sb_error (err, errno, "make the old root a slave");
  if (umount2 (".", MNT_DETACH) < 0)
    return sb_error (err, errno, "detach the old root");
  return 0;
}

static int
move_into (int newroot, const char *rootfs, sb_err **err)
{
  if (fchdir (newroot) < 0)
    return sb_error (err, errno, "chdir to `%s`", rootfs);
  if (mount (".", "/", NULL, MS_MOVE, NULL) < 0)
    return sb_error (err, errno, "move the rootfs `%s` to /", rootfs);
  if (chroot (".") < 0)
    return sb_error (err, errno, "chroot to `%s`", rootfs);
  return 0;
}

int
sb_mounts_enter_root (const sb_mount_ctx *ctx, sb_err **err)
{
  unsigned long prop = ctx->spec->linux.rootfs_propagation & PROPAGATION_FLAGS;
  _cleanup_close_ int root = -1;

  if ((ctx->no_pivot ? move_into (ctx->root_mount, ctx->rootfs, err)
                     : pivot_into (ctx->root_mount, ctx->rootfs, err))
      < 0)
    return -1;
  if (chdir ("/") < 0)
    return sb_error (err, errno, "chdir to /");
  if ((prop & MS_SHARED) && mount (NULL, "/", NULL, MS_REC | prop, NULL) < 0)
    return sb_error (err, errno, "make / shared");
  if (!ctx->spec->root_readonly)
    return 0;
  root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return sb_error (err, errno, "open the new /");
  if (sb_remount_bind (root, MS_RDONLY, 0, err) < 0)
    return sb_error_wrap (err, "read-only root");
  return 0;
}
