#include "registry.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "tap.h"
#include "util.h"

#define POOL_FIRST 1000000u
#define RANGE 65536u

static char tmp[] = "/tmp/sudobox-test-registry.XXXXXX";

#define S(...) tap_str (__VA_ARGS__)

/* Test setup that must not fail silently.  */
static void
must (bool ok, const char *what)
{
  if (!ok)
    {
      fprintf (stderr, "test setup failed: %s: %s\n", what, strerror (errno));
      abort ();
    }
}

static bool
contains (const char *s, const char *needle)
{
  return s != NULL && strstr (s, needle) != NULL;
}

/* s with control characters shown as '?', for a TAP line.  */
static const char *
printable (const char *s)
{
  char *copy = (char *)S ("%s", s);
  for (char *p = copy; *p; p++)
    if ((unsigned char)*p < 0x20)
      *p = '?';
  return copy;
}

static const char *
msg (sb_err *err)
{
  return err != NULL ? err->msg : "(no error)";
}

/* The result is evaluated before the message is read (argument order is
   unspecified), and the error is consumed.  */
static void
want_ok (int r, sb_err **err, const char *what)
{
  tap_ok (r == 0, "%s%s%s", what, r == 0 ? "" : ": ", r == 0 ? "" : msg (*err));
  sb_err_free (err);
}

static void
want_err (int r, sb_err **err, const char *expect, const char *what)
{
  tap_ok (r < 0 && contains (msg (*err), expect), "%s: %s", what, msg (*err));
  sb_err_free (err);
}

/* Opens the registry of a fresh root below the test directory.  */
static sb_registry *
open_root (const char *name)
{
  _cleanup_err_ sb_err *err = NULL;
  sb_registry *reg = NULL;
  /* Each test's root claims its ranges apart: the tests check one
     registry's allocation, not how roots share the host.  */
  setenv ("SUDOBOX_IDCLAIM_DIR", S ("%s/%s-claims", tmp, name), 1);
  if (sb_registry_open (S ("%s/%s", tmp, name), &reg, &err) < 0)
    {
      fprintf (stderr, "open %s: %s\n", name, msg (err));
      abort ();
    }
  return reg;
}

static int
add_image (sb_registry *reg, const char *name, sb_err **err)
{
  sb_image_rec img = {
    .name = (char *)name,
    .dir = (char *)S ("/var/lib/sudobox/images/%s-1", name),
    .size = 42,
    .source = "build bookworm",
    .config = "{\"user\":\"dev\"}",
  };
  return sb_registry_image_add (reg, &img, err);
}

static int
create_ws (sb_registry *reg, const char *name, const char *image, uint32_t count, uint32_t *id, sb_err **err)
{
  sb_ws_rec ws = { .name = (char *)name, .image = (char *)image, .isolation = "userns", .config = "{}" };
  int r = sb_registry_ws_create (reg, &ws, POOL_FIRST, count, err);
  if (id != NULL)
    *id = r == 0 ? ws.id_first : 0;
  return r;
}

/* Runs one SQL text on the database with the raw SQLite API (as a foreign
   process would) and returns the first column of the first row as an
   integer.  */
static long long
raw_int (const char *db_path, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  long long v = -1;

  if (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK
      && sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step (st) == SQLITE_ROW)
    v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  sqlite3_close (db);
  return v;
}

/* The registry's WAL outlives its connections: damage to the database
   file is damage to the registry only once the WAL is checkpointed.  */
static void
checkpoint (const char *db_path)
{
  sqlite3 *db = NULL;

  must (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK
            && sqlite3_exec (db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) == SQLITE_OK,
        "checkpoint the registry");
  sqlite3_close (db);
}

static void
test_open_schema (void)
{
  const char *root = S ("%s/fresh/state", tmp);
  const char *db = S ("%s/registry.db", root);
  _cleanup_err_ sb_err *err = NULL;
  sb_registry *reg = NULL;
  struct stat st;

  want_ok (sb_registry_open (root, &reg, &err), &err, "open creates root and registry");
  tap_ok (stat (root, &st) == 0 && (st.st_mode & 07777) == 0700, "root created with mode 0700");
  tap_ok (stat (db, &st) == 0 && S_ISREG (st.st_mode), "registry.db created");
  tap_is_int (raw_int (db, "PRAGMA user_version"), 1, "schema version 1");
  tap_is_int (raw_int (db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
                           " AND name IN ('images', 'workspaces')"),
              2, "images and workspaces tables exist");
  tap_is_int (raw_int (db, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1, "journal mode is WAL");
  sb_registry_close (reg);
  reg = NULL;
  want_ok (sb_registry_open (root, &reg, &err), &err, "reopening an existing registry works");
  sb_registry_close (reg);

  must (mkdir (S ("%s/notdir", tmp), 0700) == 0, "mkdir notdir");
  must (close (open (S ("%s/notdir/file", tmp), O_CREAT | O_WRONLY, 0600)) == 0, "create file");
  reg = NULL;
  tap_ok (sb_registry_open (S ("%s/notdir/file", tmp), &reg, &err) < 0 && reg == NULL,
          "a file as root fails");
  tap_ok (contains (msg (err), "notdir/file"), "error names the root: %s", msg (err));
  sb_err_free (&err);

  setenv ("SUDOBOX_REGISTRY_BUSY_MS", "soon", 1);
  tap_ok (sb_registry_open (root, &reg, &err) < 0, "invalid SUDOBOX_REGISTRY_BUSY_MS refused");
  tap_ok (contains (msg (err), "SUDOBOX_REGISTRY_BUSY_MS \"soon\""), "error names the variable: %s",
          msg (err));
  unsetenv ("SUDOBOX_REGISTRY_BUSY_MS");
}

static void
test_images (void)
{
  sb_registry *reg = open_root ("images");
  _cleanup_err_ sb_err *err = NULL;
  sb_image_rec *img = NULL, **list = NULL;
  size_t n = 0;

  want_ok (add_image (reg, "zeta", &err), &err, "add image zeta");
  want_ok (add_image (reg, "alpha", &err), &err, "add image alpha");
  tap_is_int (sb_registry_image_get (reg, "alpha", &img, &err), 0, "get alpha");
  tap_is_str (img->name, "alpha", "name");
  tap_is_str (img->dir, "/var/lib/sudobox/images/alpha-1", "dir");
  tap_is_int (img->size, 42, "size");
  tap_is_str (img->source, "build bookworm", "source");
  tap_is_str (img->config, "{\"user\":\"dev\"}", "config");
  tap_ok (img->created != NULL && strlen (img->created) == 20 && img->created[10] == 'T'
              && img->created[19] == 'Z',
          "created defaults to RFC 3339 UTC now: %s", img->created);
  sb_image_rec_free (img);
  tap_is_int (sb_registry_image_get (reg, "nope", &img, &err), 1, "get unknown image: not found");

  tap_is_int (sb_registry_image_list (reg, &list, &n, &err), 0, "list images");
  tap_ok (n == 2 && strcmp (list[0]->name, "alpha") == 0 && strcmp (list[1]->name, "zeta") == 0
              && list[2] == NULL,
          "list sorted by name, NULL-terminated");
  sb_image_rec_list_free (list);

  tap_ok (add_image (reg, "alpha", &err) < 0, "adding an existing image fails");
  tap_is_str (msg (err), "image \"alpha\" already exists", "name taken message");
  sb_err_free (&err);
  want_err (add_image (reg, "Bad/Name", &err), &err, "invalid image name \"Bad/Name\"",
            "invalid image name refused");
  sb_image_rec rel = { .name = "rel", .dir = "images/rel" };
  want_err (sb_registry_image_add (reg, &rel, &err), &err, "not absolute", "relative image dir refused");

  want_ok (sb_registry_image_remove (reg, "zeta", &err), &err, "remove zeta");
  tap_is_int (sb_registry_image_get (reg, "zeta", &img, &err), 1, "zeta is gone");
  tap_ok (sb_registry_image_remove (reg, "zeta", &err) < 0, "removing it again fails");
  tap_is_str (msg (err), "image \"zeta\" not found", "missing image message");
  sb_err_free (&err);

  tap_is_int (create_ws (reg, "w2", "alpha", 4 * RANGE, NULL, &err), 0, "workspace w2 on alpha");
  tap_ok (sb_registry_image_remove (reg, "alpha", &err) < 0, "image in use cannot be removed");
  tap_is_str (msg (err), "image \"alpha\" is used by workspace \"w2\"", "message names the workspace");
  sb_err_free (&err);
  tap_is_int (create_ws (reg, "w1", "alpha", 4 * RANGE, NULL, &err), 0, "workspace w1 on alpha");
  tap_ok (sb_registry_image_remove (reg, "alpha", &err) < 0, "still in use");
  tap_is_str (msg (err), "image \"alpha\" is used by workspaces \"w1\", \"w2\"", "message names both");
  sb_err_free (&err);
  want_ok (sb_registry_ws_delete (reg, "w1", &err), &err, "delete w1");
  want_ok (sb_registry_ws_delete (reg, "w2", &err), &err, "delete w2");
  want_ok (sb_registry_image_remove (reg, "alpha", &err), &err, "now the image can go");
  sb_registry_close (reg);
}

static void
test_ranges (void)
{
  sb_registry *reg = open_root ("ranges");
  _cleanup_err_ sb_err *err = NULL;
  uint32_t id = 0;

  must (add_image (reg, "img", &err) == 0, "add image");
  for (unsigned k = 0; k < 4; k++)
    {
      want_ok (create_ws (reg, S ("w%u", k), "img", 4 * RANGE, &id, &err), &err, S ("create w%u", k));
      tap_is_int (id, POOL_FIRST + k * RANGE, "w%u gets range %u", k, k);
    }
  tap_ok (create_ws (reg, "w4", "img", 4 * RANGE, &id, &err) < 0, "fifth workspace: pool exhausted");
  tap_is_str (msg (err), "no free id range: all 4 ranges of the pool are in use", "exhaustion message");
  sb_err_free (&err);
  tap_is_int (sb_registry_ws_get (reg, "w4", &(sb_ws_rec *){ NULL }, &err), 1, "failed create left no row");

  tap_ok (sb_registry_ws_delete (reg, "w2", &err) == 0 && sb_registry_ws_delete (reg, "w1", &err) == 0,
          "delete w2 and w1");
  want_ok (create_ws (reg, "n1", "img", 4 * RANGE, &id, &err), &err, "create n1");
  tap_is_int (id, POOL_FIRST + RANGE, "n1 reuses the lowest freed range (w1's)");
  want_ok (create_ws (reg, "n2", "img", 4 * RANGE, &id, &err), &err, "create n2");
  tap_is_int (id, POOL_FIRST + 2 * RANGE, "n2 reuses w2's range");

  tap_ok (create_ws (reg, "n1", "img", 8 * RANGE, &id, &err) < 0, "name taken");
  tap_is_str (msg (err), "workspace \"n1\" already exists", "name taken message");
  sb_err_free (&err);
  tap_ok (create_ws (reg, "x", "nosuch", 8 * RANGE, &id, &err) < 0, "unknown image");
  tap_is_str (msg (err), "image \"nosuch\" not found", "unknown image message");
  sb_err_free (&err);
  want_err (create_ws (reg, "Bad", "img", 8 * RANGE, &id, &err), &err, "invalid workspace name \"Bad\"",
            "invalid workspace name");
  want_err (create_ws (reg, "x", "img", RANGE - 1, &id, &err), &err, "smaller than one range",
            "pool smaller than a range");
  sb_ws_rec bad_iso = { .name = "x", .image = "img", .isolation = "chroot" };
  want_err (sb_registry_ws_create (reg, &bad_iso, POOL_FIRST, 8 * RANGE, &err), &err,
            "unknown isolation \"chroot\"", "unknown isolation");
  tap_ok (sb_registry_ws_create (reg, &bad_iso, UINT32_MAX - RANGE, RANGE + 1, &err) < 0,
          "pool past the last id refused");
  sb_err_free (&err);

  /* A pool moved by half a range must not hand out ids overlapping rows
     allocated from the old one.  */
  sb_ws_rec shifted = { .name = "shifted", .image = "img", .isolation = "system" };
  want_ok (sb_registry_ws_create (reg, &shifted, POOL_FIRST + RANGE / 2, 8 * RANGE, &err), &err,
           "create from a shifted pool");
  tap_is_int (shifted.id_first, POOL_FIRST + RANGE / 2 + 4 * RANGE,
              "first range overlapping no existing one");
  sb_registry_close (reg);
}

static void
test_names (void)
{
  static const struct
  {
    const char *name;
    bool ok;
  } cases[] = {
    { "a", true },
    { "0dev", true },
    { "my-ws_1.2", true },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false },
    { "", false },
    { "Foo", false },
    { "-a", false },
    { ".", false },
    { "..", false },
    { "_x", false },
    { "a b", false },
    { "a/b", false },
    { "a:b", false },
    { "\xc3\xa9t\xc3\xa9", false },
    { "a\n", false },
  };
  _cleanup_err_ sb_err *err = NULL;

  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      tap_is_int (sb_check_name ("workspace", cases[i].name, &err) == 0, cases[i].ok, "name \"%s\" %s",
                  printable (cases[i].name), cases[i].ok ? "accepted" : "refused");
      sb_err_free (&err);
    }
  sb_check_name ("workspace", "Foo/bar", &err);
  tap_is_str (msg (err),
              "invalid workspace name \"Foo/bar\": use lowercase letters, digits, '.', '_' and '-' "
              "(at most 64, starting with a letter or digit)",
              "invalid name message");
  sb_err_free (&err);
  sb_check_name ("volume", "", &err);
  tap_ok (contains (msg (err), "invalid volume name \"\""), "message names what: %s", msg (err));
  sb_err_free (&err);
  tap_ok (sb_check_name ("image", NULL, &err) < 0, "NULL name refused");
}

static void
test_state (void)
{
  sb_registry *reg = open_root ("state");
  _cleanup_err_ sb_err *err = NULL;
  sb_ws_rec *ws = NULL, **list = NULL;
  size_t n = 0;

  must (add_image (reg, "img", &err) == 0, "add image");
  sb_ws_rec in = { .name = "dev",
                   .image = "img",
                   .isolation = "microvm",
                   .config = "{\"cpus\":2}",
                   .created = "2024-01-02T03:04:05Z" };
  want_ok (sb_registry_ws_create (reg, &in, POOL_FIRST, RANGE, &err), &err, "create dev");
  tap_ok (in.state == SB_WS_CREATING && in.exit_code == -1 && in.monitor_pid == 0, "create fills the record");
  tap_is_int (sb_registry_ws_get (reg, "dev", &ws, &err), 0, "get dev");
  tap_is_str (ws->image, "img", "image");
  tap_is_str (ws->isolation, "microvm", "isolation");
  tap_is_str (ws->config, "{\"cpus\":2}", "config");
  tap_is_str (ws->created, "2024-01-02T03:04:05Z", "created as given");
  tap_is_int (ws->id_first, POOL_FIRST, "id_first");
  tap_is_str (sb_ws_state_name (ws->state), "creating", "state creating");
  tap_is_int (ws->exit_code, -1, "exit code -1");
  sb_ws_rec_free (ws);

  want_ok (sb_registry_ws_set_state (reg, "dev", SB_WS_RUNNING, 4321, 9876543210ull, -1, &err), &err,
           "set running");
  tap_is_int (sb_registry_ws_get (reg, "dev", &ws, &err), 0, "get dev");
  tap_ok (ws->state == SB_WS_RUNNING && ws->monitor_pid == 4321 && ws->monitor_start == 9876543210ull
              && ws->exit_code == -1,
          "running, monitor 4321 started at 9876543210");
  sb_ws_rec_free (ws);
  tap_is_int (sb_registry_ws_set_state (reg, "dev", SB_WS_STOPPED, 0, 0, 137, &err), 0, "set stopped");
  tap_is_int (sb_registry_ws_get (reg, "dev", &ws, &err), 0, "get dev");
  tap_ok (ws->state == SB_WS_STOPPED && ws->monitor_pid == 0 && ws->exit_code == 137,
          "stopped with exit 137");
  sb_ws_rec_free (ws);

  tap_ok (sb_registry_ws_set_state (reg, "ghost", SB_WS_RUNNING, 1, 1, 0, &err) < 0, "set state of unknown");
  tap_is_str (msg (err), "workspace \"ghost\" not found", "unknown workspace message");
  sb_err_free (&err);
  tap_ok (sb_registry_ws_set_state (reg, "dev", (sb_ws_state)99, 0, 0, 0, &err) < 0, "invalid state refused");
  sb_err_free (&err);
  want_err (sb_registry_ws_delete (reg, "ghost", &err), &err, "\"ghost\" not found", "delete unknown");
  tap_is_int (sb_registry_ws_get (reg, "ghost", &ws, &err), 1, "get unknown: not found");

  tap_is_int (create_ws (reg, "abc", "img", 4 * RANGE, NULL, &err), 0, "create abc");
  tap_is_int (sb_registry_ws_list (reg, &list, &n, &err), 0, "list workspaces");
  tap_ok (n == 2 && strcmp (list[0]->name, "abc") == 0 && strcmp (list[1]->name, "dev") == 0
              && list[2] == NULL,
          "list sorted by name, NULL-terminated");
  sb_ws_rec_list_free (list);
  tap_is_str (sb_ws_state_name ((sb_ws_state)42), "unknown", "state name out of range");
  sb_registry_close (reg);
}

/* Forks n children that block on a pipe until the parent closes it, then
   all run fn(i) at the same moment; each reports one uint32 on the result
   pipe and exits 0 on success.  Returns the number of successes.  */
static int
race (int n, int (*fn) (int i, uint32_t *value), uint32_t *values)
{
  int gate[2], res[2], ok = 0;
  pid_t pids[64];

  must (pipe (gate) == 0 && pipe (res) == 0, "pipe");
  fflush (stdout);
  for (int i = 0; i < n; i++)
    {
      must ((pids[i] = fork ()) >= 0, "fork");
      if (pids[i] == 0)
        {
          char c;
          uint32_t rec[2] = { (uint32_t)i, 0 };
          close (gate[1]);
          close (res[0]);
          if (read (gate[0], &c, 1) != 0)
            _exit (2);
          if (fn (i, &rec[1]) < 0)
            _exit (1);
          _exit (sb_write_all (res[1], rec, sizeof (rec)) < 0 ? 1 : 0);
        }
    }
  close (gate[0]);
  close (res[1]);
  close (gate[1]);
  for (uint32_t rec[2]; read (res[0], rec, sizeof (rec)) == (ssize_t)sizeof (rec);)
    values[rec[0]] = rec[1];
  close (res[0]);
  for (int i = 0; i < n; i++)
    {
      int status;
      if (waitpid (pids[i], &status, 0) == pids[i] && WIFEXITED (status) && WEXITSTATUS (status) == 0)
        ok++;
    }
  return ok;
}

static int
race_create (int i, uint32_t *id)
{
  _cleanup_err_ sb_err *err = NULL;
  sb_registry *reg = NULL;
  int r = sb_registry_open (S ("%s/race", tmp), &reg, &err);
  if (r == 0)
    r = create_ws (reg, S ("c%02d", i), "img", 64 * RANGE, id, &err);
  if (r < 0)
    fprintf (stderr, "child %d: %s\n", i, msg (err));
  sb_registry_close (reg);
  return r;
}

static int
race_fresh (int i, uint32_t *value)
{
  _cleanup_err_ sb_err *err = NULL;
  sb_registry *reg = NULL;
  int r = sb_registry_open (S ("%s/race-fresh", tmp), &reg, &err);
  if (r == 0)
    r = add_image (reg, S ("i%02d", i), &err);
  if (r < 0)
    fprintf (stderr, "child %d: %s\n", i, msg (err));
  *value = 1;
  sb_registry_close (reg);
  return r;
}

static int
cmp_u32 (const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static void
test_concurrent (void)
{
  _cleanup_err_ sb_err *err = NULL;
  sb_registry *reg = open_root ("race");
  uint32_t ids[20] = { 0 };
  sb_image_rec **imgs = NULL;
  sb_ws_rec **list = NULL;
  size_t n = 0;
  bool contiguous = true;

  must (add_image (reg, "img", &err) == 0, "add image");
  /* Children must not inherit an open connection.  */
  sb_registry_close (reg);
  tap_is_int (race (20, race_create, ids), 20, "20 concurrent creates all succeed");
  qsort (ids, 20, sizeof (ids[0]), cmp_u32);
  for (unsigned k = 0; k < 20; k++)
    contiguous = contiguous && ids[k] == POOL_FIRST + k * RANGE;
  tap_ok (contiguous, "20 distinct ranges, the lowest 20 of the pool");
  reg = open_root ("race");
  tap_is_int (sb_registry_ws_list (reg, &list, &n, &err), 0, "list");
  tap_is_int (n, 20, "20 rows");
  sb_ws_rec_list_free (list);
  sb_registry_close (reg);

  tap_is_int (race (20, race_fresh, ids), 20, "20 commands opening a new registry at once all succeed");
  reg = open_root ("race-fresh");
  tap_is_int (sb_registry_image_list (reg, &imgs, &n, &err), 0, "list");
  tap_is_int (n, 20, "20 images");
  sb_image_rec_list_free (imgs);
  sb_registry_close (reg);
}

static off_t
file_size (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 ? st.st_size : -1;
}

/* A foreign writer: begins a transaction, inserts many rows (a tiny page
   cache forces uncommitted pages out to the WAL), tells the parent and
   waits to be killed.  */
static void
child_hold_transaction (const char *db_path, int ready, int rows)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;

  if (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK
      || sqlite3_exec (db, "PRAGMA cache_size = 4; BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK
      || sqlite3_prepare_v2 (
             db,
             "INSERT INTO workspaces (name, image, isolation, id_first, state, config, created)"
             " VALUES ('ghost' || ?1, 'img', 'userns', 100000000 + ?1 * 65536, 'creating',"
             " printf('%.1000c', 'x'), 'now')",
             -1, &st, NULL)
             != SQLITE_OK)
    _exit (3);
  for (int i = 0; i < rows; i++)
    if (sqlite3_bind_int (st, 1, i) != SQLITE_OK || sqlite3_step (st) != SQLITE_DONE || sqlite3_reset (st))
      _exit (4);
  if (write (ready, "r", 1) != 1)
    _exit (5);
  for (;;)
    pause ();
}

static pid_t
spawn_holder (const char *db_path, int rows)
{
  int p[2];
  char c;
  pid_t pid;

  must (pipe (p) == 0, "pipe");
  fflush (stdout);
  must ((pid = fork ()) >= 0, "fork");
  if (pid == 0)
    {
      close (p[0]);
      child_hold_transaction (db_path, p[1], rows);
    }
  close (p[1]);
  must (read (p[0], &c, 1) == 1, "holder ready");
  close (p[0]);
  return pid;
}

static bool
kill_wait (pid_t pid)
{
  int status;
  return kill (pid, SIGKILL) == 0 && waitpid (pid, &status, 0) == pid && WIFSIGNALED (status)
         && WTERMSIG (status) == SIGKILL;
}

static void
test_kill_in_transaction (void)
{
  _cleanup_err_ sb_err *err = NULL;
  sb_registry *reg = open_root ("kill");
  const char *db = S ("%s/kill/registry.db", tmp);
  sb_ws_rec *ws = NULL;
  off_t wal_before;
  pid_t pid;

  must (add_image (reg, "img", &err) == 0 && create_ws (reg, "keep", "img", 8 * RANGE, NULL, &err) == 0,
        "setup");
  sb_registry_close (reg);
  wal_before = file_size (S ("%s-wal", db));

  pid = spawn_holder (db, 2000);
  tap_ok (file_size (S ("%s-wal", db)) > wal_before + 100 * 4096,
          "uncommitted pages reached the WAL before the kill (%lld bytes)",
          (long long)file_size (S ("%s-wal", db)));
  tap_ok (kill_wait (pid), "writer killed with SIGKILL inside its transaction");

  reg = NULL;
  want_ok (sb_registry_open (S ("%s/kill", tmp), &reg, &err), &err, "registry opens after the kill");
  tap_is_int (raw_int (db, "SELECT count(*) FROM workspaces"), 1, "only the committed row is there");
  tap_is_int (sb_registry_ws_get (reg, "ghost0", &ws, &err), 1, "no uncommitted row");
  want_ok (create_ws (reg, "after", "img", 8 * RANGE, NULL, &err), &err, "the write lock was released");
  tap_is_int (raw_int (db, "SELECT count(*) = 2 FROM workspaces WHERE name IN ('keep', 'after')"), 1,
              "committed rows intact");
  sb_registry_close (reg);
}

/* A command doing real work in a loop, killed at a random moment.  */
static void
churn (const char *root)
{
  _cleanup_err_ sb_err *err = NULL;
  sb_registry *reg = NULL;

  /* As every command starts: gc releases the claims of earlier kills.  */
  if (sb_registry_open (root, &reg, &err) < 0 || sb_registry_prune_claims (reg, &err) < 0)
    _exit (1);
  for (unsigned i = 0;; i++)
    {
      char name[16];
      snprintf (name, sizeof (name), "s%u", i % 8);
      if (create_ws (reg, name, "img", 16 * RANGE, NULL, &err) < 0)
        {
          sb_err_free (&err);
          if (sb_registry_ws_set_state (reg, name, SB_WS_STOPPED, 0, 0, (int)i, &err) < 0
              || sb_registry_ws_delete (reg, name, &err) < 0)
            _exit (1);
        }
    }
}

static void
test_kill_anywhere (void)
{
  _cleanup_err_ sb_err *err = NULL;
  const char *root = S ("%s/churn", tmp);
  sb_registry *reg = open_root ("churn");
  int opened = 0, consistent = 0, killed = 0;

  must (add_image (reg, "img", &err) == 0, "add image");
  sb_registry_close (reg);
  srand ((unsigned)getpid ());
  for (int round = 0; round < 25; round++)
    {
      struct timespec delay = { 0, (rand () % 20000 + 1000) * 1000L };
      sb_ws_rec **list = NULL;
      size_t n = 0;
      pid_t pid;

      fflush (stdout);
      must ((pid = fork ()) >= 0, "fork");
      if (pid == 0)
        churn (root);
      nanosleep (&delay, NULL);
      killed += kill_wait (pid);
      reg = NULL;
      if (sb_registry_open (root, &reg, &err) < 0)
        {
          printf ("# round %d: %s\n", round, msg (err));
          sb_err_free (&err);
          continue;
        }
      opened++;
      if (sb_registry_ws_list (reg, &list, &n, &err) == 0)
        {
          bool ok = n <= 8;
          for (size_t i = 0; i < n; i++)
            ok = ok && list[i]->id_first >= POOL_FIRST && list[i]->id_first < POOL_FIRST + 16 * RANGE
                 && (list[i]->id_first - POOL_FIRST) % RANGE == 0
                 && (i == 0 || list[i]->id_first != list[i - 1]->id_first);
          consistent += ok;
        }
      sb_err_free (&err);
      sb_ws_rec_list_free (list);
      sb_registry_close (reg);
    }
  tap_is_int (killed, 25, "25 busy commands killed with SIGKILL at random moments");
  tap_is_int (opened, 25, "the registry opened after every kill");
  tap_is_int (consistent, 25, "and held only whole rows with aligned, distinct ranges");
  tap_is_int (raw_int (S ("%s/registry.db", root), "SELECT count(*) FROM images"), 1, "the image survived");
}

static void
write_garbage (const char *path, off_t at, size_t len)
{
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CREAT, 0600);
  _cleanup_free_ char *buf = sb_xmalloc0 (len);

  for (size_t i = 0; i < len; i++)
    buf[i] = (char)(i * 7 + 13);
  must (fd >= 0 && pwrite (fd, buf, len, at) == (ssize_t)len, "write garbage");
}

static void
test_corrupt (void)
{
  _cleanup_err_ sb_err *err = NULL;
  sb_registry *reg = open_root ("corrupt");
  const char *db = S ("%s/corrupt/registry.db", tmp);

  must (add_image (reg, "img", &err) == 0, "add image");
  sb_registry_close (reg);
  checkpoint (db);
  write_garbage (db, 0, 8192);
  reg = NULL;
  tap_ok (sb_registry_open (S ("%s/corrupt", tmp), &reg, &err) < 0 && reg == NULL,
          "garbage registry refused");
  tap_ok (contains (msg (err), S ("registry %s is corrupt: ", db)), "corrupt error names the file: %s",
          msg (err));
  sb_err_free (&err);

  /* A valid header over damaged pages.  */
  reg = open_root ("corrupt2");
  must (add_image (reg, "img", &err) == 0, "add image");
  sb_registry_close (reg);
  db = S ("%s/corrupt2/registry.db", tmp);
  checkpoint (db);
  write_garbage (db, 100, (size_t)file_size (db) - 100);
  reg = NULL;
  tap_ok (sb_registry_open (S ("%s/corrupt2", tmp), &reg, &err) < 0, "damaged pages refused");
  tap_ok (contains (msg (err), S ("registry %s is corrupt: ", db)), "corrupt error: %s", msg (err));
}

static void
test_locked (void)
{
  _cleanup_err_ sb_err *err = NULL;
  sb_registry *reg = open_root ("locked");
  const char *db = S ("%s/locked/registry.db", tmp);
  struct timespec t0, t1;
  pid_t pid;
  long ms;

  must (add_image (reg, "img", &err) == 0, "add image");
  sb_registry_close (reg);
  pid = spawn_holder (db, 1);
  setenv ("SUDOBOX_REGISTRY_BUSY_MS", "300", 1);
  reg = NULL;
  want_ok (sb_registry_open (S ("%s/locked", tmp), &reg, &err), &err, "open while a writer holds the lock");
  clock_gettime (CLOCK_MONOTONIC, &t0);
  tap_ok (reg != NULL && create_ws (reg, "w", "img", RANGE, NULL, &err) < 0, "create fails while locked");
  clock_gettime (CLOCK_MONOTONIC, &t1);
  tap_is_str (msg (err), S ("registry %s is locked by another sudobox command", db), "locked message");
  ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  tap_ok (ms >= 250 && ms < 5000, "it waited for the busy timeout first (%ld ms)", ms);
  sb_err_free (&err);
  unsetenv ("SUDOBOX_REGISTRY_BUSY_MS");
  tap_ok (kill_wait (pid), "lock holder killed");
  want_ok (create_ws (reg, "w", "img", RANGE, NULL, &err), &err, "create works once the holder is gone");
  sb_registry_close (reg);
}

static int
rm_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove (path);
}

int
main (void)
{
  must (mkdtemp (tmp) != NULL, "mkdtemp");
  unsetenv ("SUDOBOX_REGISTRY_BUSY_MS");
  test_open_schema ();
  test_images ();
  test_ranges ();
  test_names ();
  test_state ();
  test_concurrent ();
  test_kill_in_transaction ();
  test_kill_anywhere ();
  test_corrupt ();
  test_locked ();
  tap_ok (nftw (tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0, "temporary root removed");
  return tap_done ();
}
