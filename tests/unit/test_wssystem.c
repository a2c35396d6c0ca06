/* The manager's additions to a system workspace's spec (ws-system.c),
   through sb_ws_spec_json: the annotation, every capability, systemd as PID
   1 only when the image has /sbin/init (and then its stop signal), the
   tmpfs mounts systemd expects, the nested engines' storage bound from
   the workspace's directory, and a cpuset of the first N CPUs for --cpus N.  */
#include "ws-system.h"

#include <json-c/json.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "tap.h"
#include "util.h"

static char tmp[] = "/tmp/sudobox-test-wssystem.XXXXXX";

static json_object *
spec_cpus (const char *isolation, const char *image, const sb_ws_process *fg, double cpus)
{
  sb_wsconfig c = { .cpus = cpus,
                    .user = (char *)"dev",
                    .uid = 1000,
                    .gid = 1000,
                    .home = (char *)"/home/dev",
                    .hostname = (char *)"h",
                    .isolation = (char *)isolation };
  sb_ws_paths p = { .name = "w",
                    .image_rootfs = image,
                    .dir = tap_path (tmp, "ws"),
                    .projects = "/p",
                    .init = "/usr/libexec/sudobox-init",
                    .id_first = 2000000000,
                    .cgroup_path = "/sudobox/w",
                    .process = fg };
  _cleanup_free_ char *json = NULL;
  sb_err *err = NULL;

  if (sb_ws_spec_json (&c, &p, &json, &err) < 0)
    {
      tap_ok (false, "sb_ws_spec_json: %s", err->msg);
      sb_err_free (&err);
      return NULL;
    }
  return json_tokener_parse (json);
}

static json_object *
spec_for (const char *isolation, const char *image, const sb_ws_process *fg)
{
  return spec_cpus (isolation, image, fg, 0);
}

static const char *
path_str (json_object *o, const char *a, const char *b)
{
  json_object *v = json_object_object_get (o, a);
  if (b)
    v = json_object_object_get (v, b);
  return v ? json_object_get_string (v) : NULL;
}

static json_object *
mount_at (json_object *spec, const char *dest)
{
  json_object *mounts = json_object_object_get (spec, "mounts");
  for (size_t i = 0; i < json_object_array_length (mounts); i++)
    {
      json_object *m = json_object_array_get_idx (mounts, i);
      if (strcmp (path_str (m, "destination", NULL), dest) == 0)
        return m;
    }
  return NULL;
}

static bool
has_string (json_object *array, const char *s)
{
  for (size_t i = 0; i < json_object_array_length (array); i++)
    if (strcmp (json_object_get_string (json_object_array_get_idx (array, i)), s) == 0)
      return true;
  return false;
}

static void
test_systemd_image (const char *image)
{
  json_object *spec = spec_for ("system", image, NULL);
  json_object *proc = json_object_object_get (spec, "process");
  json_object *caps = json_object_object_get (proc, "capabilities");
  json_object *storage = mount_at (spec, "/var/lib/containers");
  struct stat st;

  tap_is_str (path_str (spec, "annotations", SB_ANNOT_ISOLATION), "system", "annotation selects system");
  tap_is_str (json_object_get_string (json_object_array_get_idx (json_object_object_get (proc, "args"), 0)),
              "/sbin/init", "an image with /sbin/init boots it");
  tap_is_str (path_str (spec, "annotations", SB_WS_ANNOT_STOP_SIGNAL), "SIGRTMIN+3", "systemd's stop signal");
  tap_ok (has_string (json_object_object_get (caps, "bounding"), "CAP_SYS_ADMIN")
              && has_string (json_object_object_get (caps, "effective"), "CAP_NET_ADMIN"),
          "every capability");
  tap_ok (mount_at (spec, "/tmp") && mount_at (spec, "/run/lock"), "tmpfs on /tmp and /run/lock");
  tap_is_str (storage ? path_str (storage, "source", NULL) : NULL, tap_path (tmp, "ws/containers"),
              "/var/lib/containers from the workspace's directory");
  tap_ok (mount_at (spec, "/var/lib/docker") != NULL, "/var/lib/docker too");
  tap_ok (stat (tap_path (tmp, "ws/containers"), &st) == 0 && (st.st_mode & 0777) == 0700,
          "the storage directory exists, mode 0700");
  json_object_put (spec);
}

static void
test_plain_image (const char *image)
{
  json_object *spec = spec_for ("system", image, NULL);
  json_object *args = json_object_object_get (json_object_object_get (spec, "process"), "args");

  tap_is_str (json_object_get_string (json_object_array_get_idx (args, 0)), "/run/sudobox/init",
              "no /sbin/init in the image: sudobox-init stays PID 1");
  tap_ok (path_str (spec, "annotations", SB_WS_ANNOT_STOP_SIGNAL) == NULL, "no stop signal then");
  json_object_put (spec);
}

static void
test_foreground_and_userns (const char *image)
{
  char *const args[] = { (char *)"true", NULL };
  sb_ws_process fg = { .args = args, .cwd = "/", .uid = 1000, .gid = 1000 };
  json_object *spec = spec_for ("system", image, &fg);
  json_object *a = json_object_object_get (json_object_object_get (spec, "process"), "args");

  tap_is_str (json_object_get_string (json_object_array_get_idx (a, 0)), "/run/sudobox/init",
              "a foreground run keeps its command under sudobox-init");
  json_object_put (spec);
  spec = spec_for ("userns", image, NULL);
  tap_ok (path_str (spec, "annotations", SB_ANNOT_ISOLATION) == NULL
              && mount_at (spec, "/var/lib/containers") == NULL,
          "userns workspaces get none of it");
  json_object_put (spec);
}

static const char *
cpuset_of (json_object *spec)
{
  json_object *r = json_object_object_get (json_object_object_get (spec, "linux"), "resources");
  json_object *v = json_object_object_get (json_object_object_get (r, "cpu"), "cpus");
  return v ? json_object_get_string (v) : NULL;
}

static void
test_cpuset (const char *image)
{
  char first[16] = "", two[32] = "";
  cpu_set_t set;
  int n = 0;
  json_object *spec;

  sched_getaffinity (0, sizeof (set), &set);
  for (int i = 0; i < CPU_SETSIZE && n < 2; i++)
    if (CPU_ISSET (i, &set))
      {
        size_t len = strlen (two);
        snprintf (two + len, sizeof (two) - len, "%s%d", n ? "," : "", i);
        if (n++ == 0)
          snprintf (first, sizeof (first), "%d", i);
      }
  spec = spec_cpus ("system", image, NULL, 1);
  tap_is_str (cpuset_of (spec), first, "--cpus 1: the first CPU the manager may use");
  json_object_put (spec);
  spec = spec_cpus ("system", image, NULL, 1.5);
  tap_is_str (cpuset_of (spec), two, "--cpus 1.5: two CPUs (or every one there is)");
  json_object_put (spec);
  spec = spec_cpus ("system", image, NULL, 0);
  tap_ok (cpuset_of (spec) == NULL, "no --cpus: no cpuset");
  json_object_put (spec);
  spec = spec_cpus ("userns", image, NULL, 1);
  tap_ok (cpuset_of (spec) == NULL, "userns workspaces: the quota only");
  json_object_put (spec);
}

int
main (void)
{
  const char *systemd, *plain;

  if (mkdtemp (tmp) == NULL)
    return 1;
  systemd = tap_path (tmp, "img-systemd");
  plain = tap_path (tmp, "img-plain");
  mkdir (tap_path (tmp, "ws"), 0700);
  mkdir (systemd, 0755);
  mkdir (plain, 0755);
  mkdir (tap_path (systemd, "sbin"), 0755);
  /* Absolute, as in Debian: it must not be followed on the host.  */
  tap_symlink ("/lib/systemd/systemd", tap_path (systemd, "sbin/init"));
  test_systemd_image (systemd);
  test_plain_image (plain);
  test_foreground_and_userns (systemd);
  test_cpuset (plain);
  unlink (tap_path (systemd, "sbin/init"));
  rmdir (tap_path (systemd, "sbin"));
  rmdir (systemd);
  rmdir (plain);
  rmdir (tap_path (tmp, "ws/containers"));
  rmdir (tap_path (tmp, "ws/docker"));
  rmdir (tap_path (tmp, "ws"));
  rmdir (tmp);
  return tap_done ();
}
