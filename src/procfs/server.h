/* The pieces of sudobox-procfs: a supervisor that owns the FUSE connection
   and a worker process that serves it; the worker can die and be replaced
   without the mount (and the workspace's bind mounts of its files) breaking.  */
#ifndef SB_PFS_SERVER_H
#define SB_PFS_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "source.h"

#define SB_PFS_SYSCTL_LEN 128
#define SB_PFS_MAX_SYSCTL 32
#define SB_PFS_INIT_MAX 256

typedef struct sb_pfs_tasks
{
  sb_pfs_load load;
  unsigned running, threads, procs;
} sb_pfs_tasks;

/* Memory shared (MAP_SHARED) by the supervisor and every worker it starts:
   what must outlive a worker.  */
typedef struct sb_pfs_shared
{
  /* The kernel's FUSE_INIT as the first worker received it: a new worker
     replays it to its libfuse session (the kernel answers the reply with
     ENOENT, the connection was negotiated long ago).  */
  size_t init_len;
  unsigned char init[SB_PFS_INIT_MAX];
  /* The workspace's values of the shadowed /proc/sys entries.  */
  char sysctl[SB_PFS_MAX_SYSCTL][SB_PFS_SYSCTL_LEN];
  /* Task counts and load, sampled by the supervisor (every 5 s) for
     /proc/loadavg and sysinfo alike.  seq is odd while it writes.  */
  unsigned seq;
  sb_pfs_tasks tasks;
} sb_pfs_shared;

/* Reads shared->tasks consistently (the supervisor may be writing).  */
static inline sb_pfs_tasks
sb_pfs_tasks_get (const sb_pfs_shared *shared)
{
  sb_pfs_tasks t;
  unsigned seq;

  do
    {
      while ((seq = __atomic_load_n (&shared->seq, __ATOMIC_ACQUIRE)) & 1)
        ;
      t = shared->tasks;
      __atomic_thread_fence (__ATOMIC_ACQUIRE);
    }
  while (__atomic_load_n (&shared->seq, __ATOMIC_RELAXED) != seq);
  return t;
}

static inline void
sb_pfs_tasks_set (sb_pfs_shared *shared, const sb_pfs_tasks *t)
{
  __atomic_add_fetch (&shared->seq, 1, __ATOMIC_RELEASE);
  __atomic_thread_fence (__ATOMIC_RELEASE);
  shared->tasks = *t;
  __atomic_add_fetch (&shared->seq, 1, __ATOMIC_RELEASE);
}

typedef struct sb_pfs_config
{
  const char *mountpoint;
  const char *cgroup; /* recorded cgroup path, "/sudobox/ID" */
  double start;       /* CLOCK_BOOTTIME seconds, < 0: now */
  uid_t uid;          /* owner of the files: the workspace's root on the host */
  gid_t gid;
  pid_t init_pid;            /* > 0: exit when it exits */
  const char *notify_socket; /* NULL or where the runtime passes seccomp listener fds */
} sb_pfs_config;

/* The /proc/sys entries shadowed per workspace (relative to /proc/sys).  */
extern const char *const sb_pfs_sysctls[];
/* Copies the host's current values into shared (first start only).  */
void sb_pfs_sysctl_seed (sb_pfs_shared *shared);
/* Validates and stores a write to entry i; errno-style result.  */
int sb_pfs_sysctl_write (sb_pfs_shared *shared, int i, const char *data, size_t len);

/* Worker: serves the FUSE connection cloned from master_fd until it ends.
   Returns the exit status.  */
int sb_pfs_worker_run (const sb_pfs_config *cfg, sb_pfs_shared *shared, int master_fd);

#endif
