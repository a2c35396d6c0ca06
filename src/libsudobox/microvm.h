/* The microvm driver: a workspace in its own guest kernel under QEMU
   (-M microvm), PID 1 of the guest being sudobox-agent.  QEMU runs as an
   unprivileged host uid with -sandbox on; everything it needs that only
   root can reach (kernel, initramfs, disks, snapshot) is opened here and
   handed over as inherited fds.  The agent is reached through
   virtio-serial ports whose host ends are unix sockets in the VM's
   runtime directory (port-N.sock), one client per port at a time.  */
#ifndef SB_MICROVM_H
#define SB_MICROVM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent-proto.h"
#include "error.h"

#define SB_MICROVM_PORTS 8
/* Every workspace's /projects disk has this size (sparse), so a snapshot
   taken with a placeholder of the same size restores onto it.  */
#define SB_MICROVM_PROJECTS_SIZE (16ull << 30)
/* The least memory a guest boots with, and the most pids.max its kernel
   accepts (PID_MAX_LIMIT).  */
#define SB_MICROVM_MIN_MEM (256ll << 20)
#define SB_MICROVM_PIDS_MAX 4194304

typedef struct sb_microvm_fwd
{
  const char *host_ip; /* NULL: 127.0.0.1 */
  uint16_t host_port, guest_port;
  bool udp;
} sb_microvm_fwd;

typedef struct sb_microvm_cfg
{
  const char *run_dir;   /* owned by uid: sockets, console log, pid (QEMU's cwd) */
  const char *vmlinux;   /* opened by root, passed as an fd */
  const char *initramfs; /* likewise */
  const char *base_disk; /* the image's raw ext4, read-only */
  const char *root_disk; /* qcow2 over base_disk: the workspace's writes */
  const char *projects_disk;
  const char *incoming; /* a snapshot to restore, or NULL for a cold boot */
  uid_t uid;
  gid_t gid;
  unsigned mem_mb, cpus;
  bool kvm;
  bool network;
  const sb_microvm_fwd *fwd;
  size_t n_fwd;
} sb_microvm_cfg;

/* The QEMU binary (SUDOBOX_QEMU or qemu-system-x86_64 in PATH).  */
const char *sb_microvm_qemu (void);

/* Starts QEMU detached (its own session, not our child) and returns its
   pid once it runs.  */
int sb_microvm_launch (const sb_microvm_cfg *c, pid_t *pid, sb_err **err);

/* Connects to a free port of the VM in run_dir, waiting up to timeout_ms
   for QEMU to create the sockets.  The lock on the port is held through
   *lock_fd until closed.  */
int sb_microvm_connect (const char *run_dir, int timeout_ms, int *fd, int *lock_fd, sb_err **err);

/* Control requests; each waits up to timeout_ms for the answer.  */
int sb_microvm_ping (int fd, int timeout_ms, sb_err **err);
int sb_microvm_setup (int fd, const sb_agent_setup *s, int timeout_ms, sb_err **err);
/* One FILE frame, answered before the next.  */
int sb_microvm_file (int fd, const sb_agent_file *f, int timeout_ms, sb_err **err);
int sb_microvm_poweroff (int fd, int timeout_ms, sb_err **err);

/* Runs e in the guest with this process's stdio (a tty in raw mode when
   e->tty, with window resizes passed on); *exit_code is the program's
   status (128 + signal when killed; 127 or 126 when it could not be
   started, the agent's reason printed on stderr).  */
int sb_microvm_exec (int fd, const sb_agent_exec *e, int *exit_code, sb_err **err);

/* Saves the running VM of run_dir (its QMP socket) into the file open as
   out_fd; the VM is left paused (QEMU's postmigrate state).  */
int sb_microvm_save (const char *run_dir, int out_fd, sb_err **err);

/* Reads one frame for the host (validated: type, session, length) into
   b; returns 1 with h filled, 0 on a clean EOF.  */
int sb_microvm_read_frame (int fd, sb_agent_buf *b, sb_agent_hdr *h, int timeout_ms, sb_err **err);

#endif
