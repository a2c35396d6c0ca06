/* What a workspace created with --isolation system adds to the spec the
   manager builds (the runtime's side is libsudobox/isolation-system.c):
   every capability (of its own user namespace), systemd as PID 1 when the
   image has /sbin/init, a cpuset of the first N CPUs for --cpus N, the
   tmpfs mounts systemd expects, and storage for nested container engines on
   the host's filesystem (overlayfs refuses an upper layer on overlayfs,
   which the workspace's root is).  */
#ifndef SB_WS_SYSTEM_H
#define SB_WS_SYSTEM_H

#include <json-c/json.h>

#include "error.h"
#include "wsconfig.h"

/* The signal that stops a workspace's PID 1, when it is not SIGTERM.  */
#define SB_WS_ANNOT_STOP_SIGNAL "run.sudobox.workspace.stop-signal"

/* Adds the system mode's parts to spec (the object sb_ws_spec_json built).  */
int sb_ws_spec_system (json_object *spec, const sb_wsconfig *c, const sb_ws_paths *p, sb_err **err);

/* The signal `stop` sends to the running workspace NAME's PID 1: the one
   its spec names (SIGRTMIN+3, systemd's "halt") or SIGTERM.  */
int sb_ws_stop_signal (const char *run_root, const char *name);

#endif
