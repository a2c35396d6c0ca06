/* cgroup v1 (legacy and hybrid hosts): one directory per hierarchy, limits
   written to each controller's knobs in the order the kernel accepts.  */
#include "cgroup-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "util.h"

#define FIELD "linux.resources."

static const char *
leaf (const sb_cgroup *cg, const char *controller)
{
  const sb_cgroup_hier *h = sb_cg_hier_for (cg, controller);
  return h != NULL ? h->dir : NULL;
}

static int
write_i64 (const char *dir, const char *file, int64_t v, const char *field, sb_err **err)
{
  char buf[32];
  snprintf (buf, sizeof (buf), "%" PRId64, v);
  return sb_cg_write (dir, file, buf, field, err);
}

/* Knobs that only some kernels have: refuse before anything is created
   rather than half-way through applying.  The hierarchy roots carry them.  */
static int
check_knob (const sb_cgroup *cg, bool wanted, const char *controller, const char *file, const char *field,
            const char *why, sb_err **err)
{
  const sb_cgroup_hier *h = sb_cg_hier_for (cg, controller);

  if (!wanted || h == NULL || sb_cg_exists (h->mount, file))
    return 0;
  return sb_error (err, 0, "%s: this kernel has no %s/%s (%s)", field, h->mount, file, why);
}

static int
v1_check (const sb_cgroup *cg, const sb_resources *r, sb_err **err)
{
  if (r == NULL)
    return 0;
  if (r->n_unified > 0)
    return sb_error (err, 0,
                     FIELD
                     "unified: `%s` is a cgroup v2 setting and this host uses cgroup v1 controllers (%s is "
                     "not cgroup2)",
                     r->unified[0].key, "/sys/fs/cgroup");
  if (check_knob (cg, r->memory.swap.set && r->memory.swap.v > 0, "memory", "memory.memsw.limit_in_bytes",
                  FIELD "memory.swap", "swap accounting is off; boot with swapaccount=1", err)
          < 0
      || check_knob (cg, r->cpu.realtime_runtime.set || r->cpu.realtime_period.set, "cpu",
                     "cpu.rt_runtime_us", FIELD "cpu.realtimeRuntime", "CONFIG_RT_GROUP_SCHED is off", err)
             < 0
      || check_knob (cg, r->cpu.idle.set, "cpu", "cpu.idle", FIELD "cpu.idle", "needs Linux 5.15", err) < 0
      || check_knob (cg, r->cpu.burst.set, "cpu", "cpu.cfs_burst_us", FIELD "cpu.burst", "needs Linux 5.14",
                     err)
             < 0
      || check_knob (cg, r->memory.kernel_tcp.set, "memory", "memory.kmem.tcp.limit_in_bytes",
                     FIELD "memory.kernelTCP", "kernel memory accounting is off", err)
             < 0)
    return -1;
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    {
      _cleanup_free_ char *file = sb_xasprintf ("hugetlb.%s.limit_in_bytes", r->hugepage_limits[i].page_size);
      if (check_knob (cg, true, "hugetlb", file, FIELD "hugepageLimits.pageSize", "no such huge page size",
                      err)
          < 0)
        return -1;
    }
  return 0;
}

/* The nearest non-empty value of file above dir: a parent that a
   concurrent create has just made may not be initialized yet.  */
static int
inherited (const sb_cgroup_hier *h, const char *dir, const char *file, char **out, sb_err **err)
{
  _cleanup_free_ char *p = sb_xstrdup (dir);
  size_t mlen = strlen (h->mount);
  char *slash;

  while ((slash = strrchr (p, '/')) != NULL && (size_t)(slash - p) >= mlen)
    {
      _cleanup_free_ char *value = NULL;
      *slash = '\0';
      if (sb_cg_read (p, file, &value, err) < 0)
        return -1;
      if (*value != '\0')
        {
          *out = sb_steal (&value);
          return 0;
        }
    }
  return sb_error (err, 0, "no cgroup above %s has a non-empty %s", dir, file);
}

/* A new cpuset cgroup starts with no CPUs and no memory nodes and refuses
   tasks until both are set: copy them from above, level by level.  */
static int
init_cpuset (const sb_cgroup_hier *h, char *const *created, sb_err **err)
{
  static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };

  for (size_t i = 0; created != NULL && created[i]; i++)
    for (size_t f = 0; f < 2; f++)
      {
        _cleanup_free_ char *mine = NULL;
        _cleanup_free_ char *value = NULL;

        if (sb_cg_read (created[i], files[f], &mine, err) < 0)
          return -1;
        if (*mine != '\0')
          continue;
        if (inherited (h, created[i], files[f], &value, err) < 0
            || sb_cg_write (created[i], files[f], value, NULL, err) < 0)
          return sb_error_wrap (err, "initialize cpuset of %s", h->dir);
      }
  return 0;
}

static int
v1_prepare (sb_cgroup *cg, char **const *created, sb_err **err)
{
  for (size_t i = 0; created != NULL && i < cg->n_hiers; i++)
    if (sb_cg_strv_has (cg->hiers[i].controllers, "cpuset")
        && init_cpuset (&cg->hiers[i], created[i], err) < 0)
      return -1;
  return 0;
}

/* The kernel keeps memory.limit <= memory.memsw.limit at every step: when
   raising, memsw goes first; when lowering, the limit does.  */
static int
set_memory_and_swap (const char *dir, int64_t limit, int64_t swap, sb_err **err)
{
  static const char *const lim = "memory.limit_in_bytes", *const sw = "memory.memsw.limit_in_bytes";
  _cleanup_free_ char *cur = NULL;
  int64_t current;

  if (limit == 0 || swap == 0)
    {
      if (swap != 0 && write_i64 (dir, sw, swap, FIELD "memory.swap", err) < 0)
        return -1;
      return limit != 0 ? write_i64 (dir, lim, limit, FIELD "memory.limit", err) : 0;
    }
  if (sb_cg_read (dir, lim, &cur, err) < 0)
    return -1;
  if (sb_parse_i64 (cur, &current) < 0)
    return sb_error (err, 0, "%s/%s: unexpected content `%s`", dir, lim, cur);
  if (swap == -1 || current < swap)
    {
      if (write_i64 (dir, sw, swap, FIELD "memory.swap", err) < 0)
        return -1;
      return write_i64 (dir, lim, limit, FIELD "memory.limit", err);
    }
  if (write_i64 (dir, lim, limit, FIELD "memory.limit", err) < 0)
    return -1;
  return write_i64 (dir, sw, swap, FIELD "memory.swap", err);
}

/* kernel (memory.kmem.limit_in_bytes) is ignored as runc does: the
   runtime-spec deprecated it and Linux 6.1 stopped enforcing it.  */
static int
apply_memory (const char *dir, const sb_resources *r, sb_err **err)
{
  const typeof (r->memory) *m = &r->memory;
  int64_t limit = m->limit.set ? m->limit.v : 0, swap = m->swap.set ? m->swap.v : 0;
  bool has_memsw = sb_cg_exists (dir, "memory.memsw.limit_in_bytes");

  /* An unlimited memory limit with a finite memsw would be refused.  */
  if (limit == -1 && swap == 0)
    swap = -1;
  if (swap == -1 && !has_memsw)
    swap = 0;
  if (set_memory_and_swap (dir, limit, swap, err) < 0)
    return -1;
  if (m->reservation.set && m->reservation.v != 0
      && write_i64 (dir, "memory.soft_limit_in_bytes", m->reservation.v, FIELD "memory.reservation", err) < 0)
    return -1;
  if (m->swappiness.set && m->swappiness.v != -1
      && write_i64 (dir, "memory.swappiness", m->swappiness.v, FIELD "memory.swappiness", err) < 0)
    return -1;
  if (m->kernel_tcp.set
      && write_i64 (dir, "memory.kmem.tcp.limit_in_bytes", m->kernel_tcp.v, FIELD "memory.kernelTCP", err)
             < 0)
    return -1;
  if (m->disable_oom_killer
      && sb_cg_write (dir, "memory.oom_control", "1", FIELD "memory.disableOOMKiller", err) < 0)
    return -1;
  return 0;
}

static int
apply_cpu (const char *dir, const sb_resources *r, sb_err **err)
{
  const typeof (r->cpu) *c = &r->cpu;
  bool period = c->period.set && c->period.v != 0, quota = c->quota.set && c->quota.v != 0;

  if (c->shares.set && c->shares.v != 0
      && write_i64 (dir, "cpu.shares", c->shares.v, FIELD "cpu.shares", err) < 0)
    return -1;
  if (period && write_i64 (dir, "cpu.cfs_period_us", c->period.v, FIELD "cpu.period", NULL) < 0)
    {
      /* A shorter period can be refused while the old quota stands: quota
         first, then the period.  */
      if (!quota || write_i64 (dir, "cpu.cfs_quota_us", c->quota.v, FIELD "cpu.quota", err) < 0)
        return write_i64 (dir, "cpu.cfs_period_us", c->period.v, FIELD "cpu.period", err);
      if (write_i64 (dir, "cpu.cfs_period_us", c->period.v, FIELD "cpu.period", err) < 0)
        return -1;
    }
  if (quota && write_i64 (dir, "cpu.cfs_quota_us", c->quota.v, FIELD "cpu.quota", err) < 0)
    return -1;
  if (c->burst.set && write_i64 (dir, "cpu.cfs_burst_us", c->burst.v, FIELD "cpu.burst", err) < 0)
    return -1;
  if (c->realtime_period.set && c->realtime_period.v != 0
      && write_i64 (dir, "cpu.rt_period_us", c->realtime_period.v, FIELD "cpu.realtimePeriod", err) < 0)
    return -1;
  if (c->realtime_runtime.set && c->realtime_runtime.v != 0
      && write_i64 (dir, "cpu.rt_runtime_us", c->realtime_runtime.v, FIELD "cpu.realtimeRuntime", err) < 0)
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

/* Kernels without CFQ only have the BFQ names.  */
static const char *
blkio_file (const char *dir, const char *cfq, const char *bfq)
{
  return sb_cg_exists (dir, cfq) || !sb_cg_exists (dir, bfq) ? cfq : bfq;
}

static int
write_throttle (const char *dir, const char *file, const sb_throttle_device *t, size_t n, const char *field,
                sb_err **err)
{
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_free_ char *v
          = sb_xasprintf ("%" PRId64 ":%" PRId64 " %" PRIu64, t[i].major, t[i].minor, t[i].rate);
      if (sb_cg_write (dir, file, v, field, err) < 0)
        return -1;
    }
  return 0;
}

static int
apply_blkio (const char *dir, const sb_resources *r, sb_err **err)
{
  const typeof (r->blkio) *b = &r->blkio;
  const char *wfile = blkio_file (dir, "blkio.weight", "blkio.bfq.weight");
  const char *wdev = blkio_file (dir, "blkio.weight_device", "blkio.bfq.weight_device");

  if (b->weight.set && b->weight.v != 0
      && write_i64 (dir, wfile, b->weight.v, FIELD "blockIO.weight", err) < 0)
    return -1;
  if (b->leaf_weight.set && b->leaf_weight.v != 0
      && write_i64 (dir, "blkio.leaf_weight", b->leaf_weight.v, FIELD "blockIO.leafWeight", err) < 0)
    return -1;
  for (size_t i = 0; i < b->n_weight_devices; i++)
    {
      const sb_weight_device *w = &b->weight_devices[i];
      _cleanup_free_ char *v = sb_xasprintf ("%" PRId64 ":%" PRId64 " %u", w->major, w->minor, w->weight);
      _cleanup_free_ char *lv
          = sb_xasprintf ("%" PRId64 ":%" PRId64 " %u", w->major, w->minor, w->leaf_weight);
      if (w->has_weight && sb_cg_write (dir, wdev, v, FIELD "blockIO.weightDevice", err) < 0)
        return -1;
      if (w->has_leaf_weight
          && sb_cg_write (dir, "blkio.leaf_weight_device", lv, FIELD "blockIO.weightDevice", err) < 0)
        return -1;
    }
  if (write_throttle (dir, "blkio.throttle.read_bps_device", b->throttle_read_bps, b->n_throttle_read_bps,
                      FIELD "blockIO.throttleReadBpsDevice", err)
          < 0
      || write_throttle (dir, "blkio.throttle.write_bps_device", b->throttle_write_bps,
                         b->n_throttle_write_bps, FIELD "blockIO.throttleWriteBpsDevice", err)
             < 0
      || write_throttle (dir, "blkio.throttle.read_iops_device", b->throttle_read_iops,
                         b->n_throttle_read_iops, FIELD "blockIO.throttleReadIOPSDevice", err)
             < 0
      || write_throttle (dir, "blkio.throttle.write_iops_device", b->throttle_write_iops,
                         b->n_throttle_write_iops, FIELD "blockIO.throttleWriteIOPSDevice", err)
             < 0)
    return -1;
  return 0;
}

static int
apply_hugetlb (const char *dir, const sb_resources *r, sb_err **err)
{
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    {
      _cleanup_free_ char *file = sb_xasprintf ("hugetlb.%s.limit_in_bytes", r->hugepage_limits[i].page_size);
      _cleanup_free_ char *v = sb_xasprintf ("%" PRIu64, r->hugepage_limits[i].limit);
      if (sb_cg_write (dir, file, v, FIELD "hugepageLimits", err) < 0)
        return -1;
    }
  return 0;
}

static void
format_id (char *buf, size_t len, int64_t v)
{
  if (v < 0)
    snprintf (buf, len, "*");
  else
    snprintf (buf, len, "%" PRId64, v);
}

/* Rules in spec order, like runc: a leading deny-all ("a") resets the list
   to "nothing allowed", each later rule adds or removes an exception.  */
static int
apply_devices (const char *dir, const sb_resources *r, sb_err **err)
{
  for (size_t i = 0; i < r->n_devices; i++)
    {
      const sb_device_rule *d = &r->devices[i];
      char major[24], minor[24];
      _cleanup_free_ char *rule = NULL;

      format_id (major, sizeof (major), d->major);
      format_id (minor, sizeof (minor), d->minor);
      rule = d->type == 'a'
                 ? sb_xstrdup ("a")
                 : sb_xasprintf ("%c %s:%s %s", d->type, major, minor, d->access ? d->access : "rwm");
      if (sb_cg_write (dir, d->allow ? "devices.allow" : "devices.deny", rule, FIELD "devices", err) < 0)
        return -1;
    }
  return 0;
}

static int
v1_apply (sb_cgroup *cg, const sb_resources *r, sb_err **err)
{
  static const struct
  {
    const char *controller;
    int (*apply) (const char *dir, const sb_resources *r, sb_err **err);
  } steps[] = {
    { "cpuset", apply_cpuset }, { "memory", apply_memory },   { "cpu", apply_cpu },
    { "blkio", apply_blkio },   { "hugetlb", apply_hugetlb }, { "devices", apply_devices },
  };
  sb_cg_need needs[SB_CG_MAX_NEEDS];
  size_t n = sb_cg_needs (r, SB_CGROUP_V1, needs);
  const char *pids = leaf (cg, "pids");

  /* Only controllers that something asked for: a host without, say,
     hugetlb still runs containers that set no huge page limit.  */
  for (size_t s = 0; s < sizeof (steps) / sizeof (steps[0]); s++)
    for (size_t i = 0; i < n; i++)
      if (strcmp (needs[i].controller, steps[s].controller) == 0
          && steps[s].apply (leaf (cg, steps[s].controller), r, err) < 0)
        return -1;
  /* runc semantics: 0 and -1 both mean unlimited.  */
  if (r->pids.limit.set)
    {
      if (r->pids.limit.v > 0)
        return write_i64 (pids, "pids.max", r->pids.limit.v, FIELD "pids.limit", err);
      return sb_cg_write (pids, "pids.max", "max", FIELD "pids.limit", err);
    }
  return 0;
}

static int
v1_freeze (sb_cgroup *cg, bool frozen, sb_err **err)
{
  const char *dir = leaf (cg, "freezer");
  const char *want = frozen ? "FROZEN" : "THAWED";
  long long start = sb_cg_now_ms ();

  if (dir == NULL)
    return sb_error (err, 0, "cannot %s cgroup %s: the freezer controller is not mounted",
                     frozen ? "freeze" : "thaw", cg->path);
  /* FREEZING may stall on a task in uninterruptible sleep; writing again
     retries the ones that were missed (as runc does).  */
  for (;;)
    {
      _cleanup_free_ char *state = NULL;
      if (sb_cg_write (dir, "freezer.state", want, NULL, err) < 0
          || sb_cg_read (dir, "freezer.state", &state, err) < 0)
        return -1;
      if (strcmp (state, want) == 0)
        return 0;
      if (!sb_cg_wait_more (start))
        return sb_error (err, 0, "cgroup %s did not become %s within %d s (freezer.state is %s)", cg->path,
                         want, SB_CG_TIMEOUT_MS / 1000, state);
    }
}

static int
v1_is_frozen (sb_cgroup *cg, bool *frozen, sb_err **err)
{
  const char *dir = leaf (cg, "freezer");
  _cleanup_free_ char *state = NULL;

  *frozen = false;
  if (dir == NULL)
    return 0;
  if (sb_cg_read (dir, "freezer.state", &state, err) < 0)
    return -1;
  *frozen = strcmp (state, "FROZEN") == 0;
  return 0;
}

static int
v1_kill_all (sb_cgroup *cg, sb_err **err)
{
  (void)cg;
  (void)err;
  return 0;
}

const struct sb_cgroup_ops sb_cgroup_v1_ops = {
  .check = v1_check,
  .prepare = v1_prepare,
  .apply = v1_apply,
  .freeze = v1_freeze,
  .is_frozen = v1_is_frozen,
  .kill_all = v1_kill_all,
};
