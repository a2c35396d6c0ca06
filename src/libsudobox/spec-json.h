/* Internal to the config.json parser (spec.c, spec-linux.c, spec-default.c):
   strict JSON parsing and typed field access.  Not part of the library's
   interface.

   Every accessor takes the JSON path of the object it reads from ("" at the
   top level, "process.user", "linux.resources.memory") and the key, so that
   an error names the field as the user wrote it: "path.key: message".  An
   absent key and JSON null are alike: the opt_ variants then store nothing
   (opt_obj stores NULL) and the req_ variants report the missing field.  Whatever is allocated is stored into
   *out at once, so a failure leaves it for the owner's free function.  */
#ifndef SB_SPEC_JSON_H
#define SB_SPEC_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "spec.h"

void sb_json_putp (json_object **o);
#define _cleanup_json_ __attribute__ ((cleanup (sb_json_putp)))

/* Parses a whole JSON object of at most SB_SPEC_MAX_SIZE bytes, as strictly
   as Go's parser does; errors give the line and column.  */
int sb_json_parse_text (const char *json, size_t len, json_object **out, sb_err **err);

/* "path.key: message"; key may be NULL (the message is about path).
   Returns -1.  */
int sb_json_ferr (sb_err **err, const char *path, const char *key, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
/* "path.key", or "key" when path is "": the path of a nested object.  */
char *sb_json_sub (const char *path, const char *key);
/* The member key of obj, NULL when absent or null.  */
json_object *sb_json_member (json_object *obj, const char *key);
/* Checks that v has the type, what naming it in the error ("an object").  */
int sb_json_want (json_object *v, json_type type, const char *what, const char *path, const char *key,
                  sb_err **err);
/* "path.key: required field is missing".  */
int sb_json_missing (const char *path, const char *key, sb_err **err);

/* Strings: no embedded NUL; req_ also refuses an empty one.  */
int sb_json_get_str (json_object *v, const char *path, const char *key, char **out, sb_err **err);
int sb_json_opt_str (json_object *obj, const char *path, const char *key, char **out, sb_err **err);
int sb_json_req_str (json_object *obj, const char *path, const char *key, char **out, sb_err **err);
/* s (may be NULL) must start with '/'.  */
int sb_json_check_abs (const char *s, const char *path, const char *key, sb_err **err);
int sb_json_req_abs_path (json_object *obj, const char *path, const char *key, char **out, sb_err **err);

int sb_json_opt_bool (json_object *obj, const char *path, const char *key, bool *out, sb_err **err);

/* Integers within min..max; a fraction or a value out of range is an error
   quoting what was written.  *has (may be NULL) says whether it was given.  */
int sb_json_get_u64 (json_object *v, const char *path, const char *key, uint64_t min, uint64_t max,
                     uint64_t *out, sb_err **err);
int sb_json_get_i64 (json_object *v, const char *path, const char *key, int64_t min, int64_t max,
                     int64_t *out, sb_err **err);
int sb_json_opt_u64 (json_object *obj, const char *path, const char *key, uint64_t min, uint64_t max,
                     bool *has, uint64_t *out, sb_err **err);
int sb_json_req_u64 (json_object *obj, const char *path, const char *key, uint64_t max, uint64_t *out,
                     sb_err **err);
int sb_json_opt_u32 (json_object *obj, const char *path, const char *key, bool *has, uint32_t *out,
                     sb_err **err);
int sb_json_req_u32 (json_object *obj, const char *path, const char *key, uint32_t *out, sb_err **err);
int sb_json_opt_i64 (json_object *obj, const char *path, const char *key, int64_t min, int64_t max,
                     sb_opt_i64 *out, sb_err **err);
int sb_json_req_i64 (json_object *obj, const char *path, const char *key, int64_t *out, sb_err **err);

/* Arrays of strings to NULL-terminated vectors; abs_ wants absolute paths.  */
int sb_json_get_strv (json_object *v, const char *path, const char *key, char ***out, sb_err **err);
int sb_json_opt_strv (json_object *obj, const char *path, const char *key, char ***out, sb_err **err);
int sb_json_opt_abs_strv (json_object *obj, const char *path, const char *key, char ***out, sb_err **err);

/* The object member key, NULL when absent, or an error when it is not an
   object.  */
int sb_json_opt_obj (json_object *obj, const char *path, const char *key, json_object **out, sb_err **err);

/* Parses one element of an array of objects into item; path is the
   element's ("mounts[3]").  */
typedef int (*sb_json_elem_parser) (json_object *v, const char *path, void *item, sb_err **err);
/* An array of at most max objects: *items (size bytes each) and *n are set
   before the elements are parsed by fn.  */
int sb_json_opt_array (json_object *obj, const char *path, const char *key, size_t size, size_t max,
                       sb_json_elem_parser fn, void *items, size_t *n, sb_err **err);
/* An object of string values to key/value pairs.  */
int sb_json_opt_map (json_object *obj, const char *path, const char *key, sb_kv **out, size_t *n,
                     sb_err **err);

#endif
