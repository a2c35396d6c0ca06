#include "idrange.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "state.h"
#include "tap.h"
#include "util.h"

#define NCHILDREN 20

static char tmp[] = "/tmp/sudobox-test-idrange.XXXXXX";

static void
write_file (const char *name, const char *text)
{
  _cleanup_free_ char *path = sb_xasprintf ("%s/%s", tmp, name);
  sb_write_file_atomic (path, text, strlen (text), 0644, NULL);
}

/* Runs sb_idpool_default with the given subuid/subgid contents (NULL: file
   absent); returns its result and fills pool / errmsg.  */
static int
pool_with (const char *subuid, const char *subgid, sb_idpool *pool, char **errmsg)
{
  _cleanup_free_ char *u = sb_xasprintf ("%s/subuid", tmp);
  _cleanup_free_ char *g = sb_xasprintf ("%s/subgid", tmp);
  _cleanup_err_ sb_err *err = NULL;
  int r;

  unlink (u);
  unlink (g);
  if (subuid)
    write_file ("subuid", subuid);
  if (subgid)
    write_file ("subgid", subgid);
  setenv ("SUDOBOX_SUBID_FILE", u, 1);
  setenv ("SUDOBOX_SUBGID_FILE", g, 1);
  r = sb_idpool_default (pool, &err);
  *errmsg = err ? sb_xstrdup (err->msg) : NULL;
  unlink (u);
  unlink (g);
  return r;
}

static bool
contains (const char *s, const char *needle)
{
  return s != NULL && strstr (s, needle) != NULL;
}

static void
test_pool (void)
{
  sb_idpool p = { 0 };
  char *msg = NULL;

  tap_is_int (pool_with (NULL, NULL, &p, &msg), 0, "no subid files: default pool");
  tap_is_int (p.first, SB_IDRANGE_DEFAULT_FIRST, "default first");
  tap_ok (p.count >= SB_IDRANGE_SIZE && (uint64_t)p.first + p.count <= 4294967295ull, "default count %u fits",
          p.count);
  free (msg);

  tap_is_int (pool_with ("alice:100000:65536\n", "alice:100000:65536\n", &p, &msg), 0,
              "no sudobox entry: default pool");
  tap_is_int (p.first, SB_IDRANGE_DEFAULT_FIRST, "default first without an entry");
  free (msg);

  tap_is_int (
      pool_with ("alice:100000:65536\nsudobox:2000000:655360\n", "sudobox:2000000:655360\n", &p, &msg), 0,
      "valid sudobox entry");
  tap_is_int (p.first, 2000000, "first from subuid");
  tap_is_int (p.count, 655360, "count from subuid");
  free (msg);

  tap_is_int (pool_with ("sudobox:2000000:655360\n", "sudobox:3000000:655360\n", &p, &msg), -1,
              "mismatched subgid refused");
  tap_ok (contains (msg, "subuid") && contains (msg, "subgid") && contains (msg, "2000000:655360")
              && contains (msg, "3000000:655360"),
          "error names both files and ranges: %s", msg);
  free (msg);

  tap_is_int (pool_with ("sudobox:2000000:655360\n", NULL, &p, &msg), -1,
              "entry missing from subgid refused");
  tap_ok (contains (msg, "subgid") && contains (msg, "none"), "error says subgid has none: %s", msg);
  free (msg);

  tap_is_int (pool_with ("x:1:2\nsudobox:abc:65536\n", "sudobox:abc:65536\n", &p, &msg), -1,
              "garbage refused");
  tap_ok (contains (msg, "/subuid:2:"), "error names file and line: %s", msg);
  free (msg);

  tap_is_int (pool_with ("sudobox:2000000\n", NULL, &p, &msg), -1, "missing count refused");
  tap_ok (contains (msg, "/subuid:1:"), "error names file and line: %s", msg);
  free (msg);

  tap_is_int (pool_with ("sudobox:4294000000:1000000\n", "sudobox:4294000000:1000000\n", &p, &msg), -1,
              "overflow refused");
  tap_ok (contains (msg, "largest valid id"), "overflow error: %s", msg);
  free (msg);

  tap_is_int (pool_with ("sudobox:99999999999:65536\n", "sudobox:99999999999:65536\n", &p, &msg), -1,
              "first above 32 bits refused");
  free (msg);

  tap_is_int (pool_with ("sudobox:1000:65536\n", "sudobox:1000:65536\n", &p, &msg), -1,
              "first < 65536 refused");
  tap_ok (contains (msg, "below 65536"), "low first error: %s", msg);
  free (msg);

  tap_is_int (pool_with ("sudobox:100000:1000\n", "sudobox:100000:1000\n", &p, &msg), -1,
              "count < 65536 refused");
  free (msg);
}

static void
test_from_subid (void)
{
  _cleanup_free_ char *path = sb_xasprintf ("%s/subuid", tmp);
  _cleanup_err_ sb_err *err = NULL;
  sb_idpool p = { 0 };

  write_file ("subuid", "bob:200000:65536\n");
  tap_is_int (sb_idpool_from_subid (path, "bob", &p, NULL), 0, "from_subid finds bob");
  tap_is_int (p.first, 200000, "bob's first");
  tap_is_int (sb_idpool_from_subid (path, "sudobox", &p, &err), -1, "from_subid without an entry fails");
  tap_ok (err && contains (err->msg, "no entry for user \"sudobox\""), "names the user: %s",
          err ? err->msg : "");
  unlink (path);
}

static size_t
count_slot_files (const char *root)
{
  _cleanup_free_ char *dir = sb_xasprintf ("%s/idranges", root);
  DIR *d = opendir (dir);
  struct dirent *de;
  size_t n = 0;

  while (d && (de = readdir (d)) != NULL)
    n += de->d_name[0] != '.';
  if (d)
    closedir (d);
  return n;
}

static void
test_alloc (void)
{
  _cleanup_free_ char *root = sb_xasprintf ("%s/run1", tmp);
  _cleanup_free_ char *dir = sb_xasprintf ("%s/idranges", root);
  sb_idpool pool = { .first = 1000000, .count = 3 * SB_IDRANGE_SIZE };
  _cleanup_err_ sb_err *err = NULL;
  uint32_t a = 0, b = 0, c = 0, x = 0;
  struct stat st;

  tap_is_int (sb_idrange_lookup (root, "a", &x, NULL), 1, "lookup before any alloc: not found");
  tap_is_int (sb_idrange_alloc (root, &pool, "a", &a, NULL), 0, "alloc a");
  tap_is_int (sb_idrange_alloc (root, &pool, "b", &b, NULL), 0, "alloc b");
  tap_is_int (a, 1000000, "a gets the first slot");
  tap_is_int (b, 1000000 + SB_IDRANGE_SIZE, "b gets the second slot");
  tap_is_int (sb_idrange_alloc (root, &pool, "a", &x, NULL), 0, "alloc a again");
  tap_is_int (x, a, "alloc is idempotent");
  tap_is_int (count_slot_files (root), 2, "two slot files");
  tap_ok (stat (dir, &st) == 0 && (st.st_mode & 07777) == 0700, "idranges is 0700");

  tap_is_int (sb_idrange_lookup (root, "b", &x, NULL), 0, "lookup b");
  tap_is_int (x, b, "lookup gives b's slot");
  tap_is_int (sb_idrange_lookup (root, "nobody", &x, NULL), 1, "lookup of an unknown owner");

  tap_is_int (sb_idrange_free (root, "a", NULL), 0, "free a");
  tap_is_int (sb_idrange_free (root, "a", NULL), 0, "free a twice is fine");
  tap_is_int (sb_idrange_lookup (root, "a", &x, NULL), 1, "a is gone");
  tap_is_int (sb_idrange_alloc (root, &pool, "c", &c, NULL), 0, "alloc c");
  tap_is_int (c, a, "c reuses the lowest free slot");
  tap_is_int (sb_idrange_alloc (root, &pool, "d", &x, NULL), 0, "alloc d");
  tap_is_int (x, 1000000 + 2 * SB_IDRANGE_SIZE, "d gets the third slot");

  pool.count = 2 * SB_IDRANGE_SIZE;
  write_file ("run1/idranges/1000", "");
  tap_is_int (sb_idrange_alloc (root, &pool, "e", &x, &err), -1, "pool exhausted");
  tap_is_str (err ? err->msg : NULL, "no free id range in pool 1000000+131072 (2 ranges of 65536)",
              "exhaustion error");
  sb_err_free (&err);

  tap_is_int (sb_idrange_alloc (root, &pool, "", &x, &err), -1, "empty owner refused");
  sb_err_free (&err);
  pool.first = 1000;
  tap_is_int (sb_idrange_alloc (root, &pool, "f", &x, &err), -1, "pool below 65536 refused");
  sb_err_free (&err);
}

static void
test_unknown_owner (void)
{
  _cleanup_free_ char *root = sb_xasprintf ("%s/run2", tmp);
  _cleanup_free_ char *dir = sb_xasprintf ("%s/idranges", root);
  sb_idpool pool = { .first = 1000000, .count = 4 * SB_IDRANGE_SIZE };
  uint32_t x = 0;

  sb_mkdir_p (dir, 0700, NULL);
  /* A slot of unknown ownership (empty file) and one that is misaligned
     with the pool (left by an older pool) are both left alone.  */
  write_file ("run2/idranges/1000000", "");
  write_file ("run2/idranges/1100000", "old");
  tap_is_int (sb_idrange_alloc (root, &pool, "n", &x, NULL), 0, "alloc beside foreign slots");
  tap_is_int (x, 1000000 + 3 * SB_IDRANGE_SIZE, "skips the empty slot and the two it overlaps");
  tap_is_int (sb_idrange_lookup (root, "old", &x, NULL), 0, "lookup works without knowing the pool");
  tap_is_int (x, 1100000, "the misaligned slot's first id");
}

static void
test_concurrent (void)
{
  _cleanup_free_ char *root = sb_xasprintf ("%s/run3", tmp);
  sb_idpool pool = { .first = 1000000, .count = 64 * SB_IDRANGE_SIZE };
  uint32_t firsts[NCHILDREN];
  pid_t pids[NCHILDREN];
  bool distinct = true, all_ok = true;
  int pipefd[2];

  if (pipe (pipefd) < 0)
    abort ();
  for (int i = 0; i < NCHILDREN; i++)
    {
      pids[i] = fork ();
      if (pids[i] == 0)
        {
          char owner[16];
          uint32_t f = 0;
          snprintf (owner, sizeof (owner), "c%d", i);
          if (sb_idrange_alloc (root, &pool, owner, &f, NULL) < 0)
            _exit (1);
          _exit (write (pipefd[1], &f, sizeof (f)) == sizeof (f) ? 0 : 1);
        }
    }
  close (pipefd[1]);
  for (int i = 0; i < NCHILDREN; i++)
    {
      int status;
      waitpid (pids[i], &status, 0);
      all_ok &= WIFEXITED (status) && WEXITSTATUS (status) == 0;
    }
  tap_ok (all_ok, "%d concurrent allocs succeed", NCHILDREN);
  tap_is_int (sb_read_all (pipefd[0], firsts, sizeof (firsts)), sizeof (firsts), "every child reported");
  close (pipefd[0]);
  for (int i = 0; i < NCHILDREN; i++)
    for (int j = i + 1; j < NCHILDREN; j++)
      distinct &= firsts[i] != firsts[j];
  tap_ok (distinct, "all slots distinct");
  tap_is_int (count_slot_files (root), NCHILDREN, "%d slot files", NCHILDREN);

  /* A new process sees what others recorded on disk.  */
  pid_t pid = fork ();
  if (pid == 0)
    {
      uint32_t f;
      _exit (sb_idrange_lookup (root, "c7", &f, NULL) == 0 && f >= pool.first ? 0 : 1);
    }
  int status;
  waitpid (pid, &status, 0);
  tap_ok (WIFEXITED (status) && WEXITSTATUS (status) == 0, "allocation persists across processes");
}

/* Two state roots with the same pool: the host-wide claims keep their
   ranges apart, and a root that is gone no longer holds its claims.  */
static void
test_cross_root (void)
{
  _cleanup_free_ char *r1 = sb_xasprintf ("%s/cross1", tmp), *r2 = sb_xasprintf ("%s/cross2", tmp);
  sb_idpool pool = { .first = 50000000, .count = 2 * SB_IDRANGE_SIZE };
  _cleanup_err_ sb_err *err = NULL;
  uint32_t a = 0, b = 0, c = 0;

  tap_is_int (sb_idrange_alloc (r1, &pool, "x", &a, NULL), 0, "root 1 allocates");
  tap_is_int (sb_idrange_alloc (r2, &pool, "x", &b, NULL), 0, "root 2 allocates from the same pool");
  tap_ok (a != b, "the two roots get different ranges (%u, %u)", a, b);
  tap_ok (sb_idrange_alloc (r2, &pool, "y", &c, &err) < 0, "the pool is full across roots");
  sb_state_remove (tmp, "cross1", NULL);
  tap_is_int (sb_idrange_alloc (r2, &pool, "y", &c, NULL), 0, "a removed root's claim is stale");
  tap_is_int (c, a, "and its range is reused");
  sb_idrange_free (r2, "x", NULL);
  sb_idrange_free (r2, "y", NULL);
  sb_state_remove (tmp, "cross2", NULL);
}

int
main (void)
{
  _cleanup_free_ char *claims = NULL;

  if (mkdtemp (tmp) == NULL)
    abort ();
  claims = sb_xasprintf ("%s/claims", tmp);
  setenv ("SUDOBOX_IDCLAIM_DIR", claims, 1);
  test_pool ();
  test_from_subid ();
  test_alloc ();
  test_unknown_owner ();
  test_concurrent ();
  test_cross_root ();
  for (const char *r = "run1\0run2\0run3\0claims\0"; *r; r += strlen (r) + 1)
    sb_state_remove (tmp, r, NULL);
  rmdir (tmp);
  return tap_done ();
}
