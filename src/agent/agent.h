/* The microvm guest agent: PID 1 of the guest.  guest-setup.c prepares the
   machine (filesystems, modules, network, the workspace's root);
   agent.c serves the host's frames over virtio-serial ports;
   session.c runs the processes it asks for.  */
#ifndef SB_AGENT_H
#define SB_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent-proto.h"

/* Early mounts, kernel modules, loopback and eth0.  Failures are logged to
   the console (the host sees the guest fail to answer).  */
void agent_early_setup (void);
/* Mounts the workspace's root and /projects, switches into it and makes
   the cgroup its processes run in (s->pids_max).  */
int agent_mount_workspace (const sb_agent_setup *s, sb_err **err);
/* Moves the calling process into the workspace's cgroup (errno set on
   failure); a no-op before set-up.  */
int agent_join_workspace_cgroup (void);
/* Writes one FILE frame's file, directory or symlink into the root
   (files.c).  */
int agent_write_file (const sb_agent_file *f, sb_err **err);
/* Kills everything, syncs, unmounts and powers off.  */
_Noreturn void agent_poweroff (void);
/* Logs a line on the console (/dev/console, the host's console log).  */
void agent_log (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#define AGENT_MAX_SESSIONS 256

typedef struct agent_session
{
  uint32_t id;
  int port;
  pid_t pid; /* 0 once reaped */
  bool tty;
  int in_fd, out_fd, err_fd; /* -1 when closed; out_fd is the pty master with a tty */
  sb_agent_buf pending_in;
  bool close_in; /* end of input received: close in_fd once pending_in is written */
  uint32_t code, sig;
} agent_session;

/* Starts e's process; fills s (pid, fds).  A failure to run the program
   (no such file, bad cwd, bad user) is an error naming it.  */
int agent_session_spawn (agent_session *s, const sb_agent_exec *e, sb_err **err);
void agent_session_close_fds (agent_session *s);

#endif
