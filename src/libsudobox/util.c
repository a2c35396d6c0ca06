#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>

void
sb_freep (void *p)
{
  free (*(void **)p);
}

void
sb_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
  *fd = -1;
}

void
sb_fclosep (FILE **f)
{
  if (*f != NULL)
    fclose (*f);
  *f = NULL;
}

void
sb_strv_free (char **v)
{
  if (v == NULL)
    return;
  for (char **p = v; *p != NULL; p++)
    free (*p);
  free (v);
}

void
sb_strv_freep (char ***v)
{
  sb_strv_free (*v);
  *v = NULL;
}

static void
oom (void)
{
  /* Not abort(): in a child made by a raw clone3, glibc's cached thread id
     is still the parent's, and raise() would signal the parent.  */
  fputs ("sudobox: out of memory\n", stderr);
  _exit (127);
}

void *
sb_xmalloc0 (size_t n)
{
  void *p = calloc (1, n ? n : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
sb_xrealloc (void *p, size_t n)
{
  void *r = realloc (p, n ? n : 1);
  if (r == NULL)
    oom ();
  return r;
}

char *
sb_xstrdup (const char *s)
{
  char *r;
  if (s == NULL)
    return NULL;
  r = strdup (s);
  if (r == NULL)
    oom ();
  return r;
}

char *
sb_xasprintf (const char *fmt, ...)
{
  va_list ap;
  char *r;
  va_start (ap, fmt);
  if (vasprintf (&r, fmt, ap) < 0)
    oom ();
  va_end (ap);
  return r;
}

size_t
sb_strv_len (char *const *v)
{
  size_t n = 0;
  while (v != NULL && v[n] != NULL)
    n++;
  return n;
}

void
sb_strv_append (char ***v, const char *s)
{
  size_t n = sb_strv_len (*v);
  *v = sb_xrealloc (*v, (n + 2) * sizeof (char *));
  (*v)[n] = sb_xstrdup (s);
  (*v)[n + 1] = NULL;
}

int
sb_write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t r = write (fd, p, len);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return -1;
      p += r;
      len -= (size_t)r;
    }
  return 0;
}

ssize_t
sb_read_all (int fd, void *buf, size_t len)
{
  char *p = buf;
  size_t got = 0;
  while (got < len)
    {
      ssize_t r = read (fd, p + got, len - got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return -1;
      if (r == 0)
        break;
      got += (size_t)r;
    }
  return (ssize_t)got;
}

int
sb_read_fd (int fd, size_t max, char **out, size_t *len, sb_err **err)
{
  _cleanup_free_ char *buf = NULL;
  size_t used = 0, cap = 4096;

  buf = sb_xmalloc0 (cap + 1);
  for (;;)
    {
      ssize_t r = read (fd, buf + used, cap - used);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return sb_error (err, errno, "read");
      if (r == 0)
        break;
      used += (size_t)r;
      if (used > max)
        return sb_error (err, 0, "larger than %zu bytes", max);
      if (used == cap)
        {
          cap *= 2;
          buf = sb_xrealloc (buf, cap + 1);
        }
    }
  buf[used] = '\0';
  *out = sb_steal (&buf);
  if (len)
    *len = used;
  return 0;
}

int
sb_read_file_at (int dirfd, const char *path, size_t max, char **out, size_t *len, sb_err **err)
{
  _cleanup_close_ int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return sb_error (err, errno, "open `%s`", path);
  if (sb_read_fd (fd, max, out, len, err) < 0)
    return sb_error_wrap (err, "`%s`", path);
  return 0;
}

int
sb_write_file_at (int dirfd, const char *path, const char *data, sb_err **err)
{
  _cleanup_close_ int fd = openat (dirfd, path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return sb_error (err, errno, "open `%s`", path);
  if (sb_write_all (fd, data, strlen (data)) < 0)
    return sb_error (err, errno, "write `%s` to `%s`", data, path);
  return 0;
}

int
sb_write_file_atomic (const char *path, const char *data, size_t len, mode_t mode, sb_err **err)
{
  _cleanup_free_ char *tmp = sb_xasprintf ("%s.tmp.%d", path, getpid ());
  _cleanup_close_ int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return sb_error (err, errno, "create `%s`", tmp);
  if (sb_write_all (fd, data, len) < 0)
    {
      int saved = errno;
      unlink (tmp);
      return sb_error (err, saved, "write `%s`", tmp);
    }
  if (rename (tmp, path) < 0)
    {
      int saved = errno;
      unlink (tmp);
      return sb_error (err, saved, "rename `%s` to `%s`", tmp, path);
    }
  return 0;
}

int
sb_mkdir_p (const char *path, mode_t mode, sb_err **err)
{
  _cleanup_free_ char *copy = sb_xstrdup (path);
  /* copy + 1 below must stay inside the string.  */
  if (copy[0] == '\0')
    return sb_error (err, ENOENT, "mkdir: empty path");
  for (char *p = copy + 1; *p; p++)
    {
      if (*p != '/')
        continue;
      *p = '\0';
      if (mkdir (copy, mode) < 0 && errno != EEXIST)
        return sb_error (err, errno, "mkdir `%s`", copy);
      *p = '/';
    }
  if (mkdir (copy, mode) < 0 && errno != EEXIST)
    return sb_error (err, errno, "mkdir `%s`", copy);
  return 0;
}

int
sb_open_in_root (int rootfd, const char *path, int flags, mode_t mode, sb_err **err)
{
  struct open_how how = {
    .flags = (uint64_t)(flags | O_CLOEXEC),
    .mode = (flags & O_CREAT) ? mode : 0,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };
  int fd;

  while (*path == '/')
    path++;
  if (*path == '\0')
    path = ".";
  do
    fd = (int)syscall (SYS_openat2, rootfd, path, &how, sizeof (how));
  while (fd < 0 && (errno == EAGAIN || errno == EINTR));
  if (fd < 0 && errno == EXDEV)
    {
      /* A mount point on the way (the spec's own earlier mounts): confinement
         still holds through RESOLVE_IN_ROOT.  */
      how.resolve &= ~(uint64_t)RESOLVE_NO_XDEV;
      do
        fd = (int)syscall (SYS_openat2, rootfd, path, &how, sizeof (how));
      while (fd < 0 && (errno == EAGAIN || errno == EINTR));
    }
  if (fd < 0)
    return sb_error (err, errno, "open `%s` inside the root", path);
  return fd;
}

int
sb_mkdir_in_root (int rootfd, const char *path, mode_t mode, sb_err **err)
{
  _cleanup_free_ char *copy = sb_xstrdup (path);
  _cleanup_free_ char *prefix = sb_xmalloc0 (strlen (path) + 2);
  _cleanup_close_ int cur = fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
  char *save = NULL;

  if (cur < 0)
    return sb_error (err, errno, "dup");
  for (char *tok = strtok_r (copy, "/", &save); tok; tok = strtok_r (NULL, "/", &save))
    {
      int next;
      strcat (prefix, "/");
      strcat (prefix, tok);
      /* Each step is resolved again from the root, so a symlink or ".."
         among the components cannot lead outside it.  */
      if (mkdirat (cur, tok, mode) < 0 && errno != EEXIST)
        return sb_error (err, errno, "mkdir `%s` inside the root", prefix);
      next = sb_open_in_root (rootfd, prefix, O_PATH | O_DIRECTORY, 0, err);
      if (next < 0)
        return -1;
      close (cur);
      cur = next;
    }
  return sb_steal_fd (&cur);
}

int
sb_parse_i64 (const char *s, int64_t *out)
{
  char *end = NULL;
  long long v;
  /* strtoll would also skip leading spaces and take a '+'.  */
  if (s == NULL || !((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')))
    return -1;
  errno = 0;
  v = strtoll (s, &end, 10);
  if (errno != 0 || *end != '\0')
    return -1;
  *out = v;
  return 0;
}

int
sb_parse_u64 (const char *s, uint64_t *out)
{
  char *end = NULL;
  unsigned long long v;
  /* strtoull would also skip leading spaces and negate a "-1" after them.  */
  if (s == NULL || *s < '0' || *s > '9')
    return -1;
  errno = 0;
  v = strtoull (s, &end, 10);
  if (errno != 0 || *end != '\0')
    return -1;
  *out = v;
  return 0;
}

int
sb_close_fds_from (int from, const int *keep, size_t nkeep)
{
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *de;

  if (d == NULL)
    return -1;
  while ((de = readdir (d)) != NULL)
    {
      int64_t fd;
      bool kept = false;
      if (sb_parse_i64 (de->d_name, &fd) < 0 || fd < from || fd == dirfd (d))
        continue;
      for (size_t i = 0; i < nkeep; i++)
        kept |= keep[i] == fd;
      if (!kept)
        close ((int)fd);
    }
  closedir (d);
  return 0;
}

int
sb_send_fd (int sock, int fd, const void *data, size_t len)
{
  char dummy = 0;
  struct iovec iov = { .iov_base = (void *)(data ? data : &dummy), .iov_len = data ? len : 1 };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  ssize_t r;

  memset (&u, 0, sizeof (u));
  if (fd >= 0)
    {
      struct cmsghdr *c;
      msg.msg_control = u.buf;
      msg.msg_controllen = sizeof (u.buf);
      c = CMSG_FIRSTHDR (&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (c), &fd, sizeof (int));
    }
  do
    r = sendmsg (sock, &msg, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -1 : 0;
}

int
sb_recv_fd (int sock, int *fd, void *data, size_t len)
{
  char dummy;
  struct iovec iov = { .iov_base = data ? data : &dummy, .iov_len = data ? len : 1 };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg
      = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof (u.buf) };
  struct cmsghdr *c;
  ssize_t r;

  *fd = -1;
  do
    r = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return -1;
  if (r == 0)
    {
      errno = ECONNRESET;
      return -1;
    }
  for (c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      memcpy (fd, CMSG_DATA (c), sizeof (int));
  return (int)r;
}

int
sb_proc_stat (pid_t pid, char *state, uint64_t *start)
{
  char path[64];
  _cleanup_free_ char *buf = NULL;
  char *p;
  int field = 3;

  snprintf (path, sizeof (path), "/proc/%d/stat", pid);
  if (sb_read_file_at (AT_FDCWD, path, 4096, &buf, NULL, NULL) < 0)
    return -1;
  /* The command name may contain spaces and parentheses: fields are counted
     from the last ')'.  */
  p = strrchr (buf, ')');
  if (p == NULL || p[1] != ' ')
    return -1;
  p += 2;
  if (state)
    *state = *p;
  for (; *p && field < 22; p++)
    if (*p == ' ')
      field++;
  return sb_parse_u64 (strndupa (p, strcspn (p, " ")), start);
}

int
sb_proc_start_time (pid_t pid, uint64_t *out)
{
  return sb_proc_stat (pid, NULL, out);
}

/* mountinfo escapes blanks, tabs, newlines and backslashes as \ooo.  */
void
sb_unescape_octal (char *s)
{
  char *w = s;
  for (char *r = s; *r; r++)
    {
      if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0'
          && r[3] <= '7')
        {
          *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
          r += 3;
        }
      else
        *w++ = *r;
    }
  *w = '\0';
}

/* Fills addr for path; dirfd receives an O_PATH fd of the directory when
   the path is too long to fit and must stay open until bind/connect.  */
static int
unix_addr (const char *path, struct sockaddr_un *addr, int *dirfd, sb_err **err)
{
  const char *slash = strrchr (path, '/');
  _cleanup_free_ char *dir = NULL;

  memset (addr, 0, sizeof (*addr));
  addr->sun_family = AF_UNIX;
  *dirfd = -1;
  if (strlen (path) < sizeof (addr->sun_path))
    {
      strcpy (addr->sun_path, path);
      return 0;
    }
  if (slash == NULL)
    return sb_error (err, 0, "socket path `%s` is too long", path);
  dir = strndup (path, (size_t)(slash - path) + 1);
  *dirfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (*dirfd < 0)
    return sb_error (err, errno, "open `%s`", dir);
  if ((size_t)snprintf (addr->sun_path, sizeof (addr->sun_path), "/proc/self/fd/%d/%s", *dirfd, slash + 1)
      >= sizeof (addr->sun_path))
    return sb_error (err, 0, "socket name `%s` is too long", slash + 1);
  return 0;
}

int
sb_unix_connect (const char *path, sb_err **err)
{
  struct sockaddr_un addr;
  _cleanup_close_ int dirfd = -1;
  _cleanup_close_ int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return sb_error (err, errno, "socket");
  if (unix_addr (path, &addr, &dirfd, err) < 0)
    return -1;
  if (connect (fd, (struct sockaddr *)&addr, sizeof (addr)) < 0)
    return sb_error (err, errno, "connect to `%s`", path);
  return sb_steal_fd (&fd);
}

int
sb_unix_listen (const char *path, sb_err **err)
{
  struct sockaddr_un addr;
  _cleanup_close_ int dirfd = -1;
  _cleanup_close_ int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return sb_error (err, errno, "socket");
  if (unix_addr (path, &addr, &dirfd, err) < 0)
    return -1;
  if (bind (fd, (struct sockaddr *)&addr, sizeof (addr)) < 0 || listen (fd, 1) < 0)
    return sb_error (err, errno, "listen on `%s`", path);
  return sb_steal_fd (&fd);
}

pid_t
sb_clone_into_cgroup (uint64_t flags, int cgroup_fd, bool *joined)
{
  struct clone_args args = { .flags = flags, .exit_signal = SIGCHLD };
  pid_t pid;

  *joined = false;
  if (cgroup_fd >= 0)
    {
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = (uint64_t)cgroup_fd;
      pid = (pid_t)syscall (SYS_clone3, &args, sizeof (args));
      if (pid >= 0)
        {
          *joined = pid > 0;
          return pid;
        }
      args.flags = flags;
      args.cgroup = 0;
    }
  return (pid_t)syscall (SYS_clone3, &args, sizeof (args));
}
