/* CPU figures of a workspace: which CPUs it sees, their times, its uptime
   and load.  */
#include "render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
sb_pfs_parse_cpulist (const char *s, uint64_t bits[SB_PFS_MAX_CPUS / 64])
{
  memset (bits, 0, SB_PFS_MAX_CPUS / 8);
  while (*s && *s != '\n')
    {
      char *end;
      unsigned long a = strtoul (s, &end, 10), b = a;
      if (end == s)
        return -1;
      if (*end == '-')
        {
          s = end + 1;
          b = strtoul (s, &end, 10);
          if (end == s)
            return -1;
        }
      if (a > b || b >= SB_PFS_MAX_CPUS)
        return -1;
      for (unsigned long c = a; c <= b; c++)
        bits[c / 64] |= 1ULL << (c % 64);
      s = end;
      if (*s == ',')
        s++;
      else if (*s && *s != '\n')
        return -1;
    }
  return 0;
}

int
sb_pfs_cpus_pick (const char *cpuset, const char *online, int64_t quota, uint64_t period, sb_pfs_cpus *out)
{
  uint64_t on[SB_PFS_MAX_CPUS / 64], set[SB_PFS_MAX_CPUS / 64];
  int limit = SB_PFS_MAX_CPUS;

  if (sb_pfs_parse_cpulist (online, on) < 0 || (cpuset && sb_pfs_parse_cpulist (cpuset, set) < 0))
    return -1;
  if (quota > 0 && period > 0)
    limit = (int)(((uint64_t)quota + period - 1) / period);
  out->n = 0;
  for (int c = 0; c < SB_PFS_MAX_CPUS && out->n < limit; c++)
    if ((on[c / 64] >> (c % 64) & 1) && (!cpuset || (set[c / 64] >> (c % 64) & 1)))
      out->real[out->n++] = c;
  /* An empty cpuset (not yet written) would leave no CPU: show the first
     online one rather than a machine without processors.  */
  if (out->n == 0)
    for (int c = 0; c < SB_PFS_MAX_CPUS && out->n == 0; c++)
      if (on[c / 64] >> (c % 64) & 1)
        out->real[out->n++] = c;
  return out->n > 0 ? 0 : -1;
}

void
sb_pfs_render_online (sb_pfs_buf *out, const sb_pfs_cpus *cpus)
{
  if (cpus->n == 1)
    sb_pfs_buf_printf (out, "0\n");
  else
    sb_pfs_buf_printf (out, "0-%d\n", cpus->n - 1);
}

/* The index among visible CPUs of host cpu c, or -1.  */
static int
visible_index (const sb_pfs_cpus *cpus, int c)
{
  for (int i = 0; i < cpus->n; i++)
    if (cpus->real[i] == c)
      return i;
  return -1;
}

void
sb_pfs_render_cpuinfo (sb_pfs_buf *out, const char *host, const sb_pfs_cpus *cpus)
{
  int idx = -1;

  for (const char *p = host; *p;)
    {
      const char *nl = strchrnul (p, '\n');
      int c;
      if (strncmp (p, "processor", 9) == 0 && sscanf (strchrnul (p, ':'), ": %d", &c) == 1)
        {
          idx = visible_index (cpus, c);
          if (idx >= 0)
            sb_pfs_buf_printf (out, "processor\t: %d\n", idx);
        }
      else if (idx >= 0 && (strncmp (p, "siblings", 8) == 0 || strncmp (p, "cpu cores", 9) == 0))
        sb_pfs_buf_printf (out, "%.*s: %d\n", (int)(strchrnul (p, ':') - p), p, cpus->n);
      else if (idx >= 0)
        {
          sb_pfs_buf_add (out, p, (size_t)(nl - p));
          sb_pfs_buf_add (out, "\n", 1);
        }
      p = *nl ? nl + 1 : nl;
    }
}

/* Whitespace-separated figures, one per possible host cpu.  */
static int
percpu_values (const char *text, uint64_t *v, int max)
{
  int n = 0;
  char *end;

  for (const char *p = text; n < max; p = end)
    {
      unsigned long long x = strtoull (p, &end, 10);
      if (end == p)
        break;
      v[n++] = x;
    }
  return n;
}

int
sb_pfs_cputime_v1 (const char *percpu_user, const char *percpu_sys, const sb_pfs_cpus *cpus,
                   sb_pfs_cputime *out)
{
  static __thread uint64_t u[SB_PFS_MAX_CPUS], s[SB_PFS_MAX_CPUS];
  int nu = percpu_values (percpu_user, u, SB_PFS_MAX_CPUS);
  int ns = percpu_values (percpu_sys, s, SB_PFS_MAX_CPUS);

  for (int i = 0; i < cpus->n; i++)
    {
      int c = cpus->real[i];
      out->user[i] = c < nu ? u[c] : 0;
      out->system[i] = c < ns ? s[c] : 0;
    }
  return nu > 0 && ns > 0 ? 0 : -1;
}

static uint64_t
stat_key (const char *text, const char *key)
{
  size_t kl = strlen (key);

  for (const char *p = text; p && *p; p = strchr (p, '\n'), p = p ? p + 1 : NULL)
    if (strncmp (p, key, kl) == 0 && p[kl] == ' ')
      return strtoull (p + kl + 1, NULL, 10);
  return 0;
}

int
sb_pfs_cputime_v2 (const char *cpu_stat, const sb_pfs_cpus *cpus, sb_pfs_cputime *out)
{
  uint64_t user = stat_key (cpu_stat, "user_usec") * 1000, sys = stat_key (cpu_stat, "system_usec") * 1000;

  if (cpus->n == 0)
    return -1;
  for (int i = 0; i < cpus->n; i++)
    {
      out->user[i] = user / (uint64_t)cpus->n;
      out->system[i] = sys / (uint64_t)cpus->n;
    }
  return 0;
}

#define NS_PER_TICK (1000000000ULL / SB_PFS_HZ)

uint64_t
sb_pfs_idle_ticks (double uptime, uint64_t user_ns, uint64_t system_ns)
{
  uint64_t life = uptime > 0 ? (uint64_t)(uptime * SB_PFS_HZ) : 0;
  uint64_t busy = user_ns / NS_PER_TICK + system_ns / NS_PER_TICK;

  return life > busy ? life - busy : 0;
}

static void
cpu_line (sb_pfs_buf *out, const char *name, uint64_t user, uint64_t sys, uint64_t idle)
{
  sb_pfs_buf_printf (out, "%s %llu 0 %llu %llu 0 0 0 0 0 0\n", name, (unsigned long long)user,
                     (unsigned long long)sys, (unsigned long long)idle);
}

void
sb_pfs_render_stat (sb_pfs_buf *out, const char *host, const sb_pfs_cpus *cpus, const sb_pfs_cputime *t,
                    double uptime, int64_t btime)
{
  uint64_t su = 0, ss = 0, si = 0;

  for (int i = 0; i < cpus->n; i++)
    {
      su += t->user[i] / NS_PER_TICK;
      ss += t->system[i] / NS_PER_TICK;
      si += sb_pfs_idle_ticks (uptime, t->user[i], t->system[i]);
    }
  cpu_line (out, "cpu ", su, ss, si);
  for (int i = 0; i < cpus->n; i++)
    {
      char name[16];
      snprintf (name, sizeof (name), "cpu%d", i);
      cpu_line (out, name, t->user[i] / NS_PER_TICK, t->system[i] / NS_PER_TICK,
                sb_pfs_idle_ticks (uptime, t->user[i], t->system[i]));
    }
  for (const char *p = host; *p;)
    {
      const char *nl = strchrnul (p, '\n');
      if (strncmp (p, "btime ", 6) == 0)
        sb_pfs_buf_printf (out, "btime %lld\n", (long long)btime);
      else if (strncmp (p, "cpu", 3) != 0)
        {
          sb_pfs_buf_add (out, p, (size_t)(nl - p));
          sb_pfs_buf_add (out, "\n", 1);
        }
      p = *nl ? nl + 1 : nl;
    }
}

void
sb_pfs_render_uptime (sb_pfs_buf *out, const sb_pfs_cpus *cpus, const sb_pfs_cputime *t, double uptime)
{
  uint64_t idle = 0;

  for (int i = 0; i < cpus->n; i++)
    idle += sb_pfs_idle_ticks (uptime, t->user[i], t->system[i]);
  sb_pfs_buf_printf (out, "%.2f %.2f\n", uptime > 0 ? uptime : 0.0, (double)idle / SB_PFS_HZ);
}

void
sb_pfs_load_update (sb_pfs_load *l, unsigned active, double dt)
{
  static const double window[3] = { 60, 300, 900 };

  for (int i = 0; i < 3; i++)
    {
      double e = exp (-dt / window[i]);
      l->avg[i] = l->avg[i] * e + (double)active * (1 - e);
    }
}

void
sb_pfs_render_loadavg (sb_pfs_buf *out, const sb_pfs_load *l, unsigned running, unsigned total,
                       const char *host_loadavg)
{
  const char *last = host_loadavg;

  /* The 5th field: the host's most recent pid.  */
  for (int i = 0; i < 4 && last; i++)
    {
      last = strchr (last, ' ');
      last = last ? last + 1 : NULL;
    }
  sb_pfs_buf_printf (out, "%.2f %.2f %.2f %u/%u %s", l->avg[0], l->avg[1], l->avg[2], running, total,
                     last && *last ? last : "0\n");
}
