/* Delegation of a container's cgroup to its root (cgroup v2's delegation
   model, Documentation/admin-guide/cgroup-v2.rst "Delegation"): the
   directory and the files that move processes and enable controllers below
   it change owner.  The limit knobs of the directory itself stay host
   root's, so everything the container creates below is bounded by them.  On
   v1 each hierarchy's directory is handed over the same way (cgroup.procs,
   tasks): v1 has no delegation model, but its hierarchical limits (memory,
   pids, cpu) hold for the subdirectories too.  */
#include "cgroup-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* What the kernel lists in /sys/kernel/cgroup/delegate, plus v1's "tasks". */
static const char *const delegated_files[]
    = { "cgroup.procs", "cgroup.threads", "cgroup.subtree_control", "tasks", "cgroup.clone_children", NULL };

static int
chown_dir (const char *dir, uid_t uid, gid_t gid, sb_err **err)
{
  _cleanup_close_ int fd = open (dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);

  if (fd < 0 || fchown (fd, uid, gid) < 0)
    return sb_error (err, errno, "delegate the cgroup `%s`", dir);
  for (size_t i = 0; delegated_files[i]; i++)
    if (fchownat (fd, delegated_files[i], uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
      return sb_error (err, errno, "delegate `%s/%s`", dir, delegated_files[i]);
  return 0;
}

int
sb_cgroup_delegate (sb_cgroup *cg, uid_t uid, gid_t gid, sb_err **err)
{
  for (size_t i = 0; i < cg->n_hiers; i++)
    if (cg->hiers[i].dir && chown_dir (cg->hiers[i].dir, uid, gid, err) < 0)
      return -1;
  return 0;
}

/* The init's cgroup on the v2 hierarchy, from /proc/PID/cgroup ("0::PATH",
   host view), if it is below the container's.  */
static char *
init_cgroup_dir (const sb_cgroup *cg, pid_t init)
{
  _cleanup_free_ char *path = sb_xasprintf ("/proc/%d/cgroup", init);
  _cleanup_fclose_ FILE *f = fopen (path, "re");
  size_t n = strlen (cg->path);
  char line[4096];

  while (f && fgets (line, sizeof (line), f))
    {
      line[strcspn (line, "\n")] = '\0';
      if (strncmp (line, "0::", 3) == 0 && strncmp (line + 3, cg->path, n) == 0 && line[3 + n] == '/')
        return sb_xasprintf ("%s%s", cg->hiers[0].mount, line + 3);
    }
  return NULL;
}

/* A v1 hierarchy mounted after the container was created has no directory
   for it: the others still hold the process, as in sb_cgroup_enter.  */
static int
enter_self_v1 (sb_cgroup *cg, sb_err **err)
{
  size_t joined = 0;

  for (size_t i = 0; i < cg->n_hiers; i++)
    {
      if (access (cg->hiers[i].dir, F_OK) < 0 && errno == ENOENT)
        continue;
      if (sb_cg_write (cg->hiers[i].dir, "tasks", "0", NULL, err) < 0)
        return sb_error_wrap (err, "join cgroup %s", cg->path);
      joined++;
    }
  return joined > 0 ? 0 : sb_error (err, ENOENT, "join cgroup %s", cg->path);
}

int
sb_cgroup_enter_exec (sb_cgroup *cg, pid_t init, pid_t pid, sb_err **err)
{
  _cleanup_err_ sb_err *busy = NULL;
  _cleanup_free_ char *dir = NULL;
  char buf[32];

  if (cg->mode == SB_CGROUP_V1 && pid == getpid ())
    return enter_self_v1 (cg, err);
  if (sb_cgroup_enter (cg, pid, &busy) == 0)
    return 0;
  if (cg->mode != SB_CGROUP_UNIFIED || busy->errnum != EBUSY || strcmp (cg->hiers[0].root, "/") != 0
      || (dir = init_cgroup_dir (cg, init)) == NULL)
    return sb_error (err, busy->errnum, "%s", busy->msg);
  snprintf (buf, sizeof (buf), "%d", pid);
  if (sb_cg_write (dir, "cgroup.procs", buf, NULL, err) < 0)
    return sb_error_wrap (err, "add pid %d to the init's cgroup", pid);
  return 0;
}
