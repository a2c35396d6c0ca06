/* Namespaces of a container: which to create, which to join by path, the
   user namespace maps and the time namespace offsets.  */
#ifndef SB_NAMESPACES_H
#define SB_NAMESPACES_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

/* CLONE_NEW* flags of the namespaces the spec asks to create (no path),
   the user namespace excluded.  */
int sb_ns_new_flags (const sb_spec *spec);
/* Joins every namespace the spec names by path, except the user namespace
   (which must be joined first, see sb_ns_join_user).  */
int sb_ns_join_paths (const sb_spec *spec, sb_err **err);
int sb_ns_join_user (const sb_spec *spec, sb_err **err);
/* Writes /proc/PID/{uid_map,gid_map} (the caller is root on the host).  */
int sb_ns_write_maps (pid_t pid, const sb_idmap *uids, size_t nu, const sb_idmap *gids, size_t ng,
                      sb_err **err);
/* Writes /proc/self/timens_offsets after unshare(CLONE_NEWTIME), before
   the first child is created.  */
int sb_ns_set_time_offsets (const sb_spec *spec, sb_err **err);
/* Checks that every path given for a namespace is a namespace file of the
   right kind (so a mistyped path fails before anything is created).  */
int sb_ns_check_paths (const sb_spec *spec, sb_err **err);

#endif
