/* Memory, swap, disk and sysinfo figures of a workspace from its cgroup.  */
#include "render.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
buf_reserve (sb_pfs_buf *b, size_t n)
{
  if (b->len + n + 1 <= b->cap)
    return;
  b->cap = (b->len + n + 1) * 2;
  b->p = realloc (b->p, b->cap);
  if (b->p == NULL)
    abort ();
}

void
sb_pfs_buf_add (sb_pfs_buf *b, const char *s, size_t n)
{
  buf_reserve (b, n);
  memcpy (b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void
sb_pfs_buf_printf (sb_pfs_buf *b, const char *fmt, ...)
{
  va_list ap;
  int n;

  /* Formats straight into the buffer; only a line that does not fit is
     formatted twice.  */
  buf_reserve (b, 128);
  va_start (ap, fmt);
  n = vsnprintf (b->p + b->len, b->cap - b->len, fmt, ap);
  va_end (ap);
  if (n < 0)
    abort ();
  if ((size_t)n >= b->cap - b->len)
    {
      buf_reserve (b, (size_t)n);
      va_start (ap, fmt);
      vsnprintf (b->p + b->len, (size_t)n + 1, fmt, ap);
      va_end (ap);
    }
  b->len += (size_t)n;
}

void
sb_pfs_buf_free (sb_pfs_buf *b)
{
  free (b->p);
  *b = (sb_pfs_buf){ 0 };
}

/* The value after "key" at the start of a line followed by a separator
   (space or ':'), or def.  */
static uint64_t
keyed_u64 (const char *text, const char *key, uint64_t def)
{
  size_t kl = strlen (key);

  for (const char *p = text; p && *p; p = strchr (p, '\n'), p = p ? p + 1 : NULL)
    if (strncmp (p, key, kl) == 0 && (p[kl] == ' ' || p[kl] == ':' || p[kl] == '\t'))
      {
        p += kl + 1;
        while (*p == ' ' || *p == '\t' || *p == ':')
          p++;
        return strtoull (p, NULL, 10);
      }
  return def;
}

uint64_t
sb_pfs_meminfo_kb (const char *meminfo, const char *key)
{
  return keyed_u64 (meminfo, key, 0);
}

void
sb_pfs_mem_parse_stat (const char *text, bool v1, sb_pfs_mem *m)
{
  static const struct
  {
    const char *v2, *v1;
    size_t off;
  } keys[] = {
    { "anon", "total_rss", offsetof (sb_pfs_mem, anon) },
    { "file", "total_cache", offsetof (sb_pfs_mem, file) },
    { "shmem", "total_shmem", offsetof (sb_pfs_mem, shmem) },
    { "file_mapped", "total_mapped_file", offsetof (sb_pfs_mem, file_mapped) },
    { "file_dirty", "total_dirty", offsetof (sb_pfs_mem, file_dirty) },
    { "file_writeback", "total_writeback", offsetof (sb_pfs_mem, file_writeback) },
    { "active_anon", "total_active_anon", offsetof (sb_pfs_mem, active_anon) },
    { "inactive_anon", "total_inactive_anon", offsetof (sb_pfs_mem, inactive_anon) },
    { "active_file", "total_active_file", offsetof (sb_pfs_mem, active_file) },
    { "inactive_file", "total_inactive_file", offsetof (sb_pfs_mem, inactive_file) },
    { "unevictable", "total_unevictable", offsetof (sb_pfs_mem, unevictable) },
    { "slab_reclaimable", "total_slab_reclaimable", offsetof (sb_pfs_mem, slab_reclaimable) },
    { "slab_unreclaimable", "total_slab_unreclaimable", offsetof (sb_pfs_mem, slab_unreclaimable) },
    /* v1 only: the effective limits (the lowest of the ancestors'), which
       spares reading memory.limit_in_bytes and memory.memsw.limit_in_bytes.  */
    { "", "hierarchical_memory_limit", offsetof (sb_pfs_mem, limit) },
    { "", "hierarchical_memsw_limit", offsetof (sb_pfs_mem, swap_limit) },
  };

  /* One pass over the lines "key value".  */
  for (const char *p = text; p && *p; p = strchr (p, '\n'), p = p ? p + 1 : NULL)
    {
      size_t kl = strcspn (p, " \n");
      if (p[kl] != ' ')
        continue;
      for (size_t i = 0; i < sizeof (keys) / sizeof (keys[0]); i++)
        {
          const char *k = v1 ? keys[i].v1 : keys[i].v2;
          if (*k != '\0' && strlen (k) == kl && memcmp (k, p, kl) == 0)
            {
              *(uint64_t *)((char *)m + keys[i].off) = strtoull (p + kl + 1, NULL, 10);
              break;
            }
        }
    }
}

static uint64_t
sub0 (uint64_t a, uint64_t b)
{
  return a > b ? a - b : 0;
}

static uint64_t
min64 (uint64_t a, uint64_t b)
{
  return a < b ? a : b;
}

static bool
mem_limited (const char *host_meminfo, const sb_pfs_mem *m)
{
  return m->limit != SB_PFS_UNLIMITED && m->limit / 1024 < sb_pfs_meminfo_kb (host_meminfo, "MemTotal");
}

void
sb_pfs_swap_kb (const char *host_meminfo, const sb_pfs_mem *m, uint64_t *total, uint64_t *free_)
{
  uint64_t host_total = sb_pfs_meminfo_kb (host_meminfo, "SwapTotal");

  if (m->swap_limit == SB_PFS_UNLIMITED || m->swap_usage == SB_PFS_UNLIMITED)
    {
      *total = host_total;
      *free_ = sb_pfs_meminfo_kb (host_meminfo, "SwapFree");
      return;
    }
  *total = min64 (host_total, m->swap_limit / 1024);
  *free_ = sub0 (*total, m->swap_usage / 1024);
}

/* The keys /proc/meminfo shows with the workspace's value.  */
#define N_MEM_KEYS 23
typedef struct mem_key
{
  const char *k;
  size_t len;
  uint64_t kb;
} mem_key;

/* Computed once per rendering: the host's text is then scanned once.  */
static void
mem_table (const char *host, const sb_pfs_mem *m, mem_key t[N_MEM_KEYS])
{
  uint64_t total = m->limit, used = min64 (m->usage, total), free_ = total - used;
  uint64_t cache = sub0 (m->file, m->shmem), swap_total, swap_free;
  size_t i = 0;

#define KEY(name, bytes) t[i++] = (mem_key){ name, sizeof (name) - 1, (bytes) / 1024 }
  KEY ("MemTotal", total);
  KEY ("MemFree", free_);
  KEY ("MemAvailable", min64 (total, free_ + cache + m->slab_reclaimable));
  KEY ("Buffers", 0);
  KEY ("Cached", m->file);
  KEY ("SwapCached", 0);
  KEY ("Active", m->active_anon + m->active_file);
  KEY ("Inactive", m->inactive_anon + m->inactive_file);
  KEY ("Active(anon)", m->active_anon);
  KEY ("Inactive(anon)", m->inactive_anon);
  KEY ("Active(file)", m->active_file);
  KEY ("Inactive(file)", m->inactive_file);
  KEY ("Unevictable", m->unevictable);
  KEY ("Dirty", m->file_dirty);
  KEY ("Writeback", m->file_writeback);
  KEY ("AnonPages", m->anon);
  KEY ("Mapped", m->file_mapped);
  KEY ("Shmem", m->shmem);
  KEY ("Slab", m->slab_reclaimable + m->slab_unreclaimable);
  KEY ("SReclaimable", m->slab_reclaimable);
  KEY ("SUnreclaim", m->slab_unreclaimable);
#undef KEY
  sb_pfs_swap_kb (host, m, &swap_total, &swap_free);
  t[i++] = (mem_key){ "SwapTotal", 9, swap_total };
  t[i++] = (mem_key){ "SwapFree", 8, swap_free };
}

/* "Key:" padded to 16, the value right-aligned in 8, " kB\n": the kernel's
   layout, without printf (this runs on every open of /proc/meminfo).  */
static size_t
meminfo_line (char line[64], const mem_key *k)
{
  char digits[24];
  size_t nd = 0, len = 0;
  uint64_t v = k->kb;

  do
    digits[nd++] = (char)('0' + v % 10);
  while ((v /= 10) > 0);
  memcpy (line, k->k, k->len);
  line[k->len] = ':';
  for (len = k->len + 1; len < 16; len++)
    line[len] = ' ';
  for (size_t w = nd; w < 8; w++)
    line[len++] = ' ';
  while (nd > 0)
    line[len++] = digits[--nd];
  memcpy (line + len, " kB\n", 4);
  return len + 4;
}

void
sb_pfs_render_meminfo (sb_pfs_buf *out, const char *host, const sb_pfs_mem *m)
{
  mem_key t[N_MEM_KEYS];

  if (!mem_limited (host, m))
    {
      sb_pfs_buf_add (out, host, strlen (host));
      return;
    }
  mem_table (host, m, t);
  for (const char *p = host; *p;)
    {
      const char *nl = strchrnul (p, '\n'), *colon = memchr (p, ':', (size_t)(nl - p));
      const mem_key *k = NULL;
      for (size_t i = 0; colon && k == NULL && i < N_MEM_KEYS; i++)
        if (t[i].len == (size_t)(colon - p) && memcmp (t[i].k, p, t[i].len) == 0)
          k = &t[i];
      if (k)
        {
          char line[64];
          sb_pfs_buf_add (out, line, meminfo_line (line, k));
        }
      else
        sb_pfs_buf_add (out, p, (size_t)(*nl ? nl + 1 - p : nl - p));
      p = *nl ? nl + 1 : nl;
    }
}

void
sb_pfs_render_swaps (sb_pfs_buf *out, const char *host_meminfo, const sb_pfs_mem *m)
{
  uint64_t total, free_;

  sb_pfs_buf_printf (out, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
  sb_pfs_swap_kb (host_meminfo, m, &total, &free_);
  if (total > 0)
    sb_pfs_buf_printf (out, "%-40s%-16s%-16llu%-16llu%d\n", "none", "virtual", (unsigned long long)total,
                       (unsigned long long)(total - free_), -2);
}

static sb_pfs_io *
io_slot (sb_pfs_io *io, size_t *n, size_t max, unsigned maj, unsigned min)
{
  for (size_t i = 0; i < *n; i++)
    if (io[i].major == maj && io[i].minor == min)
      return &io[i];
  if (*n == max)
    return NULL;
  io[*n] = (sb_pfs_io){ .major = maj, .minor = min };
  return &io[(*n)++];
}

/* v1 lines are "MAJ:MIN Op VALUE"; Op Read and Write are kept.  */
static void
io_add_v1 (const char *text, bool bytes, sb_pfs_io *out, size_t *n, size_t max)
{
  for (const char *p = text; p && *p; p = strchr (p, '\n'), p = p ? p + 1 : NULL)
    {
      unsigned maj, min;
      char op[16];
      unsigned long long v;
      sb_pfs_io *s;
      if (sscanf (p, "%u:%u %15s %llu", &maj, &min, op, &v) != 4)
        continue;
      if (strcmp (op, "Read") != 0 && strcmp (op, "Write") != 0)
        continue;
      s = io_slot (out, n, max, maj, min);
      if (s == NULL)
        continue;
      if (op[0] == 'R')
        *(bytes ? &s->rbytes : &s->rios) = v;
      else
        *(bytes ? &s->wbytes : &s->wios) = v;
    }
}

size_t
sb_pfs_io_parse_v1 (const char *bytes, const char *ios, sb_pfs_io *out, size_t max)
{
  size_t n = 0;

  io_add_v1 (bytes, true, out, &n, max);
  io_add_v1 (ios, false, out, &n, max);
  return n;
}

size_t
sb_pfs_io_parse_v2 (const char *io_stat, sb_pfs_io *out, size_t max)
{
  size_t n = 0;

  for (const char *p = io_stat; p && *p; p = strchr (p, '\n'), p = p ? p + 1 : NULL)
    {
      unsigned maj, min;
      const char *nl = strchrnul (p, '\n');
      sb_pfs_io *s;
      if (sscanf (p, "%u:%u", &maj, &min) != 2 || (s = io_slot (out, &n, max, maj, min)) == NULL)
        continue;
      for (const char *q = strchr (p, ' '); q && q < nl; q = strchr (q + 1, ' '))
        {
          unsigned long long v;
          char key[16];
          if (sscanf (q + 1, "%15[a-z]=%llu", key, &v) != 2)
            continue;
          if (strcmp (key, "rbytes") == 0)
            s->rbytes = v;
          else if (strcmp (key, "wbytes") == 0)
            s->wbytes = v;
          else if (strcmp (key, "rios") == 0)
            s->rios = v;
          else if (strcmp (key, "wios") == 0)
            s->wios = v;
        }
    }
  return n;
}

void
sb_pfs_render_diskstats (sb_pfs_buf *out, const char *host, const sb_pfs_io *io, size_t n)
{
  for (const char *p = host; p && *p; p = strchr (p, '\n'), p = p ? p + 1 : NULL)
    {
      unsigned maj, min;
      char name[64];
      if (sscanf (p, "%u %u %63s", &maj, &min, name) != 3)
        continue;
      for (size_t i = 0; i < n; i++)
        if (io[i].major == maj && io[i].minor == min && (io[i].rios || io[i].wios))
          sb_pfs_buf_printf (out, "%4u %7u %s %llu 0 %llu 0 %llu 0 %llu 0 0 0 0 0 0 0 0 0 0\n", maj, min,
                             name, (unsigned long long)io[i].rios, (unsigned long long)(io[i].rbytes / 512),
                             (unsigned long long)io[i].wios, (unsigned long long)(io[i].wbytes / 512));
    }
}

void
sb_pfs_fill_sysinfo (struct sysinfo *si, const char *host, const sb_pfs_mem *m, double uptime,
                     const sb_pfs_load *l, unsigned procs)
{
  uint64_t swap_total, swap_free;

  memset (si, 0, sizeof (*si));
  si->uptime = (long)uptime;
  for (int i = 0; i < 3; i++)
    si->loads[i] = (unsigned long)(l->avg[i] * (double)(1UL << SI_LOAD_SHIFT));
  if (mem_limited (host, m))
    {
      si->totalram = m->limit;
      si->freeram = m->limit - min64 (m->usage, m->limit);
      si->sharedram = m->shmem;
    }
  else
    {
      si->totalram = sb_pfs_meminfo_kb (host, "MemTotal") * 1024;
      si->freeram = sb_pfs_meminfo_kb (host, "MemFree") * 1024;
      si->sharedram = sb_pfs_meminfo_kb (host, "Shmem") * 1024;
      si->bufferram = sb_pfs_meminfo_kb (host, "Buffers") * 1024;
    }
  sb_pfs_swap_kb (host, m, &swap_total, &swap_free);
  si->totalswap = swap_total * 1024;
  si->freeswap = swap_free * 1024;
  si->procs = (unsigned short)(procs > 65535 ? 65535 : procs);
  si->mem_unit = 1;
}
