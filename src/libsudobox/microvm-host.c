/* What a microvm needs on the host besides QEMU itself, shared by the
   workspace manager and the OCI runtime: the kernel and initramfs (built
   once into a cache directory), disks made by the tools of the field
   (mkfs.ext4, qemu-img), and booting a guest up to its agent.  */
#include "microvm-host.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "selfexe.h"
#include "util.h"

void
sb_vm_boot_release (sb_vm_boot *b)
{
  free (b->vmlinux);
  free (b->initramfs);
  free (b->key);
  *b = (sb_vm_boot){ 0 };
}

/* Runs argv with stdout to *out (may be NULL) and stderr kept for the
   error.  */
static int
run_capture (char *const *argv, char **out, sb_err **err)
{
  int p[2];
  char buf[4096];
  ssize_t n;
  int status;
  pid_t pid;

  if (pipe2 (p, O_CLOEXEC) < 0)
    return sb_error (err, errno, "pipe");
  pid = fork ();
  if (pid < 0)
    return sb_error (err, errno, "fork");
  if (pid == 0)
    {
      int null = open ("/dev/null", O_RDWR);
      dup2 (null, 0);
      dup2 (p[1], 1);
      dup2 (p[1], 2);
      execvp (argv[0], argv);
      dprintf (2, "cannot run %s: %s", argv[0], strerror (errno));
      _exit (127);
    }
  close (p[1]);
  n = sb_read_all (p[0], buf, sizeof (buf) - 1);
  close (p[0]);
  buf[n > 0 ? n : 0] = '\0';
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return sb_error (err, 0, "%s failed: %s", argv[0], buf);
  if (out)
    *out = sb_xstrdup (buf);
  return 0;
}

int
sb_vm_run (char *const *argv, sb_err **err)
{
  return run_capture (argv, NULL, err);
}

/* The script's own cache check costs a dozen processes: skip it while the
   stamp is newer than the agent and than the last kernel (un)install.  */
static bool
boot_files_fresh (const char *dir, const char *agent)
{
  _cleanup_free_ char *stamp = sb_xasprintf ("%s/stamp", dir);
  struct stat s, a, k;

  return stat (stamp, &s) == 0 && stat (agent, &a) == 0 && stat ("/lib/modules", &k) == 0
         && s.st_mtime > a.st_mtime && s.st_mtime > k.st_mtime;
}

int
sb_vm_boot_files_in (const char *root, sb_vm_boot *b, sb_err **err)
{
  _cleanup_free_ char *agent = NULL, *script = NULL, *out = NULL, *dir = NULL, *key = NULL;
  _cleanup_close_ int lock = -1;

  if (sb_find_helper ("sudobox-agent", "agent", "SUDOBOX_AGENT", &agent, err) < 0)
    return -1;
  /* In the build tree the script sits in the source tree next to the
     agent's sources.  */
  if (sb_find_helper ("mkinitramfs.sh", "../../src/agent", "SUDOBOX_MKINITRAMFS", &script, err) < 0)
    return -1;
  dir = sb_xasprintf ("%s/microvm/boot", root);
  if (sb_mkdir_p (dir, 0700, err) < 0)
    return -1;
  {
    _cleanup_free_ char *lk = sb_xasprintf ("%s/microvm/boot.lock", root);
    lock = open (lk, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || flock (lock, LOCK_EX) < 0)
      return sb_error (err, errno, "lock `%s`", lk);
  }
  if (!boot_files_fresh (dir, agent))
    {
      char *argv[] = { script, agent, dir, NULL };
      if (run_capture (argv, &out, err) < 0)
        return -1;
    }
  {
    _cleanup_free_ char *stamp = sb_xasprintf ("%s/stamp", dir);
    char *s = NULL;
    size_t len;
    if (sb_read_file_at (AT_FDCWD, stamp, 4096, &s, &len, err) < 0)
      return -1;
    s[strcspn (s, "\n")] = '\0';
    b->key = s;
  }
  b->vmlinux = sb_xasprintf ("%s/vmlinux", dir);
  b->initramfs = sb_xasprintf ("%s/initramfs", dir);
  return 0;
}

int
sb_vm_overlay (const char *base, const char *path, sb_err **err)
{
  char *argv[] = { "qemu-img", "create",     "-q", "-u",  "-f",         "qcow2",
                   "-b",       (char *)base, "-F", "raw", (char *)path, NULL };
  struct stat st;

  if (stat (base, &st) < 0)
    return sb_error (err, errno, "stat `%s`", base);
  {
    _cleanup_free_ char *size = sb_xasprintf ("%lld", (long long)st.st_size);
    char *full[13];
    memcpy (full, argv, sizeof (argv));
    full[11] = size;
    full[12] = NULL;
    return sb_vm_run (full, err);
  }
}

int
sb_vm_projects_disk (const char *path, uint32_t uid, uint32_t gid, sb_err **err)
{
  _cleanup_free_ char *owner = sb_xasprintf ("root_owner=%u:%u", uid, gid);
  _cleanup_free_ char *size = sb_xasprintf ("%lluk", SB_MICROVM_PROJECTS_SIZE / 1024);
  char *argv[]
      = { "mkfs.ext4", "-q", "-F", "-L", "projects", "-E", owner, "-J", "size=16", (char *)path, size, NULL };
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

  if (fd < 0)
    return errno == EEXIST ? 0 : sb_error (err, errno, "create `%s`", path);
  if (sb_vm_run (argv, err) < 0)
    {
      unlink (path);
      return -1;
    }
  return 0;
}

void
sb_vm_kill (pid_t pid)
{
  int fd = (int)syscall (SYS_pidfd_open, pid, 0);
  struct pollfd p = { .fd = fd, .events = POLLIN };

  if (fd < 0)
    return;
  syscall (SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
  poll (&p, 1, 10000);
  close (fd);
  /* Our child when the launcher's double fork is not used (tests).  */
  waitpid (pid, NULL, WNOHANG);
}

int
sb_vm_start_guest (const sb_microvm_cfg *c, int timeout_ms, pid_t *pid, sb_err **err)
{
  _cleanup_close_ int fd = -1, lock = -1;

  if (sb_microvm_launch (c, pid, err) < 0)
    return -1;
  if (sb_microvm_connect (c->run_dir, 5000, &fd, &lock, err) < 0 || sb_microvm_ping (fd, timeout_ms, err) < 0)
    {
      _cleanup_free_ char *log = sb_xasprintf ("%s/qemu.log", c->run_dir);
      char *text = NULL;
      size_t len;
      sb_vm_kill (*pid);
      if (sb_read_file_at (AT_FDCWD, log, 2048, &text, &len, NULL) == 0 && len > 0)
        sb_error_wrap (err, "QEMU: %s", text);
      free (text);
      return -1;
    }
  return 0;
}

int
sb_vm_random_hex (char out[65], sb_err **err)
{
  uint8_t b[32];
  if (getrandom (b, sizeof (b), 0) != (ssize_t)sizeof (b))
    return sb_error (err, errno, "getrandom");
  for (size_t i = 0; i < sizeof (b); i++)
    snprintf (out + 2 * i, 3, "%02x", b[i]);
  return 0;
}
