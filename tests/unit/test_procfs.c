/* The rendering of sudobox-procfs's files from cgroup v1 and v2 values.  */
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static const char host_meminfo[] = "MemTotal:        8000000 kB\n"
                                   "MemFree:         4000000 kB\n"
                                   "MemAvailable:    6000000 kB\n"
                                   "Buffers:          100000 kB\n"
                                   "Cached:          1000000 kB\n"
                                   "SwapTotal:       2000000 kB\n"
                                   "SwapFree:        1500000 kB\n"
                                   "Shmem:             20000 kB\n"
                                   "KernelStack:        9000 kB\n";

static const char v1_stat[]
    = "cache 1\nrss 2\ntotal_cache 104857600\ntotal_rss 52428800\ntotal_shmem 1048576\n"
      "total_mapped_file 2097152\ntotal_active_file 41943040\ntotal_inactive_file 62914560\n";
static const char v2_stat[] = "anon 52428800\nfile 104857600\nshmem 1048576\nfile_mapped 2097152\n"
                              "slab_reclaimable 4194304\nactive_file 41943040\ninactive_file 62914560\n";

static void
test_meminfo (void)
{
  sb_pfs_mem m = { .limit = 512ULL << 20,
                   .usage = 200ULL << 20,
                   .swap_limit = SB_PFS_UNLIMITED,
                   .swap_usage = SB_PFS_UNLIMITED };
  sb_pfs_buf out = { 0 };

  sb_pfs_mem_parse_stat (v1_stat, true, &m);
  tap_is_int ((long long)m.file, 104857600, "v1 memory.stat: the hierarchical total_cache is taken");
  tap_is_int ((long long)m.anon, 52428800, "v1 memory.stat: total_rss is anon");
  {
    sb_pfs_mem lim = { .limit = SB_PFS_UNLIMITED };
    sb_pfs_mem_parse_stat (
        "hierarchical_memory_limit 536870912\nhierarchical_memsw_limit 9223372036854771712\n", true, &lim);
    tap_is_int ((long long)lim.limit, 536870912, "v1: the limit is the hierarchical one from memory.stat");
    tap_ok (lim.swap_limit == 9223372036854771712ULL, "v1: memsw limit from memory.stat");
    lim.limit = SB_PFS_UNLIMITED;
    sb_pfs_mem_parse_stat ("hierarchical_memory_limit 5\n", false, &lim);
    tap_ok (lim.limit == SB_PFS_UNLIMITED, "v2: no limit taken from memory.stat");
  }
  sb_pfs_render_meminfo (&out, host_meminfo, &m);
  tap_is_int ((long long)sb_pfs_meminfo_kb (out.p, "MemTotal"), 524288, "MemTotal is the 512M limit");
  tap_is_int ((long long)sb_pfs_meminfo_kb (out.p, "MemFree"), 524288 - 204800, "MemFree = limit - usage");
  tap_is_int ((long long)sb_pfs_meminfo_kb (out.p, "Cached"), 102400, "Cached is the cgroup's page cache");
  tap_is_int ((long long)sb_pfs_meminfo_kb (out.p, "MemAvailable"), 524288 - 204800 + 102400 - 1024,
              "MemAvailable = free + reclaimable cache");
  tap_is_int ((long long)sb_pfs_meminfo_kb (out.p, "SwapTotal"), 2000000, "unknown swap limit: host swap");
  tap_is_int ((long long)sb_pfs_meminfo_kb (out.p, "KernelStack"), 9000, "other lines pass through");
  tap_ok (strstr (out.p, "MemTotal:         524288 kB\n") != NULL, "kernel layout kept");
  sb_pfs_buf_free (&out);

  memset (&m, 0, sizeof (m));
  m = (sb_pfs_mem){
    .limit = 512ULL << 20, .usage = 600ULL << 20, .swap_limit = 100ULL << 20, .swap_usage = 30ULL << 20
  };
  sb_pfs_mem_parse_stat (v2_stat, false, &m);
  tap_is_int ((long long)m.slab_reclaimable, 4194304, "v2 memory.stat: slab_reclaimable");
  sb_pfs_render_meminfo (&out, host_meminfo, &m);
  tap_is_int ((long long)sb_pfs_meminfo_kb (out.p, "MemFree"), 0, "usage above the limit: MemFree 0");
  tap_is_int ((long long)sb_pfs_meminfo_kb (out.p, "SwapTotal"), 102400, "SwapTotal is the swap limit");
  tap_is_int ((long long)sb_pfs_meminfo_kb (out.p, "SwapFree"), 102400 - 30720, "SwapFree = limit - used");
  sb_pfs_buf_free (&out);

  m.limit = SB_PFS_UNLIMITED;
  sb_pfs_render_meminfo (&out, host_meminfo, &m);
  tap_is_str (out.p, host_meminfo, "no limit: the host's meminfo");
  sb_pfs_buf_free (&out);
}

static void
test_cpus (void)
{
  sb_pfs_cpus c;
  sb_pfs_buf out = { 0 };
  uint64_t bits[SB_PFS_MAX_CPUS / 64];

  tap_is_int (sb_pfs_parse_cpulist ("0-3,8,10-11\n", bits), 0, "cpu list parses");
  tap_is_int ((long long)bits[0], 0xd0f, "cpu list bits");
  tap_is_int (sb_pfs_parse_cpulist ("3-1", bits), -1, "reversed range refused");
  tap_is_int (sb_pfs_parse_cpulist ("0,x", bits), -1, "garbage refused");
  tap_is_int (sb_pfs_parse_cpulist ("5000", bits), -1, "cpu beyond the maximum refused");

  sb_pfs_cpus_pick ("2-5", "0-7", -1, 100000, &c);
  tap_is_int (c.n, 4, "cpuset 2-5, no quota: 4 cpus");
  tap_is_int (c.real[0], 2, "first visible cpu is host cpu 2");
  sb_pfs_cpus_pick ("2-5", "0-7", 150000, 100000, &c);
  tap_is_int (c.n, 2, "quota 1.5 cpus rounds up to 2");
  sb_pfs_cpus_pick (NULL, "0-7", 100000, 100000, &c);
  tap_is_int (c.n, 1, "--cpus 1 (quota = period) is 1 cpu");
  sb_pfs_cpus_pick ("4-7", "0-5", -1, 0, &c);
  tap_is_int (c.n, 2, "offline cpus of the cpuset are not shown");
  sb_pfs_render_online (&out, &c);
  tap_is_str (out.p, "0-1\n", "online is renumbered from 0");
  sb_pfs_buf_free (&out);

  sb_pfs_cpus_pick ("1", "0-1", -1, 0, &c);
  sb_pfs_render_cpuinfo (&out,
                         "processor\t: 0\nmodel name\t: A\nsiblings\t: 2\n\nprocessor\t: 1\nmodel name\t: B\n"
                         "siblings\t: 2\n\n",
                         &c);
  tap_is_str (out.p, "processor\t: 0\nmodel name\t: B\nsiblings\t: 1\n\n",
              "cpuinfo: the block of host cpu 1, renumbered");
  sb_pfs_buf_free (&out);
}

static void
test_times (void)
{
  static sb_pfs_cputime t;
  sb_pfs_cpus c;
  sb_pfs_buf out = { 0 };

  sb_pfs_cpus_pick ("1-2", "0-3", -1, 0, &c);
  tap_is_int (sb_pfs_cputime_v1 ("10 2000000000 3000000000 40\n", "5 1000000000 0 0\n", &c, &t), 0,
              "v1 per-cpu times parse");
  tap_is_int ((long long)t.user[0], 2000000000, "v1 user time of host cpu 1");
  tap_is_int ((long long)t.system[1], 0, "v1 system time of host cpu 2");
  tap_is_int ((long long)sb_pfs_idle_ticks (10.0, 2000000000, 1000000000), 700, "idle = life - busy");
  tap_is_int ((long long)sb_pfs_idle_ticks (1.0, 2000000000, 0), 0, "idle never negative");
  sb_pfs_render_stat (&out, "cpu  1 2 3 4\ncpu0 1 2 3 4\nintr 5\nbtime 111\nprocesses 9\n", &c, &t, 10.0,
                      1234);
  tap_is_str (
      out.p,
      "cpu  500 0 100 1400 0 0 0 0 0 0\ncpu0 200 0 100 700 0 0 0 0 0 0\ncpu1 300 0 0 700 0 0 0 0 0 0\n"
      "intr 5\nbtime 1234\nprocesses 9\n",
      "stat: visible cpus, btime the workspace's start");
  sb_pfs_buf_free (&out);
  sb_pfs_render_uptime (&out, &c, &t, 10.0);
  tap_is_str (out.p, "10.00 14.00\n", "uptime idle is the sum of the cpus' idle");
  sb_pfs_buf_free (&out);

  tap_is_int (sb_pfs_cputime_v2 ("usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\n", &c, &t), 0,
              "v2 cpu.stat parses");
  tap_is_int ((long long)t.user[1], 1000000000, "v2 user time is spread over the visible cpus");
}

static void
test_load_swaps_disk (void)
{
  sb_pfs_load l = { { 0 } };
  sb_pfs_buf out = { 0 };
  sb_pfs_mem m = { .limit = 512ULL << 20, .swap_limit = 100ULL << 20, .swap_usage = 10ULL << 20 };
  sb_pfs_io io[8];
  size_t n;
  struct sysinfo si;

  for (int i = 0; i < 3000; i++)
    sb_pfs_load_update (&l, 2, 5);
  tap_ok (l.avg[0] > 1.99 && l.avg[2] > 1.99, "load converges to the active count (%.2f %.2f)", l.avg[0],
          l.avg[2]);
  sb_pfs_render_loadavg (&out, &l, 2, 7, "0.5 0.4 0.3 1/300 4242\n");
  tap_is_str (out.p, "2.00 2.00 2.00 2/7 4242\n", "loadavg");
  sb_pfs_buf_free (&out);

  sb_pfs_render_swaps (&out, host_meminfo, &m);
  tap_ok (strstr (out.p, "\nnone                                    virtual         102400          10240")
              != NULL,
          "swaps shows the workspace's swap");
  sb_pfs_buf_free (&out);

  n = sb_pfs_io_parse_v1 ("8:0 Read 4096\n8:0 Write 1024\n8:0 Total 5120\nTotal 5120\n",
                          "8:0 Read 2\n8:0 Write 1\n8:0 Total 3\n", io, 8);
  tap_is_int ((long long)n, 1, "v1 blkio: one device");
  tap_is_int ((long long)io[0].rios, 2, "v1 read ios");
  n = sb_pfs_io_parse_v2 ("8:0 rbytes=4096 wbytes=1024 rios=2 wios=1 dbytes=0 dios=0\n", io, 8);
  tap_is_int ((long long)io[0].wbytes, 1024, "v2 io.stat wbytes");
  sb_pfs_render_diskstats (&out, "   8       0 sda 1 2 3 4\n   8      16 sdb 1 2 3 4\n", io, n);
  tap_is_str (out.p, "   8       0 sda 2 0 8 0 1 0 2 0 0 0 0 0 0 0 0 0 0\n",
              "diskstats: the workspace's devices");
  sb_pfs_buf_free (&out);

  m.usage = 100ULL << 20;
  sb_pfs_fill_sysinfo (&si, host_meminfo, &m, 42.7, &l, 7);
  tap_is_int ((long long)si.totalram, 512LL << 20, "sysinfo totalram = limit");
  tap_is_int ((long long)si.freeram, 412LL << 20, "sysinfo freeram = MemFree");
  tap_is_int (si.uptime, 42, "sysinfo uptime");
  tap_is_int (si.procs, 7, "sysinfo procs");
  tap_ok (si.loads[0] >= (2 << SI_LOAD_SHIFT) - 1 && si.loads[0] <= 2 << SI_LOAD_SHIFT,
          "sysinfo loads are fixed point (%lu)", si.loads[0]);
}

int
main (void)
{
  test_meminfo ();
  test_cpus ();
  test_times ();
  test_load_swaps_disk ();
  return tap_done ();
}
