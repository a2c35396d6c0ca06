/* OCI hooks: each is run with the container state JSON on its stdin, its
   own args and env, and killed when it outlives its timeout.  */
#ifndef SB_HOOKS_H
#define SB_HOOKS_H

#include "error.h"
#include "spec.h"

/* Runs hooks in order; stops at the first failure (non-zero exit, signal,
   timeout) with an error naming the hook kind, index and path.  */
int sb_hooks_run (enum sb_hook_kind kind, const sb_hook *hooks, size_t n, const char *state_json,
                  sb_err **err);

#endif
