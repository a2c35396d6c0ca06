/* The config.json that `spec` writes: runc's default, with a terminal and
   sh, or its rootless variant.  */
#include "spec.h"

#include <json-c/json.h>
#include <unistd.h>

#include "spec-json.h"
#include "util.h"

static json_object *
jstrv (const char *const *v)
{
  json_object *a = json_object_new_array ();
  for (; *v != NULL; v++)
    json_object_array_add (a, json_object_new_string (*v));
  return a;
}

static void
add_mount (json_object *mounts, const char *dest, const char *type, const char *source,
           const char *const *opts)
{
  json_object *m = json_object_new_object ();
  json_object_object_add (m, "destination", json_object_new_string (dest));
  json_object_object_add (m, "type", json_object_new_string (type));
  json_object_object_add (m, "source", json_object_new_string (source));
  if (*opts != NULL)
    json_object_object_add (m, "options", jstrv (opts));
  json_object_array_add (mounts, m);
}

static json_object *
default_process (void)
{
  static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };
  static const char *const env[]
      = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL };
  static const char *const args[] = { "sh", NULL };
  json_object *p = json_object_new_object ();
  json_object *user = json_object_new_object ();
  json_object *c = json_object_new_object ();
  json_object *rlimit = json_object_new_object ();
  json_object *rlimits = json_object_new_array ();

  json_object_object_add (p, "terminal", json_object_new_boolean (true));
  json_object_object_add (user, "uid", json_object_new_int (0));
  json_object_object_add (user, "gid", json_object_new_int (0));
  json_object_object_add (p, "user", user);
  json_object_object_add (p, "args", jstrv (args));
  json_object_object_add (p, "env", jstrv (env));
  json_object_object_add (p, "cwd", json_object_new_string ("/"));
  json_object_object_add (c, "bounding", jstrv (caps));
  json_object_object_add (c, "effective", jstrv (caps));
  json_object_object_add (c, "permitted", jstrv (caps));
  json_object_object_add (p, "capabilities", c);
  json_object_object_add (rlimit, "type", json_object_new_string ("RLIMIT_NOFILE"));
  json_object_object_add (rlimit, "hard", json_object_new_int (1024));
  json_object_object_add (rlimit, "soft", json_object_new_int (1024));
  json_object_array_add (rlimits, rlimit);
  json_object_object_add (p, "rlimits", rlimits);
  json_object_object_add (p, "noNewPrivileges", json_object_new_boolean (true));
  return p;
}

static json_object *
default_mounts (bool rootless)
{
  static const char *const none[] = { NULL };
  static const char *const dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
  static const char *const pts[]
      = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL };
  /* `runc spec --rootless` drops gid=: the tty group is unmapped.  */
  static const char *const pts_rootless[]
      = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", NULL };
  static const char *const shm[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
  static const char *const mqueue[] = { "nosuid", "noexec", "nodev", NULL };
  static const char *const sys[] = { "nosuid", "noexec", "nodev", "ro", NULL };
  /* A user namespace cannot mount sysfs without its own network namespace.  */
  static const char *const sys_rootless[] = { "rbind", "nosuid", "noexec", "nodev", "ro", NULL };
  static const char *const cgroup[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };
  json_object *m = json_object_new_array ();

  add_mount (m, "/proc", "proc", "proc", none);
  add_mount (m, "/dev", "tmpfs", "tmpfs", dev);
  add_mount (m, "/dev/pts", "devpts", "devpts", rootless ? pts_rootless : pts);
  add_mount (m, "/dev/shm", "tmpfs", "shm", shm);
  add_mount (m, "/dev/mqueue", "mqueue", "mqueue", mqueue);
  if (rootless)
    add_mount (m, "/sys", "none", "/sys", sys_rootless);
  else
    add_mount (m, "/sys", "sysfs", "sysfs", sys);
  add_mount (m, "/sys/fs/cgroup", "cgroup", "cgroup", cgroup);
  return m;
}

static json_object *
id_mapping (uint32_t host)
{
  json_object *a = json_object_new_array ();
  json_object *m = json_object_new_object ();
  json_object_object_add (m, "containerID", json_object_new_int (0));
  json_object_object_add (m, "hostID", json_object_new_int64 (host));
  json_object_object_add (m, "size", json_object_new_int (1));
  json_object_array_add (a, m);
  return a;
}

const char *const sb_default_masked_paths[] = { "/proc/acpi",
                                                "/proc/asound",
                                                "/proc/kcore",
                                                "/proc/keys",
                                                "/proc/latency_stats",
                                                "/proc/timer_list",
                                                "/proc/timer_stats",
                                                "/proc/sched_debug",
                                                "/sys/firmware",
                                                "/proc/scsi",
                                                "/sys/devices/virtual/powercap",
                                                NULL };
const char *const sb_default_readonly_paths[]
    = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL };

static json_object *
default_linux (bool rootless)
{
  static const char *const ns[] = { "pid", "network", "ipc", "uts", "mount", "cgroup", NULL };
  /* runc's rootless list: the same minus network, plus user.  */
  static const char *const ns_rootless[] = { "pid", "ipc", "uts", "mount", "cgroup", "user", NULL };
  json_object *l = json_object_new_object ();
  json_object *namespaces = json_object_new_array ();

  if (rootless)
    {
      json_object_object_add (l, "uidMappings", id_mapping (geteuid ()));
      json_object_object_add (l, "gidMappings", id_mapping (getegid ()));
    }
  else
    {
      json_object *res = json_object_new_object ();
      json_object *devices = json_object_new_array ();
      json_object *deny = json_object_new_object ();
      json_object_object_add (deny, "allow", json_object_new_boolean (false));
      json_object_object_add (deny, "access", json_object_new_string ("rwm"));
      json_object_array_add (devices, deny);
      json_object_object_add (res, "devices", devices);
      json_object_object_add (l, "resources", res);
    }
  for (const char *const *n = rootless ? ns_rootless : ns; *n != NULL; n++)
    {
      json_object *o = json_object_new_object ();
      json_object_object_add (o, "type", json_object_new_string (*n));
      json_object_array_add (namespaces, o);
    }
  json_object_object_add (l, "namespaces", namespaces);
  json_object_object_add (l, "maskedPaths", jstrv (sb_default_masked_paths));
  json_object_object_add (l, "readonlyPaths", jstrv (sb_default_readonly_paths));
  return l;
}

char *
sb_spec_default_json (bool rootless)
{
  _cleanup_json_ json_object *spec = json_object_new_object ();
  json_object *root = json_object_new_object ();

  json_object_object_add (spec, "ociVersion", json_object_new_string ("1.1.0"));
  json_object_object_add (spec, "process", default_process ());
  json_object_object_add (root, "path", json_object_new_string ("rootfs"));
  json_object_object_add (root, "readonly", json_object_new_boolean (true));
  json_object_object_add (spec, "root", root);
  json_object_object_add (spec, "hostname", json_object_new_string ("sudobox"));
  json_object_object_add (spec, "mounts", default_mounts (rootless));
  json_object_object_add (spec, "linux", default_linux (rootless));
  return sb_xasprintf ("%s\n", json_object_to_json_string_ext (
                                   spec, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_PRETTY_TAB
                                             | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
}
