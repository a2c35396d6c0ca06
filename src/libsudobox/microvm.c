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
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netif.h"
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
  FD_NET, /* QEMU's end of the socketpair whose other end passt serves */
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

/* The user-mode network, two NICs.  The first is the network: the guest
   is 10.0.2.15/24 behind 10.0.2.2 with DNS at 10.0.2.3, served by passt on
   the other end of a socket of QEMU's, as the same uid, with the host's
   loopback not mapped into the guest (--no-map-gw): the workspace reaches
   the network, not the host's local services.  passt exits when QEMU
   closes its end.  The second carries published ports only: QEMU's slirp
   with restrict=on (the guest cannot open connections through it, to the
   host or anywhere) and a hostfwd per port to the guest's address on it.
   (This passt, 2023-03, exits on its first inbound connection, so its own
   port forwarding cannot serve.)  Both NICs exist whether ports are
   published or not: a snapshot restores onto the same devices.  */
static bool
uses_passt (const sb_microvm_cfg *c)
{
  return c->network;
}

static void
add_network (char ***v, const sb_microvm_cfg *c)
{
  _cleanup_free_ char *netdev = sb_xstrdup ("user,id=net1,restrict=on,net=" SB_AGENT_PUBLISH_NET);

  if (!c->network)
    return;
  for (size_t i = 0; i < c->n_fwd; i++)
    {
      char *n = sb_xasprintf ("%s,hostfwd=%s:%s:%u-%s:%u", netdev, c->fwd[i].udp ? "udp" : "tcp",
                              c->fwd[i].host_ip ? c->fwd[i].host_ip : "127.0.0.1", c->fwd[i].host_port,
                              SB_AGENT_PUBLISH_GUEST, c->fwd[i].guest_port);
      free (netdev);
      netdev = n;
    }
  add (v, "-netdev");
  addf (v, "stream,id=net0,addr.type=fd,addr.str=%d", FD_NET);
  add (v, "-device");
  add (v, "virtio-net-device,netdev=net0");
  add (v, "-netdev");
  add (v, netdev);
  add (v, "-device");
  add (v, "virtio-net-device,netdev=net1,mac=" SB_AGENT_PUBLISH_MAC);
}

static char **
passt_command_line (void)
{
  char **v = NULL;
  const char *passt = secure_getenv ("SUDOBOX_PASST");
  static const char *const fixed[]
      = { "-f",       "-F",        "3",  "-4",       "-a",          "10.0.2.15",
          "-n",       "24",        "-g", "10.0.2.2", "--no-map-gw", "--dns-forward",
          SB_NET_DNS, "--no-dhcp", "-t", "none",     "-u",          "none",
          NULL };

  add (&v, passt && *passt ? passt : "passt");
  for (size_t i = 0; fixed[i]; i++)
    add (&v, fixed[i]);
  return v;
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
  add_network (&v, c);
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

static int
drop_to (const sb_microvm_cfg *c, sb_err **err)
{
  if (setgroups (0, NULL) < 0 || setresgid (c->gid, c->gid, c->gid) < 0
      || setresuid (c->uid, c->uid, c->uid) < 0)
    return sb_error (err, errno, "switch to uid %u", (unsigned)c->uid);
  return 0;
}

/* In a child: passt with its end of the socket at fd 3.  */
static _Noreturn void
exec_passt (const sb_microvm_cfg *c, int sock)
{
  _cleanup_strv_ char **argv = passt_command_line ();
  int log;

  if (chdir (c->run_dir) < 0 || dup2 (sock, 3) < 0)
    _exit (127);
  log = open ("passt.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0 || dup2 (log, 1) < 0 || dup2 (log, 2) < 0 || sb_close_fds_from (4, NULL, 0) < 0
      || drop_to (c, NULL) < 0)
    _exit (127);
  execvp (argv[0], argv);
  dprintf (2, "exec %s: %s (apt-get install passt)\n", argv[0], strerror (errno));
  _exit (127);
}

/* In the child: the fds, the uid, stdio to run_dir/qemu.log, exec.  */
static int
exec_qemu (const sb_microvm_cfg *c, char **argv, int net, sb_err **err)
{
  int log;

  if (net >= 0 && net != FD_NET && (dup2 (net, FD_NET) < 0 || close (net) < 0))
    return sb_error (err, errno, "dup2");
  if (net < 0)
    close (FD_NET);
  if (!c->incoming)
    close (FD_INCOMING);
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
  if (sb_close_fds_from (FD_COUNT, (int[]){ REPORT_FD }, 1) < 0)
    return sb_error (err, errno, "close fds");
  for (int fd = FD_KERNEL; fd < FD_COUNT; fd++)
    fcntl (fd, F_SETFD, 0);
  if (drop_to (c, err) < 0)
    return -1;
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
      int net[2] = { -1, -1 }, pair[2];
      close (p[0]);
      setsid ();
      signal (SIGPIPE, SIG_DFL);
      /* Above every fd number the children place their fds at.  */
      if (uses_passt (c))
        {
          if (socketpair (AF_UNIX, SOCK_STREAM, 0, pair) < 0 || (net[0] = fcntl (pair[0], F_DUPFD, 200)) < 0
              || (net[1] = fcntl (pair[1], F_DUPFD, 200)) < 0)
            _exit (1);
          close (pair[0]);
          close (pair[1]);
        }
      if (uses_passt (c) && fork () == 0)
        exec_passt (c, net[1]);
      if (net[1] >= 0)
        close (net[1]);
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
      exec_qemu (c, argv, net[0], &e);
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
