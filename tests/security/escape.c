/* The escape battery: run as root inside a workspace (after `sudo -n`), it
   makes every attempt the threat model lists (docs/security.md) and prints
   one TAP line per attempt: "ok" when the attempt was blocked or, for what
   the policy allows inside, when its outcome stayed harmless.  The host side
   (tests/security/battery.bats) checks afterwards that the host is unchanged.

     escape [KEY=VALUE...] GROUP...
   GROUP: all (every in-process group), fs, runtime, kernel, cgroup, dev,
   mount, module, ns, proc, net, link, or one of the modes run on their own:
   exe-race SECONDS, tty-inject, kill-all, fork-bomb LIMIT, balloon MB, crash.
   KEY: canary (a host file), state (the host state root), hostns (inodes of
   the host's namespaces, comma-separated), hostpid (a host pid), port (a
   service on the host's 127.0.0.1), hostifs (host interface names), key (a
   key description in the host's root keyrings), other (the host path of
   another workspace's /projects), otherpid (its init's host pid),
   delegated (1 where the mode delegates the cgroup subtree: system), guest
   (1 where the workspace has a kernel of its own: microvm), nested (1 when
   run in a container a nested engine started inside a workspace:
   battery-nested.bats).

   Built static so it runs in any rootfs.  */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <linux/userfaultfd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#include "escape.h"

static int n_tests, n_failed;
const char *canary, *state, *hostns, *hostifs, *keydesc, *other;
long hostpid, otherpid, port, delegated, guest, nested;
/* Set while the attempts of a group only reach the kernel the workspace
   runs on: in a guest (microvm) that kernel is the workspace's own, so what
   succeeds there is contained and reported as such; the host side checks
   that nothing reached the host.  */
bool guest_scope;

/* One TAP line.  blocked: the attempt failed (or its outcome is harmless).  */
void __attribute__ ((format (printf, 3, 4))) result (bool blocked, const char *name, const char *fmt, ...)
{
  char detail[512] = "";
  const char *where = "";
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (detail, sizeof detail, fmt, ap);
  va_end (ap);
  n_tests++;
  if (!blocked && guest_scope)
    {
      blocked = true;
      where = "contained in the guest kernel: ";
    }
  if (!blocked)
    n_failed++;
  printf ("%sok %d - %s # %s%s\n", blocked ? "" : "not ", n_tests, name, where, detail);
  fflush (stdout);
}

/* "EPERM" style name of the errno of a failed call, "succeeded" otherwise.  */
const char *
outcome (int r)
{
  static char buf[64];
  if (r >= 0)
    return "succeeded";
  snprintf (buf, sizeof buf, "%s", strerrorname_np (errno) ? strerrorname_np (errno) : "?");
  return buf;
}

int
write_file (const char *path, const char *data)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  ssize_t n;
  if (fd < 0)
    return -1;
  n = write (fd, data, strlen (data));
  int saved = errno;
  close (fd);
  errno = saved;
  return n < 0 ? -1 : 0;
}

ssize_t
read_file (const char *path, char *buf, size_t size)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n;
  if (fd < 0)
    return -1;
  n = read (fd, buf, size - 1);
  close (fd);
  buf[n > 0 ? n : 0] = '\0';
  return n;
}

/* Runs fn in a child; returns its exit status (0 = blocked).  */
int
in_child (int (*fn) (void *), void *arg)
{
  int status;
  pid_t pid = fork ();
  if (pid == 0)
    _exit (fn (arg));
  if (pid < 0 || waitpid (pid, &status, 0) < 0)
    return 99;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

/* The stronger attacker: a nested user namespace (allowed by the policy)
   with full capabilities over new mount (and optionally pid, net, cgroup)
   namespaces of its own.  Called in a child.  */
int
enter_nested (int extra)
{
  char map[64];
  uid_t uid = getuid ();
  gid_t gid = getgid ();
  if (unshare (CLONE_NEWUSER | CLONE_NEWNS | extra) < 0)
    return -1;
  write_file ("/proc/self/setgroups", "deny");
  snprintf (map, sizeof map, "0 %u 1", uid);
  if (write_file ("/proc/self/uid_map", map) < 0)
    return -1;
  snprintf (map, sizeof map, "0 %u 1", gid);
  return write_file ("/proc/self/gid_map", map);
}

/* A path that reaches the host canary from a directory fd of unknown depth.  */
bool
canary_reachable_from (int dirfd)
{
  char path[4096] = "";
  int fd;
  for (int i = 0; i < 40; i++)
    strcat (path, "../");
  strcat (path, canary + 1);
  fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0)
    close (fd);
  return fd >= 0;
}

int
main (int argc, char **argv)
{
  int i = 1;
  for (; i < argc && strchr (argv[i], '='); i++)
    {
      char *v = strchr (argv[i], '=') + 1;
      if (!strncmp (argv[i], "canary=", 7))
        canary = v;
      else if (!strncmp (argv[i], "state=", 6))
        state = v;
      else if (!strncmp (argv[i], "hostns=", 7))
        hostns = v;
      else if (!strncmp (argv[i], "hostpid=", 8))
        hostpid = atol (v);
      else if (!strncmp (argv[i], "otherpid=", 9))
        otherpid = atol (v);
      else if (!strncmp (argv[i], "delegated=", 10))
        delegated = atol (v);
      else if (!strncmp (argv[i], "guest=", 6))
        guest = atol (v);
      else if (!strncmp (argv[i], "nested=", 7))
        nested = atol (v);
      else if (!strncmp (argv[i], "port=", 5))
        port = atol (v);
      else if (!strncmp (argv[i], "hostifs=", 8))
        hostifs = v;
      else if (!strncmp (argv[i], "key=", 4))
        keydesc = v;
      else if (!strncmp (argv[i], "other=", 6))
        other = v;
      else
        {
          fprintf (stderr, "escape: unknown setting %s\n", argv[i]);
          return 2;
        }
    }
  if (i == argc)
    {
      fprintf (stderr, "usage: escape [KEY=VALUE...] GROUP...\n");
      return 2;
    }
  if (!canary)
    canary = "/nonexistent-canary";
  if (!state)
    state = "/var/lib/sudobox";
  if (!keydesc)
    keydesc = "battery-host-secret";
  if (!other)
    other = "/nonexistent-other";
  setvbuf (stdout, NULL, _IOLBF, 0);
  for (; i < argc; i++)
    {
      const char *g = argv[i];
      bool all = strcmp (g, "all") == 0;
      if (all || !strcmp (g, "fs"))
        group_fs ();
      if (all || !strcmp (g, "runtime"))
        group_runtime ();
      guest_scope = guest;
      if (all || !strcmp (g, "kernel"))
        kernel_settings ();
      if (all || !strcmp (g, "cgroup"))
        cgroup_attempts ();
      if (all || !strcmp (g, "dev"))
        dev_attempts ();
      if (all || !strcmp (g, "mount"))
        mount_attempts ();
      if (all || !strcmp (g, "module"))
        module_attempts ();
      if (all || !strcmp (g, "ns"))
        group_ns ();
      if (all || !strcmp (g, "crash"))
        mode_crash ();
      guest_scope = false;
      if (all || !strcmp (g, "proc"))
        proc_attempts ();
      if (all || !strcmp (g, "net"))
        net_attempts ();
      if (all || !strcmp (g, "link"))
        link_attempts ();
      if (!strcmp (g, "exe-race") && i + 1 < argc)
        mode_exe_race (atoi (argv[++i]));
      else if (!strcmp (g, "tty-inject"))
        mode_tty_inject ();
      else if (!strcmp (g, "kill-all"))
        mode_kill_all ();
      else if (!strcmp (g, "fork-bomb") && i + 1 < argc)
        mode_fork_bomb (atol (argv[++i]));
      else if (!strcmp (g, "balloon") && i + 1 < argc)
        mode_balloon (atol (argv[++i]));
    }
  printf ("1..%d\n# %d attempts, %d blocked, %d succeeded\n", n_tests, n_tests, n_tests - n_failed, n_failed);
  return n_failed ? 1 : 0;
}
