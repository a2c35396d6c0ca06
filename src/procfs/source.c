/* The workspace's cgroup and the host's /proc files, opened once.  */
#include "source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cgroup.h"
#include "util.h"

/* The files per layout: controller and file name.  */
static const struct
{
  const char *ctrl, *v1, *v2;
} cg_files[] = {
  /* v1 limits are in memory.stat.  */
  [SB_PFS_MEM_LIMIT] = { "memory", NULL, "memory.max" },
  [SB_PFS_MEM_USAGE] = { "memory", "memory.usage_in_bytes", "memory.current" },
  [SB_PFS_MEM_STAT] = { "memory", "memory.stat", "memory.stat" },
  [SB_PFS_SWAP_LIMIT] = { "memory", NULL, "memory.swap.max" },
  [SB_PFS_SWAP_USAGE] = { "memory", "memory.memsw.usage_in_bytes", "memory.swap.current" },
  [SB_PFS_CPUSET] = { "cpuset", "cpuset.effective_cpus", "cpuset.cpus.effective" },
  [SB_PFS_CPU_QUOTA] = { "cpu", "cpu.cfs_quota_us", "cpu.max" },
  [SB_PFS_CPU_PERIOD] = { "cpu", "cpu.cfs_period_us", NULL },
  [SB_PFS_CPU_USER] = { "cpuacct", "cpuacct.usage_percpu_user", "cpu.stat" },
  [SB_PFS_CPU_SYS] = { "cpuacct", "cpuacct.usage_percpu_sys", NULL },
  [SB_PFS_IO_BYTES] = { "blkio", "blkio.throttle.io_service_bytes_recursive", "io.stat" },
  [SB_PFS_IO_IOS] = { "blkio", "blkio.throttle.io_serviced_recursive", NULL },
};

static const char *const host_files[] = {
  [SB_PFS_HOST_MEMINFO] = "/proc/meminfo", [SB_PFS_HOST_CPUINFO] = "/proc/cpuinfo",
  [SB_PFS_HOST_STAT] = "/proc/stat",       [SB_PFS_HOST_ONLINE] = "/sys/devices/system/cpu/online",
  [SB_PFS_HOST_LOADAVG] = "/proc/loadavg", [SB_PFS_HOST_DISKSTATS] = "/proc/diskstats",
};

/* The directory of controller in the cgroup; on v2 every controller is the
   one directory (cpu.stat exists even without the cpu controller).  */
static const char *
ctrl_dir (const sb_cgroup *cg, const char *ctrl)
{
  const sb_cgroup_hier *h;

  if (cg->mode == SB_CGROUP_UNIFIED)
    return cg->n_hiers > 0 ? cg->hiers[0].dir : NULL;
  h = sb_cg_hier_for (cg, ctrl);
  return h ? h->dir : NULL;
}

static double
clock_s (clockid_t id)
{
  struct timespec ts;

  clock_gettime (id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
sb_pfs_source_open (sb_pfs_source *src, const char *cgroup_path, double start, sb_err **err)
{
  _cleanup_cgroup_ sb_cgroup *cg = NULL;
  const char *tasks;

  memset (src, 0, sizeof (*src));
  for (int i = 0; i < SB_PFS_N_FILES; i++)
    src->f[i].fd = -1;
  if (sb_cgroup_load (cgroup_path, &cg, err) < 0)
    return -1;
  src->v1 = cg->mode == SB_CGROUP_V1;
  for (int i = 0; i < SB_PFS_N_FILES; i++)
    {
      const char *path = NULL, *dir;
      _cleanup_free_ char *full = NULL;
      if (i >= SB_PFS_HOST_MEMINFO)
        path = host_files[i];
      else if ((dir = ctrl_dir (cg, cg_files[i].ctrl)) != NULL && (src->v1 ? cg_files[i].v1 : cg_files[i].v2))
        path = full = sb_xasprintf ("%s/%s", dir, src->v1 ? cg_files[i].v1 : cg_files[i].v2);
      if (path)
        src->f[i].fd = open (path, O_RDONLY | O_CLOEXEC);
      if (src->f[i].fd < 0 && i >= SB_PFS_HOST_MEMINFO)
        return sb_error (err, errno, "open %s", path);
    }
  tasks = ctrl_dir (cg, src->v1 ? "pids" : "");
  if (tasks == NULL && src->v1)
    tasks = ctrl_dir (cg, "memory");
  if (tasks == NULL)
    return sb_error (err, ENOENT, "cgroup %s: no pids or memory hierarchy to count tasks in", cgroup_path);
  src->tasks_dir = sb_xstrdup (tasks);
  src->start = start >= 0 ? start : clock_s (CLOCK_BOOTTIME);
  src->btime = (int64_t)(clock_s (CLOCK_REALTIME) - (clock_s (CLOCK_BOOTTIME) - src->start));
  return 0;
}

void
sb_pfs_source_close (sb_pfs_source *src)
{
  for (int i = 0; i < SB_PFS_N_FILES; i++)
    {
      if (src->f[i].fd >= 0)
        close (src->f[i].fd);
      free (src->f[i].buf);
    }
  free (src->tasks_dir);
}

const char *
sb_pfs_read (sb_pfs_source *src, int which)
{
  sb_pfs_file *f = &src->f[which];
  size_t len = 0;

  if (f->fd < 0)
    return "";
  if (f->cap == 0)
    {
      f->cap = 4096;
      f->buf = sb_xmalloc0 (f->cap);
    }
  for (;;)
    {
      ssize_t n = pread (f->fd, f->buf + len, f->cap - len - 1, (off_t)len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      len += (size_t)n;
      if (len + 1 == f->cap)
        {
          f->cap *= 2;
          f->buf = sb_xrealloc (f->buf, f->cap);
        }
    }
  f->buf[len] = '\0';
  return f->buf;
}

static uint64_t
read_u64 (sb_pfs_source *src, int which, uint64_t def)
{
  const char *s = sb_pfs_read (src, which);
  char *end;
  unsigned long long v;

  if (*s == '\0' || strncmp (s, "max", 3) == 0)
    return def;
  errno = 0;
  v = strtoull (s, &end, 10);
  return errno || end == s ? def : v;
}

void
sb_pfs_source_mem (sb_pfs_source *src, sb_pfs_mem *m)
{
  memset (m, 0, sizeof (*m));
  m->limit = m->swap_limit = m->swap_usage = SB_PFS_UNLIMITED;
  if (!src->v1)
    {
      m->limit = read_u64 (src, SB_PFS_MEM_LIMIT, SB_PFS_UNLIMITED);
      m->swap_limit = read_u64 (src, SB_PFS_SWAP_LIMIT, SB_PFS_UNLIMITED);
      m->swap_usage = read_u64 (src, SB_PFS_SWAP_USAGE, SB_PFS_UNLIMITED);
    }
  m->usage = read_u64 (src, SB_PFS_MEM_USAGE, 0);
  sb_pfs_mem_parse_stat (sb_pfs_read (src, SB_PFS_MEM_STAT), src->v1, m);
  if (src->v1)
    {
      /* memsw counts memory and swap together; its usage file only exists
         with swap accounting, where the limit is finite or "unlimited".  */
      bool swap = m->swap_limit != SB_PFS_UNLIMITED && m->limit < m->swap_limit
                  && src->f[SB_PFS_SWAP_USAGE].fd >= 0;
      uint64_t memsw = swap ? read_u64 (src, SB_PFS_SWAP_USAGE, SB_PFS_UNLIMITED) : SB_PFS_UNLIMITED;
      m->swap_limit = swap ? m->swap_limit - m->limit : SB_PFS_UNLIMITED;
      m->swap_usage = memsw != SB_PFS_UNLIMITED && memsw > m->usage ? memsw - m->usage
                      : memsw == SB_PFS_UNLIMITED                   ? SB_PFS_UNLIMITED
                                                                    : 0;
    }
}

int
sb_pfs_source_cpus (sb_pfs_source *src, sb_pfs_cpus *cpus)
{
  _cleanup_free_ char *online = sb_xstrdup (sb_pfs_read (src, SB_PFS_HOST_ONLINE));
  const char *cpuset = sb_pfs_read (src, SB_PFS_CPUSET);
  int64_t quota = -1;
  uint64_t period = 0;

  if (src->v1)
    {
      quota = (int64_t)read_u64 (src, SB_PFS_CPU_QUOTA, (uint64_t)-1);
      period = read_u64 (src, SB_PFS_CPU_PERIOD, 0);
    }
  else
    {
      const char *max = sb_pfs_read (src, SB_PFS_CPU_QUOTA);
      long long q;
      unsigned long long p;
      if (sscanf (max, "%lld %llu", &q, &p) == 2)
        quota = q, period = p;
    }
  return sb_pfs_cpus_pick (*cpuset ? cpuset : NULL, online, quota, period, cpus);
}

void
sb_pfs_source_cputime (sb_pfs_source *src, const sb_pfs_cpus *cpus, sb_pfs_cputime *t)
{
  memset (t, 0, sizeof (*t));
  if (src->v1)
    {
      _cleanup_free_ char *user = sb_xstrdup (sb_pfs_read (src, SB_PFS_CPU_USER));
      sb_pfs_cputime_v1 (user, sb_pfs_read (src, SB_PFS_CPU_SYS), cpus, t);
    }
  else
    sb_pfs_cputime_v2 (sb_pfs_read (src, SB_PFS_CPU_USER), cpus, t);
}

double
sb_pfs_source_uptime (const sb_pfs_source *src)
{
  double up = clock_s (CLOCK_BOOTTIME) - src->start;
  return up > 0 ? up : 0;
}

/* Adds the tasks listed in dir and below: all, and (active not NULL) those
   running (R) or in uninterruptible sleep (D), what the kernel's load counts.  */
static void
count_tasks (int dirfd, const char *list, unsigned *all, unsigned *active)
{
  _cleanup_fclose_ FILE *f = NULL;
  DIR *d;
  struct dirent *e;
  int fd = openat (dirfd, list, O_RDONLY | O_CLOEXEC);
  int tid;

  if (fd >= 0 && (f = fdopen (fd, "r")) == NULL)
    close (fd);
  while (f && fscanf (f, "%d", &tid) == 1)
    {
      char st = 0;
      uint64_t start;
      (*all)++;
      if (active && sb_proc_stat (tid, &st, &start) == 0 && (st == 'R' || st == 'D'))
        (*active)++;
    }
  fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      if (fd >= 0)
        close (fd);
      return;
    }
  while ((e = readdir (d)) != NULL)
    if (e->d_type == DT_DIR && e->d_name[0] != '.')
      {
        int sub = openat (dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sub >= 0)
          {
            count_tasks (sub, list, all, active);
            close (sub);
          }
      }
  closedir (d);
}

bool
sb_pfs_source_count (const sb_pfs_source *src, unsigned *tasks, unsigned *active, unsigned *procs)
{
  _cleanup_close_ int dir = open (src->tasks_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  *tasks = *active = *procs = 0;
  if (dir < 0)
    return false;
  count_tasks (dir, src->v1 ? "tasks" : "cgroup.threads", tasks, active);
  count_tasks (dir, "cgroup.procs", procs, NULL);
  return true;
}
