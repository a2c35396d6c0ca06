/* Attempts on the host's files, the runtime, kernel settings, cgroups,
   devices, modules and boot (see escape.h).  */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/reboot.h>
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

#include "escape.h"

/* ---- host filesystem ---------------------------------------------------- */

static void
fs_proc_roots (void)
{
  DIR *d = opendir ("/proc");
  struct dirent *de;
  int reached = 0, tried = 0;
  while (d && (de = readdir (d)))
    {
      char p[4096];
      if (de->d_name[0] < '0' || de->d_name[0] > '9')
        continue;
      for (int k = 0; k < 2; k++)
        {
          snprintf (p, sizeof p, "/proc/%s/%s%s", de->d_name, k ? "cwd/../../../../../../.." : "root",
                    canary);
          int fd = open (p, O_RDONLY | O_CLOEXEC);
          tried++;
          if (fd >= 0)
            {
              reached++;
              close (fd);
            }
        }
    }
  if (d)
    closedir (d);
  result (reached == 0, "host files through /proc/*/root and /proc/*/cwd",
          "%d paths tried, %d reached the canary", tried, reached);
}

static void
fs_leaked_fds (void)
{
  int open_fds = 0, reached = 0;
  char list[512] = "";
  for (int fd = 3; fd < 1024; fd++)
    {
      char l[64], target[256] = "";
      if (fcntl (fd, F_GETFD) < 0)
        continue;
      open_fds++;
      snprintf (l, sizeof l, "/proc/self/fd/%d", fd);
      if (readlink (l, target, sizeof target - 1) > 0 && strlen (list) < 400)
        snprintf (list + strlen (list), sizeof list - strlen (list), " %d=%s", fd, target);
      if (canary_reachable_from (fd))
        reached++;
    }
  result (reached == 0, "leaked fds reach the host (CVE-2024-21626)", "%d fds open beyond stdio:%s", open_fds,
          list);
}

static void
fs_shocker (void)
{
  /* ext4's root directory: inode 2, generation 0 (FILEID_INO32_GEN).  */
  struct
  {
    struct file_handle fh;
    uint32_t ino, gen;
  } h = { .fh = { .handle_bytes = 8, .handle_type = 1 }, .ino = 2, .gen = 0 };
  const char *mounts[] = { "/", "/projects", "/etc/hostname", "/run/sudobox/init", NULL };
  int opened = 0;
  char errs[256] = "";
  for (int i = 0; mounts[i]; i++)
    {
      int mfd = open (mounts[i], O_RDONLY | O_CLOEXEC), fd;
      if (mfd < 0)
        continue;
      fd = open_by_handle_at (mfd, &h.fh, O_RDONLY);
      snprintf (errs + strlen (errs), sizeof errs - strlen (errs), " %s:%s", mounts[i], outcome (fd));
      if (fd >= 0)
        {
          opened++;
          close (fd);
        }
      close (mfd);
    }
  /* A guest's handles name the guest's own filesystems.  */
  guest_scope = guest;
  result (opened == 0, "open_by_handle_at of the filesystem root (shocker)", "%s", errs);
  guest_scope = false;
}

void
group_fs (void)
{
  fs_proc_roots ();
  fs_leaked_fds ();
  fs_shocker ();
}

/* ---- the runtime ---------------------------------------------------------- */

static void
runtime_state_dir (void)
{
  char p[4096];
  snprintf (p, sizeof p, "%s/battery-was-here", state);
  int fd = open (p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  result (fd < 0, "write into the manager's state dir by its host path", "%s", outcome (fd));
  if (fd >= 0)
    close (fd);
}

/* True when the exe behind fd is a file of the workspace's own root
   filesystem (the link's path, looked up here, is the same inode, on the
   device of "/"): a workspace process that exited between our open and
   write leaves its binary writable, and root inside may rewrite its own
   rootfs.  Any other file counts, bind-mounted ones included.  */
static bool
own_file (const char *link, int fd)
{
  char target[4096];
  struct stat a, b, root;
  ssize_t n = readlink (link, target, sizeof target - 1);
  if (n <= 0)
    return false;
  target[n] = '\0';
  return fstat (fd, &a) == 0 && stat (target, &b) == 0 && stat ("/", &root) == 0 && a.st_dev == b.st_dev
         && a.st_ino == b.st_ino && a.st_dev == root.st_dev;
}

/* Writes through every /proc/PID/exe we can open for writing (a runtime or
   monitor entering the workspace would show up here).  */
static int
overwrite_exes (int *seen)
{
  DIR *d = opendir ("/proc");
  struct dirent *de;
  int written = 0;
  while (d && (de = readdir (d)))
    {
      char p[300];
      int fd;
      if (de->d_name[0] < '0' || de->d_name[0] > '9' || atoi (de->d_name) == getpid ())
        continue;
      snprintf (p, sizeof p, "/proc/%s/exe", de->d_name);
      (*seen)++;
      fd = open (p, O_WRONLY | O_CLOEXEC);
      if (fd < 0)
        continue;
      if (!own_file (p, fd) && write (fd, "#!/bin/sh\necho pwned\n", 21) > 0)
        written++;
      close (fd);
    }
  if (d)
    closedir (d);
  return written;
}

static void
runtime_exe (void)
{
  int seen = 0, written = overwrite_exes (&seen);
  int fd = open ("/run/sudobox/init", O_WRONLY | O_CLOEXEC);
  result (written == 0, "overwrite running binaries through /proc/*/exe", "%d exe links tried", seen);
  result (fd < 0, "write the bind-mounted sudobox-init", "%s", outcome (fd));
  if (fd >= 0)
    close (fd);
}

void
mode_exe_race (int seconds)
{
  time_t end = time (NULL) + seconds;
  int seen = 0, written = 0;
  while (time (NULL) < end && written == 0)
    written += overwrite_exes (&seen);
  result (written == 0, "overwrite the runtime through /proc/PID/exe while it runs (CVE-2019-5736)",
          "%d exe links tried in %d s", seen, seconds);
}

void
group_runtime (void)
{
  runtime_state_dir ();
  runtime_exe ();
}

/* ---- kernel settings ------------------------------------------------------ */

static void
try_write (const char *name, const char *path, const char *data)
{
  int r = write_file (path, data);
  result (r < 0, name, "write %s: %s", path, outcome (r));
}

/* Writes back the current value: a success is a hole, yet changes nothing.  */
static void
try_rewrite (const char *name, const char *path)
{
  char cur[256];
  if (read_file (path, cur, sizeof cur) < 0)
    {
      result (true, name, "%s not readable: %s", path, outcome (-1));
      return;
    }
  try_write (name, path, cur);
}

void
kernel_settings (void)
{
  struct timeval tv;
  struct timespec ts;
  int r;

  try_write ("core_pattern", "/proc/sys/kernel/core_pattern", "|/tmp/battery-core %p");
  try_write ("modprobe", "/proc/sys/kernel/modprobe", "/tmp/battery-modprobe");
  try_rewrite ("sysctl vm.swappiness", "/proc/sys/vm/swappiness");
  try_rewrite ("sysctl kernel.threads-max", "/proc/sys/kernel/threads-max");
  try_write ("sysrq-trigger", "/proc/sysrq-trigger", "h");
  try_rewrite ("/sys/kernel/uevent_helper", "/sys/kernel/uevent_helper");
  try_rewrite ("/sys/kernel/mm/transparent_hugepage/defrag", "/sys/kernel/mm/transparent_hugepage/defrag");
  gettimeofday (&tv, NULL);
  r = settimeofday (&tv, NULL);
  result (r < 0, "settimeofday", "%s", outcome (r));
  clock_gettime (CLOCK_REALTIME, &ts);
  r = clock_settime (CLOCK_REALTIME, &ts);
  result (r < 0, "clock_settime(CLOCK_REALTIME)", "%s", outcome (r));
  /* Allowed: the workspace has its own UTS namespace; the host checks that
     its own name did not change.  */
  r = sethostname ("battery-pwned", 13);
  result (true, "sethostname stays in the workspace", "%s (allowed inside; host name checked outside)",
          outcome (r));
}

void
mode_crash (void)
{
  struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
  int status = 0;
  pid_t pid = fork ();
  if (pid == 0)
    {
      setrlimit (RLIMIT_CORE, &rl);
      raise (SIGSEGV);
      _exit (0);
    }
  waitpid (pid, &status, 0);
  result (access ("/tmp/battery-core-ran", F_OK) < 0, "crash after the core_pattern attempt",
          "child %s, core helper did not run", WIFSIGNALED (status) ? "crashed" : "exited");
}

/* ---- cgroups -------------------------------------------------------------- */

/* Inside a cgroup namespace of its own, the policy lets a nested user
   namespace mount an existing v1 hierarchy: its root is the workspace's
   own cgroup.  Harmless only if release_agent cannot be set and neither the
   limits nor a new child cgroup can be written.  */
static int
cgroup_v1_mount (void *nested)
{
  const char *opts[] = { "memory", "pids", "rdma", "none,name=battery", NULL };
  int escaped = 0;
  mkdir ("/tmp/battery-cg", 0700);
  if (nested && enter_nested (CLONE_NEWCGROUP) < 0)
    return 0;
  for (int i = 0; opts[i]; i++)
    {
      if (mount ("cgroup", "/tmp/battery-cg", "cgroup", 0, opts[i]) < 0)
        continue;
      /* A real CVE-2022-0492 attempt: the agent runs on the host when the
         last process leaves a cgroup with notify_on_release.  */
      if (write_file ("/tmp/battery-cg/release_agent", "/tmp/battery-release-agent") == 0)
        escaped++;
      /* A child cgroup is the point of delegation (system mode): allowed
         there, its limits stay under the workspace's own.  */
      if (mkdir ("/tmp/battery-cg/battery", 0755) == 0)
        {
          escaped += !delegated;
          write_file ("/tmp/battery-cg/battery/notify_on_release", "1");
          rmdir ("/tmp/battery-cg/battery");
        }
      if (write_file ("/tmp/battery-cg/memory.limit_in_bytes", "-1") == 0
          || write_file ("/tmp/battery-cg/pids.max", "max") == 0)
        escaped++;
      fprintf (stderr, "mounted cgroup v1 %s: %d writes got through\n", opts[i], escaped);
      umount2 ("/tmp/battery-cg", MNT_DETACH);
    }
  return escaped;
}

/* Whether fd is a cgroup file root inside made: one level down, a nested
   engine creates the container's cgroup below the workspace's delegated one
   and may bind that cgroup on /sys/fs/cgroup/CONTROLLER.  Its owner is then
   an id of the workspace; the workspace's own limit files belong to host
   root, the overflow id here.  */
static bool
nested_own_cgroup_file (int fd)
{
  struct stat st;
  char overflow[32];
  if (!nested || fstat (fd, &st) < 0
      || read_file ("/proc/sys/kernel/overflowuid", overflow, sizeof overflow) <= 0)
    return false;
  return st.st_uid != (uid_t)atol (overflow);
}

void
cgroup_attempts (void)
{
  char found[512] = "";
  DIR *d;
  struct dirent *de;
  int writable = 0, own = 0;

  result (in_child (cgroup_v1_mount, NULL) == 0, "mount cgroup v1 + release_agent (CVE-2022-0492)", "direct");
  result (in_child (cgroup_v1_mount, (void *)1) == 0, "mount cgroup v1 + release_agent (CVE-2022-0492)",
          "from a nested user+cgroup namespace");
  /* Neither the limits of the workspace's cgroup nor release_agent can be
     written; cgroup.procs only where the subtree is delegated (system).  */
  d = opendir ("/sys/fs/cgroup");
  while (d && (de = readdir (d)))
    {
      const char *files[] = { "cgroup.procs", "pids.max", "memory.limit_in_bytes", "release_agent", NULL };
      for (int i = 0; files[i]; i++)
        {
          char p[512];
          snprintf (p, sizeof p, "/sys/fs/cgroup/%s/%s", de->d_name, files[i]);
          int fd = open (p, O_WRONLY | O_CLOEXEC);
          if (fd >= 0 && i > 0 && nested_own_cgroup_file (fd))
            {
              own++;
              close (fd);
              continue;
            }
          if (fd >= 0 && !(delegated && i == 0))
            {
              writable++;
              if (strlen (found) + strlen (p) + 2 < sizeof found)
                strcat (strcat (found, " "), p);
            }
          if (fd >= 0)
            close (fd);
        }
    }
  if (d)
    closedir (d);
  result (writable == 0, "write cgroup files (limits, cgroup.procs, release_agent)", "writable:%s%s",
          writable ? found : " none",
          own ? " (nested: the limits of the nested container's own cgroup, made by root inside below the "
                "workspace's, are writable)"
              : "");
}

/* ---- devices -------------------------------------------------------------- */

static int
mknod_attempt (void *nested)
{
  struct
  {
    const char *name;
    mode_t type;
    unsigned maj, min;
  } devs[] = { { "sda", S_IFBLK, 8, 0 },   { "vda", S_IFBLK, 254, 0 }, { "mem", S_IFCHR, 1, 1 },
               { "kmem", S_IFCHR, 1, 2 },  { "port", S_IFCHR, 1, 4 },  { "nvme", S_IFBLK, 259, 0 },
               { "kmsg", S_IFCHR, 1, 11 }, { NULL, 0, 0, 0 } };
  const char *dirs[] = { "/tmp", "/dev", "/dev/shm", "/projects", NULL };
  int opened = 0;
  if (nested && enter_nested (0) < 0)
    return 0;
  for (int d = 0; dirs[d]; d++)
    for (int i = 0; devs[i].name; i++)
      {
        char p[256];
        snprintf (p, sizeof p, "%s/battery-%s", dirs[d], devs[i].name);
        if (mknod (p, devs[i].type | 0600, makedev (devs[i].maj, devs[i].min)) < 0)
          continue;
        int fd = open (p, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
          {
            fprintf (stderr, "opened %s\n", p);
            opened++;
            close (fd);
          }
        unlink (p);
      }
  return opened;
}

static int
mount_host_block (void *nested)
{
  DIR *d = opendir ("/sys/class/block");
  struct dirent *de;
  int mounted = 0;
  if (nested && enter_nested (0) < 0)
    return 0;
  mkdir ("/tmp/battery-blk", 0700);
  while (d && (de = readdir (d)))
    {
      char p[512], dev[300];
      unsigned maj, min;
      snprintf (p, sizeof p, "/sys/class/block/%s/dev", de->d_name);
      if (read_file (p, dev, sizeof dev) <= 0 || sscanf (dev, "%u:%u", &maj, &min) != 2)
        continue;
      snprintf (p, sizeof p, "/tmp/battery-blk-%s", de->d_name);
      mknod (p, S_IFBLK | 0600, makedev (maj, min));
      snprintf (dev, sizeof dev, "/dev/%s", de->d_name);
      if (mount (p, "/tmp/battery-blk", "ext4", MS_RDONLY, NULL) == 0
          || mount (dev, "/tmp/battery-blk", "ext4", MS_RDONLY, NULL) == 0)
        {
          mounted++;
          umount ("/tmp/battery-blk");
        }
      unlink (p);
    }
  if (d)
    closedir (d);
  return mounted;
}

void
dev_attempts (void)
{
  const char *nodes[] = { "/dev/mem", "/dev/kmem", "/dev/port", "/dev/kmsg", "/dev/sda", "/dev/vda", NULL };
  char buf[4096];
  int opened = 0, r;
  ssize_t n;
  FILE *f;

  result (in_child (mknod_attempt, NULL) == 0, "mknod block/char devices and open them", "direct");
  result (in_child (mknod_attempt, (void *)1) == 0, "mknod block/char devices and open them",
          "from a nested user namespace");
  for (int i = 0; nodes[i]; i++)
    {
      int fd = open (nodes[i], O_RDONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          opened++;
          close (fd);
        }
    }
  result (opened == 0, "open host device nodes in /dev", "%d of them opened", opened);
  result (in_child (mount_host_block, NULL) == 0, "mount a host block device", "direct");
  result (in_child (mount_host_block, (void *)1) == 0, "mount a host block device",
          "from a nested user namespace");
  r = klogctl (3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof buf);
  result (r < 0, "dmesg (syslog READ_ALL)", "%s", outcome (r));
  r = open ("/dev/kmsg", O_RDWR | O_CLOEXEC);
  result (r < 0, "/dev/kmsg", "%s", outcome (r));
  r = open ("/proc/kcore", O_RDONLY | O_CLOEXEC);
  n = r >= 0 ? read (r, buf, sizeof buf) : -1;
  result (n <= 0, "read /proc/kcore", "open %s, read %zd bytes", outcome (r), n);
  if (r >= 0)
    close (r);
  /* kallsyms is readable; every address must read as zero.  */
  f = fopen ("/proc/kallsyms", "re");
  int nonzero = 0, lines = 0;
  while (f && fgets (buf, sizeof buf, f))
    {
      lines++;
      if (strtoull (buf, NULL, 16) != 0)
        nonzero++;
    }
  if (f)
    fclose (f);
  result (nonzero == 0, "kernel addresses in /proc/kallsyms", "%d lines, %d non-zero addresses", lines,
          nonzero);
}

/* ---- kernel modules and boot ---------------------------------------------- */

void
module_attempts (void)
{
  char image[64] = "\177ELF";
  int fd = open ("/run/sudobox/init", O_RDONLY | O_CLOEXEC), r;

  r = syscall (SYS_init_module, image, sizeof image, "");
  result (r < 0, "init_module", "%s", outcome (r));
  r = syscall (SYS_finit_module, fd, "", 0);
  result (r < 0, "finit_module", "%s", outcome (r));
  r = syscall (SYS_kexec_load, 0UL, 0UL, NULL, 0UL);
  result (r < 0, "kexec_load", "%s", outcome (r));
  r = syscall (SYS_kexec_file_load, fd, -1, 1UL, "", 2UL /* KEXEC_FILE_NO_INITRAMFS */);
  result (r < 0, "kexec_file_load", "%s", outcome (r));
  /* Changes the host's Ctrl-Alt-Del action if it reached the host (the host
     side checks /proc/sys/kernel/ctrl-alt-del).  */
  r = syscall (SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_OFF, NULL);
  result (r < 0, "reboot(2) CAD_OFF", "%s", outcome (r));
  if (fd >= 0)
    close (fd);
}
