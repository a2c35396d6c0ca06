/* The monitor: one small process per running workspace on the host (like
   podman's conmon).  It creates and starts the container through the
   library, starts its network helper, keeps the console log, waits for the
   workspace's init to exit, records the exit and cleans up.  The CLI that
   started it returns as soon as the workspace runs.  */
#include "manager.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container.h"
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
  int net_exit_fd; /* slirp4netns exits when this closes, even if we are killed */
} monitor;

static int
write_spec (monitor *mon, sb_err **err)
{
  _cleanup_free_ char *projects = sb_mgr_projects_dir (mon->m, mon->name);
  _cleanup_free_ char *init = NULL, *json = NULL, *path = NULL, *cgroup = NULL;
  sb_image_rec *img = NULL;
  sb_ws_paths p;
  int r;

  if (sb_mgr_init_path (&init, err) < 0)
    return -1;
  r = sb_registry_image_get (mon->m->reg, mon->ws->image, &img, err);
  if (r != 0)
    return r < 0 ? -1 : sb_error (err, 0, "image \"%s\" not found", mon->ws->image);
  cgroup = sb_xasprintf ("/sudobox/ws-%u-%s", mon->ws->id_first, mon->name);
  p = (sb_ws_paths){ .name = mon->name,
                     .image_rootfs = NULL,
                     .dir = mon->dir,
                     .projects = projects,
                     .init = init,
                     .id_first = mon->ws->id_first,
                     .cgroup_path = cgroup };
  {
    _cleanup_free_ char *rootfs = sb_xasprintf ("%s/rootfs", img->dir);
    p.image_rootfs = rootfs;
    r = sb_ws_spec_json (&mon->cfg, &p, &json, err);
  }
  sb_image_rec_free (img);
  if (r < 0)
    return -1;
  path = sb_xasprintf ("%s/bundle/config.json", mon->dir);
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
  _cleanup_free_ char *api = sb_xasprintf ("%s/slirp.sock", mon->dir);
  _cleanup_state_ sb_state *st = NULL;
  sb_create_opts o = { .root = mon->m->run_root, .id = mon->name, .bundle = bundle };
  sb_status status;

  /* A container left by a monitor that was killed goes first.  */
  sb_container_delete (mon->m->run_root, mon->name, true, NULL);
  if (write_spec (mon, err) < 0 || sb_container_create (&o, err) < 0)
    return -1;
  if (sb_container_load (mon->m->run_root, mon->name, &st, &status, err) < 0)
    return -1;
  mon->init = st->pid;
  unlink (api);
  if (mon->cfg.network
      && sb_net_start_ex (st->pid, api, mon->cfg.publish, mon->cfg.n_publish, NULL, &mon->net,
                          &mon->net_exit_fd, err)
             < 0)
    return -1;
  return sb_container_start (mon->m->run_root, mon->name, err);
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

static void
tear_down (monitor *mon)
{
  if (mon->net > 0)
    {
      _cleanup_free_ char *api = sb_xasprintf ("%s/slirp.sock", mon->dir);
      kill (mon->net, SIGTERM);
      waitpid (mon->net, NULL, 0);
      close (mon->net_exit_fd);
      unlink (api);
      mon->net = 0;
    }
  sb_container_delete (mon->m->run_root, mon->name, true, NULL);
}

static void
report (int fd, const char *msg)
{
  sb_write_all (fd, msg, strlen (msg));
  close (fd);
}

_Noreturn void
sb_monitor_main (sb_mgr *m, const char *name, int ready_fd)
{
  _cleanup_err_ sb_err *err = NULL;
  monitor mon = { .m = m, .name = name, .dir = sb_mgr_ws_dir (m, name), .net_exit_fd = -1 };
  uint64_t start = 0;
  int code;

  setsid ();
  prctl (PR_SET_NAME, "sudobox-mon");
  signal (SIGPIPE, SIG_IGN);
  /* The registry connection of the parent must not be shared: reopen.  */
  sb_registry_close (m->reg);
  m->reg = NULL;
  /* Nothing else of the CLI's: its lock on the workspace least of all (a
     flock is shared across fork and would be held for the workspace's life).  */
  sb_close_fds_from (3, &ready_fd, 1);
  if (sb_registry_open (m->root, &m->reg, &err) < 0 || sb_registry_ws_get (m->reg, name, &mon.ws, &err) != 0
      || sb_wsconfig_from_json (mon.ws->config, &mon.cfg, &err) < 0 || redirect_stdio (&mon, &err) < 0)
    {
      report (ready_fd, err ? err->msg : "workspace not found");
      _exit (1);
    }
  if (bring_up (&mon, &err) < 0)
    {
      tear_down (&mon);
      report (ready_fd, err->msg);
      _exit (1);
    }
  sb_proc_start_time (getpid (), &start);
  if (sb_registry_ws_set_state (m->reg, name, SB_WS_RUNNING, getpid (), start, -1, &err) < 0)
    {
      tear_down (&mon);
      report (ready_fd, err->msg);
      _exit (1);
    }
  close (ready_fd);
  /* Idle workspaces cost only this process: no database held meanwhile.  */
  sb_registry_close (m->reg);
  m->reg = NULL;
  code = wait_init (&mon);
  tear_down (&mon);
  if (sb_registry_open (m->root, &m->reg, &err) == 0)
    sb_registry_ws_set_state (m->reg, name, SB_WS_STOPPED, 0, 0, code, NULL);
  _exit (0);
}
