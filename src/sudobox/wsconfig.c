#include "wsconfig.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "spec.h"
#include "util.h"
#include "ws-system.h"

#define MIN_MEMORY (6 * 1024 * 1024)
#define CPU_PERIOD 100000

static const char *const default_caps[]
    = { "CAP_CHOWN",      "CAP_DAC_OVERRIDE", "CAP_FOWNER",      "CAP_FSETID",           "CAP_KILL",
        "CAP_SETGID",     "CAP_SETUID",       "CAP_SETPCAP",     "CAP_NET_BIND_SERVICE", "CAP_NET_RAW",
        "CAP_SYS_CHROOT", "CAP_MKNOD",        "CAP_AUDIT_WRITE", "CAP_SETFCAP",          NULL };

static json_object *
strings (const char *const *v)
{
  json_object *a = json_object_new_array ();
  for (size_t i = 0; v && v[i]; i++)
    json_object_array_add (a, json_object_new_string (v[i]));
  return a;
}

static void
add_str (json_object *o, const char *k, const char *v)
{
  json_object_object_add (o, k, json_object_new_string (v));
}

int
sb_wsconfig_to_json (const sb_wsconfig *c, char **json, sb_err **err)
{
  json_object *o = json_object_new_object ();
  json_object *vols = json_object_new_array ();
  json_object *pubs = json_object_new_array ();

  (void)err;
  add_str (o, "user", c->user);
  json_object_object_add (o, "uid", json_object_new_int64 (c->uid));
  json_object_object_add (o, "gid", json_object_new_int64 (c->gid));
  add_str (o, "home", c->home);
  json_object_object_add (o, "cpus", json_object_new_double (c->cpus));
  json_object_object_add (o, "memory", json_object_new_int64 (c->memory));
  json_object_object_add (o, "pids", json_object_new_int64 (c->pids));
  for (size_t i = 0; i < c->n_volumes; i++)
    {
      json_object *v = json_object_new_object ();
      add_str (v, "source", c->volumes[i].source);
      add_str (v, "dest", c->volumes[i].dest);
      json_object_object_add (v, "ro", json_object_new_boolean (c->volumes[i].ro));
      json_object_array_add (vols, v);
    }
  json_object_object_add (o, "volumes", vols);
  for (size_t i = 0; i < c->n_publish; i++)
    {
      json_object *p = json_object_new_object ();
      add_str (p, "host_ip", c->publish[i].host_ip);
      json_object_object_add (p, "host_port", json_object_new_int (c->publish[i].host_port));
      json_object_object_add (p, "port", json_object_new_int (c->publish[i].port));
      json_object_object_add (p, "udp", json_object_new_boolean (c->publish[i].udp));
      json_object_array_add (pubs, p);
    }
  json_object_object_add (o, "publish", pubs);
  json_object_object_add (o, "env", strings ((const char *const *)c->env));
  json_object_object_add (o, "network", json_object_new_boolean (c->network));
  add_str (o, "hostname", c->hostname);
  add_str (o, "isolation", c->isolation);
  if (c->seccomp_unconfined)
    json_object_object_add (o, "seccomp_unconfined", json_object_new_boolean (1));
  *json = sb_xstrdup (
      json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put (o);
  return 0;
}

static const char *
get_str (json_object *o, const char *k)
{
  json_object *v;
  return json_object_object_get_ex (o, k, &v) && json_object_is_type (v, json_type_string)
             ? json_object_get_string (v)
             : NULL;
}

static int64_t
get_int (json_object *o, const char *k)
{
  json_object *v;
  return json_object_object_get_ex (o, k, &v) ? json_object_get_int64 (v) : 0;
}

static void
read_volumes (json_object *o, sb_wsconfig *c)
{
  json_object *a;
  if (!json_object_object_get_ex (o, "volumes", &a) || !json_object_is_type (a, json_type_array))
    return;
  c->n_volumes = json_object_array_length (a);
  c->volumes = sb_xmalloc0 ((c->n_volumes + 1) * sizeof (sb_volume));
  for (size_t i = 0; i < c->n_volumes; i++)
    {
      json_object *v = json_object_array_get_idx (a, i), *ro;
      c->volumes[i].source = sb_xstrdup (get_str (v, "source"));
      c->volumes[i].dest = sb_xstrdup (get_str (v, "dest"));
      c->volumes[i].ro = json_object_object_get_ex (v, "ro", &ro) && json_object_get_boolean (ro);
    }
}

static void
read_publish (json_object *o, sb_wsconfig *c)
{
  json_object *a;
  if (!json_object_object_get_ex (o, "publish", &a) || !json_object_is_type (a, json_type_array))
    return;
  c->n_publish = json_object_array_length (a);
  c->publish = sb_xmalloc0 ((c->n_publish + 1) * sizeof (sb_publish));
  for (size_t i = 0; i < c->n_publish; i++)
    {
      json_object *p = json_object_array_get_idx (a, i), *udp;
      snprintf (c->publish[i].host_ip, sizeof (c->publish[i].host_ip), "%s",
                get_str (p, "host_ip") ? get_str (p, "host_ip") : "127.0.0.1");
      c->publish[i].host_port = (uint16_t)get_int (p, "host_port");
      c->publish[i].port = (uint16_t)get_int (p, "port");
      c->publish[i].udp = json_object_object_get_ex (p, "udp", &udp) && json_object_get_boolean (udp);
    }
}

int
sb_wsconfig_from_json (const char *json, sb_wsconfig *c, sb_err **err)
{
  json_object *o = json_tokener_parse (json), *v;

  memset (c, 0, sizeof (*c));
  if (o == NULL || !json_object_is_type (o, json_type_object))
    {
      json_object_put (o);
      return sb_error (err, 0, "the workspace's recorded settings are not valid JSON");
    }
  c->user = sb_xstrdup (get_str (o, "user") ? get_str (o, "user") : "root");
  c->uid = (uint32_t)get_int (o, "uid");
  c->gid = (uint32_t)get_int (o, "gid");
  c->home = sb_xstrdup (get_str (o, "home") ? get_str (o, "home") : "/root");
  c->cpus = json_object_object_get_ex (o, "cpus", &v) ? json_object_get_double (v) : 0;
  c->memory = get_int (o, "memory");
  c->pids = get_int (o, "pids");
  read_volumes (o, c);
  read_publish (o, c);
  if (json_object_object_get_ex (o, "env", &v) && json_object_is_type (v, json_type_array))
    for (size_t i = 0; i < json_object_array_length (v); i++)
      sb_strv_append (&c->env, json_object_get_string (json_object_array_get_idx (v, i)));
  c->network = json_object_object_get_ex (o, "network", &v) && json_object_get_boolean (v);
  c->hostname = sb_xstrdup (get_str (o, "hostname"));
  c->isolation = sb_xstrdup (get_str (o, "isolation") ? get_str (o, "isolation") : "userns");
  c->seccomp_unconfined
      = json_object_object_get_ex (o, "seccomp_unconfined", &v) && json_object_get_boolean (v);
  json_object_put (o);
  return 0;
}

void
sb_wsconfig_release (sb_wsconfig *c)
{
  free (c->user);
  free (c->home);
  for (size_t i = 0; i < c->n_volumes; i++)
    {
      free (c->volumes[i].source);
      free (c->volumes[i].dest);
    }
  free (c->volumes);
  free (c->publish);
  sb_strv_free (c->env);
  free (c->hostname);
  free (c->isolation);
  memset (c, 0, sizeof (*c));
}

static json_object *
mount_obj (const char *dest, const char *type, const char *source, const char *const *options)
{
  json_object *m = json_object_new_object ();
  add_str (m, "destination", dest);
  add_str (m, "type", type);
  add_str (m, "source", source);
  if (options)
    json_object_object_add (m, "options", strings (options));
  return m;
}

static json_object *
build_mounts (const sb_wsconfig *c, const sb_ws_paths *p)
{
  static const char *const dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
  static const char *const pts[]
      = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL };
  static const char *const shm[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
  static const char *const mq[] = { "nosuid", "noexec", "nodev", NULL };
  static const char *const sys[] = { "nosuid", "noexec", "nodev", "ro", NULL };
  static const char *const cg[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };
  static const char *const run[] = { "nosuid", "nodev", "mode=755", "size=65536k", NULL };
  static const char *const init[] = { "rbind", "ro", "nosuid", "nodev", NULL };
  static const char *const rw[] = { "rbind", "rw", "nosuid", "nodev", NULL };
  static const char *const ro[] = { "rbind", "ro", "nosuid", "nodev", NULL };
  static const char *const etc_files[] = { "hostname", "hosts", "resolv.conf", NULL };
  json_object *a = json_object_new_array ();

  json_object_array_add (a, mount_obj ("/proc", "proc", "proc", NULL));
  json_object_array_add (a, mount_obj ("/dev", "tmpfs", "tmpfs", dev));
  json_object_array_add (a, mount_obj ("/dev/pts", "devpts", "devpts", pts));
  json_object_array_add (a, mount_obj ("/dev/shm", "tmpfs", "shm", shm));
  json_object_array_add (a, mount_obj ("/dev/mqueue", "mqueue", "mqueue", mq));
  json_object_array_add (a, mount_obj ("/sys", "sysfs", "sysfs", sys));
  json_object_array_add (a, mount_obj ("/sys/fs/cgroup", "cgroup", "cgroup", cg));
  json_object_array_add (a, mount_obj ("/run", "tmpfs", "tmpfs", run));
  json_object_array_add (a, mount_obj ("/run/sudobox/init", "bind", p->init, init));
  for (size_t i = 0; etc_files[i]; i++)
    {
      _cleanup_free_ char *src = sb_xasprintf ("%s/etc/%s", p->dir, etc_files[i]);
      _cleanup_free_ char *dst = sb_xasprintf ("/etc/%s", etc_files[i]);
      json_object_array_add (a, mount_obj (dst, "bind", src, rw));
    }
  json_object_array_add (a, mount_obj ("/projects", "bind", p->projects, rw));
  for (size_t i = 0; i < c->n_volumes; i++)
    json_object_array_add (
        a, mount_obj (c->volumes[i].dest, "bind", c->volumes[i].source, c->volumes[i].ro ? ro : rw));
  return a;
}

static json_object *
build_process (const sb_wsconfig *c, const sb_ws_process *fg)
{
  json_object *proc = json_object_new_object ();
  json_object *user = json_object_new_object ();
  json_object *caps = json_object_new_object ();
  json_object *args = json_object_new_array ();
  json_object *env = strings ((const char *const *)(fg ? fg->env : c->env));

  json_object_object_add (proc, "terminal", json_object_new_boolean (fg && fg->terminal));
  json_object_object_add (user, "uid", json_object_new_int (fg ? (int)fg->uid : 0));
  json_object_object_add (user, "gid", json_object_new_int (fg ? (int)fg->gid : 0));
  json_object_object_add (proc, "user", user);
  json_object_array_add (args, json_object_new_string ("/run/sudobox/init"));
  for (char *const *a = fg ? fg->args : NULL; a && *a; a++)
    json_object_array_add (args, json_object_new_string (*a));
  json_object_object_add (proc, "args", args);
  json_object_array_add (
      env, json_object_new_string ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
  json_object_array_add (env, json_object_new_string ("container=sudobox"));
  json_object_object_add (proc, "env", env);
  add_str (proc, "cwd", fg ? fg->cwd : "/");
  json_object_object_add (caps, "bounding", strings (default_caps));
  json_object_object_add (caps, "effective", strings (default_caps));
  json_object_object_add (caps, "permitted", strings (default_caps));
  json_object_object_add (proc, "capabilities", caps);
  json_object_object_add (proc, "noNewPrivileges", json_object_new_boolean (0));
  return proc;
}

static json_object *
build_resources (const sb_wsconfig *c)
{
  json_object *r = json_object_new_object ();
  if (c->memory > 0)
    {
      json_object *m = json_object_new_object ();
      json_object_object_add (m, "limit", json_object_new_int64 (c->memory));
      json_object_object_add (r, "memory", m);
    }
  if (c->cpus > 0)
    {
      json_object *cpu = json_object_new_object ();
      json_object_object_add (cpu, "quota", json_object_new_int64 ((int64_t)llround (c->cpus * CPU_PERIOD)));
      json_object_object_add (cpu, "period", json_object_new_int64 (CPU_PERIOD));
      json_object_object_add (r, "cpu", cpu);
    }
  if (c->pids > 0)
    {
      json_object *pids = json_object_new_object ();
      json_object_object_add (pids, "limit", json_object_new_int64 (c->pids));
      json_object_object_add (r, "pids", pids);
    }
  return r;
}

/* The default seccomp profile of userns and system workspaces: everything
   allowed but what a development machine does without and what has been
   the way into the kernel from an unprivileged uid (podman's and Docker's
   defaults refuse these too).  io_uring: most of the local privilege
   escalations of recent years, and programs fall back to plain I/O on
   EPERM (libuv, liburing users); userfaultfd: the stall primitive of
   kernel race exploits; bpf, kexec, modules, swap, acct, iopl/ioperm,
   open_by_handle_at: refused by capability checks already, refused here
   before the kernel parses anything.  ptrace, perf_event_open and nested
   namespaces stay (debuggers, profilers, nested containers).  */
static const char *const denied_syscalls[] = { "io_uring_setup",
                                               "io_uring_enter",
                                               "io_uring_register",
                                               "userfaultfd",
                                               "bpf",
                                               "kexec_load",
                                               "kexec_file_load",
                                               "init_module",
                                               "finit_module",
                                               "delete_module",
                                               "create_module",
                                               "swapon",
                                               "swapoff",
                                               "acct",
                                               "iopl",
                                               "ioperm",
                                               "open_by_handle_at",
                                               "lookup_dcookie",
                                               "nfsservctl",
                                               "uselib",
                                               "vm86",
                                               "vm86old",
                                               NULL };

static json_object *
build_seccomp (void)
{
#if defined(__x86_64__)
  static const char *const archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL };
#elif defined(__aarch64__)
  static const char *const archs[] = { "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", NULL };
#else
  static const char *const archs[] = { NULL };
#endif
  json_object *s = json_object_new_object ();
  json_object *rules = json_object_new_array ();
  json_object *rule = json_object_new_object ();

  add_str (s, "defaultAction", "SCMP_ACT_ALLOW");
  /* Every ABI the CPU runs: a 32-bit call must not slip past the list.  */
  if (archs[0])
    json_object_object_add (s, "architectures", strings (archs));
  json_object_object_add (rule, "names", strings (denied_syscalls));
  add_str (rule, "action", "SCMP_ACT_ERRNO");
  json_object_object_add (rule, "errnoRet", json_object_new_int (EPERM));
  json_object_array_add (rules, rule);
  json_object_object_add (s, "syscalls", rules);
  return s;
}

static json_object *
build_linux (const sb_wsconfig *c, const sb_ws_paths *p)
{
  static const char *const kinds[] = { "pid", "ipc", "uts", "mount", "cgroup", "user", "network", NULL };
  json_object *l = json_object_new_object ();
  json_object *ns = json_object_new_array ();
  json_object *map = json_object_new_object ();

  for (size_t i = 0; kinds[i]; i++)
    {
      json_object *n = json_object_new_object ();
      add_str (n, "type", kinds[i]);
      json_object_array_add (ns, n);
    }
  json_object_object_add (l, "namespaces", ns);
  json_object_object_add (map, "containerID", json_object_new_int (0));
  json_object_object_add (map, "hostID", json_object_new_int64 (p->id_first));
  json_object_object_add (map, "size", json_object_new_int (65536));
  json_object_object_add (l, "uidMappings", json_object_new_array ());
  json_object_array_add (json_object_object_get (l, "uidMappings"), map);
  json_object_object_add (l, "gidMappings", json_object_new_array ());
  json_object_array_add (json_object_object_get (l, "gidMappings"), json_object_get (map));
  add_str (l, "cgroupsPath", p->cgroup_path);
  json_object_object_add (l, "resources", build_resources (c));
  json_object_object_add (l, "maskedPaths", strings (sb_default_masked_paths));
  json_object_object_add (l, "readonlyPaths", strings (sb_default_readonly_paths));
  if (!c->seccomp_unconfined)
    json_object_object_add (l, "seccomp", build_seccomp ());
  return l;
}

int
sb_ws_spec_json (const sb_wsconfig *c, const sb_ws_paths *p, char **json, sb_err **err)
{
  json_object *spec = json_object_new_object ();
  json_object *root = json_object_new_object ();
  json_object *ann = json_object_new_object ();
  _cleanup_free_ char *upper = sb_xasprintf ("%s/upper", p->dir);
  _cleanup_free_ char *work = sb_xasprintf ("%s/work", p->dir);

  add_str (spec, "ociVersion", "1.1.0");
  add_str (root, "path", "rootfs");
  json_object_object_add (root, "readonly", json_object_new_boolean (0));
  json_object_object_add (spec, "root", root);
  add_str (spec, "hostname", c->hostname);
  json_object_object_add (spec, "process", build_process (c, p->process));
  json_object_object_add (spec, "mounts", build_mounts (c, p));
  add_str (ann, "run.sudobox.idmap", "true");
  add_str (ann, "run.sudobox.overlay.lower", p->image_rootfs);
  add_str (ann, "run.sudobox.overlay.upper", upper);
  add_str (ann, "run.sudobox.overlay.work", work);
  add_str (ann, "run.sudobox.workspace", p->name);
  json_object_object_add (spec, "annotations", ann);
  json_object_object_add (spec, "linux", build_linux (c, p));
  if (strcmp (c->isolation, "system") == 0 && sb_ws_spec_system (spec, c, p, err) < 0)
    {
      json_object_put (spec);
      return -1;
    }
  *json = sb_xstrdup (
      json_object_to_json_string_ext (spec, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put (spec);
  return 0;
}

int
sb_parse_memory (const char *s, int64_t *out, sb_err **err)
{
  static const char units[] = "kmgt";
  _cleanup_free_ char *num = sb_xstrdup (s);
  size_t n = strlen (num);
  int64_t v, mult = 1;
  const char *u;

  if (n > 1 && (num[n - 1] == 'b' || num[n - 1] == 'B'))
    num[--n] = '\0';
  if (n > 1 && (u = strchr (units, num[n - 1] | 0x20)) != NULL)
    {
      mult = (int64_t)1 << (10 * (u - units + 1));
      num[--n] = '\0';
    }
  if (sb_parse_i64 (num, &v) < 0 || v <= 0 || v > INT64_MAX / mult)
    return sb_error (err, 0, "--memory \"%s\": expected a size like 512M, 2G or a number of bytes", s);
  if (v * mult < MIN_MEMORY)
    return sb_error (err, 0, "--memory \"%s\": at least 6M", s);
  *out = v * mult;
  return 0;
}

int
sb_parse_cpus (const char *s, double *out, sb_err **err)
{
  char *end = NULL;
  double v = strtod (s, &end);
  if (end == s || *end != '\0' || !(v >= 0.01) || v > 4096)
    return sb_error (err, 0, "--cpus \"%s\": expected a number of CPUs like 1 or 0.5 (0.01..4096)", s);
  *out = v;
  return 0;
}

int
sb_parse_count (const char *what, const char *s, int64_t *out, sb_err **err)
{
  int64_t v;
  if (sb_parse_i64 (s, &v) < 0 || v <= 0 || v > (int64_t)1 << 32)
    return sb_error (err, 0, "%s \"%s\": expected a positive whole number", what, s);
  *out = v;
  return 0;
}
