/* sb_procfs_spec_add_sysinfo: the spec edit that sends sysinfo(2) to the
   procfs server, and the filter built from it by the seccomp module.  */
#include "procfs.h"
#include "seccomp-filter.h"
#include "spec.h"
#include "util.h"

#include <string.h>

#include "tap.h"

#define BASE "\"ociVersion\":\"1.1.0\",\"root\":{\"path\":\"rootfs\"}"

static sb_spec *
parse (const char *json)
{
  sb_spec *spec = NULL;
  _cleanup_err_ sb_err *err = NULL;

  if (sb_spec_parse (json, strlen (json), &spec, &err) < 0)
    {
      tap_ok (false, "parse: %s", err->msg);
      abort ();
    }
  return spec;
}

/* The edited spec must still make a filter libseccomp accepts.  */
static void
compiles (const sb_seccomp *s, const char *what)
{
  _cleanup_err_ sb_err *err = NULL;
  sb_seccomp_filter *f = NULL;

  tap_ok (sb_seccomp_compile (s, &f, &err) == 0 && sb_seccomp_uses_notify (f), "%s: the filter compiles (%s)",
          what, err ? err->msg : "ok");
  sb_seccomp_free (f);
}

static bool
has_name (const sb_seccomp_rule *r, const char *name)
{
  for (size_t i = 0; r->names && r->names[i]; i++)
    if (strcmp (r->names[i], name) == 0)
      return true;
  return false;
}

int
main (void)
{
  _cleanup_err_ sb_err *err = NULL;
  sb_spec *spec = parse ("{" BASE "}");
  sb_seccomp *s;

  tap_is_int (sb_procfs_spec_add_sysinfo (spec, "/run/x/procfs-notify.sock", &err), 0, "no seccomp: added");
  s = spec->linux.seccomp;
  tap_is_str (s->default_action, "SCMP_ACT_ALLOW", "a spec without seccomp allows the rest");
  tap_is_int ((long long)s->n_syscalls, 1, "one rule");
  tap_is_str (s->syscalls[0].action, "SCMP_ACT_NOTIFY", "sysinfo notifies");
  tap_ok (has_name (&s->syscalls[0], "sysinfo"), "the rule names sysinfo");
  tap_is_str (s->listener_path, "/run/x/procfs-notify.sock", "listenerPath set");
  compiles (s, "allow-all");
  sb_spec_free (spec);

  spec = parse ("{" BASE ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
                "{\"names\":[\"read\",\"sysinfo\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                "{\"names\":[\"sysinfo\"],\"action\":\"SCMP_ACT_LOG\"}]}}}");
  tap_is_int (sb_procfs_spec_add_sysinfo (spec, "/l.sock", &err), 0, "docker-like profile: added");
  s = spec->linux.seccomp;
  tap_is_int ((long long)s->n_syscalls, 2, "the rule left without names is dropped, ours appended");
  tap_ok (has_name (&s->syscalls[0], "read") && !has_name (&s->syscalls[0], "sysinfo"),
          "sysinfo taken out of the allow rule, read kept");
  tap_is_str (s->syscalls[1].action, "SCMP_ACT_NOTIFY", "the last rule notifies");
  tap_is_str (s->default_action, "SCMP_ACT_ERRNO", "the profile's default stays");
  compiles (s, "docker-like");
  sb_spec_free (spec);

  spec = parse ("{" BASE
                ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/a\"}}}");
  tap_is_int (sb_procfs_spec_add_sysinfo (spec, "/l.sock", &err), -1,
              "a spec with its own listener is refused");
  tap_ok (err && strstr (err->msg, "listenerPath") != NULL, "the error names listenerPath: %s",
          err ? err->msg : "");
  sb_spec_free (spec);
  return tap_done ();
}
