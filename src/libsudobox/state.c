#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

#define SB_ID_MAX 1024
/* config.json may be SB_SPEC_MAX_SIZE (16 MiB); escaping can double it.  */
#define SB_STATE_MAX_SIZE (64u * 1024 * 1024)
#define SB_STATE_FILE "state.json"

static const char *const status_names[] = {
  [SB_STATUS_CREATING] = "creating", [SB_STATUS_CREATED] = "created", [SB_STATUS_RUNNING] = "running",
  [SB_STATUS_PAUSED] = "paused",     [SB_STATUS_STOPPED] = "stopped",
};

const char *
sb_status_name (sb_status s)
{
  if ((unsigned)s >= sizeof (status_names) / sizeof (status_names[0]))
    return "unknown";
  return status_names[s];
}

static bool
id_char_ok (char c, bool first)
{
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  return !first && (c == '_' || c == '.' || c == '+' || c == '-');
}

int
sb_state_check_id (const char *id, sb_err **err)
{
  size_t len = id != NULL ? strlen (id) : 0;
  if (len == 0)
    return sb_error (err, 0, "invalid container id \"\": must not be empty");
  if (len > SB_ID_MAX)
    return sb_error (err, 0, "invalid container id of %zu bytes: at most %d allowed", len, SB_ID_MAX);
  for (size_t i = 0; i < len; i++)
    if (!id_char_ok (id[i], i == 0))
      return sb_error (
          err, 0,
          "invalid container id \"%s\": only [A-Za-z0-9_.+-] allowed, must start with a letter or "
          "digit",
          id);
  return 0;
}

/* Opens ROOT/ID, which the id check keeps a direct child of root.  */
static int
container_dir_open (const char *root, const char *id, sb_err **err)
{
  _cleanup_free_ char *dir = NULL;
  int fd;

  if (sb_state_check_id (id, err) < 0)
    return -1;
  dir = sb_xasprintf ("%s/%s", root, id);
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return sb_error (err, 0, "container \"%s\" does not exist", id);
  if (fd < 0)
    return sb_error (err, errno, "open `%s`", dir);
  return fd;
}

int
sb_state_create_dir (const char *root, const char *id, char **dir, int *dirfd, sb_err **err)
{
  _cleanup_free_ char *path = NULL;
  _cleanup_close_ int fd = -1;

  if (sb_state_check_id (id, err) < 0 || sb_mkdir_p (root, 0700, err) < 0)
    return -1;
  path = sb_xasprintf ("%s/%s", root, id);
  if (mkdir (path, 0700) < 0)
    return errno == EEXIST ? sb_error (err, 0, "container \"%s\" already exists", id)
                           : sb_error (err, errno, "mkdir `%s`", path);
  fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return sb_error (err, errno, "open `%s`", path);
  if (dirfd != NULL)
    *dirfd = sb_steal_fd (&fd);
  if (dir != NULL)
    *dir = sb_steal (&path);
  return 0;
}

int
sb_state_lock (const char *root, const char *id, sb_err **err)
{
  _cleanup_close_ int dfd = container_dir_open (root, id, err);
  struct stat st;
  int r;

  if (dfd < 0)
    return -1;
  /* The directory itself is the lock: no file to create per container.  */
  do
    r = flock (dfd, LOCK_EX);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return sb_error (err, errno, "lock `%s/%s`", root, id);
  /* Whoever held the lock before may have deleted the container.  */
  if (fstat (dfd, &st) < 0)
    return sb_error (err, errno, "stat `%s/%s`", root, id);
  if (st.st_nlink == 0)
    return sb_error (err, 0, "container \"%s\" does not exist", id);
  return sb_steal_fd (&dfd);
}

static void
json_put_str (json_object *o, const char *key, const char *v)
{
  json_object_object_add (o, key, v != NULL ? json_object_new_string (v) : NULL);
}

static json_object *
annotations_to_json (char **kv)
{
  json_object *o = json_object_new_object ();
  for (size_t i = 0; kv != NULL && kv[i] != NULL && kv[i + 1] != NULL; i += 2)
    json_object_object_add (o, kv[i], json_object_new_string (kv[i + 1]));
  return o;
}

static char *
state_to_json (const sb_state *st)
{
  json_object *o = json_object_new_object ();
  char *r;

  json_put_str (o, "id", st->id);
  json_object_object_add (o, "pid", json_object_new_int64 (st->pid));
  json_object_object_add (o, "pidStart", json_object_new_uint64 (st->pid_start));
  json_put_str (o, "status", sb_status_name (st->status));
  json_put_str (o, "bundle", st->bundle);
  json_put_str (o, "rootfs", st->rootfs);
  json_put_str (o, "created", st->created);
  json_put_str (o, "owner", st->owner);
  json_put_str (o, "cgroupPath", st->cgroup_path);
  json_put_str (o, "config", st->config_json);
  json_object_object_add (o, "usernsAuto", json_object_new_boolean (st->userns_auto));
  json_object_object_add (o, "idFirst", json_object_new_int64 (st->id_first));
  json_put_str (o, "isolation", st->isolation);
  json_object_object_add (o, "annotations", annotations_to_json (st->annotations_kv));
  r = sb_xstrdup (
      json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put (o);
  return r;
}

int
sb_state_write (const char *root, const sb_state *st, sb_err **err)
{
  _cleanup_close_ int dfd = container_dir_open (root, st->id, err);
  _cleanup_free_ char *json = NULL;
  _cleanup_free_ char *path = NULL;

  if (dfd < 0)
    return -1;
  json = state_to_json (st);
  path = sb_xasprintf ("%s/%s/" SB_STATE_FILE, root, st->id);
  return sb_write_file_atomic (path, json, strlen (json), 0600, err);
}

/* Field readers for state.json: a missing or mistyped field is corruption.  */
static int
get_field (json_object *o, const char *key, json_type type, bool nullable, json_object **out, const char *id,
           sb_err **err)
{
  json_object *v = NULL;
  if (!json_object_object_get_ex (o, key, &v) || (v == NULL && !nullable)
      || (v != NULL && !json_object_is_type (v, type)))
    return sb_error (
        err, 0, "container \"%s\": corrupt " SB_STATE_FILE ": field \"%s\" missing or not a%s %s", id, key,
        type == json_type_int || type == json_type_object ? "n" : "", json_type_to_name (type));
  *out = v;
  return 0;
}

static int
get_str (json_object *o, const char *key, bool nullable, char **out, const char *id, sb_err **err)
{
  json_object *v;
  if (get_field (o, key, json_type_string, nullable, &v, id, err) < 0)
    return -1;
  *out = v != NULL ? sb_xstrdup (json_object_get_string (v)) : NULL;
  return 0;
}

static int
get_int (json_object *o, const char *key, int64_t min, int64_t max, int64_t *out, const char *id,
         sb_err **err)
{
  json_object *v;
  int64_t n;
  if (get_field (o, key, json_type_int, false, &v, id, err) < 0)
    return -1;
  errno = 0;
  n = json_object_get_int64 (v);
  if (errno != 0 || n < min || n > max)
    return sb_error (err, 0, "container \"%s\": corrupt " SB_STATE_FILE ": field \"%s\" out of range", id,
                     key);
  *out = n;
  return 0;
}

static int
get_status (json_object *o, sb_status *out, const char *id, sb_err **err)
{
  _cleanup_free_ char *name = NULL;
  if (get_str (o, "status", false, &name, id, err) < 0)
    return -1;
  for (size_t i = 0; i < sizeof (status_names) / sizeof (status_names[0]); i++)
    if (strcmp (name, status_names[i]) == 0)
      {
        *out = (sb_status)i;
        return 0;
      }
  return sb_error (err, 0, "container \"%s\": corrupt " SB_STATE_FILE ": unknown status \"%s\"", id, name);
}

static int
get_annotations (json_object *o, char ***out, const char *id, sb_err **err)
{
  _cleanup_strv_ char **kv = NULL;
  json_object *a;

  if (get_field (o, "annotations", json_type_object, false, &a, id, err) < 0)
    return -1;
  json_object_object_foreach (a, k, v)
  {
    if (!json_object_is_type (v, json_type_string))
      return sb_error (
          err, 0, "container \"%s\": corrupt " SB_STATE_FILE ": annotation \"%s\" is not a string", id, k);
    sb_strv_append (&kv, k);
    sb_strv_append (&kv, json_object_get_string (v));
  }
  *out = sb_steal (&kv);
  return 0;
}

static int
state_from_json (json_object *o, sb_state *st, const char *id, sb_err **err)
{
  json_object *b;
  int64_t pid, pid_start, id_first;

  if (get_str (o, "id", false, &st->id, id, err) < 0 || get_int (o, "pid", 0, INT_MAX, &pid, id, err) < 0
      || get_int (o, "pidStart", 0, INT64_MAX, &pid_start, id, err) < 0
      || get_status (o, &st->status, id, err) < 0 || get_str (o, "bundle", false, &st->bundle, id, err) < 0
      || get_str (o, "rootfs", false, &st->rootfs, id, err) < 0
      || get_str (o, "created", false, &st->created, id, err) < 0
      || get_str (o, "owner", false, &st->owner, id, err) < 0
      || get_str (o, "cgroupPath", true, &st->cgroup_path, id, err) < 0
      || get_str (o, "config", true, &st->config_json, id, err) < 0
      || get_field (o, "usernsAuto", json_type_boolean, false, &b, id, err) < 0
      || get_int (o, "idFirst", 0, UINT32_MAX, &id_first, id, err) < 0
      || get_str (o, "isolation", true, &st->isolation, id, err) < 0
      || get_annotations (o, &st->annotations_kv, id, err) < 0)
    return -1;
  if (strcmp (st->id, id) != 0)
    return sb_error (err, 0, "container \"%s\": corrupt " SB_STATE_FILE ": it is the state of \"%s\"", id,
                     st->id);
  st->pid = (pid_t)pid;
  st->pid_start = (uint64_t)pid_start;
  st->userns_auto = json_object_get_boolean (b);
  st->id_first = (uint32_t)id_first;
  return 0;
}

static json_object *
parse_json (const char *text, size_t len, const char *id, sb_err **err)
{
  json_tokener *tok = json_tokener_new ();
  json_object *o;
  enum json_tokener_error jerr;

  o = json_tokener_parse_ex (tok, text, (int)len);
  jerr = json_tokener_get_error (tok);
  if (o != NULL && jerr == json_tokener_success)
    {
      size_t end = json_tokener_get_parse_end (tok);
      if (end + strspn (text + end, " \t\r\n") != len)
        jerr = json_tokener_error_parse_unexpected;
    }
  json_tokener_free (tok);
  if (jerr != json_tokener_success || !json_object_is_type (o, json_type_object))
    {
      json_object_put (o);
      sb_error (err, 0, "container \"%s\": corrupt " SB_STATE_FILE ": %s", id,
                jerr == json_tokener_success    ? "not a JSON object"
                : jerr == json_tokener_continue ? "truncated"
                                                : json_tokener_error_desc (jerr));
      return NULL;
    }
  return o;
}

int
sb_state_read (const char *root, const char *id, sb_state **out, sb_err **err)
{
  _cleanup_close_ int dfd = container_dir_open (root, id, err);
  _cleanup_free_ char *text = NULL;
  _cleanup_state_ sb_state *st = NULL;
  json_object *o;
  size_t len;
  int r;

  if (dfd < 0)
    return -1;
  if (sb_read_file_at (dfd, SB_STATE_FILE, SB_STATE_MAX_SIZE, &text, &len, err) < 0)
    return sb_error_wrap (err, "container \"%s\"", id);
  o = parse_json (text, len, id, err);
  if (o == NULL)
    return -1;
  st = sb_xmalloc0 (sizeof (*st));
  r = state_from_json (o, st, id, err);
  json_object_put (o);
  if (r < 0)
    return -1;
  /* A created container waits on start.sock; `start` removes it once the
     program runs, so the file's absence is what "running" is recorded as.  */
  if (st->status == SB_STATUS_CREATED && faccessat (dfd, SB_STATE_START_SOCKET, F_OK, AT_SYMLINK_NOFOLLOW) < 0
      && errno == ENOENT)
    st->status = SB_STATUS_RUNNING;
  *out = sb_steal (&st);
  return 0;
}

sb_status
sb_state_live_status (const sb_state *st, bool frozen)
{
  char state;
  uint64_t start;

  if (st->pid <= 0 || st->status == SB_STATUS_STOPPED)
    return st->status;
  /* A zombie is dead; a different start time means the pid was reused.  */
  if (sb_proc_stat (st->pid, &state, &start) < 0 || start != st->pid_start || state == 'Z' || state == 'X')
    return SB_STATUS_STOPPED;
  if (frozen)
    return SB_STATUS_PAUSED;
  return st->status;
}

char *
sb_state_to_oci_json (const sb_state *st, sb_status status)
{
  json_object *o = json_object_new_object ();
  char *r;

  /* runc's `state` output: its fields, in its order, pid 0 once stopped and
     annotations omitted when empty.  */
  json_put_str (o, "ociVersion", "1.1.0");
  json_put_str (o, "id", st->id);
  json_object_object_add (o, "pid", json_object_new_int (status == SB_STATUS_STOPPED ? 0 : st->pid));
  json_put_str (o, "status", sb_status_name (status));
  json_put_str (o, "bundle", st->bundle != NULL ? st->bundle : "");
  json_put_str (o, "rootfs", st->rootfs != NULL ? st->rootfs : "");
  json_put_str (o, "created", st->created != NULL ? st->created : "");
  if (sb_strv_len (st->annotations_kv) >= 2)
    json_object_object_add (o, "annotations", annotations_to_json (st->annotations_kv));
  json_put_str (o, "owner", st->owner != NULL ? st->owner : "");
  r = sb_xstrdup (json_object_to_json_string_ext (o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
                                                         | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put (o);
  return r;
}

/* Empties the directory dfd without following any symlink: links are
   removed as links, subdirectories are opened with O_NOFOLLOW.  */
static int
remove_contents (int dfd, const char *path, sb_err **err)
{
  int fd = fcntl (dfd, F_DUPFD_CLOEXEC, 3);
  DIR *d;
  struct dirent *de;
  int ret = 0;

  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      return sb_error (err, saved, "read `%s`", path);
    }
  while (ret == 0 && (de = readdir (d)) != NULL)
    {
      _cleanup_free_ char *sub = NULL;
      _cleanup_close_ int subfd = -1;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      sub = sb_xasprintf ("%s/%s", path, de->d_name);
      if (unlinkat (dfd, de->d_name, 0) == 0 || errno == ENOENT)
        continue;
      if (errno != EISDIR)
        {
          ret = sb_error (err, errno, "remove `%s`", sub);
          break;
        }
      subfd = openat (dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (subfd < 0)
        ret = sb_error (err, errno, "open `%s`", sub);
      else if (remove_contents (subfd, sub, err) < 0)
        ret = -1;
      else if (unlinkat (dfd, de->d_name, AT_REMOVEDIR) < 0)
        ret = sb_error (err, errno, "remove `%s`", sub);
    }
  closedir (d);
  return ret;
}

int
sb_state_remove (const char *root, const char *id, sb_err **err)
{
  _cleanup_close_ int rootfd = -1, dfd = -1;
  _cleanup_free_ char *path = NULL;

  if (sb_state_check_id (id, err) < 0)
    return -1;
  path = sb_xasprintf ("%s/%s", root, id);
  rootfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0 && errno == ENOENT)
    return 0;
  if (rootfd < 0)
    return sb_error (err, errno, "open `%s`", root);
  dfd = openat (rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0 && errno == ENOENT)
    return 0;
  if (dfd < 0)
    return sb_error (err, errno, "open `%s`", path);
  if (remove_contents (dfd, path, err) < 0)
    return -1;
  if (unlinkat (rootfd, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return sb_error (err, errno, "remove `%s`", path);
  return 0;
}

static int
str_cmp (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

int
sb_state_list (const char *root, bool incomplete, char ***ids, sb_err **err)
{
  _cleanup_strv_ char **v = sb_xmalloc0 (sizeof (char *));
  DIR *d = opendir (root);
  struct dirent *de;

  if (d == NULL && errno != ENOENT)
    return sb_error (err, errno, "open `%s`", root);
  while (d != NULL && (errno = 0, de = readdir (d)) != NULL)
    {
      _cleanup_free_ char *state = sb_xasprintf ("%s/" SB_STATE_FILE, de->d_name);
      struct stat st;
      bool has_state;
      /* Only real directories count (not the id range allocations); those
         being created, or whose runtime was killed early, have no
         state.json yet.  */
      if (sb_state_check_id (de->d_name, NULL) < 0 || strcmp (de->d_name, "idranges") == 0
          || fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR (st.st_mode))
        continue;
      has_state = fstatat (dirfd (d), state, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode);
      if (!has_state && !incomplete)
        continue;
      sb_strv_append (&v, de->d_name);
    }
  if (d != NULL && errno != 0)
    {
      int saved = errno;
      closedir (d);
      return sb_error (err, saved, "read `%s`", root);
    }
  if (d != NULL)
    closedir (d);
  qsort (v, sb_strv_len (v), sizeof (char *), str_cmp);
  *ids = sb_steal (&v);
  return 0;
}

void
sb_state_free (sb_state *st)
{
  if (st == NULL)
    return;
  free (st->id);
  free (st->bundle);
  free (st->rootfs);
  free (st->created);
  free (st->owner);
  free (st->cgroup_path);
  free (st->config_json);
  free (st->isolation);
  sb_strv_free (st->annotations_kv);
  free (st);
}

void
sb_state_freep (sb_state **st)
{
  sb_state_free (*st);
  *st = NULL;
}

char *
sb_now_rfc3339 (void)
{
  struct timespec ts;
  struct tm tm;
  char buf[64];

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (buf, sizeof (buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return sb_xasprintf ("%s.%09ldZ", buf, ts.tv_nsec);
}
