/* The JSON layer of the config.json parser: strict parsing of the text and
   typed access to its fields, with errors naming the field by its path
   ("process.user.uid: expected an integer ...").  The declarations and the
   conventions shared by the accessors are in spec-json.h.  */
#include "spec-json.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "util.h"

void
sb_json_putp (json_object **o)
{
  json_object_put (*o);
}

static void
tokener_freep (struct json_tokener **t)
{
  if (*t != NULL)
    json_tokener_free (*t);
}

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
int
sb_json_parse_text (const char *json, size_t len, json_object **out, sb_err **err)
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
int
sb_json_ferr (sb_err **err, const char *path, const char *key, const char *fmt, ...)
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

char *
sb_json_sub (const char *path, const char *key)
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

json_object *
sb_json_member (json_object *obj, const char *key)
{
  json_object *v = NULL;
  json_object_object_get_ex (obj, key, &v);
  return v;
}

int
sb_json_want (json_object *v, json_type type, const char *what, const char *path, const char *key,
              sb_err **err)
{
  if (json_object_is_type (v, type))
    return 0;
  return sb_json_ferr (err, path, key, "expected %s, got %s", what, kind (v));
}

int
sb_json_missing (const char *path, const char *key, sb_err **err)
{
  return sb_json_ferr (err, path, key, "required field is missing");
}

int
sb_json_get_str (json_object *v, const char *path, const char *key, char **out, sb_err **err)
{
  if (sb_json_want (v, json_type_string, "a string", path, key, err) < 0)
    return -1;
  if (strlen (json_object_get_string (v)) != (size_t)json_object_get_string_len (v))
    return sb_json_ferr (err, path, key, "contains a NUL character");
  *out = sb_xstrdup (json_object_get_string (v));
  return 0;
}

int
sb_json_opt_str (json_object *obj, const char *path, const char *key, char **out, sb_err **err)
{
  json_object *v = sb_json_member (obj, key);
  return v ? sb_json_get_str (v, path, key, out, err) : 0;
}

int
sb_json_req_str (json_object *obj, const char *path, const char *key, char **out, sb_err **err)
{
  json_object *v = sb_json_member (obj, key);
  if (v == NULL)
    return sb_json_missing (path, key, err);
  if (sb_json_get_str (v, path, key, out, err) < 0)
    return -1;
  if (**out == '\0')
    return sb_json_ferr (err, path, key, "must not be empty");
  return 0;
}

int
sb_json_check_abs (const char *s, const char *path, const char *key, sb_err **err)
{
  if (s != NULL && s[0] != '/')
    return sb_json_ferr (err, path, key, "must be an absolute path, got \"%s\"", s);
  return 0;
}

int
sb_json_req_abs_path (json_object *obj, const char *path, const char *key, char **out, sb_err **err)
{
  if (sb_json_req_str (obj, path, key, out, err) < 0)
    return -1;
  return sb_json_check_abs (*out, path, key, err);
}

int
sb_json_opt_bool (json_object *obj, const char *path, const char *key, bool *out, sb_err **err)
{
  json_object *v = sb_json_member (obj, key);
  if (v == NULL)
    return 0;
  if (sb_json_want (v, json_type_boolean, "a boolean", path, key, err) < 0)
    return -1;
  *out = json_object_get_boolean (v);
  return 0;
}

/* json-c keeps integers above INT64_MAX as uint64: get_int64 saturates them
   and get_uint64 reads them exactly; negatives only fit get_int64.  */
int
sb_json_get_u64 (json_object *v, const char *path, const char *key, uint64_t min, uint64_t max, uint64_t *out,
                 sb_err **err)
{
  uint64_t x;

  if (!json_object_is_type (v, json_type_int))
    return sb_json_ferr (err, path, key, "expected an integer in %" PRIu64 "..%" PRIu64 ", got %s", min, max,
                         json_object_is_type (v, json_type_double) ? json_object_get_string (v) : kind (v));
  x = json_object_get_uint64 (v);
  if (json_object_get_int64 (v) < 0 || x < min || x > max)
    return sb_json_ferr (err, path, key, "expected an integer in %" PRIu64 "..%" PRIu64 ", got %s", min, max,
                         json_object_to_json_string (v));
  *out = x;
  return 0;
}

int
sb_json_get_i64 (json_object *v, const char *path, const char *key, int64_t min, int64_t max, int64_t *out,
                 sb_err **err)
{
  int64_t x;

  if (!json_object_is_type (v, json_type_int))
    return sb_json_ferr (err, path, key, "expected an integer in %" PRId64 "..%" PRId64 ", got %s", min, max,
                         json_object_is_type (v, json_type_double) ? json_object_get_string (v) : kind (v));
  x = json_object_get_int64 (v);
  if (x < min || x > max || (x == INT64_MAX && json_object_get_uint64 (v) > INT64_MAX))
    return sb_json_ferr (err, path, key, "expected an integer in %" PRId64 "..%" PRId64 ", got %s", min, max,
                         json_object_to_json_string (v));
  *out = x;
  return 0;
}

/* Optional integer field; *has (may be NULL) says whether it was given.  */
int
sb_json_opt_u64 (json_object *obj, const char *path, const char *key, uint64_t min, uint64_t max, bool *has,
                 uint64_t *out, sb_err **err)
{
  json_object *v = sb_json_member (obj, key);
  if (v == NULL)
    return 0;
  if (sb_json_get_u64 (v, path, key, min, max, out, err) < 0)
    return -1;
  if (has)
    *has = true;
  return 0;
}

int
sb_json_req_u64 (json_object *obj, const char *path, const char *key, uint64_t max, uint64_t *out,
                 sb_err **err)
{
  json_object *v = sb_json_member (obj, key);
  if (v == NULL)
    return sb_json_missing (path, key, err);
  return sb_json_get_u64 (v, path, key, 0, max, out, err);
}

int
sb_json_opt_u32 (json_object *obj, const char *path, const char *key, bool *has, uint32_t *out, sb_err **err)
{
  uint64_t x = *out;
  if (sb_json_opt_u64 (obj, path, key, 0, UINT32_MAX, has, &x, err) < 0)
    return -1;
  *out = (uint32_t)x;
  return 0;
}

int
sb_json_req_u32 (json_object *obj, const char *path, const char *key, uint32_t *out, sb_err **err)
{
  uint64_t x;
  if (sb_json_req_u64 (obj, path, key, UINT32_MAX, &x, err) < 0)
    return -1;
  *out = (uint32_t)x;
  return 0;
}

int
sb_json_opt_i64 (json_object *obj, const char *path, const char *key, int64_t min, int64_t max,
                 sb_opt_i64 *out, sb_err **err)
{
  json_object *v = sb_json_member (obj, key);
  if (v == NULL)
    return 0;
  if (sb_json_get_i64 (v, path, key, min, max, &out->v, err) < 0)
    return -1;
  out->set = true;
  return 0;
}

int
sb_json_req_i64 (json_object *obj, const char *path, const char *key, int64_t *out, sb_err **err)
{
  json_object *v = sb_json_member (obj, key);
  if (v == NULL)
    return sb_json_missing (path, key, err);
  return sb_json_get_i64 (v, path, key, INT64_MIN, INT64_MAX, out, err);
}

/* A JSON array of strings to a NULL-terminated vector.  */
int
sb_json_get_strv (json_object *v, const char *path, const char *key, char ***out, sb_err **err)
{
  size_t n;

  if (sb_json_want (v, json_type_array, "an array of strings", path, key, err) < 0)
    return -1;
  n = json_object_array_length (v);
  *out = sb_xmalloc0 ((n + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_free_ char *k = sb_xasprintf ("%s[%zu]", key, i);
      if (sb_json_get_str (json_object_array_get_idx (v, i), path, k, &(*out)[i], err) < 0)
        return -1;
    }
  return 0;
}

int
sb_json_opt_strv (json_object *obj, const char *path, const char *key, char ***out, sb_err **err)
{
  json_object *v = sb_json_member (obj, key);
  return v ? sb_json_get_strv (v, path, key, out, err) : 0;
}

int
sb_json_opt_abs_strv (json_object *obj, const char *path, const char *key, char ***out, sb_err **err)
{
  if (sb_json_opt_strv (obj, path, key, out, err) < 0)
    return -1;
  for (size_t i = 0; *out && (*out)[i]; i++)
    {
      _cleanup_free_ char *k = sb_xasprintf ("%s[%zu]", key, i);
      if (sb_json_check_abs ((*out)[i], path, k, err) < 0)
        return -1;
    }
  return 0;
}

/* Returns the object member key, NULL when absent, or an error when it is
   not an object.  */
int
sb_json_opt_obj (json_object *obj, const char *path, const char *key, json_object **out, sb_err **err)
{
  *out = sb_json_member (obj, key);
  if (*out == NULL)
    return 0;
  return sb_json_want (*out, json_type_object, "an object", path, key, err);
}

/* An array of objects: items (size bytes each) are zero-allocated and
   published in *items and *n before parsing, so a failure frees them all.  */
int
sb_json_opt_array (json_object *obj, const char *path, const char *key, size_t size, size_t max,
                   sb_json_elem_parser fn, void *items, size_t *n, sb_err **err)
{
  json_object *v = sb_json_member (obj, key);
  _cleanup_free_ char *p = NULL;
  size_t len;
  char *base;

  if (v == NULL)
    return 0;
  if (sb_json_want (v, json_type_array, "an array", path, key, err) < 0)
    return -1;
  len = json_object_array_length (v);
  if (len > max)
    return sb_json_ferr (err, path, key, "at most %zu entries are allowed, got %zu", max, len);
  p = sb_json_sub (path, key);
  base = sb_xmalloc0 (len * size);
  *(void **)items = base;
  *n = len;
  for (size_t i = 0; i < len; i++)
    {
      _cleanup_free_ char *ep = sb_xasprintf ("%s[%zu]", p, i);
      json_object *e = json_object_array_get_idx (v, i);
      if (sb_json_want (e, json_type_object, "an object", ep, NULL, err) < 0
          || fn (e, ep, base + i * size, err) < 0)
        return -1;
    }
  return 0;
}

/* An object of string values to key/value pairs.  */
int
sb_json_opt_map (json_object *obj, const char *path, const char *key, sb_kv **out, size_t *n, sb_err **err)
{
  json_object *v;
  _cleanup_free_ char *p = NULL;

  if (sb_json_opt_obj (obj, path, key, &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  p = sb_json_sub (path, key);
  *out = sb_xmalloc0 ((size_t)json_object_object_length (v) * sizeof (sb_kv));
  json_object_object_foreach (v, k, val)
  {
    sb_kv *kv = &(*out)[(*n)++];
    kv->key = sb_xstrdup (k);
    if (sb_json_get_str (val, p, k, &kv->value, err) < 0)
      return -1;
  }
  return 0;
}
