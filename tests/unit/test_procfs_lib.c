/* The library side of the procfs server against the real kernel: start it
   for a cgroup (v1 controllers of this host, or pure v2), bind its files in
   a private mount namespace, stop it.  Runs as root; removes what it made.  */
#include "procfs.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tap.h"

static const char *const ctrls[] = { "memory", "cpu", "cpuacct", "cpuset", "pids" };
#define N_CTRLS (sizeof (ctrls) / sizeof (ctrls[0]))

static char cg[64];

static void
cgroup_dirs (bool make)
{
  for (size_t i = 0; i < N_CTRLS; i++)
    {
      const char *d = tap_str ("/sys/fs/cgroup/%s%s", ctrls[i], cg);
      if (make)
        mkdir (d, 0755);
      else
        rmdir (d);
    }
}

static uint64_t
mem_total_kb (const char *path)
{
  _cleanup_free_ char *text = NULL;
  const char *p;

  if (sb_read_file_at (AT_FDCWD, path, 1 << 16, &text, NULL, NULL) < 0
      || (p = strstr (text, "MemTotal:")) == NULL)
    return 0;
  return strtoull (p + 9, NULL, 10);
}

/* In a child with a private mount namespace: bind, then read /proc.  */
static uint64_t
bound_mem_total (const char *mnt)
{
  int pfd[2];
  uint64_t kb = 0;
  pid_t pid;

  if (pipe (pfd) < 0)
    abort ();
  pid = fork ();
  if (pid == 0)
    {
      _cleanup_err_ sb_err *err = NULL;
      int root, mntfd;
      close (pfd[0]);
      if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        _exit (1);
      root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
      mntfd = open (mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (sb_procfs_bind (mntfd, root, &err) < 0)
        {
          fprintf (stderr, "# %s\n", err->msg);
          _exit (1);
        }
      kb = mem_total_kb ("/proc/meminfo");
      _exit (write (pfd[1], &kb, sizeof (kb)) == sizeof (kb) ? 0 : 1);
    }
  close (pfd[1]);
  if (read (pfd[0], &kb, sizeof (kb)) != sizeof (kb))
    kb = 0;
  close (pfd[0]);
  waitpid (pid, NULL, 0);
  return kb;
}

/* Exited: no such process, or a zombie its new parent has not reaped.  */
static bool
gone (pid_t pid)
{
  char st = 0;
  uint64_t start;

  return sb_proc_stat (pid, &st, &start) < 0 || st == 'Z';
}

int
main (void)
{
  char dir[] = "/tmp/sb-procfs-lib.XXXXXX";
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_free_ char *mnt = NULL;
  sb_procfs_opts o = { .server = PROCFS_SERVER, .cgroup_path = cg, .start = -1 };
  pid_t pid = 0;
  int r;

  if (access ("/sys/fs/cgroup/memory", F_OK) != 0)
    {
      printf ("1..0 # SKIP no cgroup v1 memory controller\n");
      return 0;
    }
  snprintf (cg, sizeof (cg), "/sudobox-procfs-lib-%d", getpid ());
  if (mkdtemp (dir) == NULL)
    abort ();
  o.state_dir = dir;
  mnt = sb_xasprintf ("%s/%s", dir, SB_PROCFS_DIR);
  cgroup_dirs (true);
  sb_write_file_at (AT_FDCWD, tap_str ("/sys/fs/cgroup/memory%s/memory.limit_in_bytes", cg), "536870912",
                    NULL);

  r = sb_procfs_start (&o, &pid, &err);
  tap_is_int (r, 0, "start (%s)", err ? err->msg : "ok");
  tap_ok (pid > 0 && kill (pid, 0) == 0, "the server runs (pid %d)", pid);
  tap_ok (access (tap_path (dir, "%s", SB_PROCFS_PIDFILE), F_OK) == 0, "its pid is recorded");
  tap_is_int ((long long)mem_total_kb (tap_path (mnt, "proc/meminfo")), 524288,
              "served MemTotal is the limit");
  tap_is_int ((long long)bound_mem_total (mnt), 524288, "bound over /proc/meminfo in a mount namespace");

  sb_err_free (&err);
  tap_is_int (sb_procfs_stop (dir, &err), 0, "stop (%s)", err ? err->msg : "ok");
  tap_ok (gone (pid), "the server is gone");
  tap_ok (access (mnt, F_OK) < 0, "its mount point is removed");
  sb_err_free (&err);
  tap_is_int (sb_procfs_stop (dir, &err), 0, "stop again: nothing recorded is not an error");

  o.cgroup_path = "/sudobox-procfs-lib-missing";
  sb_err_free (&err);
  tap_is_int (sb_procfs_start (&o, &pid, &err), -1, "a missing cgroup fails start");
  tap_ok (err && strstr (err->msg, SB_PROCFS_LOG), "the error points at the log: %s", err ? err->msg : "");
  sb_procfs_stop (dir, NULL);

  cgroup_dirs (false);
  unlink (tap_path (dir, "%s", SB_PROCFS_LOG));
  rmdir (dir);
  return tap_done ();
}
