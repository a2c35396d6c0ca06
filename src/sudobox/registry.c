/* The registry on SQLite.  Durability model: WAL with synchronous=NORMAL.
   A commit is a frame appended to the WAL and marked committed in the same
   write; without an fsync per commit the last commits may be lost on a power
   failure, but never on a process kill (SIGKILL included): the data is in
   the kernel's page cache and the next opener's WAL recovery replays every
   committed transaction and drops uncommitted frames.  So a command killed
   at any point leaves the registry as of its last commit.

   The WAL outlives the connection: closing does not checkpoint it into
   the database file and delete it (SQLite's default for the last
   connection).  That default cost every command four fsyncs (the new WAL's
   header and directory, then the WAL and the database around the
   checkpoint), milliseconds each while the disk is busy.  Now commits
   append to the WAL and a commit that grows it past WAL_CHECKPOINT_PAGES
   checkpoints it, so a command pays those syncs once in many; an opener
   replays at most that many pages.  What a crash can leave is unchanged:
   the WAL is the database's journal whether or not a connection is open.  */
#include "registry.h"

#include <errno.h>
#include <sqlite3.h>
#include <string.h>

#include "idclaim.h"
#include "idrange.h"
#include "util.h"

#define SCHEMA_VERSION 1
#define BUSY_DEFAULT_MS 30000
/* Pages (512 KiB); a workspace's life, create to rm, writes ten to twenty.  */
#define WAL_CHECKPOINT_PAGES "128"

struct sb_registry
{
  sqlite3 *db;
  char *path;
  char *root; /* the state root, for the host-wide id claims */
  int busy_ms;
};

static const char schema_v1[]
    = "CREATE TABLE IF NOT EXISTS images ("
      " name TEXT PRIMARY KEY NOT NULL,"
      " dir TEXT NOT NULL,"
      " created TEXT NOT NULL,"
      " size INTEGER NOT NULL DEFAULT 0,"
      " source TEXT,"
      " config TEXT);"
      "CREATE TABLE IF NOT EXISTS workspaces ("
      " name TEXT PRIMARY KEY NOT NULL,"
      " image TEXT NOT NULL REFERENCES images(name) ON DELETE RESTRICT,"
      " isolation TEXT NOT NULL CHECK (isolation IN ('userns', 'system', 'microvm')),"
      " id_first INTEGER NOT NULL UNIQUE,"
      " state TEXT NOT NULL"
      "  CHECK (state IN ('creating', 'created', 'running', 'stopped', 'removing')),"
      " monitor_pid INTEGER NOT NULL DEFAULT 0,"
      " monitor_start INTEGER NOT NULL DEFAULT 0,"
      " exit_code INTEGER NOT NULL DEFAULT -1,"
      " config TEXT,"
      " created TEXT NOT NULL);"
      "CREATE INDEX IF NOT EXISTS workspaces_image ON workspaces(image);"
      "PRAGMA user_version = 1;";

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

static const char *const state_names[] = {
  [SB_WS_CREATING] = "creating", [SB_WS_CREATED] = "created",   [SB_WS_RUNNING] = "running",
  [SB_WS_STOPPED] = "stopped",   [SB_WS_REMOVING] = "removing",
};

const char *
sb_ws_state_name (sb_ws_state s)
{
  if ((size_t)s >= sizeof (state_names) / sizeof (state_names[0]))
    return "unknown";
  return state_names[s];
}

static int
state_from_name (const char *name, sb_ws_state *out)
{
  for (size_t i = 0; name != NULL && i < sizeof (state_names) / sizeof (state_names[0]); i++)
    if (strcmp (state_names[i], name) == 0)
      {
        *out = (sb_ws_state)i;
        return 0;
      }
  return -1;
}

int
sb_check_name (const char *what, const char *name, sb_err **err)
{
  size_t len = name != NULL ? strlen (name) : 0;
  bool ok = len >= 1 && len <= 64 && strchr ("abcdefghijklmnopqrstuvwxyz0123456789", name[0]) != NULL;

  for (size_t i = 1; ok && i < len; i++)
    ok = strchr ("abcdefghijklmnopqrstuvwxyz0123456789_.-", name[i]) != NULL;
  if (!ok)
    return sb_error (err, 0,
                     "invalid %s name \"%s\": use lowercase letters, digits, '.', '_' and '-' "
                     "(at most 64, starting with a letter or digit)",
                     what, name != NULL ? name : "");
  return 0;
}

/* Turns the connection's last SQLite error into a message naming the file.
   Busy and corrupt are what a user can act on, so they get their own words.  */
static int
db_error (sb_registry *reg, int rc, const char *doing, sb_err **err)
{
  const char *msg = sqlite3_errmsg (reg->db);

  switch (rc & 0xff)
    {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return sb_error (err, 0, "registry %s is locked by another sudobox command", reg->path);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return sb_error (err, 0, "registry %s is corrupt: %s", reg->path, msg);
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return sb_error (err, sqlite3_system_errno (reg->db), "registry %s: %s: %s", reg->path, doing, msg);
    default:
      return sb_error (err, 0, "registry %s: %s: %s", reg->path, doing, msg);
    }
}

static void
finalizep (sqlite3_stmt **st)
{
  sqlite3_finalize (*st);
  *st = NULL;
}
#define _cleanup_stmt_ __attribute__ ((cleanup (finalizep)))

/* A write transaction still open when its variable goes out of scope (an
   error path) is rolled back.  Declare it before the statements it uses, so
   they are finalized first.  */
static void
rollbackp (sqlite3 **tx)
{
  if (*tx != NULL && !sqlite3_get_autocommit (*tx))
    sqlite3_exec (*tx, "ROLLBACK", NULL, NULL, NULL);
  *tx = NULL;
}
#define _cleanup_tx_ __attribute__ ((cleanup (rollbackp)))

static int
exec_sql (sb_registry *reg, const char *sql, const char *doing, sb_err **err)
{
  int rc = sqlite3_exec (reg->db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return db_error (reg, rc, doing, err);
  return 0;
}

/* IMMEDIATE takes the write lock at BEGIN, waiting up to busy_timeout:
   concurrent writers queue there instead of failing later when a read
   transaction cannot be upgraded.  */
static int
tx_begin (sb_registry *reg, sqlite3 **tx, sb_err **err)
{
  if (exec_sql (reg, "BEGIN IMMEDIATE", "begin transaction", err) < 0)
    return -1;
  *tx = reg->db;
  return 0;
}

static int
tx_commit (sb_registry *reg, sqlite3 **tx, sb_err **err)
{
  if (exec_sql (reg, "COMMIT", "commit", err) < 0)
    return -1;
  *tx = NULL;
  return 0;
}

static int
prepare (sb_registry *reg, const char *sql, sqlite3_stmt **st, sb_err **err)
{
  int rc = sqlite3_prepare_v2 (reg->db, sql, -1, st, NULL);
  if (rc != SQLITE_OK)
    return db_error (reg, rc, "prepare statement", err);
  return 0;
}

/* 1 for a row, 0 when done, -1 with an error.  */
static int
step (sb_registry *reg, sqlite3_stmt *st, const char *doing, sb_err **err)
{
  int rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    return 1;
  if (rc == SQLITE_DONE)
    return 0;
  return db_error (reg, rc, doing, err);
}

static int
bind_text (sb_registry *reg, sqlite3_stmt *st, int i, const char *s, sb_err **err)
{
  int rc = s != NULL ? sqlite3_bind_text (st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null (st, i);
  if (rc != SQLITE_OK)
    return db_error (reg, rc, "bind parameter", err);
  return 0;
}

static int
bind_int (sb_registry *reg, sqlite3_stmt *st, int i, int64_t v, sb_err **err)
{
  int rc = sqlite3_bind_int64 (st, i, v);
  if (rc != SQLITE_OK)
    return db_error (reg, rc, "bind parameter", err);
  return 0;
}

/* Runs a statement with one text parameter that returns at most one row;
   1 if it returned a row.  */
static int
query_exists (sb_registry *reg, const char *sql, const char *arg, const char *doing, sb_err **err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare (reg, sql, &st, err) < 0 || bind_text (reg, st, 1, arg, err) < 0)
    return -1;
  return step (reg, st, doing, err);
}

static char *
column_dup (sqlite3_stmt *st, int i)
{
  const unsigned char *s = sqlite3_column_text (st, i);
  return s != NULL ? sb_xstrdup ((const char *)s) : NULL;
}

static int
busy_ms (sb_err **err)
{
  const char *env = getenv ("SUDOBOX_REGISTRY_BUSY_MS");
  int64_t ms;

  if (env == NULL || *env == '\0')
    return BUSY_DEFAULT_MS;
  if (sb_parse_i64 (env, &ms) < 0 || ms < 0 || ms > 3600000)
    return sb_error (err, 0, "invalid SUDOBOX_REGISTRY_BUSY_MS \"%s\": want milliseconds, 0 to 3600000", env);
  return (int)ms;
}

/* Reads one single-value pragma as text into buf; returns SQLite's code
   (the connection keeps the message).  */
static int
pragma_raw (sb_registry *reg, const char *sql, char *buf, size_t size)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2 (reg->db, sql, -1, &st, NULL);

  if (rc != SQLITE_OK)
    return rc;
  rc = sqlite3_step (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return rc;
  snprintf (buf, size, "%s",
            rc == SQLITE_ROW && sqlite3_column_text (st, 0) ? (const char *)sqlite3_column_text (st, 0) : "");
  return SQLITE_OK;
}

/* Switching a new database to WAL needs an exclusive lock, and SQLite
   answers SQLITE_BUSY there without calling the busy handler: when many
   commands open a new registry at once, retry within the same budget.  */
static int
set_wal (sb_registry *reg, sb_err **err)
{
  char mode[32];
  int rc;

  /* The first statement reads the file header: a file that is not a
     database fails here.  */
  for (int waited = 0;; waited += 10)
    {
      rc = pragma_raw (reg, "PRAGMA journal_mode = WAL", mode, sizeof (mode));
      if ((rc & 0xff) != SQLITE_BUSY || waited >= reg->busy_ms)
        break;
      sqlite3_sleep (10);
    }
  if (rc != SQLITE_OK)
    return db_error (reg, rc, "set journal mode", err);
  if (strcmp (mode, "wal") != 0)
    return sb_error (err, 0,
                     "registry %s: the file system does not support SQLite's WAL mode (journal mode %s)",
                     reg->path, mode);
  return 0;
}

static int
configure (sb_registry *reg, sb_err **err)
{
  char check[256];
  int rc;

  rc = sqlite3_db_config (reg->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
  if (rc != SQLITE_OK)
    return db_error (reg, rc, "configure", err);
  if (set_wal (reg, err) < 0
      || exec_sql (reg,
                   "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
                   " PRAGMA wal_autocheckpoint = " WAL_CHECKPOINT_PAGES,
                   "configure", err)
             < 0)
    return -1;
  /* The registry is a few pages: checking every page on open is cheap and
     reports damage here rather than in the middle of a command.  */
  rc = pragma_raw (reg, "PRAGMA quick_check(1)", check, sizeof (check));
  if (rc != SQLITE_OK)
    return db_error (reg, rc, "check integrity", err);
  if (strcmp (check, "ok") != 0)
    return sb_error (err, 0, "registry %s is corrupt: %s", reg->path, check);
  return 0;
}

static int
user_version (sb_registry *reg, int64_t *v, sb_err **err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare (reg, "PRAGMA user_version", &st, err) < 0 || step (reg, st, "read schema version", err) < 0)
    return -1;
  *v = sqlite3_column_int64 (st, 0);
  return 0;
}

/* Creates the schema on first use.  The version is read again inside the
   write transaction because another command may have just created it.  */
static int
ensure_schema (sb_registry *reg, sb_err **err)
{
  _cleanup_tx_ sqlite3 *tx = NULL;
  int64_t v;

  if (user_version (reg, &v, err) < 0)
    return -1;
  if (v == SCHEMA_VERSION)
    return 0;
  if (tx_begin (reg, &tx, err) < 0 || user_version (reg, &v, err) < 0)
    return -1;
  if (v > SCHEMA_VERSION)
    return sb_error (err, 0, "registry %s has schema version %lld, newer than this sudobox knows (%d)",
                     reg->path, (long long)v, SCHEMA_VERSION);
  if (v == 0 && exec_sql (reg, schema_v1, "create schema", err) < 0)
    return -1;
  return tx_commit (reg, &tx, err);
}

void
sb_registry_close (sb_registry *reg)
{
  if (reg == NULL)
    return;
  sqlite3_close (reg->db);
  free (reg->path);
  free (reg->root);
  free (reg);
}

static void
registry_closep (sb_registry **reg)
{
  sb_registry_close (*reg);
  *reg = NULL;
}

int
sb_registry_open (const char *root, sb_registry **out, sb_err **err)
{
  __attribute__ ((cleanup (registry_closep))) sb_registry *reg = NULL;
  int ms, rc;

  if ((ms = busy_ms (err)) < 0)
    return -1;
  if (sb_mkdir_p (root, 0700, err) < 0)
    return sb_error_wrap (err, "registry root");
  reg = sb_xmalloc0 (sizeof (*reg));
  reg->busy_ms = ms;
  reg->path = sb_xasprintf ("%s/registry.db", root);
  reg->root = sb_xstrdup (root);
  /* One connection per process, never shared between threads.  */
  rc = sqlite3_open_v2 (reg->path, &reg->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL);
  if (rc != SQLITE_OK)
    {
      if (reg->db == NULL)
        return sb_error (err, ENOMEM, "registry %s", reg->path);
      return db_error (reg, rc, "open", err);
    }
  sqlite3_busy_timeout (reg->db, reg->busy_ms);
  if (configure (reg, err) < 0 || ensure_schema (reg, err) < 0)
    return -1;
  *out = sb_steal (&reg);
  return 0;
}

int
sb_registry_image_add (sb_registry *reg, const sb_image_rec *img, sb_err **err)
{
  _cleanup_tx_ sqlite3 *tx = NULL;
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  int r;

  if (sb_check_name ("image", img->name, err) < 0)
    return -1;
  if (img->dir == NULL || img->dir[0] != '/')
    return sb_error (err, 0, "image \"%s\": directory \"%s\" is not absolute", img->name,
                     img->dir != NULL ? img->dir : "");
  if (tx_begin (reg, &tx, err) < 0)
    return -1;
  r = query_exists (reg, "SELECT 1 FROM images WHERE name = ?1", img->name, "look up image", err);
  if (r < 0)
    return -1;
  if (r == 1)
    return sb_error (err, 0, "image \"%s\" already exists", img->name);
  if (prepare (reg,
               "INSERT INTO images (name, dir, created, size, source, config)"
               " VALUES (?1, ?2, COALESCE(?3, " NOW_SQL "), ?4, ?5, ?6)",
               &st, err)
          < 0
      || bind_text (reg, st, 1, img->name, err) < 0 || bind_text (reg, st, 2, img->dir, err) < 0
      || bind_text (reg, st, 3, img->created, err) < 0 || bind_int (reg, st, 4, img->size, err) < 0
      || bind_text (reg, st, 5, img->source, err) < 0 || bind_text (reg, st, 6, img->config, err) < 0
      || step (reg, st, "insert image", err) < 0)
    return -1;
  return tx_commit (reg, &tx, err);
}

#define IMAGE_COLUMNS "name, dir, created, size, source, config"

static sb_image_rec *
image_from_row (sqlite3_stmt *st)
{
  sb_image_rec *r = sb_xmalloc0 (sizeof (*r));
  r->name = column_dup (st, 0);
  r->dir = column_dup (st, 1);
  r->created = column_dup (st, 2);
  r->size = sqlite3_column_int64 (st, 3);
  r->source = column_dup (st, 4);
  r->config = column_dup (st, 5);
  return r;
}

void
sb_image_rec_free (sb_image_rec *r)
{
  if (r == NULL)
    return;
  free (r->name);
  free (r->dir);
  free (r->created);
  free (r->source);
  free (r->config);
  free (r);
}

void
sb_image_rec_list_free (sb_image_rec **list)
{
  for (size_t i = 0; list != NULL && list[i] != NULL; i++)
    sb_image_rec_free (list[i]);
  free (list);
}

int
sb_registry_image_get (sb_registry *reg, const char *name, sb_image_rec **out, sb_err **err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  int r;

  if (prepare (reg, "SELECT " IMAGE_COLUMNS " FROM images WHERE name = ?1", &st, err) < 0
      || bind_text (reg, st, 1, name, err) < 0 || (r = step (reg, st, "look up image", err)) < 0)
    return -1;
  if (r == 0)
    return 1;
  *out = image_from_row (st);
  return 0;
}

int
sb_registry_image_list (sb_registry *reg, sb_image_rec ***out, size_t *n, sb_err **err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  sb_image_rec **list = sb_xmalloc0 (sizeof (*list));
  size_t len = 0;
  int r;

  if (prepare (reg, "SELECT " IMAGE_COLUMNS " FROM images ORDER BY name", &st, err) < 0)
    r = -1;
  else
    while ((r = step (reg, st, "list images", err)) == 1)
      {
        list = sb_xrealloc (list, (len + 2) * sizeof (*list));
        list[len++] = image_from_row (st);
        list[len] = NULL;
      }
  if (r < 0)
    {
      sb_image_rec_list_free (list);
      return -1;
    }
  *out = list;
  *n = len;
  return 0;
}

/* The names of the workspaces using an image, quoted and comma separated,
   or NULL when none does.  */
static int
image_users (sb_registry *reg, const char *image, char **out, sb_err **err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  _cleanup_free_ char *names = NULL;
  int r;

  if (prepare (reg, "SELECT name FROM workspaces WHERE image = ?1 ORDER BY name", &st, err) < 0
      || bind_text (reg, st, 1, image, err) < 0)
    return -1;
  while ((r = step (reg, st, "look up workspaces of image", err)) == 1)
    {
      char *more = sb_xasprintf ("%s%s\"%s\"", names ? names : "", names ? ", " : "",
                                 (const char *)sqlite3_column_text (st, 0));
      free (names);
      names = more;
    }
  if (r < 0)
    return -1;
  *out = sb_steal (&names);
  return 0;
}

int
sb_registry_image_remove (sb_registry *reg, const char *name, sb_err **err)
{
  _cleanup_tx_ sqlite3 *tx = NULL;
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  _cleanup_free_ char *users = NULL;
  int r;

  if (tx_begin (reg, &tx, err) < 0)
    return -1;
  r = query_exists (reg, "SELECT 1 FROM images WHERE name = ?1", name, "look up image", err);
  if (r < 0)
    return -1;
  if (r == 0)
    return sb_error (err, 0, "image \"%s\" not found", name);
  if (image_users (reg, name, &users, err) < 0)
    return -1;
  if (users != NULL)
    return sb_error (err, 0, "image \"%s\" is used by workspace%s %s", name, strchr (users, ',') ? "s" : "",
                     users);
  if (prepare (reg, "DELETE FROM images WHERE name = ?1", &st, err) < 0
      || bind_text (reg, st, 1, name, err) < 0 || step (reg, st, "delete image", err) < 0)
    return -1;
  return tx_commit (reg, &tx, err);
}

#define WS_COLUMNS                                                                                           \
  "name, image, isolation, id_first, state, monitor_pid, monitor_start, exit_code, config, created"

void
sb_ws_rec_free (sb_ws_rec *r)
{
  if (r == NULL)
    return;
  free (r->name);
  free (r->image);
  free (r->isolation);
  free (r->config);
  free (r->created);
  free (r);
}

void
sb_ws_rec_list_free (sb_ws_rec **list)
{
  for (size_t i = 0; list != NULL && list[i] != NULL; i++)
    sb_ws_rec_free (list[i]);
  free (list);
}

static int
ws_from_row (sb_registry *reg, sqlite3_stmt *st, sb_ws_rec **out, sb_err **err)
{
  sb_ws_rec *r = sb_xmalloc0 (sizeof (*r));
  const char *state = (const char *)sqlite3_column_text (st, 4);

  r->name = column_dup (st, 0);
  r->image = column_dup (st, 1);
  r->isolation = column_dup (st, 2);
  r->id_first = (uint32_t)sqlite3_column_int64 (st, 3);
  r->monitor_pid = (pid_t)sqlite3_column_int64 (st, 5);
  r->monitor_start = (uint64_t)sqlite3_column_int64 (st, 6);
  r->exit_code = sqlite3_column_int (st, 7);
  r->config = column_dup (st, 8);
  r->created = column_dup (st, 9);
  if (state_from_name (state, &r->state) < 0)
    {
      sb_error (err, 0, "registry %s is corrupt: workspace \"%s\" has unknown state \"%s\"", reg->path,
                r->name, state != NULL ? state : "");
      sb_ws_rec_free (r);
      return -1;
    }
  *out = r;
  return 0;
}

int
sb_registry_ws_get (sb_registry *reg, const char *name, sb_ws_rec **out, sb_err **err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  int r;

  if (prepare (reg, "SELECT " WS_COLUMNS " FROM workspaces WHERE name = ?1", &st, err) < 0
      || bind_text (reg, st, 1, name, err) < 0 || (r = step (reg, st, "look up workspace", err)) < 0)
    return -1;
  if (r == 0)
    return 1;
  return ws_from_row (reg, st, out, err);
}

int
sb_registry_ws_list (sb_registry *reg, sb_ws_rec ***out, size_t *n, sb_err **err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  sb_ws_rec **list = sb_xmalloc0 (sizeof (*list));
  size_t len = 0;
  int r;

  if (prepare (reg, "SELECT " WS_COLUMNS " FROM workspaces ORDER BY name", &st, err) < 0)
    r = -1;
  else
    while ((r = step (reg, st, "list workspaces", err)) == 1)
      {
        list = sb_xrealloc (list, (len + 2) * sizeof (*list));
        list[len + 1] = NULL;
        if ((r = ws_from_row (reg, st, &list[len], err)) < 0)
          break;
        len++;
      }
  if (r < 0)
    {
      sb_ws_rec_list_free (list);
      return -1;
    }
  *out = list;
  *n = len;
  return 0;
}

/* The lowest range start pool_first + k * SIZE that overlaps no allocated
   range (1 when there is none).  Allocated starts are scanned in order; overlap rather than
   equality is tested so that rows allocated from a differently configured
   pool are still respected.  */
static int
find_free_range (sb_registry *reg, uint64_t pool_first, uint64_t pool_end, uint32_t *out, sb_err **err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  uint64_t cand = pool_first;
  int r = 0;

  if (prepare (reg, "SELECT id_first FROM workspaces ORDER BY id_first", &st, err) < 0)
    return -1;
  while (cand + SB_IDRANGE_SIZE <= pool_end && (r = step (reg, st, "read id ranges", err)) == 1)
    {
      uint64_t used = (uint64_t)sqlite3_column_int64 (st, 0);
      if (used + SB_IDRANGE_SIZE <= cand)
        continue;
      if (used >= cand + SB_IDRANGE_SIZE)
        break;
      cand
          = pool_first
            + (used + SB_IDRANGE_SIZE - pool_first + SB_IDRANGE_SIZE - 1) / SB_IDRANGE_SIZE * SB_IDRANGE_SIZE;
    }
  if (r < 0)
    return -1;
  if (cand + SB_IDRANGE_SIZE > pool_end)
    return 1;
  *out = (uint32_t)cand;
  return 0;
}

/* The lowest free range of the registry that no other state root on the
   host has claimed; claimed for this root and name.  Called inside the
   write transaction that inserts the row, so gc (which prunes claims in
   one too) never sees the claim without the row to come.  */
static int
claim_free_range (sb_registry *reg, const char *name, uint64_t pool_first, uint64_t pool_end, uint32_t *out,
                  sb_err **err)
{
  uint64_t start = pool_first;

  for (;;)
    {
      int r = find_free_range (reg, start, pool_end, out, err);
      if (r < 0)
        return -1;
      if (r > 0)
        return sb_error (err, 0, "no free id range: all %llu ranges of the pool are in use",
                         (unsigned long long)((pool_end - pool_first) / SB_IDRANGE_SIZE));
      r = sb_idclaim_take (*out, reg->root, name, err);
      if (r <= 0)
        return r;
      start = (uint64_t)*out + SB_IDRANGE_SIZE;
    }
}

static bool
claim_has_row (uint32_t first, const char *owner, void *arg)
{
  sb_registry *reg = arg;
  _cleanup_stmt_ sqlite3_stmt *st = NULL;

  if (prepare (reg, "SELECT 1 FROM workspaces WHERE name = ?1 AND id_first = ?2", &st, NULL) < 0
      || bind_text (reg, st, 1, owner, NULL) < 0 || bind_int (reg, st, 2, first, NULL) < 0)
    return true;
  return step (reg, st, "look up a claimed range", NULL) != 0;
}

int
sb_registry_prune_claims (sb_registry *reg, sb_err **err)
{
  _cleanup_tx_ sqlite3 *tx = NULL;

  /* Every command comes here: most find nothing to release, and skip the
     write transaction and the host-wide lock.  */
  if (!sb_idclaim_prune_pending (reg->root, claim_has_row, reg))
    return 0;
  if (tx_begin (reg, &tx, err) < 0 || sb_idclaim_prune (reg->root, claim_has_row, reg, err) < 0)
    return -1;
  return tx_commit (reg, &tx, err);
}

static int
check_ws (const sb_ws_rec *ws, uint64_t pool_first, uint64_t pool_count, sb_err **err)
{
  if (sb_check_name ("workspace", ws->name, err) < 0)
    return -1;
  if (ws->image == NULL)
    return sb_error (err, 0, "workspace \"%s\": no image given", ws->name);
  if (ws->isolation == NULL
      || (strcmp (ws->isolation, "userns") != 0 && strcmp (ws->isolation, "system") != 0
          && strcmp (ws->isolation, "microvm") != 0))
    return sb_error (err, 0, "workspace \"%s\": unknown isolation \"%s\" (userns, system or microvm)",
                     ws->name, ws->isolation != NULL ? ws->isolation : "");
  if (pool_count < SB_IDRANGE_SIZE)
    return sb_error (err, 0, "id pool of %llu ids at %llu is smaller than one range of %u ids",
                     (unsigned long long)pool_count, (unsigned long long)pool_first, SB_IDRANGE_SIZE);
  /* (uid_t)-1 is not an id.  */
  if (pool_first + pool_count > UINT32_MAX)
    return sb_error (err, 0, "id pool [%llu, %llu) goes beyond the last valid id %u",
                     (unsigned long long)pool_first, (unsigned long long)(pool_first + pool_count),
                     UINT32_MAX - 1);
  return 0;
}

int
sb_registry_ws_create (sb_registry *reg, sb_ws_rec *ws, uint32_t pool_first, uint32_t pool_count,
                       sb_err **err)
{
  _cleanup_tx_ sqlite3 *tx = NULL;
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  uint32_t id_first = 0;
  int r;

  if (check_ws (ws, pool_first, pool_count, err) < 0 || tx_begin (reg, &tx, err) < 0)
    return -1;
  r = query_exists (reg, "SELECT 1 FROM images WHERE name = ?1", ws->image, "look up image", err);
  if (r < 0)
    return -1;
  if (r == 0)
    return sb_error (err, 0, "image \"%s\" not found", ws->image);
  r = query_exists (reg, "SELECT 1 FROM workspaces WHERE name = ?1", ws->name, "look up workspace", err);
  if (r < 0)
    return -1;
  if (r == 1)
    return sb_error (err, 0, "workspace \"%s\" already exists", ws->name);
  if (claim_free_range (reg, ws->name, pool_first, (uint64_t)pool_first + pool_count, &id_first, err) < 0)
    return -1;
  if (prepare (reg,
               "INSERT INTO workspaces (name, image, isolation, id_first, state, monitor_pid, monitor_start,"
               " exit_code, config, created)"
               " VALUES (?1, ?2, ?3, ?4, 'creating', 0, 0, -1, ?5, COALESCE(?6, " NOW_SQL "))",
               &st, err)
          < 0
      || bind_text (reg, st, 1, ws->name, err) < 0 || bind_text (reg, st, 2, ws->image, err) < 0
      || bind_text (reg, st, 3, ws->isolation, err) < 0 || bind_int (reg, st, 4, id_first, err) < 0
      || bind_text (reg, st, 5, ws->config, err) < 0 || bind_text (reg, st, 6, ws->created, err) < 0
      || step (reg, st, "insert workspace", err) < 0 || tx_commit (reg, &tx, err) < 0)
    {
      sb_idclaim_release (id_first, reg->root, ws->name, NULL);
      return -1;
    }
  ws->id_first = id_first;
  ws->state = SB_WS_CREATING;
  ws->monitor_pid = 0;
  ws->monitor_start = 0;
  ws->exit_code = -1;
  return 0;
}

/* Runs a one-row UPDATE or DELETE (already bound, name as ?1) in its own
   write transaction; an unknown workspace is an error.  */
static int
ws_modify (sb_registry *reg, sqlite3 **tx, sqlite3_stmt *st, const char *name, const char *doing,
           sb_err **err)
{
  if (step (reg, st, doing, err) < 0)
    return -1;
  if (sqlite3_changes (reg->db) == 0)
    return sb_error (err, 0, "workspace \"%s\" not found", name);
  return tx_commit (reg, tx, err);
}

int
sb_registry_ws_set_state (sb_registry *reg, const char *name, sb_ws_state state, pid_t monitor_pid,
                          uint64_t monitor_start, int exit_code, sb_err **err)
{
  _cleanup_tx_ sqlite3 *tx = NULL;
  _cleanup_stmt_ sqlite3_stmt *st = NULL;

  if ((size_t)state >= sizeof (state_names) / sizeof (state_names[0]))
    return sb_error (err, 0, "workspace \"%s\": invalid state %d", name, (int)state);
  if (tx_begin (reg, &tx, err) < 0
      || prepare (reg,
                  "UPDATE workspaces SET state = ?2, monitor_pid = ?3, monitor_start = ?4, exit_code = ?5"
                  " WHERE name = ?1",
                  &st, err)
             < 0
      || bind_text (reg, st, 1, name, err) < 0 || bind_text (reg, st, 2, state_names[state], err) < 0
      || bind_int (reg, st, 3, monitor_pid, err) < 0 || bind_int (reg, st, 4, (int64_t)monitor_start, err) < 0
      || bind_int (reg, st, 5, exit_code, err) < 0)
    return -1;
  return ws_modify (reg, &tx, st, name, "update workspace", err);
}

int
sb_registry_ws_delete (sb_registry *reg, const char *name, sb_err **err)
{
  _cleanup_tx_ sqlite3 *tx = NULL;
  _cleanup_stmt_ sqlite3_stmt *st = NULL;

  sb_ws_rec *ws = NULL;
  uint32_t first;
  int r = sb_registry_ws_get (reg, name, &ws, err);

  if (r != 0)
    return r < 0 ? -1 : sb_error (err, 0, "workspace \"%s\" not found", name);
  first = ws->id_first;
  sb_ws_rec_free (ws);
  if (tx_begin (reg, &tx, err) < 0 || prepare (reg, "DELETE FROM workspaces WHERE name = ?1", &st, err) < 0
      || bind_text (reg, st, 1, name, err) < 0 || ws_modify (reg, &tx, st, name, "delete workspace", err) < 0)
    return -1;
  /* A kill before this leaves a claim without a row: gc prunes it.  */
  return sb_idclaim_release (first, reg->root, name, err);
}
