/* Workspace lifecycle: create, start (through a monitor), stop, rm.  */
#include "manager.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container.h"
#include "network.h"
#include "util.h"
#include "ws-microvm.h"
#include "ws-system.h"

/* rm -rf without following symlinks: workspace layers hold whatever the
   workspace wrote, including links to host paths.  */
int
sb_rm_rf_at (int parent, const char *name)
{
  _cleanup_close_ int fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d;
  struct dirent *de;

  if (fd < 0)
    return unlinkat (parent, name, 0) == 0 || errno == ENOENT ? 0 : -1;
  d = fdopendir (sb_steal_fd (&fd));
  if (d == NULL)
    return -1;
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      sb_rm_rf_at (dirfd (d), de->d_name);
  closedir (d);
  return unlinkat (parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : -1;
}

static int
write_small (const char *dir, const char *name, const char *content, sb_err **err)
{
  _cleanup_free_ char *path = sb_xasprintf ("%s/%s", dir, name);
  return sb_write_file_atomic (path, content, strlen (content), 0644, err);
}

/* The files bound over /etc/hostname, /etc/hosts and /etc/resolv.conf:
   sudo must be able to resolve the workspace's own name.  */
static int
write_etc (const char *wsdir, const sb_wsconfig *cfg, sb_err **err)
{
  _cleanup_free_ char *etc = sb_xasprintf ("%s/etc", wsdir);
  _cleanup_free_ char *hostname = sb_xasprintf ("%s\n", cfg->hostname);
  _cleanup_free_ char *hosts
      = sb_xasprintf ("127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost "
                      "ip6-loopback\n",
                      cfg->hostname);

  if (mkdir (etc, 0755) < 0 && errno != EEXIST)
    return sb_error (err, errno, "mkdir `%s`", etc);
  if (write_small (etc, "hostname", hostname, err) < 0 || write_small (etc, "hosts", hosts, err) < 0)
    return -1;
  return write_small (etc, "resolv.conf", cfg->network ? sb_net_resolv_conf () : "", err);
}

static int
make_dirs (sb_mgr *m, const char *name, const sb_wsconfig *cfg, sb_err **err)
{
  _cleanup_free_ char *dir = sb_mgr_ws_dir (m, name);
  _cleanup_free_ char *projects = sb_mgr_projects_dir (m, name);
  static const char *const subdirs[] = { "upper", "work", "bundle", "bundle/rootfs" };

  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    return sb_error (err, errno, "mkdir `%s`", dir);
  for (size_t i = 0; i < sizeof (subdirs) / sizeof (subdirs[0]); i++)
    {
      _cleanup_free_ char *d = sb_xasprintf ("%s/%s", dir, subdirs[i]);
      if (mkdir (d, 0755) < 0 && errno != EEXIST)
        return sb_error (err, errno, "mkdir `%s`", d);
    }
  /* The volume survives rm and re-creation; its owner is the workspace
     user as seen inside (stored unshifted, reached through an idmap).  */
  if (mkdir (projects, 0755) == 0 && chown (projects, cfg->uid, cfg->gid) < 0)
    return sb_error (err, errno, "chown `%s`", projects);
  if (errno != 0 && errno != EEXIST && access (projects, F_OK) < 0)
    return sb_error (err, errno, "mkdir `%s`", projects);
  return write_etc (dir, cfg, err);
}

int
sb_ws_create_held (sb_mgr *m, const char *name, const char *image, sb_wsconfig *cfg, int *lock_out,
                   sb_err **err)
{
  _cleanup_close_ int lock = -1;
  _cleanup_free_ char *config = NULL;
  sb_image_rec *img = NULL;
  sb_ws_rec ws = { 0 };
  int r;

  if (sb_check_name ("workspace", name, err) < 0)
    return -1;
  if (strcmp (cfg->isolation, "userns") != 0 && strcmp (cfg->isolation, "system") != 0
      && strcmp (cfg->isolation, "microvm") != 0)
    return sb_error (err, 0, "--isolation %s: unknown isolation mode (userns, system or microvm)",
                     cfg->isolation);
  if (strcmp (cfg->isolation, "microvm") == 0 && sb_ws_microvm_check (cfg, err) < 0)
    return -1;
  lock = sb_mgr_lock (m, name, true, err);
  if (lock < 0)
    return -1;
  r = sb_registry_image_get (m->reg, image, &img, err);
  if (r != 0)
    return r < 0 ? -1 : sb_error (err, 0, "image \"%s\" not found", image);
  sb_image_rec_free (img);
  if (sb_publish_check_free (cfg->publish, cfg->n_publish, err) < 0)
    return -1;
  if (sb_wsconfig_to_json (cfg, &config, err) < 0)
    return -1;
  ws = (sb_ws_rec){ .name = (char *)name,
                    .image = (char *)image,
                    .isolation = cfg->isolation,
                    .state = SB_WS_CREATING,
                    .exit_code = -1,
                    .config = config };
  if (sb_registry_ws_create (m->reg, &ws, m->pool_first, m->pool_count, err) < 0)
    return -1;
  if (make_dirs (m, name, cfg, err) < 0)
    return -1;
  if (strcmp (cfg->isolation, "microvm") == 0 && sb_ws_microvm_create (m, &ws, cfg, err) < 0)
    return -1;
  *lock_out = sb_steal_fd (&lock);
  return 0;
}

int
sb_ws_create (sb_mgr *m, const char *name, const char *image, sb_wsconfig *cfg, sb_err **err)
{
  _cleanup_close_ int lock = -1;

  if (sb_ws_create_held (m, name, image, cfg, &lock, err) < 0)
    return -1;
  return sb_registry_ws_set_state (m->reg, name, SB_WS_CREATED, 0, 0, -1, err);
}

/* The monitor is alive when its pid still has the recorded start time.  */
bool
sb_ws_monitor_alive (const sb_ws_rec *ws)
{
  uint64_t start;
  return ws->monitor_pid > 0 && sb_proc_start_time (ws->monitor_pid, &start) == 0
         && start == ws->monitor_start;
}

static int
load_ws (sb_mgr *m, const char *name, sb_ws_rec **ws, sb_err **err)
{
  int r;
  if (sb_check_name ("workspace", name, err) < 0)
    return -1;
  r = sb_registry_ws_get (m->reg, name, ws, err);
  if (r > 0)
    return sb_error (err, 0, "workspace \"%s\" not found", name);
  return r;
}

/* Starts the monitor and waits for its word: "" once the workspace runs,
   else the reason it could not start.  */
static int
spawn_monitor (sb_mgr *m, const char *name, sb_err **err)
{
  int p[2];
  char buf[4096];
  ssize_t n;
  pid_t pid;

  if (pipe2 (p, O_CLOEXEC) < 0)
    return sb_error (err, errno, "pipe");
  /* Forked twice: the monitor belongs to init (or the caller's subreaper),
     not to this short-lived command, so no one leaves it a zombie.  */
  pid = fork ();
  if (pid < 0)
    return sb_error (err, errno, "fork the monitor");
  if (pid == 0)
    {
      close (p[0]);
      if (fork () == 0)
        sb_monitor_main (m, name, p[1]);
      _exit (0);
    }
  close (p[1]);
  waitpid (pid, NULL, 0);
  n = sb_read_all (p[0], buf, sizeof (buf) - 1);
  close (p[0]);
  if (n > 0)
    {
      buf[n] = '\0';
      return sb_error (err, 0, "start workspace \"%s\": %s", name, buf);
    }
  return 0;
}

int
sb_ws_start (sb_mgr *m, const char *name, sb_err **err)
{
  _cleanup_close_ int lock = -1;
  sb_ws_rec *ws = NULL;
  int ret;

  lock = sb_mgr_lock (m, name, true, err);
  if (lock < 0 || load_ws (m, name, &ws, err) < 0)
    return -1;
  if (ws->state == SB_WS_RUNNING && sb_ws_monitor_alive (ws))
    ret = sb_error (err, 0, "workspace \"%s\" is already running", name);
  else if (ws->state == SB_WS_CREATING || ws->state == SB_WS_REMOVING)
    ret = sb_error (err, 0, "workspace \"%s\" is being %s", name,
                    ws->state == SB_WS_CREATING ? "created" : "removed");
  else if (strcmp (ws->isolation, "microvm") == 0)
    ret = sb_ws_microvm_start (m, ws, err);
  else
    ret = spawn_monitor (m, name, err);
  sb_ws_rec_free (ws);
  return ret;
}

/* Waits for a process that is not our child to be gone.  */
static bool
wait_gone (pid_t pid, int timeout_ms)
{
  _cleanup_close_ int fd = (int)syscall (SYS_pidfd_open, pid, 0);
  struct pollfd p = { .fd = fd, .events = POLLIN };
  if (fd < 0)
    return true;
  return poll (&p, 1, timeout_ms) > 0;
}

/* Stops a running workspace: SIGTERM to its init (which passes it on and
   exits), SIGKILL to everything after the timeout.  The monitor records
   the exit; when the monitor is gone, the caller cleans up itself.  */
static int
stop_locked (sb_mgr *m, sb_ws_rec *ws, int timeout, sb_err **err)
{
  _cleanup_err_ sb_err *ignored = NULL;

  if (ws->state != SB_WS_RUNNING)
    return sb_error (err, 0, "workspace \"%s\" is not running", ws->name);
  if (strcmp (ws->isolation, "microvm") == 0)
    return sb_ws_microvm_stop (m, ws, timeout, err);
  if (sb_ws_monitor_alive (ws))
    {
      sb_container_kill (m->run_root, ws->name, sb_ws_stop_signal (m->run_root, ws->name), false, &ignored);
      if (!wait_gone (ws->monitor_pid, timeout * 1000))
        {
          sb_err_free (&ignored);
          sb_container_kill (m->run_root, ws->name, SIGKILL, true, &ignored);
          wait_gone (ws->monitor_pid, 10000);
        }
      if (!wait_gone (ws->monitor_pid, 0))
        kill (ws->monitor_pid, SIGKILL);
    }
  sb_err_free (&ignored);
  /* Whatever the monitor could not finish.  */
  sb_container_delete (m->run_root, ws->name, true, &ignored);
  sb_err_free (&ignored);
  {
    sb_ws_rec *now = NULL;
    if (sb_registry_ws_get (m->reg, ws->name, &now, err) == 0 && now->state == SB_WS_RUNNING)
      sb_registry_ws_set_state (m->reg, ws->name, SB_WS_STOPPED, 0, 0, 128 + SIGKILL, err);
    sb_ws_rec_free (now);
  }
  return 0;
}

int
sb_ws_stop (sb_mgr *m, const char *name, int timeout, sb_err **err)
{
  _cleanup_close_ int lock = -1;
  sb_ws_rec *ws = NULL;
  int ret;

  lock = sb_mgr_lock (m, name, true, err);
  if (lock < 0 || load_ws (m, name, &ws, err) < 0)
    return -1;
  ret = stop_locked (m, ws, timeout, err);
  sb_ws_rec_free (ws);
  return ret;
}

/* Removes every file of the workspace; the row goes last, so a kill in
   between leaves a REMOVING row that gc finishes.  */
int
sb_ws_remove_files (sb_mgr *m, const char *name, bool volumes)
{
  _cleanup_close_ int wsroot = -1, volroot = -1;
  _cleanup_free_ char *ws_parent = sb_xasprintf ("%s/workspaces", m->root);
  _cleanup_free_ char *vol_parent = sb_xasprintf ("%s/volumes", m->root);
  _cleanup_free_ char *vol = sb_xasprintf ("%s-projects", name);

  sb_container_delete (m->run_root, name, true, NULL);
  wsroot = open (ws_parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (wsroot < 0 || sb_rm_rf_at (wsroot, name) < 0)
    return -1;
  if (!volumes)
    return 0;
  volroot = open (vol_parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return volroot < 0 ? -1 : sb_rm_rf_at (volroot, vol);
}

int
sb_ws_rm (sb_mgr *m, const char *name, bool force, bool volumes, sb_err **err)
{
  _cleanup_close_ int lock = -1;
  sb_ws_rec *ws = NULL;
  int ret = 0;

  lock = sb_mgr_lock (m, name, true, err);
  if (lock < 0 || load_ws (m, name, &ws, err) < 0)
    return -1;
  if (ws->state == SB_WS_RUNNING && sb_ws_monitor_alive (ws) && !force)
    ret = sb_error (err, 0, "workspace \"%s\" is running: stop it first or use rm --force", name);
  /* A container whose monitor is gone needs no stop: removing the files
     deletes it, and REMOVING already tells gc to finish a killed rm.  */
  else if (ws->state == SB_WS_RUNNING && (sb_ws_monitor_alive (ws) || strcmp (ws->isolation, "microvm") == 0))
    ret = stop_locked (m, ws, 0, err);
  if (ret == 0)
    ret = sb_registry_ws_set_state (m->reg, name, SB_WS_REMOVING, 0, 0, ws->exit_code, err);
  if (ret == 0 && sb_ws_remove_files (m, name, volumes) < 0)
    ret = sb_error (err, errno, "remove the files of workspace \"%s\"", name);
  if (ret == 0)
    ret = sb_registry_ws_delete (m->reg, name, err);
  sb_ws_rec_free (ws);
  return ret;
}
