/* Internal to the mounts module (mounts.c, dev.c): populating /dev and the
   console, plus the few mount helpers both files share.  Not part of the
   library's interface.  */
#ifndef SB_DEV_H
#define SB_DEV_H

#include <stdbool.h>

#include "error.h"
#include "mounts.h"

/* Room for "/proc/self/fd/" and any int.  */
#define SB_FD_PATH_LEN 32

/* What the spec itself mounted at /dev.  */
enum sb_dev_kind
{
  SB_DEV_NONE, /* nothing: a tmpfs is mounted there */
  SB_DEV_FS,   /* a filesystem (usually tmpfs): still populated */
  SB_DEV_BIND, /* a bind mount (of the host's /dev): left alone, as runc does */
};

/* Writes "/proc/self/fd/N" into buf: the magic link mount(2) follows to the
   very object fd refers to, so no path is resolved a second time.  */
char *sb_fd_path (char buf[static SB_FD_PATH_LEN], int fd);

/* Lexically normalised absolute path: duplicate and trailing slashes, "."
   and ".." removed (".." never climbs above "/").  */
char *sb_clean_path (const char *path);

/* O_PATH fd of dest resolved inside rootfd, created first when missing: a
   directory, or an empty file when dir is false.  */
int sb_mount_dest (int rootfd, const char *dest, bool dir, sb_err **err);

/* Remounts the bind mount whose root fd refers to with the attribute flags
   set, keeping every current attribute not listed in clear (in a user
   namespace the kernel refuses to drop the locked ones).  */
int sb_remount_bind (int fd, unsigned long set, unsigned long clear, sb_err **err);

/* The tmpfs at /dev when the spec mounts nothing there; before the spec's
   mounts, so that those below /dev (devpts, mqueue) land on top of it.  */
int sb_dev_mount_tmpfs (int rootfd, sb_err **err);

/* Device nodes, the standard symlinks and /dev/console.  */
int sb_dev_setup (int rootfd, const sb_mount_ctx *ctx, enum sb_dev_kind kind, sb_err **err);

#endif
