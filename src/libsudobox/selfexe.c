#include "selfexe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static bool
already_sealed (int exefd)
{
  int seals = fcntl (exefd, F_GET_SEALS);
  return seals >= 0 && (seals & SEALS) == SEALS;
}

/* This process's own argv, from /proc/self/cmdline (NUL-separated).  */
static char **
own_argv (void)
{
  _cleanup_free_ char *buf = NULL;
  char **argv = NULL;
  size_t len = 0;

  if (sb_read_file_at (AT_FDCWD, "/proc/self/cmdline", 1 << 20, &buf, &len, NULL) < 0)
    return NULL;
  for (size_t i = 0; i < len; i += strlen (buf + i) + 1)
    sb_strv_append (&argv, buf + i);
  return argv;
}

int
sb_selfexe_ensure_sealed (char **argv, sb_err **err)
{
  extern char **environ;
  _cleanup_strv_ char **own = NULL;
  _cleanup_close_ int exe = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  _cleanup_close_ int mfd = -1;
  struct stat st;
  off_t off = 0;

  if (exe < 0)
    return sb_error (err, errno, "open /proc/self/exe");
  if (already_sealed (exe))
    return 0;
  if (fstat (exe, &st) < 0)
    return sb_error (err, errno, "stat /proc/self/exe");
  mfd = memfd_create ("sudobox-runc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0)
    return sb_error (err, errno, "memfd_create");
  while (off < st.st_size)
    {
      ssize_t n = sendfile (mfd, exe, &off, (size_t)(st.st_size - off));
      if (n <= 0)
        return sb_error (err, n < 0 ? errno : EIO, "copy the runtime binary");
    }
  if (fchmod (mfd, 0555) < 0 || fcntl (mfd, F_ADD_SEALS, SEALS) < 0)
    return sb_error (err, errno, "seal the runtime copy");
  sb_debug ("re-executing from a sealed copy of the runtime (CVE-2019-5736)");
  if (argv == NULL && (argv = own = own_argv ()) == NULL)
    return sb_error (err, errno, "read /proc/self/cmdline");
  fexecve (mfd, argv, environ);
  return sb_error (err, errno, "re-execute from the sealed copy");
}

int
sb_find_helper (const char *name, const char *build_dir, const char *env_name, char **out, sb_err **err)
{
  _cleanup_free_ char *installed = sb_xasprintf ("%s/sudobox/%s", SUDOBOX_LIBEXECDIR, name);
  const char *env = secure_getenv (env_name);
  char exe[PATH_MAX];
  ssize_t n;

  if (env && access (env, X_OK) == 0)
    {
      *out = sb_xstrdup (env);
      return 0;
    }
  n = readlink ("/proc/self/exe", exe, sizeof (exe) - 1);
  if (n > 0)
    {
      _cleanup_free_ char *cand = NULL;
      exe[n] = '\0';
      *strrchr (exe, '/') = '\0';
      cand = sb_xasprintf ("%s/../%s/%s", exe, build_dir, name);
      if (access (cand, X_OK) == 0)
        {
          *out = realpath (cand, NULL);
          return *out ? 0 : sb_error (err, errno, "`%s`", cand);
        }
    }
  if (access (installed, X_OK) == 0)
    {
      *out = sb_steal (&installed);
      return 0;
    }
  return sb_error (err, ENOENT, "%s not found (set %s)", name, env_name);
}
