/* The manager's microvm workspaces: the same commands as userns ones, the
   workspace running in its own guest kernel under QEMU (libsudobox's
   microvm driver).  QEMU itself is the long-lived process of a running
   workspace: the registry records its pid where a userns workspace records
   its monitor's.  */
#ifndef SB_WS_MICROVM_H
#define SB_WS_MICROVM_H

#include <stdbool.h>

#include "manager.h"
#include "microvm-host.h"
#include "microvm.h"

/* Refuses what a microvm workspace cannot honour (host directory volumes,
   a pids limit, less memory than a guest kernel needs).  */
int sb_ws_microvm_check (const sb_wsconfig *cfg, sb_err **err);
int sb_ws_microvm_create (sb_mgr *m, const sb_ws_rec *ws, const sb_wsconfig *cfg, sb_err **err);
int sb_ws_microvm_start (sb_mgr *m, const sb_ws_rec *ws, sb_err **err);
int sb_ws_microvm_stop (sb_mgr *m, const sb_ws_rec *ws, int timeout, sb_err **err);
int sb_ws_microvm_exec (sb_mgr *m, const sb_ws_rec *ws, const sb_ws_exec_opts *o, int *exit_code,
                        sb_err **err);
bool sb_ws_microvm_alive (const sb_ws_rec *ws);

/* Files (ws-microvm-files.c; the rest in libsudobox's microvm-host.h).  */
/* vmlinux + initramfs under ROOT/microvm/boot, built once (cached).  */
int sb_vm_boot_files (sb_mgr *m, sb_vm_boot *b, sb_err **err);
/* The image's root filesystem as a raw ext4 disk (IMGDIR/microvm.raw),
   built once with mkfs.ext4 -d: ownership is copied, nothing chowned.  */
int sb_vm_base_disk (sb_mgr *m, const char *image, char **path, sb_err **err);
/* Which accelerator boots the guest: SUDOBOX_MICROVM_ACCEL, else a cached
   probe (KVM only when a guest booted under it answered).  */
int sb_vm_accel (sb_mgr *m, const sb_vm_boot *b, const char *image, uid_t uid, bool *kvm, sb_err **err);
/* A snapshot of a booted, not yet set-up guest for the image: the path
   of the file, built once per image, kernel and agent.  */
int sb_vm_template (sb_mgr *m, const sb_vm_boot *b, const char *image, uid_t uid, bool kvm, char **snapshot,
                    sb_err **err);

#define SB_VM_MEM_MB 1024u
#define SB_VM_CPUS 1u

#endif
