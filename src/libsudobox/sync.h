/* The private protocol between the runtime and the container's init while
   the container is being created: typed messages over a SOCK_SEQPACKET
   socketpair, optionally carrying one fd and a payload.  */
#ifndef SB_SYNC_H
#define SB_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum sb_sync_type
{
  SB_SYNC_ERROR = 1, /* child -> runtime: payload is the message */
  SB_SYNC_USERNS,    /* stage 1 -> runtime: write my maps */
  SB_SYNC_GO,        /* runtime -> child: continue */
  SB_SYNC_PID,       /* stage 1 -> runtime: value is the init's host pid */
  SB_SYNC_MOUNTS,    /* init -> runtime: send the prepared mounts */
  SB_SYNC_PREMOUNT,  /* runtime -> init: fd for mount index value (-1: rootfs) */
  SB_SYNC_HOOKS,     /* init -> runtime: run prestart and createRuntime */
  SB_SYNC_STATE,     /* runtime -> init: payload is the state JSON */
  SB_SYNC_CONSOLE,   /* init -> runtime: fd is the pty master */
  SB_SYNC_CREATED,   /* init -> runtime: waiting for start */
  SB_SYNC_DETACHED,  /* init -> runtime: no longer dies with the runtime */
  SB_SYNC_CGROUP,    /* runtime -> init, before GO: fd is a v1 `tasks` file to join */
};

typedef struct sb_sync_msg
{
  uint32_t type;
  int32_t value;
  int fd;        /* received fd or -1 */
  char *payload; /* NUL-terminated, malloc'd, or NULL */
} sb_sync_msg;

int sb_sync_send (int sock, enum sb_sync_type type, int32_t value, int fd, const char *payload);
/* Receives one message; EOF is an error "the container's init exited".  */
int sb_sync_recv (int sock, sb_sync_msg *msg, sb_err **err);
/* Receives and checks the type; an SB_SYNC_ERROR becomes the error.  */
int sb_sync_expect (int sock, enum sb_sync_type type, sb_sync_msg *msg, sb_err **err);
void sb_sync_msg_release (sb_sync_msg *msg);

#endif
