#include "runtime-features.h"

#include <json-c/json.h>
#include <string.h>

#include "caps.h"
#include "container.h"
#include "seccomp-filter.h"
#include "spec.h"
#include "util.h"

static json_object *
string_array (const char *const *names)
{
  json_object *a = json_object_new_array ();
  for (size_t i = 0; names[i]; i++)
    json_object_array_add (a, json_object_new_string (names[i]));
  return a;
}

static json_object *
linux_features (void)
{
  static const char *const namespaces[]
      = { "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts", NULL };
  json_object *l = json_object_new_object ();
  json_object *cg = json_object_new_object ();
  json_object *sc = json_object_new_object ();
  json_object *ext = json_object_new_object ();
  json_object *idmap = json_object_new_object ();
  _cleanup_strv_ char **caps = sb_caps_known_names ();

  json_object_object_add (l, "namespaces", string_array (namespaces));
  json_object_object_add (l, "capabilities", string_array ((const char *const *)caps));
  json_object_object_add (cg, "v1", json_object_new_boolean (1));
  json_object_object_add (cg, "v2", json_object_new_boolean (1));
  json_object_object_add (cg, "systemd", json_object_new_boolean (0));
  json_object_object_add (cg, "systemdUser", json_object_new_boolean (0));
  json_object_object_add (cg, "rdma", json_object_new_boolean (0));
  json_object_object_add (l, "cgroup", cg);
  json_object_object_add (sc, "enabled", json_object_new_boolean (1));
  json_object_object_add (sc, "actions", string_array (sb_seccomp_known_actions ()));
  json_object_object_add (sc, "operators", string_array (sb_seccomp_known_operators ()));
  json_object_object_add (sc, "archs", string_array (sb_seccomp_known_archs ()));
  json_object_object_add (sc, "knownFlags", string_array (sb_seccomp_known_flags ()));
  json_object_object_add (sc, "supportedFlags", string_array (sb_seccomp_known_flags ()));
  json_object_object_add (l, "seccomp", sc);
  json_object_object_add (idmap, "enabled", json_object_new_boolean (1));
  json_object_object_add (ext, "idmap", idmap);
  json_object_object_add (l, "mountExtensions", ext);
  return l;
}

char *
cli_features_json (void)
{
  static const char *const hooks[]
      = { "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop", NULL };
  static const char *const mount_options[] = { "async",
                                               "atime",
                                               "bind",
                                               "defaults",
                                               "dev",
                                               "diratime",
                                               "dirsync",
                                               "exec",
                                               "idmap",
                                               "mand",
                                               "noatime",
                                               "nodev",
                                               "nodiratime",
                                               "noexec",
                                               "nomand",
                                               "norelatime",
                                               "nostrictatime",
                                               "nosuid",
                                               "private",
                                               "rbind",
                                               "relatime",
                                               "remount",
                                               "ridmap",
                                               "ro",
                                               "rprivate",
                                               "rshared",
                                               "rslave",
                                               "runbindable",
                                               "rw",
                                               "shared",
                                               "slave",
                                               "strictatime",
                                               "suid",
                                               "sync",
                                               "tmpcopyup",
                                               "unbindable",
                                               NULL };
  json_object *f = json_object_new_object ();
  json_object *annotations = json_object_new_object ();
  char *out;

  json_object_object_add (f, "ociVersionMin", json_object_new_string ("1.0.0"));
  json_object_object_add (f, "ociVersionMax", json_object_new_string ("1.1.0"));
  json_object_object_add (f, "hooks", string_array (hooks));
  json_object_object_add (f, "mountOptions", string_array (mount_options));
  json_object_object_add (f, "linux", linux_features ());
  json_object_object_add (annotations, "org.opencontainers.runtime-spec.features",
                          json_object_new_string ("1.1.0"));
  json_object_object_add (annotations, "run.sudobox.version", json_object_new_string (SUDOBOX_VERSION));
  json_object_object_add (annotations, SB_ANNOT_USERNS,
                          json_object_new_string ("host: run without the automatic user namespace"));
  json_object_object_add (
      annotations, SB_ANNOT_SHARED_ROOTFS,
      json_object_new_string ("true: allow a rootfs reachable by unprivileged host users"));
  json_object_object_add (f, "annotations", annotations);
  out = sb_xstrdup (
      json_object_to_json_string_ext (f, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put (f);
  return out;
}
