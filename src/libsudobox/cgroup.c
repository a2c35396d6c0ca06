/* The backend-independent half of the cgroup module: host detection, the
   cgroupsPath rules, directory creation and removal, processes (enter, list,
   signal) and the checks every resource gets before anything is written.  */
#include "cgroup-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <time.h>

#include <linux/magic.h>

#include "util.h"

#define SB_CG_MOUNT "/sys/fs/cgroup"

/* The v1 hierarchies a container joins; others (perf_event, rdma, misc,
   named ones) are left alone.  */
static const char *const v1_used[] = {
  "cpu",  "cpuacct", "cpuset",  "memory",   "devices",      "freezer", "blkio",
  "pids", "hugetlb", "net_cls", "net_prio", "name=systemd", NULL,
};

/* ---- small helpers shared with the backends ---- */

bool
sb_cg_strv_has (char *const *v, const char *s)
{
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    if (strcmp (v[i], s) == 0)
      return true;
  return false;
}

char **
sb_cg_split (const char *s, const char *seps)
{
  _cleanup_free_ char *copy = sb_xstrdup (s);
  char **v = sb_xmalloc0 (sizeof (char *));
  char *save = NULL;

  for (char *tok = strtok_r (copy, seps, &save); tok; tok = strtok_r (NULL, seps, &save))
    sb_strv_append (&v, tok);
  return v;
}

int
sb_cg_read (const char *dir, const char *file, char **out, sb_err **err)
{
  _cleanup_free_ char *path = sb_xasprintf ("%s/%s", dir, file);
  char *buf = NULL;
  size_t len = 0;

  if (sb_read_file_at (AT_FDCWD, path, 1 << 20, &buf, &len, err) < 0)
    return -1;
  while (len > 0 && buf[len - 1] == '\n')
    buf[--len] = '\0';
  *out = buf;
  return 0;
}

int
sb_cg_write (const char *dir, const char *file, const char *value, const char *field, sb_err **err)
{
  _cleanup_free_ char *path = sb_xasprintf ("%s/%s", dir, file);
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CLOEXEC);

  if (fd < 0 || sb_write_all (fd, value, strlen (value)) < 0)
    {
      if (field != NULL)
        return sb_error (err, errno, "%s: write `%s` to %s", field, value, path);
      return sb_error (err, errno, "write `%s` to %s", value, path);
    }
  return 0;
}

bool
sb_cg_exists (const char *dir, const char *file)
{
  _cleanup_free_ char *path = sb_xasprintf ("%s/%s", dir, file);
  return access (path, F_OK) == 0;
}

const sb_cgroup_hier *
sb_cg_hier_for (const sb_cgroup *cg, const char *controller)
{
  for (size_t i = 0; i < cg->n_hiers; i++)
    if (sb_cg_strv_has (cg->hiers[i].controllers, controller))
      return &cg->hiers[i];
  return NULL;
}

long long
sb_cg_now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
sb_cg_wait_more (long long start_ms)
{
  long long elapsed = sb_cg_now_ms () - start_ms;
  struct timespec ts = { 0, elapsed < 100 ? 1000000 : 10000000 };

  if (elapsed > SB_CG_TIMEOUT_MS)
    return false;
  nanosleep (&ts, NULL);
  return true;
}

/* ---- detection ---- */

int
sb_cgroup_detect (enum sb_cgroup_mode *mode, sb_err **err)
{
  struct statfs st;

  if (statfs (SB_CG_MOUNT, &st) < 0)
    return sb_error (err, errno, "statfs %s", SB_CG_MOUNT);
  if (st.f_type == CGROUP2_SUPER_MAGIC)
    *mode = SB_CGROUP_UNIFIED;
  else if (st.f_type == TMPFS_MAGIC)
    *mode = SB_CGROUP_V1;
  else
    return sb_error (err, 0, "%s is neither cgroup2 nor a tmpfs of cgroup v1 mounts (filesystem type 0x%llx)",
                     SB_CG_MOUNT, (unsigned long long)st.f_type);
  return 0;
}

typedef struct mnt_entry
{
  char *root, *point, *fstype, *superopts;
} mnt_entry;

/* Splits one mountinfo line in place; false when malformed.  */
static bool
parse_mountinfo_line (char *line, mnt_entry *e)
{
  char *save = NULL, *tok;
  int field = 0;
  bool after_sep = false;

  memset (e, 0, sizeof (*e));
  for (tok = strtok_r (line, " \n", &save); tok; tok = strtok_r (NULL, " \n", &save), field++)
    {
      if (!after_sep)
        {
          if (field == 3)
            e->root = tok;
          else if (field == 4)
            e->point = tok;
          else if (field >= 6 && strcmp (tok, "-") == 0)
            {
              after_sep = true;
              field = -1;
            }
          continue;
        }
      if (field == 0)
        e->fstype = tok;
      else if (field == 2)
        e->superopts = tok;
    }
  if (e->root == NULL || e->point == NULL || e->fstype == NULL || e->superopts == NULL)
    return false;
  sb_unescape_octal (e->root);
  sb_unescape_octal (e->point);
  return true;
}

static void
add_hier (sb_cgroup *cg, const char *mount, const char *root, char **controllers)
{
  sb_cgroup_hier *h;

  cg->hiers = sb_xrealloc (cg->hiers, (cg->n_hiers + 1) * sizeof (*cg->hiers));
  h = &cg->hiers[cg->n_hiers++];
  h->mount = sb_xstrdup (mount);
  h->root = sb_xstrdup (root);
  h->controllers = controllers;
  h->dir = NULL;
}

/* A v1 mount whose options name controllers we use and none that an earlier
   mount of the same hierarchy already provided (bind mounts repeat them).  */
static void
add_v1_mount (sb_cgroup *cg, const mnt_entry *e)
{
  _cleanup_strv_ char **opts = sb_cg_split (e->superopts, ",");
  char **ctrls = sb_xmalloc0 (sizeof (char *));

  for (size_t i = 0; opts[i]; i++)
    if (sb_cg_strv_has ((char *const *)v1_used, opts[i]))
      {
        if (sb_cg_hier_for (cg, opts[i]) != NULL)
          {
            sb_strv_free (ctrls);
            return;
          }
        sb_strv_append (&ctrls, opts[i]);
      }
  if (ctrls[0] == NULL)
    {
      sb_strv_free (ctrls);
      return;
    }
  add_hier (cg, e->point, e->root, ctrls);
}

static int
discover (enum sb_cgroup_mode mode, sb_cgroup **out, sb_err **err)
{
  _cleanup_fclose_ FILE *f = fopen ("/proc/self/mountinfo", "re");
  _cleanup_free_ char *line = NULL;
  _cleanup_free_ char *v2_root = NULL;
  size_t cap = 0;
  sb_cgroup *cg;

  if (f == NULL)
    return sb_error (err, errno, "open /proc/self/mountinfo");
  cg = sb_xmalloc0 (sizeof (*cg));
  cg->mode = mode;
  cg->ops = mode == SB_CGROUP_V1 ? &sb_cgroup_v1_ops : &sb_cgroup_v2_ops;
  while (getline (&line, &cap, f) > 0)
    {
      mnt_entry e;
      if (!parse_mountinfo_line (line, &e))
        continue;
      if (mode == SB_CGROUP_V1 && strcmp (e.fstype, "cgroup") == 0)
        add_v1_mount (cg, &e);
      else if (mode == SB_CGROUP_UNIFIED && strcmp (e.fstype, "cgroup2") == 0
               && strcmp (e.point, SB_CG_MOUNT) == 0)
        {
          free (v2_root);
          v2_root = sb_xstrdup (e.root);
        }
    }
  if (mode == SB_CGROUP_UNIFIED)
    {
      _cleanup_free_ char *list = NULL;
      if (v2_root == NULL)
        {
          sb_cgroup_free (cg);
          return sb_error (err, 0, "no cgroup2 filesystem is mounted at %s", SB_CG_MOUNT);
        }
      if (sb_cg_read (SB_CG_MOUNT, "cgroup.controllers", &list, err) < 0)
        {
          sb_cgroup_free (cg);
          return -1;
        }
      add_hier (cg, SB_CG_MOUNT, v2_root, sb_cg_split (list, " "));
    }
  else if (cg->n_hiers == 0)
    {
      sb_cgroup_free (cg);
      return sb_error (err, 0,
                       "no cgroup v1 controller is mounted (/proc/self/mountinfo lists none of cpu, memory, "
                       "pids, freezer ...)");
    }
  *out = cg;
  return 0;
}

/* ---- paths ---- */

/* "a//b/" -> "a/b", keeping a leading "/"; "." and ".." are refused so the
   result cannot leave the hierarchy or alias another cgroup.  */
static int
normalize_path (const char *path, char **out, sb_err **err)
{
  _cleanup_strv_ char **parts = sb_cg_split (path, "/");
  size_t len = 2;
  char *r;

  for (size_t i = 0; parts[i]; i++)
    {
      if (strcmp (parts[i], ".") == 0 || strcmp (parts[i], "..") == 0)
        return sb_error (err, 0, "linux.cgroupsPath `%s`: `%s` components are not allowed", path, parts[i]);
      len += strlen (parts[i]) + 1;
    }
  r = sb_xmalloc0 (len);
  for (size_t i = 0; parts[i]; i++)
    {
      if (i > 0 || path[0] == '/')
        strcat (r, "/");
      strcat (r, parts[i]);
    }
  if (*r == '\0' && path[0] == '/')
    strcpy (r, "/");
  *out = r;
  return 0;
}

/* "system.slice:docker:abc" is the systemd driver's syntax.  */
static bool
is_systemd_path (const char *path)
{
  const char *c1 = strchr (path, ':');
  return c1 != NULL && strchr (path, '/') == NULL && strchr (c1 + 1, ':') != NULL;
}

/* The calling process's cgroup in the hierarchy that relative paths are
   resolved against: the unified one, or on v1 name=systemd (the first used
   controller without it), so that one recorded path serves every
   hierarchy.  */
static int
own_cgroup (const sb_cgroup *cg, char **out, sb_err **err)
{
  _cleanup_fclose_ FILE *f = fopen ("/proc/self/cgroup", "re");
  _cleanup_free_ char *line = NULL;
  const char *want = cg->mode == SB_CGROUP_V1 && sb_cg_hier_for (cg, "name=systemd") == NULL
                         ? cg->hiers[0].controllers[0]
                         : "name=systemd";
  size_t cap = 0;
  ssize_t n;

  if (f == NULL)
    return sb_error (err, errno, "open /proc/self/cgroup");
  while ((n = getline (&line, &cap, f)) > 0)
    {
      char *c1 = strchr (line, ':'), *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
      _cleanup_strv_ char **ctrls = NULL;
      if (c2 == NULL)
        continue;
      if (line[n - 1] == '\n')
        line[n - 1] = '\0';
      *c2 = '\0';
      ctrls = sb_cg_split (c1 + 1, ",");
      if ((cg->mode == SB_CGROUP_UNIFIED && strncmp (line, "0:", 2) == 0 && ctrls[0] == NULL)
          || (cg->mode == SB_CGROUP_V1 && sb_cg_strv_has (ctrls, want)))
        {
          *out = sb_xstrdup (c2 + 1);
          return 0;
        }
    }
  return sb_error (err, 0, "/proc/self/cgroup has no entry for the %s hierarchy",
                   cg->mode == SB_CGROUP_V1 ? want : "unified");
}

static int
resolve_path (const sb_cgroup *cg, const char *id, const char *path, char **out, sb_err **err)
{
  _cleanup_free_ char *dflt = NULL;
  _cleanup_free_ char *norm = NULL;
  _cleanup_free_ char *own = NULL;

  if (path == NULL || *path == '\0')
    {
      if (id == NULL || *id == '\0' || strchr (id, '/') != NULL || strcmp (id, ".") == 0
          || strcmp (id, "..") == 0)
        return sb_error (err, 0, "container id `%s` cannot name a cgroup", id ? id : "");
      path = dflt = sb_xasprintf ("/sudobox/%s", id);
    }
  if (is_systemd_path (path))
    return sb_error (
        err, 0,
        "linux.cgroupsPath `%s`: systemd cgroup paths (slice:prefix:name) are not supported; use a "
        "path such as /sudobox/ID",
        path);
  if (normalize_path (path, &norm, err) < 0)
    return -1;
  if (path[0] == '/')
    {
      if (strcmp (norm, "/") == 0)
        return sb_error (err, 0, "linux.cgroupsPath `%s`: refusing to use the root cgroup", path);
      *out = sb_steal (&norm);
      return 0;
    }
  if (*norm == '\0')
    return sb_error (err, 0, "linux.cgroupsPath `%s`: names the runtime's own cgroup", path);
  if (own_cgroup (cg, &own, err) < 0)
    return -1;
  *out = sb_xasprintf ("%s/%s", strcmp (own, "/") == 0 ? "" : own, norm);
  return 0;
}

/* hier->dir = mount + path, path taken relative to the mount's root.  */
static int
set_path (sb_cgroup *cg, const char *path, sb_err **err)
{
  cg->path = sb_xstrdup (path);
  for (size_t i = 0; i < cg->n_hiers; i++)
    {
      sb_cgroup_hier *h = &cg->hiers[i];
      size_t rl = strcmp (h->root, "/") == 0 ? 0 : strlen (h->root);

      if (rl > 0 && (strncmp (path, h->root, rl) != 0 || (path[rl] != '/' && path[rl] != '\0')))
        return sb_error (err, 0, "cgroup %s is outside the part of the hierarchy mounted at %s (%s)", path,
                         h->mount, h->root);
      if (path[rl] == '\0')
        return sb_error (err, 0, "cgroup %s is the root of the hierarchy mounted at %s", path, h->mount);
      h->dir = sb_xasprintf ("%s%s", h->mount, path + rl);
    }
  return 0;
}

/* ---- checks ---- */

static bool
valid_cpu_list (const char *s)
{
  _cleanup_strv_ char **parts = sb_cg_split (s, ",");
  if (strspn (s, "0123456789,-") != strlen (s))
    return false;
  for (size_t i = 0; parts[i]; i++)
    {
      char *dash = strchr (parts[i], '-');
      uint64_t a, b;
      if (dash == NULL)
        {
          if (sb_parse_u64 (parts[i], &a) < 0)
            return false;
          continue;
        }
      *dash = '\0';
      if (sb_parse_u64 (parts[i], &a) < 0 || sb_parse_u64 (dash + 1, &b) < 0 || a > b)
        return false;
    }
  return true;
}

static bool
valid_page_size (const char *s)
{
  size_t digits = strspn (s, "0123456789");
  const char *unit = s + digits;
  return digits > 0
         && (strcmp (unit, "KB") == 0 || strcmp (unit, "MB") == 0 || strcmp (unit, "GB") == 0
             || strcmp (unit, "TB") == 0);
}

#define FIELD "linux.resources."
#define CHECK(cond, ...)                                                                                     \
  do                                                                                                         \
    {                                                                                                        \
      if (!(cond))                                                                                           \
        return sb_error (err, 0, __VA_ARGS__);                                                               \
    }                                                                                                        \
  while (0)

/* A memory limit below this leaves no room for the container's init and the
   runtime's own setup in it; the kernel would OOM-kill at once (docker and
   podman refuse the same).  */
#define SB_CG_MIN_MEMORY (6ll * 1024 * 1024)

static int
check_memory (const sb_resources *r, sb_err **err)
{
  const typeof (r->memory) *m = &r->memory;

  CHECK (!m->limit.set || m->limit.v >= -1, FIELD "memory.limit: %lld is negative (-1 means unlimited)",
         (long long)m->limit.v);
  CHECK (!m->limit.set || m->limit.v <= 0 || m->limit.v >= SB_CG_MIN_MEMORY,
         FIELD "memory.limit: %lld bytes is below the minimum of 6 MiB (%lld)", (long long)m->limit.v,
         SB_CG_MIN_MEMORY);
  CHECK (!m->reservation.set || m->reservation.v >= -1, FIELD "memory.reservation: %lld is negative",
         (long long)m->reservation.v);
  CHECK (!m->swap.set || m->swap.v >= -1, FIELD "memory.swap: %lld is negative (-1 means unlimited)",
         (long long)m->swap.v);
  CHECK (!m->swap.set || m->swap.v <= 0 || !m->limit.set || m->limit.v <= 0 || m->swap.v >= m->limit.v,
         FIELD "memory.swap: %lld is below memory.limit %lld (swap is the limit of memory plus swap)",
         (long long)m->swap.v, (long long)m->limit.v);
  CHECK (!m->swappiness.set || (m->swappiness.v >= -1 && m->swappiness.v <= 100),
         FIELD "memory.swappiness: %lld is outside 0..100", (long long)m->swappiness.v);
  CHECK (!m->kernel_tcp.set || m->kernel_tcp.v >= -1, FIELD "memory.kernelTCP: %lld is negative",
         (long long)m->kernel_tcp.v);
  return 0;
}

static int
check_cpu (const sb_resources *r, sb_err **err)
{
  const typeof (r->cpu) *c = &r->cpu;

  CHECK (!c->shares.set || c->shares.v == 0 || (c->shares.v >= 2 && c->shares.v <= 262144),
         FIELD "cpu.shares: %lld is outside 2..262144", (long long)c->shares.v);
  CHECK (!c->period.set || c->period.v == 0 || (c->period.v >= 1000 && c->period.v <= 1000000),
         FIELD "cpu.period: %lld is outside 1000..1000000 microseconds", (long long)c->period.v);
  CHECK (!c->quota.set || c->quota.v == -1 || c->quota.v == 0 || c->quota.v >= 1000,
         FIELD "cpu.quota: %lld must be -1 (unlimited) or at least 1000 microseconds", (long long)c->quota.v);
  CHECK (!c->realtime_runtime.set || c->realtime_runtime.v >= -1,
         FIELD "cpu.realtimeRuntime: %lld is negative", (long long)c->realtime_runtime.v);
  CHECK (!c->realtime_period.set || c->realtime_period.v >= 0, FIELD "cpu.realtimePeriod: %lld is negative",
         (long long)c->realtime_period.v);
  CHECK (!c->idle.set || c->idle.v == 0 || c->idle.v == 1, FIELD "cpu.idle: %lld must be 0 or 1",
         (long long)c->idle.v);
  CHECK (!c->burst.set || c->burst.v >= 0, FIELD "cpu.burst: %lld is negative", (long long)c->burst.v);
  CHECK (c->cpus == NULL || valid_cpu_list (c->cpus), FIELD "cpu.cpus: `%s` is not a list such as 0-3,5",
         c->cpus);
  CHECK (c->mems == NULL || valid_cpu_list (c->mems), FIELD "cpu.mems: `%s` is not a list such as 0-1",
         c->mems);
  return 0;
}

static int
check_blkio (const sb_resources *r, sb_err **err)
{
  const typeof (r->blkio) *b = &r->blkio;

  CHECK (!b->weight.set || b->weight.v == 0 || (b->weight.v >= 10 && b->weight.v <= 1000),
         FIELD "blockIO.weight: %lld is outside 10..1000", (long long)b->weight.v);
  CHECK (!b->leaf_weight.set || b->leaf_weight.v == 0 || (b->leaf_weight.v >= 10 && b->leaf_weight.v <= 1000),
         FIELD "blockIO.leafWeight: %lld is outside 10..1000", (long long)b->leaf_weight.v);
  for (size_t i = 0; i < b->n_weight_devices; i++)
    {
      const sb_weight_device *w = &b->weight_devices[i];
      CHECK (w->major >= 0 && w->minor >= 0, FIELD "blockIO.weightDevice[%zu]: major and minor are required",
             i);
      CHECK (!w->has_weight || (w->weight >= 10 && w->weight <= 1000),
             FIELD "blockIO.weightDevice[%zu].weight: %u is outside 10..1000", i, w->weight);
      CHECK (!w->has_leaf_weight || (w->leaf_weight >= 10 && w->leaf_weight <= 1000),
             FIELD "blockIO.weightDevice[%zu].leafWeight: %u is outside 10..1000", i, w->leaf_weight);
    }
  return 0;
}

static int
check_devices (const sb_resources *r, sb_err **err)
{
  for (size_t i = 0; i < r->n_devices; i++)
    {
      const sb_device_rule *d = &r->devices[i];
      CHECK (d->type == 'a' || d->type == 'c' || d->type == 'b',
             FIELD "devices[%zu].type: `%c` is not a, c or b", i, d->type);
      CHECK (d->access == NULL || (*d->access && strspn (d->access, "rwm") == strlen (d->access)),
             FIELD "devices[%zu].access: `%s` is not a combination of r, w and m", i, d->access);
      CHECK (d->major >= -1 && d->minor >= -1, FIELD "devices[%zu]: negative major or minor", i);
    }
  return 0;
}

static int
check_values (const sb_resources *r, sb_err **err)
{
  if (check_memory (r, err) < 0 || check_cpu (r, err) < 0 || check_blkio (r, err) < 0
      || check_devices (r, err) < 0)
    return -1;
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    CHECK (r->hugepage_limits[i].page_size != NULL && valid_page_size (r->hugepage_limits[i].page_size),
           FIELD "hugepageLimits[%zu].pageSize: `%s` is not a size such as 2MB or 1GB", i,
           r->hugepage_limits[i].page_size ? r->hugepage_limits[i].page_size : "");
  return 0;
}

size_t
sb_cg_needs (const sb_resources *r, enum sb_cgroup_mode mode, sb_cg_need out[SB_CG_MAX_NEEDS])
{
  const typeof (r->memory) *m = &r->memory;
  const typeof (r->cpu) *c = &r->cpu;
  const typeof (r->blkio) *b = &r->blkio;
  size_t n = 0;

#define NEED(cond, f, ctrl)                                                                                  \
  if (cond)                                                                                                  \
  out[n++] = (sb_cg_need){ FIELD f, ctrl }
  NEED ((m->limit.set && m->limit.v != 0) || (m->reservation.set && m->reservation.v != 0)
            || (m->swap.set && m->swap.v != 0) || (m->swappiness.set && m->swappiness.v != -1)
            || m->disable_oom_killer || m->kernel_tcp.set,
        "memory", "memory");
  NEED ((c->shares.set && c->shares.v) || (c->quota.set && c->quota.v) || (c->period.set && c->period.v)
            || (c->realtime_runtime.set && c->realtime_runtime.v)
            || (c->realtime_period.set && c->realtime_period.v) || c->idle.set || c->burst.set,
        "cpu", "cpu");
  NEED ((c->cpus && *c->cpus) || (c->mems && *c->mems), "cpu.cpus", "cpuset");
  NEED (r->pids.limit.set, "pids.limit", "pids");
  NEED ((b->weight.set && b->weight.v) || (b->leaf_weight.set && b->leaf_weight.v) || b->n_weight_devices
            || b->n_throttle_read_bps || b->n_throttle_write_bps || b->n_throttle_read_iops
            || b->n_throttle_write_iops,
        "blockIO", mode == SB_CGROUP_V1 ? "blkio" : "io");
  NEED (r->n_hugepage_limits > 0, "hugepageLimits", "hugetlb");
  /* v2 device rules are an eBPF program, not a controller.  */
  NEED (mode == SB_CGROUP_V1 && r->n_devices > 0, "devices", "devices");
#undef NEED
  return n;
}

static char *
join_controllers (const sb_cgroup *cg)
{
  size_t len = 1;
  char *r;

  for (size_t i = 0; i < cg->n_hiers; i++)
    for (size_t j = 0; cg->hiers[i].controllers[j]; j++)
      len += strlen (cg->hiers[i].controllers[j]) + 2;
  r = sb_xmalloc0 (len);
  for (size_t i = 0; i < cg->n_hiers; i++)
    for (size_t j = 0; cg->hiers[i].controllers[j]; j++)
      {
        if (*r)
          strcat (r, ", ");
        strcat (r, cg->hiers[i].controllers[j]);
      }
  if (*r == '\0')
    {
      free (r);
      r = sb_xstrdup ("none");
    }
  return r;
}

static int
check_controllers (const sb_cgroup *cg, const sb_resources *r, sb_err **err)
{
  sb_cg_need needs[SB_CG_MAX_NEEDS];
  size_t n = sb_cg_needs (r, cg->mode, needs);

  for (size_t i = 0; i < n; i++)
    {
      _cleanup_free_ char *avail = NULL;
      if (sb_cg_hier_for (cg, needs[i].controller) != NULL)
        continue;
      avail = join_controllers (cg);
      if (cg->mode == SB_CGROUP_UNIFIED)
        return sb_error (err, 0,
                         "%s: the %s controller is not available in cgroup v2 hierarchy %s (available: %s)",
                         needs[i].field, needs[i].controller, cg->hiers[0].mount, avail);
      return sb_error (err, 0, "%s: the %s controller is not mounted in cgroup v1 (mounted: %s)",
                       needs[i].field, needs[i].controller, avail);
    }
  return 0;
}

static int
check_all (const sb_cgroup *cg, const sb_resources *res, sb_err **err)
{
  if (res != NULL && (check_values (res, err) < 0 || check_controllers (cg, res, err) < 0))
    return -1;
  return cg->ops->check (cg, res, err);
}

int
sb_cgroup_validate (const sb_resources *res, enum sb_cgroup_mode mode, sb_err **err)
{
  _cleanup_cgroup_ sb_cgroup *cg = NULL;

  if (res == NULL)
    return 0;
  if (discover (mode, &cg, err) < 0)
    return -1;
  return check_all (cg, res, err);
}

/* ---- processes ---- */

static void
add_pid (pid_t **pids, size_t *n, pid_t p)
{
  if ((*n & (*n - 1)) == 0)
    *pids = sb_xrealloc (*pids, (*n ? *n * 2 : 1) * sizeof (pid_t));
  (*pids)[(*n)++] = p;
}

/* cgroup.procs of dir and of every cgroup below it (nested containers may
   have made some).  A cgroup that vanished meanwhile has no processes.  */
static int
collect_pids (const char *dir, pid_t **pids, size_t *n, sb_err **err)
{
  _cleanup_free_ char *procs = NULL;
  _cleanup_strv_ char **lines = NULL;
  sb_err *local = NULL;
  DIR *d;
  struct dirent *de;
  int ret = 0;

  if (sb_cg_read (dir, "cgroup.procs", &procs, &local) < 0)
    {
      int e = local->errnum;
      if (e == ENOENT || e == ENODEV)
        {
          sb_err_free (&local);
          return 0;
        }
      if (err != NULL && *err == NULL)
        *err = local;
      else
        sb_err_free (&local);
      return -1;
    }
  lines = sb_cg_split (procs, "\n");
  for (size_t i = 0; lines[i]; i++)
    {
      int64_t v;
      if (sb_parse_i64 (lines[i], &v) == 0 && v > 0)
        add_pid (pids, n, (pid_t)v);
    }
  d = opendir (dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : sb_error (err, errno, "open %s", dir);
  while (ret == 0 && (de = readdir (d)) != NULL)
    {
      _cleanup_free_ char *sub = NULL;
      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      sub = sb_xasprintf ("%s/%s", dir, de->d_name);
      ret = collect_pids (sub, pids, n, err);
    }
  closedir (d);
  return ret;
}

static int
cmp_pid (const void *a, const void *b)
{
  pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
  return (x > y) - (x < y);
}

int
sb_cgroup_pids (sb_cgroup *cg, pid_t **pids, size_t *n, sb_err **err)
{
  _cleanup_free_ pid_t *all = NULL;
  size_t count = 0, uniq = 0;

  /* v1 hierarchies are independent: a process moved in one only is still
     the container's.  */
  for (size_t i = 0; i < cg->n_hiers; i++)
    if (collect_pids (cg->hiers[i].dir, &all, &count, err) < 0)
      return -1;
  if (count > 0)
    {
      qsort (all, count, sizeof (pid_t), cmp_pid);
      for (size_t i = 0; i < count; i++)
        if (uniq == 0 || all[uniq - 1] != all[i])
          all[uniq++] = all[i];
    }
  *pids = sb_steal (&all);
  *n = uniq;
  return 0;
}

int
sb_cgroup_enter (sb_cgroup *cg, pid_t pid, sb_err **err)
{
  char buf[32];
  size_t joined = 0;

  snprintf (buf, sizeof (buf), "%d", pid);
  for (size_t i = 0; i < cg->n_hiers; i++)
    {
      /* A v1 hierarchy mounted after the container was created (exec) has no
         directory for it; the others still hold the process.  */
      if (cg->mode == SB_CGROUP_V1 && access (cg->hiers[i].dir, F_OK) < 0 && errno == ENOENT)
        continue;
      if (sb_cg_write (cg->hiers[i].dir, "cgroup.procs", buf, NULL, err) < 0)
        return sb_error_wrap (err, "add pid %d to cgroup %s", pid, cg->path);
      joined++;
    }
  if (joined == 0)
    return sb_error (err, ENOENT, "add pid %d to cgroup %s", pid, cg->path);
  return 0;
}

int
sb_cgroup_self_join_fds (sb_cgroup *cg, int **fds, size_t *n, sb_err **err)
{
  _cleanup_free_ int *out = NULL;
  size_t count = 0;

  *fds = NULL;
  *n = 0;
  if (cg->mode != SB_CGROUP_V1)
    return 0;
  out = sb_xmalloc0 (cg->n_hiers * sizeof (int));
  for (size_t i = 0; i < cg->n_hiers; i++)
    {
      _cleanup_free_ char *path = sb_xasprintf ("%s/tasks", cg->hiers[i].dir);
      int fd = open (path, O_WRONLY | O_CLOEXEC);
      if (fd < 0)
        {
          int saved = errno;
          while (count > 0)
            close (out[--count]);
          return sb_error (err, saved, "open `%s`", path);
        }
      out[count++] = fd;
    }
  *fds = sb_steal (&out);
  *n = count;
  return 0;
}

int
sb_cgroup_open_fd (sb_cgroup *cg)
{
  if (cg->mode != SB_CGROUP_UNIFIED || cg->n_hiers != 1)
    return -1;
  return open (cg->hiers[0].dir, O_DIRECTORY | O_PATH | O_CLOEXEC);
}

static int
signal_all (sb_cgroup *cg, int sig, sb_err **err)
{
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;

  if (sb_cgroup_pids (cg, &pids, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (kill (pids[i], sig) < 0 && errno != ESRCH)
      return sb_error (err, errno, "send signal %d to pid %d of cgroup %s", sig, pids[i], cg->path);
  return 0;
}

static bool
is_empty (sb_cgroup *cg)
{
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;

  return sb_cgroup_pids (cg, &pids, &n, NULL) == 0 && n == 0;
}

static bool
can_freeze (const sb_cgroup *cg)
{
  return cg->mode == SB_CGROUP_UNIFIED || sb_cg_hier_for (cg, "freezer") != NULL;
}

int
sb_cgroup_kill (sb_cgroup *cg, int sig, sb_err **err)
{
  _cleanup_err_ sb_err *ignored = NULL;
  int r;

  if (sig == SIGKILL)
    {
      r = cg->ops->kill_all (cg, err);
      if (r != 0)
        return r < 0 ? -1 : 0;
    }
  if (sig != SIGKILL || !can_freeze (cg))
    return signal_all (cg, sig, err);
  /* An empty cgroup (a container whose init has exited: every delete after
     a run) has nothing to freeze, and nothing in it can fork.  */
  if (is_empty (cg))
    return 0;
  /* Freezing stops forks racing the pid list (best effort: a container that
     cannot be frozen still gets its signals); thawing afterwards lets frozen
     processes, a paused container's too, act on SIGKILL.  */
  (void)cg->ops->freeze (cg, true, &ignored);
  r = signal_all (cg, sig, err);
  if (cg->ops->freeze (cg, false, r < 0 ? &ignored : err) < 0)
    return -1;
  return r;
}

/* ---- creation and removal ---- */

static int
rmdir_retry (const char *dir, sb_err **err)
{
  long long start = sb_cg_now_ms ();

  while (rmdir (dir) < 0)
    {
      if (errno == ENOENT)
        return 0;
      /* The kernel drops a cgroup's last task a moment after it exits.  */
      if (errno != EBUSY || !sb_cg_wait_more (start))
        return sb_error (err, errno, "remove cgroup %s", dir);
    }
  return 0;
}

static int
remove_tree (const char *dir, sb_err **err)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  int ret = 0;

  if (d == NULL)
    return errno == ENOENT ? 0 : sb_error (err, errno, "open %s", dir);
  while (ret == 0 && (de = readdir (d)) != NULL)
    {
      _cleanup_free_ char *sub = NULL;
      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      sub = sb_xasprintf ("%s/%s", dir, de->d_name);
      ret = remove_tree (sub, err);
    }
  closedir (d);
  return ret < 0 ? -1 : rmdir_retry (dir, err);
}

/* Parents sudobox made ("/sudobox") go when they are empty; one still used
   by another container refuses with EBUSY/ENOTEMPTY and stays.  */
static void
remove_marked_parents (const sb_cgroup_hier *h)
{
  _cleanup_free_ char *p = sb_xstrdup (h->dir);
  size_t mlen = strlen (h->mount);
  char *slash;

  while ((slash = strrchr (p, '/')) != NULL && (size_t)(slash - p) > mlen)
    {
      *slash = '\0';
      if (getxattr (p, SB_CG_MARK, NULL, 0) < 0 || rmdir (p) < 0)
        return;
    }
}

/* Makes the directories of cg->path in hierarchy h, marking and listing the
   ones it created.  */
static int
make_dirs (const sb_cgroup_hier *h, char ***created, sb_err **err)
{
  size_t mlen = strlen (h->mount);

  /* A concurrent delete may remove an empty marked parent between our
     mkdir calls; start over then.  */
  for (int attempt = 0;; attempt++)
    {
      _cleanup_free_ char *p = sb_xstrdup (h->dir);
      bool raced = false;

      for (char *s = p + mlen + 1;; s++)
        {
          char saved = *s;
          if (saved != '/' && saved != '\0')
            continue;
          *s = '\0';
          if (mkdir (p, 0755) == 0)
            {
              /* Best effort: without xattr support the parents stay.  */
              (void)setxattr (p, SB_CG_MARK, "1", 1, 0);
              sb_strv_append (created, p);
            }
          else if (errno == ENOENT && attempt < 5)
            raced = true;
          else if (errno != EEXIST)
            return sb_error (err, errno, "create cgroup %s", p);
          *s = saved;
          if (raced || saved == '\0')
            break;
        }
      if (!raced)
        return 0;
    }
}

static void
rollback (sb_cgroup *cg, char ***created)
{
  for (size_t i = 0; i < cg->n_hiers; i++)
    for (size_t j = sb_strv_len (created[i]); j > 0; j--)
      {
        _cleanup_err_ sb_err *ignored = NULL;
        rmdir_retry (created[i][j - 1], &ignored);
      }
}

static int
check_unused (sb_cgroup *cg, sb_err **err)
{
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;

  if (sb_cgroup_pids (cg, &pids, &n, err) < 0)
    return -1;
  if (n > 0)
    return sb_error (err, 0, "cgroup %s already has processes (pid %d)", cg->path, pids[0]);
  return 0;
}

static int
create_in (sb_cgroup *cg, const sb_resources *res, char ***created, sb_err **err)
{
  for (size_t i = 0; i < cg->n_hiers; i++)
    if (make_dirs (&cg->hiers[i], &created[i], err) < 0)
      return -1;
  if (cg->ops->prepare (cg, created, err) < 0)
    return -1;
  return res != NULL ? cg->ops->apply (cg, res, err) : 0;
}

int
sb_cgroup_plan (const char *id, const char *path, const sb_resources *res, sb_cgroup **out, sb_err **err)
{
  _cleanup_cgroup_ sb_cgroup *cg = NULL;
  _cleanup_free_ char *abs = NULL;
  enum sb_cgroup_mode mode;

  if (sb_cgroup_detect (&mode, err) < 0 || discover (mode, &cg, err) < 0
      || resolve_path (cg, id, path, &abs, err) < 0 || set_path (cg, abs, err) < 0
      || check_all (cg, res, err) < 0)
    return -1;
  *out = sb_steal (&cg);
  return 0;
}

int
sb_cgroup_make (sb_cgroup *cg, const sb_resources *res, sb_err **err)
{
  char ***created;
  int r;

  if (check_unused (cg, err) < 0)
    return -1;
  created = sb_xmalloc0 (cg->n_hiers * sizeof (char **));
  r = create_in (cg, res, created, err);
  if (r < 0)
    rollback (cg, created);
  for (size_t i = 0; i < cg->n_hiers; i++)
    sb_strv_free (created[i]);
  free (created);
  return r;
}

int
sb_cgroup_create (const char *id, const char *path, const sb_resources *res, sb_cgroup **out, sb_err **err)
{
  _cleanup_cgroup_ sb_cgroup *cg = NULL;

  if (sb_cgroup_plan (id, path, res, &cg, err) < 0 || sb_cgroup_make (cg, res, err) < 0)
    return -1;
  *out = sb_steal (&cg);
  return 0;
}

int
sb_cgroup_load (const char *path, sb_cgroup **out, sb_err **err)
{
  _cleanup_cgroup_ sb_cgroup *cg = NULL;
  _cleanup_free_ char *norm = NULL;
  enum sb_cgroup_mode mode;
  bool found = false;

  if (path == NULL || path[0] != '/')
    return sb_error (err, 0, "recorded cgroup path `%s` is not absolute", path ? path : "");
  if (normalize_path (path, &norm, err) < 0 || sb_cgroup_detect (&mode, err) < 0
      || discover (mode, &cg, err) < 0 || set_path (cg, norm, err) < 0)
    return -1;
  for (size_t i = 0; i < cg->n_hiers; i++)
    found |= access (cg->hiers[i].dir, F_OK) == 0;
  if (!found)
    return sb_error (err, ENOENT, "cgroup %s", cg->path);
  *out = sb_steal (&cg);
  return 0;
}

int
sb_cgroup_destroy (sb_cgroup *cg, sb_err **err)
{
  long long start = sb_cg_now_ms ();

  for (;;)
    {
      _cleanup_free_ pid_t *pids = NULL;
      size_t n = 0;
      if (sb_cgroup_pids (cg, &pids, &n, err) < 0)
        return -1;
      if (n == 0)
        break;
      if (sb_cgroup_kill (cg, SIGKILL, err) < 0)
        return -1;
      if (!sb_cg_wait_more (start))
        return sb_error (err, 0, "cgroup %s still has processes %d s after SIGKILL (pid %d)", cg->path,
                         SB_CG_TIMEOUT_MS / 1000, pids[0]);
    }
  for (size_t i = 0; i < cg->n_hiers; i++)
    {
      if (remove_tree (cg->hiers[i].dir, err) < 0)
        return -1;
      remove_marked_parents (&cg->hiers[i]);
    }
  return 0;
}

/* ---- dispatch ---- */

const char *
sb_cgroup_path (const sb_cgroup *cg)
{
  return cg->path;
}

enum sb_cgroup_mode
sb_cgroup_get_mode (const sb_cgroup *cg)
{
  return cg->mode;
}

int
sb_cgroup_update (sb_cgroup *cg, const sb_resources *res, sb_err **err)
{
  if (res == NULL)
    return 0;
  if (check_all (cg, res, err) < 0 || cg->ops->prepare (cg, NULL, err) < 0
      || cg->ops->apply (cg, res, err) < 0)
    return -1;
  return 0;
}

int
sb_cgroup_freeze (sb_cgroup *cg, bool frozen, sb_err **err)
{
  return cg->ops->freeze (cg, frozen, err);
}

int
sb_cgroup_is_frozen (sb_cgroup *cg, bool *frozen, sb_err **err)
{
  return cg->ops->is_frozen (cg, frozen, err);
}

void
sb_cgroup_free (sb_cgroup *cg)
{
  if (cg == NULL)
    return;
  for (size_t i = 0; i < cg->n_hiers; i++)
    {
      free (cg->hiers[i].mount);
      free (cg->hiers[i].root);
      free (cg->hiers[i].dir);
      sb_strv_free (cg->hiers[i].controllers);
    }
  free (cg->hiers);
  free (cg->path);
  free (cg);
}

void
sb_cgroup_freep (sb_cgroup **cg)
{
  sb_cgroup_free (*cg);
  *cg = NULL;
}
