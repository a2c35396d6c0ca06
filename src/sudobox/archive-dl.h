/* libarchive, loaded on first use.  Debian's libarchive pulls libxml2,
   ICU and libstdc++ in with it (its xar reader): loading and relocating
   them cost every sudobox command about 1.2 ms, and only image import
   opens an archive.  The calls keep libarchive's own names and types, as
   pointers in sb_la that sb_la_load fills from the shared library, so a
   Debian security update of libarchive still applies without a rebuild.  */
#ifndef SB_ARCHIVE_DL_H
#define SB_ARCHIVE_DL_H

#include <archive.h>
#include <archive_entry.h>

#include "error.h"

#define SB_LA_FUNCS(X)                                                                                       \
  X (archive_entry_atime)                                                                                    \
  X (archive_entry_atime_is_set)                                                                             \
  X (archive_entry_atime_nsec)                                                                               \
  X (archive_entry_filetype)                                                                                 \
  X (archive_entry_gid)                                                                                      \
  X (archive_entry_hardlink)                                                                                 \
  X (archive_entry_mtime)                                                                                    \
  X (archive_entry_mtime_is_set)                                                                             \
  X (archive_entry_mtime_nsec)                                                                               \
  X (archive_entry_pathname)                                                                                 \
  X (archive_entry_perm)                                                                                     \
  X (archive_entry_size)                                                                                     \
  X (archive_entry_size_is_set)                                                                              \
  X (archive_entry_symlink)                                                                                  \
  X (archive_entry_uid)                                                                                      \
  X (archive_entry_xattr_next)                                                                               \
  X (archive_entry_xattr_reset)                                                                              \
  X (archive_error_string)                                                                                   \
  X (archive_read_data_block)                                                                                \
  X (archive_read_free)                                                                                      \
  X (archive_read_new)                                                                                       \
  X (archive_read_next_header)                                                                               \
  X (archive_read_open_fd)                                                                                   \
  X (archive_read_open_filename)                                                                             \
  X (archive_read_support_filter_bzip2)                                                                      \
  X (archive_read_support_filter_gzip)                                                                       \
  X (archive_read_support_filter_lzma)                                                                       \
  X (archive_read_support_filter_xz)                                                                         \
  X (archive_read_support_filter_zstd)                                                                       \
  X (archive_read_support_format_empty)                                                                      \
  X (archive_read_support_format_tar)

#define SB_LA_FIELD(name) __typeof__ (name) *name;
typedef struct
{
  SB_LA_FUNCS (SB_LA_FIELD)
} sb_la_api;
#undef SB_LA_FIELD

extern sb_la_api sb_la;

/* Loads libarchive once; later calls return at once.  */
int sb_la_load (sb_err **err);

#endif
