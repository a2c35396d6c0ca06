/* Image import: layer archives applied with OCI whiteouts, OCI image
   layouts (directory or archive), plain rootfs tarballs and directories.
   Every input here is untrusted.  Extraction never follows a symlink: each
   parent directory is opened component by component with O_NOFOLLOW from
   the destination's fd, and final components are created with
   O_EXCL|O_NOFOLLOW (or the *at calls that do not follow), so an entry can
   neither name nor reach anything outside the destination.  */
#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/xattr.h>

#include "archive-dl.h"
#include "util.h"

#define MAX_ENTRIES 5000000u
/* Real images nest a few dozen levels; the cap bounds the fds and stack
   that removing or copying a tree takes.  */
#define MAX_DEPTH 256u
#define MAX_JSON_BYTES (4u << 20)
#define MAX_INDEX_NESTING 4

static void
archive_freep (struct archive **a)
{
  if (*a != NULL)
    sb_la.archive_read_free (*a);
}

static void
dir_closep (DIR **d)
{
  if (*d != NULL)
    closedir (*d);
}

static void
json_putp (json_object **o)
{
  json_object_put (*o);
}

#define _cleanup_archive_ __attribute__ ((cleanup (archive_freep)))
#define _cleanup_dir_ __attribute__ ((cleanup (dir_closep)))
#define _cleanup_json_ __attribute__ ((cleanup (json_putp)))

static const char *
archive_msg (struct archive *a)
{
  const char *s = sb_la.archive_error_string (a);
  return s != NULL ? s : "unknown archive error";
}

/* A set of paths, to tell what the current layer created from what earlier
   layers left (an opaque whiteout only hides the latter).  */
typedef struct pathset
{
  char **slot;
  size_t cap, n;
} pathset;

static size_t
path_hash (const char *s)
{
  uint64_t h = 14695981039346656037ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (size_t)h;
}

static bool
pathset_has (const pathset *set, const char *s)
{
  if (set->cap == 0)
    return false;
  for (size_t i = path_hash (s) & (set->cap - 1);; i = (i + 1) & (set->cap - 1))
    {
      if (set->slot[i] == NULL)
        return false;
      if (strcmp (set->slot[i], s) == 0)
        return true;
    }
}

static void
pathset_insert (pathset *set, char *owned)
{
  size_t i = path_hash (owned) & (set->cap - 1);
  while (set->slot[i] != NULL)
    i = (i + 1) & (set->cap - 1);
  set->slot[i] = owned;
  set->n++;
}

static void
pathset_add (pathset *set, const char *s)
{
  if (pathset_has (set, s))
    return;
  if ((set->n + 1) * 2 > set->cap)
    {
      pathset old = *set;
      set->cap = old.cap ? old.cap * 2 : 64;
      set->slot = sb_xmalloc0 (set->cap * sizeof (char *));
      set->n = 0;
      for (size_t i = 0; i < old.cap; i++)
        if (old.slot[i] != NULL)
          pathset_insert (set, old.slot[i]);
      free (old.slot);
    }
  pathset_insert (set, sb_xstrdup (s));
}

static void
pathset_free (pathset *set)
{
  for (size_t i = 0; i < set->cap; i++)
    free (set->slot[i]);
  free (set->slot);
  set->slot = NULL;
  set->cap = set->n = 0;
}

static int
remove_at (int dir, const char *name, unsigned depth, sb_err **err)
{
  struct stat st;
  _cleanup_dir_ DIR *d = NULL;
  size_t removed;
  int fd;

  if (fstatat (dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : sb_error (err, errno, "stat `%s`", name);
  if (!S_ISDIR (st.st_mode))
    {
      if (unlinkat (dir, name, 0) < 0 && errno != ENOENT)
        return sb_error (err, errno, "remove `%s`", name);
      return 0;
    }
  if (depth > MAX_DEPTH)
    return sb_error (err, 0, "`%s`: directory tree deeper than %u levels", name, MAX_DEPTH);
  fd = openat (dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return sb_error (err, errno, "open directory `%s`", name);
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return sb_error (err, errno, "read directory `%s`", name);
    }
  /* Removing while reading may make readdir skip names: read again until a
     pass finds nothing left.  */
  do
    {
      struct dirent *de;
      removed = 0;
      rewinddir (d);
      while ((de = readdir (d)) != NULL)
        {
          if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
            continue;
          if (remove_at (dirfd (d), de->d_name, depth + 1, err) < 0)
            return sb_error_wrap (err, "%s", name);
          removed++;
        }
    }
  while (removed > 0);
  if (unlinkat (dir, name, AT_REMOVEDIR) < 0)
    return sb_error (err, errno, "remove directory `%s`", name);
  return 0;
}

int
sb_image_remove_tree (int dir, const char *name, sb_err **err)
{
  return remove_at (dir, name, 0, err);
}

/* Cleans path as tar does ("./a//b/" -> "a/b", a leading "/" dropped so
   absolute names land inside the root); ".." anywhere is refused rather
   than resolved.  "" is the root itself.  */
static int
normalize_path (const char *raw, char **out, const char **why)
{
  size_t len = strlen (raw), n = 0, depth = 0;
  _cleanup_free_ char *buf = NULL;
  const char *p = raw;

  if (len == 0)
    return *why = "empty path", -1;
  if (len >= PATH_MAX)
    return *why = "path is too long", -1;
  buf = sb_xmalloc0 (len + 1);
  while (*p)
    {
      size_t c = strcspn (p, "/");
      if (c == 2 && p[0] == '.' && p[1] == '.')
        return *why = "path escapes the image root", -1;
      if (c > 0 && !(c == 1 && p[0] == '.'))
        {
          if (++depth > MAX_DEPTH)
            return *why = "path is too deep", -1;
          if (n > 0)
            buf[n++] = '/';
          memcpy (buf + n, p, c);
          n += c;
        }
      p += c;
      while (*p == '/')
        p++;
    }
  buf[n] = '\0';
  *out = sb_steal (&buf);
  return 0;
}

/* State of one layer's extraction.  */
typedef struct layer
{
  int root;                   /* O_PATH fd of the destination */
  uint64_t *budget;           /* bytes left */
  uint64_t limit;             /* for the error message */
  pathset created;            /* paths this layer made */
  char **dirs;                /* directories whose times are set at the end */
  struct timespec *dir_times; /* two per entry of dirs */
  size_t ndirs;
} layer;

/* Opens the parent directory of path (normalized, not "") without following
   any symlink; *name gets the last component.  Missing parents are created
   (archives often omit directory entries) when create is set; otherwise
   returns -2 without an error.  */
static int
open_parent (layer *l, const char *path, bool create, const char **name, sb_err **err)
{
  _cleanup_free_ char *copy = sb_xstrdup (path);
  _cleanup_close_ int cur = fcntl (l->root, F_DUPFD_CLOEXEC, 3);
  char *p = copy, *slash;

  if (cur < 0)
    return sb_error (err, errno, "dup");
  while ((slash = strchr (p, '/')) != NULL)
    {
      int next;
      *slash = '\0';
      next = openat (cur, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0 && errno == ENOENT && !create)
        return -2;
      if (next < 0 && errno == ENOENT)
        {
          if (mkdirat (cur, p, 0755) < 0)
            return sb_error (err, errno, "create parent directory `%s`", copy);
          next = openat (cur, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
      if (next < 0 && (errno == ENOTDIR || errno == ELOOP))
        return sb_error (err, 0, "parent `%s` is not a directory (a symlink or a file)", copy);
      if (next < 0)
        return sb_error (err, errno, "open parent directory `%s`", copy);
      /* A layer that has entries below a directory has that directory:
         an opaque whiteout must not remove it.  */
      if (create)
        pathset_add (&l->created, copy);
      close (cur);
      cur = next;
      *slash = '/';
      p = slash + 1;
    }
  *name = path + (p - copy);
  return sb_steal_fd (&cur);
}

static int
check_owner (struct archive_entry *e, uid_t *uid, gid_t *gid, sb_err **err)
{
  la_int64_t u = sb_la.archive_entry_uid (e), g = sb_la.archive_entry_gid (e);
  /* (uid_t)-1 means "unchanged" to chown, not an owner.  */
  if (u < 0 || u >= UINT32_MAX || g < 0 || g >= UINT32_MAX)
    return sb_error (err, 0, "owner %" PRId64 ":%" PRId64 " out of range", (int64_t)u, (int64_t)g);
  *uid = (uid_t)u;
  *gid = (gid_t)g;
  return 0;
}

static struct timespec
entry_time (time_t sec, long nsec)
{
  struct timespec ts = { .tv_sec = sec, .tv_nsec = nsec };
  if (nsec < 0 || nsec > 999999999)
    ts.tv_nsec = 0;
  return ts;
}

static void
entry_times (struct archive_entry *e, struct timespec ts[2])
{
  if (!sb_la.archive_entry_mtime_is_set (e))
    {
      ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
      return;
    }
  ts[1] = entry_time (sb_la.archive_entry_mtime (e), sb_la.archive_entry_mtime_nsec (e));
  ts[0] = sb_la.archive_entry_atime_is_set (e)
              ? entry_time (sb_la.archive_entry_atime (e), sb_la.archive_entry_atime_nsec (e))
              : ts[1];
}

static int
set_xattr (int fd, const char *name, const void *value, size_t size, sb_err **err)
{
  if (fsetxattr (fd, name, value, size, 0) < 0 && errno != ENOTSUP)
    return sb_error (err, errno, "set extended attribute `%s`", name);
  return 0;
}

/* Owner, then mode (chown clears setuid bits and file capabilities), then
   extended attributes such as security.capability.  */
static int
apply_metadata (int fd, struct archive_entry *e, sb_err **err)
{
  const char *xname;
  const void *xvalue;
  size_t xsize;
  uid_t uid;
  gid_t gid;

  if (check_owner (e, &uid, &gid, err) < 0)
    return -1;
  if (fchown (fd, uid, gid) < 0)
    return sb_error (err, errno, "chown to %u:%u", uid, gid);
  if (fchmod (fd, sb_la.archive_entry_perm (e) & 07777) < 0)
    return sb_error (err, errno, "chmod %04o", sb_la.archive_entry_perm (e) & 07777);
  sb_la.archive_entry_xattr_reset (e);
  while (sb_la.archive_entry_xattr_next (e, &xname, &xvalue, &xsize) == ARCHIVE_OK)
    if (xname != NULL && set_xattr (fd, xname, xvalue, xsize, err) < 0)
      return -1;
  return 0;
}

static int
pwrite_all (int fd, const char *buf, size_t len, off_t off)
{
  while (len > 0)
    {
      ssize_t r = pwrite (fd, buf, len, off);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return -1;
      buf += r;
      len -= (size_t)r;
      off += r;
    }
  return 0;
}

static int
charge (layer *l, la_int64_t size, sb_err **err)
{
  if (size < 0 || (uint64_t)size > *l->budget)
    return sb_error (err, 0, "image is larger than the limit of %" PRIu64 " bytes", l->limit);
  *l->budget -= (uint64_t)size;
  return 0;
}

/* Copies the entry's data (sparse blocks at their offsets) into fd; nothing
   may lie past the declared size, which the budget was charged.  */
static int
write_data (struct archive *a, int fd, la_int64_t size, sb_err **err)
{
  for (;;)
    {
      const void *buf;
      size_t len;
      la_int64_t off;
      int r = sb_la.archive_read_data_block (a, &buf, &len, &off);
      if (r == ARCHIVE_EOF)
        break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
        return sb_error (err, 0, "read data: %s", archive_msg (a));
      if (off < 0 || (uint64_t)off > (uint64_t)size || len > (uint64_t)(size - off))
        return sb_error (err, 0, "data beyond the declared size of %" PRId64 " bytes", (int64_t)size);
      if (pwrite_all (fd, buf, len, off) < 0)
        return sb_error (err, errno, "write");
    }
  if (ftruncate (fd, size) < 0)
    return sb_error (err, errno, "truncate to %" PRId64 " bytes", (int64_t)size);
  return 0;
}

static int
extract_file (layer *l, struct archive *a, struct archive_entry *e, int parent, const char *name,
              sb_err **err)
{
  _cleanup_close_ int fd = -1;
  struct timespec ts[2];
  la_int64_t size = sb_la.archive_entry_size_is_set (e) ? sb_la.archive_entry_size (e) : 0;

  if (charge (l, size, err) < 0 || remove_at (parent, name, 0, err) < 0)
    return -1;
  fd = openat (parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return sb_error (err, errno, "create");
  if (write_data (a, fd, size, err) < 0 || apply_metadata (fd, e, err) < 0)
    return -1;
  entry_times (e, ts);
  if (futimens (fd, ts) < 0)
    return sb_error (err, errno, "set times");
  return 0;
}

static int
extract_dir (layer *l, struct archive_entry *e, int parent, const char *name, const char *path, sb_err **err)
{
  _cleanup_close_ int fd = -1;
  struct stat st;

  if (fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR (st.st_mode)
      && remove_at (parent, name, 0, err) < 0)
    return -1;
  if (mkdirat (parent, name, 0700) < 0 && errno != EEXIST)
    return sb_error (err, errno, "create directory");
  fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return sb_error (err, errno, "open directory");
  if (apply_metadata (fd, e, err) < 0)
    return -1;
  /* Creating the entries below changes the directory's mtime: set it once
     the layer is complete.  */
  l->dirs = sb_xrealloc (l->dirs, (l->ndirs + 1) * sizeof (char *));
  l->dir_times = sb_xrealloc (l->dir_times, (l->ndirs + 1) * 2 * sizeof (struct timespec));
  l->dirs[l->ndirs] = sb_xstrdup (path);
  entry_times (e, &l->dir_times[l->ndirs * 2]);
  l->ndirs++;
  return 0;
}

static int
extract_symlink (struct archive_entry *e, int parent, const char *name, sb_err **err)
{
  const char *target = sb_la.archive_entry_symlink (e);
  struct timespec ts[2];
  uid_t uid;
  gid_t gid;

  /* The target is stored as is: it is never followed here, and inside a
     workspace an absolute target resolves in the workspace's root.  */
  if (target == NULL || *target == '\0' || strlen (target) >= PATH_MAX)
    return sb_error (err, 0, "symlink without a valid target");
  if (check_owner (e, &uid, &gid, err) < 0 || remove_at (parent, name, 0, err) < 0)
    return -1;
  if (symlinkat (target, parent, name) < 0)
    return sb_error (err, errno, "create symlink to `%s`", target);
  if (fchownat (parent, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return sb_error (err, errno, "chown symlink");
  entry_times (e, ts);
  if (utimensat (parent, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return sb_error (err, errno, "set symlink times");
  return 0;
}

static int
extract_hardlink (layer *l, const char *raw_target, int parent, const char *name, const char *path,
                  sb_err **err)
{
  _cleanup_free_ char *target = NULL;
  _cleanup_close_ int tparent = -1;
  const char *why = NULL, *tname = NULL;

  if (normalize_path (raw_target, &target, &why) < 0)
    return sb_error (err, 0, "hardlink target \"%s\": %s", raw_target, why);
  if (*target == '\0')
    return sb_error (err, 0, "hardlink to the image root");
  if (strcmp (target, path) == 0)
    return 0;
  tparent = open_parent (l, target, false, &tname, err);
  if (tparent == -2)
    return sb_error (err, 0, "hardlink target \"%s\" does not exist", raw_target);
  if (tparent < 0 || remove_at (parent, name, 0, err) < 0)
    return -1;
  /* Flags 0: a symlink target is linked itself, never followed.  */
  if (linkat (tparent, tname, parent, name, 0) < 0)
    return sb_error (err, errno, "hardlink to \"%s\"", raw_target);
  return 0;
}

/* Empties dir (parent/name, path) of what earlier layers put there;
   entries this layer created stay, and directories among them are
   cleaned the same way.  */
static int
opaque_clean (layer *l, int dir, const char *path, unsigned depth, sb_err **err)
{
  _cleanup_dir_ DIR *d = NULL;
  _cleanup_strv_ char **names = NULL;
  int fd = openat (dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct dirent *de;

  if (fd < 0)
    return sb_error (err, errno, "open directory `%s`", path);
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return sb_error (err, errno, "read directory `%s`", path);
    }
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      sb_strv_append (&names, de->d_name);
  for (size_t i = 0; names != NULL && names[i] != NULL; i++)
    {
      _cleanup_free_ char *child = *path ? sb_xasprintf ("%s/%s", path, names[i]) : sb_xstrdup (names[i]);
      _cleanup_close_ int sub = -1;
      if (!pathset_has (&l->created, child))
        {
          if (remove_at (dirfd (d), names[i], 0, err) < 0)
            return -1;
          continue;
        }
      sub = openat (dirfd (d), names[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0 && depth < MAX_DEPTH && opaque_clean (l, sub, child, depth + 1, err) < 0)
        return -1;
    }
  return 0;
}

static int
whiteout (layer *l, const char *path, const char *raw, sb_err **err)
{
  _cleanup_close_ int parent = -1;
  _cleanup_free_ char *dir = NULL;
  const char *name = NULL, *victim;

  parent = open_parent (l, path, false, &name, err);
  if (parent == -2)
    return 0; /* nothing below to hide */
  if (parent < 0)
    return -1;
  if (strcmp (name, ".wh..wh..opq") == 0)
    {
      dir = sb_xasprintf ("%.*s", (int)(name - path) - (name > path ? 1 : 0), path);
      return opaque_clean (l, parent, dir, 0, err);
    }
  if (strncmp (name, ".wh..wh.", 8) == 0)
    return 0; /* aufs bookkeeping (.wh..wh.plnk and the like), no meaning here */
  victim = name + 4;
  if (*victim == '\0' || strcmp (victim, ".") == 0 || strcmp (victim, "..") == 0)
    return sb_error (err, 0, "whiteout \"%s\" names no file", raw);
  return remove_at (parent, victim, 0, err);
}

static int
apply_entry (layer *l, struct archive *a, struct archive_entry *e, sb_err **err)
{
  const char *raw = sb_la.archive_entry_pathname (e);
  const char *hardlink = sb_la.archive_entry_hardlink (e);
  _cleanup_free_ char *path = NULL;
  _cleanup_close_ int parent = -1;
  const char *why = NULL, *name = NULL, *base;
  int r;

  if (raw == NULL)
    return sb_error (err, 0, "entry without a name");
  if (normalize_path (raw, &path, &why) < 0)
    return sb_error (err, 0, "entry \"%s\": %s", raw, why);
  if (*path == '\0')
    return 0; /* the root itself: the caller made it */
  base = strrchr (path, '/');
  base = base ? base + 1 : path;
  if (strncmp (base, ".wh.", 4) == 0)
    r = whiteout (l, path, raw, err);
  else
    {
      mode_t type = sb_la.archive_entry_filetype (e);
      if (hardlink == NULL && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
        return 0; /* device nodes, fifos, sockets: the runtime provides /dev */
      parent = open_parent (l, path, true, &name, err);
      if (parent < 0)
        r = -1;
      else if (hardlink != NULL)
        r = extract_hardlink (l, hardlink, parent, name, path, err);
      else if (type == AE_IFREG)
        r = extract_file (l, a, e, parent, name, err);
      else if (type == AE_IFDIR)
        r = extract_dir (l, e, parent, name, path, err);
      else
        r = extract_symlink (e, parent, name, err);
      if (r == 0)
        pathset_add (&l->created, path);
    }
  if (r < 0)
    return sb_error_wrap (err, "entry \"%s\"", raw);
  return 0;
}

static int
apply_dir_times (layer *l, sb_err **err)
{
  for (size_t i = 0; i < l->ndirs; i++)
    {
      _cleanup_close_ int parent = -1, fd = -1;
      const char *name = NULL;
      parent = open_parent (l, l->dirs[i], false, &name, err);
      if (parent == -2)
        continue; /* removed by a later whiteout */
      if (parent < 0)
        return -1;
      fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        continue; /* replaced by a later entry of another type */
      if (futimens (fd, &l->dir_times[i * 2]) < 0)
        return sb_error (err, errno, "set times of `%s`", l->dirs[i]);
    }
  return 0;
}

static void
layer_free (layer *l)
{
  pathset_free (&l->created);
  for (size_t i = 0; i < l->ndirs; i++)
    free (l->dirs[i]);
  free (l->dirs);
  free (l->dir_times);
}

/* Layers are tar (OCI image spec), compressed or not.  Only native
   decompressors: no filter that would run an external program on
   untrusted data, and no other archive format to parse.  */
static struct archive *
tar_reader (void)
{
  struct archive *a = sb_la.archive_read_new ();
  if (a == NULL)
    abort ();
  sb_la.archive_read_support_filter_gzip (a);
  sb_la.archive_read_support_filter_bzip2 (a);
  sb_la.archive_read_support_filter_xz (a);
  sb_la.archive_read_support_filter_lzma (a);
  sb_la.archive_read_support_filter_zstd (a);
  sb_la.archive_read_support_format_tar (a);
  sb_la.archive_read_support_format_empty (a);
  return a;
}

static int
apply_layer (int archive_fd, int root, uint64_t *budget, uint64_t limit, sb_err **err)
{
  _cleanup_archive_ struct archive *a = tar_reader ();
  layer l = { .root = root, .budget = budget, .limit = limit };
  size_t entries = 0;
  int ret = -1;

  if (sb_la.archive_read_open_fd (a, archive_fd, 64 * 1024) != ARCHIVE_OK)
    return sb_error (err, 0, "not a tar archive: %s", archive_msg (a));
  for (;;)
    {
      struct archive_entry *e;
      int r = sb_la.archive_read_next_header (a, &e);
      if (r == ARCHIVE_EOF)
        break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
        {
          sb_error (err, 0, "%s archive: %s", entries == 0 ? "not a tar" : "corrupt", archive_msg (a));
          goto out;
        }
      if (++entries > MAX_ENTRIES)
        {
          sb_error (err, 0, "more than %u entries", MAX_ENTRIES);
          goto out;
        }
      if (apply_entry (&l, a, e, err) < 0)
        goto out;
    }
  ret = apply_dir_times (&l, err);
out:
  layer_free (&l);
  return ret;
}

int
sb_image_apply_layer (int archive_fd, const char *dest, uint64_t *budget, sb_err **err)
{
  _cleanup_close_ int root = -1;

  if (sb_la_load (err) < 0)
    return -1;
  root = open (dest, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return sb_error (err, errno, "open `%s`", dest);
  return apply_layer (archive_fd, root, budget, *budget, err);
}

/* OCI image layout.  */

static bool
valid_digest (const char *d)
{
  if (d == NULL || strncmp (d, "sha256:", 7) != 0 || strlen (d) != 7 + 64)
    return false;
  return strspn (d + 7, "0123456789abcdef") == 64;
}

/* Blobs are opened by digest only, so no descriptor can name a path outside
   blobs/sha256/.  The content is not checked against the digest (that
   needs a SHA-256 implementation, which is not a dependency): the layout
   is as trusted as the rest of the image, and every layer is confined to
   the destination anyway.  */
static int
open_blob (int layout, const char *digest, sb_err **err)
{
  struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
                          .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
  char path[sizeof ("blobs/sha256/") + 64];
  struct stat st;
  int fd;

  if (!valid_digest (digest))
    return sb_error (err, 0, "invalid digest \"%s\" (expected sha256:<64 hex digits>)",
                     digest ? digest : "(none)");
  snprintf (path, sizeof (path), "blobs/sha256/%s", digest + 7);
  do
    fd = (int)syscall (SYS_openat2, layout, path, &how, sizeof (how));
  while (fd < 0 && (errno == EAGAIN || errno == EINTR));
  if (fd < 0)
    return sb_error (err, errno, "open blob `%s`", path);
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      return sb_error (err, 0, "blob `%s` is not a regular file", path);
    }
  return fd;
}

static int
parse_json (const char *text, const char *what, json_object **out, sb_err **err)
{
  enum json_tokener_error jerr = json_tokener_success;
  *out = json_tokener_parse_verbose (text, &jerr);
  if (*out == NULL || !json_object_is_type (*out, json_type_object))
    {
      json_object_put (*out);
      *out = NULL;
      return sb_error (err, 0, "%s: not a JSON object%s%s", what, jerr ? ": " : "",
                       jerr ? json_tokener_error_desc (jerr) : "");
    }
  return 0;
}

static int
read_blob_json (int layout, const char *digest, json_object **out, sb_err **err)
{
  _cleanup_close_ int fd = open_blob (layout, digest, err);
  _cleanup_free_ char *text = NULL;
  size_t used = 0;

  if (fd < 0)
    return -1;
  text = sb_xmalloc0 (MAX_JSON_BYTES + 1);
  for (;;)
    {
      ssize_t n = read (fd, text + used, MAX_JSON_BYTES - used);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return sb_error (err, errno, "read blob %s", digest);
      if (n == 0)
        break;
      used += (size_t)n;
      if (used == MAX_JSON_BYTES)
        return sb_error (err, 0, "blob %s: JSON larger than %u bytes", digest, MAX_JSON_BYTES);
    }
  return parse_json (text, digest, out, err);
}

static const char *
get_str (json_object *o, const char *key)
{
  json_object *v;
  if (!json_object_object_get_ex (o, key, &v) || !json_object_is_type (v, json_type_string))
    return NULL;
  return json_object_get_string (v);
}

static const char *
host_arch (char *buf, size_t len)
{
  static const char *const map[][2]
      = { { "x86_64", "amd64" },    { "aarch64", "arm64" }, { "armv7l", "arm" },     { "i686", "386" },
          { "ppc64le", "ppc64le" }, { "s390x", "s390x" },   { "riscv64", "riscv64" } };
  struct utsname u;
  if (uname (&u) < 0)
    return "amd64";
  for (size_t i = 0; i < sizeof (map) / sizeof (map[0]); i++)
    if (strcmp (u.machine, map[i][0]) == 0)
      return map[i][1];
  snprintf (buf, len, "%s", u.machine);
  return buf;
}

/* The descriptor to use among index->manifests: the only one, or the one
   for this machine's linux architecture.  */
static int
pick_manifest (json_object *index, const char *what, json_object **desc, sb_err **err)
{
  json_object *list, *platform;
  char buf[65];
  const char *arch = host_arch (buf, sizeof (buf));
  size_t n;

  if (!json_object_object_get_ex (index, "manifests", &list) || !json_object_is_type (list, json_type_array)
      || (n = json_object_array_length (list)) == 0)
    return sb_error (err, 0, "%s: no manifests", what);
  for (size_t i = 0; i < n; i++)
    {
      json_object *d = json_object_array_get_idx (list, i);
      if (!json_object_is_type (d, json_type_object))
        return sb_error (err, 0, "%s: manifests[%zu] is not an object", what, i);
      if (n == 1)
        return *desc = d, 0;
      if (json_object_object_get_ex (d, "platform", &platform) && get_str (platform, "os") != NULL
          && get_str (platform, "architecture") != NULL && strcmp (get_str (platform, "os"), "linux") == 0
          && strcmp (get_str (platform, "architecture"), arch) == 0)
        return *desc = d, 0;
    }
  return sb_error (err, 0, "%s: none of the %zu manifests is for linux/%s", what, n, arch);
}

static bool
is_index_type (const char *t)
{
  return t != NULL
         && (strcmp (t, "application/vnd.oci.image.index.v1+json") == 0
             || strcmp (t, "application/vnd.docker.distribution.manifest.list.v2+json") == 0);
}

static bool
is_layer_type (const char *t)
{
  static const char *const ok[] = {
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  };
  for (size_t i = 0; t != NULL && i < sizeof (ok) / sizeof (ok[0]); i++)
    if (strcmp (t, ok[i]) == 0)
      return true;
  return false;
}

/* Follows index.json (and nested indexes) down to an image manifest.  */
static int
load_manifest (int layout, json_object **manifest, sb_err **err)
{
  _cleanup_free_ char *text = NULL;
  _cleanup_json_ json_object *index = NULL;

  if (sb_read_file_at (layout, "index.json", MAX_JSON_BYTES, &text, NULL, err) < 0
      || parse_json (text, "index.json", &index, err) < 0)
    return -1;
  for (int depth = 0; depth < MAX_INDEX_NESTING; depth++)
    {
      json_object *desc = NULL, *next = NULL;
      const char *digest;
      if (pick_manifest (index, depth ? "nested image index" : "index.json", &desc, err) < 0)
        return -1;
      digest = get_str (desc, "digest");
      if (read_blob_json (layout, digest, &next, err) < 0)
        return sb_error_wrap (err, "manifest");
      if (!is_index_type (get_str (desc, "mediaType")) && !is_index_type (get_str (next, "mediaType")))
        return *manifest = next, 0;
      json_object_put (index);
      index = next;
    }
  return sb_error (err, 0, "image indexes nested more than %d deep", MAX_INDEX_NESTING);
}

static void
copy_str_array (json_object *from, const char *key, json_object *to)
{
  json_object *v;
  if (!json_object_object_get_ex (from, key, &v) || !json_object_is_type (v, json_type_array))
    return;
  for (size_t i = 0; i < json_object_array_length (v); i++)
    {
      json_object *s = json_object_array_get_idx (v, i);
      if (json_object_is_type (s, json_type_string))
        json_object_array_add (to, json_object_new_string (json_object_get_string (s)));
    }
}

/* {"user":..,"env":[..],"cmd":[..],"workdir":..} from the image config;
   cmd is Entrypoint followed by Cmd (what the image would run); user and
   workdir only when set.  */
static int
image_config (int layout, json_object *manifest, char **out, sb_err **err)
{
  _cleanup_json_ json_object *blob = NULL;
  _cleanup_json_ json_object *res = json_object_new_object ();
  json_object *desc, *cfg, *env = json_object_new_array (), *cmd = json_object_new_array ();
  const char *s;

  json_object_object_add (res, "env", env);
  json_object_object_add (res, "cmd", cmd);
  if (!json_object_object_get_ex (manifest, "config", &desc) || !json_object_is_type (desc, json_type_object))
    return sb_error (err, 0, "manifest: no config descriptor");
  if (read_blob_json (layout, get_str (desc, "digest"), &blob, err) < 0)
    return sb_error_wrap (err, "image config");
  if (json_object_object_get_ex (blob, "config", &cfg) && json_object_is_type (cfg, json_type_object))
    {
      if ((s = get_str (cfg, "User")) != NULL && *s)
        json_object_object_add (res, "user", json_object_new_string (s));
      if ((s = get_str (cfg, "WorkingDir")) != NULL && *s)
        json_object_object_add (res, "workdir", json_object_new_string (s));
      copy_str_array (cfg, "Env", env);
      copy_str_array (cfg, "Entrypoint", cmd);
      copy_str_array (cfg, "Cmd", cmd);
    }
  *out = sb_xstrdup (
      json_object_to_json_string_ext (res, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
  return 0;
}

static int
import_layout (int layout, int root, uint64_t max_bytes, char **config_json, sb_err **err)
{
  _cleanup_json_ json_object *manifest = NULL;
  _cleanup_free_ char *config = NULL;
  json_object *layers;
  uint64_t budget = max_bytes;

  if (load_manifest (layout, &manifest, err) < 0)
    return -1;
  if (!json_object_object_get_ex (manifest, "layers", &layers)
      || !json_object_is_type (layers, json_type_array))
    return sb_error (err, 0, "manifest: no layers array");
  if (image_config (layout, manifest, &config, err) < 0)
    return -1;
  for (size_t i = 0; i < json_object_array_length (layers); i++)
    {
      json_object *desc = json_object_array_get_idx (layers, i);
      const char *type = get_str (desc, "mediaType");
      _cleanup_close_ int fd = -1;
      if (!is_layer_type (type))
        return sb_error (err, 0, "layer %zu: unsupported media type \"%s\"", i + 1, type ? type : "(none)");
      fd = open_blob (layout, get_str (desc, "digest"), err);
      if (fd < 0 || apply_layer (fd, root, &budget, max_bytes, err) < 0)
        return sb_error_wrap (err, "layer %zu", i + 1);
    }
  if (config_json != NULL)
    *config_json = sb_steal (&config);
  return 0;
}

static bool
is_layout_dir (int dir)
{
  return faccessat (dir, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) == 0
         && faccessat (dir, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Directory sources.  */

static int
copy_xattrs (int from, int to, sb_err **err)
{
  _cleanup_free_ char *names = NULL;
  ssize_t len = flistxattr (from, NULL, 0);

  if (len < 0)
    return errno == ENOTSUP ? 0 : sb_error (err, errno, "list extended attributes");
  names = sb_xmalloc0 ((size_t)len + 1);
  len = flistxattr (from, names, (size_t)len);
  if (len < 0)
    return sb_error (err, errno, "list extended attributes");
  for (char *n = names; n < names + len; n += strlen (n) + 1)
    {
      char value[65536];
      ssize_t vlen = fgetxattr (from, n, value, sizeof (value));
      if (vlen < 0)
        return sb_error (err, errno, "read extended attribute `%s`", n);
      if (set_xattr (to, n, value, (size_t)vlen, err) < 0)
        return -1;
    }
  return 0;
}

static int
copy_metadata (int from, int to, const struct stat *st, sb_err **err)
{
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  if (fchown (to, st->st_uid, st->st_gid) < 0)
    return sb_error (err, errno, "chown");
  if (fchmod (to, st->st_mode & 07777) < 0)
    return sb_error (err, errno, "chmod");
  if (copy_xattrs (from, to, err) < 0)
    return -1;
  if (futimens (to, ts) < 0)
    return sb_error (err, errno, "set times");
  return 0;
}

static int
copy_data (int from, int to, sb_err **err)
{
  char buf[65536];
  for (;;)
    {
      ssize_t n = copy_file_range (from, NULL, to, NULL, 1 << 30, 0);
      if (n == 0)
        return 0;
      if (n > 0)
        continue;
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
        return sb_error (err, errno, "copy data");
      break;
    }
  for (;;)
    {
      ssize_t n = read (from, buf, sizeof (buf));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return sb_error (err, errno, "read");
      if (n == 0)
        return 0;
      if (sb_write_all (to, buf, (size_t)n) < 0)
        return sb_error (err, errno, "write");
    }
}

static int copy_tree (int from, int to, unsigned depth, uint64_t *budget, uint64_t limit, sb_err **err);

static int
copy_entry (int from, int to, const char *name, unsigned depth, uint64_t *budget, uint64_t limit,
            sb_err **err)
{
  struct stat st;
  _cleanup_close_ int src = -1, dst = -1;

  if (fstatat (from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return sb_error (err, errno, "stat");
  if (S_ISLNK (st.st_mode))
    {
      char target[PATH_MAX];
      struct timespec ts[2] = { st.st_atim, st.st_mtim };
      ssize_t n = readlinkat (from, name, target, sizeof (target) - 1);
      if (n < 0)
        return sb_error (err, errno, "read symlink");
      target[n] = '\0';
      if (symlinkat (target, to, name) < 0
          || fchownat (to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0
          || utimensat (to, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return sb_error (err, errno, "copy symlink");
      return 0;
    }
  if (!S_ISDIR (st.st_mode) && !S_ISREG (st.st_mode))
    return 0; /* device nodes, fifos, sockets: the runtime provides /dev */
  src = openat (from, name, (S_ISDIR (st.st_mode) ? O_DIRECTORY : 0) | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (src < 0)
    return sb_error (err, errno, "open");
  if (S_ISDIR (st.st_mode))
    {
      if (depth >= MAX_DEPTH)
        return sb_error (err, 0, "deeper than %u levels", MAX_DEPTH);
      if (mkdirat (to, name, 0700) < 0)
        return sb_error (err, errno, "create directory");
      dst = openat (to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (dst < 0)
        return sb_error (err, errno, "open new directory");
      if (copy_tree (src, dst, depth + 1, budget, limit, err) < 0)
        return -1;
      return copy_metadata (src, dst, &st, err);
    }
  if ((uint64_t)st.st_size > *budget)
    return sb_error (err, 0, "image is larger than the limit of %" PRIu64 " bytes", limit);
  *budget -= (uint64_t)st.st_size;
  dst = openat (to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dst < 0)
    return sb_error (err, errno, "create");
  if (copy_data (src, dst, err) < 0)
    return -1;
  return copy_metadata (src, dst, &st, err);
}

/* Copies the contents of directory from into to; hardlinked files become
   separate copies.  */
static int
copy_tree (int from, int to, unsigned depth, uint64_t *budget, uint64_t limit, sb_err **err)
{
  _cleanup_dir_ DIR *d = NULL;
  int fd = openat (from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct dirent *de;

  if (fd < 0)
    return sb_error (err, errno, "open directory");
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return sb_error (err, errno, "read directory");
    }
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (copy_entry (from, to, de->d_name, depth, budget, limit, err) < 0)
        return sb_error_wrap (err, "%s", de->d_name);
    }
  return 0;
}

/* Archive sources: a rootfs tarball or an OCI archive.  */

typedef enum
{
  SOURCE_ROOTFS,
  SOURCE_OCI
} source_kind;

/* An OCI archive holds only oci-layout, index.json, blobs/ (and maybe
   docker's manifest.json, repositories); the first other name means a
   rootfs, so a rootfs tarball is recognised at its first entries.  */
static int
classify_archive (const char *source, source_kind *kind, sb_err **err)
{
  _cleanup_archive_ struct archive *a = tar_reader ();
  bool layout = false, index = false, any = false;
  struct archive_entry *e;
  int r;

  if (sb_la.archive_read_open_filename (a, source, 64 * 1024) != ARCHIVE_OK)
    return sb_error (err, 0, "`%s` is not a tar archive (plain, gzip, xz, zstd or bzip2): %s", source,
                     archive_msg (a));
  while ((r = sb_la.archive_read_next_header (a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    {
      _cleanup_free_ char *path = NULL;
      const char *why, *raw = sb_la.archive_entry_pathname (e);
      size_t top;
      if (raw == NULL || normalize_path (raw, &path, &why) < 0 || *path == '\0')
        continue;
      top = strcspn (path, "/");
      layout |= strcmp (path, "oci-layout") == 0;
      index |= strcmp (path, "index.json") == 0;
      any = true;
      if (!(strcmp (path, "oci-layout") == 0 || strcmp (path, "index.json") == 0
            || strcmp (path, "manifest.json") == 0 || strcmp (path, "repositories") == 0
            || (top == 5 && strncmp (path, "blobs", 5) == 0)))
        return *kind = SOURCE_ROOTFS, 0;
    }
  if (r != ARCHIVE_EOF)
    return sb_error (err, 0, "`%s` is not a tar archive (plain, gzip, xz, zstd or bzip2): %s", source,
                     archive_msg (a));
  if (any && !(layout && index))
    return sb_error (err, 0,
                     "`%s` has no oci-layout and index.json: a `docker save` archive? export the image with "
                     "`docker export` or copy it as an OCI archive",
                     source);
  *kind = any ? SOURCE_OCI : SOURCE_ROOTFS;
  return 0;
}

/* Where an OCI archive member goes in the temporary layout: oci-layout,
   index.json and blobs/sha256/<hex>; NULL for anything else.  */
static const char *
layout_member (const char *path)
{
  if (strcmp (path, "oci-layout") == 0 || strcmp (path, "index.json") == 0)
    return path;
  if (strncmp (path, "blobs/sha256/", 13) == 0 && strlen (path + 13) == 64
      && strspn (path + 13, "0123456789abcdef") == 64)
    return path;
  return NULL;
}

static int
extract_oci_archive (const char *source, int tmp, uint64_t max_bytes, sb_err **err)
{
  _cleanup_archive_ struct archive *a = tar_reader ();
  layer l = { .root = tmp, .budget = &max_bytes, .limit = max_bytes };
  struct archive_entry *e;
  int r;

  if (mkdirat (tmp, "blobs", 0700) < 0 || mkdirat (tmp, "blobs/sha256", 0700) < 0)
    return sb_error (err, errno, "create blobs/sha256 in the temporary layout");
  if (sb_la.archive_read_open_filename (a, source, 64 * 1024) != ARCHIVE_OK)
    return sb_error (err, 0, "open `%s`: %s", source, archive_msg (a));
  while ((r = sb_la.archive_read_next_header (a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    {
      _cleanup_free_ char *path = NULL;
      _cleanup_close_ int parent = -1, fd = -1;
      const char *why, *name = NULL, *raw = sb_la.archive_entry_pathname (e);
      la_int64_t size = sb_la.archive_entry_size (e);
      if (raw == NULL || normalize_path (raw, &path, &why) < 0 || layout_member (path) == NULL
          || sb_la.archive_entry_filetype (e) != AE_IFREG || sb_la.archive_entry_hardlink (e) != NULL)
        continue;
      parent = open_parent (&l, path, false, &name, err);
      if (parent < 0 || charge (&l, size, err) < 0)
        return sb_error_wrap (err, "`%s`: %s", source, raw);
      fd = openat (parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0)
        return sb_error (err, errno, "`%s`: extract %s", source, path);
      if (write_data (a, fd, size, err) < 0)
        return sb_error_wrap (err, "`%s`: %s", source, path);
    }
  pathset_free (&l.created);
  if (r != ARCHIVE_EOF)
    return sb_error (err, 0, "`%s`: %s", source, archive_msg (a));
  return 0;
}

static int
import_oci_archive (const char *source, const char *dest, int root, uint64_t max_bytes, char **config_json,
                    sb_err **err)
{
  _cleanup_free_ char *dcopy = sb_xstrdup (dest);
  _cleanup_free_ char *tmpl = NULL;
  _cleanup_close_ int tmp = -1;
  char *slash;
  int r;

  /* Beside dest, on the same file system, private to root.  */
  while ((slash = strrchr (dcopy, '/')) != NULL && slash[1] == '\0' && slash != dcopy)
    *slash = '\0';
  slash = strrchr (dcopy, '/');
  tmpl = slash == NULL ? sb_xstrdup (".sudobox-oci-XXXXXX")
                       : sb_xasprintf ("%.*s/.sudobox-oci-XXXXXX", (int)(slash - dcopy), dcopy);
  if (mkdtemp (tmpl) == NULL)
    return sb_error (err, errno, "create temporary directory `%s`", tmpl);
  tmp = open (tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  r = tmp < 0 ? sb_error (err, errno, "open `%s`", tmpl) : 0;
  if (r == 0)
    r = extract_oci_archive (source, tmp, max_bytes, err);
  if (r == 0)
    r = import_layout (tmp, root, max_bytes, config_json, err);
  if (r < 0)
    sb_error_wrap (err, "import `%s`", source);
  if (sb_image_remove_tree (AT_FDCWD, tmpl, r < 0 ? NULL : err) < 0)
    return -1;
  return r;
}

static int
import_tarball (const char *source, int root, uint64_t max_bytes, sb_err **err)
{
  _cleanup_close_ int fd = open (source, O_RDONLY | O_CLOEXEC);
  uint64_t budget = max_bytes;

  if (fd < 0)
    return sb_error (err, errno, "open `%s`", source);
  if (apply_layer (fd, root, &budget, max_bytes, err) < 0)
    return sb_error_wrap (err, "import `%s`", source);
  return 0;
}

static int
check_empty_dir (int fd, const char *dest, sb_err **err)
{
  _cleanup_dir_ DIR *d = NULL;
  int dup = openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct dirent *de;

  if (dup < 0 || (d = fdopendir (dup)) == NULL)
    {
      if (dup >= 0)
        close (dup);
      return sb_error (err, errno, "read `%s`", dest);
    }
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      return sb_error (err, 0, "`%s` is not empty", dest);
  return 0;
}

int
sb_image_import (const char *source, const char *dest, uint64_t max_bytes, char **config_json, sb_err **err)
{
  _cleanup_close_ int root = open (dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  source_kind kind = SOURCE_ROOTFS;

  if (config_json != NULL)
    *config_json = NULL;
  if (sb_la_load (err) < 0)
    return -1;
  if (root < 0)
    return sb_error (err, errno, "open destination `%s`", dest);
  if (check_empty_dir (root, dest, err) < 0)
    return -1;
  if (stat (source, &st) < 0)
    return sb_error (err, errno, "`%s`", source);
  if (S_ISDIR (st.st_mode))
    {
      _cleanup_close_ int src = open (source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      uint64_t budget = max_bytes;
      if (src < 0)
        return sb_error (err, errno, "open `%s`", source);
      if (is_layout_dir (src))
        {
          if (import_layout (src, root, max_bytes, config_json, err) < 0)
            return sb_error_wrap (err, "import OCI layout `%s`", source);
          return 0;
        }
      if (copy_tree (src, root, 0, &budget, max_bytes, err) < 0)
        return sb_error_wrap (err, "copy `%s`", source);
      return 0;
    }
  if (!S_ISREG (st.st_mode))
    return sb_error (err, 0, "`%s` is neither a file nor a directory", source);
  if (classify_archive (source, &kind, err) < 0)
    return -1;
  if (kind == SOURCE_OCI)
    return import_oci_archive (source, dest, root, max_bytes, config_json, err);
  return import_tarball (source, root, max_bytes, err);
}
