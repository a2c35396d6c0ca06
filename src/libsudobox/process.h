/* The last steps before the user program runs, shared by a container's init
   and by `exec`: rlimits, LSM labels, identity, capabilities,
   no_new_privs, seccomp, working directory, fd hygiene and execve.  */
#ifndef SB_PROCESS_H
#define SB_PROCESS_H

#include <stdbool.h>

#include "caps.h"
#include "error.h"
#include "seccomp-filter.h"
#include "spec.h"

typedef struct sb_exec_plan
{
  const sb_process *proc;
  sb_capsets caps;                /* from proc->caps; all zero when absent */
  sb_seccomp_filter *seccomp;     /* or NULL */
  const char *personality_domain; /* "LINUX32" or NULL */
  int seccomp_listener;           /* connected to listenerPath, or -1 */
  const char *state_json;         /* sent with the seccomp listener fd */
  const char *seccomp_metadata;   /* linux.seccomp.listenerMetadata or NULL */
  int preserve_fds;               /* fds 3 .. 3+N-1 stay open */
  char *path;                     /* resolved args[0] */
} sb_exec_plan;

/* Builds the plan in the runtime before any fork: converts capabilities and
   compiles seccomp so errors are reported with their field names.  */
int sb_exec_plan_init (sb_exec_plan *plan, const sb_process *proc, const sb_seccomp *seccomp, sb_err **err);
void sb_exec_plan_release (sb_exec_plan *plan);

int sb_process_set_rlimits (const sb_process *proc, sb_err **err);
/* Finds args[0] in the PATH of the process env (inside the container, after
   its root is in place).  Error as runc's: executable file not found.  */
int sb_process_resolve (sb_exec_plan *plan, sb_err **err);
/* Everything from the LSM label to execve.  Returns only on failure.  */
int sb_process_exec (sb_exec_plan *plan, sb_err **err);

#endif
