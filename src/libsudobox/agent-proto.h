/* The wire protocol between the host and the microvm guest agent, shared by
   both sides.  Every message is a frame: a 12-byte little-endian header
   (u16 type, u16 flags = 0, u32 session, u32 length) and `length` bytes of
   payload (at most SB_AGENT_MAX_PAYLOAD).  Session 0 is the control
   session (PING, SETUP, POWEROFF); an EXEC opens the session its id names.
   Decoders validate strictly: unknown types, non-zero flags, oversized or
   wrongly sized payloads, strings without their NUL and counts that do not
   match the bytes are errors, never guesses.  */
#ifndef SB_AGENT_PROTO_H
#define SB_AGENT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define SB_AGENT_HDR_SIZE 12u
#define SB_AGENT_MAX_PAYLOAD 65536u
#define SB_AGENT_MAX_ARGS 4096u
#define SB_AGENT_MAX_GROUPS 64u

/* The NIC that published ports come in through (QEMU slirp with
   restrict=on: the guest cannot reach the host through it) is told apart
   by the last byte of its MAC; the guest's address on it.  */
#define SB_AGENT_PUBLISH_MAC "52:54:00:12:34:57"
#define SB_AGENT_PUBLISH_MAC_LAST 0x57
#define SB_AGENT_PUBLISH_NET "10.0.3.0/24"
#define SB_AGENT_PUBLISH_GUEST "10.0.3.15"

typedef enum sb_agent_type
{
  SB_AGENT_PING = 1, /* h->g, any payload, answered by PONG with the same payload */
  SB_AGENT_PONG,     /* g->h */
  SB_AGENT_SETUP,    /* h->g: disks, hostname, limits; answered by OK or ERROR */
  SB_AGENT_EXEC,     /* h->g: start a process in a new session */
  SB_AGENT_STDIN,    /* h->g: data; empty = end of input */
  SB_AGENT_STDOUT,   /* g->h */
  SB_AGENT_STDERR,   /* g->h */
  SB_AGENT_RESIZE,   /* h->g: u16 rows, u16 cols */
  SB_AGENT_SIGNAL,   /* h->g: u32 signal number */
  SB_AGENT_EXIT,     /* g->h: u32 exit code, u32 signal (0 if it exited) */
  SB_AGENT_CLOSE,    /* h->g: end the session (its processes are killed) */
  SB_AGENT_POWEROFF, /* h->g: sync, unmount and power off */
  SB_AGENT_OK,       /* g->h */
  SB_AGENT_ERROR,    /* g->h: u32 errno, NUL-terminated message */
  SB_AGENT_FILE,     /* h->g: a file, directory or symlink copied in after SETUP; answered by OK or ERROR */
  SB_AGENT_TYPE_MAX = SB_AGENT_FILE,
} sb_agent_type;

typedef struct sb_agent_hdr
{
  uint16_t type;
  uint16_t flags;
  uint32_t session;
  uint32_t len;
} sb_agent_hdr;

/* A decoded EXEC: pointers into the payload (valid while it is).  */
typedef struct sb_agent_exec
{
  uint32_t uid, gid;
  uint16_t rows, cols;
  bool tty;
  uint32_t n_groups;
  uint32_t groups[SB_AGENT_MAX_GROUPS];
  const char *cwd;
  const char *argv[SB_AGENT_MAX_ARGS + 1]; /* NULL-terminated */
  const char *envp[SB_AGENT_MAX_ARGS + 1]; /* NULL-terminated */
} sb_agent_exec;

typedef struct sb_agent_setup
{
  const char *hostname;
  const char *root_dev;     /* e.g. "vda" */
  const char *projects_dev; /* e.g. "vdb" */
  /* 64 hex digits from the host's getrandom(): the guest's RNG is
     reseeded with them, since every guest restored from one snapshot
     starts with the same RNG state.  */
  const char *seed;
  /* The most processes the workspace may have at once (pids.max of the
     guest cgroup its processes run in); 0: no limit.  */
  uint32_t pids_max;
  /* The root is mounted read-only (root.readonly), once the agent wrote
     /etc/hostname, hosts and resolv.conf.  */
  bool readonly_root;
} sb_agent_setup;

/* A decoded FILE: a spec bind mount copied into the guest, which shares
   no filesystem with the host.  A regular file larger than one frame
   comes as several, the later ones with append set.  */
#define SB_AGENT_FILE_FIXED 16u
#define SB_AGENT_FILE_MAX_DATA (SB_AGENT_MAX_PAYLOAD - SB_AGENT_FILE_FIXED - 4096u)
typedef struct sb_agent_file
{
  uint32_t mode; /* st_mode: S_IFREG, S_IFDIR or S_IFLNK and the permission bits */
  uint32_t uid, gid;
  bool append;
  /* No data: make the path, already copied, a read-only bind mount (a
     mount with "ro"); its mode's type says what it is.  */
  bool readonly;
  const char *path;    /* absolute, no "." or ".." component, at most 4095 bytes */
  const uint8_t *data; /* the contents, or the link's target (not empty) */
  size_t len;
} sb_agent_file;

/* A growable output buffer of encoded frames.  */
typedef struct sb_agent_buf
{
  uint8_t *data;
  size_t len, cap;
} sb_agent_buf;

void sb_agent_buf_release (sb_agent_buf *b);
void sb_agent_buf_consume (sb_agent_buf *b, size_t n);
void sb_agent_buf_append (sb_agent_buf *b, const void *data, size_t n);

/* Decodes a header from at least SB_AGENT_HDR_SIZE bytes.  */
int sb_agent_hdr_decode (const uint8_t *buf, sb_agent_hdr *h, sb_err **err);
/* Splits the next frame off buf: 1 and *h, *payload when a whole frame is
   there, 0 when more bytes are needed, -1 on a malformed header.  */
int sb_agent_frame_next (const uint8_t *buf, size_t n, sb_agent_hdr *h, const uint8_t **payload,
                         sb_err **err);

/* Appends one frame; payloads longer than SB_AGENT_MAX_PAYLOAD are an
   error.  */
int sb_agent_put (sb_agent_buf *b, uint16_t type, uint32_t session, const void *payload, size_t len,
                  sb_err **err);
int sb_agent_put_exec (sb_agent_buf *b, uint32_t session, const sb_agent_exec *e, sb_err **err);
int sb_agent_put_setup (sb_agent_buf *b, const sb_agent_setup *s, sb_err **err);
int sb_agent_put_file (sb_agent_buf *b, const sb_agent_file *f, sb_err **err);
int sb_agent_put_u32x2 (sb_agent_buf *b, uint16_t type, uint32_t session, uint32_t a, uint32_t b2,
                        sb_err **err);
int sb_agent_put_resize (sb_agent_buf *b, uint32_t session, uint16_t rows, uint16_t cols, sb_err **err);
int sb_agent_put_signal (sb_agent_buf *b, uint32_t session, uint32_t sig, sb_err **err);
int sb_agent_put_error (sb_agent_buf *b, uint32_t session, uint32_t errnum, const char *msg, sb_err **err);

/* Payload decoders: the whole payload must be consumed exactly.  */
int sb_agent_exec_decode (const uint8_t *p, size_t n, sb_agent_exec *e, sb_err **err);
int sb_agent_setup_decode (const uint8_t *p, size_t n, sb_agent_setup *s, sb_err **err);
int sb_agent_file_decode (const uint8_t *p, size_t n, sb_agent_file *f, sb_err **err);
int sb_agent_resize_decode (const uint8_t *p, size_t n, uint16_t *rows, uint16_t *cols, sb_err **err);
int sb_agent_signal_decode (const uint8_t *p, size_t n, uint32_t *sig, sb_err **err);
int sb_agent_exit_decode (const uint8_t *p, size_t n, uint32_t *code, uint32_t *sig, sb_err **err);
int sb_agent_error_decode (const uint8_t *p, size_t n, uint32_t *errnum, const char **msg, sb_err **err);

/* The frame types each side may receive, for validating before dispatch.  */
bool sb_agent_type_to_guest (uint16_t type);
bool sb_agent_type_to_host (uint16_t type);

#endif
