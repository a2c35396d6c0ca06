/* linux.seccomp through libseccomp: compiled in the runtime before any fork
   so every error names the offending field, loaded by the container process
   just before it runs the user program.  */
#ifndef SB_SECCOMP_H
#define SB_SECCOMP_H

#include "error.h"
#include "spec.h"

typedef struct sb_seccomp_filter sb_seccomp_filter;

/* Builds the filter from the spec (unknown syscall names are skipped as
   runc does; unknown actions, operators, architectures or flags are errors).  */
int sb_seccomp_compile (const sb_seccomp *sc, sb_seccomp_filter **out, sb_err **err);
/* Loads it into the calling thread.  When the spec uses SCMP_ACT_NOTIFY,
 *notify_fd receives the listener fd, otherwise -1.  */
int sb_seccomp_load (sb_seccomp_filter *f, int *notify_fd, sb_err **err);
bool sb_seccomp_uses_notify (const sb_seccomp_filter *f);
/* Sends the listener fd over a socket connected to listenerPath (connected
   before the container changed its root) with the ContainerProcessState
   payload the runtime spec describes; metadata may be NULL.  */
int sb_seccomp_send_notify_fd (int listener, int notify_fd, const char *state_json, const char *metadata,
                               sb_err **err);
void sb_seccomp_free (sb_seccomp_filter *f);

/* For `features`: the names this build knows.  */
const char *const *sb_seccomp_known_actions (void);
const char *const *sb_seccomp_known_operators (void);
const char *const *sb_seccomp_known_archs (void);
const char *const *sb_seccomp_known_flags (void);

#endif
