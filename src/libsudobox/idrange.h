/* Exclusive host id ranges for containers that bring no user namespace.
   A pool (first host id, count) is split into slots of SB_IDRANGE_SIZE ids;
   each live container owns one slot for both uids and gids.  Allocations are
   files under ROOT/idranges/, created with O_EXCL under an flock, so they
   survive the runtime process and can be recovered after a crash.  */
#ifndef SB_IDRANGE_H
#define SB_IDRANGE_H

#include <stdint.h>

#include "error.h"

#define SB_IDRANGE_SIZE 65536u

typedef struct sb_idpool
{
  uint32_t first; /* first host id of the pool */
  uint32_t count; /* number of ids (a multiple of SB_IDRANGE_SIZE is used) */
} sb_idpool;

/* The pool: the "sudobox" entry of /etc/subuid (and /etc/subgid, which must
   agree) when present, else 4096 ranges of 65536 ids starting at
   SB_IDRANGE_DEFAULT_FIRST.  SUDOBOX_SUBID_FILE (tests) replaces /etc/subuid.  */
#define SB_IDRANGE_DEFAULT_FIRST 1000000u
int sb_idpool_default (sb_idpool *pool, sb_err **err);
/* Parses one subid file for user `name`; -1 with an error if absent.  */
int sb_idpool_from_subid (const char *subid_path, const char *name, sb_idpool *pool, sb_err **err);

/* Allocates the lowest free slot for owner (container id), recording it under
   root_dir.  Returns the first host id.  Idempotent for the same owner.  */
int sb_idrange_alloc (const char *root_dir, const sb_idpool *pool, const char *owner, uint32_t *host_first,
                      sb_err **err);
int sb_idrange_free (const char *root_dir, const char *owner, sb_err **err);
/* The slot owned by owner, if any: 0 found, 1 not found, <0 error.  */
int sb_idrange_lookup (const char *root_dir, const char *owner, uint32_t *host_first, sb_err **err);

#endif
