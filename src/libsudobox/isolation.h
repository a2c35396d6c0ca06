/* The isolation modes as modules: what a mode adds to the common container
   code, called through this small table at points of create, exec and
   delete.  A NULL entry means the mode adds nothing there.  The userns mode
   is the common code itself (an empty table); "system" lives in
   isolation-system.c.  */
#ifndef SB_ISOLATION_H
#define SB_ISOLATION_H

#include <sys/types.h>

#include "cgroup.h"
#include "container.h"
#include "error.h"
#include "spec.h"

/* A step of the init that a mode runs at the right point of its own.  */
typedef struct sb_isolation_step
{
  int (*run) (void *arg, sb_err **err);
  void *arg;
} sb_isolation_step;

typedef struct sb_isolation_ops
{
  /* In the runtime, after the spec is parsed, before anything is created:
     checks what the mode needs and adjusts the spec for it.  */
  int (*prepare) (sb_spec *spec, const sb_create_opts *o, sb_err **err);
  /* In exec, on the spec recorded at create (as the bundle gave it): what
     prepare changed that a new process needs too (its seccomp filter).  */
  int (*exec_prepare) (sb_spec *spec, const char *state_dir, sb_err **err);
  /* In the runtime, once the container's cgroup exists and before its init
     is cloned (what is mounted now is in the init's copy of the mount
     namespace): root_uid/root_gid are the host ids of the container's root.
     The runtime connects to the spec's seccomp listener after this.  */
  int (*cgroup_created) (sb_cgroup *cg, const char *state_dir, uid_t root_uid, gid_t root_gid, sb_err **err);
  /* Below the state directory: what the init opens in its mount namespace
     while it may still search the state directory (before it becomes root
     inside), for mounts_built.  NULL: nothing.  */
  const char *init_dir;
  /* In the container's init, once the spec's mounts are built (proc and
     sys mounted), before the change of root: dirfd is the O_PATH fd of
     init_dir, rootfd the container's root mount.  */
  int (*mounts_built) (int dirfd, int rootfd, sb_err **err);
  /* In the container's init, after the change of root and the console.
     Must call configure (hostname, sysctls: in the namespaces the program
     will run in) and then restrict_paths (masked and read-only paths: in the
     mount namespace built so far), once each, in that order.  Without it
     the init calls the two itself.  */
  int (*seal) (const sb_spec *spec, const sb_isolation_step *configure,
               const sb_isolation_step *restrict_paths, sb_err **err);
  /* In delete (and when create fails): stops what the mode started.  */
  int (*teardown) (const char *state_dir, sb_err **err);
} sb_isolation_ops;

/* The table of a mode; an error naming the mode when it is not built.  */
const sb_isolation_ops *sb_isolation_ops_get (sb_isolation mode, sb_err **err);

/* Stops what any mode started for the container whose state is in
   state_dir: delete may not know the mode (a runtime killed before it
   recorded the state), and nothing started is not an error.  */
int sb_isolation_teardown (const char *state_dir, sb_err **err);

extern const sb_isolation_ops sb_isolation_system_ops;

#endif
