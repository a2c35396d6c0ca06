/* Small helpers shared by every module: cleanup attributes, string vectors,
   whole-file I/O and safe path resolution inside a root.  */
#ifndef SB_UTIL_H
#define SB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "error.h"

void sb_freep (void *p);
void sb_closep (int *fd);
void sb_fclosep (FILE **f);
void sb_strv_freep (char ***v);

#define _cleanup_free_ __attribute__ ((cleanup (sb_freep)))
#define _cleanup_close_ __attribute__ ((cleanup (sb_closep)))
#define _cleanup_fclose_ __attribute__ ((cleanup (sb_fclosep)))
#define _cleanup_strv_ __attribute__ ((cleanup (sb_strv_freep)))

/* Moves ownership out of a cleanup variable.  */
#define sb_steal(p)                                                                                          \
  ({                                                                                                         \
    __typeof__ (*(p)) _tmp = *(p);                                                                           \
    *(p) = (__typeof__ (*(p)))0;                                                                             \
    _tmp;                                                                                                    \
  })
#define sb_steal_fd(p)                                                                                       \
  ({                                                                                                         \
    int _fd = *(p);                                                                                          \
    *(p) = -1;                                                                                               \
    _fd;                                                                                                     \
  })

void *sb_xmalloc0 (size_t n);
void *sb_xrealloc (void *p, size_t n);
char *sb_xstrdup (const char *s);
char *sb_xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

size_t sb_strv_len (char *const *v);
void sb_strv_free (char **v);
/* Appends a copy of s to a NULL-terminated vector.  */
void sb_strv_append (char ***v, const char *s);

/* Reads a whole file (at most max bytes; larger is an error).  */
int sb_read_fd (int fd, size_t max, char **out, size_t *len, sb_err **err);
int sb_read_file_at (int dirfd, const char *path, size_t max, char **out, size_t *len, sb_err **err);
/* Writes data to path atomically: a temporary file in the same directory,
   then rename, so a reader (or a runtime killed midway) sees the old or the
   new content.  No fsync: the runtime's state describes live processes,
   which do not outlive a machine crash either.  */
int sb_write_file_atomic (const char *path, const char *data, size_t len, mode_t mode, sb_err **err);
/* Writes a string to an existing file (procfs, sysfs, cgroupfs knobs).  */
int sb_write_file_at (int dirfd, const char *path, const char *data, sb_err **err);

int sb_write_all (int fd, const void *buf, size_t len);
ssize_t sb_read_all (int fd, void *buf, size_t len);

/* mkdir -p with mode for each created component.  */
int sb_mkdir_p (const char *path, mode_t mode, sb_err **err);

/* Opens path below the directory rootfd, resolving every symlink and ".."
   as if rootfd were "/": nothing can resolve outside it (openat2
   RESOLVE_IN_ROOT).  */
int sb_open_in_root (int rootfd, const char *path, int flags, mode_t mode, sb_err **err);
/* Like mkdir -p below rootfd with the same confinement; returns an O_PATH fd
   to the final directory.  */
int sb_mkdir_in_root (int rootfd, const char *path, mode_t mode, sb_err **err);

/* Parses a whole decimal integer; no trailing garbage, no overflow.  */
int sb_parse_i64 (const char *s, int64_t *out);
int sb_parse_u64 (const char *s, uint64_t *out);

/* clone3 with the given CLONE_* flags (0: a plain fork), born in the
   cgroup when cgroup_fd >= 0 and the kernel allows it.  Returns like fork;
   *joined (in the parent) says whether the child was born in the cgroup.  */
pid_t sb_clone_into_cgroup (uint64_t flags, int cgroup_fd, bool *joined);

/* Closes every fd >= from except those listed.  */
int sb_close_fds_from (int from, const int *keep, size_t nkeep);

/* Sends / receives one fd with a small payload over a unix socket.  */
int sb_send_fd (int sock, int fd, const void *data, size_t len);
int sb_recv_fd (int sock, int *fd, void *data, size_t len);

/* AF_UNIX stream sockets by path.  Paths longer than sun_path are reached
   through /proc/self/fd/N/NAME of their directory.  */
int sb_unix_connect (const char *path, sb_err **err);
int sb_unix_listen (const char *path, sb_err **err);

/* Start time of a process in clock ticks since boot (field 22 of
   /proc/PID/stat), used to tell a live pid from a reused one.  */
int sb_proc_start_time (pid_t pid, uint64_t *out);
/* The state letter (R, S, Z...; may be NULL) and start time of a process.  */
int sb_proc_stat (pid_t pid, char *state, uint64_t *start);
/* Undoes /proc/self/mountinfo's \ooo escapes in place.  */
void sb_unescape_octal (char *s);

#endif
