/* Idmapped mounts: a detached copy of a directory tree whose ownership is
   shifted through a user namespace (open_tree + mount_setattr + later
   move_mount by the container), so nothing on disk is ever chowned.  */
#ifndef SB_IDMAP_H
#define SB_IDMAP_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* Returns a detached mount fd of path (recursive copies submounts) idmapped
   through userns_fd.  Fails with EINVAL-based error for filesystems that
   cannot be idmapped (callers decide whether that is fatal).  */
int sb_idmap_tree (const char *path, int userns_fd, bool recursive, sb_err **err);
/* The same for an overlay rootfs: when path is the root of an overlay mount,
   mounts a new overlay whose lower and upper layers are idmapped copies of
   the original's and returns it detached.  Returns 0 and sets *fd = -1 when
   path is not an overlay mount.  root_uid/root_gid: the host ids the
   container's root maps to (overlayfs writes with the mounter's ids).  */
int sb_idmap_overlay (const char *path, int userns_fd, uid_t root_uid, gid_t root_gid, int *fd, sb_err **err);

#define SB_IDMAP_MAX_LAYERS 500

/* Mounts an overlay of the given layers (lower: NULL-terminated, top
   first; upper and work may be NULL for a read-only overlay), each layer an
   idmapped copy, and returns it detached.  upper and work are modified
   (unescaped) in place.  */
int sb_idmap_overlay_layers (char **lower, char *upper, char *work, int userns_fd, uid_t root_uid,
                             gid_t root_gid, sb_err **err);

#endif
