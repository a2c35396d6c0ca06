/* The container's side of create: stage 1 joins and creates namespaces and
   forks the init (stage 2, PID 1 of the new pid namespace, a child of the
   runtime through CLONE_PARENT), which builds the root filesystem, waits
   for `start` and runs the user program.  */
#ifndef SB_INIT_H
#define SB_INIT_H

#include <stdbool.h>

#include "container.h"
#include "isolation.h"
#include "process.h"
#include "spec.h"

typedef struct sb_init_ctx
{
  const sb_spec *spec;
  const sb_create_opts *opts;
  const char *rootfs; /* absolute */
  int rootfs_dir;     /* O_PATH fd of it, opened by the runtime as host root */
  int lock_fd;        /* the runtime's lock on the state: not ours to hold */
  bool userns_new;    /* stage 1 unshares a user namespace; the runtime writes its maps */
  bool userns;        /* the container runs in a user namespace */
  sb_exec_plan *plan;
  const sb_isolation_ops *iso; /* what the isolation mode adds */
  const char *iso_dir;         /* absolute path of iso->init_dir, or NULL */
  int iso_dirfd;               /* iso_dir, opened by the init in its mount namespace */
  int sync;                    /* the child's end of the sync socketpair */
  int listen_fd;               /* start.sock, accepted once by `start` */
  const char *cgroup_path;     /* for cgroup mounts */
  bool cgroup_unified;
} sb_init_ctx;

_Noreturn void sb_init_stage1 (sb_init_ctx *ctx);
/* The init cloned straight into its new namespaces (nothing joined by
   path): waits for its maps and cgroup, then goes on as stage 2.  */
_Noreturn void sb_init_direct (sb_init_ctx *ctx);

#endif
