#include "ws-system.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>

#include "container.h"
#include "state.h"
#include "util.h"

/* Directories of DIR (ROOT/workspaces/NAME) bound over the engines'
   storage inside.  */
static const char *const storage[][2] = {
  { "containers", "/var/lib/containers" },
  { "docker", "/var/lib/docker" },
};

static void
add_mount (json_object *mounts, const char *dest, const char *type, const char *source,
           const char *const *options)
{
  json_object *m = json_object_new_object ();
  json_object *o = json_object_new_array ();

  json_object_object_add (m, "destination", json_object_new_string (dest));
  json_object_object_add (m, "type", json_object_new_string (type));
  json_object_object_add (m, "source", json_object_new_string (source));
  for (size_t i = 0; options[i]; i++)
    json_object_array_add (o, json_object_new_string (options[i]));
  json_object_object_add (m, "options", o);
  json_object_array_add (mounts, m);
}

static int
add_mounts (json_object *spec, const sb_ws_paths *p, sb_err **err)
{
  static const char *const tmp[] = { "nosuid", "nodev", "mode=1777", NULL };
  static const char *const lock[] = { "nosuid", "nodev", "noexec", "mode=755", "size=5m", NULL };
  static const char *const bind[] = { "rbind", "rw", "nodev", NULL };
  json_object *mounts = json_object_object_get (spec, "mounts");

  add_mount (mounts, "/tmp", "tmpfs", "tmpfs", tmp);
  add_mount (mounts, "/run/lock", "tmpfs", "tmpfs", lock);
  for (size_t i = 0; i < sizeof (storage) / sizeof (storage[0]); i++)
    {
      _cleanup_free_ char *src = sb_xasprintf ("%s/%s", p->dir, storage[i][0]);
      /* Below DIR (0700): what root writes there is stored as host root.  */
      if (mkdir (src, 0700) < 0 && errno != EEXIST)
        return sb_error (err, errno, "mkdir `%s`", src);
      add_mount (mounts, storage[i][1], "bind", src, bind);
    }
  return 0;
}

/* Every capability the kernel knows: they hold in the workspace's user
   namespace only.  */
static json_object *
all_caps (void)
{
  json_object *a = json_object_new_array ();
  for (cap_value_t c = 0; c <= CAP_LAST_CAP && cap_valid (c); c++)
    {
      char *name = cap_to_name (c);
      _cleanup_free_ char *upper = sb_xasprintf ("%s", name);
      cap_free (name);
      for (char *s = upper; *s; s++)
        *s = (char)(*s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s);
      json_object_array_add (a, json_object_new_string (upper));
    }
  return a;
}

/* systemd-sysv's /sbin/init (a symlink: not followed, it points into the
   image, not the host).  */
static bool
image_has_init (const char *image_rootfs)
{
  _cleanup_free_ char *path = sb_xasprintf ("%s/sbin/init", image_rootfs);
  struct stat st;
  return lstat (path, &st) == 0;
}

static void
boot_systemd (json_object *spec, json_object *ann)
{
  json_object *proc = json_object_object_get (spec, "process");
  json_object *args = json_object_new_array ();

  json_object_array_add (args, json_object_new_string ("/sbin/init"));
  json_object_object_add (proc, "args", args);
  json_object_object_add (ann, SB_WS_ANNOT_STOP_SIGNAL, json_object_new_string ("SIGRTMIN+3"));
}

/* --cpus N: also a cpuset of the first N CPUs (rounded up) the manager may
   run on, so that nproc and sched_getaffinity agree with /proc/cpuinfo and
   /proc/stat, which the workspace's /proc server derives from the cpuset
   and the quota.  */
static void
add_cpuset (json_object *spec, double cpus)
{
  json_object *cpu = json_object_object_get (
      json_object_object_get (json_object_object_get (spec, "linux"), "resources"), "cpu");
  _cleanup_free_ char *list = sb_xstrdup ("");
  int want = (int)cpus, n = 0;
  cpu_set_t set;

  if (cpu == NULL || sched_getaffinity (0, sizeof (set), &set) < 0)
    return;
  if (want < cpus)
    want++;
  for (int i = 0; i < CPU_SETSIZE && n < want; i++)
    if (CPU_ISSET (i, &set))
      {
        char *next = sb_xasprintf ("%s%s%d", list, n++ ? "," : "", i);
        free (list);
        list = next;
      }
  json_object_object_add (cpu, "cpus", json_object_new_string (list));
}

int
sb_ws_spec_system (json_object *spec, const sb_wsconfig *c, const sb_ws_paths *p, sb_err **err)
{
  json_object *ann = json_object_object_get (spec, "annotations");
  json_object *caps = json_object_object_get (json_object_object_get (spec, "process"), "capabilities");
  static const char *const sets[] = { "bounding", "effective", "permitted" };

  if (c->cpus > 0)
    add_cpuset (spec, c->cpus);
  json_object_object_add (ann, SB_ANNOT_ISOLATION, json_object_new_string ("system"));
  for (size_t i = 0; i < sizeof (sets) / sizeof (sets[0]); i++)
    json_object_object_add (caps, sets[i], all_caps ());
  if (p->process == NULL && image_has_init (p->image_rootfs))
    boot_systemd (spec, ann);
  return add_mounts (spec, p, err);
}

int
sb_ws_stop_signal (const char *run_root, const char *name)
{
  _cleanup_state_ sb_state *st = NULL;
  sb_status status;

  if (sb_container_load (run_root, name, &st, &status, NULL) < 0)
    return SIGTERM;
  for (size_t i = 0; st->annotations_kv && st->annotations_kv[i]; i += 2)
    if (strcmp (st->annotations_kv[i], SB_WS_ANNOT_STOP_SIGNAL) == 0
        && strcmp (st->annotations_kv[i + 1], "SIGRTMIN+3") == 0)
      return SIGRTMIN + 3;
  return SIGTERM;
}
