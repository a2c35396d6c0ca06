/* The OCI lifecycle of a container in microvm isolation (microvm-oci.c):
   called by container.c, lifecycle.c and exec.c when the container's
   isolation is (or is recorded as) "microvm".  */
#ifndef SB_MICROVM_OCI_H
#define SB_MICROVM_OCI_H

#include <stdbool.h>

#include "container.h"
#include "error.h"
#include "microvm-host.h"
#include "state.h"

/* Every OCI microvm's root disk and memory: a snapshot restores only onto
   the same sizes.  */
#define SB_MICROVM_OCI_ROOT_SIZE (8ull << 30)
#define SB_MICROVM_OCI_MEM_MB 1024u

/* Whether a create with o runs in microvm isolation (--isolation, else the
   bundle's annotation); a spec that cannot be read is left to the common
   code to report.  */
bool sb_microvm_oci_claims (const sb_create_opts *o);
/* Whether the container recorded under root runs in a microvm.  */
bool sb_microvm_oci_is (const char *root, const char *id);

int sb_microvm_oci_create (const sb_create_opts *o, sb_err **err);
/* Copies the spec's bind mounts into the guest behind the agent channel fd
   (relative sources are the bundle's); microvm-files.c.  */
int sb_microvm_copy_mounts (int fd, const sb_spec *spec, const char *bundle, sb_err **err);
int sb_microvm_oci_run (const sb_create_opts *o, bool detach, int *exit_code, sb_err **err);
int sb_microvm_oci_start (const char *root, const char *id, sb_err **err);
int sb_microvm_oci_kill (const char *root, const char *id, int sig, sb_err **err);
int sb_microvm_oci_delete (const char *root, const char *id, bool force, sb_err **err);
int sb_microvm_oci_exec (const sb_exec_opts *o, int *exit_code, sb_err **err);

/* The snapshot of a booted, not yet set-up guest under cache (built once
   per kernel, agent and accelerator): its path in *snapshot
   (microvm-oci-template.c).  */
int sb_microvm_oci_template (const char *cache, const sb_vm_boot *b, uid_t uid, bool kvm, char **snapshot,
                             sb_err **err);

#endif
