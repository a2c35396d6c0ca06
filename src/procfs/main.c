/* sudobox-procfs: the /proc and /sys server of one workspace.

   This process is the supervisor: it mounts the FUSE file system (so it
   holds the connection's /dev/fuse fd for as long as the workspace lives)
   and forks a worker that serves it.  A worker that dies is replaced; the
   connection, the mount and the workspace's bind mounts of its files stay.
   One server per workspace: a crash never reaches another workspace.

   It exits (unmounting) on SIGTERM, when the workspace's init exits, when
   its cgroup is removed, or when the cgroup, once populated, is empty.  */
#include "notify.h"
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "util.h"

/* More deaths than this within RESTART_WINDOW_S: give up loudly.  */
#define MAX_RESTARTS 5
#define RESTART_WINDOW_S 10

static void
usage (FILE *f)
{
  fprintf (f,
           "usage: sudobox-procfs --mountpoint DIR --cgroup PATH [--start BOOTTIME_S] [--owner UID:GID]\n"
           "                      [--init-pid PID] [--ready-fd N]\n"
           "       sudobox-procfs --bind MOUNTPOINT ROOT   (bind the files over ROOT/proc and ROOT/sys)\n");
}

static int
parse_args (int argc, char **argv, sb_pfs_config *c, int *ready_fd)
{
  static const struct option opts[] = {
    { "mountpoint", required_argument, NULL, 'm' },
    { "cgroup", required_argument, NULL, 'c' },
    { "start", required_argument, NULL, 's' },
    { "owner", required_argument, NULL, 'o' },
    { "init-pid", required_argument, NULL, 'p' },
    { "ready-fd", required_argument, NULL, 'r' },
    { "notify-socket", required_argument, NULL, 'n' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int o;
  unsigned uid, gid;
  char tail;

  *c = (sb_pfs_config){ .start = -1 };
  while ((o = getopt_long (argc, argv, "", opts, NULL)) != -1)
    switch (o)
      {
      case 'm':
        c->mountpoint = optarg;
        break;
      case 'c':
        c->cgroup = optarg;
        break;
      case 's':
        c->start = strtod (optarg, NULL);
        break;
      case 'o':
        if (sscanf (optarg, "%u:%u%c", &uid, &gid, &tail) != 2)
          {
            fprintf (stderr, "sudobox-procfs: --owner `%s`: expected UID:GID\n", optarg);
            return -1;
          }
        c->uid = uid, c->gid = gid;
        break;
      case 'p':
        c->init_pid = atoi (optarg);
        break;
      case 'r':
        *ready_fd = atoi (optarg);
        break;
      case 'n':
        c->notify_socket = optarg;
        break;
      case 'h':
        usage (stdout);
        exit (0);
      default:
        usage (stderr);
        return -1;
      }
  if (c->mountpoint == NULL || c->cgroup == NULL || optind != argc)
    {
      usage (stderr);
      return -1;
    }
  return 0;
}

static int
mount_fuse (const char *mnt)
{
  _cleanup_close_ int fd = open ("/dev/fuse", O_RDWR | O_CLOEXEC);
  char opts[160];

  if (fd < 0)
    {
      perror ("sudobox-procfs: open /dev/fuse");
      return -1;
    }
  /* allow_other: the workspace's processes run as other host uids;
     default_permissions: the kernel checks the modes (0444, sysctls 0644
     owned by the workspace's root).  */
  snprintf (opts, sizeof (opts), "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions",
            fd);
  if (mount ("sudobox-procfs", mnt, "fuse.sudobox-procfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0)
    {
      fprintf (stderr, "sudobox-procfs: mount on %s: %s\n", mnt, strerror (errno));
      return -1;
    }
  return sb_steal_fd (&fd);
}

static pid_t
spawn_worker (const sb_pfs_config *c, sb_pfs_shared *shared, int master_fd, const sigset_t *old)
{
  pid_t pid = fork ();

  if (pid != 0)
    return pid;
  sigprocmask (SIG_SETMASK, old, NULL);
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  _exit (sb_pfs_worker_run (c, shared, master_fd));
}

typedef struct supervisor
{
  const sb_pfs_config *c;
  sb_pfs_shared *shared;
  int master_fd;
  pid_t worker;
  time_t deaths[MAX_RESTARTS];
  int n_deaths;
  bool populated; /* the cgroup held a process once */
  sigset_t old_mask;
} supervisor;

/* A worker died: replace it unless it keeps dying.  */
static int
on_child (supervisor *s)
{
  int status;
  pid_t pid;
  time_t now = time (NULL);

  while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
    if (pid == s->worker)
      {
        fprintf (stderr, "sudobox-procfs: worker %d %s %d, restarting\n", pid,
                 WIFSIGNALED (status) ? "killed by signal" : "exited with",
                 WIFSIGNALED (status) ? WTERMSIG (status) : WEXITSTATUS (status));
        memmove (s->deaths + 1, s->deaths, sizeof (s->deaths[0]) * (MAX_RESTARTS - 1));
        s->deaths[0] = now;
        if (++s->n_deaths >= MAX_RESTARTS && now - s->deaths[MAX_RESTARTS - 1] < RESTART_WINDOW_S)
          {
            fprintf (stderr,
                     "sudobox-procfs: worker died %d times in %d s, giving up: the workspace's "
                     "/proc files now fail with ENOTCONN\n",
                     MAX_RESTARTS, RESTART_WINDOW_S);
            return -1;
          }
        s->worker = spawn_worker (s->c, s->shared, s->master_fd, &s->old_mask);
        if (s->worker < 0)
          return -1;
      }
  return 0;
}

static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Counts the workspace's tasks, folds them into the load average (every
   SAMPLE_S) and says false when the workspace is gone: cgroup removed, or
   emptied after it held a process.  */
static bool
sample (supervisor *s, sb_pfs_source *src, double dt)
{
  sb_pfs_tasks t = sb_pfs_tasks_get (s->shared);

  if (!sb_pfs_source_count (src, &t.threads, &t.running, &t.procs))
    return false;
  if (dt > 0)
    sb_pfs_load_update (&t.load, t.running, dt);
  sb_pfs_tasks_set (s->shared, &t);
  if (t.procs > 0)
    s->populated = true;
  return !(s->populated && t.procs == 0);
}

#define SAMPLE_S 5.0

static int
supervise (supervisor *s, sb_pfs_source *src, sb_pfs_notify *nt, int sfd, int pidfd)
{
  double last_check = now_s (), last_load = last_check;
  int rc = 0;

  sample (s, src, 0);
  for (;;)
    {
      struct pollfd p[2 + SB_PFS_NOTIFY_POLLFDS] = { { sfd, POLLIN, 0 }, { pidfd, POLLIN, 0 } };
      struct signalfd_siginfo si;
      double now;
      int n;
      sb_pfs_notify_pollfds (nt, p + 2);
      n = poll (p, 2 + SB_PFS_NOTIFY_POLLFDS, 1000);
      if (n < 0 && errno != EINTR)
        break;
      if (p[1].revents)
        break; /* the workspace's init exited */
      if (n > 0)
        sb_pfs_notify_dispatch (nt, p + 2);
      if (p[0].revents && read (sfd, &si, sizeof (si)) == sizeof (si))
        {
          if (si.ssi_signo != SIGCHLD)
            break;
          if (on_child (s) < 0)
            {
              rc = 1;
              break;
            }
        }
      now = now_s ();
      if (now - last_check >= 1.0)
        {
          bool load_due = now - last_load >= SAMPLE_S;
          if (!sample (s, src, load_due ? now - last_load : 0))
            break;
          last_check = now;
          if (load_due)
            last_load = now;
        }
    }
  return rc;
}

int
main (int argc, char **argv)
{
  _cleanup_err_ sb_err *err = NULL;
  sb_pfs_config c;
  sb_pfs_source src;
  supervisor s = { .c = &c };
  sb_pfs_notify nt;
  sigset_t mask;
  _cleanup_close_ int sfd = -1, pidfd = -1;
  int ready_fd = -1, rc;

  if (argc == 4 && strcmp (argv[1], "--bind") == 0)
    {
      _cleanup_err_ sb_err *err = NULL;
      _cleanup_close_ int mnt = open (argv[2], O_PATH | O_DIRECTORY | O_CLOEXEC);
      _cleanup_close_ int root = open (argv[3], O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (mnt < 0 || root < 0 || sb_procfs_bind (mnt, root, &err) < 0)
        {
          fprintf (stderr, "sudobox-procfs: %s\n", err ? err->msg : strerror (errno));
          return 1;
        }
      return 0;
    }
  if (parse_args (argc, argv, &c, &ready_fd) < 0)
    return 2;
  /* Every worker generation counts from the same instant.  */
  if (c.start < 0)
    {
      struct timespec ts;
      clock_gettime (CLOCK_BOOTTIME, &ts);
      c.start = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    }
  s.shared = mmap (NULL, sizeof (*s.shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s.shared == MAP_FAILED)
    return 1;
  sb_pfs_sysctl_seed (s.shared);
  /* Before anything is mounted: a wrong cgroup fails the start.  */
  if (sb_pfs_source_open (&src, c.cgroup, c.start, &err) < 0)
    {
      fprintf (stderr, "sudobox-procfs: %s\n", err->msg);
      return 1;
    }
  if (c.init_pid > 0 && (pidfd = (int)syscall (SYS_pidfd_open, c.init_pid, 0)) < 0)
    {
      fprintf (stderr, "sudobox-procfs: init pid %d: %s\n", c.init_pid, strerror (errno));
      return 1;
    }
  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGINT);
  sigprocmask (SIG_BLOCK, &mask, &s.old_mask);
  sfd = signalfd (-1, &mask, SFD_CLOEXEC);
  s.master_fd = mount_fuse (c.mountpoint);
  if (sfd < 0 || s.master_fd < 0)
    return 1;
  /* Listening before it says it is ready: the runtime connects next.  */
  if (sb_pfs_notify_open (&nt, c.notify_socket, &src, s.shared) < 0)
    rc = 1;
  else if ((s.worker = spawn_worker (&c, s.shared, s.master_fd, &s.old_mask)) < 0)
    rc = 1;
  else
    {
      if (ready_fd >= 0)
        {
          dprintf (ready_fd, "%d\n", getpid ());
          close (ready_fd);
        }
      rc = supervise (&s, &src, &nt, sfd, pidfd);
    }
  sb_pfs_notify_close (&nt);
  if (s.worker > 0)
    {
      kill (s.worker, SIGKILL);
      waitpid (s.worker, NULL, 0);
    }
  umount2 (c.mountpoint, MNT_DETACH);
  close (s.master_fd);
  sb_pfs_source_close (&src);
  return rc;
}
