/* cgroup v2 (unified): one directory, controllers enabled level by level in
   cgroup.subtree_control, spec values converted to v2 knobs as runc and crun
   convert them.  Device rules are an eBPF program (cgroup-devices.c).  */
#include "cgroup-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/xattr.h>

#include "util.h"

#define FIELD "linux.resources."

static int
write_i64 (const char *dir, const char *file, int64_t v, const char *field, sb_err **err)
{
  char buf[32];
  snprintf (buf, sizeof (buf), "%" PRId64, v);
  return sb_cg_write (dir, file, buf, field, err);
}

/* -1 is "max" in v2 knobs.  */
static int
write_max (const char *dir, const char *file, int64_t v, const char *field, sb_err **err)
{
  return v == -1 ? sb_cg_write (dir, file, "max", field, err) : write_i64 (dir, file, v, field, err);
}

/* The deepest existing ancestor of the leaf that sudobox did not create
   (the mount itself at worst): the levels below it are ours to enable
   controllers in; what it delegates is all the container can get.  */
static char *
boundary (const sb_cgroup_hier *h)
{
  char *p = sb_xstrdup (h->dir);
  size_t mlen = strlen (h->mount);
  char *slash;

  while ((slash = strrchr (p, '/')) != NULL && (size_t)(slash - p) > mlen)
    {
      *slash = '\0';
      if (access (p, F_OK) == 0 && getxattr (p, SB_CG_MARK, NULL, 0) < 0)
        return p;
    }
  free (p);
  return sb_xstrdup (h->mount);
}

static const char *const managed_keys[]
    = { "cgroup.procs", "cgroup.threads", "cgroup.subtree_control", "cgroup.kill", "cgroup.freeze", NULL };

static int
check_unified_key (const sb_cgroup *cg, const char *key, char **controller, sb_err **err)
{
  const char *dot = strchr (key, '.');

  *controller = NULL;
  if (*key == '\0' || strchr (key, '/') != NULL || strcmp (key, ".") == 0 || strcmp (key, "..") == 0)
    return sb_error (err, 0, FIELD "unified: `%s` is not a cgroup file name", key);
  if (dot == NULL || dot == key)
    return sb_error (err, 0, FIELD "unified: `%s` is not a CONTROLLER.KNOB file name", key);
  if (sb_cg_strv_has ((char *const *)managed_keys, key))
    return sb_error (err, 0, FIELD "unified: `%s` is managed by the runtime and cannot be set", key);
  if (strncmp (key, "cgroup.", 7) == 0)
    return 0;
  *controller = sb_xasprintf ("%.*s", (int)(dot - key), key);
  if (!sb_cg_strv_has (cg->hiers[0].controllers, *controller))
    {
      _cleanup_free_ char *ctrl = sb_steal (controller);
      _cleanup_free_ char *avail = NULL;
      size_t len = 8;
      for (size_t i = 0; cg->hiers[0].controllers[i]; i++)
        len += strlen (cg->hiers[0].controllers[i]) + 2;
      avail = sb_xmalloc0 (len);
      for (size_t i = 0; cg->hiers[0].controllers[i]; i++)
        {
          if (i > 0)
            strcat (avail, ", ");
          strcat (avail, cg->hiers[0].controllers[i]);
        }
      return sb_error (err, 0,
                       FIELD "unified[\"%s\"]: the %s controller is not available in cgroup v2 hierarchy %s "
                             "(available: %s)",
                       key, ctrl, cg->hiers[0].mount, *avail ? avail : "none");
    }
  return 0;
}

static int
check_delegated (const sb_cgroup *cg, const char *field, const char *controller, sb_err **err)
{
  const sb_cgroup_hier *h = &cg->hiers[0];
  _cleanup_free_ char *top = boundary (h);
  _cleanup_free_ char *list = NULL;
  _cleanup_strv_ char **enabled = NULL;

  if (sb_cg_read (top, "cgroup.subtree_control", &list, err) < 0)
    return -1;
  enabled = sb_cg_split (list, " ");
  if (sb_cg_strv_has (enabled, controller))
    return 0;
  return sb_error (
      err, 0,
      "%s: the %s controller is not enabled in %s/cgroup.subtree_control (sudobox changes only cgroups "
      "it created; enable it there for cgroup %s)",
      field, controller, top, cg->path);
}

static int
check_values (const sb_resources *r, sb_err **err)
{
  const typeof (r->memory) *m = &r->memory;

  if (r->cpu.realtime_runtime.set || r->cpu.realtime_period.set)
    return sb_error (err, 0,
                     FIELD "cpu.realtimeRuntime/realtimePeriod: real-time scheduling limits do not exist in "
                           "cgroup v2");
  if (m->kernel_tcp.set)
    return sb_error (err, 0, FIELD "memory.kernelTCP: kernel TCP memory limits do not exist in cgroup v2");
  if (m->swap.set && m->swap.v > 0 && (!m->limit.set || m->limit.v <= 0))
    return sb_error (
        err, 0, FIELD "memory.swap: %lld needs a memory.limit on cgroup v2 (swap.max is swap minus limit)",
        (long long)m->swap.v);
  return 0;
}

static int
v2_check (const sb_cgroup *cg, const sb_resources *r, sb_err **err)
{
  sb_cg_need needs[SB_CG_MAX_NEEDS];
  size_t n;

  if (r == NULL)
    return 0;
  if (check_values (r, err) < 0)
    return -1;
  n = sb_cg_needs (r, SB_CGROUP_UNIFIED, needs);
  for (size_t i = 0; i < r->n_unified; i++)
    {
      _cleanup_free_ char *ctrl = NULL;
      _cleanup_free_ char *field = NULL;
      if (check_unified_key (cg, r->unified[i].key, &ctrl, err) < 0)
        return -1;
      field = sb_xasprintf (FIELD "unified[\"%s\"]", r->unified[i].key);
      if (ctrl != NULL && cg->hiers[0].dir != NULL && check_delegated (cg, field, ctrl, err) < 0)
        return -1;
    }
  for (size_t i = 0; i < n && cg->hiers[0].dir != NULL; i++)
    if (check_delegated (cg, needs[i].field, needs[i].controller, err) < 0)
      return -1;
  return 0;
}

static int
enable_controllers (const char *dir, sb_err **err)
{
  _cleanup_free_ char *avail = NULL;
  _cleanup_free_ char *enabled = NULL;
  _cleanup_strv_ char **a = NULL;
  _cleanup_strv_ char **e = NULL;

  if (sb_cg_read (dir, "cgroup.controllers", &avail, err) < 0
      || sb_cg_read (dir, "cgroup.subtree_control", &enabled, err) < 0)
    return -1;
  a = sb_cg_split (avail, " ");
  e = sb_cg_split (enabled, " ");
  for (size_t i = 0; a[i]; i++)
    {
      _cleanup_free_ char *plus = NULL;
      if (sb_cg_strv_has (e, a[i]))
        continue;
      plus = sb_xasprintf ("+%s", a[i]);
      if (sb_cg_write (dir, "cgroup.subtree_control", plus, NULL, err) < 0)
        return sb_error_wrap (err, "enable the %s controller for cgroups below %s", a[i], dir);
    }
  return 0;
}

/* Every level between the boundary and the leaf is ours: each passes on all
   it has, top first since a level only has what its parent enabled.  */
static int
v2_prepare (sb_cgroup *cg, char **const *created, sb_err **err)
{
  const sb_cgroup_hier *h = &cg->hiers[0];
  _cleanup_free_ char *top = boundary (h);
  _cleanup_free_ char *p = sb_xstrdup (h->dir);
  size_t tlen = strlen (top);

  (void)created;
  for (char *s = p + tlen + 1; (s = strchr (s, '/')) != NULL; s++)
    {
      *s = '\0';
      if (enable_controllers (p, err) < 0)
        return -1;
      *s = '/';
    }
  return 0;
}

static int
apply_memory (const char *dir, const sb_resources *r, sb_err **err)
{
  const typeof (r->memory) *m = &r->memory;

  if (m->limit.set && m->limit.v != 0
      && write_max (dir, "memory.max", m->limit.v, FIELD "memory.limit", err) < 0)
    return -1;
  if (m->reservation.set && m->reservation.v != 0
      && write_max (dir, "memory.low", m->reservation.v, FIELD "memory.reservation", err) < 0)
    return -1;
  /* The spec's swap is memory+swap; v2 limits swap alone.  swappiness and
     disableOOMKiller have no v2 knob and are ignored, as runc does.  */
  if (m->swap.set && m->swap.v != 0)
    {
      bool has = sb_cg_exists (dir, "memory.swap.max");
      if (m->swap.v == -1 && !has)
        return 0;
      if (!has)
        return sb_error (
            err, 0, FIELD "memory.swap: %s/memory.swap.max does not exist (swap accounting is off)", dir);
      return write_max (dir, "memory.swap.max", m->swap.v == -1 ? -1 : m->swap.v - m->limit.v,
                        FIELD "memory.swap", err);
    }
  return 0;
}

static int
apply_cpu (const char *dir, const sb_resources *r, sb_err **err)
{
  const typeof (r->cpu) *c = &r->cpu;
  bool period = c->period.set && c->period.v != 0, quota = c->quota.set && c->quota.v != 0;

  if (c->shares.set && c->shares.v != 0
      && write_i64 (dir, "cpu.weight", 1 + ((c->shares.v - 2) * 9999) / 262142, FIELD "cpu.shares", err) < 0)
    return -1;
  if (quota || period)
    {
      _cleanup_free_ char *v = NULL;
      char q[32] = "max";
      if (quota && c->quota.v > 0)
        snprintf (q, sizeof (q), "%" PRId64, c->quota.v);
      v = period ? sb_xasprintf ("%s %" PRId64, q, c->period.v) : sb_xstrdup (q);
      if (sb_cg_write (dir, "cpu.max", v, FIELD "cpu.quota", err) < 0)
        return -1;
    }
  if (c->burst.set && write_i64 (dir, "cpu.max.burst", c->burst.v, FIELD "cpu.burst", err) < 0)
    return -1;
  if (c->idle.set && write_i64 (dir, "cpu.idle", c->idle.v, FIELD "cpu.idle", err) < 0)
    return -1;
  return 0;
}

static int
apply_cpuset (const char *dir, const sb_resources *r, sb_err **err)
{
  if (r->cpu.cpus != NULL && *r->cpu.cpus
      && sb_cg_write (dir, "cpuset.cpus", r->cpu.cpus, FIELD "cpu.cpus", err) < 0)
    return -1;
  if (r->cpu.mems != NULL && *r->cpu.mems
      && sb_cg_write (dir, "cpuset.mems", r->cpu.mems, FIELD "cpu.mems", err) < 0)
    return -1;
  return 0;
}

static int
apply_pids (const char *dir, const sb_resources *r, sb_err **err)
{
  /* runc semantics: 0 and -1 both mean unlimited.  */
  if (r->pids.limit.v > 0)
    return write_i64 (dir, "pids.max", r->pids.limit.v, FIELD "pids.limit", err);
  return sb_cg_write (dir, "pids.max", "max", FIELD "pids.limit", err);
}

static int
write_io_max (const char *dir, const char *key, const sb_throttle_device *t, size_t n, const char *field,
              sb_err **err)
{
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_free_ char *v
          = sb_xasprintf ("%" PRId64 ":%" PRId64 " %s=%" PRIu64, t[i].major, t[i].minor, key, t[i].rate);
      if (sb_cg_write (dir, "io.max", v, field, err) < 0)
        return -1;
    }
  return 0;
}

/* BFQ takes the v1 weight range (1..1000) as is; io.weight (1..10000) gets
   runc's linear conversion.  leafWeight has no v2 counterpart.  */
static int
apply_io (const char *dir, const sb_resources *r, sb_err **err)
{
  const typeof (r->blkio) *b = &r->blkio;
  bool bfq = sb_cg_exists (dir, "io.bfq.weight");
  const char *wfile = bfq ? "io.bfq.weight" : "io.weight";

#define CONVERT(w) (bfq ? (int64_t)(w) : 1 + ((int64_t)(w)-10) * 9999 / 990)
  if (b->weight.set && b->weight.v != 0
      && write_i64 (dir, wfile, CONVERT (b->weight.v), FIELD "blockIO.weight", err) < 0)
    return -1;
  for (size_t i = 0; i < b->n_weight_devices; i++)
    {
      const sb_weight_device *w = &b->weight_devices[i];
      _cleanup_free_ char *v = NULL;
      if (!w->has_weight)
        continue;
      v = sb_xasprintf ("%" PRId64 ":%" PRId64 " %" PRId64, w->major, w->minor, CONVERT (w->weight));
      if (sb_cg_write (dir, wfile, v, FIELD "blockIO.weightDevice", err) < 0)
        return -1;
    }
#undef CONVERT
  if (write_io_max (dir, "rbps", b->throttle_read_bps, b->n_throttle_read_bps,
                    FIELD "blockIO.throttleReadBpsDevice", err)
          < 0
      || write_io_max (dir, "wbps", b->throttle_write_bps, b->n_throttle_write_bps,
                       FIELD "blockIO.throttleWriteBpsDevice", err)
             < 0
      || write_io_max (dir, "riops", b->throttle_read_iops, b->n_throttle_read_iops,
                       FIELD "blockIO.throttleReadIOPSDevice", err)
             < 0
      || write_io_max (dir, "wiops", b->throttle_write_iops, b->n_throttle_write_iops,
                       FIELD "blockIO.throttleWriteIOPSDevice", err)
             < 0)
    return -1;
  return 0;
}

static int
apply_hugetlb (const char *dir, const sb_resources *r, sb_err **err)
{
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    {
      _cleanup_free_ char *file = sb_xasprintf ("hugetlb.%s.max", r->hugepage_limits[i].page_size);
      _cleanup_free_ char *v = sb_xasprintf ("%" PRIu64, r->hugepage_limits[i].limit);
      if (sb_cg_write (dir, file, v, FIELD "hugepageLimits", err) < 0)
        return -1;
    }
  return 0;
}

static int
v2_apply (sb_cgroup *cg, const sb_resources *r, sb_err **err)
{
  static const struct
  {
    const char *controller;
    int (*apply) (const char *dir, const sb_resources *r, sb_err **err);
  } steps[] = {
    { "cpuset", apply_cpuset }, { "memory", apply_memory }, { "cpu", apply_cpu },
    { "pids", apply_pids },     { "io", apply_io },         { "hugetlb", apply_hugetlb },
  };
  const char *dir = cg->hiers[0].dir;
  sb_cg_need needs[SB_CG_MAX_NEEDS];
  size_t n = sb_cg_needs (r, SB_CGROUP_UNIFIED, needs);

  for (size_t s = 0; s < sizeof (steps) / sizeof (steps[0]); s++)
    for (size_t i = 0; i < n; i++)
      if (strcmp (needs[i].controller, steps[s].controller) == 0 && steps[s].apply (dir, r, err) < 0)
        return -1;
  if (r->n_devices > 0 && sb_cg_devices_attach (dir, r->devices, r->n_devices, err) < 0)
    return sb_error_wrap (err, FIELD "devices");
  /* Last, so an explicit unified value wins over a converted one.  */
  for (size_t i = 0; i < r->n_unified; i++)
    {
      _cleanup_free_ char *field = sb_xasprintf (FIELD "unified[\"%s\"]", r->unified[i].key);
      if (sb_cg_write (dir, r->unified[i].key, r->unified[i].value ? r->unified[i].value : "", field, err)
          < 0)
        return -1;
    }
  return 0;
}

static int
read_frozen (const char *dir, bool *frozen, sb_err **err)
{
  _cleanup_free_ char *events = NULL;
  _cleanup_strv_ char **lines = NULL;

  if (sb_cg_read (dir, "cgroup.events", &events, err) < 0)
    return -1;
  lines = sb_cg_split (events, "\n");
  for (size_t i = 0; lines[i]; i++)
    if (strncmp (lines[i], "frozen ", 7) == 0)
      {
        *frozen = strcmp (lines[i] + 7, "1") == 0;
        return 0;
      }
  return sb_error (err, 0, "%s/cgroup.events has no `frozen` entry (cgroup freezing needs Linux 5.2)", dir);
}

static int
v2_freeze (sb_cgroup *cg, bool frozen, sb_err **err)
{
  const char *dir = cg->hiers[0].dir;
  long long start = sb_cg_now_ms ();

  if (sb_cg_write (dir, "cgroup.freeze", frozen ? "1" : "0", NULL, err) < 0)
    return -1;
  for (;;)
    {
      bool now;
      if (read_frozen (dir, &now, err) < 0)
        return -1;
      if (now == frozen)
        return 0;
      if (!sb_cg_wait_more (start))
        return sb_error (err, 0, "cgroup %s did not become %s within %d s", cg->path,
                         frozen ? "frozen" : "thawed", SB_CG_TIMEOUT_MS / 1000);
    }
}

static int
v2_is_frozen (sb_cgroup *cg, bool *frozen, sb_err **err)
{
  return read_frozen (cg->hiers[0].dir, frozen, err);
}

/* cgroup.kill (Linux 5.14) kills the whole subtree at once, frozen or not,
   with no race against forks.  */
static int
v2_kill_all (sb_cgroup *cg, sb_err **err)
{
  const char *dir = cg->hiers[0].dir;

  if (!sb_cg_exists (dir, "cgroup.kill"))
    return 0;
  return sb_cg_write (dir, "cgroup.kill", "1", NULL, err) < 0 ? -1 : 1;
}

const struct sb_cgroup_ops sb_cgroup_v2_ops = {
  .check = v2_check,
  .prepare = v2_prepare,
  .apply = v2_apply,
  .freeze = v2_freeze,
  .is_frozen = v2_is_frozen,
  .kill_all = v2_kill_all,
};
