/* Where the figures come from: the workspace's cgroup files and the host's
   /proc files, opened once and re-read with pread at offset 0 (seq_file
   regenerates), so a read of a virtual file costs no path lookup and no
   lookup of the caller's cgroup (what makes lxcfs slow).  */
#ifndef SB_PFS_SOURCE_H
#define SB_PFS_SOURCE_H

#include <stdbool.h>

#include "error.h"
#include "render.h"

typedef struct sb_pfs_file
{
  int fd; /* -1: absent on this host/cgroup */
  char *buf;
  size_t cap;
} sb_pfs_file;

enum
{
  SB_PFS_MEM_LIMIT,
  SB_PFS_MEM_USAGE,
  SB_PFS_MEM_STAT,
  SB_PFS_SWAP_LIMIT, /* v1: memsw limit (memory + swap) */
  SB_PFS_SWAP_USAGE, /* v1: memsw usage */
  SB_PFS_CPUSET,
  SB_PFS_CPU_QUOTA, /* v2: cpu.max holds quota and period */
  SB_PFS_CPU_PERIOD,
  SB_PFS_CPU_USER, /* v2: cpu.stat */
  SB_PFS_CPU_SYS,
  SB_PFS_IO_BYTES, /* v2: io.stat */
  SB_PFS_IO_IOS,
  SB_PFS_HOST_MEMINFO,
  SB_PFS_HOST_CPUINFO,
  SB_PFS_HOST_STAT,
  SB_PFS_HOST_ONLINE,
  SB_PFS_HOST_LOADAVG,
  SB_PFS_HOST_DISKSTATS,
  SB_PFS_N_FILES,
};

typedef struct sb_pfs_source
{
  bool v1;
  sb_pfs_file f[SB_PFS_N_FILES];
  char *tasks_dir; /* cgroup directory whose tree lists the workspace's tasks */
  double start;    /* CLOCK_BOOTTIME seconds when the workspace started */
  int64_t btime;   /* the same instant, seconds since the epoch */
} sb_pfs_source;

/* Opens the files of the cgroup recorded as path (sb_cgroup_load).  start is
   CLOCK_BOOTTIME seconds, < 0 for now.  */
int sb_pfs_source_open (sb_pfs_source *src, const char *cgroup_path, double start, sb_err **err);
void sb_pfs_source_close (sb_pfs_source *src);

/* The current text of a file ("" when absent or unreadable).  */
const char *sb_pfs_read (sb_pfs_source *src, int which);

/* Current values gathered from the files.  */
void sb_pfs_source_mem (sb_pfs_source *src, sb_pfs_mem *m);
int sb_pfs_source_cpus (sb_pfs_source *src, sb_pfs_cpus *cpus);
void sb_pfs_source_cputime (sb_pfs_source *src, const sb_pfs_cpus *cpus, sb_pfs_cputime *t);
double sb_pfs_source_uptime (const sb_pfs_source *src);
/* Counts the workspace's tasks (threads): all, and those running or in
   uninterruptible sleep (what a load average counts); its processes.
   false when the cgroup is gone.  */
bool sb_pfs_source_count (const sb_pfs_source *src, unsigned *tasks, unsigned *active, unsigned *procs);

#endif
