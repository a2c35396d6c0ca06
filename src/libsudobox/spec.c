/* config.json (runtime-spec 1.1, Linux) to the structs of spec.h.

   Every parsed value is stored into its owning struct as soon as it is
   allocated, so on any error the caller's single sb_spec_free releases a
   half-built spec; no function here needs its own unwinding.  Absent fields
   and JSON null are treated alike, as Go's encoding/json does for runc.  */
#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "util.h"

/* The kernel accepts at most this many lines in uid_map / gid_map.  */
#define MAX_ID_MAPPINGS 340
/* Linux has 16 resource limits; a longer list must repeat or misname one,
   and the bound keeps the duplicate check cheap.  */
#define MAX_RLIMITS 64

static void
json_putp (json_object **o)
{
  json_object_put (*o);
}

static void
tokener_freep (struct json_tokener **t)
{
  if (*t != NULL)
    json_tokener_free (*t);
}

#define _cleanup_json_ __attribute__ ((cleanup (json_putp)))
#define _cleanup_tokener_ __attribute__ ((cleanup (tokener_freep)))

/* ---- JSON text --------------------------------------------------------- */

static int
syntax_error (const char *s, size_t off, const char *what, sb_err **err)
{
  size_t line = 1, col = 1;
  for (size_t i = 0; i < off; i++)
  {
    col++;
    if (s[i] == '\n')
    {
      line++;
      col = 1;
    }
  }
  return sb_error (err, 0, "invalid JSON at line %zu, column %zu: %s", line, col, what);
}

/* Compares an unsigned decimal digit string (no leading zeros) against a
   limit of the same form.  */
static bool
digits_above (const char *d, size_t n, const char *limit)
{
  size_t ln = strlen (limit);
  return n > ln || (n == ln && memcmp (d, limit, n) > 0);
}

/* json-c silently saturates integers beyond int64/uint64 (2^64 reads as
   2^64-1), so the text of a parsed document is scanned for them.  Returns
   the offset of the first such integer, or len.  */
static size_t
find_huge_integer (const char *s, size_t len)
{
  for (size_t i = 0; i < len; i++)
  {
    size_t start = i, digits;
    bool neg, integer = true;

    if (s[i] == '"' || s[i] == '\'')
    {
      char quote = s[i];
      for (i++; i < len && s[i] != quote; i++)
        if (s[i] == '\\')
          i++;
      continue;
    }
    if (s[i] != '-' && !isdigit ((unsigned char)s[i]))
      continue;
    neg = s[i] == '-';
    digits = i + neg;
    for (i = digits; i < len && (isdigit ((unsigned char)s[i]) || strchr ("+-.eE", s[i])); i++)
      integer &= isdigit ((unsigned char)s[i]) != 0;
    if (integer
        && digits_above (s + digits, i - digits, neg ? "9223372036854775808" : "18446744073709551615"))
      return start;
    i--;
  }
  return len;
}

/* Parses a whole JSON object; errors give the line and column.  */
static int
parse_text (const char *json, size_t len, json_object **out, sb_err **err)
{
  _cleanup_tokener_ struct json_tokener *tok = NULL;
  _cleanup_json_ json_object *obj = NULL;
  const char *nul;
  enum json_tokener_error e;
  size_t huge;

  if (len > SB_SPEC_MAX_SIZE)
    return sb_error (err, 0, "larger than %u bytes", SB_SPEC_MAX_SIZE);
  nul = memchr (json, '\0', len);
  if (nul != NULL)
    return syntax_error (json, (size_t)(nul - json), "NUL byte in the text", err);
  tok = json_tokener_new ();
  if (tok == NULL)
    return sb_error (err, ENOMEM, "JSON parser");
  /* Strict: no comments, trailing commas, leading zeros or trailing text,
     like the Go parser runc uses.  */
  json_tokener_set_flags (tok, JSON_TOKENER_STRICT);
  obj = json_tokener_parse_ex (tok, json, (int)len);
  e = json_tokener_get_error (tok);
  if (e == json_tokener_continue)
  {
    /* The text ended inside a value: a terminating NUL either completes it
       or yields the precise error.  */
    obj = json_tokener_parse_ex (tok, "", 1);
    e = json_tokener_get_error (tok);
    if (e != json_tokener_success)
      return syntax_error (json, len, json_tokener_error_desc (e), err);
  }
  else if (e != json_tokener_success)
    return syntax_error (json, json_tokener_get_parse_end (tok), json_tokener_error_desc (e), err);
  huge = find_huge_integer (json, len);
  if (huge < len)
    return syntax_error (json, huge, "integer out of the 64-bit range", err);
  if (!json_object_is_type (obj, json_type_object))
    return sb_error (err, 0, "expected a JSON object, got %s",
                     json_object_is_type (obj, json_type_array) ? "an array" : "a scalar");
  *out = sb_steal (&obj);
  return 0;
}

/* ---- typed field access ------------------------------------------------ */

/* "path.key: message"; key may be NULL (the message is about path).  */
static int __attribute__ ((format (printf, 4, 5)))
ferr (sb_err **err, const char *path, const char *key, const char *fmt, ...)
{
  _cleanup_free_ char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  return sb_error (err, 0, "%s%s%s: %s", path, *path && key ? "." : "", key ? key : "",
                   msg ? msg : "invalid value");
}

static char *
sub (const char *path, const char *key)
{
  return *path ? sb_xasprintf ("%s.%s", path, key) : sb_xstrdup (key);
}

/* How a value reads in "expected X, got Y".  */
static const char *
kind (json_object *v)
{
  switch (json_object_get_type (v))
  {
  case json_type_boolean:
    return "a boolean";
  case json_type_double:
    return "a fractional number";
  case json_type_int:
    return "an integer";
  case json_type_object:
    return "an object";
  case json_type_array:
    return "an array";
  case json_type_string:
    return "a string";
  case json_type_null:
    break;
  }
  return "null";
}

static json_object *
member (json_object *obj, const char *key)
{
  json_object *v = NULL;
  json_object_object_get_ex (obj, key, &v);
  return v;
}

static int
want (json_object *v, json_type type, const char *what, const char *path, const char *key, sb_err **err)
{
  if (json_object_is_type (v, type))
    return 0;
  return ferr (err, path, key, "expected %s, got %s", what, kind (v));
}

static int
missing (const char *path, const char *key, sb_err **err)
{
  return ferr (err, path, key, "required field is missing");
}

static int
get_str (json_object *v, const char *path, const char *key, char **out, sb_err **err)
{
  if (want (v, json_type_string, "a string", path, key, err) < 0)
    return -1;
  if (strlen (json_object_get_string (v)) != (size_t)json_object_get_string_len (v))
    return ferr (err, path, key, "contains a NUL character");
  *out = sb_xstrdup (json_object_get_string (v));
  return 0;
}

static int
opt_str (json_object *obj, const char *path, const char *key, char **out, sb_err **err)
{
  json_object *v = member (obj, key);
  return v ? get_str (v, path, key, out, err) : 0;
}

static int
req_str (json_object *obj, const char *path, const char *key, char **out, sb_err **err)
{
  json_object *v = member (obj, key);
  if (v == NULL)
    return missing (path, key, err);
  if (get_str (v, path, key, out, err) < 0)
    return -1;
  if (**out == '\0')
    return ferr (err, path, key, "must not be empty");
  return 0;
}

static int
check_abs (const char *s, const char *path, const char *key, sb_err **err)
{
  if (s != NULL && s[0] != '/')
    return ferr (err, path, key, "must be an absolute path, got \"%s\"", s);
  return 0;
}

static int
req_abs_path (json_object *obj, const char *path, const char *key, char **out, sb_err **err)
{
  if (req_str (obj, path, key, out, err) < 0)
    return -1;
  return check_abs (*out, path, key, err);
}

static int
opt_bool (json_object *obj, const char *path, const char *key, bool *out, sb_err **err)
{
  json_object *v = member (obj, key);
  if (v == NULL)
    return 0;
  if (want (v, json_type_boolean, "a boolean", path, key, err) < 0)
    return -1;
  *out = json_object_get_boolean (v);
  return 0;
}

/* json-c keeps integers above INT64_MAX as uint64: get_int64 saturates them
   and get_uint64 reads them exactly; negatives only fit get_int64.  */
static int
get_u64 (json_object *v, const char *path, const char *key, uint64_t min, uint64_t max, uint64_t *out,
         sb_err **err)
{
  uint64_t x;

  if (!json_object_is_type (v, json_type_int))
    return ferr (err, path, key, "expected an integer in %" PRIu64 "..%" PRIu64 ", got %s", min, max,
                 json_object_is_type (v, json_type_double) ? json_object_get_string (v) : kind (v));
  x = json_object_get_uint64 (v);
  if (json_object_get_int64 (v) < 0 || x < min || x > max)
    return ferr (err, path, key, "expected an integer in %" PRIu64 "..%" PRIu64 ", got %s", min, max,
                 json_object_to_json_string (v));
  *out = x;
  return 0;
}

static int
get_i64 (json_object *v, const char *path, const char *key, int64_t min, int64_t max, int64_t *out,
         sb_err **err)
{
  int64_t x;

  if (!json_object_is_type (v, json_type_int))
    return ferr (err, path, key, "expected an integer in %" PRId64 "..%" PRId64 ", got %s", min, max,
                 json_object_is_type (v, json_type_double) ? json_object_get_string (v) : kind (v));
  x = json_object_get_int64 (v);
  if (x < min || x > max || (x == INT64_MAX && json_object_get_uint64 (v) > INT64_MAX))
    return ferr (err, path, key, "expected an integer in %" PRId64 "..%" PRId64 ", got %s", min, max,
                 json_object_to_json_string (v));
  *out = x;
  return 0;
}

/* Optional integer field; *has (may be NULL) says whether it was given.  */
static int
opt_u64 (json_object *obj, const char *path, const char *key, uint64_t min, uint64_t max, bool *has,
         uint64_t *out, sb_err **err)
{
  json_object *v = member (obj, key);
  if (v == NULL)
    return 0;
  if (get_u64 (v, path, key, min, max, out, err) < 0)
    return -1;
  if (has)
    *has = true;
  return 0;
}

static int
req_u64 (json_object *obj, const char *path, const char *key, uint64_t max, uint64_t *out, sb_err **err)
{
  json_object *v = member (obj, key);
  if (v == NULL)
    return missing (path, key, err);
  return get_u64 (v, path, key, 0, max, out, err);
}

static int
opt_u32 (json_object *obj, const char *path, const char *key, bool *has, uint32_t *out, sb_err **err)
{
  uint64_t x = *out;
  if (opt_u64 (obj, path, key, 0, UINT32_MAX, has, &x, err) < 0)
    return -1;
  *out = (uint32_t)x;
  return 0;
}

static int
req_u32 (json_object *obj, const char *path, const char *key, uint32_t *out, sb_err **err)
{
  uint64_t x;
  if (req_u64 (obj, path, key, UINT32_MAX, &x, err) < 0)
    return -1;
  *out = (uint32_t)x;
  return 0;
}

static int
opt_i64 (json_object *obj, const char *path, const char *key, int64_t min, int64_t max, sb_opt_i64 *out,
         sb_err **err)
{
  json_object *v = member (obj, key);
  if (v == NULL)
    return 0;
  if (get_i64 (v, path, key, min, max, &out->v, err) < 0)
    return -1;
  out->set = true;
  return 0;
}

static int
req_i64 (json_object *obj, const char *path, const char *key, int64_t *out, sb_err **err)
{
  json_object *v = member (obj, key);
  if (v == NULL)
    return missing (path, key, err);
  return get_i64 (v, path, key, INT64_MIN, INT64_MAX, out, err);
}

/* A JSON array of strings to a NULL-terminated vector.  */
static int
get_strv (json_object *v, const char *path, const char *key, char ***out, sb_err **err)
{
  size_t n;

  if (want (v, json_type_array, "an array of strings", path, key, err) < 0)
    return -1;
  n = json_object_array_length (v);
  *out = sb_xmalloc0 ((n + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
  {
    _cleanup_free_ char *k = sb_xasprintf ("%s[%zu]", key, i);
    if (get_str (json_object_array_get_idx (v, i), path, k, &(*out)[i], err) < 0)
      return -1;
  }
  return 0;
}

static int
opt_strv (json_object *obj, const char *path, const char *key, char ***out, sb_err **err)
{
  json_object *v = member (obj, key);
  return v ? get_strv (v, path, key, out, err) : 0;
}

static int
opt_abs_strv (json_object *obj, const char *path, const char *key, char ***out, sb_err **err)
{
  if (opt_strv (obj, path, key, out, err) < 0)
    return -1;
  for (size_t i = 0; *out && (*out)[i]; i++)
  {
    _cleanup_free_ char *k = sb_xasprintf ("%s[%zu]", key, i);
    if (check_abs ((*out)[i], path, k, err) < 0)
      return -1;
  }
  return 0;
}

/* Returns the object member key, NULL when absent, or an error when it is
   not an object.  */
static int
opt_obj (json_object *obj, const char *path, const char *key, json_object **out, sb_err **err)
{
  *out = member (obj, key);
  if (*out == NULL)
    return 0;
  return want (*out, json_type_object, "an object", path, key, err);
}

typedef int (*elem_parser) (json_object *v, const char *path, void *item, sb_err **err);

/* An array of objects: items (size bytes each) are zero-allocated and
   published in *items and *n before parsing, so a failure frees them all.  */
static int
opt_array (json_object *obj, const char *path, const char *key, size_t size, size_t max, elem_parser fn,
           void *items, size_t *n, sb_err **err)
{
  json_object *v = member (obj, key);
  _cleanup_free_ char *p = NULL;
  size_t len;
  char *base;

  if (v == NULL)
    return 0;
  if (want (v, json_type_array, "an array", path, key, err) < 0)
    return -1;
  len = json_object_array_length (v);
  if (len > max)
    return ferr (err, path, key, "at most %zu entries are allowed, got %zu", max, len);
  p = sub (path, key);
  base = sb_xmalloc0 (len * size);
  *(void **)items = base;
  *n = len;
  for (size_t i = 0; i < len; i++)
  {
    _cleanup_free_ char *ep = sb_xasprintf ("%s[%zu]", p, i);
    json_object *e = json_object_array_get_idx (v, i);
    if (want (e, json_type_object, "an object", ep, NULL, err) < 0 || fn (e, ep, base + i * size, err) < 0)
      return -1;
  }
  return 0;
}

/* An object of string values to key/value pairs.  */
static int
opt_map (json_object *obj, const char *path, const char *key, sb_kv **out, size_t *n, sb_err **err)
{
  json_object *v;
  _cleanup_free_ char *p = NULL;

  if (opt_obj (obj, path, key, &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  p = sub (path, key);
  *out = sb_xmalloc0 ((size_t)json_object_object_length (v) * sizeof (sb_kv));
  json_object_object_foreach (v, k, val)
  {
    sb_kv *kv = &(*out)[(*n)++];
    kv->key = sb_xstrdup (k);
    if (get_str (val, p, k, &kv->value, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- process ----------------------------------------------------------- */

static int
parse_rlimit (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_rlimit *r = item;

  if (req_str (v, path, "type", &r->type, err) < 0 || req_u64 (v, path, "hard", UINT64_MAX, &r->hard, err) < 0
      || req_u64 (v, path, "soft", UINT64_MAX, &r->soft, err) < 0)
    return -1;
  if (r->soft > r->hard)
    return ferr (err, path, NULL, "soft limit %" PRIu64 " is greater than hard limit %" PRIu64, r->soft,
                 r->hard);
  return 0;
}

static int
check_rlimits (const sb_process *p, const char *path, sb_err **err)
{
  for (size_t i = 0; i < p->n_rlimits; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp (p->rlimits[i].type, p->rlimits[j].type) == 0)
        return sb_error (err, 0, "%s.rlimits[%zu].type: duplicate rlimit \"%s\"", path, i,
                         p->rlimits[i].type);
  return 0;
}

static int
parse_caps (json_object *obj, const char *path, sb_process *p, sb_err **err)
{
  json_object *c;
  _cleanup_free_ char *cp = sub (path, "capabilities");

  if (opt_obj (obj, path, "capabilities", &c, err) < 0)
    return -1;
  if (c == NULL)
    return 0;
  p->has_caps = true;
  if (opt_strv (c, cp, "bounding", &p->caps.bounding, err) < 0
      || opt_strv (c, cp, "effective", &p->caps.effective, err) < 0
      || opt_strv (c, cp, "inheritable", &p->caps.inheritable, err) < 0
      || opt_strv (c, cp, "permitted", &p->caps.permitted, err) < 0
      || opt_strv (c, cp, "ambient", &p->caps.ambient, err) < 0)
    return -1;
  return 0;
}

static int
parse_user (json_object *obj, const char *path, sb_process *p, sb_err **err)
{
  json_object *u, *gids;
  _cleanup_free_ char *up = sub (path, "user");

  if (opt_obj (obj, path, "user", &u, err) < 0)
    return -1;
  if (u == NULL)
    return 0;
  if (opt_u32 (u, up, "uid", NULL, &p->uid, err) < 0 || opt_u32 (u, up, "gid", NULL, &p->gid, err) < 0
      || opt_u32 (u, up, "umask", &p->has_umask, &p->umask, err) < 0)
    return -1;
  gids = member (u, "additionalGids");
  if (gids == NULL)
    return 0;
  if (want (gids, json_type_array, "an array of integers", up, "additionalGids", err) < 0)
    return -1;
  p->n_additional_gids = json_object_array_length (gids);
  p->additional_gids = sb_xmalloc0 (p->n_additional_gids * sizeof (uint32_t));
  for (size_t i = 0; i < p->n_additional_gids; i++)
  {
    _cleanup_free_ char *k = sb_xasprintf ("additionalGids[%zu]", i);
    uint64_t g;
    if (get_u64 (json_object_array_get_idx (gids, i), up, k, 0, UINT32_MAX, &g, err) < 0)
      return -1;
    p->additional_gids[i] = (uint32_t)g;
  }
  return 0;
}

static int
parse_console_size (json_object *obj, const char *path, sb_process *p, sb_err **err)
{
  json_object *c;
  _cleanup_free_ char *cp = sub (path, "consoleSize");

  if (opt_obj (obj, path, "consoleSize", &c, err) < 0)
    return -1;
  if (c == NULL)
    return 0;
  p->has_console_size = true;
  if (req_u32 (c, cp, "height", &p->console_height, err) < 0
      || req_u32 (c, cp, "width", &p->console_width, err) < 0)
    return -1;
  return 0;
}

static int
parse_process_obj (json_object *v, const char *path, sb_process *p, sb_err **err)
{
  json_object *args = member (v, "args");
  int64_t oom;

  if (opt_bool (v, path, "terminal", &p->terminal, err) < 0 || parse_console_size (v, path, p, err) < 0
      || parse_user (v, path, p, err) < 0)
    return -1;
  if (args == NULL)
    return missing (path, "args", err);
  if (get_strv (args, path, "args", &p->args, err) < 0)
    return -1;
  if (p->args[0] == NULL)
    return ferr (err, path, "args", "must contain at least one element");
  if (p->args[0][0] == '\0')
    return ferr (err, path, "args[0]", "the program must not be empty");
  if (opt_strv (v, path, "env", &p->env, err) < 0 || req_abs_path (v, path, "cwd", &p->cwd, err) < 0
      || parse_caps (v, path, p, err) < 0
      || opt_array (v, path, "rlimits", sizeof (sb_rlimit), MAX_RLIMITS, parse_rlimit, &p->rlimits,
                    &p->n_rlimits, err)
             < 0
      || check_rlimits (p, path, err) < 0
      || opt_bool (v, path, "noNewPrivileges", &p->no_new_privileges, err) < 0
      || opt_str (v, path, "apparmorProfile", &p->apparmor_profile, err) < 0
      || opt_str (v, path, "selinuxLabel", &p->selinux_label, err) < 0)
    return -1;
  if (member (v, "oomScoreAdj") != NULL)
  {
    if (get_i64 (member (v, "oomScoreAdj"), path, "oomScoreAdj", -1000, 1000, &oom, err) < 0)
      return -1;
    p->has_oom_score_adj = true;
    p->oom_score_adj = (int)oom;
  }
  return 0;
}

/* ---- id mappings and mounts -------------------------------------------- */

static int
parse_idmap (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_idmap *m = item;

  if (req_u32 (v, path, "containerID", &m->container_id, err) < 0
      || req_u32 (v, path, "hostID", &m->host_id, err) < 0 || req_u32 (v, path, "size", &m->size, err) < 0)
    return -1;
  if (m->size == 0)
    return ferr (err, path, "size", "must be greater than 0");
  if ((uint64_t)m->container_id + m->size > (uint64_t)UINT32_MAX + 1)
    return ferr (err, path, NULL, "containerID %" PRIu32 " + size %" PRIu32 " overflows the 32-bit id range",
                 m->container_id, m->size);
  if ((uint64_t)m->host_id + m->size > (uint64_t)UINT32_MAX + 1)
    return ferr (err, path, NULL, "hostID %" PRIu32 " + size %" PRIu32 " overflows the 32-bit id range",
                 m->host_id, m->size);
  return 0;
}

static int
opt_idmaps (json_object *v, const char *path, const char *key, sb_idmap **out, size_t *n, sb_err **err)
{
  return opt_array (v, path, key, sizeof (sb_idmap), MAX_ID_MAPPINGS, parse_idmap, out, n, err);
}

struct mount_flag
{
  const char *name;
  bool clear;
  unsigned long flag;
};

/* runc's table (libcontainer/specconv).  */
static const struct mount_flag mount_flags[] = {
  { "defaults", false, 0 },
  { "ro", false, MS_RDONLY },
  { "rw", true, MS_RDONLY },
  { "suid", true, MS_NOSUID },
  { "nosuid", false, MS_NOSUID },
  { "dev", true, MS_NODEV },
  { "nodev", false, MS_NODEV },
  { "exec", true, MS_NOEXEC },
  { "noexec", false, MS_NOEXEC },
  { "sync", false, MS_SYNCHRONOUS },
  { "async", true, MS_SYNCHRONOUS },
  { "dirsync", false, MS_DIRSYNC },
  { "remount", false, MS_REMOUNT },
  { "mand", false, MS_MANDLOCK },
  { "nomand", true, MS_MANDLOCK },
  { "atime", true, MS_NOATIME },
  { "noatime", false, MS_NOATIME },
  { "diratime", true, MS_NODIRATIME },
  { "nodiratime", false, MS_NODIRATIME },
  { "relatime", false, MS_RELATIME },
  { "norelatime", true, MS_RELATIME },
  { "strictatime", false, MS_STRICTATIME },
  { "nostrictatime", true, MS_STRICTATIME },
  { "lazytime", false, MS_LAZYTIME },
  { "nolazytime", true, MS_LAZYTIME },
  { "iversion", false, MS_I_VERSION },
  { "noiversion", true, MS_I_VERSION },
  { "silent", false, MS_SILENT },
  { "loud", true, MS_SILENT },
  { "symfollow", true, MS_NOSYMFOLLOW },
  { "nosymfollow", false, MS_NOSYMFOLLOW },
};

struct propagation
{
  const char *name;
  unsigned long flags;
};

static const struct propagation propagations[] = {
  { "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
  { "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
  { "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
  { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

static const struct propagation *
find_propagation (const char *name)
{
  for (size_t i = 0; i < sizeof (propagations) / sizeof (propagations[0]); i++)
    if (strcmp (propagations[i].name, name) == 0)
      return &propagations[i];
  return NULL;
}

static const struct mount_flag *
find_mount_flag (const char *name)
{
  for (size_t i = 0; i < sizeof (mount_flags) / sizeof (mount_flags[0]); i++)
    if (strcmp (mount_flags[i].name, name) == 0)
      return &mount_flags[i];
  return NULL;
}

/* runc's recursive attributes: "r" and one of these.  */
static bool
is_recursive_attr (const char *opt)
{
  static const char *const attrs[]
      = { "ro",      "rw",    "nosuid",      "suid",          "nodev",       "dev",
          "noexec",  "exec",  "nodiratime",  "diratime",      "relatime",    "norelatime",
          "noatime", "atime", "strictatime", "nostrictatime", "nosymfollow", "symfollow" };
  if (opt[0] != 'r')
    return false;
  for (size_t i = 0; i < sizeof (attrs) / sizeof (attrs[0]); i++)
    if (strcmp (attrs[i], opt + 1) == 0)
      return true;
  return false;
}

static void
apply_flag (sb_mount *m, const struct mount_flag *f)
{
  if (f->clear)
  {
    m->flags &= ~f->flag;
    m->clear_flags |= f->flag;
  }
  else
  {
    m->flags |= f->flag;
    m->clear_flags &= ~f->flag;
  }
}

/* One option, the way runc reads it.  The recursive attributes ("rro",
   "rnosuid", ... applied by runc through mount_setattr(AT_RECURSIVE)) have
   no field of their own in sb_mount: they set the plain flag and
   `recursive`, so the whole tree gets the flags.  Returns false for an
   option that belongs to the filesystem's data.  */
static bool
apply_mount_option (sb_mount *m, const char *opt)
{
  const struct propagation *prop = find_propagation (opt);
  const struct mount_flag *f = find_mount_flag (opt);

  if (*opt == '\0')
    return true;
  if (f != NULL)
    apply_flag (m, f);
  else if (prop != NULL)
    m->propagation = prop->flags;
  else if (strcmp (opt, "bind") == 0 || strcmp (opt, "rbind") == 0)
  {
    m->bind = true;
    m->recursive |= opt[0] == 'r';
    m->flags |= MS_BIND | (opt[0] == 'r' ? MS_REC : 0);
  }
  else if (strcmp (opt, "idmap") == 0 || strcmp (opt, "ridmap") == 0)
  {
    m->idmap = true;
    m->recursive |= opt[0] == 'r';
  }
  else if (strcmp (opt, "tmpcopyup") == 0)
    m->tmpcopyup = true;
  else if (is_recursive_attr (opt))
  {
    apply_flag (m, find_mount_flag (opt + 1));
    m->recursive = true;
  }
  else
    return false;
  return true;
}

/* Derives the flags and the comma-joined data, in one pass over the options
   so that a huge list stays linear.  */
static void
parse_mount_options (sb_mount *m)
{
  _cleanup_free_ char *data = NULL;
  size_t total = 1, used = 0;

  for (size_t i = 0; m->options && m->options[i]; i++)
    total += strlen (m->options[i]) + 1;
  data = sb_xmalloc0 (total);
  for (size_t i = 0; m->options && m->options[i]; i++)
  {
    if (apply_mount_option (m, m->options[i]))
      continue;
    if (used > 0)
      data[used++] = ',';
    used = (size_t)(stpcpy (data + used, m->options[i]) - data);
  }
  if (used > 0)
    m->data = sb_steal (&data);
}

static int
parse_mount (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_mount *m = item;

  if (req_abs_path (v, path, "destination", &m->destination, err) < 0
      || opt_str (v, path, "type", &m->type, err) < 0 || opt_str (v, path, "source", &m->source, err) < 0
      || opt_strv (v, path, "options", &m->options, err) < 0
      || opt_idmaps (v, path, "uidMappings", &m->uid_mappings, &m->n_uid_mappings, err) < 0
      || opt_idmaps (v, path, "gidMappings", &m->gid_mappings, &m->n_gid_mappings, err) < 0)
    return -1;
  if ((m->uid_mappings == NULL) != (m->gid_mappings == NULL))
    return ferr (err, path, NULL, "uidMappings and gidMappings must be given together");
  parse_mount_options (m);
  return 0;
}

/* ---- hooks ------------------------------------------------------------- */

static const char *const hook_names[SB_HOOK_KINDS] = {
  [SB_HOOK_PRESTART] = "prestart",
  [SB_HOOK_CREATE_RUNTIME] = "createRuntime",
  [SB_HOOK_CREATE_CONTAINER] = "createContainer",
  [SB_HOOK_START_CONTAINER] = "startContainer",
  [SB_HOOK_POSTSTART] = "poststart",
  [SB_HOOK_POSTSTOP] = "poststop",
};

static int
parse_hook (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_hook *h = item;
  uint64_t timeout;

  if (req_abs_path (v, path, "path", &h->path, err) < 0 || opt_strv (v, path, "args", &h->args, err) < 0
      || opt_strv (v, path, "env", &h->env, err) < 0
      || opt_u64 (v, path, "timeout", 1, INT_MAX, &h->has_timeout, &timeout, err) < 0)
    return -1;
  h->timeout = h->has_timeout ? (int)timeout : 0;
  return 0;
}

static int
parse_hooks (json_object *obj, sb_spec *spec, sb_err **err)
{
  json_object *hooks;

  if (opt_obj (obj, "", "hooks", &hooks, err) < 0)
    return -1;
  if (hooks == NULL)
    return 0;
  for (int k = 0; k < SB_HOOK_KINDS; k++)
    if (opt_array (hooks, "hooks", hook_names[k], sizeof (sb_hook), SIZE_MAX, parse_hook, &spec->hooks[k],
                   &spec->n_hooks[k], err)
        < 0)
      return -1;
  return 0;
}

/* ---- linux: namespaces, devices ---------------------------------------- */

static const char *const ns_names[SB_NS_KINDS] = {
  [SB_NS_PID] = "pid", [SB_NS_NETWORK] = "network", [SB_NS_MOUNT] = "mount",   [SB_NS_IPC] = "ipc",
  [SB_NS_UTS] = "uts", [SB_NS_USER] = "user",       [SB_NS_CGROUP] = "cgroup", [SB_NS_TIME] = "time",
};

static const char *const ns_proc_names[SB_NS_KINDS] = {
  [SB_NS_PID] = "pid", [SB_NS_NETWORK] = "net", [SB_NS_MOUNT] = "mnt",     [SB_NS_IPC] = "ipc",
  [SB_NS_UTS] = "uts", [SB_NS_USER] = "user",   [SB_NS_CGROUP] = "cgroup", [SB_NS_TIME] = "time",
};

static const int ns_flags[SB_NS_KINDS] = {
  [SB_NS_PID] = CLONE_NEWPID,       [SB_NS_NETWORK] = CLONE_NEWNET, [SB_NS_MOUNT] = CLONE_NEWNS,
  [SB_NS_IPC] = CLONE_NEWIPC,       [SB_NS_UTS] = CLONE_NEWUTS,     [SB_NS_USER] = CLONE_NEWUSER,
  [SB_NS_CGROUP] = CLONE_NEWCGROUP, [SB_NS_TIME] = CLONE_NEWTIME,
};

static int
parse_namespace (json_object *v, const char *path, sb_linux *l, sb_err **err)
{
  _cleanup_free_ char *type = NULL;
  int k;

  if (req_str (v, path, "type", &type, err) < 0)
    return -1;
  for (k = 0; k < SB_NS_KINDS; k++)
    if (strcmp (ns_names[k], type) == 0)
      break;
  if (k == SB_NS_KINDS)
    return ferr (err, path, "type", "unknown namespace type \"%s\"", type);
  if (l->namespaces[k].present)
    return ferr (err, path, "type", "duplicate namespace type \"%s\"", type);
  l->namespaces[k].present = true;
  if (opt_str (v, path, "path", &l->namespaces[k].path, err) < 0)
    return -1;
  return check_abs (l->namespaces[k].path, path, "path", err);
}

static int
parse_namespaces (json_object *lin, sb_linux *l, sb_err **err)
{
  json_object *v = member (lin, "namespaces");

  if (v == NULL)
    return 0;
  if (want (v, json_type_array, "an array", "linux", "namespaces", err) < 0)
    return -1;
  for (size_t i = 0; i < json_object_array_length (v); i++)
  {
    _cleanup_free_ char *p = sb_xasprintf ("linux.namespaces[%zu]", i);
    json_object *e = json_object_array_get_idx (v, i);
    if (want (e, json_type_object, "an object", p, NULL, err) < 0 || parse_namespace (e, p, l, err) < 0)
      return -1;
  }
  return 0;
}

static int
parse_device (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_device *d = item;
  _cleanup_free_ char *type = NULL;
  uint64_t mode = 0;

  if (req_str (v, path, "type", &type, err) < 0)
    return -1;
  if (strlen (type) != 1 || strchr ("cbup", type[0]) == NULL)
    return ferr (err, path, "type", "unknown device type \"%s\" (want c, b, u or p)", type);
  d->type = type[0];
  if (req_abs_path (v, path, "path", &d->path, err) < 0)
    return -1;
  /* A FIFO has no device number.  */
  if (d->type != 'p'
      && (req_i64 (v, path, "major", &d->major, err) < 0 || req_i64 (v, path, "minor", &d->minor, err) < 0))
    return -1;
  if (opt_u64 (v, path, "fileMode", 0, 07777, &d->has_file_mode, &mode, err) < 0
      || opt_u32 (v, path, "uid", &d->has_uid, &d->uid, err) < 0
      || opt_u32 (v, path, "gid", &d->has_gid, &d->gid, err) < 0)
    return -1;
  d->file_mode = (uint32_t)mode;
  return 0;
}

/* ---- linux.resources --------------------------------------------------- */

static int
parse_device_rule (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_device_rule *r = item;
  _cleanup_free_ char *type = NULL;
  sb_opt_i64 major = { 0 }, minor = { 0 };
  json_object *allow = member (v, "allow");

  if (allow == NULL)
    return missing (path, "allow", err);
  if (opt_bool (v, path, "allow", &r->allow, err) < 0 || opt_str (v, path, "type", &type, err) < 0
      || opt_i64 (v, path, "major", -1, INT64_MAX, &major, err) < 0
      || opt_i64 (v, path, "minor", -1, INT64_MAX, &minor, err) < 0
      || opt_str (v, path, "access", &r->access, err) < 0)
    return -1;
  if (type != NULL && (strlen (type) != 1 || strchr ("acb", type[0]) == NULL))
    return ferr (err, path, "type", "unknown device type \"%s\" (want a, c or b)", type);
  r->type = type ? type[0] : 'a';
  r->major = major.set ? major.v : -1;
  r->minor = minor.set ? minor.v : -1;
  /* runc reads a missing access as all of them.  */
  if (r->access == NULL)
    r->access = sb_xstrdup ("rwm");
  if (r->access[strspn (r->access, "rwm")] != '\0')
    return ferr (err, path, "access", "invalid access \"%s\" (want a combination of r, w and m)", r->access);
  return 0;
}

static int
parse_weight_device (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_weight_device *d = item;
  uint32_t w = 0, lw = 0;

  if (req_i64 (v, path, "major", &d->major, err) < 0 || req_i64 (v, path, "minor", &d->minor, err) < 0
      || opt_u32 (v, path, "weight", &d->has_weight, &w, err) < 0
      || opt_u32 (v, path, "leafWeight", &d->has_leaf_weight, &lw, err) < 0)
    return -1;
  if (w > UINT16_MAX || lw > UINT16_MAX)
    return ferr (err, path, w > UINT16_MAX ? "weight" : "leafWeight",
                 "expected an integer in 0..65535, got %u", w > UINT16_MAX ? w : lw);
  d->weight = (uint16_t)w;
  d->leaf_weight = (uint16_t)lw;
  return 0;
}

static int
parse_throttle_device (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_throttle_device *d = item;

  if (req_i64 (v, path, "major", &d->major, err) < 0 || req_i64 (v, path, "minor", &d->minor, err) < 0
      || req_u64 (v, path, "rate", UINT64_MAX, &d->rate, err) < 0)
    return -1;
  return 0;
}

static int
parse_hugepage (json_object *v, const char *path, void *item, sb_err **err)
{
  struct sb_hugepage *h = item;

  if (req_str (v, path, "pageSize", &h->page_size, err) < 0
      || req_u64 (v, path, "limit", UINT64_MAX, &h->limit, err) < 0)
    return -1;
  return 0;
}

static int
parse_memory (json_object *res, const char *path, sb_resources *r, sb_err **err)
{
  _cleanup_free_ char *p = sub (path, "memory");
  json_object *m, *swappiness;

  if (opt_obj (res, path, "memory", &m, err) < 0)
    return -1;
  if (m == NULL)
    return 0;
  if (opt_i64 (m, p, "limit", INT64_MIN, INT64_MAX, &r->memory.limit, err) < 0
      || opt_i64 (m, p, "reservation", INT64_MIN, INT64_MAX, &r->memory.reservation, err) < 0
      || opt_i64 (m, p, "swap", INT64_MIN, INT64_MAX, &r->memory.swap, err) < 0
      || opt_i64 (m, p, "kernel", INT64_MIN, INT64_MAX, &r->memory.kernel, err) < 0
      || opt_i64 (m, p, "kernelTCP", INT64_MIN, INT64_MAX, &r->memory.kernel_tcp, err) < 0
      || opt_bool (m, p, "disableOOMKiller", &r->memory.disable_oom_killer, err) < 0
      || opt_bool (m, p, "useHierarchy", &r->memory.use_hierarchy, err) < 0)
    return -1;
  /* swappiness is a uint64 where runc reads (uint64)-1 as "not set".  */
  swappiness = member (m, "swappiness");
  if (swappiness != NULL && json_object_is_type (swappiness, json_type_int)
      && json_object_get_uint64 (swappiness) == UINT64_MAX)
    return 0;
  return opt_i64 (m, p, "swappiness", 0, INT64_MAX, &r->memory.swappiness, err);
}

static int
parse_cpu (json_object *res, const char *path, sb_resources *r, sb_err **err)
{
  _cleanup_free_ char *p = sub (path, "cpu");
  json_object *c;

  if (opt_obj (res, path, "cpu", &c, err) < 0)
    return -1;
  if (c == NULL)
    return 0;
  /* The unsigned fields of the spec (shares, period, ...) stop at INT64_MAX:
     no cgroup knob takes more.  */
  if (opt_i64 (c, p, "shares", 0, INT64_MAX, &r->cpu.shares, err) < 0
      || opt_i64 (c, p, "quota", INT64_MIN, INT64_MAX, &r->cpu.quota, err) < 0
      || opt_i64 (c, p, "period", 0, INT64_MAX, &r->cpu.period, err) < 0
      || opt_i64 (c, p, "realtimeRuntime", INT64_MIN, INT64_MAX, &r->cpu.realtime_runtime, err) < 0
      || opt_i64 (c, p, "realtimePeriod", 0, INT64_MAX, &r->cpu.realtime_period, err) < 0
      || opt_i64 (c, p, "idle", INT64_MIN, INT64_MAX, &r->cpu.idle, err) < 0
      || opt_i64 (c, p, "burst", 0, INT64_MAX, &r->cpu.burst, err) < 0
      || opt_str (c, p, "cpus", &r->cpu.cpus, err) < 0 || opt_str (c, p, "mems", &r->cpu.mems, err) < 0)
    return -1;
  return 0;
}

static int
parse_pids (json_object *res, const char *path, sb_resources *r, sb_err **err)
{
  _cleanup_free_ char *p = sub (path, "pids");
  json_object *pids;

  if (opt_obj (res, path, "pids", &pids, err) < 0)
    return -1;
  if (pids == NULL)
    return 0;
  return opt_i64 (pids, p, "limit", INT64_MIN, INT64_MAX, &r->pids.limit, err);
}

static int
parse_blkio (json_object *res, const char *path, sb_resources *r, sb_err **err)
{
  _cleanup_free_ char *p = sub (path, "blockIO");
  json_object *b;

  if (opt_obj (res, path, "blockIO", &b, err) < 0)
    return -1;
  if (b == NULL)
    return 0;
  if (opt_i64 (b, p, "weight", 0, UINT16_MAX, &r->blkio.weight, err) < 0
      || opt_i64 (b, p, "leafWeight", 0, UINT16_MAX, &r->blkio.leaf_weight, err) < 0
      || opt_array (b, p, "weightDevice", sizeof (sb_weight_device), SIZE_MAX, parse_weight_device,
                    &r->blkio.weight_devices, &r->blkio.n_weight_devices, err)
             < 0
      || opt_array (b, p, "throttleReadBpsDevice", sizeof (sb_throttle_device), SIZE_MAX,
                    parse_throttle_device, &r->blkio.throttle_read_bps, &r->blkio.n_throttle_read_bps, err)
             < 0
      || opt_array (b, p, "throttleWriteBpsDevice", sizeof (sb_throttle_device), SIZE_MAX,
                    parse_throttle_device, &r->blkio.throttle_write_bps, &r->blkio.n_throttle_write_bps, err)
             < 0
      || opt_array (b, p, "throttleReadIOPSDevice", sizeof (sb_throttle_device), SIZE_MAX,
                    parse_throttle_device, &r->blkio.throttle_read_iops, &r->blkio.n_throttle_read_iops, err)
             < 0
      || opt_array (b, p, "throttleWriteIOPSDevice", sizeof (sb_throttle_device), SIZE_MAX,
                    parse_throttle_device, &r->blkio.throttle_write_iops, &r->blkio.n_throttle_write_iops,
                    err)
             < 0)
    return -1;
  return 0;
}

static int
parse_resources (json_object *lin, sb_linux *l, sb_err **err)
{
  const char *p = "linux.resources";
  json_object *res;
  sb_resources *r;

  if (opt_obj (lin, "linux", "resources", &res, err) < 0)
    return -1;
  if (res == NULL)
    return 0;
  r = l->resources = sb_xmalloc0 (sizeof (*r));
  if (parse_memory (res, p, r, err) < 0 || parse_cpu (res, p, r, err) < 0 || parse_pids (res, p, r, err) < 0
      || parse_blkio (res, p, r, err) < 0
      || opt_array (res, p, "hugepageLimits", sizeof (struct sb_hugepage), SIZE_MAX, parse_hugepage,
                    &r->hugepage_limits, &r->n_hugepage_limits, err)
             < 0
      || opt_array (res, p, "devices", sizeof (sb_device_rule), SIZE_MAX, parse_device_rule, &r->devices,
                    &r->n_devices, err)
             < 0
      || opt_map (res, p, "unified", &r->unified, &r->n_unified, err) < 0)
    return -1;
  return 0;
}

/* ---- linux.seccomp ----------------------------------------------------- */

static int
parse_seccomp_arg (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_seccomp_arg *a = item;
  uint64_t index;

  /* A syscall has six argument registers.  */
  if (req_u64 (v, path, "index", 5, &index, err) < 0
      || req_u64 (v, path, "value", UINT64_MAX, &a->value, err) < 0
      || opt_u64 (v, path, "valueTwo", 0, UINT64_MAX, NULL, &a->value_two, err) < 0
      || req_str (v, path, "op", &a->op, err) < 0)
    return -1;
  a->index = (uint32_t)index;
  return 0;
}

static int
parse_syscall (json_object *v, const char *path, void *item, sb_err **err)
{
  sb_seccomp_rule *s = item;
  json_object *names = member (v, "names");

  if (names == NULL)
    return missing (path, "names", err);
  if (get_strv (names, path, "names", &s->names, err) < 0)
    return -1;
  if (s->names[0] == NULL)
    return ferr (err, path, "names", "must contain at least one syscall name");
  if (req_str (v, path, "action", &s->action, err) < 0
      || opt_u32 (v, path, "errnoRet", &s->has_errno_ret, &s->errno_ret, err) < 0
      || opt_array (v, path, "args", sizeof (sb_seccomp_arg), SIZE_MAX, parse_seccomp_arg, &s->args,
                    &s->n_args, err)
             < 0)
    return -1;
  return 0;
}

static int
parse_seccomp (json_object *lin, sb_linux *l, sb_err **err)
{
  const char *p = "linux.seccomp";
  json_object *v;
  sb_seccomp *s;

  if (opt_obj (lin, "linux", "seccomp", &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  s = l->seccomp = sb_xmalloc0 (sizeof (*s));
  if (req_str (v, p, "defaultAction", &s->default_action, err) < 0
      || opt_u32 (v, p, "defaultErrnoRet", &s->has_default_errno_ret, &s->default_errno_ret, err) < 0
      || opt_strv (v, p, "architectures", &s->architectures, err) < 0
      || opt_strv (v, p, "flags", &s->flags, err) < 0
      || opt_str (v, p, "listenerPath", &s->listener_path, err) < 0
      || opt_str (v, p, "listenerMetadata", &s->listener_metadata, err) < 0
      || opt_array (v, p, "syscalls", sizeof (sb_seccomp_rule), SIZE_MAX, parse_syscall, &s->syscalls,
                    &s->n_syscalls, err)
             < 0)
    return -1;
  return 0;
}

/* ---- linux: the rest --------------------------------------------------- */

static int
parse_rootfs_propagation (json_object *lin, sb_linux *l, sb_err **err)
{
  _cleanup_free_ char *s = NULL;
  const struct propagation *prop;

  if (opt_str (lin, "linux", "rootfsPropagation", &s, err) < 0)
    return -1;
  if (s == NULL || *s == '\0')
    return 0;
  prop = find_propagation (s);
  if (prop == NULL)
    return ferr (err, "linux", "rootfsPropagation",
                 "unknown propagation \"%s\" (want [r]private, [r]slave, [r]shared or [r]unbindable)", s);
  l->rootfs_propagation = prop->flags;
  return 0;
}

static int
parse_personality (json_object *lin, sb_linux *l, sb_err **err)
{
  json_object *v;
  _cleanup_strv_ char **flags = NULL;

  if (opt_obj (lin, "linux", "personality", &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  l->has_personality = true;
  if (req_str (v, "linux.personality", "domain", &l->personality_domain, err) < 0
      || opt_strv (v, "linux.personality", "flags", &flags, err) < 0)
    return -1;
  if (strcmp (l->personality_domain, "LINUX") != 0 && strcmp (l->personality_domain, "LINUX32") != 0)
    return ferr (err, "linux.personality", "domain", "unknown domain \"%s\" (want LINUX or LINUX32)",
                 l->personality_domain);
  return 0;
}

static int
parse_time_offsets (json_object *lin, sb_linux *l, sb_err **err)
{
  static const char *const clocks[2] = { "monotonic", "boottime" };
  const char *p = "linux.timeOffsets";
  json_object *v;

  if (opt_obj (lin, "linux", "timeOffsets", &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  l->has_time_offsets = true;
  json_object_object_foreach (v, name, off)
  {
    _cleanup_free_ char *cp = sub (p, name);
    uint64_t ns = 0;
    int c = strcmp (name, clocks[0]) == 0 ? 0 : strcmp (name, clocks[1]) == 0 ? 1 : -1;

    if (c < 0)
      return ferr (err, p, name, "unknown clock (want monotonic or boottime)");
    if (want (off, json_type_object, "an object", p, name, err) < 0)
      return -1;
    if (member (off, "secs") != NULL
        && get_i64 (member (off, "secs"), cp, "secs", INT64_MIN, INT64_MAX, &l->time_offsets[c].secs, err)
               < 0)
      return -1;
    if (opt_u64 (off, cp, "nanosecs", 0, 999999999, NULL, &ns, err) < 0)
      return -1;
    l->time_offsets[c].nanosecs = (uint32_t)ns;
  }
  return 0;
}

static int
parse_linux (json_object *obj, sb_linux *l, sb_err **err)
{
  const char *p = "linux";
  json_object *lin;

  if (opt_obj (obj, "", "linux", &lin, err) < 0)
    return -1;
  if (lin == NULL)
    return 0;
  if (parse_namespaces (lin, l, err) < 0
      || opt_idmaps (lin, p, "uidMappings", &l->uid_mappings, &l->n_uid_mappings, err) < 0
      || opt_idmaps (lin, p, "gidMappings", &l->gid_mappings, &l->n_gid_mappings, err) < 0
      || opt_array (lin, p, "devices", sizeof (sb_device), SIZE_MAX, parse_device, &l->devices, &l->n_devices,
                    err)
             < 0
      || opt_str (lin, p, "cgroupsPath", &l->cgroups_path, err) < 0 || parse_resources (lin, l, err) < 0
      || opt_map (lin, p, "sysctl", &l->sysctl, &l->n_sysctl, err) < 0 || parse_seccomp (lin, l, err) < 0
      || parse_rootfs_propagation (lin, l, err) < 0
      || opt_abs_strv (lin, p, "maskedPaths", &l->masked_paths, err) < 0
      || opt_abs_strv (lin, p, "readonlyPaths", &l->readonly_paths, err) < 0
      || opt_str (lin, p, "mountLabel", &l->mount_label, err) < 0 || parse_personality (lin, l, err) < 0
      || parse_time_offsets (lin, l, err) < 0)
    return -1;
  return 0;
}

/* ---- top level --------------------------------------------------------- */

static int
parse_version (json_object *obj, sb_spec *spec, sb_err **err)
{
  if (req_str (obj, "", "ociVersion", &spec->oci_version, err) < 0)
    return -1;
  if (strncmp (spec->oci_version, "1.", 2) != 0)
    return ferr (err, "", "ociVersion", "unsupported version \"%s\" (want 1.x)", spec->oci_version);
  return 0;
}

static int
parse_root (json_object *obj, sb_spec *spec, sb_err **err)
{
  json_object *root;

  if (opt_obj (obj, "", "root", &root, err) < 0)
    return -1;
  if (root == NULL)
    return missing ("", "root", err);
  if (req_str (root, "root", "path", &spec->root_path, err) < 0
      || opt_bool (root, "root", "readonly", &spec->root_readonly, err) < 0)
    return -1;
  return 0;
}

static int
parse_spec_obj (json_object *obj, sb_spec *spec, sb_err **err)
{
  json_object *proc;

  if (parse_version (obj, spec, err) < 0 || parse_root (obj, spec, err) < 0
      || opt_str (obj, "", "hostname", &spec->hostname, err) < 0
      || opt_str (obj, "", "domainname", &spec->domainname, err) < 0
      || opt_obj (obj, "", "process", &proc, err) < 0)
    return -1;
  if (proc != NULL)
  {
    spec->process = sb_xmalloc0 (sizeof (sb_process));
    if (parse_process_obj (proc, "process", spec->process, err) < 0)
      return -1;
  }
  if (opt_array (obj, "", "mounts", sizeof (sb_mount), SIZE_MAX, parse_mount, &spec->mounts, &spec->n_mounts,
                 err)
          < 0
      || parse_hooks (obj, spec, err) < 0
      || opt_map (obj, "", "annotations", &spec->annotations, &spec->n_annotations, err) < 0
      || parse_linux (obj, &spec->linux, err) < 0)
    return -1;
  return 0;
}

int
sb_spec_parse (const char *json, size_t len, sb_spec **out, sb_err **err)
{
  _cleanup_json_ json_object *obj = NULL;
  _cleanup_spec_ sb_spec *spec = sb_xmalloc0 (sizeof (*spec));

  if (parse_text (json, len, &obj, err) < 0 || parse_spec_obj (obj, spec, err) < 0)
    return sb_error_wrap (err, "config.json");
  *out = sb_steal (&spec);
  return 0;
}

int
sb_process_parse (const char *json, size_t len, sb_process **out, sb_err **err)
{
  _cleanup_json_ json_object *obj = NULL;
  _cleanup_process_ sb_process *p = sb_xmalloc0 (sizeof (*p));

  if (parse_text (json, len, &obj, err) < 0 || parse_process_obj (obj, "process", p, err) < 0)
    return -1;
  *out = sb_steal (&p);
  return 0;
}

/* Reads at most SB_SPEC_MAX_SIZE bytes of an open regular file.  */
static int
read_config (int fd, const char *bundle, char **out, size_t *len, sb_err **err)
{
  _cleanup_free_ char *buf = NULL;
  struct stat st;
  ssize_t n;

  if (fstat (fd, &st) < 0)
    return sb_error (err, errno, "bundle %s: config.json", bundle);
  if (!S_ISREG (st.st_mode))
    return sb_error (err, 0, "bundle %s: config.json: not a regular file", bundle);
  if (st.st_size > (off_t)SB_SPEC_MAX_SIZE)
    return sb_error (err, 0, "bundle %s: config.json: larger than %u bytes", bundle, SB_SPEC_MAX_SIZE);
  /* One byte more than its size tells a file that grew meanwhile.  */
  buf = sb_xmalloc0 ((size_t)st.st_size + 1);
  n = sb_read_all (fd, buf, (size_t)st.st_size + 1);
  if (n < 0)
    return sb_error (err, errno, "bundle %s: config.json: read", bundle);
  if (n > st.st_size)
    return sb_error (err, 0, "bundle %s: config.json: changed while being read", bundle);
  *len = (size_t)n;
  *out = sb_steal (&buf);
  return 0;
}

int
sb_spec_load (const char *bundle, sb_spec **out, sb_err **err)
{
  _cleanup_close_ int dirfd = open (bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  _cleanup_close_ int fd = -1;
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;

  if (dirfd < 0)
    return sb_error (err, errno, "bundle %s", bundle);
  fd = openat (dirfd, "config.json", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return sb_error (err, errno, "bundle %s: config.json", bundle);
  if (read_config (fd, bundle, &buf, &len, err) < 0)
    return -1;
  if (sb_spec_parse (buf, len, out, err) < 0)
    return sb_error_wrap (err, "bundle %s", bundle);
  return 0;
}

/* ---- freeing ----------------------------------------------------------- */

static void
free_kvs (sb_kv *kv, size_t n)
{
  for (size_t i = 0; i < n; i++)
  {
    free (kv[i].key);
    free (kv[i].value);
  }
  free (kv);
}

void
sb_process_free (sb_process *p)
{
  if (p == NULL)
    return;
  free (p->additional_gids);
  sb_strv_free (p->args);
  sb_strv_free (p->env);
  free (p->cwd);
  sb_strv_free (p->caps.bounding);
  sb_strv_free (p->caps.effective);
  sb_strv_free (p->caps.inheritable);
  sb_strv_free (p->caps.permitted);
  sb_strv_free (p->caps.ambient);
  for (size_t i = 0; i < p->n_rlimits; i++)
    free (p->rlimits[i].type);
  free (p->rlimits);
  free (p->apparmor_profile);
  free (p->selinux_label);
  free (p);
}

static void
free_mount (sb_mount *m)
{
  free (m->destination);
  free (m->type);
  free (m->source);
  sb_strv_free (m->options);
  free (m->uid_mappings);
  free (m->gid_mappings);
  free (m->data);
}

static void
free_resources (sb_resources *r)
{
  if (r == NULL)
    return;
  free (r->cpu.cpus);
  free (r->cpu.mems);
  free (r->blkio.weight_devices);
  free (r->blkio.throttle_read_bps);
  free (r->blkio.throttle_write_bps);
  free (r->blkio.throttle_read_iops);
  free (r->blkio.throttle_write_iops);
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    free (r->hugepage_limits[i].page_size);
  free (r->hugepage_limits);
  for (size_t i = 0; i < r->n_devices; i++)
    free (r->devices[i].access);
  free (r->devices);
  free_kvs (r->unified, r->n_unified);
  free (r);
}

static void
free_seccomp (sb_seccomp *s)
{
  if (s == NULL)
    return;
  free (s->default_action);
  sb_strv_free (s->architectures);
  sb_strv_free (s->flags);
  free (s->listener_path);
  free (s->listener_metadata);
  for (size_t i = 0; i < s->n_syscalls; i++)
  {
    sb_strv_free (s->syscalls[i].names);
    free (s->syscalls[i].action);
    for (size_t j = 0; j < s->syscalls[i].n_args; j++)
      free (s->syscalls[i].args[j].op);
    free (s->syscalls[i].args);
  }
  free (s->syscalls);
  free (s);
}

static void
free_linux (sb_linux *l)
{
  for (int k = 0; k < SB_NS_KINDS; k++)
    free (l->namespaces[k].path);
  free (l->uid_mappings);
  free (l->gid_mappings);
  for (size_t i = 0; i < l->n_devices; i++)
    free (l->devices[i].path);
  free (l->devices);
  free (l->cgroups_path);
  free_resources (l->resources);
  free_kvs (l->sysctl, l->n_sysctl);
  free_seccomp (l->seccomp);
  sb_strv_free (l->masked_paths);
  sb_strv_free (l->readonly_paths);
  free (l->mount_label);
  free (l->personality_domain);
}

void
sb_spec_free (sb_spec *spec)
{
  if (spec == NULL)
    return;
  free (spec->oci_version);
  free (spec->root_path);
  free (spec->hostname);
  free (spec->domainname);
  sb_process_free (spec->process);
  for (size_t i = 0; i < spec->n_mounts; i++)
    free_mount (&spec->mounts[i]);
  free (spec->mounts);
  for (int k = 0; k < SB_HOOK_KINDS; k++)
  {
    for (size_t i = 0; i < spec->n_hooks[k]; i++)
    {
      free (spec->hooks[k][i].path);
      sb_strv_free (spec->hooks[k][i].args);
      sb_strv_free (spec->hooks[k][i].env);
    }
    free (spec->hooks[k]);
  }
  free_kvs (spec->annotations, spec->n_annotations);
  free_linux (&spec->linux);
  free (spec);
}

void
sb_spec_freep (sb_spec **spec)
{
  sb_spec_free (*spec);
  *spec = NULL;
}

void
sb_process_freep (sb_process **p)
{
  sb_process_free (*p);
  *p = NULL;
}

/* ---- lookups ----------------------------------------------------------- */

const char *
sb_spec_annotation (const sb_spec *spec, const char *key)
{
  for (size_t i = 0; spec != NULL && i < spec->n_annotations; i++)
    if (strcmp (spec->annotations[i].key, key) == 0)
      return spec->annotations[i].value;
  return NULL;
}

const char *
sb_ns_name (enum sb_ns_kind kind)
{
  return (unsigned)kind < SB_NS_KINDS ? ns_names[kind] : NULL;
}

const char *
sb_ns_proc_name (enum sb_ns_kind kind)
{
  return (unsigned)kind < SB_NS_KINDS ? ns_proc_names[kind] : NULL;
}

int
sb_ns_clone_flag (enum sb_ns_kind kind)
{
  return (unsigned)kind < SB_NS_KINDS ? ns_flags[kind] : 0;
}

const char *
sb_hook_kind_name (enum sb_hook_kind kind)
{
  return (unsigned)kind < SB_HOOK_KINDS ? hook_names[kind] : NULL;
}

/* ---- the default spec -------------------------------------------------- */

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

static json_object *
default_linux (bool rootless)
{
  static const char *const masked[] = { "/proc/acpi",
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
  static const char *const readonly[]
      = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL };
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
  json_object_object_add (l, "maskedPaths", jstrv (masked));
  json_object_object_add (l, "readonlyPaths", jstrv (readonly));
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
