/* Garbage collection: what a killed command left half-done.  Every change
   to a workspace happens under its lock, so a row in a transitional state
   whose lock is free was abandoned.  */
#include "manager.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "container.h"
#include "util.h"

static int
collect_locked (sb_mgr *m, const sb_ws_rec *ws, int *cleaned, sb_err **err)
{
  if (ws->state == SB_WS_CREATING || ws->state == SB_WS_REMOVING)
    {
      if (sb_ws_remove_files (m, ws->name, false) < 0)
        return sb_error (err, errno, "gc: remove the files of workspace \"%s\"", ws->name);
      (*cleaned)++;
      return sb_registry_ws_delete (m->reg, ws->name, err);
    }
  if (ws->state == SB_WS_RUNNING && !sb_ws_monitor_alive (ws))
    {
      sb_container_delete (m->run_root, ws->name, true, NULL);
      (*cleaned)++;
      return sb_registry_ws_set_state (m->reg, ws->name, SB_WS_STOPPED, 0, 0, 128 + SIGKILL, err);
    }
  return 0;
}

/* The row is read again once the lock is ours: the listing may predate a
   command that finished in between.  */
static int
collect_ws (sb_mgr *m, const char *name, int *cleaned, sb_err **err)
{
  _cleanup_close_ int lock = sb_mgr_lock (m, name, false, NULL);
  sb_ws_rec *ws = NULL;
  int ret;

  if (lock < 0)
    return 0; /* another command is working on it */
  if (sb_registry_ws_get (m->reg, name, &ws, err) != 0)
    return 0;
  ret = collect_locked (m, ws, cleaned, err);
  sb_ws_rec_free (ws);
  return ret;
}

/* Containers in the library's state that no running workspace owns.  */
static void
collect_orphans (sb_mgr *m, int *cleaned)
{
  _cleanup_strv_ char **ids = NULL;

  if (sb_state_list (m->run_root, true, &ids, NULL) < 0)
    return;
  for (size_t i = 0; ids && ids[i]; i++)
    {
      _cleanup_close_ int lock = sb_mgr_lock (m, ids[i], false, NULL);
      sb_ws_rec *ws = NULL;
      bool owned;
      if (lock < 0)
        continue;
      owned = sb_registry_ws_get (m->reg, ids[i], &ws, NULL) == 0 && ws->state == SB_WS_RUNNING
              && sb_ws_monitor_alive (ws);
      sb_ws_rec_free (ws);
      if (!owned && sb_container_delete (m->run_root, ids[i], true, NULL) == 0)
        (*cleaned)++;
    }
}

/* Image directories whose build or import never reached the registry.  */
static void
collect_image_tmp (sb_mgr *m, int *cleaned)
{
  _cleanup_free_ char *dir = sb_xasprintf ("%s/images", m->root);
  _cleanup_close_ int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = dfd >= 0 ? fdopendir (dup (dfd)) : NULL;
  struct dirent *de;

  while (d && (de = readdir (d)) != NULL)
    {
      _cleanup_close_ int lock = -1;
      _cleanup_free_ char *lockname = NULL;
      if (strncmp (de->d_name, ".tmp-", 5) != 0)
        continue;
      lockname = sb_xasprintf (".image-%s", de->d_name + 5);
      lock = sb_mgr_lock (m, lockname, false, NULL);
      if (lock >= 0 && sb_rm_rf_at (dfd, de->d_name) == 0)
        (*cleaned)++;
    }
  if (d)
    closedir (d);
}

int
sb_mgr_gc (sb_mgr *m, int *cleaned, sb_err **err)
{
  sb_ws_rec **list = NULL;
  size_t n = 0;
  int count = 0, ret = 0;

  if (sb_registry_ws_list (m->reg, &list, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n && ret == 0; i++)
    if (collect_ws (m, list[i]->name, &count, err) < 0)
      ret = -1;
  sb_ws_rec_list_free (list);
  collect_orphans (m, &count);
  collect_image_tmp (m, &count);
  if (ret == 0)
    ret = sb_registry_prune_claims (m->reg, err);
  if (cleaned)
    *cleaned = count;
  return ret;
}
