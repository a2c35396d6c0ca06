/* The workspace manager: workspaces from images, each one a container run
   through the container library (the same code path as sudobox-runc), held
   by a small monitor process while it runs.  State lives under one root
   directory (0700): registry.db, images/, workspaces/, volumes/, locks/ and
   run/ (the library's container state).  */
#ifndef SB_MANAGER_H
#define SB_MANAGER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "registry.h"
#include "wsconfig.h"

/* Host ids for workspaces: a pool apart from sudobox-runc's default one
   (the "sudobox-ws" entry of /etc/subuid when present).  */
#define SB_WS_POOL_FIRST 2000000000u
#define SB_WS_POOL_COUNT (4096u * 65536u)

typedef struct sb_mgr
{
  char *root;     /* absolute */
  char *run_root; /* ROOT/run */
  sb_registry *reg;
  uint32_t pool_first, pool_count;
} sb_mgr;

int sb_mgr_open (const char *root, sb_mgr **out, sb_err **err);
void sb_mgr_close (sb_mgr *m);

/* Per-name lock (flock on ROOT/locks/NAME.lock) held by every command that
   changes a workspace; returns the fd.  */
int sb_mgr_lock (sb_mgr *m, const char *name, bool wait, sb_err **err);

int sb_ws_create (sb_mgr *m, const char *name, const char *image, sb_wsconfig *cfg, sb_err **err);
/* sb_ws_create short of its last step: the row stays CREATING (gc removes
   it once *lock, the name's lock, is closed), for a caller that goes on to
   start the workspace itself.  */
int sb_ws_create_held (sb_mgr *m, const char *name, const char *image, sb_wsconfig *cfg, int *lock,
                       sb_err **err);
int sb_ws_start (sb_mgr *m, const char *name, sb_err **err);
int sb_ws_stop (sb_mgr *m, const char *name, int timeout, sb_err **err);
int sb_ws_rm (sb_mgr *m, const char *name, bool force, bool volumes, sb_err **err);

typedef struct sb_ws_exec_opts
{
  char **args;
  char **env;
  const char *user; /* name or uid, NULL: the workspace user */
  const char *workdir;
  bool tty;
  bool login_shell; /* `shell`: the user's login shell */
} sb_ws_exec_opts;

int sb_ws_exec (sb_mgr *m, const char *name, const sb_ws_exec_opts *o, int *exit_code, sb_err **err);
/* `run --rm`: a new workspace whose init runs the command in the
   foreground, this process its monitor; removed with its volume after.  */
int sb_ws_run_rm (sb_mgr *m, const char *name, const char *image, sb_wsconfig *cfg, const sb_ws_exec_opts *o,
                  int *exit_code, sb_err **err);
/* Shared by exec and run: the user (from passwd, may be NULL) and the
   session's environment.  */
int sb_ws_resolve_user (FILE *passwd, const char *user, const sb_wsconfig *cfg, uid_t *uid, gid_t *gid,
                        char **home, char **name, sb_err **err);
/* A file of a root the workspace controls (its running root or its
   image) for this host process to read: resolved inside that root (no
   symlink leaves it), and only a regular file of at most 4 MiB, so that a
   link to a host file, a FIFO, /dev/zero or a huge file can neither leak,
   hang nor balloon it.  NULL when absent or refused.  */
FILE *sb_ws_open_root_file (int rootfd, const char *path);
char **sb_ws_session_env (const sb_ws_exec_opts *o, const sb_wsconfig *cfg, const char *home,
                          const char *user);
/* Writes DIR/bundle/config.json of a workspace (process NULL: idle init).  */
int sb_ws_write_spec (sb_mgr *m, const sb_ws_rec *ws, const sb_wsconfig *cfg, const sb_ws_process *process,
                      sb_err **err);
int sb_ws_logs (sb_mgr *m, const char *name, bool follow, sb_err **err);

/* Finishes what killed commands left half-done: rows stuck in creating or
   removing, running rows whose monitor is gone, containers without a row.
   Reports what it did through *cleaned (may be NULL).  */
int sb_mgr_gc (sb_mgr *m, int *cleaned, sb_err **err);

/* The monitor's entry point (a forked child of `start`): never returns.  */
_Noreturn void sb_monitor_main (sb_mgr *m, const char *name, int ready_fd);
/* The end of a monitor (`sudobox monitor-exit`, run by sudobox-monitor):
   removes what the stopped workspace leaves and records its exit code.  */
int sb_monitor_finish (sb_mgr *m, const char *name, int code, sb_err **err);

/* Shared by the manager's files.  */
bool sb_ws_monitor_alive (const sb_ws_rec *ws);
int sb_ws_remove_files (sb_mgr *m, const char *name, bool volumes);
int sb_rm_rf_at (int dirfd, const char *name);

/* Paths under the root.  */
char *sb_mgr_ws_dir (const sb_mgr *m, const char *name);
char *sb_mgr_projects_dir (const sb_mgr *m, const char *name);
/* The sudobox-init binary for workspaces.  */
int sb_mgr_init_path (char **out, sb_err **err);
int sb_mgr_monitor_path (char **out, sb_err **err);

#endif
