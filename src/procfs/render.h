/* Pure rendering of the virtualized /proc and /sys files from cgroup values
   and the host's own files: no I/O here, so every formula is unit-tested
   with v1 and v2 inputs (tests/unit/test_procfs.c).  */
#ifndef SB_PFS_RENDER_H
#define SB_PFS_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/sysinfo.h>

#define SB_PFS_UNLIMITED UINT64_MAX
#define SB_PFS_MAX_CPUS 1024
/* USER_HZ of /proc/stat; fixed at 100 by the kernel ABI on every arch we run.  */
#define SB_PFS_HZ 100

/* A growing output buffer; rendering never fails except on OOM (abort).  */
typedef struct sb_pfs_buf
{
  char *p;
  size_t len, cap;
} sb_pfs_buf;

void sb_pfs_buf_printf (sb_pfs_buf *b, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void sb_pfs_buf_add (sb_pfs_buf *b, const char *s, size_t n);
void sb_pfs_buf_free (sb_pfs_buf *b);

/* Memory of the workspace, normalized to cgroup v2 names.  Bytes.  */
typedef struct sb_pfs_mem
{
  uint64_t limit;      /* SB_PFS_UNLIMITED: no limit */
  uint64_t usage;      /* memory.usage_in_bytes / memory.current */
  uint64_t swap_limit; /* SB_PFS_UNLIMITED: none or unknown */
  uint64_t swap_usage; /* SB_PFS_UNLIMITED: unknown */
  uint64_t anon, file, shmem, file_mapped, file_dirty, file_writeback;
  uint64_t active_anon, inactive_anon, active_file, inactive_file, unevictable;
  uint64_t slab_reclaimable, slab_unreclaimable;
} sb_pfs_mem;

/* Fills the breakdown fields of m from memory.stat.  v1 files carry both the
   cgroup's own ("cache") and the hierarchical ("total_cache") counters: the
   hierarchical ones are taken, nested containers live in sub-cgroups.
   On v1 the limits come from it too (hierarchical_memory_limit, and the
   memory+swap limit hierarchical_memsw_limit into swap_limit).  Keys absent
   from text leave their field as it is.  */
void sb_pfs_mem_parse_stat (const char *text, bool v1, sb_pfs_mem *m);

/* The value of "Key:" in a /proc/meminfo-style text, in kB (0 if absent).  */
uint64_t sb_pfs_meminfo_kb (const char *meminfo, const char *key);

/* /proc/meminfo: the host's file with the workspace's figures substituted.
   With no limit below the host's RAM, the host's file unchanged.  */
void sb_pfs_render_meminfo (sb_pfs_buf *out, const char *host_meminfo, const sb_pfs_mem *m);

/* The CPUs the workspace may use, in host numbering, ascending.  */
typedef struct sb_pfs_cpus
{
  int n;
  int real[SB_PFS_MAX_CPUS];
} sb_pfs_cpus;

/* Parses a kernel cpu list ("0-3,8,10-11") into a bitmap of
   SB_PFS_MAX_CPUS bits.  -1 on a malformed list or a cpu out of range.  */
int sb_pfs_parse_cpulist (const char *s, uint64_t bits[SB_PFS_MAX_CPUS / 64]);
/* cpuset (NULL: every online cpu) intersected with online, then the first
   ceil(quota/period) of them when a quota is set (quota < 0: none).  */
int sb_pfs_cpus_pick (const char *cpuset, const char *online, int64_t quota, uint64_t period,
                      sb_pfs_cpus *out);

/* /sys/devices/system/cpu/online: "0-(n-1)", the CPUs renumbered.  */
void sb_pfs_render_online (sb_pfs_buf *out, const sb_pfs_cpus *cpus);
/* /proc/cpuinfo: the host's blocks of the chosen CPUs, renumbered.  */
void sb_pfs_render_cpuinfo (sb_pfs_buf *out, const char *host_cpuinfo, const sb_pfs_cpus *cpus);

/* CPU time of the workspace per visible CPU, nanoseconds.  */
typedef struct sb_pfs_cputime
{
  uint64_t user[SB_PFS_MAX_CPUS];
  uint64_t system[SB_PFS_MAX_CPUS];
} sb_pfs_cputime;

/* v1: cpuacct.usage_percpu_user and cpuacct.usage_percpu_sys (one figure per
   possible host cpu).  */
int sb_pfs_cputime_v1 (const char *percpu_user, const char *percpu_sys, const sb_pfs_cpus *cpus,
                       sb_pfs_cputime *out);
/* v2: cpu.stat has no per-cpu figures: user_usec and system_usec spread
   evenly over the visible CPUs.  */
int sb_pfs_cputime_v2 (const char *cpu_stat, const sb_pfs_cpus *cpus, sb_pfs_cputime *out);

/* Idle of one visible CPU in ticks: the workspace's lifetime minus its busy
   time on it (never negative).  */
uint64_t sb_pfs_idle_ticks (double uptime, uint64_t user_ns, uint64_t system_ns);

/* /proc/stat: per-CPU lines of the visible CPUs from the workspace's times,
   idle derived from its uptime, btime its start; the rest from the host.  */
void sb_pfs_render_stat (sb_pfs_buf *out, const char *host_stat, const sb_pfs_cpus *cpus,
                         const sb_pfs_cputime *t, double uptime, int64_t btime);
/* /proc/uptime, with idle consistent with /proc/stat.  */
void sb_pfs_render_uptime (sb_pfs_buf *out, const sb_pfs_cpus *cpus, const sb_pfs_cputime *t, double uptime);

/* Exponentially decayed load averages of the workspace's tasks, sampled like
   the kernel does (every 5 s, 1/5/15 minute windows).  */
typedef struct sb_pfs_load
{
  double avg[3];
} sb_pfs_load;

void sb_pfs_load_update (sb_pfs_load *l, unsigned active, double dt);
/* /proc/loadavg; last_pid is the host's (the 5th field of its loadavg).  */
void sb_pfs_render_loadavg (sb_pfs_buf *out, const sb_pfs_load *l, unsigned running, unsigned total,
                            const char *host_loadavg);

/* Swap totals (kB) as /proc/meminfo shows them for the workspace.  */
void sb_pfs_swap_kb (const char *host_meminfo, const sb_pfs_mem *m, uint64_t *total, uint64_t *free_);
/* /proc/swaps: one virtual device with the workspace's swap, none if 0.  */
void sb_pfs_render_swaps (sb_pfs_buf *out, const char *host_meminfo, const sb_pfs_mem *m);

/* I/O of the workspace on one block device.  */
typedef struct sb_pfs_io
{
  unsigned major, minor;
  uint64_t rbytes, wbytes, rios, wios;
} sb_pfs_io;

/* v1: blkio.throttle.io_service_bytes_recursive + io_serviced_recursive;
   v2: io.stat.  Returns the number of devices (at most max).  */
size_t sb_pfs_io_parse_v1 (const char *bytes, const char *ios, sb_pfs_io *out, size_t max);
size_t sb_pfs_io_parse_v2 (const char *io_stat, sb_pfs_io *out, size_t max);
/* /proc/diskstats: the host's devices the workspace did I/O on, with its
   counters (sectors of 512 bytes).  */
void sb_pfs_render_diskstats (sb_pfs_buf *out, const char *host_diskstats, const sb_pfs_io *io, size_t n);

/* sysinfo(2) as the files above describe the workspace.  */
void sb_pfs_fill_sysinfo (struct sysinfo *si, const char *host_meminfo, const sb_pfs_mem *m, double uptime,
                          const sb_pfs_load *l, unsigned procs);

#endif
