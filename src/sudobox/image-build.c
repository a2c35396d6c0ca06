/* Image build: a minimal Debian root filesystem by mmdebstrap with sudo and
   one user with passwordless sudo; and the disk usage of an image.  */
#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "util.h"

extern char **environ;

/* Runs inside mmdebstrap as `sh -c HOOK exec CHROOT`.  The user name and
   uid arrive as environment variables, never as text of the script, so no
   value is parsed by a shell (they are validated anyway).  */
static const char customize_hook[]
    = "set -e\n"
      "chroot \"$1\" useradd -m -u \"$SUDOBOX_UID\" -U -s /bin/bash -- \"$SUDOBOX_USER\"\n"
      "printf '%s ALL=(ALL) NOPASSWD:ALL\\n' \"$SUDOBOX_USER\" > \"$1/etc/sudoers.d/$SUDOBOX_USER\"\n"
      "chmod 0440 \"$1/etc/sudoers.d/$SUDOBOX_USER\"\n"
      "printf '127.0.0.1\\tlocalhost\\n::1\\tlocalhost ip6-localhost ip6-loopback\\n' > \"$1/etc/hosts\"\n";

#define TAIL_BYTES 2048

static bool
valid_user (const char *s)
{
  size_t n = strlen (s);
  if (n == 0 || n > 32 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
    return false;
  return strspn (s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static bool
valid_package (const char *s)
{
  size_t n = strlen (s);
  if (n < 2 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
    return false;
  return strspn (s, "abcdefghijklmnopqrstuvwxyz0123456789+.-") == n;
}

/* A suite or codename: it is an argument of mmdebstrap, so it must not
   look like an option either.  */
static bool
valid_suite (const char *s)
{
  size_t n = strlen (s);
  if (n == 0 || n > 64 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
    return false;
  return strspn (s, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n;
}

static char *
find_in_path (const char *prog)
{
  const char *path = getenv ("PATH");
  _cleanup_free_ char *copy = sb_xstrdup (path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
  char *save = NULL;

  for (char *dir = strtok_r (copy, ":", &save); dir; dir = strtok_r (NULL, ":", &save))
    {
      _cleanup_free_ char *full = sb_xasprintf ("%s/%s", dir, prog);
      if (access (full, X_OK) == 0)
        return sb_steal (&full);
    }
  return NULL;
}

/* Whether an apt sources file has an entry for suite: "deb URI SUITE ..."
   or "Suites: SUITE ...", also SUITE-updates and SUITE-security.  */
static bool
mentions_suite (const char *text, const char *suite)
{
  size_t n = strlen (suite);
  for (const char *p = strstr (text, suite); p; p = strstr (p + 1, suite))
    if (p > text && (p[-1] == ' ' || p[-1] == '\t') && (p[n] == '\0' || strchr (" \t\n/-", p[n]) != NULL))
      return true;
  return false;
}

/* The host's apt sources files for suite, handed to mmdebstrap as MIRROR
   arguments (it copies a file's entries into the new system's sources).
   None when the suite is not the one the host uses: mmdebstrap then picks
   its own default archive.  */
static char **
host_sources (const char *suite)
{
  static const char *const patterns[]
      = { "/etc/apt/sources.list", "/etc/apt/sources.list.d/*.list", "/etc/apt/sources.list.d/*.sources" };
  char **files = NULL;

  for (size_t i = 0; i < sizeof (patterns) / sizeof (patterns[0]); i++)
    {
      glob_t g;
      if (glob (patterns[i], 0, NULL, &g) != 0)
        continue;
      for (size_t j = 0; j < g.gl_pathc; j++)
        {
          _cleanup_free_ char *text = NULL;
          if (sb_read_file_at (AT_FDCWD, g.gl_pathv[j], 1 << 20, &text, NULL, NULL) == 0
              && mentions_suite (text, suite))
            sb_strv_append (&files, g.gl_pathv[j]);
        }
      globfree (&g);
    }
  return files;
}

static int
check_opts (const sb_image_build_opts *o, const char *suite, const char *user, uint32_t uid, sb_err **err)
{
  if (!valid_suite (suite))
    return sb_error (err, 0, "invalid suite \"%s\"", suite);
  if (!valid_user (user))
    return sb_error (err, 0, "invalid user name \"%s\" (expected [a-z_][a-z0-9_-]{0,31})", user);
  if (uid < 1 || uid > 65533)
    return sb_error (err, 0, "invalid uid %u (expected 1 to 65533)", uid);
  for (size_t i = 0; o->include != NULL && o->include[i] != NULL; i++)
    if (!valid_package (o->include[i]))
      return sb_error (err, 0, "invalid package name \"%s\"", o->include[i]);
  return 0;
}

static char **
build_argv (const sb_image_build_opts *o, const char *suite, const char *dest)
{
  _cleanup_free_ char *include = sb_xstrdup ("--include=sudo");
  _cleanup_free_ char *hook = sb_xasprintf ("--customize-hook=%s", customize_hook);
  _cleanup_strv_ char **sources = host_sources (suite);
  char **argv = NULL;

  for (size_t i = 0; o->include != NULL && o->include[i] != NULL; i++)
    {
      char *more = sb_xasprintf ("%s,%s", include, o->include[i]);
      free (include);
      include = more;
    }
  sb_strv_append (&argv, "mmdebstrap");
  sb_strv_append (&argv, "--variant=minbase");
  sb_strv_append (&argv, "--format=directory");
  sb_strv_append (&argv, include);
  sb_strv_append (&argv, hook);
  sb_strv_append (&argv, "--");
  sb_strv_append (&argv, suite);
  sb_strv_append (&argv, dest);
  for (size_t i = 0; sources != NULL && sources[i] != NULL; i++)
    sb_strv_append (&argv, sources[i]);
  return argv;
}

static char **
build_env (const char *user, uint32_t uid)
{
  char **env = NULL;
  char num[16];

  for (char **e = environ; e != NULL && *e != NULL; e++)
    if (strncmp (*e, "SUDOBOX_USER=", 13) != 0 && strncmp (*e, "SUDOBOX_UID=", 12) != 0)
      sb_strv_append (&env, *e);
  snprintf (num, sizeof (num), "%u", uid);
  _cleanup_free_ char *u = sb_xasprintf ("SUDOBOX_USER=%s", user);
  _cleanup_free_ char *i = sb_xasprintf ("SUDOBOX_UID=%s", num);
  sb_strv_append (&env, u);
  sb_strv_append (&env, i);
  return env;
}

/* Reads fd to its end keeping the last TAIL_BYTES, cut at a line start.  */
static char *
read_tail (int fd)
{
  char buf[2 * TAIL_BYTES + 1];
  size_t used = 0;
  char *start;

  for (;;)
    {
      ssize_t n = read (fd, buf + used, sizeof (buf) - 1 - used);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      used += (size_t)n;
      if (used == sizeof (buf) - 1)
        {
          memmove (buf, buf + used - TAIL_BYTES, TAIL_BYTES);
          used = TAIL_BYTES;
        }
    }
  buf[used] = '\0';
  start = buf;
  if (used > TAIL_BYTES)
    start = buf + used - TAIL_BYTES;
  if (start != buf && strchr (start, '\n') != NULL)
    start = strchr (start, '\n') + 1;
  while (used > 0 && buf[used - 1] == '\n')
    buf[--used] = '\0';
  return sb_xstrdup (start);
}

static int
run_mmdebstrap (const char *prog, char **argv, char **env, bool progress, sb_err **err)
{
  posix_spawn_file_actions_t fa;
  _cleanup_close_ int rd = -1, wr = -1;
  _cleanup_free_ char *tail = NULL;
  int fds[2], status, r;
  pid_t pid;

  if (!progress)
    {
      if (pipe2 (fds, O_CLOEXEC) < 0)
        return sb_error (err, errno, "pipe");
      rd = fds[0];
      wr = fds[1];
    }
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
  if (!progress)
    {
      posix_spawn_file_actions_adddup2 (&fa, wr, 1);
      posix_spawn_file_actions_adddup2 (&fa, wr, 2);
    }
  r = posix_spawn (&pid, prog, &fa, NULL, argv, env);
  posix_spawn_file_actions_destroy (&fa);
  if (r != 0)
    return sb_error (err, r, "run `%s`", prog);
  if (!progress)
    {
      close (wr);
      wr = -1;
      tail = read_tail (rd);
    }
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return sb_error (err, errno, "wait for mmdebstrap");
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (WIFSIGNALED (status))
    return sb_error (err, 0, "mmdebstrap was killed by signal %d%s%s", WTERMSIG (status), tail ? ":\n" : "",
                     tail ? tail : "");
  return sb_error (err, 0, "mmdebstrap failed with exit status %d%s%s", WEXITSTATUS (status),
                   tail && *tail ? ":\n" : "", tail ? tail : "");
}

int
sb_image_build_check (const sb_image_build_opts *o, sb_err **err)
{
  return check_opts (o, o->suite ? o->suite : "bookworm", o->user ? o->user : "dev", o->uid ? o->uid : 1000,
                     err);
}

int
sb_image_build (const char *dest, const sb_image_build_opts *o, sb_err **err)
{
  const char *suite = o->suite ? o->suite : "bookworm";
  const char *user = o->user ? o->user : "dev";
  uint32_t uid = o->uid ? o->uid : 1000;
  _cleanup_free_ char *prog = NULL;
  _cleanup_free_ char *abs = NULL;
  _cleanup_strv_ char **argv = NULL;
  _cleanup_strv_ char **env = NULL;
  struct stat st;

  if (check_opts (o, suite, user, uid, err) < 0)
    return -1;
  prog = find_in_path ("mmdebstrap");
  if (prog == NULL)
    return sb_error (err, 0, "mmdebstrap is not installed: apt-get install mmdebstrap");
  /* Absolute, so it can never read as an option or as "-" (stdout).  */
  abs = realpath (dest, NULL);
  if (abs == NULL)
    return sb_error (err, errno, "`%s`", dest);
  if (stat (abs, &st) < 0 || !S_ISDIR (st.st_mode))
    return sb_error (err, 0, "`%s` is not a directory", dest);
  argv = build_argv (o, suite, abs);
  env = build_env (user, uid);
  if (run_mmdebstrap (prog, argv, env, o->progress, err) < 0)
    return sb_error_wrap (err, "build image in `%s`", dest);
  return 0;
}

/* Disk usage.  */

typedef struct inode_use
{
  dev_t dev;
  ino_t ino;
  int64_t bytes;
} inode_use;

typedef struct du_state
{
  int64_t total;
  inode_use *shared; /* files with several links, counted once at the end */
  size_t nshared;
} du_state;

static int
du_walk (int dir, const char *path, du_state *s, sb_err **err)
{
  DIR *d;
  struct dirent *de;
  int fd = openat (dir, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return sb_error (err, errno, "open `%s`", path);
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return sb_error (err, errno, "read `%s`", path);
    }
  while ((de = readdir (d)) != NULL)
    {
      struct stat st;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          closedir (d);
          return sb_error (err, errno, "stat `%s/%s`", path, de->d_name);
        }
      if (S_ISDIR (st.st_mode))
        {
          s->total += (int64_t)st.st_blocks * 512;
          if (du_walk (dirfd (d), de->d_name, s, err) < 0)
            {
              closedir (d);
              return sb_error_wrap (err, "%s", path);
            }
        }
      else if (st.st_nlink > 1)
        {
          s->shared = sb_xrealloc (s->shared, (s->nshared + 1) * sizeof (inode_use));
          s->shared[s->nshared++] = (inode_use){ st.st_dev, st.st_ino, (int64_t)st.st_blocks * 512 };
        }
      else
        s->total += (int64_t)st.st_blocks * 512;
    }
  closedir (d);
  return 0;
}

static int
inode_cmp (const void *a, const void *b)
{
  const inode_use *x = a, *y = b;
  if (x->dev != y->dev)
    return x->dev < y->dev ? -1 : 1;
  return x->ino < y->ino ? -1 : x->ino > y->ino;
}

int
sb_image_du (const char *dir, int64_t *bytes, sb_err **err)
{
  du_state s = { 0 };
  int r = du_walk (AT_FDCWD, dir, &s, err);

  if (r == 0)
    {
      if (s.nshared > 0)
        qsort (s.shared, s.nshared, sizeof (inode_use), inode_cmp);
      for (size_t i = 0; i < s.nshared; i++)
        if (i == 0 || inode_cmp (&s.shared[i], &s.shared[i - 1]) != 0)
          s.total += s.shared[i].bytes;
      *bytes = s.total;
    }
  free (s.shared);
  return r;
}
