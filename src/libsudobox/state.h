/* Container state kept under the runtime root (default /run/sudobox): one
   0700 directory per container holding state.json, written atomically; a
   flock on that directory serializes commands on the same container.  The state says
   what the runtime decided at create time; liveness (running/stopped) is
   checked against the kernel when read, so it stays right after the runtime
   process is gone.  */
#ifndef SB_STATE_H
#define SB_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* The socket a created container's init waits on for `start`.  */
#define SB_STATE_START_SOCKET "start.sock"

typedef enum sb_status
{
  SB_STATUS_CREATING,
  SB_STATUS_CREATED,
  SB_STATUS_RUNNING,
  SB_STATUS_PAUSED,
  SB_STATUS_STOPPED,
} sb_status;

typedef struct sb_state
{
  char *id;
  pid_t pid;             /* host pid of the container's init, 0 if none */
  uint64_t pid_start;    /* its start time, to detect pid reuse */
  sb_status status;      /* as recorded: creating, created or running */
  char *bundle;          /* absolute */
  char *rootfs;          /* absolute */
  char *created;         /* RFC 3339 UTC with nanoseconds */
  char *owner;           /* user name of the creator, "" if root */
  char *cgroup_path;     /* as returned by sb_cgroup_path, or NULL */
  char *config_json;     /* the spec as loaded, for exec/delete/hooks */
  bool userns_auto;      /* the runtime added the user namespace */
  uint32_t id_first;     /* host id of container id 0 when userns_auto */
  char *isolation;       /* "userns" ... */
  char **annotations_kv; /* "k", "v", "k", "v", ..., NULL */
} sb_state;

/* Validates a container id: [A-Za-z0-9][A-Za-z0-9_.+-]*, at most 1024 bytes.  */
int sb_state_check_id (const char *id, sb_err **err);

/* Creates ROOT/ID (fails with "container ID already exists"), returns its
   path and an fd of the directory.  */
int sb_state_create_dir (const char *root, const char *id, char **dir, int *dirfd, sb_err **err);
/* Takes the container's lock (flock on the directory ROOT/ID), blocking.
   Returns the fd.  */
int sb_state_lock (const char *root, const char *id, sb_err **err);
int sb_state_write (const char *root, const sb_state *st, sb_err **err);
int sb_state_read (const char *root, const char *id, sb_state **out, sb_err **err);
/* The status as of now: stopped if the pid is gone or reused, paused if the
   cgroup is frozen (checked by the caller through frozen), else recorded.  */
sb_status sb_state_live_status (const sb_state *st, bool frozen);
const char *sb_status_name (sb_status s);
/* runc's state JSON for `state`, hooks and the listener.  */
char *sb_state_to_oci_json (const sb_state *st, sb_status status);
int sb_state_remove (const char *root, const char *id, sb_err **err);
/* Sorted ids of every container under root; with incomplete, also the
   directories that have no state.json (a create in progress or killed).  */
int sb_state_list (const char *root, bool incomplete, char ***ids, sb_err **err);
void sb_state_free (sb_state *st);
void sb_state_freep (sb_state **st);
#define _cleanup_state_ __attribute__ ((cleanup (sb_state_freep)))

char *sb_now_rfc3339 (void);

#endif
