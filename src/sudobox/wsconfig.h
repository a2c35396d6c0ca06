/* A workspace's settings (what `create` was given, resolved against the
   image) and the OCI spec built from them.  The manager hands that spec to
   the same container library sudobox-runc uses.  */
#ifndef SB_WSCONFIG_H
#define SB_WSCONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "network.h"

typedef struct sb_volume
{
  char *source; /* absolute host directory */
  char *dest;   /* absolute path inside */
  bool ro;
} sb_volume;

typedef struct sb_wsconfig
{
  char *user; /* name inside, e.g. "dev" */
  uint32_t uid, gid;
  char *home;
  double cpus;    /* 0: no limit */
  int64_t memory; /* bytes, 0: no limit */
  int64_t pids;   /* 0: no limit */
  sb_volume *volumes;
  size_t n_volumes;
  sb_publish *publish;
  size_t n_publish;
  char **env;   /* K=V, NULL-terminated or NULL */
  bool network; /* slirp (true) or none */
  char *hostname;
  char *isolation;
  bool seccomp_unconfined; /* --security-opt seccomp=unconfined: no default profile */
} sb_wsconfig;

int sb_wsconfig_to_json (const sb_wsconfig *c, char **json, sb_err **err);
int sb_wsconfig_from_json (const char *json, sb_wsconfig *c, sb_err **err);
void sb_wsconfig_release (sb_wsconfig *c);

/* The process of a workspace run in the foreground (`run --rm`): the
   command under sudobox-init, as this user, instead of an idle init.  */
typedef struct sb_ws_process
{
  char *const *args;
  char *const *env; /* the session's, before the image's PATH */
  const char *cwd;
  uid_t uid;
  gid_t gid;
  bool terminal;
} sb_ws_process;

/* Where things are for one workspace when its spec is built.  */
typedef struct sb_ws_paths
{
  const char *name;
  const char *image_rootfs; /* the image's directory (lower layer) */
  const char *dir;          /* ROOT/workspaces/NAME */
  const char *projects;     /* ROOT/volumes/NAME-projects */
  const char *init;         /* the sudobox-init binary on the host */
  uint32_t id_first;
  const char *cgroup_path;
  const sb_ws_process *process; /* NULL: the idle init as root */
} sb_ws_paths;

/* The OCI config.json of the workspace: sudobox-init as PID 1 (root), an
   own user namespace mapping 0..65535 to id_first.. with the rootfs built
   by the runtime as an overlay of the image over DIR/upper (annotations),
   /projects and the volumes idmapped, hostname, hosts and resolv.conf from
   DIR/etc, limits as cgroup resources, the capabilities docker gives, and
   noNewPrivileges false so setuid sudo works.  */
int sb_ws_spec_json (const sb_wsconfig *c, const sb_ws_paths *p, char **json, sb_err **err);

/* "512M", "2g", "1073741824" -> bytes (>= 6 MiB); "1.5" cpus; counts.  */
int sb_parse_memory (const char *s, int64_t *out, sb_err **err);
int sb_parse_cpus (const char *s, double *out, sb_err **err);
int sb_parse_count (const char *what, const char *s, int64_t *out, sb_err **err);

#endif
