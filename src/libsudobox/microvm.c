/* Building QEMU's command line and launching it as the workspace's
   unprivileged uid.  */
#include "microvm.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

/* The fds QEMU inherits, at fixed numbers.  */
enum
{
  FD_KERNEL = 3,
  FD_INITRD,
  FD_BASE,
  FD_ROOT_RO,
  FD_ROOT_RW,
  FD_PROJ_RO,
  FD_PROJ_RW,
  FD_INCOMING,
  FD_COUNT,
  REPORT_FD = 100, /* the launcher's error pipe, closed by exec */
};

const char *
sb_microvm_qemu (void)
{
  const char *q = secure_getenv ("SUDOBOX_QEMU");
  return q && *q ? q : "qemu-system-x86_64";
}

static void
add (char ***v, const char *s)
{
  sb_strv_append (v, s);
}

static void addf (char ***v, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
addf (char ***v, const char *fmt, ...)
{
  va_list ap;
  char *s = NULL;
  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) < 0)
    abort ();
  va_end (ap);
  sb_strv_append (v, s);
  free (s);
}

/* A disk: an fd set holding the image opened read-only and read-write (QEMU
   picks by access mode when it opens or reopens /dev/fdset/N).  */
static void
add_disk (char ***v, const char *node, int set, int fd_ro, int fd_rw, const char *fmt, const char *backing)
{
  add (v, "-add-fd");
  addf (v, "fd=%d,set=%d", fd_ro, set);
  add (v, "-add-fd");
  addf (v, "fd=%d,set=%d", fd_rw, set);
  add (v, "-blockdev");
  addf (v, "driver=%s,node-name=%s,file.driver=file,file.filename=/dev/fdset/%d,discard=unmap%s%s", fmt, node,
        set, backing ? ",backing=" : "", backing ? backing : "");
  add (v, "-device");
  addf (v, "virtio-blk-device,drive=%s", node);
}

static char **
command_line (const sb_microvm_cfg *c)
{
  char **v = NULL;

  add (&v, sb_microvm_qemu ());
  add (&v, "-M");
  add (&v, "microvm");
  add (&v, "-accel");
  add (&v, c->kvm ? "kvm" : "tcg");
  add (&v, "-cpu");
  add (&v, c->kvm ? "host" : "max");
  add (&v, "-m");
  addf (&v, "%uM", c->mem_mb);
  add (&v, "-smp");
  addf (&v, "%u", c->cpus);
  add (&v, "-nodefaults");
  add (&v, "-no-user-config");
  add (&v, "-nographic");
  add (&v, "-no-reboot");
  /* Obsolete syscalls, privilege changes, spawning and resource control
     refused: QEMU needs none of them once running.  */
  add (&v, "-sandbox");
  add (&v, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
  add (&v, "-kernel");
  addf (&v, "/proc/self/fd/%d", FD_KERNEL);
  add (&v, "-initrd");
  addf (&v, "/proc/self/fd/%d", FD_INITRD);
  add (&v, "-append");
  /* No TSC calibration reference exists on microvm under TCG: give the
     rate rather than hang calibrating.  */
  addf (&v, "console=ttyS0 quiet panic=-1 tsc_early_khz=2000000 sudobox.ports=%d", SB_MICROVM_PORTS);
  add (&v, "-serial");
  add (&v, "file:console.log");
  add (&v, "-qmp");
  add (&v, "unix:qmp.sock,server=on,wait=off");
  add (&v, "-device");
  add (&v, "virtio-serial-device,max_ports=16");
  for (int i = 0; i < SB_MICROVM_PORTS; i++)
    {
      add (&v, "-chardev");
      addf (&v, "socket,id=port%d,path=port-%d.sock,server=on,wait=off", i, i);
      add (&v, "-device");
      addf (&v, "virtserialport,chardev=port%d,name=sudobox.%d,nr=%d", i, i, i + 1);
    }
  add (&v, "-add-fd");
  addf (&v, "fd=%d,set=1", FD_BASE);
  add (&v, "-blockdev");
  add (&v, "driver=raw,node-name=base,read-only=on,file.driver=file,file.filename=/dev/fdset/1");
  add_disk (&v, "root", 2, FD_ROOT_RO, FD_ROOT_RW, "qcow2", "base");
  add_disk (&v, "projects", 3, FD_PROJ_RO, FD_PROJ_RW, "raw", NULL);
  if (c->network)
    {
      char *netdev = sb_xstrdup ("user,id=net0,restrict=off");
      for (size_t i = 0; i < c->n_fwd; i++)
        {
          char *n = sb_xasprintf ("%s,hostfwd=%s:%s:%u-:%u", netdev, c->fwd[i].udp ? "udp" : "tcp",
                                  c->fwd[i].host_ip ? c->fwd[i].host_ip : "127.0.0.1", c->fwd[i].host_port,
                                  c->fwd[i].guest_port);
          free (netdev);
          netdev = n;
        }
      add (&v, "-netdev");
      add (&v, netdev);
      free (netdev);
      add (&v, "-device");
      add (&v, "virtio-net-device,netdev=net0");
    }
  if (c->incoming)
    {
      add (&v, "-incoming");
      addf (&v, "fd:%d", FD_INCOMING);
    }
  return v;
}

static int
open_at_fd (const char *path, int flags, int target, sb_err **err)
{
  int fd = open (path, flags | O_CLOEXEC);
  if (fd < 0)
    return sb_error (err, errno, "open `%s`", path);
  if (fd != target && dup2 (fd, target) < 0)
    return sb_error (err, errno, "dup2");
  if (fd != target)
    close (fd);
  return 0;
}

/* In the child: the fds, the uid, stdio to run_dir/qemu.log, exec.  */
static int
exec_qemu (const sb_microvm_cfg *c, char **argv, sb_err **err)
{
  int log;

  if (chdir (c->run_dir) < 0)
    return sb_error (err, errno, "chdir `%s`", c->run_dir);
  if (open_at_fd (c->vmlinux, O_RDONLY, FD_KERNEL, err) < 0
      || open_at_fd (c->initramfs, O_RDONLY, FD_INITRD, err) < 0
      || open_at_fd (c->base_disk, O_RDONLY, FD_BASE, err) < 0
      || open_at_fd (c->root_disk, O_RDONLY, FD_ROOT_RO, err) < 0
      || open_at_fd (c->root_disk, O_RDWR, FD_ROOT_RW, err) < 0
      || open_at_fd (c->projects_disk, O_RDONLY, FD_PROJ_RO, err) < 0
      || open_at_fd (c->projects_disk, O_RDWR, FD_PROJ_RW, err) < 0
      || (c->incoming && open_at_fd (c->incoming, O_RDONLY, FD_INCOMING, err) < 0))
    return -1;
  log = open ("qemu.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0 || dup2 (log, 1) < 0 || dup2 (log, 2) < 0)
    return sb_error (err, errno, "open `%s/qemu.log`", c->run_dir);
  if (sb_close_fds_from (c->incoming ? FD_COUNT : FD_INCOMING, (int[]){ REPORT_FD }, 1) < 0)
    return sb_error (err, errno, "close fds");
  for (int fd = FD_KERNEL; fd < (c->incoming ? FD_COUNT : FD_INCOMING); fd++)
    fcntl (fd, F_SETFD, 0);
  if (setgroups (0, NULL) < 0 || setresgid (c->gid, c->gid, c->gid) < 0
      || setresuid (c->uid, c->uid, c->uid) < 0)
    return sb_error (err, errno, "switch to uid %u", (unsigned)c->uid);
  prctl (PR_SET_PDEATHSIG, 0);
  execvp (argv[0], argv);
  return sb_error (err, errno, "exec %s (apt-get install qemu-system-x86)", argv[0]);
}

int
sb_microvm_launch (const sb_microvm_cfg *c, pid_t *pid, sb_err **err)
{
  _cleanup_strv_ char **argv = command_line (c);
  int p[2];
  char buf[1024];
  ssize_t n;
  pid_t child;

  if (pipe2 (p, O_CLOEXEC) < 0)
    return sb_error (err, errno, "pipe");
  child = fork ();
  if (child < 0)
    return sb_error (err, errno, "fork");
  if (child == 0)
    {
      /* Twice: QEMU belongs to init, not to this short-lived command.  */
      pid_t q;
      _cleanup_err_ sb_err *e = NULL;
      close (p[0]);
      setsid ();
      signal (SIGPIPE, SIG_DFL);
      q = fork ();
      if (q != 0)
        {
          sb_write_all (p[1], &q, sizeof (q));
          _exit (q < 0);
        }
      if (dup2 (p[1], REPORT_FD) < 0)
        _exit (1);
      close (p[1]);
      /* The report pipe stays open (cloexec) until exec succeeds.  */
      fcntl (REPORT_FD, F_SETFD, FD_CLOEXEC);
      exec_qemu (c, argv, &e);
      sb_write_all (REPORT_FD, e ? e->msg : "exec failed", strlen (e ? e->msg : "exec failed"));
      _exit (127);
    }
  close (p[1]);
  waitpid (child, NULL, 0);
  n = sb_read_all (p[0], pid, sizeof (*pid));
  if (n != sizeof (*pid) || *pid <= 0)
    {
      close (p[0]);
      return sb_error (err, 0, "fork QEMU");
    }
  n = sb_read_all (p[0], buf, sizeof (buf) - 1);
  close (p[0]);
  if (n > 0)
    {
      buf[n] = '\0';
      return sb_error (err, 0, "start QEMU: %s", buf);
    }
  return 0;
}
