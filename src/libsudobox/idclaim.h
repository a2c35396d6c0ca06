/* Host-wide claims on id ranges.  Each state root (of sudobox-runc or of
   the workspace manager) allocates ranges from its own records; two roots
   with the same pool would hand out the same host ids, and root in one
   container would own the other's files.  So every allocation is also
   claimed here, in one directory for the whole host, and an allocator
   skips ranges claimed by anyone else.

   A claim is a file SB_IDCLAIM_DIR/<first host id> holding "ROOT\tOWNER"
   (ROOT absolute).  A claim whose ROOT no longer exists is stale: the
   state it belonged to is gone, and the range is free again.  */
#ifndef SB_IDCLAIM_H
#define SB_IDCLAIM_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* SUDOBOX_IDCLAIM_DIR replaces it (unit tests, which must not see the
   host's claims).  */
#define SB_IDCLAIM_DIR "/var/lib/sudobox-ids"

/* 0: claimed (or already claimed by this root and owner); 1: another live
   owner holds it.  */
int sb_idclaim_take (uint32_t first, const char *root, const char *owner, sb_err **err);
/* Removes the claim if this root and owner hold it.  */
int sb_idclaim_release (uint32_t first, const char *root, const char *owner, sb_err **err);
/* Releases every claim of root for which keep returns false (a crash
   between claiming and recording leaves such claims), and every stale
   claim of any root.  */
int sb_idclaim_prune (const char *root, bool (*keep) (uint32_t first, const char *owner, void *arg),
                      void *arg, sb_err **err);
/* Whether sb_idclaim_prune would release anything, read without the lock
   (a claim being written counts, so a caller may skip the prune only when
   this says false).  */
bool sb_idclaim_prune_pending (const char *root, bool (*keep) (uint32_t first, const char *owner, void *arg),
                               void *arg);

#endif
