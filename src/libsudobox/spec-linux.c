/* The "linux" object of config.json: namespaces, id mappings, devices,
   resources, seccomp, sysctl, masked and read-only paths, personality and
   time offsets.  Same conventions as spec.c: values are stored into the
   spec as soon as they are allocated, so sb_spec_free releases a
   half-parsed "linux" too.  */
#include "spec-internal.h"

#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include "spec-json.h"
#include "util.h"

/* The kernel accepts at most this many lines in uid_map / gid_map.  */
#define MAX_ID_MAPPINGS 340

/* ---- id mappings ------------------------------------------------------- */

static int
parse_idmap (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_idmap *m = item;

  if (sb_json_req_u32 (v, path, "containerID", &m->container_id, err) < 0
      || sb_json_req_u32 (v, path, "hostID", &m->host_id, err) < 0
      || sb_json_req_u32 (v, path, "size", &m->size, err) < 0)
    return -1;
  if (m->size == 0)
    return sb_json_ferr (err, path, "size", "must be greater than 0");
  if ((uint64_t)m->container_id + m->size > (uint64_t)UINT32_MAX + 1)
    return sb_json_ferr (err, path, NULL,
                         "containerID %" PRIu32 " + size %" PRIu32 " overflows the 32-bit id range",
                         m->container_id, m->size);
  if ((uint64_t)m->host_id + m->size > (uint64_t)UINT32_MAX + 1)
    return sb_json_ferr (err, path, NULL,
                         "hostID %" PRIu32 " + size %" PRIu32 " overflows the 32-bit id range", m->host_id,
                         m->size);
  return 0;
}

int
sb_spec_opt_idmaps (json_object *v, const char *path, const char *key, sb_idmap **out, size_t *n,
                    sb_err **err)
{
  return sb_json_opt_array (v, path, key, sizeof (sb_idmap), MAX_ID_MAPPINGS, parse_idmap, out, n, err);
}

/* ---- linux: namespaces, devices ---------------------------------------- */

static int
parse_namespace (json_object *v, const char *path, sb_linux *l, sb_err **err)
{
  _cleanup_free_ char *type = NULL;
  int k;

  if (sb_json_req_str (v, path, "type", &type, err) < 0)
    return -1;
  for (k = 0; k < SB_NS_KINDS; k++)
    if (strcmp (sb_ns_name (k), type) == 0)
      break;
  if (k == SB_NS_KINDS)
    return sb_json_ferr (err, path, "type", "unknown namespace type \"%s\"", type);
  if (l->namespaces[k].present)
    return sb_json_ferr (err, path, "type", "duplicate namespace type \"%s\"", type);
  l->namespaces[k].present = true;
  if (sb_json_opt_str (v, path, "path", &l->namespaces[k].path, err) < 0)
    return -1;
  return sb_json_check_abs (l->namespaces[k].path, path, "path", err);
}

static int
parse_namespaces (json_object *lin, sb_linux *l, sb_err **err)
{
  json_object *v = sb_json_member (lin, "namespaces");

  if (v == NULL)
    return 0;
  if (sb_json_want (v, json_type_array, "an array", "linux", "namespaces", err) < 0)
    return -1;
  for (size_t i = 0; i < json_object_array_length (v); i++)
    {
      _cleanup_free_ char *p = sb_xasprintf ("linux.namespaces[%zu]", i);
      json_object *e = json_object_array_get_idx (v, i);
      if (sb_json_want (e, json_type_object, "an object", p, NULL, err) < 0
          || parse_namespace (e, p, l, err) < 0)
        return -1;
    }
  return 0;
}

static int
parse_device (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_device *d = item;
  _cleanup_free_ char *type = NULL;
  uint64_t mode = 0;

  if (sb_json_req_str (v, path, "type", &type, err) < 0)
    return -1;
  if (strlen (type) != 1 || strchr ("cbup", type[0]) == NULL)
    return sb_json_ferr (err, path, "type", "unknown device type \"%s\" (want c, b, u or p)", type);
  d->type = type[0];
  if (sb_json_req_abs_path (v, path, "path", &d->path, err) < 0)
    return -1;
  /* A FIFO has no device number.  */
  if (d->type != 'p'
      && (sb_json_req_i64 (v, path, "major", &d->major, err) < 0
          || sb_json_req_i64 (v, path, "minor", &d->minor, err) < 0))
    return -1;
  if (sb_json_opt_u64 (v, path, "fileMode", 0, 07777, &d->has_file_mode, &mode, err) < 0
      || sb_json_opt_u32 (v, path, "uid", &d->has_uid, &d->uid, err) < 0
      || sb_json_opt_u32 (v, path, "gid", &d->has_gid, &d->gid, err) < 0)
    return -1;
  d->file_mode = (uint32_t)mode;
  return 0;
}
/* ---- linux.resources --------------------------------------------------- */

static int
parse_device_rule (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_device_rule *r = item;
  _cleanup_free_ char *type = NULL;
  sb_opt_i64 major = { 0 }, minor = { 0 };
  json_object *allow = sb_json_member (v, "allow");

  if (allow == NULL)
    return sb_json_missing (path, "allow", err);
  if (sb_json_opt_bool (v, path, "allow", &r->allow, err) < 0
      || sb_json_opt_str (v, path, "type", &type, err) < 0
      || sb_json_opt_i64 (v, path, "major", -1, INT64_MAX, &major, err) < 0
      || sb_json_opt_i64 (v, path, "minor", -1, INT64_MAX, &minor, err) < 0
      || sb_json_opt_str (v, path, "access", &r->access, err) < 0)
    return -1;
  if (type != NULL && (strlen (type) != 1 || strchr ("acb", type[0]) == NULL))
    return sb_json_ferr (err, path, "type", "unknown device type \"%s\" (want a, c or b)", type);
  r->type = type ? type[0] : 'a';
  r->major = major.set ? major.v : -1;
  r->minor = minor.set ? minor.v : -1;
  /* runc reads a missing access as all of them.  */
  if (r->access == NULL)
    r->access = sb_xstrdup ("rwm");
  if (r->access[strspn (r->access, "rwm")] != '\0')
    return sb_json_ferr (err, path, "access", "invalid access \"%s\" (want a combination of r, w and m)",
                         r->access);
  return 0;
}

static int
parse_weight_device (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_weight_device *d = item;
  uint32_t w = 0, lw = 0;

  if (sb_json_req_i64 (v, path, "major", &d->major, err) < 0
      || sb_json_req_i64 (v, path, "minor", &d->minor, err) < 0
      || sb_json_opt_u32 (v, path, "weight", &d->has_weight, &w, err) < 0
      || sb_json_opt_u32 (v, path, "leafWeight", &d->has_leaf_weight, &lw, err) < 0)
    return -1;
  if (w > UINT16_MAX || lw > UINT16_MAX)
    return sb_json_ferr (err, path, w > UINT16_MAX ? "weight" : "leafWeight",
                         "expected an integer in 0..65535, got %u", w > UINT16_MAX ? w : lw);
  d->weight = (uint16_t)w;
  d->leaf_weight = (uint16_t)lw;
  return 0;
}

static int
parse_throttle_device (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_throttle_device *d = item;

  if (sb_json_req_i64 (v, path, "major", &d->major, err) < 0
      || sb_json_req_i64 (v, path, "minor", &d->minor, err) < 0
      || sb_json_req_u64 (v, path, "rate", UINT64_MAX, &d->rate, err) < 0)
    return -1;
  return 0;
}

static int
parse_hugepage (json_object *v, const char *path, void *item, sb_err **err)
{
  struct sb_hugepage *h = item;

  if (sb_json_req_str (v, path, "pageSize", &h->page_size, err) < 0
      || sb_json_req_u64 (v, path, "limit", UINT64_MAX, &h->limit, err) < 0)
    return -1;
  return 0;
}

static int
parse_memory (json_object *res, const char *path, sb_resources *r, sb_err **err)
{
  _cleanup_free_ char *p = sb_json_sub (path, "memory");
  json_object *m, *swappiness;

  if (sb_json_opt_obj (res, path, "memory", &m, err) < 0)
    return -1;
  if (m == NULL)
    return 0;
  if (sb_json_opt_i64 (m, p, "limit", INT64_MIN, INT64_MAX, &r->memory.limit, err) < 0
      || sb_json_opt_i64 (m, p, "reservation", INT64_MIN, INT64_MAX, &r->memory.reservation, err) < 0
      || sb_json_opt_i64 (m, p, "swap", INT64_MIN, INT64_MAX, &r->memory.swap, err) < 0
      || sb_json_opt_i64 (m, p, "kernel", INT64_MIN, INT64_MAX, &r->memory.kernel, err) < 0
      || sb_json_opt_i64 (m, p, "kernelTCP", INT64_MIN, INT64_MAX, &r->memory.kernel_tcp, err) < 0
      || sb_json_opt_bool (m, p, "disableOOMKiller", &r->memory.disable_oom_killer, err) < 0
      || sb_json_opt_bool (m, p, "useHierarchy", &r->memory.use_hierarchy, err) < 0)
    return -1;
  /* swappiness is a uint64 where runc reads (uint64)-1 as "not set".  */
  swappiness = sb_json_member (m, "swappiness");
  if (swappiness != NULL && json_object_is_type (swappiness, json_type_int)
      && json_object_get_uint64 (swappiness) == UINT64_MAX)
    return 0;
  return sb_json_opt_i64 (m, p, "swappiness", 0, INT64_MAX, &r->memory.swappiness, err);
}

static int
parse_cpu (json_object *res, const char *path, sb_resources *r, sb_err **err)
{
  _cleanup_free_ char *p = sb_json_sub (path, "cpu");
  json_object *c;

  if (sb_json_opt_obj (res, path, "cpu", &c, err) < 0)
    return -1;
  if (c == NULL)
    return 0;
  /* The unsigned fields of the spec (shares, period, ...) stop at INT64_MAX:
     no cgroup knob takes more.  */
  if (sb_json_opt_i64 (c, p, "shares", 0, INT64_MAX, &r->cpu.shares, err) < 0
      || sb_json_opt_i64 (c, p, "quota", INT64_MIN, INT64_MAX, &r->cpu.quota, err) < 0
      || sb_json_opt_i64 (c, p, "period", 0, INT64_MAX, &r->cpu.period, err) < 0
      || sb_json_opt_i64 (c, p, "realtimeRuntime", INT64_MIN, INT64_MAX, &r->cpu.realtime_runtime, err) < 0
      || sb_json_opt_i64 (c, p, "realtimePeriod", 0, INT64_MAX, &r->cpu.realtime_period, err) < 0
      || sb_json_opt_i64 (c, p, "idle", INT64_MIN, INT64_MAX, &r->cpu.idle, err) < 0
      || sb_json_opt_i64 (c, p, "burst", 0, INT64_MAX, &r->cpu.burst, err) < 0
      || sb_json_opt_str (c, p, "cpus", &r->cpu.cpus, err) < 0
      || sb_json_opt_str (c, p, "mems", &r->cpu.mems, err) < 0)
    return -1;
  return 0;
}

static int
parse_pids (json_object *res, const char *path, sb_resources *r, sb_err **err)
{
  _cleanup_free_ char *p = sb_json_sub (path, "pids");
  json_object *pids;

  if (sb_json_opt_obj (res, path, "pids", &pids, err) < 0)
    return -1;
  if (pids == NULL)
    return 0;
  return sb_json_opt_i64 (pids, p, "limit", INT64_MIN, INT64_MAX, &r->pids.limit, err);
}

static int
parse_blkio (json_object *res, const char *path, sb_resources *r, sb_err **err)
{
  _cleanup_free_ char *p = sb_json_sub (path, "blockIO");
  json_object *b;

  if (sb_json_opt_obj (res, path, "blockIO", &b, err) < 0)
    return -1;
  if (b == NULL)
    return 0;
  if (sb_json_opt_i64 (b, p, "weight", 0, UINT16_MAX, &r->blkio.weight, err) < 0
      || sb_json_opt_i64 (b, p, "leafWeight", 0, UINT16_MAX, &r->blkio.leaf_weight, err) < 0
      || sb_json_opt_array (b, p, "weightDevice", sizeof (sb_weight_device), SIZE_MAX, parse_weight_device,
                            &r->blkio.weight_devices, &r->blkio.n_weight_devices, err)
             < 0
      || sb_json_opt_array (b, p, "throttleReadBpsDevice", sizeof (sb_throttle_device), SIZE_MAX,
                            parse_throttle_device, &r->blkio.throttle_read_bps, &r->blkio.n_throttle_read_bps,
                            err)
             < 0
      || sb_json_opt_array (b, p, "throttleWriteBpsDevice", sizeof (sb_throttle_device), SIZE_MAX,
                            parse_throttle_device, &r->blkio.throttle_write_bps,
                            &r->blkio.n_throttle_write_bps, err)
             < 0
      || sb_json_opt_array (b, p, "throttleReadIOPSDevice", sizeof (sb_throttle_device), SIZE_MAX,
                            parse_throttle_device, &r->blkio.throttle_read_iops,
                            &r->blkio.n_throttle_read_iops, err)
             < 0
      || sb_json_opt_array (b, p, "throttleWriteIOPSDevice", sizeof (sb_throttle_device), SIZE_MAX,
                            parse_throttle_device, &r->blkio.throttle_write_iops,
                            &r->blkio.n_throttle_write_iops, err)
             < 0)
    return -1;
  return 0;
}

static int
parse_resources (json_object *lin, sb_linux *l, sb_err **err)
{
  const char *p = "linux.resources";
  json_object *res;
  sb_resources *r;

  if (sb_json_opt_obj (lin, "linux", "resources", &res, err) < 0)
    return -1;
  if (res == NULL)
    return 0;
  r = l->resources = sb_xmalloc0 (sizeof (*r));
  if (parse_memory (res, p, r, err) < 0 || parse_cpu (res, p, r, err) < 0 || parse_pids (res, p, r, err) < 0
      || parse_blkio (res, p, r, err) < 0
      || sb_json_opt_array (res, p, "hugepageLimits", sizeof (struct sb_hugepage), SIZE_MAX, parse_hugepage,
                            &r->hugepage_limits, &r->n_hugepage_limits, err)
             < 0
      || sb_json_opt_array (res, p, "devices", sizeof (sb_device_rule), SIZE_MAX, parse_device_rule,
                            &r->devices, &r->n_devices, err)
             < 0
      || sb_json_opt_map (res, p, "unified", &r->unified, &r->n_unified, err) < 0)
    return -1;
  return 0;
}

/* ---- linux.seccomp ----------------------------------------------------- */

static int
parse_seccomp_arg (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_seccomp_arg *a = item;
  uint64_t index;

  /* A syscall has six argument registers.  */
  if (sb_json_req_u64 (v, path, "index", 5, &index, err) < 0
      || sb_json_req_u64 (v, path, "value", UINT64_MAX, &a->value, err) < 0
      || sb_json_opt_u64 (v, path, "valueTwo", 0, UINT64_MAX, NULL, &a->value_two, err) < 0
      || sb_json_req_str (v, path, "op", &a->op, err) < 0)
    return -1;
  a->index = (uint32_t)index;
  return 0;
}

static int
parse_syscall (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_seccomp_rule *s = item;
  json_object *names = sb_json_member (v, "names");

  if (names == NULL)
    return sb_json_missing (path, "names", err);
  if (sb_json_get_strv (names, path, "names", &s->names, err) < 0)
    return -1;
  if (s->names[0] == NULL)
    return sb_json_ferr (err, path, "names", "must contain at least one syscall name");
  if (sb_json_req_str (v, path, "action", &s->action, err) < 0
      || sb_json_opt_u32 (v, path, "errnoRet", &s->has_errno_ret, &s->errno_ret, err) < 0
      || sb_json_opt_array (v, path, "args", sizeof (sb_seccomp_arg), SIZE_MAX, parse_seccomp_arg, &s->args,
                            &s->n_args, err)
             < 0)
    return -1;
  return 0;
}

static int
parse_seccomp (json_object *lin, sb_linux *l, sb_err **err)
{
  const char *p = "linux.seccomp";
  json_object *v;
  sb_seccomp *s;

  if (sb_json_opt_obj (lin, "linux", "seccomp", &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  s = l->seccomp = sb_xmalloc0 (sizeof (*s));
  if (sb_json_req_str (v, p, "defaultAction", &s->default_action, err) < 0
      || sb_json_opt_u32 (v, p, "defaultErrnoRet", &s->has_default_errno_ret, &s->default_errno_ret, err) < 0
      || sb_json_opt_strv (v, p, "architectures", &s->architectures, err) < 0
      || sb_json_opt_strv (v, p, "flags", &s->flags, err) < 0
      || sb_json_opt_str (v, p, "listenerPath", &s->listener_path, err) < 0
      || sb_json_opt_str (v, p, "listenerMetadata", &s->listener_metadata, err) < 0
      || sb_json_opt_array (v, p, "syscalls", sizeof (sb_seccomp_rule), SIZE_MAX, parse_syscall, &s->syscalls,
                            &s->n_syscalls, err)
             < 0)
    return -1;
  return 0;
}

/* ---- linux: the rest --------------------------------------------------- */

static int
parse_rootfs_propagation (json_object *lin, sb_linux *l, sb_err **err)
{
  _cleanup_free_ char *s = NULL;
  const struct sb_spec_propagation *prop;

  if (sb_json_opt_str (lin, "linux", "rootfsPropagation", &s, err) < 0)
    return -1;
  if (s == NULL || *s == '\0')
    return 0;
  prop = sb_spec_find_propagation (s);
  if (prop == NULL)
    return sb_json_ferr (err, "linux", "rootfsPropagation",
                         "unknown propagation \"%s\" (want [r]private, [r]slave, [r]shared or [r]unbindable)",
                         s);
  l->rootfs_propagation = prop->flags;
  return 0;
}

static int
parse_personality (json_object *lin, sb_linux *l, sb_err **err)
{
  json_object *v;
  _cleanup_strv_ char **flags = NULL;

  if (sb_json_opt_obj (lin, "linux", "personality", &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  l->has_personality = true;
  if (sb_json_req_str (v, "linux.personality", "domain", &l->personality_domain, err) < 0
      || sb_json_opt_strv (v, "linux.personality", "flags", &flags, err) < 0)
    return -1;
  if (strcmp (l->personality_domain, "LINUX") != 0 && strcmp (l->personality_domain, "LINUX32") != 0)
    return sb_json_ferr (err, "linux.personality", "domain", "unknown domain \"%s\" (want LINUX or LINUX32)",
                         l->personality_domain);
  return 0;
}

static int
parse_time_offsets (json_object *lin, sb_linux *l, sb_err **err)
{
  static const char *const clocks[2] = { "monotonic", "boottime" };
  const char *p = "linux.timeOffsets";
  json_object *v;

  if (sb_json_opt_obj (lin, "linux", "timeOffsets", &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  l->has_time_offsets = true;
  json_object_object_foreach (v, name, off)
  {
    _cleanup_free_ char *cp = sb_json_sub (p, name);
    uint64_t ns = 0;
    int c = strcmp (name, clocks[0]) == 0 ? 0 : strcmp (name, clocks[1]) == 0 ? 1 : -1;

    if (c < 0)
      return sb_json_ferr (err, p, name, "unknown clock (want monotonic or boottime)");
    if (sb_json_want (off, json_type_object, "an object", p, name, err) < 0)
      return -1;
    if (sb_json_member (off, "secs") != NULL
        && sb_json_get_i64 (sb_json_member (off, "secs"), cp, "secs", INT64_MIN, INT64_MAX,
                            &l->time_offsets[c].secs, err)
               < 0)
      return -1;
    if (sb_json_opt_u64 (off, cp, "nanosecs", 0, 999999999, NULL, &ns, err) < 0)
      return -1;
    l->time_offsets[c].nanosecs = (uint32_t)ns;
  }
  return 0;
}

int
sb_spec_parse_linux (json_object *obj, sb_linux *l, sb_err **err)
{
  const char *p = "linux";
  json_object *lin;

  if (sb_json_opt_obj (obj, "", "linux", &lin, err) < 0)
    return -1;
  if (lin == NULL)
    return 0;
  if (parse_namespaces (lin, l, err) < 0
      || sb_spec_opt_idmaps (lin, p, "uidMappings", &l->uid_mappings, &l->n_uid_mappings, err) < 0
      || sb_spec_opt_idmaps (lin, p, "gidMappings", &l->gid_mappings, &l->n_gid_mappings, err) < 0
      || sb_json_opt_array (lin, p, "devices", sizeof (sb_device), SIZE_MAX, parse_device, &l->devices,
                            &l->n_devices, err)
             < 0
      || sb_json_opt_str (lin, p, "cgroupsPath", &l->cgroups_path, err) < 0
      || parse_resources (lin, l, err) < 0
      || sb_json_opt_map (lin, p, "sysctl", &l->sysctl, &l->n_sysctl, err) < 0
      || parse_seccomp (lin, l, err) < 0 || parse_rootfs_propagation (lin, l, err) < 0
      || sb_json_opt_abs_strv (lin, p, "maskedPaths", &l->masked_paths, err) < 0
      || sb_json_opt_abs_strv (lin, p, "readonlyPaths", &l->readonly_paths, err) < 0
      || sb_json_opt_str (lin, p, "mountLabel", &l->mount_label, err) < 0
      || parse_personality (lin, l, err) < 0 || parse_time_offsets (lin, l, err) < 0)
    return -1;
  return 0;
}
