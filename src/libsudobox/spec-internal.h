/* Internal to the config.json parser: what spec.c (top level, process,
   mounts, hooks) and spec-linux.c (the "linux" object) share.  Not part of
   the library's interface.  */
#ifndef SB_SPEC_INTERNAL_H
#define SB_SPEC_INTERNAL_H

#include <json-c/json.h>
#include <stddef.h>

#include "error.h"
#include "spec.h"

struct sb_spec_propagation
{
  const char *name;
  unsigned long flags;
};

/* A propagation name of mount options and linux.rootfsPropagation
   ("rprivate" ...), or NULL.  In spec.c.  */
const struct sb_spec_propagation *sb_spec_find_propagation (const char *name);

/* An optional array of id mappings (mounts[].uidMappings,
   linux.uidMappings ...).  In spec-linux.c.  */
int sb_spec_opt_idmaps (json_object *v, const char *path, const char *key, sb_idmap **out, size_t *n,
                        sb_err **err);

/* The optional top-level "linux" object of obj into l.  In spec-linux.c.  */
int sb_spec_parse_linux (json_object *obj, sb_linux *l, sb_err **err);

#endif
