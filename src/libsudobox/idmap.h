/* Idmapped mounts: a detached copy of a directory tree whose ownership is
   shifted through a user namespace (open_tree + mount_setattr + later
   move_mount by the container), so nothing on disk is ever chowned.  */
#ifndef SB_IDMAP_H
#define SB_IDMAP_H

#include <stdbool.h>

#include "error.h"

/* Returns a detached mount fd of path (recursive copies submounts) idmapped
   through userns_fd.  Fails with EINVAL-based error for filesystems that
   cannot be idmapped (callers decide whether that is fatal).  */
int sb_idmap_tree (const char *path, int userns_fd, bool recursive, sb_err **err);
/* The same for an overlay rootfs: when path is the root of an overlay mount,
   mounts a new overlay whose lower and upper layers are idmapped copies of
   the original's and returns it detached.  Returns 0 and sets *fd = -1 when
   path is not an overlay mount.  */
int sb_idmap_overlay (const char *path, int userns_fd, int *fd, sb_err **err);

#endif
