/* The commands that act on an existing container through its recorded
   state: state, kill, delete, pause/resume, update, ps.  */
#include "container.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup.h"
#include "hooks.h"
#include "idrange.h"
#include "isolation.h"
#include "microvm-oci.h"
#include "log.h"
#include "util.h"

int
sb_container_load (const char *root, const char *id, sb_state **st, sb_status *status, sb_err **err)
{
  bool frozen = false;

  if (sb_state_check_id (id, err) < 0 || sb_state_read (root, id, st, err) < 0)
    return -1;
  if ((*st)->cgroup_path)
    {
      _cleanup_cgroup_ sb_cgroup *cg = NULL;
      if (sb_cgroup_load ((*st)->cgroup_path, &cg, NULL) == 0)
        sb_cgroup_is_frozen (cg, &frozen, NULL);
    }
  *status = sb_state_live_status (*st, frozen);
  return 0;
}

int
sb_container_state_json (const char *root, const char *id, char **json, sb_err **err)
{
  _cleanup_state_ sb_state *st = NULL;
  sb_status status;

  if (sb_container_load (root, id, &st, &status, err) < 0)
    return -1;
  *json = sb_state_to_oci_json (st, status);
  return 0;
}

/* A pidfd of the container's init, or -1 when it is gone or the pid was
   reused (checked after opening, so the fd cannot refer to a stranger).  */
static int
init_pidfd (const sb_state *st)
{
  uint64_t start;
  int fd;

  if (st->pid <= 0)
    return -1;
  fd = (int)syscall (SYS_pidfd_open, st->pid, 0);
  if (fd < 0)
    return -1;
  if (sb_proc_start_time (st->pid, &start) < 0 || start != st->pid_start)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static int
signal_init (const sb_state *st, int sig, sb_err **err)
{
  _cleanup_close_ int fd = init_pidfd (st);
  if (fd < 0)
    return sb_error (err, ESRCH, "container \"%s\" is not running", st->id);
  if (syscall (SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
    return sb_error (err, errno, "send signal %d to container \"%s\"", sig, st->id);
  return 0;
}

/* True when the init is PID 1 of a pid namespace of its own ("NSpid: N 1"):
   SIGKILL to it then kills every process of the container, and its exit
   is seen only after they are gone, so no freezing is needed.  */
static bool
init_owns_pidns (const sb_state *st)
{
  _cleanup_free_ char *path = sb_xasprintf ("/proc/%d/status", st->pid);
  _cleanup_fclose_ FILE *f = fopen (path, "re");
  char line[256];

  while (f && fgets (line, sizeof line, f))
    if (strncmp (line, "NSpid:", 6) == 0)
      {
        char *last = strrchr (line, '\t');
        return last != NULL && last != strchr (line, '\t') && strcmp (last + 1, "1\n") == 0;
      }
  return false;
}

int
sb_container_kill (const char *root, const char *id, int sig, bool all, sb_err **err)
{
  if (sb_microvm_oci_is (root, id))
    return sb_microvm_oci_kill (root, id, sig, err);
  _cleanup_close_ int lock = sb_state_lock (root, id, err);
  _cleanup_state_ sb_state *st = NULL;
  sb_status status;

  if (lock < 0 || sb_container_load (root, id, &st, &status, err) < 0)
    return -1;
  if (status == SB_STATUS_STOPPED && !all)
    return sb_error (err, 0, "container \"%s\" is not running", id);
  if (all && sig == SIGKILL && (status == SB_STATUS_RUNNING || status == SB_STATUS_CREATED)
      && init_owns_pidns (st))
    return signal_init (st, sig, err);
  if (all && st->cgroup_path)
    {
      _cleanup_cgroup_ sb_cgroup *cg = NULL;
      if (sb_cgroup_load (st->cgroup_path, &cg, err) < 0)
        return -1;
      return sb_cgroup_kill (cg, sig, err);
    }
  return signal_init (st, sig, err);
}

/* Kills the init and waits until it is gone (a zombie counts: its parent
   reaps it, not us).  */
static void
kill_and_wait (const sb_state *st)
{
  _cleanup_close_ int fd = init_pidfd (st);
  struct pollfd p;

  if (fd < 0)
    return;
  syscall (SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
  p = (struct pollfd){ .fd = fd, .events = POLLIN };
  poll (&p, 1, 10000);
}

static void
run_poststop (const sb_state *st)
{
  _cleanup_spec_ sb_spec *spec = NULL;
  _cleanup_free_ char *json = NULL;
  _cleanup_err_ sb_err *err = NULL;

  if (st->config_json == NULL || sb_spec_parse (st->config_json, strlen (st->config_json), &spec, &err) < 0)
    return;
  json = sb_state_to_oci_json (st, SB_STATUS_STOPPED);
  if (sb_hooks_run (SB_HOOK_POSTSTOP, spec->hooks[SB_HOOK_POSTSTOP], spec->n_hooks[SB_HOOK_POSTSTOP], json,
                    &err)
      < 0)
    sb_warn ("%s", err->msg);
}

/* What the isolation mode started, then the state directory.  */
static int
remove_state (const char *root, const char *id, sb_err **err)
{
  _cleanup_free_ char *dir = sb_xasprintf ("%s/%s", root, id);

  if (sb_isolation_teardown (dir, err) < 0)
    return -1;
  return sb_state_remove (root, id, err);
}

/* A runtime killed before it wrote any state leaves only the directory
   (and maybe an id range and what the isolation mode started): remove
   them.  */
static int
delete_unrecorded (const char *root, const char *id, sb_err **err)
{
  sb_err_free (err);
  if (sb_idrange_free (root, id, err) < 0)
    return -1;
  return remove_state (root, id, err);
}

int
sb_container_delete (const char *root, const char *id, bool force, sb_err **err)
{
  if (sb_microvm_oci_is (root, id))
    return sb_microvm_oci_delete (root, id, force, err);
  _cleanup_close_ int lock = sb_state_lock (root, id, err);
  _cleanup_state_ sb_state *st = NULL;
  sb_status status;

  if (lock < 0)
    return -1;
  if (sb_container_load (root, id, &st, &status, err) < 0)
    return err && *err && (*err)->errnum == ENOENT ? delete_unrecorded (root, id, err) : -1;
  if ((status == SB_STATUS_RUNNING || status == SB_STATUS_PAUSED) && !force)
    return sb_error (err, 0, "cannot delete container \"%s\" that is not stopped: %s (use --force)", id,
                     sb_status_name (status));
  if (st->cgroup_path)
    {
      _cleanup_cgroup_ sb_cgroup *cg = NULL;
      if (sb_cgroup_load (st->cgroup_path, &cg, NULL) == 0)
        {
          sb_cgroup_kill (cg, SIGKILL, NULL);
          kill_and_wait (st);
          if (sb_cgroup_destroy (cg, err) < 0)
            return -1;
        }
    }
  kill_and_wait (st);
  run_poststop (st);
  if (st->userns_auto && sb_idrange_free (root, id, err) < 0)
    return -1;
  return remove_state (root, id, err);
}

int
sb_container_pause (const char *root, const char *id, bool pause, sb_err **err)
{
  _cleanup_close_ int lock = sb_state_lock (root, id, err);
  _cleanup_state_ sb_state *st = NULL;
  _cleanup_cgroup_ sb_cgroup *cg = NULL;
  sb_status status;

  if (lock < 0 || sb_container_load (root, id, &st, &status, err) < 0)
    return -1;
  if (pause && status != SB_STATUS_RUNNING && status != SB_STATUS_CREATED)
    return sb_error (err, 0, "cannot pause container \"%s\": it is %s", id, sb_status_name (status));
  if (!pause && status != SB_STATUS_PAUSED)
    return sb_error (err, 0, "cannot resume container \"%s\": it is %s, not paused", id,
                     sb_status_name (status));
  if (st->cgroup_path == NULL || sb_cgroup_load (st->cgroup_path, &cg, err) < 0)
    return sb_error (err, 0, "container \"%s\" has no cgroup to freeze", id);
  return sb_cgroup_freeze (cg, pause, err);
}

int
sb_container_update (const char *root, const char *id, const sb_resources *res, sb_err **err)
{
  _cleanup_close_ int lock = sb_state_lock (root, id, err);
  _cleanup_state_ sb_state *st = NULL;
  _cleanup_cgroup_ sb_cgroup *cg = NULL;
  enum sb_cgroup_mode mode;
  sb_status status;

  if (lock < 0 || sb_container_load (root, id, &st, &status, err) < 0)
    return -1;
  if (status == SB_STATUS_STOPPED)
    return sb_error (err, 0, "container \"%s\" is not running", id);
  if (st->cgroup_path == NULL || sb_cgroup_load (st->cgroup_path, &cg, err) < 0)
    return sb_error (err, 0, "container \"%s\" has no cgroup", id);
  if (sb_cgroup_detect (&mode, err) < 0 || sb_cgroup_validate (res, mode, err) < 0)
    return -1;
  return sb_cgroup_update (cg, res, err);
}

int
sb_container_pids (const char *root, const char *id, pid_t **pids, size_t *n, sb_err **err)
{
  _cleanup_state_ sb_state *st = NULL;
  _cleanup_cgroup_ sb_cgroup *cg = NULL;
  sb_status status;

  *pids = NULL;
  *n = 0;
  if (sb_container_load (root, id, &st, &status, err) < 0)
    return -1;
  if (status == SB_STATUS_STOPPED || st->cgroup_path == NULL)
    return 0;
  if (sb_cgroup_load (st->cgroup_path, &cg, err) < 0)
    return -1;
  return sb_cgroup_pids (cg, pids, n, err);
}
