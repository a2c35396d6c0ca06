/* Internal to the mounts module: what mounts.c (the rootfs, the spec's
   mounts, masked and read-only paths, the change of root) and
   mounts-cgroup.c (the "cgroup" filesystem mounts) share.  The helpers dev.c
   uses as well (sb_fd_path, sb_mount_dest, sb_remount_bind ...) are
   declared in dev.h, included here.  Not part of the library's interface.  */
#ifndef SB_MOUNTS_INTERNAL_H
#define SB_MOUNTS_INTERNAL_H

#include <sys/mount.h>

#include "dev.h"
#include "error.h"
#include "mounts.h"
#include "spec.h"

#define PROPAGATION_FLAGS (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)
#define ATIME_FLAGS (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)
#define ATTR_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | ATIME_FLAGS)
/* What may be passed to mount(2) for a new filesystem.  */
#define NEW_MOUNT_FLAGS(f) ((f) & ~(MS_BIND | MS_REC | MS_REMOUNT | MS_MOVE | PROPAGATION_FLAGS))

/* The MOUNT_ATTR_* (mount_setattr) of the MS_* attribute flags in ms.  */
unsigned long sb_ms_to_mount_attr (unsigned long ms);

/* O_PATH fd of dest inside rootfd, opened again after a mount so that it
   refers to the new mount on top.  */
int sb_reopen_dest (int rootfd, const char *dest, sb_err **err);

/* Mount table entries, for cgroup hierarchies and the rootfs's parent.  */
typedef struct sb_mnt_entry
{
  char *mountpoint, *fstype, *super_opts;
} sb_mnt_entry;

/* /proc/self/mountinfo, as a vector ended by an entry whose mountpoint is
   NULL; mount points are unescaped.  */
int sb_read_mountinfo (sb_mnt_entry **out, sb_err **err);
void sb_mnt_entries_free (sb_mnt_entry **v);

/* The spec's "cgroup" mount m at dest: the v2 hierarchy on a pure v2 host,
   otherwise a tmpfs holding each v1 hierarchy (and the hybrid "unified"
   one).  Without a cgroup namespace of its own the container gets bind
   mounts of its own cgroups instead.  In mounts-cgroup.c.  */
int sb_mount_cgroup (int rootfd, const sb_mount_ctx *ctx, const sb_mount *m, const char *dest, sb_err **err);

#endif
