/* Attempts through mounts, namespaces, processes, the network, links,
   exhaustion and the terminal (see escape.h).  */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/magic.h>
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
#include <sys/statfs.h>
#include <sys/statvfs.h>
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

/* ---- mounts --------------------------------------------------------------- */

/* One level down, a privileged container's /sys/fs/cgroup is a writable
   tmpfs its engine mounted inside the workspace (what is below it is the
   cgroup attempts' business): not a read-only path of sudobox's.  */
static bool
nested_engine_tmpfs (const char *path)
{
  struct statfs sf;
  return nested && strcmp (path, "/sys/fs/cgroup") == 0 && statfs (path, &sf) == 0 && sf.f_type == TMPFS_MAGIC
         && !(sf.f_flags & ST_RDONLY);
}

static int
remount_rw (void *userns)
{
  const char *paths[] = { "/proc/sys", "/sys", "/sys/fs/cgroup", "/run/sudobox/init", "/battery", NULL };
  int done = 0;
  if (userns && enter_nested (0) < 0)
    return 0;
  for (int i = 0; paths[i]; i++)
    if (!nested_engine_tmpfs (paths[i]) && mount (NULL, paths[i], NULL, MS_REMOUNT | MS_BIND, NULL) == 0
        && access (paths[i], W_OK) == 0)
      {
        fprintf (stderr, "remounted %s rw\n", paths[i]);
        done++;
      }
  return done;
}

static int
unmask (void *nested)
{
  const char *masked[]
      = { "/proc/kcore", "/proc/keys", "/proc/sched_debug", "/proc/timer_list", "/sys/firmware", NULL };
  int done = 0;
  if (nested && enter_nested (0) < 0)
    return 0;
  for (int i = 0; masked[i]; i++)
    if (umount2 (masked[i], MNT_DETACH) == 0)
      {
        fprintf (stderr, "unmounted %s\n", masked[i]);
        done++;
      }
  /* Moving the mask away reveals what it hides as well.  */
  mkdir ("/tmp/battery-move", 0700);
  if (mount ("/proc/sched_debug", "/tmp/battery-move", NULL, MS_MOVE, NULL) == 0)
    done++;
  return done;
}

static int
fresh_fs (void *kind)
{
  bool proc = strcmp (kind, "proc") == 0;
  if (enter_nested (proc ? CLONE_NEWPID : CLONE_NEWNET) < 0)
    return 0;
  /* A new pid namespace applies to children only.  */
  if (proc)
    {
      int status;
      pid_t pid = fork ();
      if (pid != 0)
        return pid < 0 || waitpid (pid, &status, 0) < 0 ? 0 : WEXITSTATUS (status);
    }
  mkdir ("/tmp/battery-fresh", 0700);
  if (mount (kind, "/tmp/battery-fresh", kind, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    _exit (0);
  /* Mounted: harmless only if what the masks hide is still out of reach.  */
  char buf[256];
  _exit (read_file (proc ? "/tmp/battery-fresh/sched_debug" : "/tmp/battery-fresh/firmware/dmi/tables/DMI",
                    buf, sizeof buf)
         > 0);
}

static int
bind_host (void *nested)
{
  const char *srcs[] = { "/proc/1/root", "/proc/1/cwd", "/proc/self/root/..", "/", NULL };
  int reached = 0;
  if (nested && enter_nested (0) < 0)
    return 0;
  mkdir ("/tmp/battery-bind", 0700);
  for (int i = 0; srcs[i]; i++)
    if (mount (srcs[i], "/tmp/battery-bind", NULL, MS_BIND | MS_REC, NULL) == 0)
      {
        int fd = open ("/tmp/battery-bind", O_RDONLY | O_DIRECTORY);
        if (fd >= 0 && canary_reachable_from (fd))
          reached++;
        if (fd >= 0)
          close (fd);
        umount2 ("/tmp/battery-bind", MNT_DETACH);
      }
  return reached;
}

void
mount_attempts (void)
{
  const char *cg = nested_engine_tmpfs ("/sys/fs/cgroup")
                       ? " (nested: /sys/fs/cgroup is the nested engine's own writable tmpfs, skipped)"
                       : "";
  result (in_child (remount_rw, NULL) == 0, "remount a read-only path read-write", "direct%s", cg);
  result (in_child (remount_rw, (void *)1) == 0, "remount a read-only path read-write",
          "from a nested user+mount namespace%s", cg);
  result (in_child (unmask, NULL) == 0, "unmount or move a masked path", "direct");
  result (in_child (unmask, (void *)1) == 0, "unmount or move a masked path",
          "from a nested user+mount namespace");
  result (in_child (fresh_fs, "proc") == 0, "mount a fresh proc around the masks",
          "nested user+pid+mount namespace");
  result (in_child (fresh_fs, "sysfs") == 0, "mount a fresh sysfs around the masks",
          "nested user+net+mount namespace");
  result (in_child (bind_host, NULL) == 0, "bind a host path", "direct");
  result (in_child (bind_host, (void *)1) == 0, "bind a host path", "from a nested user+mount namespace");
}

/* ---- namespaces ----------------------------------------------------------- */

static bool
is_host_ns (unsigned long ino)
{
  char buf[64];
  const char *p = hostns;
  while (p && *p)
    {
      size_t n = strcspn (p, ",");
      snprintf (buf, sizeof buf, "%.*s", (int)n, p);
      if (strtoul (buf, NULL, 10) == ino)
        return true;
      p += n + (p[n] == ',');
    }
  return false;
}

static void
ns_host_fds (void)
{
  DIR *d = opendir ("/proc");
  struct dirent *de;
  int tried = 0, host = 0, joined = 0;
  char which[256] = "";
  while (d && (de = readdir (d)))
    {
      const char *kinds[]
          = { "ns/mnt", "ns/pid", "ns/net", "ns/user", "ns/uts", "ns/ipc", "ns/cgroup", "ns/time", NULL };
      if (de->d_name[0] < '0' || de->d_name[0] > '9')
        continue;
      for (int i = 0; kinds[i]; i++)
        {
          char p[300];
          struct stat st;
          snprintf (p, sizeof p, "/proc/%s/%s", de->d_name, kinds[i]);
          int fd = open (p, O_RDONLY | O_CLOEXEC);
          if (fd < 0)
            continue;
          tried++;
          /* The time namespace is shared with the host by policy (no
             spec asks for one): joining it changes nothing and needs
             CAP_SYS_ADMIN over the host's user namespace anyway.  */
          if (fstat (fd, &st) == 0 && is_host_ns (st.st_ino) && strcmp (kinds[i], "ns/time") != 0)
            {
              host++;
              if (strlen (which) + strlen (p) + 2 < sizeof which)
                strcat (strcat (which, " "), p);
              /* Joining in a child: a success is the escape itself.  */
              pid_t pid = fork ();
              if (pid == 0)
                _exit (setns (fd, 0) == 0);
              int status;
              waitpid (pid, &status, 0);
              joined += WIFEXITED (status) && WEXITSTATUS (status) == 1;
            }
          close (fd);
        }
    }
  if (d)
    closedir (d);
  result (host == 0 && joined == 0, "setns into a host namespace through /proc",
          "%d namespace files (time excluded), %d are the host's%s, %d joined", tried, host, which, joined);
}

static int
nested_userns (void *unused)
{
  char map[64];
  (void)unused;
  if (unshare (CLONE_NEWUSER) < 0)
    return 2;
  write_file ("/proc/self/setgroups", "deny");
  /* Ids 65536 and up do not exist in the workspace's namespace: a map
     naming them (host root included) must be refused.  */
  snprintf (map, sizeof map, "0 %u 1", 65536);
  if (write_file ("/proc/self/uid_map", map) == 0)
    return 1;
  return write_file ("/proc/self/uid_map", "0 0 1") == 0 ? 0 : 3;
}

static long
keyctl (int op, unsigned long a, unsigned long b, unsigned long c, unsigned long d)
{
  return syscall (SYS_keyctl, op, a, b, c, d);
}

static void
ns_keys (void)
{
  const long rings[] = { KEY_SPEC_SESSION_KEYRING, KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING };
  int found = 0, added = 0;
  long r;
  for (int i = 0; i < 3; i++)
    if (keyctl (KEYCTL_SEARCH, rings[i], (unsigned long)"user", (unsigned long)keydesc, 0) >= 0)
      found++;
  result (found == 0, "keyctl search for a key of the host's root", "%s: found in %d keyrings", keydesc,
          found);
  /* Filling: the quota belongs to the workspace's host uid, not to root.  */
  for (int i = 0; i < 1000; i++)
    {
      char desc[32];
      snprintf (desc, sizeof desc, "battery-fill-%d", i);
      r = syscall (SYS_add_key, "user", desc, "x", 1, KEY_SPEC_SESSION_KEYRING);
      if (r < 0)
        break;
      added++;
    }
  result (added < 1000, "fill keyrings", "%d keys added before %s (quota of the workspace's uid)", added,
          outcome (-1));
  keyctl (KEYCTL_CLEAR, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
}

static void
ns_bpf_perf_uffd (void)
{
  struct bpf_insn prog[]
      = { { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 }, { .code = BPF_JMP | BPF_EXIT } };
  union bpf_attr a = { 0 };
  struct perf_event_attr pe
      = { .type = PERF_TYPE_SOFTWARE, .size = sizeof pe, .config = PERF_COUNT_SW_CPU_CLOCK };
  long r;

  a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  a.insns = (uintptr_t)prog;
  a.insn_cnt = 2;
  a.license = (uintptr_t) "GPL";
  r = syscall (SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
  result (r < 0, "bpf(BPF_PROG_LOAD)", "%s", outcome (r));
  /* Policy: profiling its own user space follows the host's
     perf_event_paranoid; system-wide and kernel profiling are refused.  */
  r = syscall (SYS_perf_event_open, &pe, -1, 0, -1, 0);
  result (r < 0, "perf_event_open system-wide (all processes on cpu 0)", "%s", outcome (r));
  pe.exclude_kernel = 0;
  r = syscall (SYS_perf_event_open, &pe, 0, -1, -1, 0);
  result (r < 0, "perf_event_open with kernel sampling", "%s", outcome (r));
  r = syscall (SYS_userfaultfd, O_CLOEXEC);
  result (r < 0, "userfaultfd handling kernel faults", "%s", outcome (r));
  if (r >= 0)
    close (r);
  /* Open to any uid by the kernel, refused by the workspace's default
     seccomp profile (the kernel surface of most recent escalations) with
     EPERM, or ENOSYS by a nested runtime's profile stacked on it.  */
  r = syscall (SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
  result (r < 0 && (errno == EPERM || errno == ENOSYS),
          "userfaultfd, user-mode faults only (seccomp profile)", "%s", outcome (r));
  if (r >= 0)
    close (r);
  {
    uint32_t params[30] = { 0 }; /* struct io_uring_params: 120 bytes */
    r = syscall (SYS_io_uring_setup, 1, params);
    result (r < 0 && (errno == EPERM || errno == ENOSYS), "io_uring_setup (seccomp profile)", "%s",
            outcome (r));
    if (r >= 0)
      close (r);
  }
}

void
group_ns (void)
{
  int r;
  ns_host_fds ();
  r = in_child (nested_userns, NULL);
  result (r == 0 || r == 2, "nested user namespace cannot map host root",
          r == 0   ? "allowed; only the workspace's ids are mappable"
          : r == 2 ? "unshare refused"
          : r == 1 ? "a map beyond the workspace's 65536 ids was accepted"
                   : "mapping the workspace's root failed");
  ns_keys ();
  ns_bpf_perf_uffd ();
}

/* ---- processes ------------------------------------------------------------ */

void
proc_attempts (void)
{
  struct stat own, st;
  DIR *d = opendir ("/proc");
  struct dirent *de;
  int outside = 0, r;
  char buf[16];
  struct iovec local = { buf, sizeof buf }, remote = { (void *)0x400000, sizeof buf };

  stat ("/proc/self/ns/pid", &own);
  while (d && (de = readdir (d)))
    {
      char p[300];
      if (de->d_name[0] < '0' || de->d_name[0] > '9')
        continue;
      snprintf (p, sizeof p, "/proc/%s/ns/pid", de->d_name);
      if (stat (p, &st) == 0 && st.st_ino != own.st_ino)
        outside++;
    }
  if (d)
    closedir (d);
  result (outside == 0, "see processes outside the workspace", "%d foreign pid namespaces in /proc", outside);
  for (int k = 0; k < 2; k++)
    {
      long pid = k ? otherpid : hostpid;
      const char *who = k ? "another workspace's init" : "a host process";
      char p[64];
      if (pid <= 0)
        continue;
      snprintf (p, sizeof p, "/proc/%ld", pid);
      if (access (p, F_OK) == 0)
        {
          /* The same number names one of our own processes here.  */
          result (true, "signal/ptrace/process_vm_readv outside", "pid %ld is a workspace process here", pid);
          continue;
        }
      r = kill (pid, SIGKILL);
      result (r < 0, "signal a process outside", "%s (%ld): %s", who, pid, outcome (r));
      r = ptrace (PTRACE_ATTACH, pid, NULL, NULL);
      result (r < 0, "ptrace a process outside", "%s: %s", who, outcome (r));
      r = process_vm_readv (pid, &local, 1, &remote, 1, 0);
      result (r < 0, "process_vm_readv a process outside", "%s: %s", who, outcome (r));
    }
}

void
mode_kill_all (void)
{
  /* Everything but init and ourselves in the pid namespace; the host checks
     its sentinels (one running as the workspace's own host uid).  */
  int r = kill (-1, SIGKILL);
  result (true, "kill -9 -1", "%s (host sentinels checked outside)", outcome (r));
}

/* ---- network -------------------------------------------------------------- */

void
net_attempts (void)
{
  /* 10.0.3.2: a microvm's gateway on the NIC of published ports.  */
  const char *addrs[] = { "127.0.0.1", "10.0.2.2", "10.0.2.3", "10.0.3.2", NULL };
  char via[64] = "";
  int reached = 0, r;
  struct if_nameindex *ifs = if_nameindex ();
  int hostif = 0;
  char names[256] = "";

  for (int i = 0; addrs[i]; i++)
    {
      struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port) };
      int s = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      inet_pton (AF_INET, addrs[i], &sa.sin_addr);
      struct timeval tv = { 2, 0 };
      setsockopt (s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      if (connect (s, (struct sockaddr *)&sa, sizeof sa) == 0)
        {
          char b[64] = "";
          struct timeval rt = { 1, 0 };
          setsockopt (s, SOL_SOCKET, SO_RCVTIMEO, &rt, sizeof rt);
          /* slirp accepts first and connects later: only data counts.  */
          if (read (s, b, sizeof b - 1) > 0 && strstr (b, "battery-host-secret"))
            {
              reached++;
              strcat (strcat (via, " "), addrs[i]);
            }
        }
      close (s);
    }
  result (reached == 0, "reach a service on the host's 127.0.0.1",
          "port %ld via 127.0.0.1, 10.0.2.2, 10.0.2.3, 10.0.3.2; reached via:%s", port,
          reached ? via : " none");
  /* Interface names in a guest are the guest's own devices.  */
  guest_scope = guest;
  for (struct if_nameindex *i = ifs; i && i->if_index; i++)
    {
      snprintf (names + strlen (names), sizeof names - strlen (names), " %s", i->if_name);
      char pat[IF_NAMESIZE + 2];
      snprintf (pat, sizeof pat, ",%s,", i->if_name);
      char list[512];
      snprintf (list, sizeof list, ",%s,", hostifs ? hostifs : "");
      if (strcmp (i->if_name, "lo") != 0 && strstr (list, pat))
        hostif++;
    }
  if (ifs)
    if_freenameindex (ifs);
  /* A nested engine names its containers' veths eth0 like many hosts do:
     a shared name is harmless in a network namespace that is not the
     host's.  */
  struct stat netns;
  bool own_netns = stat ("/proc/self/ns/net", &netns) == 0 && !is_host_ns (netns.st_ino);
  if (nested && hostif && own_netns)
    {
      result (true, "see host interfaces",
              "interfaces:%s (nested: %d names shared with host interfaces, own network namespace %lu)",
              names, hostif, (unsigned long)netns.st_ino);
    }
  else
    result (hostif == 0, "see host interfaces", "interfaces:%s", names);
  /* Raw sockets are allowed (CAP_NET_RAW over the own network namespace):
     binding one to a host interface must fail.  */
  int s = socket (AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons (0x0003));
  int bound = 0;
  const char *p = hostifs;
  while (s >= 0 && p && *p)
    {
      size_t n = strcspn (p, ",");
      char name[IF_NAMESIZE] = "";
      snprintf (name, sizeof name, "%.*s", (int)n, p);
      unsigned idx = if_nametoindex (name);
      struct sockaddr_ll ll
          = { .sll_family = AF_PACKET, .sll_protocol = htons (0x0003), .sll_ifindex = (int)idx };
      if (idx && strcmp (name, "lo") != 0 && bind (s, (struct sockaddr *)&ll, sizeof ll) == 0)
        bound++;
      p += n + (p[n] == ',');
    }
  r = s;
  if (nested && bound && own_netns)
    result (
        true, "raw socket on a host interface",
        "AF_PACKET socket %s, bound to %d interfaces named like host ones (nested: in the container's own "
        "network namespace)",
        outcome (r), bound);
  else
    result (bound == 0, "raw socket on a host interface", "AF_PACKET socket %s, bound to %d host interfaces",
            outcome (r), bound);
  guest_scope = false;
  if (s >= 0)
    close (s);
}

/* ---- links and other workspaces ------------------------------------------- */

void
link_attempts (void)
{
  const char *host_files[] = { "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/run/sudobox/init", NULL };
  const char *dirs[] = { "/tmp", "/projects", NULL };
  int linked = 0, fd;
  char p[4096];
  for (int i = 0; host_files[i]; i++)
    for (int d = 0; dirs[d]; d++)
      {
        snprintf (p, sizeof p, "%s/battery-link-%d", dirs[d], i);
        if (link (host_files[i], p) == 0)
          {
            linked++;
            unlink (p);
          }
      }
  /* In a guest these files are the guest's own, not host files.  */
  guest_scope = guest;
  result (linked == 0, "hardlink host files into the workspace", "%d links made", linked);
  guest_scope = false;
  snprintf (p, sizeof p, "%s/battery-other", other);
  fd = open (p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  result (fd < 0, "write another workspace's /projects by its host path", "%s", outcome (fd));
  if (fd >= 0)
    close (fd);
}

/* ---- exhaustion ----------------------------------------------------------- */

/* pids.current of the cgroup this process is in: its v1 pids hierarchy,
   else its v2 one (a microvm guest).  */
static void
pids_current (char *out, size_t n)
{
  char line[512], path[600] = "";
  FILE *f = fopen ("/proc/self/cgroup", "re");

  while (f && fgets (line, sizeof line, f))
    {
      char *ctrls = strchr (line, ':'), *cg = ctrls ? strchr (ctrls + 1, ':') : NULL;
      if (cg == NULL)
        continue;
      *cg++ = '\0';
      cg[strcspn (cg, "\n")] = '\0';
      if (strstr (ctrls + 1, "pids"))
        {
          snprintf (path, sizeof path, "/sys/fs/cgroup/pids%s/pids.current", cg);
          break;
        }
      if (ctrls[1] == '\0')
        snprintf (path, sizeof path, "/sys/fs/cgroup%s/pids.current", cg);
    }
  if (f)
    fclose (f);
  if (path[0] == '\0' || read_file (path, out, n) < 0)
    snprintf (out, n, "?");
  out[strcspn (out, "\n")] = '\0';
}

void
mode_fork_bomb (long limit)
{
  char cur[32];
  int made = 0, fork_errno = 0;
  /* Every child forks on until the limit stops it; the parent survives the
     SIGTERM that ends the bomb.  */
  signal (SIGTERM, SIG_IGN);
  for (int i = 0; i < 100000; i++)
    {
      pid_t pid = fork ();
      if (pid == 0)
        {
          signal (SIGTERM, SIG_DFL);
          for (;;)
            if (fork () < 0)
              pause ();
        }
      if (pid < 0)
        {
          fork_errno = errno;
          break;
        }
      made++;
    }
  sleep (1);
  pids_current (cur, sizeof cur);
  kill (0, SIGTERM);
  while (wait (NULL) > 0)
    ;
  errno = fork_errno;
  result (made < limit, "fork bomb stays under the pids limit",
          "%d direct children (limit %ld), pids.current %s, then %s", made, limit, cur, outcome (-1));
}

void
mode_balloon (long mb)
{
  /* Allocates and touches mb MiB in a child; the memory limit must kill it.  */
  int status = 0;
  pid_t pid = fork ();
  if (pid == 0)
    {
      for (long i = 0; i < mb; i++)
        {
          char *p = malloc (1 << 20);
          if (p == NULL)
            _exit (2);
          memset (p, 1, 1 << 20);
        }
      _exit (1);
    }
  waitpid (pid, &status, 0);
  result (!(WIFEXITED (status) && WEXITSTATUS (status) == 1), "memory balloon stays under the memory limit",
          "%ld MiB: child %s %d", mb, WIFSIGNALED (status) ? "killed by signal" : "exited",
          WIFSIGNALED (status) ? WTERMSIG (status) : WEXITSTATUS (status));
}

/* ---- terminal ------------------------------------------------------------- */

void
mode_tty_inject (void)
{
  const char *cmd = "echo battery-injected\n";
  int injected = 0, r;
  /* The terminal we were given may be the host's: make it our controlling
     terminal if it is not yet, then push input into it.  */
  if (!isatty (0))
    {
      result (true, "TIOCSTI into the caller's terminal", "stdin is not a terminal");
      return;
    }
  setsid ();
  ioctl (0, TIOCSCTTY, 0);
  for (const char *c = cmd; *c; c++)
    if (ioctl (0, TIOCSTI, c) == 0)
      injected++;
  result (true, "TIOCSTI into the caller's terminal",
          "%d bytes pushed into our own terminal (checked outside)", injected);
  char sub = 0; /* TIOCL_SETSEL needs a virtual console.  */
  r = ioctl (0, TIOCLINUX, &sub);
  result (r < 0, "TIOCLINUX", "%s", outcome (r));
}
