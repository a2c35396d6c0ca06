/* `sudobox run --rm`: create a workspace, run one command in it, remove it.

   The general path (create, start a monitor, exec, stop, rm) costs a
   monitor process, an exec into the namespaces and a stop for a workspace
   that lives as long as one command.  Here the command runs under
   sudobox-init as the workspace's first process, in the foreground, like
   `sudobox-runc run`: this process waits for it and the network helper is
   attached between create and start.  While it runs, the registry names
   the workspace's init as its monitor, so `stop`, `exec` and gc treat it
   like any running workspace, and a killed `run` leaves a running
   workspace that `sudobox rm` removes, never a half-made one.  */
#include "manager.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container.h"
#include "network.h"
#include "util.h"

typedef struct foreground
{
  sb_mgr *m;
  const char *name;
  const sb_wsconfig *cfg;
  int lock;
  sb_net_pending *net;
  pid_t helper;
  int helper_exit_fd;
} foreground;

/* The user as the new workspace will see it: its upper layer is empty, so
   the image's /etc/passwd.  */
static int
image_user (foreground *fg, const sb_ws_rec *ws, const char *user, uid_t *uid, gid_t *gid, char **home,
            char **name, sb_err **err)
{
  _cleanup_close_ int root = -1;
  _cleanup_fclose_ FILE *f = NULL;
  _cleanup_free_ char *rootfs = NULL;
  sb_image_rec *img = NULL;
  int r = sb_registry_image_get (fg->m->reg, ws->image, &img, err);

  if (r != 0)
    return r < 0 ? -1 : sb_error (err, 0, "image \"%s\" not found", ws->image);
  rootfs = sb_xasprintf ("%s/rootfs", img->dir);
  sb_image_rec_free (img);
  root = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return sb_error (err, errno, "open `%s`", rootfs);
  f = sb_ws_open_root_file (root, "etc/passwd");
  return sb_ws_resolve_user (f, user, fg->cfg, uid, gid, home, name, err);
}

/* As soon as the network namespace exists: the network helper starts
   while the rootfs is built.  */
static int
on_namespaces (pid_t init, void *arg, sb_err **err)
{
  foreground *fg = arg;

  if (!fg->cfg->network)
    return 0;
  return sb_net_spawn (init, fg->cfg->publish, fg->cfg->n_publish, NULL, true, &fg->net, err);
}

/* Between create and start: the network helper is ready, then the
   registry says running, with the init as the process whose life is the
   workspace's.  */
static int
on_created (pid_t init, void *arg, sb_err **err)
{
  foreground *fg = arg;
  uint64_t start = 0;

  if (fg->net != NULL)
    {
      sb_net_pending *np = fg->net;
      fg->net = NULL;
      if (sb_net_finish (np, &fg->helper, &fg->helper_exit_fd, err) < 0)
        return -1;
    }
  if (sb_proc_start_time (init, &start) < 0)
    return sb_error (err, errno, "read the start time of pid %d", init);
  if (sb_registry_ws_set_state (fg->m->reg, fg->name, SB_WS_RUNNING, init, start, -1, err) < 0)
    return -1;
  close (fg->lock);
  fg->lock = -1;
  return 0;
}

static void
stop_helper (foreground *fg)
{
  if (fg->helper <= 0)
    return;
  /* Not reaped: this process exits soon and init reaps it; waiting would
     add the tens of milliseconds its exit takes to every run.  */
  kill (fg->helper, SIGKILL);
  close (fg->helper_exit_fd);
  fg->helper = 0;
}

static int
run_created (foreground *fg, const sb_ws_exec_opts *o, int *exit_code, sb_err **err)
{
  _cleanup_free_ char *dir = sb_mgr_ws_dir (fg->m, fg->name);
  _cleanup_free_ char *bundle = sb_xasprintf ("%s/bundle", dir);
  _cleanup_free_ char *home = NULL, *user = NULL;
  _cleanup_strv_ char **env = NULL;
  sb_ws_process proc = { .args = o->args, .terminal = o->tty };
  sb_create_opts co = { .root = fg->m->run_root,
                        .id = fg->name,
                        .bundle = bundle,
                        .on_namespaces = on_namespaces,
                        .on_created = on_created,
                        .on_created_arg = fg };
  sb_ws_rec *ws = NULL;
  int r;

  r = sb_registry_ws_get (fg->m->reg, fg->name, &ws, err);
  if (r != 0)
    return r < 0 ? -1 : sb_error (err, 0, "workspace \"%s\" not found", fg->name);
  r = image_user (fg, ws, o->user, &proc.uid, &proc.gid, &home, &user, err);
  if (r == 0)
    {
      proc.env = env = sb_ws_session_env (o, fg->cfg, home, user);
      proc.cwd = o->workdir ? o->workdir : home;
      r = sb_ws_write_spec (fg->m, ws, fg->cfg, &proc, err);
    }
  sb_ws_rec_free (ws);
  if (r == 0)
    r = sb_container_run (&co, false, exit_code, err);
  /* A create that failed after the helper was spawned.  */
  sb_net_pending_free (fg->net);
  fg->net = NULL;
  stop_helper (fg);
  return r;
}

int
sb_ws_run_rm (sb_mgr *m, const char *name, const char *image, sb_wsconfig *cfg, const sb_ws_exec_opts *o,
              int *exit_code, sb_err **err)
{
  foreground fg = { .m = m, .name = name, .cfg = cfg, .lock = -1, .helper_exit_fd = -1 };
  int r;

  /* Straight from CREATING to RUNNING, under one hold of the lock: a kill
     before RUNNING leaves a CREATING row that gc removes, as --rm would.  */
  if (sb_ws_create_held (m, name, image, cfg, &fg.lock, err) < 0)
    return -1;
  r = run_created (&fg, o, exit_code, err);
  if (fg.lock >= 0)
    close (fg.lock);
  sb_ws_rm (m, name, true, true, NULL);
  return r;
}
