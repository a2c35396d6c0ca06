/* Host-side files and steps of a microvm shared by the workspace manager
   and the OCI runtime (microvm-host.c).  */
#ifndef SB_MICROVM_HOST_H
#define SB_MICROVM_HOST_H

#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "microvm.h"

typedef struct sb_vm_boot
{
  char *vmlinux, *initramfs;
  char *key; /* kernel version, agent hash: what a snapshot depends on */
} sb_vm_boot;

/* Runs argv, its output kept for the error message.  */
int sb_vm_run (char *const *argv, sb_err **err);
/* vmlinux + initramfs under ROOT/microvm/boot, built once (cached) from
   the installed kernel and the sudobox-agent next to this binary.  */
int sb_vm_boot_files_in (const char *root, sb_vm_boot *b, sb_err **err);
void sb_vm_boot_release (sb_vm_boot *b);
/* A qcow2 at path whose backing file is base (O(1), sparse).  */
int sb_vm_overlay (const char *base, const char *path, sb_err **err);
/* An empty ext4 of SB_MICROVM_PROJECTS_SIZE whose root belongs to uid:gid.  */
int sb_vm_projects_disk (const char *path, uint32_t uid, uint32_t gid, sb_err **err);
/* Boots a VM from c, waits for its agent (timeout_ms) and returns its pid.  */
int sb_vm_start_guest (const sb_microvm_cfg *c, int timeout_ms, pid_t *pid, sb_err **err);
/* Kills a VM and waits until it is gone.  */
void sb_vm_kill (pid_t pid);

/* 32 random bytes as 64 hex digits: the guest RNG's reseed at setup (every
   guest restored from one snapshot starts with the same RNG state).  */
int sb_vm_random_hex (char out[65], sb_err **err);

#endif
