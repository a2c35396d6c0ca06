/* The container's filesystem view, built inside its mount namespace before
   pivot_root: root propagation, the rootfs, the spec's mounts, /dev, the
   console, masked and read-only paths.  Every destination is resolved inside
   the rootfs with openat2(RESOLVE_IN_ROOT) and mounted through its fd, so a
   symlink in the image can never send a mount outside the rootfs.  */
#ifndef SB_MOUNTS_H
#define SB_MOUNTS_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

typedef struct sb_mount_ctx
{
  const sb_spec *spec;
  const char *rootfs;      /* absolute host path of the rootfs, for messages */
  int rootfs_dir;          /* O_PATH fd of that directory, opened by the runtime: the
                              container's root cannot search the host directories above it */
  int rootfs_premount;     /* detached (idmapped) mount of the rootfs, or -1 */
  const int *premounts;    /* per spec mount: detached mount to attach, or -1 */
  bool userns;             /* no mknod: devices are bind mounted from the host */
  int console_slave;       /* >= 0: bound onto /dev/console */
  const char *cgroup_path; /* the container's cgroup, for "cgroup" mounts */
  bool cgroup_unified;     /* the host runs pure cgroup v2 */
  bool no_pivot;
  int root_mount; /* set by sb_mounts_setup: the container's root mount */
} sb_mount_ctx;

/* Everything up to (not including) the change of root: after it returns the
   complete tree is mounted at ctx->rootfs, ready for createContainer hooks.  */
int sb_mounts_setup (sb_mount_ctx *ctx, sb_err **err);
/* pivot_root (chroot with no_pivot), detach the old root, then the read-only
   root remount.  The cwd is "/" afterwards.  */
int sb_mounts_enter_root (const sb_mount_ctx *ctx, sb_err **err);
/* maskedPaths and readonlyPaths, after the sysctls are written through the
   container's /proc/sys (runc's order: docker sets net.* sysctls and
   /proc/sys is read-only afterwards).  */
int sb_mounts_restrict (const sb_mount_ctx *ctx, sb_err **err);

#endif
