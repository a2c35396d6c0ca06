/* `sudobox check`: probes of what a node offers the isolation modes.  Each
   probe tries the real thing where that is cheap (an idmapped mount on the
   storage filesystem, an overlay over idmapped layers, an overlay inside a
   user namespace, a seccomp notification round trip, guest code under KVM)
   rather than guessing from versions.  */
#ifndef SB_MGR_CHECK_H
#define SB_MGR_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "manager.h"

typedef enum sb_check_status
{
  SB_CHECK_OK,
  SB_CHECK_WARN, /* works, with a limitation worth knowing */
  SB_CHECK_FAIL,
} sb_check_status;

typedef enum sb_check_id
{
  SB_CK_KERNEL,
  SB_CK_USERNS,
  SB_CK_IDMAP,
  SB_CK_OVERLAY_IDMAP,
  SB_CK_OVERLAY_USERNS,
  SB_CK_SECCOMP_NOTIFY,
  SB_CK_CGROUP,
  SB_CK_CGROUP_DELEGATION,
  SB_CK_FUSE,
  SB_CK_KVM,
  SB_CK_QEMU,
  SB_CK_NETWORK,
  SB_CK_SUBUID,
  SB_CK_INIT,
  SB_CK_COUNT,
} sb_check_id;

typedef struct sb_check_item
{
  const char *name; /* stable key, also used in the JSON output */
  sb_check_status status;
  char *detail; /* what was found or tried, and why it failed */
} sb_check_item;

typedef struct sb_check_report
{
  char *root;
  bool kvm_usable; /* /dev/kvm opened and created a VM */
  sb_check_item items[SB_CK_COUNT];
} sb_check_report;

/* Runs every probe against the manager's root (its filesystem is where
   images, workspaces and volumes live) and id pool.  */
void sb_check_run (sb_mgr *m, sb_check_report *r);
void sb_check_report_clear (sb_check_report *r);

/* The `check` command (cmd-check.c).  */
int cmd_check (sb_mgr *m, int argc, char **argv, int *exit_code, sb_err **err);

#endif
