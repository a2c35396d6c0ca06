#include "selfexe.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static bool
already_sealed (int exefd)
{
  int seals = fcntl (exefd, F_GET_SEALS);
  return seals >= 0 && (seals & SEALS) == SEALS;
}

int
sb_selfexe_ensure_sealed (char **argv, sb_err **err)
{
  extern char **environ;
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
  fexecve (mfd, argv, environ);
  return sb_error (err, errno, "re-execute from the sealed copy");
}
