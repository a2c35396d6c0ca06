/* Capabilities: names from the spec to numbers, and applying the five sets.  */
#ifndef SB_CAPS_H
#define SB_CAPS_H

#include <stdint.h>

#include "error.h"
#include "spec.h"

typedef struct sb_capsets
{
  uint64_t bounding, effective, inheritable, permitted, ambient;
} sb_capsets;

/* Converts names; an unknown name is an error naming it (a name this
   kernel lacks, but libcap knows, is dropped silently as runc does).  */
int sb_caps_from_spec (const sb_caps *caps, sb_capsets *out, sb_err **err);
int sb_cap_from_name (const char *name, int *cap);
/* Drops the bounding set, then sets permitted/effective/inheritable and the
   ambient set.  Call after switching uid with PR_SET_KEEPCAPS.  */
int sb_caps_apply (const sb_capsets *sets, sb_err **err);
/* Raises every permitted capability into the effective set: after setuid
   with PR_SET_KEEPCAPS, or setfsuid away from 0, the effective set loses
   what the kernel clears on such a change.  */
int sb_caps_raise_effective (sb_err **err);
/* For `features`: every capability name this build knows.  */
char **sb_caps_known_names (void);

#endif
