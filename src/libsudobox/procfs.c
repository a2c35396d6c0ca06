/* Starting, binding and stopping a container's sudobox-procfs server.  */
#include "procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "selfexe.h"
#include "util.h"

/* How long the server may take to mount, and to exit when asked.  */
#define START_TIMEOUT_MS 5000
#define STOP_TIMEOUT_MS 2000

/* The files served besides the proc/sys tree, relative to the mount point
   and to the container's root alike.  */
static const char *const files[] = {
  "proc/meminfo", "proc/cpuinfo", "proc/stat",      "proc/uptime",
  "proc/loadavg", "proc/swaps",   "proc/diskstats", "sys/devices/system/cpu/online",
};

int
sb_procfs_find_server (char **out, sb_err **err)
{
  return sb_find_helper ("sudobox-procfs", "procfs", "SUDOBOX_PROCFS", out, err);
}

/* The detached server: its own session, stdio to the log, no other fd but
   the readiness pipe.  Never returns.  */
static void
exec_server (const sb_procfs_opts *o, const char *server, const char *mnt, int ready)
{
  _cleanup_free_ char *log = sb_xasprintf ("%s/%s", o->state_dir, SB_PROCFS_LOG);
  char ready_s[16], start[32], owner[32], pid[16];
  _cleanup_free_ char *sock = sb_xasprintf ("%s/%s", o->state_dir, SB_PROCFS_NOTIFY);
  const char *argv[16] = { server, "--mountpoint", mnt,     "--cgroup", o->cgroup_path, "--owner",
                           owner,  "--ready-fd",   ready_s, "--start",  start };
  int n = 11, logfd, null;

  setsid ();
  snprintf (ready_s, sizeof (ready_s), "%d", ready);
  snprintf (start, sizeof (start), "%.3f", o->start);
  snprintf (owner, sizeof (owner), "%u:%u", (unsigned)o->uid, (unsigned)o->gid);
  if (o->init_pid > 0)
    {
      snprintf (pid, sizeof (pid), "%d", o->init_pid);
      argv[n++] = "--init-pid";
      argv[n++] = pid;
    }
  if (o->notify)
    {
      argv[n++] = "--notify-socket";
      argv[n++] = sock;
    }
  null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  logfd = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (null < 0 || logfd < 0 || dup2 (null, 0) < 0 || dup2 (logfd, 1) < 0 || dup2 (logfd, 2) < 0
      || sb_close_fds_from (3, &ready, 1) < 0)
    _exit (127);
  execv (server, (char *const *)argv);
  _exit (127);
}

/* Forks twice so the server is nobody's child here (no zombie for a
   long-lived caller) and waits for its "PID\n" on the pipe.  */
static int
spawn (const sb_procfs_opts *o, const char *server, const char *mnt, pid_t *pid, sb_err **err)
{
  int p[2];
  _cleanup_close_ int rd = -1;
  char buf[32] = "";
  struct pollfd pfd;
  ssize_t n = 0;
  pid_t child;

  if (pipe2 (p, O_CLOEXEC) < 0)
    return sb_error (err, errno, "pipe");
  rd = p[0];
  child = fork ();
  if (child < 0)
    {
      close (p[1]);
      return sb_error (err, errno, "fork");
    }
  if (child == 0)
    {
      if (fork () == 0)
        {
          fcntl (p[1], F_SETFD, 0);
          exec_server (o, server, mnt, p[1]);
        }
      _exit (0);
    }
  close (p[1]);
  waitpid (child, NULL, 0);
  pfd = (struct pollfd){ rd, POLLIN, 0 };
  if (poll (&pfd, 1, START_TIMEOUT_MS) == 1)
    n = read (rd, buf, sizeof (buf) - 1);
  if (n <= 0 || (*pid = atoi (buf)) <= 0)
    return sb_error (err, 0, "sudobox-procfs did not start (see %s/%s)", o->state_dir, SB_PROCFS_LOG);
  return 0;
}

int
sb_procfs_start (const sb_procfs_opts *o, pid_t *pid, sb_err **err)
{
  _cleanup_free_ char *server = NULL, *mnt = sb_xasprintf ("%s/%s", o->state_dir, SB_PROCFS_DIR);
  _cleanup_free_ char *pidfile = sb_xasprintf ("%s/%s", o->state_dir, SB_PROCFS_PIDFILE);
  _cleanup_free_ char *rec = NULL;
  uint64_t start = 0;

  if (o->server)
    server = sb_xstrdup (o->server);
  else if (sb_procfs_find_server (&server, err) < 0)
    return -1;
  if (mkdir (mnt, 0700) < 0 && errno != EEXIST)
    return sb_error (err, errno, "mkdir %s", mnt);
  if (spawn (o, server, mnt, pid, err) < 0)
    return -1;
  if (sb_proc_start_time (*pid, &start) < 0)
    return sb_error (err, errno, "sudobox-procfs (pid %d) exited right after starting", *pid);
  rec = sb_xasprintf ("%d %llu\n", *pid, (unsigned long long)start);
  return sb_write_file_atomic (pidfile, rec, strlen (rec), 0600, err);
}

/* Binds mnt/rel onto root/rel.  */
static int
bind_one (int mntfd, int rootfd, const char *rel, bool optional, sb_err **err)
{
  _cleanup_close_ int tree = -1, target = -1;

  target = sb_open_in_root (rootfd, rel, O_PATH | O_NOFOLLOW, 0, optional ? NULL : err);
  if (target < 0)
    return optional && errno == ENOENT ? 0 : -1;
  tree = open_tree (mntfd, rel, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0)
    return sb_error (err, errno, "open_tree of procfs server file %s", rel);
  if (move_mount (tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return sb_error (err, errno, "bind mount of procfs server file onto /%s", rel);
  return 0;
}

/* Every regular file below mnt/rel (the proc/sys shadows), optional.  */
static int
bind_tree (int mntfd, int rootfd, const char *rel, sb_err **err)
{
  _cleanup_close_ int fd = openat (mntfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d;
  struct dirent *e;
  int r = 0;

  if (fd < 0)
    return errno == ENOENT ? 0 : sb_error (err, errno, "procfs server directory %s", rel);
  d = fdopendir (sb_steal_fd (&fd));
  if (d == NULL)
    return sb_error (err, errno, "procfs server directory %s", rel);
  while (r == 0 && (e = readdir (d)) != NULL)
    {
      _cleanup_free_ char *sub = NULL;
      if (e->d_name[0] == '.')
        continue;
      sub = sb_xasprintf ("%s/%s", rel, e->d_name);
      r = e->d_type == DT_DIR ? bind_tree (mntfd, rootfd, sub, err)
                              : bind_one (mntfd, rootfd, sub, true, err);
    }
  closedir (d);
  return r;
}

int
sb_procfs_bind (int mntfd, int rootfd, sb_err **err)
{
  for (size_t i = 0; i < sizeof (files) / sizeof (files[0]); i++)
    if (bind_one (mntfd, rootfd, files[i], false, err) < 0)
      return -1;
  return bind_tree (mntfd, rootfd, "proc/sys", err);
}

/* Sends sig and waits up to ms for the process to go.  true when gone.  */
static bool
signal_and_wait (int pidfd, int sig, int ms)
{
  struct pollfd p = { pidfd, POLLIN, 0 };

  if (syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
    return errno == ESRCH;
  return poll (&p, 1, ms) == 1;
}

int
sb_procfs_stop (const char *state_dir, sb_err **err)
{
  _cleanup_free_ char *pidfile = sb_xasprintf ("%s/%s", state_dir, SB_PROCFS_PIDFILE);
  _cleanup_free_ char *mnt = sb_xasprintf ("%s/%s", state_dir, SB_PROCFS_DIR);
  _cleanup_free_ char *rec = NULL;
  _cleanup_close_ int pidfd = -1;
  unsigned long long start = 0;
  uint64_t now_start = 0;
  int pid = 0;

  if (sb_read_file_at (AT_FDCWD, pidfile, 64, &rec, NULL, NULL) == 0
      && sscanf (rec, "%d %llu", &pid, &start) == 2 && (pidfd = (int)syscall (SYS_pidfd_open, pid, 0)) >= 0
      && sb_proc_start_time (pid, &now_start) == 0 && now_start == start)
    {
      /* The start time matched after the pidfd was taken: it is our server,
         and the pidfd keeps naming it.  */
      if (!signal_and_wait (pidfd, SIGTERM, STOP_TIMEOUT_MS)
          && !signal_and_wait (pidfd, SIGKILL, STOP_TIMEOUT_MS))
        return sb_error (err, 0, "sudobox-procfs (pid %d) did not exit after SIGKILL", pid);
    }
  /* The server unmounts on its way out; this covers one that was killed.  */
  if (umount2 (mnt, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    return sb_error (err, errno, "umount %s", mnt);
  if (rmdir (mnt) < 0 && errno != ENOENT)
    return sb_error (err, errno, "rmdir %s", mnt);
  if (unlink (pidfile) < 0 && errno != ENOENT)
    return sb_error (err, errno, "unlink %s", pidfile);
  return 0;
}

/* Removes "sysinfo" from the names of rule r; true when none is left.  */
static bool
drop_sysinfo (sb_seccomp_rule *r)
{
  size_t k = 0;

  for (size_t j = 0; r->names && r->names[j]; j++)
    if (strcmp (r->names[j], "sysinfo") == 0)
      free (r->names[j]);
    else
      r->names[k++] = r->names[j];
  if (r->names)
    r->names[k] = NULL;
  return k == 0;
}

static void
free_rule (sb_seccomp_rule *r)
{
  sb_strv_free (r->names);
  free (r->action);
  for (size_t j = 0; j < r->n_args; j++)
    free (r->args[j].op);
  free (r->args);
}

int
sb_procfs_spec_add_sysinfo (sb_spec *spec, const char *listener, sb_err **err)
{
  sb_seccomp *s = spec->linux.seccomp;
  size_t k = 0;

  if (s && s->listener_path)
    return sb_error (err, 0,
                     "linux.seccomp.listenerPath is set (`%s`): the system isolation answers sysinfo "
                     "through its own listener",
                     s->listener_path);
  if (s == NULL)
    {
      s = spec->linux.seccomp = sb_xmalloc0 (sizeof (*s));
      s->default_action = sb_xstrdup ("SCMP_ACT_ALLOW");
    }
  /* One action per syscall: another rule naming sysinfo would conflict.  */
  for (size_t i = 0; i < s->n_syscalls; i++)
    if (drop_sysinfo (&s->syscalls[i]))
      free_rule (&s->syscalls[i]);
    else
      s->syscalls[k++] = s->syscalls[i];
  s->syscalls = sb_xrealloc (s->syscalls, (k + 1) * sizeof (*s->syscalls));
  s->syscalls[k] = (sb_seccomp_rule){ .action = sb_xstrdup ("SCMP_ACT_NOTIFY") };
  sb_strv_append (&s->syscalls[k].names, "sysinfo");
  s->n_syscalls = k + 1;
  s->listener_path = sb_xstrdup (listener);
  return 0;
}
