/* The monitor: one small process per running workspace on the host (like
   podman's conmon).  It creates and starts the container through the
   library, starts its network helper, keeps the console log, waits for the
   workspace's init to exit, records the exit and cleans up.  The CLI that
   started it returns as soon as the workspace runs.  */
#include "manager.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container.h"
#include "log.h"
#include "network.h"
#include "util.h"

typedef struct monitor
{
  sb_mgr *m;
  const char *name;
  char *dir;
  sb_wsconfig cfg;
  sb_ws_rec *ws;
  pid_t init;
  pid_t net;
  int net_exit_fd; /* the network helper exits when this closes, even if we are killed */
} monitor;

int
sb_ws_write_spec (sb_mgr *m, const sb_ws_rec *ws, const sb_wsconfig *cfg, const sb_ws_process *process,
                  sb_err **err)
{
  _cleanup_free_ char *projects = sb_mgr_projects_dir (m, ws->name);
  _cleanup_free_ char *dir = sb_mgr_ws_dir (m, ws->name);
  _cleanup_free_ char *init = NULL, *json = NULL, *path = NULL, *cgroup = NULL, *rootfs = NULL;
  sb_image_rec *img = NULL;
  sb_ws_paths p;
  int r;

  if (sb_mgr_init_path (&init, err) < 0)
    return -1;
  r = sb_registry_image_get (m->reg, ws->image, &img, err);
  if (r != 0)
    return r < 0 ? -1 : sb_error (err, 0, "image \"%s\" not found", ws->image);
  rootfs = sb_xasprintf ("%s/rootfs", img->dir);
  sb_image_rec_free (img);
  cgroup = sb_xasprintf ("/sudobox/ws-%u-%s", ws->id_first, ws->name);
  p = (sb_ws_paths){ .name = ws->name,
                     .image_rootfs = rootfs,
                     .dir = dir,
                     .projects = projects,
                     .init = init,
                     .id_first = ws->id_first,
                     .cgroup_path = cgroup,
                     .process = process };
  if (sb_ws_spec_json (cfg, &p, &json, err) < 0)
    return -1;
  path = sb_xasprintf ("%s/bundle/config.json", dir);
  return sb_write_file_atomic (path, json, strlen (json), 0600, err);
}

/* stdin from /dev/null, stdout and stderr (the workspace's too) to the
   console log.  */
static int
redirect_stdio (monitor *mon, sb_err **err)
{
  _cleanup_free_ char *log = sb_xasprintf ("%s/console.log", mon->dir);
  _cleanup_close_ int in = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  _cleanup_close_ int out = open (log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

  if (in < 0 || out < 0)
    return sb_error (err, errno, "open `%s`", log);
  if (dup2 (in, 0) < 0 || dup2 (out, 1) < 0 || dup2 (out, 2) < 0)
    return sb_error (err, errno, "dup2");
  return 0;
}

static int
bring_up (monitor *mon, sb_err **err)
{
  _cleanup_free_ char *bundle = sb_xasprintf ("%s/bundle", mon->dir);
  _cleanup_state_ sb_state *st = NULL;
  sb_create_opts o = { .root = mon->m->run_root, .id = mon->name, .bundle = bundle };
  sb_status status;

  /* A container left by a monitor that was killed goes first.  */
  sb_container_delete (mon->m->run_root, mon->name, true, NULL);
  if (sb_ws_write_spec (mon->m, mon->ws, &mon->cfg, NULL, err) < 0 || sb_container_create (&o, err) < 0)
    return -1;
  if (sb_container_load (mon->m->run_root, mon->name, &st, &status, err) < 0)
    return -1;
  mon->init = st->pid;
  if (mon->cfg.network
      && sb_net_start_ex (st->pid, mon->cfg.publish, mon->cfg.n_publish, NULL, &mon->net, &mon->net_exit_fd,
                          err)
             < 0)
    return -1;
  return sb_container_start (mon->m->run_root, mon->name, err);
}

/* The network helper goes at once: it keeps no state worth a graceful
   exit.  */
static void
stop_helper (monitor *mon)
{
  if (mon->net <= 0)
    return;
  kill (mon->net, SIGKILL);
  waitpid (mon->net, NULL, 0);
  close (mon->net_exit_fd);
  mon->net = 0;
}

/* What a stopped workspace must not keep: the library's container state.  */
static void
remove_leftovers (sb_mgr *m, const char *name)
{
  sb_container_delete (m->run_root, name, true, NULL);
}

static void
report (int fd, const char *msg)
{
  sb_write_all (fd, msg, strlen (msg));
  close (fd);
}

static _Noreturn void
fail (monitor *mon, int ready_fd, const char *msg)
{
  stop_helper (mon);
  remove_leftovers (mon->m, mon->name);
  report (ready_fd, msg);
  _exit (1);
}

/* The argv of sudobox-monitor: it waits for the init and the helper, then
   runs `sudobox --root ROOT monitor-exit NAME CODE` (see src/monitor).  */
static char **
monitor_argv (monitor *mon, const char *monitor_path, const char *self)
{
  char **argv = sb_xmalloc0 (11 * sizeof (char *));
  argv[0] = sb_xstrdup (monitor_path);
  argv[1] = sb_xasprintf ("%d", mon->init);
  argv[2] = sb_xasprintf ("%d", mon->net > 0 ? mon->net : 0);
  argv[3] = sb_xasprintf ("%d", mon->net > 0 ? mon->net_exit_fd : -1);
  argv[4] = sb_xstrdup ("--");
  argv[5] = sb_xstrdup (self);
  argv[6] = sb_xstrdup ("--root");
  argv[7] = sb_xstrdup (mon->m->root);
  argv[8] = sb_xstrdup ("monitor-exit");
  argv[9] = sb_xstrdup (mon->name);
  return argv;
}

static int
wait_init (monitor *mon)
{
  int status;
  while (waitpid (mon->init, &status, 0) < 0)
    if (errno != EINTR)
      return 128 + SIGKILL;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

int
sb_monitor_finish (sb_mgr *m, const char *name, int code, sb_err **err)
{
  remove_leftovers (m, name);
  return sb_registry_ws_set_state (m->reg, name, SB_WS_STOPPED, 0, 0, code, err);
}

_Noreturn void
sb_monitor_main (sb_mgr *m, const char *name, int ready_fd)
{
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_free_ char *monitor_path = NULL;
  _cleanup_strv_ char **argv = NULL;
  monitor mon = { .m = m, .name = name, .dir = sb_mgr_ws_dir (m, name), .net_exit_fd = -1 };
  char self[PATH_MAX];
  ssize_t n;
  uint64_t start = 0;

  setsid ();
  prctl (PR_SET_NAME, "sudobox-mon");
  signal (SIGPIPE, SIG_IGN);
  /* The registry connection of the parent must not be shared: reopen.  */
  sb_registry_close (m->reg);
  m->reg = NULL;
  /* Nothing else of the CLI's: its lock on the workspace least of all (a
     flock is shared across fork and would be held for the workspace's life).  */
  sb_close_fds_from (3, &ready_fd, 1);
  n = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0)
    fail (&mon, ready_fd, "cannot find the sudobox executable (/proc/self/exe)");
  self[n] = '\0';
  if (sb_mgr_monitor_path (&monitor_path, &err) < 0 || sb_registry_open (m->root, &m->reg, &err) < 0
      || sb_registry_ws_get (m->reg, name, &mon.ws, &err) != 0
      || sb_wsconfig_from_json (mon.ws->config, &mon.cfg, &err) < 0 || redirect_stdio (&mon, &err) < 0)
    fail (&mon, ready_fd, err ? err->msg : "workspace not found");
  if (bring_up (&mon, &err) < 0)
    fail (&mon, ready_fd, err->msg);
  sb_proc_start_time (getpid (), &start);
  if (sb_registry_ws_set_state (m->reg, name, SB_WS_RUNNING, getpid (), start, -1, &err) < 0)
    fail (&mon, ready_fd, err->msg);
  close (ready_fd);
  sb_registry_close (m->reg);
  m->reg = NULL;
  /* Idle workspaces cost only the small static monitor: same pid, so the
     registry's monitor pid and start time stay true.  */
  argv = monitor_argv (&mon, monitor_path, self);
  if (mon.net > 0)
    fcntl (mon.net_exit_fd, F_SETFD, 0);
  execv (argv[0], argv);
  sb_warn ("exec `%s`: %s; monitoring in place", argv[0], strerror (errno));
  {
    int code = wait_init (&mon);
    stop_helper (&mon);
    if (sb_registry_open (m->root, &m->reg, &err) == 0)
      sb_monitor_finish (m, name, code, NULL);
  }
  _exit (0);
}
