/* The container lifecycle of the OCI runtime spec: create, start, state,
   kill, delete, exec, pause/resume, update.  Front ends call these; nothing
   here parses a command line or prints except through log.c.  */
#ifndef SB_CONTAINER_H
#define SB_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"
#include "state.h"

/* Annotations understood by the runtime.  */
#define SB_ANNOT_USERNS "run.sudobox.userns"               /* "host": no automatic user namespace */
#define SB_ANNOT_SHARED_ROOTFS "run.sudobox.shared-rootfs" /* "true": skip the private-rootfs check */
/* "true": with the spec's own user namespace, idmap the rootfs and bind
   mounts into it as the automatic one does (the workspace manager
   allocates ranges itself).  */
#define SB_ANNOT_IDMAP "run.sudobox.idmap"
/* The rootfs as an overlay the runtime mounts itself over idmapped layers
   (no overlay mount on the host): lower directories separated by ':' (top
   first), and the writable upper and work directories (same parent).  */
#define SB_ANNOT_OVERLAY_LOWER "run.sudobox.overlay.lower"
#define SB_ANNOT_OVERLAY_UPPER "run.sudobox.overlay.upper"
#define SB_ANNOT_OVERLAY_WORK "run.sudobox.overlay.work"
/* The isolation level: "userns" (default), "system" or "microvm".  */
#define SB_ANNOT_ISOLATION "run.sudobox.isolation"

typedef enum sb_isolation
{
  SB_ISOLATION_USERNS,
  SB_ISOLATION_SYSTEM,
  SB_ISOLATION_MICROVM,
} sb_isolation;

/* The spec's isolation level from SB_ANNOT_ISOLATION; an unknown value is an
   error naming it.  */
int sb_spec_isolation (const sb_spec *spec, sb_isolation *mode, sb_err **err);
/* "userns", "system" or "microvm"; what names the value in errors.  */
int sb_isolation_parse (const char *what, const char *name, sb_isolation *mode, sb_err **err);
const char *sb_isolation_name (sb_isolation mode);

typedef struct sb_create_opts
{
  const char *root; /* state root */
  const char *id;
  const char *bundle;         /* absolute */
  const char *console_socket; /* or NULL */
  const char *pid_file;       /* or NULL */
  int preserve_fds;
  bool no_pivot;
  bool no_new_keyring;
  const char *isolation; /* wins over the spec's SB_ANNOT_ISOLATION (a RuntimeClass handler), or NULL */
  /* sb_container_run only: called once the container is created and before
     it starts (its namespaces exist, its process has not run), e.g. to
     attach a network helper.  A failure deletes the container.  */
  int (*on_created) (pid_t init, void *arg, sb_err **err);
  /* Also sb_container_run only, earlier: once the init's namespaces exist
     and its user namespace has its maps, while its rootfs is still being
     built; must not wait on the container (start a helper, do not wait for
     it).  A failure fails the create.  */
  int (*on_namespaces) (pid_t init, void *arg, sb_err **err);
  void *on_created_arg;
} sb_create_opts;

typedef struct sb_exec_opts
{
  const char *root;
  const char *id;
  const char *process_json; /* -p FILE contents, or NULL */
  char **args;              /* used when process_json is NULL */
  char **env;               /* -e K=V additions */
  const char *cwd;
  bool has_user;
  uid_t uid;
  gid_t gid;
  bool tty;
  bool detach;
  bool no_new_privs;
  char **caps; /* -c CAP additions */
  const char *console_socket;
  const char *pid_file;
  int preserve_fds;
} sb_exec_opts;

/* CVE-2019-5736: whether the runtime must run from a sealed copy of its
   binary before entering this container.  Only when processes inside could
   have host root's permissions over the binary: no user namespace, or one
   that maps host uid 0.  The automatic user namespace never does.  */
bool sb_spec_needs_sealed_runtime (const sb_spec *spec);

int sb_container_create (const sb_create_opts *o, sb_err **err);
int sb_container_start (const char *root, const char *id, sb_err **err);
/* create + start; when !detach waits for the container and deletes it, the
   exit code (128+signal when killed) in *exit_code.  */
int sb_container_run (const sb_create_opts *o, bool detach, int *exit_code, sb_err **err);
int sb_container_exec (const sb_exec_opts *o, int *exit_code, sb_err **err);
/* The process an exec runs: -p replaces the container's, otherwise the
   container's process (taken from spec) with the command line's overrides.  */
int sb_exec_process (const sb_exec_opts *o, sb_spec *spec, sb_process **out, sb_err **err);
int sb_container_kill (const char *root, const char *id, int sig, bool all, sb_err **err);
int sb_container_delete (const char *root, const char *id, bool force, sb_err **err);
int sb_container_pause (const char *root, const char *id, bool pause, sb_err **err);
int sb_container_update (const char *root, const char *id, const sb_resources *res, sb_err **err);
/* runc's state JSON of one container.  */
int sb_container_state_json (const char *root, const char *id, char **json, sb_err **err);
/* Loads the state with its live status.  */
int sb_container_load (const char *root, const char *id, sb_state **st, sb_status *status, sb_err **err);
int sb_container_pids (const char *root, const char *id, pid_t **pids, size_t *n, sb_err **err);

#endif
