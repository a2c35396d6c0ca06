/* The per-workspace /proc and /sys server (sudobox-procfs, src/procfs/) as
   the system isolation mode uses it: start it for a container, bind its
   files over the container's /proc and /sys, stop it on delete.

   Order in create: sb_procfs_start after the cgroup exists and before the
   container's mount namespace is made (so the FUSE mount under the state
   directory is in the copy), then sb_procfs_bind in the container's mount
   namespace after its /proc and /sys are mounted, before pivot_root.  */
#ifndef SB_PROCFS_H
#define SB_PROCFS_H

#include <sys/types.h>

#include "error.h"
#include "spec.h"

/* Below the container's state directory.  */
#define SB_PROCFS_DIR "procfs"                /* the FUSE mount point */
#define SB_PROCFS_PIDFILE "procfs.pid"        /* "PID START_TICKS" of the supervisor */
#define SB_PROCFS_LOG "procfs.log"            /* its stderr */
#define SB_PROCFS_NOTIFY "procfs-notify.sock" /* where it takes seccomp listener fds */

typedef struct sb_procfs_opts
{
  const char *server;      /* the sudobox-procfs binary; NULL: sb_procfs_find_server */
  const char *state_dir;   /* the container's state directory */
  const char *cgroup_path; /* as recorded (sb_cgroup_path) */
  uid_t uid;               /* host ids of the container's root: owner of the files */
  gid_t gid;
  pid_t init_pid; /* > 0: the server exits with it */
  double start;   /* CLOCK_BOOTTIME seconds of the workspace's start, < 0: now */
  bool notify;    /* listen on STATE_DIR/procfs-notify.sock and answer sysinfo(2) */
} sb_procfs_opts;

/* SUDOBOX_PROCFS, next to the running binary in the build tree, or the
   libexec directory of an install.  */
int sb_procfs_find_server (char **out, sb_err **err);

/* Mounts the server on STATE_DIR/procfs and returns once it is mounted;
   records its pid in STATE_DIR/procfs.pid.  The server is detached (its own
   session) and outlives the caller.  */
int sb_procfs_start (const sb_procfs_opts *o, pid_t *pid, sb_err **err);

/* Bind mounts every file the server mounted at mntfd (an fd of the mount
   point's root, opened in the caller's mount namespace) serves onto the same
   path below rootfd (proc/meminfo -> ROOT/proc/meminfo ...), each target
   resolved with openat2(RESOLVE_IN_ROOT).  A /proc/sys entry the container
   does not have is skipped; a missing /proc or /sys file is an error.  */
int sb_procfs_bind (int mntfd, int rootfd, sb_err **err);

/* Stops the server recorded in state_dir (SIGTERM, then SIGKILL) and removes
   its mount point; nothing recorded is not an error.  For delete.  */
int sb_procfs_stop (const char *state_dir, sb_err **err);

/* The spec edit for sysinfo(2): a SCMP_ACT_NOTIFY rule for sysinfo (taken
   out of any other rule) and linux.seccomp.listenerPath = listener (the
   server's STATE_DIR/procfs-notify.sock); a spec without seccomp gets a
   filter that allows everything else.  Refused when the spec already has a
   listenerPath of its own.  The runtime connects to the listener once the
   mode's cgroup_created has run (which starts the server).  */
int sb_procfs_spec_add_sysinfo (sb_spec *spec, const char *listener, sb_err **err);

#endif
