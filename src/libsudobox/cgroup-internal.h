/* Shared between cgroup.c (interface, paths, detection, processes) and the
   two backends cgroup-v1.c and cgroup-v2.c, which know the knob files.  */
#ifndef SB_CGROUP_INTERNAL_H
#define SB_CGROUP_INTERNAL_H

#include <stdbool.h>

#include "cgroup.h"

/* Extended attribute set on every directory sudobox created, so that a later
   invocation (delete after create) removes the empty parents it made and
   never one it did not.  */
#define SB_CG_MARK "trusted.sudobox.created"

/* How long freezing or emptying a cgroup may take.  */
#define SB_CG_TIMEOUT_MS 5000

/* One mounted hierarchy: a v1 controller mount (possibly co-mounted,
   "cpu,cpuacct", or "name=systemd") or the v2 mount.  */
typedef struct sb_cgroup_hier
{
  char *mount;        /* mount point */
  char *root;         /* the mount's root inside the hierarchy ("/" usually) */
  char **controllers; /* v1: from the mount options; v2: the root's cgroup.controllers */
  char *dir;          /* the container's cgroup (mount + path), NULL before a path is known */
} sb_cgroup_hier;

struct sb_cgroup
{
  enum sb_cgroup_mode mode;
  char *path; /* absolute, normalized: "/sudobox/ID" */
  sb_cgroup_hier *hiers;
  size_t n_hiers;
  const struct sb_cgroup_ops *ops;
};

/* A resource that needs a controller, with the spec field to name in errors.  */
typedef struct sb_cg_need
{
  const char *field;
  const char *controller;
} sb_cg_need;

struct sb_cgroup_ops
{
  /* Mode-specific checks, nothing written.  cg->hiers[].dir is NULL when
     called from sb_cgroup_validate (no path yet).  */
  int (*check) (const sb_cgroup *cg, const sb_resources *res, sb_err **err);
  /* Readies the levels before processes join or limits are written.
     created[i] lists the directories made in hierarchy i, top first (NULL
     on update).  */
  int (*prepare) (sb_cgroup *cg, char **const *created, sb_err **err);
  int (*apply) (sb_cgroup *cg, const sb_resources *res, sb_err **err);
  int (*freeze) (sb_cgroup *cg, bool frozen, sb_err **err);
  int (*is_frozen) (sb_cgroup *cg, bool *frozen, sb_err **err);
  /* Kills every process at once if the backend can (v2 cgroup.kill);
     returns 1 when done, 0 when the caller must signal pid by pid.  */
  int (*kill_all) (sb_cgroup *cg, sb_err **err);
};

extern const struct sb_cgroup_ops sb_cgroup_v1_ops;
extern const struct sb_cgroup_ops sb_cgroup_v2_ops;

/* Knob I/O.  sb_cg_read strips the trailing newline.  Errors name the file
   and, when field is not NULL, the spec field that asked for the write.  */
int sb_cg_read (const char *dir, const char *file, char **out, sb_err **err);
int sb_cg_write (const char *dir, const char *file, const char *value, const char *field, sb_err **err);
bool sb_cg_exists (const char *dir, const char *file);
bool sb_cg_strv_has (char *const *v, const char *s);
/* Splits on any of the separators, dropping empty pieces.  */
char **sb_cg_split (const char *s, const char *seps);
/* The hierarchy holding controller, or NULL.  */
const sb_cgroup_hier *sb_cg_hier_for (const sb_cgroup *cg, const char *controller);
/* The controllers the structured fields of res need ("memory", "io" ...);
   unified keys are the v2 backend's business.  */
#define SB_CG_MAX_NEEDS 8
size_t sb_cg_needs (const sb_resources *res, enum sb_cgroup_mode mode, sb_cg_need out[SB_CG_MAX_NEEDS]);
/* v2 device rules: a BPF_CGROUP_DEVICE program built from the rules,
   attached to dir in place of the ones attached before
   (cgroup-devices.c).  */
int sb_cg_devices_attach (const char *dir, const sb_device_rule *rules, size_t n, sb_err **err);
/* Sleeps a little; returns false once SB_CG_TIMEOUT_MS since start_ms passed.  */
bool sb_cg_wait_more (long long start_ms);
long long sb_cg_now_ms (void);

#endif
