/* config.json (runtime-spec 1.1, Linux) to the structs of spec.h.

   Every parsed value is stored into its owning struct as soon as it is
   allocated, so on any error the caller's single sb_spec_free releases a
   half-built spec; no function here needs its own unwinding.  Absent fields
   and JSON null are treated alike, as Go's encoding/json does for runc.

   This file has the top level, the process, mounts and hooks, freeing and
   the name lookups; the "linux" object is parsed in spec-linux.c, the JSON
   text and typed field access are in spec-json.c and the default spec of
   `spec` in spec-default.c.  */
#include "spec.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "spec-internal.h"
#include "spec-json.h"
#include "util.h"

/* Linux has 16 resource limits; a longer list must repeat or misname one,
   and the bound keeps the duplicate check cheap.  */
#define MAX_RLIMITS 64

/* ---- process ----------------------------------------------------------- */

static int
parse_rlimit (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_rlimit *r = item;

  if (sb_json_req_str (v, path, "type", &r->type, err) < 0
      || sb_json_req_u64 (v, path, "hard", UINT64_MAX, &r->hard, err) < 0
      || sb_json_req_u64 (v, path, "soft", UINT64_MAX, &r->soft, err) < 0)
    return -1;
  if (r->soft > r->hard)
    return sb_json_ferr (err, path, NULL, "soft limit %" PRIu64 " is greater than hard limit %" PRIu64,
                         r->soft, r->hard);
  return 0;
}

static int
check_rlimits (const sb_process *p, const char *path, sb_err **err)
{
  for (size_t i = 0; i < p->n_rlimits; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp (p->rlimits[i].type, p->rlimits[j].type) == 0)
        return sb_error (err, 0, "%s.rlimits[%zu].type: duplicate rlimit \"%s\"", path, i,
                         p->rlimits[i].type);
  return 0;
}

static int
parse_caps (json_object *obj, const char *path, sb_process *p, sb_err **err)
{
  json_object *c;
  _cleanup_free_ char *cp = sb_json_sub (path, "capabilities");

  if (sb_json_opt_obj (obj, path, "capabilities", &c, err) < 0)
    return -1;
  if (c == NULL)
    return 0;
  p->has_caps = true;
  if (sb_json_opt_strv (c, cp, "bounding", &p->caps.bounding, err) < 0
      || sb_json_opt_strv (c, cp, "effective", &p->caps.effective, err) < 0
      || sb_json_opt_strv (c, cp, "inheritable", &p->caps.inheritable, err) < 0
      || sb_json_opt_strv (c, cp, "permitted", &p->caps.permitted, err) < 0
      || sb_json_opt_strv (c, cp, "ambient", &p->caps.ambient, err) < 0)
    return -1;
  return 0;
}

static int
parse_user (json_object *obj, const char *path, sb_process *p, sb_err **err)
{
  json_object *u, *gids;
  _cleanup_free_ char *up = sb_json_sub (path, "user");

  if (sb_json_opt_obj (obj, path, "user", &u, err) < 0)
    return -1;
  if (u == NULL)
    return 0;
  if (sb_json_opt_u32 (u, up, "uid", NULL, &p->uid, err) < 0
      || sb_json_opt_u32 (u, up, "gid", NULL, &p->gid, err) < 0
      || sb_json_opt_u32 (u, up, "umask", &p->has_umask, &p->umask, err) < 0)
    return -1;
  gids = sb_json_member (u, "additionalGids");
  if (gids == NULL)
    return 0;
  if (sb_json_want (gids, json_type_array, "an array of integers", up, "additionalGids", err) < 0)
    return -1;
  p->n_additional_gids = json_object_array_length (gids);
  p->additional_gids = sb_xmalloc0 (p->n_additional_gids * sizeof (uint32_t));
  for (size_t i = 0; i < p->n_additional_gids; i++)
    {
      _cleanup_free_ char *k = sb_xasprintf ("additionalGids[%zu]", i);
      uint64_t g;
      if (sb_json_get_u64 (json_object_array_get_idx (gids, i), up, k, 0, UINT32_MAX, &g, err) < 0)
        return -1;
      p->additional_gids[i] = (uint32_t)g;
    }
  return 0;
}

static int
parse_console_size (json_object *obj, const char *path, sb_process *p, sb_err **err)
{
  json_object *c;
  _cleanup_free_ char *cp = sb_json_sub (path, "consoleSize");

  if (sb_json_opt_obj (obj, path, "consoleSize", &c, err) < 0)
    return -1;
  if (c == NULL)
    return 0;
  p->has_console_size = true;
  if (sb_json_req_u32 (c, cp, "height", &p->console_height, err) < 0
      || sb_json_req_u32 (c, cp, "width", &p->console_width, err) < 0)
    return -1;
  return 0;
}

static int
parse_process_obj (json_object *v, const char *path, sb_process *p, sb_err **err)
{
  json_object *args = sb_json_member (v, "args");
  int64_t oom;

  if (sb_json_opt_bool (v, path, "terminal", &p->terminal, err) < 0
      || parse_console_size (v, path, p, err) < 0 || parse_user (v, path, p, err) < 0)
    return -1;
  if (args == NULL)
    return sb_json_missing (path, "args", err);
  if (sb_json_get_strv (args, path, "args", &p->args, err) < 0)
    return -1;
  if (p->args[0] == NULL)
    return sb_json_ferr (err, path, "args", "must contain at least one element");
  if (p->args[0][0] == '\0')
    return sb_json_ferr (err, path, "args[0]", "the program must not be empty");
  if (sb_json_opt_strv (v, path, "env", &p->env, err) < 0
      || sb_json_req_abs_path (v, path, "cwd", &p->cwd, err) < 0 || parse_caps (v, path, p, err) < 0
      || sb_json_opt_array (v, path, "rlimits", sizeof (sb_rlimit), MAX_RLIMITS, parse_rlimit, &p->rlimits,
                            &p->n_rlimits, err)
             < 0
      || check_rlimits (p, path, err) < 0
      || sb_json_opt_bool (v, path, "noNewPrivileges", &p->no_new_privileges, err) < 0
      || sb_json_opt_str (v, path, "apparmorProfile", &p->apparmor_profile, err) < 0
      || sb_json_opt_str (v, path, "selinuxLabel", &p->selinux_label, err) < 0)
    return -1;
  if (sb_json_member (v, "oomScoreAdj") != NULL)
    {
      if (sb_json_get_i64 (sb_json_member (v, "oomScoreAdj"), path, "oomScoreAdj", -1000, 1000, &oom, err)
          < 0)
        return -1;
      p->has_oom_score_adj = true;
      p->oom_score_adj = (int)oom;
    }
  return 0;
}
/* ---- mounts ------------------------------------------------------------ */

struct mount_flag
{
  const char *name;
  bool clear;
  unsigned long flag;
};

/* runc's table (libcontainer/specconv).  */
static const struct mount_flag mount_flags[] = {
  { "defaults", false, 0 },
  { "ro", false, MS_RDONLY },
  { "rw", true, MS_RDONLY },
  { "suid", true, MS_NOSUID },
  { "nosuid", false, MS_NOSUID },
  { "dev", true, MS_NODEV },
  { "nodev", false, MS_NODEV },
  { "exec", true, MS_NOEXEC },
  { "noexec", false, MS_NOEXEC },
  { "sync", false, MS_SYNCHRONOUS },
  { "async", true, MS_SYNCHRONOUS },
  { "dirsync", false, MS_DIRSYNC },
  { "remount", false, MS_REMOUNT },
  { "mand", false, MS_MANDLOCK },
  { "nomand", true, MS_MANDLOCK },
  { "atime", true, MS_NOATIME },
  { "noatime", false, MS_NOATIME },
  { "diratime", true, MS_NODIRATIME },
  { "nodiratime", false, MS_NODIRATIME },
  { "relatime", false, MS_RELATIME },
  { "norelatime", true, MS_RELATIME },
  { "strictatime", false, MS_STRICTATIME },
  { "nostrictatime", true, MS_STRICTATIME },
  { "lazytime", false, MS_LAZYTIME },
  { "nolazytime", true, MS_LAZYTIME },
  { "iversion", false, MS_I_VERSION },
  { "noiversion", true, MS_I_VERSION },
  { "silent", false, MS_SILENT },
  { "loud", true, MS_SILENT },
  { "symfollow", true, MS_NOSYMFOLLOW },
  { "nosymfollow", false, MS_NOSYMFOLLOW },
};

static const struct sb_spec_propagation propagations[] = {
  { "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
  { "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
  { "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
  { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

const struct sb_spec_propagation *
sb_spec_find_propagation (const char *name)
{
  for (size_t i = 0; i < sizeof (propagations) / sizeof (propagations[0]); i++)
    if (strcmp (propagations[i].name, name) == 0)
      return &propagations[i];
  return NULL;
}

static const struct mount_flag *
find_mount_flag (const char *name)
{
  for (size_t i = 0; i < sizeof (mount_flags) / sizeof (mount_flags[0]); i++)
    if (strcmp (mount_flags[i].name, name) == 0)
      return &mount_flags[i];
  return NULL;
}

/* runc's recursive attributes: "r" and one of these.  */
static bool
is_recursive_attr (const char *opt)
{
  static const char *const attrs[]
      = { "ro",      "rw",    "nosuid",      "suid",          "nodev",       "dev",
          "noexec",  "exec",  "nodiratime",  "diratime",      "relatime",    "norelatime",
          "noatime", "atime", "strictatime", "nostrictatime", "nosymfollow", "symfollow" };
  if (opt[0] != 'r')
    return false;
  for (size_t i = 0; i < sizeof (attrs) / sizeof (attrs[0]); i++)
    if (strcmp (attrs[i], opt + 1) == 0)
      return true;
  return false;
}

static void
apply_flag (sb_mount *m, const struct mount_flag *f)
{
  if (f->clear)
    {
      m->flags &= ~f->flag;
      m->clear_flags |= f->flag;
    }
  else
    {
      m->flags |= f->flag;
      m->clear_flags &= ~f->flag;
    }
}

/* One option, the way runc reads it.  The recursive attributes ("rro",
   "rnosuid", ... applied by runc through mount_setattr(AT_RECURSIVE)) have
   no field of their own in sb_mount: they set the plain flag and
   `recursive`, so the whole tree gets the flags.  Returns false for an
   option that belongs to the filesystem's data.  */
static bool
apply_mount_option (sb_mount *m, const char *opt)
{
  const struct sb_spec_propagation *prop = sb_spec_find_propagation (opt);
  const struct mount_flag *f = find_mount_flag (opt);

  if (*opt == '\0')
    return true;
  if (f != NULL)
    apply_flag (m, f);
  else if (prop != NULL)
    m->propagation = prop->flags;
  else if (strcmp (opt, "bind") == 0 || strcmp (opt, "rbind") == 0)
    {
      m->bind = true;
      m->recursive |= opt[0] == 'r';
      m->flags |= MS_BIND | (opt[0] == 'r' ? MS_REC : 0);
    }
  else if (strcmp (opt, "idmap") == 0 || strcmp (opt, "ridmap") == 0)
    {
      m->idmap = true;
      m->recursive |= opt[0] == 'r';
    }
  else if (strcmp (opt, "tmpcopyup") == 0)
    m->tmpcopyup = true;
  else if (is_recursive_attr (opt))
    {
      apply_flag (m, find_mount_flag (opt + 1));
      m->recursive = true;
    }
  else
    return false;
  return true;
}

/* Derives the flags and the comma-joined data, in one pass over the options
   so that a huge list stays linear.  */
static void
parse_mount_options (sb_mount *m)
{
  _cleanup_free_ char *data = NULL;
  size_t total = 1, used = 0;

  for (size_t i = 0; m->options && m->options[i]; i++)
    total += strlen (m->options[i]) + 1;
  data = sb_xmalloc0 (total);
  for (size_t i = 0; m->options && m->options[i]; i++)
    {
      if (apply_mount_option (m, m->options[i]))
        continue;
      if (used > 0)
        data[used++] = ',';
      used = (size_t)(stpcpy (data + used, m->options[i]) - data);
    }
  if (used > 0)
    m->data = sb_steal (&data);
}

static int
parse_mount (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_mount *m = item;

  if (sb_json_req_abs_path (v, path, "destination", &m->destination, err) < 0
      || sb_json_opt_str (v, path, "type", &m->type, err) < 0
      || sb_json_opt_str (v, path, "source", &m->source, err) < 0
      || sb_json_opt_strv (v, path, "options", &m->options, err) < 0
      || sb_spec_opt_idmaps (v, path, "uidMappings", &m->uid_mappings, &m->n_uid_mappings, err) < 0
      || sb_spec_opt_idmaps (v, path, "gidMappings", &m->gid_mappings, &m->n_gid_mappings, err) < 0)
    return -1;
  if ((m->uid_mappings == NULL) != (m->gid_mappings == NULL))
    return sb_json_ferr (err, path, NULL, "uidMappings and gidMappings must be given together");
  parse_mount_options (m);
  return 0;
}
/* ---- hooks ------------------------------------------------------------- */

static const char *const hook_names[SB_HOOK_KINDS] = {
  [SB_HOOK_PRESTART] = "prestart",
  [SB_HOOK_CREATE_RUNTIME] = "createRuntime",
  [SB_HOOK_CREATE_CONTAINER] = "createContainer",
  [SB_HOOK_START_CONTAINER] = "startContainer",
  [SB_HOOK_POSTSTART] = "poststart",
  [SB_HOOK_POSTSTOP] = "poststop",
};

static int
parse_hook (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_hook *h = item;
  uint64_t timeout;

  if (sb_json_req_abs_path (v, path, "path", &h->path, err) < 0
      || sb_json_opt_strv (v, path, "args", &h->args, err) < 0
      || sb_json_opt_strv (v, path, "env", &h->env, err) < 0
      || sb_json_opt_u64 (v, path, "timeout", 1, INT_MAX, &h->has_timeout, &timeout, err) < 0)
    return -1;
  h->timeout = h->has_timeout ? (int)timeout : 0;
  return 0;
}

static int
parse_hooks (json_object *obj, sb_spec *spec, sb_err **err)
{
  json_object *hooks;

  if (sb_json_opt_obj (obj, "", "hooks", &hooks, err) < 0)
    return -1;
  if (hooks == NULL)
    return 0;
  for (int k = 0; k < SB_HOOK_KINDS; k++)
    if (sb_json_opt_array (hooks, "hooks", hook_names[k], sizeof (sb_hook), SIZE_MAX, parse_hook,
                           &spec->hooks[k], &spec->n_hooks[k], err)
        < 0)
      return -1;
  return 0;
}
/* ---- top level --------------------------------------------------------- */

static int
parse_version (json_object *obj, sb_spec *spec, sb_err **err)
{
  if (sb_json_req_str (obj, "", "ociVersion", &spec->oci_version, err) < 0)
    return -1;
  if (strncmp (spec->oci_version, "1.", 2) != 0)
    return sb_json_ferr (err, "", "ociVersion", "unsupported version \"%s\" (want 1.x)", spec->oci_version);
  return 0;
}

static int
parse_root (json_object *obj, sb_spec *spec, sb_err **err)
{
  json_object *root;

  if (sb_json_opt_obj (obj, "", "root", &root, err) < 0)
    return -1;
  if (root == NULL)
    return sb_json_missing ("", "root", err);
  if (sb_json_req_str (root, "root", "path", &spec->root_path, err) < 0
      || sb_json_opt_bool (root, "root", "readonly", &spec->root_readonly, err) < 0)
    return -1;
  return 0;
}

static int
parse_spec_obj (json_object *obj, sb_spec *spec, sb_err **err)
{
  json_object *proc;

  if (parse_version (obj, spec, err) < 0 || parse_root (obj, spec, err) < 0
      || sb_json_opt_str (obj, "", "hostname", &spec->hostname, err) < 0
      || sb_json_opt_str (obj, "", "domainname", &spec->domainname, err) < 0
      || sb_json_opt_obj (obj, "", "process", &proc, err) < 0)
    return -1;
  if (proc != NULL)
    {
      spec->process = sb_xmalloc0 (sizeof (sb_process));
      if (parse_process_obj (proc, "process", spec->process, err) < 0)
        return -1;
    }
  if (sb_json_opt_array (obj, "", "mounts", sizeof (sb_mount), SIZE_MAX, parse_mount, &spec->mounts,
                         &spec->n_mounts, err)
          < 0
      || parse_hooks (obj, spec, err) < 0
      || sb_json_opt_map (obj, "", "annotations", &spec->annotations, &spec->n_annotations, err) < 0
      || sb_spec_parse_linux (obj, &spec->linux, err) < 0)
    return -1;
  return 0;
}

int
sb_spec_parse (const char *json, size_t len, sb_spec **out, sb_err **err)
{
  _cleanup_json_ json_object *obj = NULL;
  _cleanup_spec_ sb_spec *spec = sb_xmalloc0 (sizeof (*spec));

  if (sb_json_parse_text (json, len, &obj, err) < 0 || parse_spec_obj (obj, spec, err) < 0)
    return sb_error_wrap (err, "config.json");
  *out = sb_steal (&spec);
  return 0;
}

int
sb_process_parse (const char *json, size_t len, sb_process **out, sb_err **err)
{
  _cleanup_json_ json_object *obj = NULL;
  _cleanup_process_ sb_process *p = sb_xmalloc0 (sizeof (*p));

  if (sb_json_parse_text (json, len, &obj, err) < 0 || parse_process_obj (obj, "process", p, err) < 0)
    return -1;
  *out = sb_steal (&p);
  return 0;
}

/* Reads at most SB_SPEC_MAX_SIZE bytes of an open regular file.  */
static int
read_config (int fd, const char *bundle, char **out, size_t *len, sb_err **err)
{
  _cleanup_free_ char *buf = NULL;
  struct stat st;
  ssize_t n;

  if (fstat (fd, &st) < 0)
    return sb_error (err, errno, "bundle %s: config.json", bundle);
  if (!S_ISREG (st.st_mode))
    return sb_error (err, 0, "bundle %s: config.json: not a regular file", bundle);
  if (st.st_size > (off_t)SB_SPEC_MAX_SIZE)
    return sb_error (err, 0, "bundle %s: config.json: larger than %u bytes", bundle, SB_SPEC_MAX_SIZE);
  /* One byte more than its size tells a file that grew meanwhile.  */
  buf = sb_xmalloc0 ((size_t)st.st_size + 1);
  n = sb_read_all (fd, buf, (size_t)st.st_size + 1);
  if (n < 0)
    return sb_error (err, errno, "bundle %s: config.json: read", bundle);
  if (n > st.st_size)
    return sb_error (err, 0, "bundle %s: config.json: changed while being read", bundle);
  *len = (size_t)n;
  *out = sb_steal (&buf);
  return 0;
}

int
sb_spec_load (const char *bundle, sb_spec **out, sb_err **err)
{
  _cleanup_close_ int dirfd = open (bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  _cleanup_close_ int fd = -1;
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;

  if (dirfd < 0)
    return sb_error (err, errno, "bundle %s", bundle);
  fd = openat (dirfd, "config.json", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return sb_error (err, errno, "bundle %s: config.json", bundle);
  if (read_config (fd, bundle, &buf, &len, err) < 0)
    return -1;
  if (sb_spec_parse (buf, len, out, err) < 0)
    return sb_error_wrap (err, "bundle %s", bundle);
  return 0;
}
/* ---- freeing ----------------------------------------------------------- */

static void
free_kvs (sb_kv *kv, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (kv[i].key);
      free (kv[i].value);
    }
  free (kv);
}

void
sb_process_free (sb_process *p)
{
  if (p == NULL)
    return;
  free (p->additional_gids);
  sb_strv_free (p->args);
  sb_strv_free (p->env);
  free (p->cwd);
  sb_strv_free (p->caps.bounding);
  sb_strv_free (p->caps.effective);
  sb_strv_free (p->caps.inheritable);
  sb_strv_free (p->caps.permitted);
  sb_strv_free (p->caps.ambient);
  for (size_t i = 0; i < p->n_rlimits; i++)
    free (p->rlimits[i].type);
  free (p->rlimits);
  free (p->apparmor_profile);
  free (p->selinux_label);
  free (p);
}

static void
free_mount (sb_mount *m)
{
  free (m->destination);
  free (m->type);
  free (m->source);
  sb_strv_free (m->options);
  free (m->uid_mappings);
  free (m->gid_mappings);
  free (m->data);
}

static void
free_resources (sb_resources *r)
{
  if (r == NULL)
    return;
  free (r->cpu.cpus);
  free (r->cpu.mems);
  free (r->blkio.weight_devices);
  free (r->blkio.throttle_read_bps);
  free (r->blkio.throttle_write_bps);
  free (r->blkio.throttle_read_iops);
  free (r->blkio.throttle_write_iops);
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    free (r->hugepage_limits[i].page_size);
  free (r->hugepage_limits);
  for (size_t i = 0; i < r->n_devices; i++)
    free (r->devices[i].access);
  free (r->devices);
  free_kvs (r->unified, r->n_unified);
  free (r);
}

static void
free_seccomp (sb_seccomp *s)
{
  if (s == NULL)
    return;
  free (s->default_action);
  sb_strv_free (s->architectures);
  sb_strv_free (s->flags);
  free (s->listener_path);
  free (s->listener_metadata);
  for (size_t i = 0; i < s->n_syscalls; i++)
    {
      sb_strv_free (s->syscalls[i].names);
      free (s->syscalls[i].action);
      for (size_t j = 0; j < s->syscalls[i].n_args; j++)
        free (s->syscalls[i].args[j].op);
      free (s->syscalls[i].args);
    }
  free (s->syscalls);
  free (s);
}

static void
free_linux (sb_linux *l)
{
  for (int k = 0; k < SB_NS_KINDS; k++)
    free (l->namespaces[k].path);
  free (l->uid_mappings);
  free (l->gid_mappings);
  for (size_t i = 0; i < l->n_devices; i++)
    free (l->devices[i].path);
  free (l->devices);
  free (l->cgroups_path);
  free_resources (l->resources);
  free_kvs (l->sysctl, l->n_sysctl);
  free_seccomp (l->seccomp);
  sb_strv_free (l->masked_paths);
  sb_strv_free (l->readonly_paths);
  free (l->mount_label);
  free (l->personality_domain);
}

void
sb_spec_free (sb_spec *spec)
{
  if (spec == NULL)
    return;
  free (spec->oci_version);
  free (spec->root_path);
  free (spec->hostname);
  free (spec->domainname);
  sb_process_free (spec->process);
  for (size_t i = 0; i < spec->n_mounts; i++)
    free_mount (&spec->mounts[i]);
  free (spec->mounts);
  for (int k = 0; k < SB_HOOK_KINDS; k++)
    {
      for (size_t i = 0; i < spec->n_hooks[k]; i++)
        {
          free (spec->hooks[k][i].path);
          sb_strv_free (spec->hooks[k][i].args);
          sb_strv_free (spec->hooks[k][i].env);
        }
      free (spec->hooks[k]);
    }
  free_kvs (spec->annotations, spec->n_annotations);
  free_linux (&spec->linux);
  free (spec);
}

void
sb_spec_freep (sb_spec **spec)
{
  sb_spec_free (*spec);
  *spec = NULL;
}

void
sb_process_freep (sb_process **p)
{
  sb_process_free (*p);
  *p = NULL;
}

/* ---- lookups ----------------------------------------------------------- */

static const char *const ns_names[SB_NS_KINDS] = {
  [SB_NS_PID] = "pid", [SB_NS_NETWORK] = "network", [SB_NS_MOUNT] = "mount",   [SB_NS_IPC] = "ipc",
  [SB_NS_UTS] = "uts", [SB_NS_USER] = "user",       [SB_NS_CGROUP] = "cgroup", [SB_NS_TIME] = "time",
};

static const char *const ns_proc_names[SB_NS_KINDS] = {
  [SB_NS_PID] = "pid", [SB_NS_NETWORK] = "net", [SB_NS_MOUNT] = "mnt",     [SB_NS_IPC] = "ipc",
  [SB_NS_UTS] = "uts", [SB_NS_USER] = "user",   [SB_NS_CGROUP] = "cgroup", [SB_NS_TIME] = "time",
};

static const int ns_flags[SB_NS_KINDS] = {
  [SB_NS_PID] = CLONE_NEWPID,       [SB_NS_NETWORK] = CLONE_NEWNET, [SB_NS_MOUNT] = CLONE_NEWNS,
  [SB_NS_IPC] = CLONE_NEWIPC,       [SB_NS_UTS] = CLONE_NEWUTS,     [SB_NS_USER] = CLONE_NEWUSER,
  [SB_NS_CGROUP] = CLONE_NEWCGROUP, [SB_NS_TIME] = CLONE_NEWTIME,
};

const char *
sb_spec_annotation (const sb_spec *spec, const char *key)
{
  for (size_t i = 0; spec != NULL && i < spec->n_annotations; i++)
    if (strcmp (spec->annotations[i].key, key) == 0)
      return spec->annotations[i].value;
  return NULL;
}

const char *
sb_ns_name (enum sb_ns_kind kind)
{
  return (unsigned)kind < SB_NS_KINDS ? ns_names[kind] : NULL;
}

const char *
sb_ns_proc_name (enum sb_ns_kind kind)
{
  return (unsigned)kind < SB_NS_KINDS ? ns_proc_names[kind] : NULL;
}

int
sb_ns_clone_flag (enum sb_ns_kind kind)
{
  return (unsigned)kind < SB_NS_KINDS ? ns_flags[kind] : 0;
}

const char *
sb_hook_kind_name (enum sb_hook_kind kind)
{
  return (unsigned)kind < SB_HOOK_KINDS ? hook_names[kind] : NULL;
}
