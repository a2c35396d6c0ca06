/* Workspace networking: user-mode networking by sudobox-net (libslirp)
   attached to the workspace's network namespace, giving outbound TCP/UDP
   and DNS; --publish forwards a host port (127.0.0.1 by default).  The
   host's loopback is not reachable from the workspace unless a port is
   published.  */
#ifndef SB_NETWORK_H
#define SB_NETWORK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "publish.h"

/* Fails with "port 127.0.0.1:8080 is already in use" if a host port is taken.  */
int sb_publish_check_free (const sb_publish *p, size_t n, sb_err **err);

/* The resolv.conf a slirp workspace uses (slirp's DNS forwarder).  */
const char *sb_net_resolv_conf (void);

/* Starts sudobox-net (src/net) for the network namespace of pid (the
   workspace's init): tap0 10.0.2.100/24, gateway 10.0.2.2, DNS 10.0.2.3,
   the published ports bound on the host; waits until it is ready.  The
   helper's pid goes to *helper (it is the caller's child; the caller kills
   and reaps it when the workspace stops).  On failure no helper is left,
   and the error says why ("port 127.0.0.1:8080 is already in use").  */
int sb_net_start (pid_t pid, const sb_publish *p, size_t n, pid_t *helper, sb_err **err);

/* sb_net_start with two more controls.  log_path (NULL: none) receives the
   helper's stdout and stderr, appended; without it they are only kept until
   the helper is ready, for the error messages.  When exit_fd is not NULL
   *exit_fd is the write end of the helper's exit pipe (close-on-exec): the
   helper exits as soon as every copy is closed, so it dies with its owner
   even when the owner is SIGKILLed.  */
int sb_net_start_ex (pid_t pid, const sb_publish *p, size_t n, const char *log_path, pid_t *helper,
                     int *exit_fd, sb_err **err);

/* sb_net_start_ex in two halves, so the helper starts while the workspace
   is still being built: spawn as soon as its network namespace exists,
   finish (wait until ready) before it starts.  A pending helper that is
   freed unfinished is killed.  */
typedef struct sb_net_pending sb_net_pending;
int sb_net_spawn (pid_t pid, const sb_publish *p, size_t n, const char *log_path, bool with_exit_fd,
                  sb_net_pending **out, sb_err **err);
int sb_net_finish (sb_net_pending *np, pid_t *helper, int *exit_fd, sb_err **err);
void sb_net_pending_free (sb_net_pending *np);

#endif
