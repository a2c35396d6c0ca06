/* `sudobox check [--format table|json]`: the node readiness report.  Each
   isolation mode is ready when every probe it needs passed; the exit status
   is 0 only when the default mode (userns) is ready, so installers and
   health checks can use it directly.  */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "util.h"

#define CHECK_USAGE "[--format table|json]"

typedef struct mode_need
{
  const char *mode;
  const sb_check_id *needs; /* terminated by SB_CK_COUNT */
} mode_need;

static const sb_check_id userns_needs[] = { SB_CK_KERNEL, SB_CK_USERNS, SB_CK_IDMAP, SB_CK_OVERLAY_IDMAP,
                                            SB_CK_CGROUP, SB_CK_SUBUID, SB_CK_INIT,  SB_CK_COUNT };
/* Nested runtimes mount overlays as root of their namespace; the virtual
   /proc is served over FUSE and syscalls a nested runtime needs are
   answered through seccomp notification.  */
static const sb_check_id system_needs[]
    = { SB_CK_KERNEL, SB_CK_USERNS,         SB_CK_IDMAP, SB_CK_OVERLAY_IDMAP, SB_CK_OVERLAY_USERNS,
        SB_CK_CGROUP, SB_CK_SECCOMP_NOTIFY, SB_CK_FUSE,  SB_CK_SUBUID,        SB_CK_COUNT };
static const sb_check_id microvm_needs[] = { SB_CK_QEMU, SB_CK_CGROUP, SB_CK_SUBUID, SB_CK_COUNT };

static const mode_need modes[] = {
  { "userns", userns_needs },
  { "system", system_needs },
  { "microvm", microvm_needs },
};

static const char *
status_name (sb_check_status s)
{
  return s == SB_CHECK_OK ? "ok" : s == SB_CHECK_WARN ? "warn" : "fail";
}

static bool
mode_ready (const sb_check_report *r, const mode_need *m)
{
  for (const sb_check_id *id = m->needs; *id != SB_CK_COUNT; id++)
    if (r->items[*id].status == SB_CHECK_FAIL)
      return false;
  return true;
}

/* A ready microvm mode still says how it will run its guests.  */
static const char *
mode_note (const sb_check_report *r, const mode_need *m)
{
  if (strcmp (m->mode, "microvm") != 0)
    return NULL;
  return r->kvm_usable ? "KVM present; microvm uses software emulation unless a guest boots"
                       : "software emulation (no usable /dev/kvm)";
}

static json_object *
report_json (const sb_check_report *r)
{
  json_object *o = json_object_new_object (), *checks = json_object_new_object (),
              *jm = json_object_new_object ();

  json_object_object_add (o, "root", json_object_new_string (r->root));
  for (size_t i = 0; i < SB_CK_COUNT; i++)
    {
      json_object *c = json_object_new_object ();
      json_object_object_add (c, "status", json_object_new_string (status_name (r->items[i].status)));
      json_object_object_add (c, "detail",
                              json_object_new_string (r->items[i].detail ? r->items[i].detail : ""));
      json_object_object_add (checks, r->items[i].name, c);
    }
  for (size_t i = 0; i < sizeof (modes) / sizeof (modes[0]); i++)
    {
      json_object *mo = json_object_new_object (), *why = json_object_new_array ();
      for (const sb_check_id *id = modes[i].needs; *id != SB_CK_COUNT; id++)
        if (r->items[*id].status == SB_CHECK_FAIL)
          json_object_array_add (why, json_object_new_string (r->items[*id].name));
      json_object_object_add (mo, "ready", json_object_new_boolean (mode_ready (r, &modes[i])));
      json_object_object_add (mo, "failed", why);
      if (mode_note (r, &modes[i]))
        json_object_object_add (mo, "note", json_object_new_string (mode_note (r, &modes[i])));
      json_object_object_add (jm, modes[i].mode, mo);
    }
  json_object_object_add (o, "modes", jm);
  json_object_object_add (o, "kvm", json_object_new_boolean (r->kvm_usable));
  json_object_object_add (o, "checks", checks);
  return o;
}

static void
report_text (const sb_check_report *r)
{
  printf ("Node readiness (state root %s)\n\n", r->root);
  for (size_t i = 0; i < SB_CK_COUNT; i++)
    printf ("  %-24s %-5s %s\n", r->items[i].name, status_name (r->items[i].status),
            r->items[i].detail ? r->items[i].detail : "");
  printf ("\nIsolation modes:\n");
  for (size_t i = 0; i < sizeof (modes) / sizeof (modes[0]); i++)
    {
      const char *sep = ": ";
      printf ("  %-8s %s", modes[i].mode, mode_ready (r, &modes[i]) ? "ready" : "not ready");
      for (const sb_check_id *id = modes[i].needs; *id != SB_CK_COUNT; id++)
        if (r->items[*id].status == SB_CHECK_FAIL)
          {
            printf ("%s%s", sep, r->items[*id].name);
            sep = ", ";
          }
      if (mode_ready (r, &modes[i]) && mode_note (r, &modes[i]))
        printf (" (%s)", mode_note (r, &modes[i]));
      putchar ('\n');
    }
}

int
cmd_check (sb_mgr *m, int argc, char **argv, int *exit_code, sb_err **err)
{
  static const struct option opts[] = { { "format", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
  sb_check_report r;
  bool json = false;
  int opt;

  optind = 0; /* 0: GNU getopt re-initializes (a new argv, its own ordering) */
  while ((opt = getopt_long (argc, argv, "+", opts, NULL)) != -1)
    if (opt != 'f' || !cli_parse_format (optarg, &json, err))
      return opt == 'f' ? -1 : cli_usage_error ("check", CHECK_USAGE, err);
  if (optind != argc)
    return cli_usage_error ("check", CHECK_USAGE, err);
  sb_check_run (m, &r);
  if (json)
    {
      json_object *o = report_json (&r);
      cli_print_json (o);
      json_object_put (o);
    }
  else
    report_text (&r);
  *exit_code = mode_ready (&r, &modes[0]) ? 0 : 1;
  sb_check_report_clear (&r);
  return 0;
}
