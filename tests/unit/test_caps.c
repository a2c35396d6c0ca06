/* Capability sets are applied for real in forked children and read back from
   /proc/self/status.  */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "caps.h"
#include "tap.h"
#include "util.h"

#define BIT(n) (UINT64_C (1) << (n))
#define CAP_KILL_BIT BIT (5)
#define CAP_SETGID_BIT BIT (6)
#define CAP_SETUID_BIT BIT (7)

static void
test_names (void)
{
  int cap = -1;

  tap_ok (sb_cap_from_name ("CAP_CHOWN", &cap) == 0 && cap == 0, "CAP_CHOWN is 0");
  tap_ok (sb_cap_from_name ("CAP_SYS_ADMIN", &cap) == 0 && cap == 21, "CAP_SYS_ADMIN is 21");
  tap_ok (sb_cap_from_name ("CAP_CHECKPOINT_RESTORE", &cap) == 0 && cap == 40,
          "CAP_CHECKPOINT_RESTORE is 40");
  tap_ok (sb_cap_from_name ("CAP_FOO", &cap) < 0, "CAP_FOO is unknown");
  tap_ok (sb_cap_from_name ("cap_chown", &cap) < 0, "lowercase name refused");
  tap_ok (sb_cap_from_name ("CHOWN", &cap) < 0, "name without CAP_ refused");
  tap_ok (sb_cap_from_name ("12", &cap) < 0, "number refused");
  tap_ok (sb_cap_from_name ("CAP_CHOWN,CAP_KILL", &cap) < 0, "trailing text refused");
  tap_ok (sb_cap_from_name ("CAP_", &cap) < 0, "bare prefix refused");
}

static void
test_from_spec (void)
{
  char *bounding[] = { "CAP_KILL", "CAP_SETUID", "CAP_SETGID", NULL };
  char *kill_only[] = { "CAP_KILL", NULL };
  char *bad[] = { "CAP_CHOWN", "CAP_FOO", NULL };
  sb_caps caps = { .bounding = bounding, .effective = kill_only, .ambient = kill_only };
  _cleanup_err_ sb_err *err = NULL;
  sb_capsets sets;

  tap_is_int (sb_caps_from_spec (&caps, &sets, &err), 0, "spec sets convert");
  tap_ok (sets.bounding == (CAP_KILL_BIT | CAP_SETGID_BIT | CAP_SETUID_BIT), "bounding mask");
  tap_ok (sets.effective == CAP_KILL_BIT && sets.ambient == CAP_KILL_BIT, "effective and ambient masks");
  tap_ok (sets.permitted == 0 && sets.inheritable == 0, "absent sets are empty");

  caps.permitted = bad;
  tap_ok (sb_caps_from_spec (&caps, &sets, &err) < 0, "unknown name fails");
  tap_is_str (err ? err->msg : NULL, "process.capabilities.permitted: unknown capability \"CAP_FOO\"",
              "error names the set and the capability");
}

static void
test_known_names (void)
{
  _cleanup_strv_ char **names = sb_caps_known_names ();
  bool chown = false, restore = false, upper = true;

  for (size_t i = 0; names && names[i]; i++)
    {
      chown |= strcmp (names[i], "CAP_CHOWN") == 0;
      restore |= strcmp (names[i], "CAP_CHECKPOINT_RESTORE") == 0;
      for (const char *p = names[i]; *p; p++)
        upper &= (*p >= 'A' && *p <= 'Z') || *p == '_';
    }
  tap_ok (chown && restore, "known names include CAP_CHOWN and CAP_CHECKPOINT_RESTORE");
  tap_ok (upper, "known names are uppercase");
}

static int
status_mask (const char *field, uint64_t *mask)
{
  _cleanup_fclose_ FILE *f = fopen ("/proc/self/status", "re");
  char line[256];
  size_t len = strlen (field);

  while (f != NULL && fgets (line, sizeof (line), f) != NULL)
    if (strncmp (line, field, len) == 0 && line[len] == ':')
      return sscanf (line + len + 1, "%" SCNx64, mask) == 1 ? 0 : -1;
  return -1;
}

/* Exit code: 0, or the first mismatching field (1 load, 2.. fields).  */
static int
apply_and_check (const sb_capsets *sets, const uint64_t expect[4])
{
  static const char *const fields[] = { "CapBnd", "CapEff", "CapPrm", "CapAmb" };

  if (sb_caps_apply (sets, NULL) < 0)
    return 1;
  for (int i = 0; i < 4; i++)
    {
      uint64_t got;
      if (status_mask (fields[i], &got) < 0 || got != expect[i])
        return 2 + i;
    }
  return 0;
}

static int
run_child (const sb_capsets *sets, const uint64_t expect[4])
{
  int status;
  pid_t pid = fork ();

  if (pid == 0)
    _exit (apply_and_check (sets, expect));
  if (pid < 0 || waitpid (pid, &status, 0) < 0)
    return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 100;
}

static void
test_apply (void)
{
  sb_capsets sets = {
    .bounding = CAP_KILL_BIT | CAP_SETUID_BIT | CAP_SETGID_BIT,
    .effective = CAP_KILL_BIT,
    .permitted = CAP_KILL_BIT,
    .ambient = CAP_KILL_BIT,
  };
  /* Without CAP_KILL inheritable the ambient raise is skipped silently.  */
  const uint64_t expect_no_amb[4] = { sets.bounding, CAP_KILL_BIT, CAP_KILL_BIT, 0 };
  const uint64_t expect_amb[4] = { sets.bounding, CAP_KILL_BIT, CAP_KILL_BIT, CAP_KILL_BIT };

  if (getuid () != 0)
    {
      tap_ok (true, "# SKIP applying capabilities needs root");
      return;
    }
  tap_is_int (run_child (&sets, expect_no_amb), 0,
              "CapBnd=KILL|SETUID|SETGID, CapEff=CapPrm=KILL, ambient skipped (not inheritable)");
  sets.inheritable = CAP_KILL_BIT;
  tap_is_int (run_child (&sets, expect_amb), 0, "with KILL inheritable, CapAmb=KILL");
}

int
main (void)
{
  test_names ();
  test_from_spec ();
  test_known_names ();
  test_apply ();
  return tap_done ();
}
