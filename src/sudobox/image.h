/* Workspace images: a flattened root filesystem directory per image, made
   by mmdebstrap (build) or from an archive, a directory or an OCI image
   layout (import).  Nothing is chowned later: workspaces see the image
   through idmapped mounts.  */
#ifndef SB_IMAGE_H
#define SB_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef struct sb_image_build_opts
{
  const char *suite; /* "bookworm" */
  char **include;    /* extra packages, NULL-terminated or NULL */
  const char *user;  /* "dev" */
  uint32_t uid;      /* 1000 */
  bool progress;     /* show mmdebstrap's progress (a terminal) */
} sb_image_build_opts;

/* Builds into dest (an empty directory): mmdebstrap --variant=minbase with
   sudo, the user with passwordless sudo (/etc/sudoers.d/<user>, 0440), a
   home directory, /etc/hosts; the host's apt sources.  */
int sb_image_build (const char *dest, const sb_image_build_opts *o, sb_err **err);
/* The checks sb_image_build makes first, for callers that must refuse bad
   options before they touch any state.  */
int sb_image_build_check (const sb_image_build_opts *o, sb_err **err);

/* Imports source into dest (an empty directory): a tarball (plain, gzip,
   xz, zstd; as `podman export` and `docker export` write), a directory
   (copied), or an OCI image layout (directory or archive, as `skopeo copy
   oci:` and `podman save --format oci-archive` write: index.json ->
   manifest -> layers applied in order with whiteouts).  Entries that would
   land outside dest (.. , absolute paths, through symlinks) are refused;
   device nodes are skipped (the runtime provides /dev); a size limit
   guards against absurd archives.  The image config's user/env/cmd, when
   the layout has one, goes to *config_json (else NULL).  */
int sb_image_import (const char *source, const char *dest, uint64_t max_bytes, char **config_json,
                     sb_err **err);

/* Applies one layer archive (fd) onto dest with OCI whiteouts
   (.wh.NAME, .wh..wh..opq).  Exposed for the fuzzer.  */
int sb_image_apply_layer (int archive_fd, const char *dest, uint64_t *budget, sb_err **err);

/* Removes name below dir (a file, or a directory with everything in it)
   without following any symlink; a missing name is not an error.  */
int sb_image_remove_tree (int dir, const char *name, sb_err **err);

/* Total size in bytes of the files below dir (no symlink following).  */
int sb_image_du (const char *dir, int64_t *bytes, sb_err **err);

#endif
