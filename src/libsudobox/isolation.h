/* The isolation modes as modules: what a mode adds to the common container
   code, called through this small table at three points of create.  A NULL
   entry means the mode adds nothing there.  The userns mode is the common
   code itself (an empty table); "system" lives in isolation-system.c.  */
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
  /* In the runtime, once the container's cgroup exists: root_uid/root_gid
     are the host ids of the container's root.  */
  int (*cgroup_created) (sb_cgroup *cg, uid_t root_uid, gid_t root_gid, sb_err **err);
  /* In the container's init, after the change of root and the console.
     Must call configure (hostname, sysctls: in the namespaces the program
     will run in) and then restrict_paths (masked and read-only paths: in the
     mount namespace built so far), once each, in that order.  Without it
     the init calls the two itself.  */
  int (*seal) (const sb_spec *spec, const sb_isolation_step *configure,
               const sb_isolation_step *restrict_paths, sb_err **err);
} sb_isolation_ops;

/* The table of a mode; an error naming the mode when it is not built.  */
const sb_isolation_ops *sb_isolation_ops_get (sb_isolation mode, sb_err **err);

extern const sb_isolation_ops sb_isolation_system_ops;

#endif
