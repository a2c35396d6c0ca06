/* linux.seccomp compiled with libseccomp.  The filter is built in the
   runtime before any fork so that a bad profile fails `create` with a message
   naming the field; the container process only loads the finished filter.

   Note on SCMP_ACT_NOTIFY: a profile that sends write(2) (or any other
   syscall the runtime itself makes between loading the filter and exec) to
   the listener can deadlock the container start when the listener waits for
   the runtime; that is the profile author's responsibility, as with crun.  */
#include "seccomp-filter.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <seccomp.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

/* Arguments a syscall has (seccomp_data.args).  */
#define SB_SECCOMP_MAX_ARGS 6

struct sb_seccomp_filter
{
  scmp_filter_ctx ctx;
  bool uses_notify;
};

struct named_value
{
  const char *name;
  uint32_t value;
};

static const struct named_value operators[] = {
  { "SCMP_CMP_NE", SCMP_CMP_NE },
  { "SCMP_CMP_LT", SCMP_CMP_LT },
  { "SCMP_CMP_LE", SCMP_CMP_LE },
  { "SCMP_CMP_EQ", SCMP_CMP_EQ },
  { "SCMP_CMP_GE", SCMP_CMP_GE },
  { "SCMP_CMP_GT", SCMP_CMP_GT },
  { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static const struct named_value flag_attrs[] = {
  { "SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC },
  { "SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB },
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
  { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SCMP_FLTATR_CTL_WAITKILL },
#endif
};

static const char *const known_actions[] = {
  "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",   "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",        "SCMP_ACT_LOG",         "SCMP_ACT_NOTIFY", NULL,
};

static const char *const known_operators[] = {
  "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
  "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL,
};

/* Only the architectures this libseccomp build defines.  */
static const char *const known_archs[] = {
  "SCMP_ARCH_X86",
  "SCMP_ARCH_X86_64",
  "SCMP_ARCH_X32",
  "SCMP_ARCH_ARM",
  "SCMP_ARCH_AARCH64",
#ifdef SCMP_ARCH_LOONGARCH64
  "SCMP_ARCH_LOONGARCH64",
#endif
#ifdef SCMP_ARCH_M68K
  "SCMP_ARCH_M68K",
#endif
  "SCMP_ARCH_MIPS",
  "SCMP_ARCH_MIPS64",
  "SCMP_ARCH_MIPS64N32",
  "SCMP_ARCH_MIPSEL",
  "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32",
  "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",
  "SCMP_ARCH_PPC64LE",
  "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X",
  "SCMP_ARCH_PARISC",
  "SCMP_ARCH_PARISC64",
  "SCMP_ARCH_RISCV64",
#ifdef SCMP_ARCH_SHEB
  "SCMP_ARCH_SHEB",
  "SCMP_ARCH_SH",
#endif
  NULL,
};

static const char *const known_flags[] = {
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
#endif
  NULL,
};

static void
filter_freep (sb_seccomp_filter **f)
{
  sb_seccomp_free (*f);
  *f = NULL;
}

static int
lookup (const struct named_value *table, size_t n, const char *name, uint32_t *out)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (table[i].name, name) == 0)
      {
        *out = table[i].value;
        return 0;
      }
  return -1;
}

/* field names the JSON path for errors ("linux.seccomp.defaultAction").  */
static int
parse_action (const char *name, bool has_errno_ret, uint32_t errno_ret, const char *field, uint32_t *out,
              sb_err **err)
{
  uint32_t ret = has_errno_ret ? errno_ret : EPERM;

  if (name == NULL)
    return sb_error (err, 0, "%s: missing action", field);
  if (strcmp (name, "SCMP_ACT_ERRNO") == 0 || strcmp (name, "SCMP_ACT_TRACE") == 0)
    {
      if (ret > 0xffff)
        return sb_error (err, 0, "%s: errnoRet %u out of range", field, ret);
      *out = strcmp (name, "SCMP_ACT_ERRNO") == 0 ? SCMP_ACT_ERRNO (ret) : SCMP_ACT_TRACE (ret);
      return 0;
    }

  static const struct named_value plain[] = {
    { "SCMP_ACT_KILL", SCMP_ACT_KILL },
    { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS },
    { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD },
    { "SCMP_ACT_TRAP", SCMP_ACT_TRAP },
    { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW },
    { "SCMP_ACT_LOG", SCMP_ACT_LOG },
    { "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY },
  };
  if (lookup (plain, sizeof (plain) / sizeof (plain[0]), name, out) < 0)
    return sb_error (err, 0, "%s: unknown action \"%s\"", field, name);
  /* The runtime spec: an action that cannot carry an errno MUST fail.  */
  if (has_errno_ret)
    return sb_error (err, 0, "%s: errnoRet is not supported with action \"%s\"", field, name);
  return 0;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64".  */
static int
parse_arch (const char *name, const char *field, uint32_t *out, sb_err **err)
{
  static const char prefix[] = "SCMP_ARCH_";
  _cleanup_free_ char *lower = NULL;

  if (strncmp (name, prefix, sizeof (prefix) - 1) != 0 || name[sizeof (prefix) - 1] == '\0')
    return sb_error (err, 0, "%s: unknown architecture \"%s\"", field, name);
  lower = sb_xstrdup (name + sizeof (prefix) - 1);
  for (char *p = lower; *p; p++)
    *p = (char)tolower ((unsigned char)*p);
  *out = seccomp_arch_resolve_name (lower);
  if (*out == 0)
    return sb_error (err, 0, "%s: unknown architecture \"%s\"", field, name);
  return 0;
}

static int
add_architectures (scmp_filter_ctx ctx, char *const *archs, sb_err **err)
{
  for (size_t i = 0; archs != NULL && archs[i] != NULL; i++)
    {
      _cleanup_free_ char *field = sb_xasprintf ("linux.seccomp.architectures[%zu]", i);
      uint32_t arch;
      int r;

      if (parse_arch (archs[i], field, &arch, err) < 0)
        return -1;
      r = seccomp_arch_add (ctx, arch);
      if (r < 0 && r != -EEXIST)
        return sb_error (err, -r, "%s: adding architecture \"%s\"", field, archs[i]);
    }
  return 0;
}

static int
set_flags (scmp_filter_ctx ctx, char *const *flags, sb_err **err)
{
  for (size_t i = 0; flags != NULL && flags[i] != NULL; i++)
    {
      uint32_t attr;
      int r;

      if (lookup (flag_attrs, sizeof (flag_attrs) / sizeof (flag_attrs[0]), flags[i], &attr) < 0)
        return sb_error (err, 0, "linux.seccomp.flags[%zu]: unknown or unsupported flag \"%s\"", i, flags[i]);
      r = seccomp_attr_set (ctx, (enum scmp_filter_attr)attr, 1);
      if (r < 0)
        return sb_error (err, -r, "linux.seccomp.flags[%zu]: setting \"%s\"", i, flags[i]);
    }
  return 0;
}

/* Converts the args of syscalls[idx]; *same_index tells whether two args
   name the same argument index.  */
static int
parse_args (const sb_seccomp_rule *rule, size_t idx, struct scmp_arg_cmp *cmps, bool *same_index,
            sb_err **err)
{
  unsigned seen = 0;

  *same_index = false;
  for (size_t j = 0; j < rule->n_args; j++)
    {
      const sb_seccomp_arg *a = &rule->args[j];
      uint32_t op;

      if (a->index >= SB_SECCOMP_MAX_ARGS)
        return sb_error (err, 0, "linux.seccomp.syscalls[%zu].args[%zu].index: %u is not below %d", idx, j,
                         a->index, SB_SECCOMP_MAX_ARGS);
      if (a->op == NULL || lookup (operators, sizeof (operators) / sizeof (operators[0]), a->op, &op) < 0)
        return sb_error (err, 0, "linux.seccomp.syscalls[%zu].args[%zu].op: unknown operator \"%s\"", idx, j,
                         a->op ? a->op : "");
      if (seen & (1u << a->index))
        *same_index = true;
      seen |= 1u << a->index;
      cmps[j] = (struct scmp_arg_cmp){
        .arg = a->index, .op = (enum scmp_compare)op, .datum_a = a->value, .datum_b = a->value_two
      };
    }
  return 0;
}

static int
add_one (scmp_filter_ctx ctx, uint32_t action, int nr, const char *name, size_t idx, unsigned n,
         const struct scmp_arg_cmp *cmps, sb_err **err)
{
  int r = seccomp_rule_add_array (ctx, action, nr, n, cmps);
  if (r < 0)
    return sb_error (err, -r, "linux.seccomp.syscalls[%zu]: adding rule for \"%s\"", idx, name);
  return 0;
}

static int
add_rule (scmp_filter_ctx ctx, uint32_t default_action, const sb_seccomp_rule *rule, size_t idx, bool *notify,
          sb_err **err)
{
  _cleanup_free_ char *field = sb_xasprintf ("linux.seccomp.syscalls[%zu].action", idx);
  _cleanup_free_ struct scmp_arg_cmp *cmps = NULL;
  bool same_index;
  uint32_t action;

  if (parse_action (rule->action, rule->has_errno_ret, rule->errno_ret, field, &action, err) < 0)
    return -1;
  cmps = sb_xmalloc0 ((rule->n_args + 1) * sizeof (*cmps));
  if (parse_args (rule, idx, cmps, &same_index, err) < 0)
    return -1;
  /* libseccomp refuses a rule that repeats the default action.  */
  if (action == default_action)
    return 0;

  for (size_t i = 0; rule->names != NULL && rule->names[i] != NULL; i++)
    {
      const char *name = rule->names[i];
      int nr = seccomp_syscall_resolve_name (name);

      /* Profiles list syscalls newer than this kernel or libseccomp.  */
      if (nr == __NR_SCMP_ERROR)
        continue;
      /* libseccomp ANDs the conditions of one rule but cannot compare the
         same argument twice; like runc, such a rule becomes one rule per
         condition (ORed).  */
      if (same_index)
        {
          for (size_t j = 0; j < rule->n_args; j++)
            if (add_one (ctx, action, nr, name, idx, 1, &cmps[j], err) < 0)
              return -1;
        }
      else if (add_one (ctx, action, nr, name, idx, (unsigned)rule->n_args, cmps, err) < 0)
        return -1;
      *notify |= action == SCMP_ACT_NOTIFY;
    }
  return 0;
}

int
sb_seccomp_compile (const sb_seccomp *sc, sb_seccomp_filter **out, sb_err **err)
{
  __attribute__ ((cleanup (filter_freep))) sb_seccomp_filter *f = NULL;
  uint32_t default_action;
  int r;

  if (parse_action (sc->default_action, sc->has_default_errno_ret, sc->default_errno_ret,
                    "linux.seccomp.defaultAction", &default_action, err)
      < 0)
    return -1;
  /* The runtime's own syscalls between loading the filter and exec, including
     the one handing the listener fd out, would wait for a listener that does
     not have it yet (runc refuses this too).  */
  if (default_action == SCMP_ACT_NOTIFY)
    return sb_error (err, 0, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
  f = sb_xmalloc0 (sizeof (*f));
  f->ctx = seccomp_init (default_action);
  if (f->ctx == NULL)
    return sb_error (err, 0, "linux.seccomp.defaultAction: libseccomp refused \"%s\"", sc->default_action);
  /* Whether no_new_privs is set is the runtime's decision (process.noNewPrivileges).  */
  r = seccomp_attr_set (f->ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (r < 0)
    return sb_error (err, -r, "seccomp: clearing the no_new_privs attribute");
  if (add_architectures (f->ctx, sc->architectures, err) < 0 || set_flags (f->ctx, sc->flags, err) < 0)
    return -1;
  for (size_t i = 0; i < sc->n_syscalls; i++)
    if (add_rule (f->ctx, default_action, &sc->syscalls[i], i, &f->uses_notify, err) < 0)
      return -1;
  *out = sb_steal (&f);
  return 0;
}

int
sb_seccomp_load (sb_seccomp_filter *f, int *notify_fd, sb_err **err)
{
  int r;

  *notify_fd = -1;
  r = seccomp_load (f->ctx);
  if (r < 0)
    return sb_error (err, -r, "loading the seccomp filter");
  if (f->uses_notify)
    {
      r = seccomp_notify_fd (f->ctx);
      if (r < 0)
        return sb_error (err, -r, "getting the seccomp notify fd");
      *notify_fd = r;
    }
  return 0;
}

bool
sb_seccomp_uses_notify (const sb_seccomp_filter *f)
{
  return f->uses_notify;
}

static void
json_putp (json_object **o)
{
  json_object_put (*o);
  *o = NULL;
}

/* The runtime spec's ContainerProcessState:
   {"ociVersion","fds":["seccompFd"],"pid","state":{...}}.  The pid and
   version are the state's.  */
static int
build_process_state (const char *state_json, const char *metadata, char **out, sb_err **err)
{
  __attribute__ ((cleanup (json_putp))) json_object *state = NULL;
  __attribute__ ((cleanup (json_putp))) json_object *msg = NULL;
  json_object *v, *fds;

  state = json_tokener_parse (state_json);
  if (state == NULL || !json_object_is_type (state, json_type_object))
    return sb_error (err, 0, "seccomp listener: the container state is not a JSON object");
  msg = json_object_new_object ();
  if (json_object_object_get_ex (state, "ociVersion", &v))
    json_object_object_add (msg, "ociVersion", json_object_get (v));
  fds = json_object_new_array ();
  json_object_array_add (fds, json_object_new_string ("seccompFd"));
  json_object_object_add (msg, "fds", fds);
  if (json_object_object_get_ex (state, "pid", &v))
    json_object_object_add (msg, "pid", json_object_get (v));
  if (metadata != NULL)
    json_object_object_add (msg, "metadata", json_object_new_string (metadata));
  json_object_object_add (msg, "state", sb_steal (&state));
  *out = sb_xstrdup (json_object_to_json_string_ext (msg, JSON_C_TO_STRING_PLAIN));
  return 0;
}

int
sb_seccomp_send_notify_fd (int listener, int notify_fd, const char *state_json, const char *metadata,
                           sb_err **err)
{
  _cleanup_free_ char *payload = NULL;

  if (build_process_state (state_json, metadata, &payload, err) < 0)
    return -1;
  if (sb_send_fd (listener, notify_fd, payload, strlen (payload)) < 0)
    return sb_error (err, errno, "linux.seccomp.listenerPath: sending the notify fd");
  return 0;
}

void
sb_seccomp_free (sb_seccomp_filter *f)
{
  if (f == NULL)
    return;
  if (f->ctx != NULL)
    seccomp_release (f->ctx);
  free (f);
}

const char *const *
sb_seccomp_known_actions (void)
{
  return known_actions;
}

const char *const *
sb_seccomp_known_operators (void)
{
  return known_operators;
}

const char *const *
sb_seccomp_known_archs (void)
{
  return known_archs;
}

const char *const *
sb_seccomp_known_flags (void)
{
  return known_flags;
}
