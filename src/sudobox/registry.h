/* The workspace manager's registry: one SQLite database (WAL) under the
   state root holding images, workspaces and their id ranges.  Every change
   is one transaction, so a command killed at any point leaves either the
   old or the new row; an id range is allocated in the same transaction as
   the workspace row that owns it.  */
#ifndef SB_REGISTRY_H
#define SB_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

typedef struct sb_registry sb_registry;

typedef struct sb_image_rec
{
  char *name;    /* unique, [a-z0-9][a-z0-9_.-]* up to 64 */
  char *dir;     /* absolute: ROOT/images/<name>-<serial>, holds rootfs/ (the flattened layers) */
  char *created; /* RFC 3339 */
  int64_t size;  /* bytes */
  char *source;  /* "build bookworm", "import FILE" ... */
  char *config;  /* JSON: {"user":"dev","uid":1000,"env":[...],"cmd":[...]} */
} sb_image_rec;

typedef enum sb_ws_state
{
  SB_WS_CREATING, /* row inserted, files being prepared */
  SB_WS_CREATED,  /* ready, not running */
  SB_WS_RUNNING,  /* a monitor holds it */
  SB_WS_STOPPED,  /* ran and exited */
  SB_WS_REMOVING, /* rm in progress */
} sb_ws_state;

typedef struct sb_ws_rec
{
  char *name;        /* unique, [a-z0-9][a-z0-9_.-]* up to 64 */
  char *image;       /* image name */
  char *isolation;   /* "userns" | "system" | "microvm" */
  uint32_t id_first; /* host id of container id 0 (exclusive 65536 ids) */
  sb_ws_state state;
  pid_t monitor_pid;      /* 0 when not running */
  uint64_t monitor_start; /* start time of the monitor (pid reuse check) */
  int exit_code;          /* last exit, -1 if never ran */
  char *config;           /* JSON: the create options (user, cpus, memory, pids, volumes, publish,
                             env, network, hostname) */
  char *created;
} sb_ws_rec;

/* Opens (creating if needed) ROOT/registry.db; busy_timeout so concurrent
   commands wait for each other rather than fail.  A corrupt database is a
   clear error naming the file.  The wait is 30 s, or
   SUDOBOX_REGISTRY_BUSY_MS milliseconds (tests); a lock held longer is the
   error "registry PATH is locked by another sudobox command".  A handle
   must not cross fork(): close it before forking a child that opens the
   registry itself (SQLite keeps per-process lock state).  */
int sb_registry_open (const char *root, sb_registry **out, sb_err **err);
void sb_registry_close (sb_registry *reg);

int sb_registry_image_add (sb_registry *reg, const sb_image_rec *img, sb_err **err); /* name taken: error */
/* 0 found, 1 not found, <0 error.  */
int sb_registry_image_get (sb_registry *reg, const char *name, sb_image_rec **out, sb_err **err);
/* Sorted by name; the array is also NULL-terminated.  Free it with
   sb_image_rec_list_free.  */
int sb_registry_image_list (sb_registry *reg, sb_image_rec ***out, size_t *n, sb_err **err);
/* Refused with "image X is used by workspace Y" while a workspace uses it.  */
int sb_registry_image_remove (sb_registry *reg, const char *name, sb_err **err);

/* Inserts the workspace in state CREATING and gives it the lowest free
   65536-id range of [pool_first, pool_first + pool_count) in the same
   transaction.  Name taken, unknown image: clear errors.  Reads name,
   image, isolation, config and created (NULL: now); sets id_first, state
   (CREATING), monitor_pid/monitor_start (0) and exit_code (-1).  */
int sb_registry_ws_create (sb_registry *reg, sb_ws_rec *ws, uint32_t pool_first, uint32_t pool_count,
                           sb_err **err);
int sb_registry_ws_get (sb_registry *reg, const char *name, sb_ws_rec **out, sb_err **err); /* 1: not found */
/* Sorted by name; the array is also NULL-terminated.  Free it with
   sb_ws_rec_list_free.  */
int sb_registry_ws_list (sb_registry *reg, sb_ws_rec ***out, size_t *n, sb_err **err);
/* Updates state, monitor and exit code of one workspace; an unknown
   workspace is an error.  */
int sb_registry_ws_set_state (sb_registry *reg, const char *name, sb_ws_state state, pid_t monitor_pid,
                              uint64_t monitor_start, int exit_code, sb_err **err);
/* Deletes the row (and so frees its range); an unknown workspace is an
   error.  */
/* Releases the host-wide id claims of this root that have no row.  */
int sb_registry_prune_claims (sb_registry *reg, sb_err **err);
int sb_registry_ws_delete (sb_registry *reg, const char *name, sb_err **err);

const char *sb_ws_state_name (sb_ws_state s);
void sb_image_rec_free (sb_image_rec *r);
void sb_ws_rec_free (sb_ws_rec *r);
/* Free a NULL-terminated array from a list function and its records.  */
void sb_image_rec_list_free (sb_image_rec **list);
void sb_ws_rec_list_free (sb_ws_rec **list);

/* Names for images, workspaces and volumes: [a-z0-9][a-z0-9_.-]{0,63}.  */
int sb_check_name (const char *what, const char *name, sb_err **err);

#endif
