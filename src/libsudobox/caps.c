/* Capability names go through libcap, which knows names newer than the kernel
   headers this was built with; numbers beyond the running kernel's last
   capability are dropped silently, as runc does, so one profile works on old
   and new kernels.  */
#include "caps.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "util.h"

/* Capability numbers fit a 64-bit mask.  */
#define SB_CAP_MAX 63

static void
cap_freep (cap_t *c)
{
  if (*c != NULL)
    cap_free (*c);
  *c = NULL;
}

#define _cleanup_cap_ __attribute__ ((cleanup (cap_freep)))

/* The running kernel's last capability: /proc when mounted, otherwise probe
   the bounding set, which answers EINVAL past the last one.  */
static int
kernel_last_cap (void)
{
  _cleanup_free_ char *text = NULL;
  int64_t v;
  int last = 0;

  if (sb_read_file_at (AT_FDCWD, "/proc/sys/kernel/cap_last_cap", 64, &text, NULL, NULL) == 0)
    {
      text[strcspn (text, "\n")] = '\0';
      if (sb_parse_i64 (text, &v) == 0 && v >= 0 && v <= SB_CAP_MAX)
        return (int)v;
    }
  while (last < SB_CAP_MAX && prctl (PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
    last++;
  return last;
}

int
sb_cap_from_name (const char *name, int *cap)
{
  cap_value_t v;

  /* libcap also takes numbers, lowercase and trailing garbage; the spec
     only has the exact uppercase names.  */
  if (strncmp (name, "CAP_", 4) != 0 || name[4] == '\0')
    return -1;
  for (const char *p = name + 4; *p; p++)
    if (!isupper ((unsigned char)*p) && *p != '_')
      return -1;
  if (cap_from_name (name, &v) < 0 || v < 0 || v > SB_CAP_MAX)
    return -1;
  *cap = v;
  return 0;
}

static int
names_to_mask (char *const *names, const char *field, int last, uint64_t *mask, sb_err **err)
{
  *mask = 0;
  for (size_t i = 0; names != NULL && names[i] != NULL; i++)
    {
      int cap;

      if (sb_cap_from_name (names[i], &cap) < 0)
        return sb_error (err, 0, "process.capabilities.%s: unknown capability \"%s\"", field, names[i]);
      if (cap <= last)
        *mask |= UINT64_C (1) << cap;
    }
  return 0;
}

int
sb_caps_from_spec (const sb_caps *caps, sb_capsets *out, sb_err **err)
{
  int last = kernel_last_cap ();

  if (names_to_mask (caps->bounding, "bounding", last, &out->bounding, err) < 0
      || names_to_mask (caps->effective, "effective", last, &out->effective, err) < 0
      || names_to_mask (caps->inheritable, "inheritable", last, &out->inheritable, err) < 0
      || names_to_mask (caps->permitted, "permitted", last, &out->permitted, err) < 0
      || names_to_mask (caps->ambient, "ambient", last, &out->ambient, err) < 0)
    return -1;
  return 0;
}

static const char *
cap_label (int cap, char buf[static 32])
{
  char *n = cap_to_name (cap);

  snprintf (buf, 32, "%d", cap);
  if (n != NULL && !isdigit ((unsigned char)n[0]))
    {
      snprintf (buf, 32, "%s", n);
      for (char *p = buf; *p; p++)
        *p = (char)toupper ((unsigned char)*p);
    }
  cap_free (n);
  return buf;
}

int
sb_caps_raise_effective (sb_err **err)
{
  _cleanup_cap_ cap_t cur = cap_get_proc ();

  if (cur == NULL)
    return sb_error (err, errno, "reading the process capabilities");
  if (cap_fill (cur, CAP_EFFECTIVE, CAP_PERMITTED) < 0 || cap_set_proc (cur) < 0)
    return sb_error (err, errno, "raising the effective capabilities");
  return 0;
}

static int
drop_bounding (uint64_t keep, int last, sb_err **err)
{
  for (int cap = 0; cap <= last; cap++)
    {
      char label[32];

      if (keep & (UINT64_C (1) << cap))
        continue;
      if (prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
        return sb_error (err, errno, "dropping %s from the bounding set", cap_label (cap, label));
    }
  return 0;
}

static int
add_flag (cap_t c, cap_flag_t flag, uint64_t mask, int last)
{
  for (int cap = 0; cap <= last; cap++)
    {
      cap_value_t v = cap;
      if ((mask & (UINT64_C (1) << cap)) && cap_set_flag (c, flag, 1, &v, CAP_SET) < 0)
        return -1;
    }
  return 0;
}

static int
set_proc_caps (const sb_capsets *sets, int last, sb_err **err)
{
  _cleanup_cap_ cap_t c = cap_init ();

  if (c == NULL)
    return sb_error (err, errno, "allocating capabilities");
  if (add_flag (c, CAP_EFFECTIVE, sets->effective, last) < 0
      || add_flag (c, CAP_PERMITTED, sets->permitted, last) < 0
      || add_flag (c, CAP_INHERITABLE, sets->inheritable, last) < 0)
    return sb_error (err, errno, "building the capability sets");
  if (cap_set_proc (c) < 0)
    return sb_error (err, errno, "setting the effective/permitted/inheritable capabilities");
  return 0;
}

/* The kernel only allows an ambient capability that is both permitted and
   inheritable; like runc, the others are skipped rather than failing.  */
static int
set_ambient (const sb_capsets *sets, int last, sb_err **err)
{
  uint64_t allowed = sets->ambient & sets->permitted & sets->inheritable;

  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    return sb_error (err, errno, "clearing the ambient capabilities");
  for (int cap = 0; cap <= last; cap++)
    {
      char label[32];

      if (!(allowed & (UINT64_C (1) << cap)))
        continue;
      if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
        return sb_error (err, errno, "raising ambient capability %s", cap_label (cap, label));
    }
  return 0;
}

int
sb_caps_apply (const sb_capsets *sets, sb_err **err)
{
  int last = kernel_last_cap ();

  if (sb_caps_raise_effective (err) < 0 || drop_bounding (sets->bounding, last, err) < 0
      || set_proc_caps (sets, last, err) < 0 || set_ambient (sets, last, err) < 0)
    return -1;
  return 0;
}

char **
sb_caps_known_names (void)
{
  char **names = sb_xmalloc0 (sizeof (char *));

  for (int cap = 0; cap <= SB_CAP_MAX; cap++)
    {
      char label[32];

      cap_label (cap, label);
      if (!isdigit ((unsigned char)label[0]))
        sb_strv_append (&names, label);
    }
  return names;
}
