/* cgroups for a container: one interface over cgroup v2 (unified) and v1
   (one hierarchy per controller; "hybrid" hosts that also have a v2 mount
   are driven through their v1 controllers).  The runtime only ever writes
   below the directories it created itself.  */
#ifndef SB_CGROUP_H
#define SB_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

enum sb_cgroup_mode
{
  SB_CGROUP_V1,      /* legacy or hybrid: v1 controllers */
  SB_CGROUP_UNIFIED, /* pure v2 at /sys/fs/cgroup */
};

typedef struct sb_cgroup sb_cgroup;

/* Detects the host's layout (statfs of /sys/fs/cgroup).  */
int sb_cgroup_detect (enum sb_cgroup_mode *mode, sb_err **err);

/* Checks resources against what the host supports and what is sane
   (memory below 6 MiB? unknown unified keys on v1? cpu quota without period),
   before anything is created.  */
int sb_cgroup_validate (const sb_resources *res, enum sb_cgroup_mode mode, sb_err **err);

/* Creates the container's cgroup.  path is linux.cgroupsPath: absolute paths
   are taken below the hierarchy root, relative ones below the runtime's own
   cgroup; NULL defaults to "/sudobox/<id>".  Applies res (may be NULL).
   Fails with a clear error if the cgroup exists and holds processes.  */
int sb_cgroup_create (const char *id, const char *path, const sb_resources *res, sb_cgroup **out,
                      sb_err **err);
/* sb_cgroup_create in two steps, for a caller that records the path before
   the directories exist: plan resolves and checks (nothing is written),
   make creates the directories and applies res.  */
int sb_cgroup_plan (const char *id, const char *path, const sb_resources *res, sb_cgroup **out, sb_err **err);
int sb_cgroup_make (sb_cgroup *cg, const sb_resources *res, sb_err **err);
/* Reopens the cgroup of an existing container from its recorded path.  */
int sb_cgroup_load (const char *path, sb_cgroup **out, sb_err **err);
/* The path that is recorded in the state and reported ("/sudobox/ID").  */
const char *sb_cgroup_path (const sb_cgroup *cg);
enum sb_cgroup_mode sb_cgroup_get_mode (const sb_cgroup *cg);

int sb_cgroup_enter (sb_cgroup *cg, pid_t pid, sb_err **err);
/* On v1, the `tasks` file of each of the container's hierarchies, open for
   writing, for a new single-threaded process to move itself by writing
   "0": a thread moving itself is the one migration the kernel does without
   its global cgroup_threadgroup_rwsem, whose write side waits for an RCU
   grace period (7 to 27 ms measured here) on every sb_cgroup_enter after a
   quiet moment.  The kernel checks the opener's credentials (these fds'),
   not the writer's, so a process in a new user namespace can use them.
   *n is 0 on v2, where sb_cgroup_enter or CLONE_INTO_CGROUP apply.  */
int sb_cgroup_self_join_fds (sb_cgroup *cg, int **fds, size_t *n, sb_err **err);
/* On the unified hierarchy, an fd of the container's cgroup for
   clone3(CLONE_INTO_CGROUP): a child born there needs no migration, which
   costs an RCU grace period per write to cgroup.procs.  -1 on v1.  */
int sb_cgroup_open_fd (sb_cgroup *cg);
int sb_cgroup_update (sb_cgroup *cg, const sb_resources *res, sb_err **err);
int sb_cgroup_freeze (sb_cgroup *cg, bool frozen, sb_err **err);
int sb_cgroup_is_frozen (sb_cgroup *cg, bool *frozen, sb_err **err);
/* Every pid in the cgroup and its descendants, host pid namespace.  */
int sb_cgroup_pids (sb_cgroup *cg, pid_t **pids, size_t *n, sb_err **err);
/* Sends sig to every process (thaws first when SIGKILL so it is delivered).  */
int sb_cgroup_kill (sb_cgroup *cg, int sig, sb_err **err);
/* Hands the container's cgroup directories over to its root (uid, gid on
   the host): it may then create and limit cgroups below them, within the
   limits set on them.  In cgroup-delegate.c.  */
int sb_cgroup_delegate (sb_cgroup *cg, uid_t uid, gid_t gid, sb_err **err);
/* sb_cgroup_enter for a process exec'd into a running container: when the
   container's v2 cgroup is no longer a leaf (its root enabled controllers
   below it, as systemd does, and v2 refuses processes in such a cgroup:
   EBUSY), the process joins the cgroup of the container's init instead
   (init.scope under systemd), as runc does.  On v1, when pid is the
   caller, which must be single-threaded (a fresh fork), it moves itself
   through `tasks` (see sb_cgroup_self_join_fds).  In cgroup-delegate.c.  */
int sb_cgroup_enter_exec (sb_cgroup *cg, pid_t init, pid_t pid, sb_err **err);
/* Kills what is left, waits for it to go and removes every directory it created.  */
int sb_cgroup_destroy (sb_cgroup *cg, sb_err **err);
void sb_cgroup_free (sb_cgroup *cg);
void sb_cgroup_freep (sb_cgroup **cg);
#define _cleanup_cgroup_ __attribute__ ((cleanup (sb_cgroup_freep)))

#endif
