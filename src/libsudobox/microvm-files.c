/* The spec's bind mounts of a microvm container, copied into the guest.
   The guest shares no filesystem with the host (no virtiofs here), so a
   bind mount becomes a copy made at create, as Kata's agent does without a
   shared filesystem: files, directories and symlinks with their owners and
   modes; changes on either side are not seen by the other.  Bounded, since
   every byte crosses the agent channel.  */
#include "microvm-oci.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "microvm.h"
#include "util.h"

#define COPY_MAX_BYTES (64ll << 20)
#define COPY_MAX_ENTRIES 10000
#define COPY_MAX_DEPTH 32
#define COPY_FRAME_MS 30000

typedef struct copy_job
{
  int fd; /* the agent channel */
  long long bytes;
  long entries;
} copy_job;

static int
send_entry (copy_job *j, const struct stat *st, const char *dest, const void *data, size_t len, bool append,
            sb_err **err)
{
  sb_agent_file f = { .mode = st->st_mode & (S_IFMT | 07777),
                      .uid = st->st_uid,
                      .gid = st->st_gid,
                      .path = dest,
                      .data = data,
                      .len = len,
                      .append = append };
  return sb_microvm_file (j->fd, &f, COPY_FRAME_MS, err);
}

static int
copy_regular (copy_job *j, int src, const struct stat *st, const char *dest, sb_err **err)
{
  static uint8_t buf[SB_AGENT_FILE_MAX_DATA];
  bool first = true;

  for (;;)
    {
      ssize_t n = read (src, buf, sizeof (buf));
      if (n < 0)
        return sb_error (err, errno, "read");
      if (n == 0 && !first)
        return 0;
      j->bytes += n;
      if (j->bytes > COPY_MAX_BYTES)
        return sb_error (err, EFBIG, "more than %lld MiB to copy into the guest", COPY_MAX_BYTES >> 20);
      if (send_entry (j, st, dest, buf, (size_t)n, !first, err) < 0)
        return -1;
      if (n == 0)
        return 0;
      first = false;
    }
}

static int copy_at (copy_job *j, int parent, const char *name, const char *dest, int depth, sb_err **err);

static int
copy_dir (copy_job *j, int parent, const char *name, const char *dest, int depth, sb_err **err)
{
  int sub = openat (parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (depth ? O_NOFOLLOW : 0));
  DIR *d = sub >= 0 ? fdopendir (sub) : NULL;
  struct dirent *de;
  int r = 0;

  if (d == NULL)
    {
      if (sub >= 0)
        close (sub);
      return sb_error (err, errno, "open the directory");
    }
  if (depth >= COPY_MAX_DEPTH)
    r = sb_error (err, ELOOP, "deeper than %d directories", COPY_MAX_DEPTH);
  while (r == 0 && (errno = 0, de = readdir (d)) != NULL)
    {
      _cleanup_free_ char *child = NULL;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      child = sb_xasprintf ("%s/%s", dest, de->d_name);
      r = copy_at (j, dirfd (d), de->d_name, child, depth + 1, err);
    }
  if (r == 0 && errno != 0)
    r = sb_error (err, errno, "read the directory");
  closedir (d);
  return r;
}

/* One entry: name in parent (the mount's source itself at depth 0, whose
   symlinks are followed as a bind mount follows them), dest in the guest.  */
static int
copy_at (copy_job *j, int parent, const char *name, const char *dest, int depth, sb_err **err)
{
  struct stat st;

  if (fstatat (parent, name, &st, depth ? AT_SYMLINK_NOFOLLOW : 0) < 0)
    return sb_error (err, errno, "stat `%s`", name);
  if (++j->entries > COPY_MAX_ENTRIES)
    return sb_error (err, EFBIG, "more than %d entries to copy into the guest", COPY_MAX_ENTRIES);
  if (S_ISLNK (st.st_mode))
    {
      char target[PATH_MAX];
      ssize_t n = readlinkat (parent, name, target, sizeof (target) - 1);
      if (n <= 0)
        return sb_error (err, errno, "readlink `%s`", name);
      return send_entry (j, &st, dest, target, (size_t)n, false, err);
    }
  if (S_ISDIR (st.st_mode))
    {
      if (send_entry (j, &st, dest, NULL, 0, false, err) < 0)
        return -1;
      return copy_dir (j, parent, name, dest, depth, err);
    }
  if (S_ISREG (st.st_mode))
    {
      _cleanup_close_ int src = openat (parent, name, O_RDONLY | O_CLOEXEC | (depth ? O_NOFOLLOW : 0));
      if (src < 0)
        return sb_error (err, errno, "open `%s`", name);
      return copy_regular (j, src, &st, dest, err);
    }
  return sb_error (err, 0, "`%s` is not a file, directory or symlink: it cannot be copied into a microvm",
                   name);
}

static int
seal_readonly (copy_job *j, const char *src, const char *dest, sb_err **err)
{
  struct stat st;
  sb_agent_file f = { .path = dest, .readonly = true };

  if (stat (src, &st) < 0)
    return sb_error (err, errno, "stat `%s`", src);
  f.mode = st.st_mode & (S_IFMT | 07777);
  return sb_microvm_file (j->fd, &f, COPY_FRAME_MS, err);
}

int
sb_microvm_copy_mounts (int fd, const sb_spec *spec, const char *bundle, sb_err **err)
{
  copy_job j = { .fd = fd };

  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const sb_mount *m = &spec->mounts[i];
      _cleanup_free_ char *src = NULL;

      if (!m->bind || m->source == NULL)
        continue;
      src = m->source[0] == '/' ? sb_xstrdup (m->source) : sb_xasprintf ("%s/%s", bundle, m->source);
      if (copy_at (&j, AT_FDCWD, src, m->destination, 0, err) < 0
          || ((m->flags & MS_RDONLY) && seal_readonly (&j, src, m->destination, err) < 0))
        return sb_error_wrap (err, "mounts[%zu] (`%s` on `%s`)", i, m->source, m->destination);
    }
  return 0;
}
