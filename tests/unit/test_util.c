#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "tap.h"

static char tmp[] = "/tmp/sudobox-test-util.XXXXXX";

#define T(...) tap_path (tmp, __VA_ARGS__)

static void
put (const char *path, const char *text)
{
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || sb_write_all (fd, text, strlen (text)) < 0)
    abort ();
}

static void
test_parse (void)
{
  static const struct
  {
    const char *s;
    bool ok;
    int64_t v;
  } i64[] = {
    { "0", true, 0 },
    { "-1", true, -1 },
    { "42", true, 42 },
    { "9223372036854775807", true, INT64_MAX },
    { "-9223372036854775808", true, INT64_MIN },
    { "9223372036854775808", false, 0 },
    { "-9223372036854775809", false, 0 },
    { "", false, 0 },
    { "-", false, 0 },
    { "12a", false, 0 },
    { "1 ", false, 0 },
    { " 1", false, 0 },
    { "0x10", false, 0 },
    { "1.5", false, 0 },
  };
  static const struct
  {
    const char *s;
    bool ok;
    uint64_t v;
  } u64[] = {
    { "0", true, 0 },
    { "18446744073709551615", true, UINT64_MAX },
    { "18446744073709551616", false, 0 },
    { "-1", false, 0 },
    { "-0", false, 0 },
    { " -1", false, 0 },
    { " 1", false, 0 },
    { "", false, 0 },
    { "7x", false, 0 },
  };

  for (size_t i = 0; i < sizeof (i64) / sizeof (i64[0]); i++)
    {
      int64_t v = 12345;
      int r = sb_parse_i64 (i64[i].s, &v);
      tap_ok (i64[i].ok ? r == 0 && v == i64[i].v : r < 0 && v == 12345, "parse_i64 \"%s\" %s", i64[i].s,
              i64[i].ok ? "accepted" : "refused, output untouched");
    }
  for (size_t i = 0; i < sizeof (u64) / sizeof (u64[0]); i++)
    {
      uint64_t v = 12345;
      int r = sb_parse_u64 (u64[i].s, &v);
      tap_ok (u64[i].ok ? r == 0 && v == u64[i].v : r < 0 && v == 12345, "parse_u64 \"%s\" %s", u64[i].s,
              u64[i].ok ? "accepted" : "refused, output untouched");
    }
  tap_ok (sb_parse_i64 (NULL, &(int64_t){ 0 }) < 0 && sb_parse_u64 (NULL, &(uint64_t){ 0 }) < 0,
          "NULL refused");
  _cleanup_err_ sb_err *err = NULL;
  tap_ok (sb_mkdir_p ("", 0700, &err) < 0 && err != NULL,
          "mkdir_p of an empty path is an error (sudobox --root '')");
}

static bool
same_file (int fd, const char *path)
{
  struct stat a, b;
  return fstat (fd, &a) == 0 && stat (path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void
test_open_in_root (void)
{
  _cleanup_close_ int rootfd = -1;
  _cleanup_err_ sb_err *err = NULL;
  const char *escapes[]
      = { "link/passwd", "../../etc/passwd", "/etc/passwd", "../link/../../etc/passwd", "abslink/passwd" };

  sb_mkdir_p (T ("root/etc"), 0755, NULL);
  put (T ("root/etc/passwd"), "inside\n");
  tap_symlink ("/etc", T ("root/link"));
  tap_symlink ("../../../../../etc", T ("root/abslink"));
  rootfd = open (T ("root"), O_PATH | O_DIRECTORY | O_CLOEXEC);

  for (size_t i = 0; i < sizeof (escapes) / sizeof (escapes[0]); i++)
    {
      _cleanup_close_ int fd = sb_open_in_root (rootfd, escapes[i], O_RDONLY, 0, NULL);
      tap_ok (fd >= 0 && same_file (fd, T ("root/etc/passwd")), "`%s` stays inside the root", escapes[i]);
    }

  /* A path whose target does not exist inside the root fails rather than
     reaching the host's file.  */
  _cleanup_close_ int fd = sb_open_in_root (rootfd, "link/hostname", O_RDONLY, 0, &err);
  tap_ok (fd < 0 && err && err->errnum == ENOENT, "host file through a symlink is not reached: %s",
          err ? err->msg : "opened");
  sb_err_free (&err);

  /* O_CREAT through an escaping symlink creates inside.  */
  _cleanup_close_ int nfd
      = sb_open_in_root (rootfd, "link/new-file", O_WRONLY | O_CREAT | O_EXCL, 0600, NULL);
  tap_ok (nfd >= 0 && same_file (nfd, T ("root/etc/new-file")) && access ("/etc/new-file", F_OK) < 0,
          "O_CREAT through a symlink to /etc creates inside the root");
  unlink (T ("root/etc/new-file"));

  /* /proc magic links must not be followed.  */
  tap_symlink ("/proc/self/root", T ("root/magic"));
  sb_mkdir_p (T ("root/proc/self"), 0755, NULL);
  tap_symlink ("/", T ("root/proc/self/root"));
  _cleanup_close_ int mfd = sb_open_in_root (rootfd, "magic/etc/passwd", O_RDONLY, 0, NULL);
  tap_ok (mfd >= 0 && same_file (mfd, T ("root/etc/passwd")), "a /proc path resolves inside the root too");

  unlink (T ("root/magic"));
  unlink (T ("root/proc/self/root"));
  rmdir (T ("root/proc/self"));
  rmdir (T ("root/proc"));
  unlink (T ("root/link"));
  unlink (T ("root/abslink"));
  unlink (T ("root/etc/passwd"));
  rmdir (T ("root/etc"));
}

static void
test_mkdir_in_root (void)
{
  _cleanup_close_ int rootfd = open (T ("root"), O_PATH | O_DIRECTORY | O_CLOEXEC);
  const char *outside = T ("outside");
  _cleanup_free_ char *inside = NULL;
  _cleanup_err_ sb_err *err = NULL;
  int fd;

  mkdir (outside, 0700);
  /* "link" points at outside's absolute host path; inside the root that
     path names root + outside.  */
  tap_symlink (outside, T ("root/link"));
  inside = sb_xasprintf ("%s/root%s", tmp, outside);
  sb_mkdir_p (inside, 0700, NULL);

  fd = sb_mkdir_in_root (rootfd, "link/a/b", 0755, &err);
  tap_ok (fd >= 0, "mkdir through a symlinked component: %s", err ? err->msg : "ok");
  tap_ok (fd >= 0 && same_file (fd, T ("root%s/a/b", outside)), "created inside the root");
  tap_ok (access (T ("outside/a"), F_OK) < 0, "nothing created outside");
  if (fd >= 0)
    close (fd);
  sb_err_free (&err);

  /* The same with the target missing inside the root: an error or a
     directory inside, never one outside.  */
  rmdir (T ("root%s/a/b", outside));
  rmdir (T ("root%s/a", outside));
  rmdir (inside);
  fd = sb_mkdir_in_root (rootfd, "link/c", 0755, &err);
  tap_ok (access (T ("outside/c"), F_OK) < 0, "dangling symlink: nothing created outside (%s)",
          err ? err->msg : "created inside");
  if (fd >= 0)
    close (fd);
  sb_err_free (&err);
  rmdir (T ("root%s/c", outside));

  fd = sb_mkdir_in_root (rootfd, "../../x/./y", 0755, &err);
  tap_ok (fd >= 0 && same_file (fd, T ("root/x/y")), "\"..\" cannot climb out: %s", err ? err->msg : "ok");
  if (fd >= 0)
    close (fd);
  rmdir (T ("root/x/y"));
  rmdir (T ("root/x"));
  unlink (T ("root/link"));
  /* Remove the host path recreated inside the root, deepest first.  */
  for (char *end = strrchr (inside, '/'); end && end > inside + strlen (tmp) + 5; end = strrchr (inside, '/'))
    {
      rmdir (inside);
      *end = '\0';
    }
  rmdir (inside);
  rmdir (outside);
}

static void
test_write_atomic (void)
{
  const char *path = T ("atomic");
  _cleanup_err_ sb_err *err = NULL;
  char *got = NULL;
  struct stat st;
  mode_t old = umask (0);

  tap_is_int (sb_write_file_atomic (path, "one", 3, 0640, NULL), 0, "write");
  tap_ok (sb_read_file_at (AT_FDCWD, path, 100, &got, NULL, NULL) == 0 && strcmp (got, "one") == 0,
          "content");
  free (got);
  tap_ok (stat (path, &st) == 0 && (st.st_mode & 07777) == 0640, "mode 0640");
  tap_is_int (sb_write_file_atomic (path, "two-longer", 10, 0640, NULL), 0, "overwrite");
  tap_ok (sb_read_file_at (AT_FDCWD, path, 100, &got, NULL, NULL) == 0 && strcmp (got, "two-longer") == 0,
          "replaced");
  free (got);
  tap_ok (access (T ("atomic.tmp.%d", getpid ()), F_OK) < 0, "no temporary left behind");

  /* A symlink at the path is replaced, not written through.  */
  put (T ("target"), "keep");
  tap_symlink (T ("target"), T ("sym"));
  tap_is_int (sb_write_file_atomic (T ("sym"), "new", 3, 0600, NULL), 0, "write over a symlink");
  tap_ok (sb_read_file_at (AT_FDCWD, T ("target"), 100, &got, NULL, NULL) == 0 && strcmp (got, "keep") == 0,
          "the symlink's target is untouched");
  free (got);
  tap_ok (lstat (T ("sym"), &st) == 0 && S_ISREG (st.st_mode), "the symlink became the file");

  tap_is_int (sb_write_file_atomic (T ("no/such/dir/f"), "x", 1, 0600, &err), -1, "missing directory fails");
  tap_ok (err && strstr (err->msg, "no/such/dir/f") && err->errnum == ENOENT, "error names the file: %s",
          err ? err->msg : "");
  umask (old);
  unlink (path);
  unlink (T ("target"));
  unlink (T ("sym"));
}

static void
test_read_limit (void)
{
  const char *path = T ("big");
  _cleanup_free_ char *data = sb_xmalloc0 (10001);
  _cleanup_err_ sb_err *err = NULL;
  char *got = NULL;
  size_t len = 0;

  memset (data, 'x', 10000);
  put (path, data);
  tap_is_int (sb_read_file_at (AT_FDCWD, path, 10000, &got, &len, NULL), 0, "read at exactly the limit");
  tap_ok (got && len == 10000 && strlen (got) == 10000, "whole content, NUL-terminated");
  free (got);
  got = NULL;
  tap_is_int (sb_read_file_at (AT_FDCWD, path, 9999, &got, &len, &err), -1, "one byte over the limit fails");
  tap_ok (got == NULL && err && strstr (err->msg, "larger than 9999 bytes"), "limit error: %s",
          err ? err->msg : "");
  sb_err_free (&err);

  data[4096] = '\0';
  put (path, data);
  tap_is_int (sb_read_file_at (AT_FDCWD, path, 4096, &got, &len, NULL), 0, "4096 bytes at limit 4096");
  tap_is_int (len, 4096, "length 4096");
  free (got);
  data[4096] = 'x';
  data[4097] = '\0';
  put (path, data);
  tap_is_int (sb_read_file_at (AT_FDCWD, path, 4096, &got, &len, NULL), -1, "4097 bytes at limit 4096 fails");

  put (path, "");
  tap_is_int (sb_read_file_at (AT_FDCWD, path, 0, &got, &len, NULL), 0, "empty file at limit 0");
  tap_ok (got && *got == '\0' && len == 0, "empty string");
  free (got);

  tap_is_int (sb_read_file_at (AT_FDCWD, T ("missing"), 10, &got, &len, &err), -1, "missing file fails");
  tap_ok (err && err->errnum == ENOENT && strstr (err->msg, "missing"), "error names it: %s",
          err ? err->msg : "");
  unlink (path);
}

int
main (void)
{
  if (mkdtemp (tmp) == NULL)
    abort ();
  mkdir (T ("root"), 0755);
  test_parse ();
  test_open_in_root ();
  test_mkdir_in_root ();
  test_write_atomic ();
  test_read_limit ();
  rmdir (T ("root"));
  tap_ok (rmdir (tmp) == 0, "temp dir empty at the end");
  return tap_done ();
}
