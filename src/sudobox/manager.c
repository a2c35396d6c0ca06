#include "manager.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "idrange.h"
#include "selfexe.h"
#include "util.h"

static int
ws_pool (sb_mgr *m, sb_err **err)
{
  sb_idpool pool;
  _cleanup_err_ sb_err *none = NULL;
  const char *file = secure_getenv ("SUDOBOX_SUBID_FILE");

  m->pool_first = SB_WS_POOL_FIRST;
  m->pool_count = SB_WS_POOL_COUNT;
  if (sb_idpool_from_subid (file ? file : "/etc/subuid", "sudobox-ws", &pool, &none) == 0)
    {
      m->pool_first = pool.first;
      m->pool_count = pool.count;
    }
  (void)err;
  return 0;
}

int
sb_mgr_open (const char *root, sb_mgr **out, sb_err **err)
{
  sb_mgr *m = sb_xmalloc0 (sizeof (*m));
  char real[PATH_MAX];
  static const char *const subdirs[] = { "images", "workspaces", "volumes", "locks", "run" };

  if (sb_mkdir_p (root, 0700, err) < 0 || realpath (root, real) == NULL)
    {
      free (m);
      return sb_error (err, errno, "state root `%s`", root);
    }
  /* Files that root writes inside workspaces are stored as host root below
     here: nobody else may reach them.  */
  chmod (real, 0700);
  m->root = sb_xstrdup (real);
  m->run_root = sb_xasprintf ("%s/run", real);
  for (size_t i = 0; i < sizeof (subdirs) / sizeof (subdirs[0]); i++)
    {
      _cleanup_free_ char *d = sb_xasprintf ("%s/%s", real, subdirs[i]);
      if (mkdir (d, 0700) < 0 && errno != EEXIST)
        {
          sb_mgr_close (m);
          return sb_error (err, errno, "mkdir `%s`", d);
        }
    }
  if (ws_pool (m, err) < 0 || sb_registry_open (real, &m->reg, err) < 0)
    {
      sb_mgr_close (m);
      return -1;
    }
  *out = m;
  return 0;
}

void
sb_mgr_close (sb_mgr *m)
{
  if (m == NULL)
    return;
  if (m->reg)
    sb_registry_close (m->reg);
  free (m->root);
  free (m->run_root);
  free (m);
}

int
sb_mgr_lock (sb_mgr *m, const char *name, bool wait, sb_err **err)
{
  _cleanup_free_ char *path = sb_xasprintf ("%s/locks/%s.lock", m->root, name);
  _cleanup_close_ int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

  if (fd < 0)
    return sb_error (err, errno, "lock `%s`", path);
  while (flock (fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0)
    {
      if (errno == EINTR)
        continue;
      if (errno == EWOULDBLOCK)
        return sb_error (err, 0, "workspace \"%s\" is busy with another sudobox command", name);
      return sb_error (err, errno, "lock `%s`", path);
    }
  return sb_steal_fd (&fd);
}

char *
sb_mgr_ws_dir (const sb_mgr *m, const char *name)
{
  return sb_xasprintf ("%s/workspaces/%s", m->root, name);
}

char *
sb_mgr_projects_dir (const sb_mgr *m, const char *name)
{
  return sb_xasprintf ("%s/volumes/%s-projects", m->root, name);
}

int
sb_mgr_init_path (char **out, sb_err **err)
{
  return sb_find_helper ("sudobox-init", "init", "SUDOBOX_INIT", out, err);
}

int
sb_mgr_monitor_path (char **out, sb_err **err)
{
  return sb_find_helper ("sudobox-monitor", "monitor", "SUDOBOX_MONITOR", out, err);
}
