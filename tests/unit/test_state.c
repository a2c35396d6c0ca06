#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "hooks.h"
#include "tap.h"
#include "util.h"

static char tmp[] = "/tmp/sudobox-test-state.XXXXXX";
static char *root;

#define P(...) tap_str (__VA_ARGS__)

static bool
contains (const char *s, const char *needle)
{
  return s != NULL && strstr (s, needle) != NULL;
}

static void
test_check_id (void)
{
  static const struct
  {
    const char *id;
    bool ok;
  } cases[] = {
    { "a", true },    { "abc-123_x.y+z", true }, { "0start", true }, { "", false },
    { "-a", false },  { ".hidden", false },      { "_a", false },    { "x/y", false },
    { "..", false },  { "a b", false },          { "a\nb", false },  { "é", false },
    { "a:b", false },
  };
  _cleanup_free_ char *longest = sb_xmalloc0 (1026);
  _cleanup_err_ sb_err *err = NULL;

  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    tap_is_int (sb_state_check_id (cases[i].id, NULL) == 0, cases[i].ok, "id #%zu \"%s\" %s", i,
                strchr (cases[i].id, '\n') ? "(with a newline)" : cases[i].id,
                cases[i].ok ? "valid" : "invalid");
  memset (longest, 'a', 1024);
  tap_is_int (sb_state_check_id (longest, NULL), 0, "1024-byte id valid");
  longest[1024] = 'a';
  tap_is_int (sb_state_check_id (longest, NULL), -1, "1025-byte id invalid");
  sb_state_check_id ("x/y", &err);
  tap_is_str (err ? err->msg : NULL,
              "invalid container id \"x/y\": only [A-Za-z0-9_.+-] allowed, must start with a letter or digit",
              "invalid id message");
}

static void
test_create (void)
{
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_free_ char *dir = NULL;
  _cleanup_close_ int fd = -1;
  struct stat st;
  int lock;

  tap_is_int (sb_state_lock (root, "c1", &err), -1, "lock of a missing container fails");
  tap_is_str (err ? err->msg : NULL, "container \"c1\" does not exist", "does not exist message");
  sb_err_free (&err);

  tap_is_int (sb_state_create_dir (root, "c1", &dir, &fd, NULL), 0, "create c1 (and the root)");
  tap_ok (dir != NULL && strcmp (dir, P ("%s/c1", root)) == 0 && fd >= 0, "path and fd returned");
  tap_ok (fstat (fd, &st) == 0 && S_ISDIR (st.st_mode) && (st.st_mode & 07777) == 0700, "c1 is a 0700 dir");
  tap_ok (stat (root, &st) == 0 && (st.st_mode & 07777) == 0700, "root is 0700");
  tap_is_int (sb_state_create_dir (root, "c1", NULL, NULL, &err), -1, "create twice fails");
  tap_is_str (err ? err->msg : NULL, "container \"c1\" already exists", "already exists message");
  sb_err_free (&err);
  tap_is_int (sb_state_create_dir (root, "../evil", NULL, NULL, &err), -1, "create with a bad id fails");
  sb_err_free (&err);

  lock = sb_state_lock (root, "c1", NULL);
  tap_ok (lock >= 0, "lock c1");
  pid_t pid = fork ();
  if (pid == 0)
    {
      /* Another process must not get the lock while it is held.  */
      int fd2 = open (P ("%s/c1", root), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      _exit (flock (fd2, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK ? 0 : 1);
    }
  int status;
  waitpid (pid, &status, 0);
  tap_ok (WIFEXITED (status) && WEXITSTATUS (status) == 0, "the lock excludes other processes");
  close (lock);
}

static sb_state
full_state (void)
{
  static char *kv[] = { "org.example/a", "1", "b", "two words \"quoted\"", NULL };
  return (sb_state){
    .id = "c1",
    .pid = 4242,
    .pid_start = 12345678901234ull,
    .status = SB_STATUS_CREATED,
    .bundle = "/b/bundle",
    .rootfs = "/b/bundle/rootfs",
    .created = "2026-11-29T21:02:53.123456789Z",
    .owner = "alice",
    .cgroup_path = "/sudobox/c1",
    .config_json = "{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[\"sh\"]}}",
    .userns_auto = true,
    .id_first = 4000000000u,
    .isolation = "userns",
    .annotations_kv = kv,
  };
}

static void
test_round_trip (void)
{
  sb_state in = full_state ();
  _cleanup_state_ sb_state *out = NULL;
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_free_ char *path = sb_xasprintf ("%s/c1/state.json", root);
  struct stat st;

  tap_is_int (sb_state_read (root, "c1", &out, &err), -1, "read before write fails");
  sb_err_free (&err);
  tap_is_int (sb_state_write (root, &in, &err), 0, "write state");
  tap_ok (stat (path, &st) == 0 && (st.st_mode & 07777) == 0600, "state.json is 0600");
  /* Created and waiting for start: the start socket exists.  */
  close (open (P ("%s/c1/" SB_STATE_START_SOCKET, root), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  tap_is_int (sb_state_read (root, "c1", &out, &err), 0, "read state");
  if (out == NULL)
    return;
  tap_is_str (out->id, in.id, "id");
  tap_is_int (out->pid, in.pid, "pid");
  tap_is_int ((long long)out->pid_start, (long long)in.pid_start, "pid_start");
  tap_is_int (out->status, in.status, "status");
  {
    _cleanup_state_ sb_state *started = NULL;
    unlink (P ("%s/c1/" SB_STATE_START_SOCKET, root));
    tap_ok (sb_state_read (root, "c1", &started, NULL) == 0 && started->status == SB_STATUS_RUNNING,
            "created without its start socket reads as running");
  }
  tap_is_str (out->bundle, in.bundle, "bundle");
  tap_is_str (out->rootfs, in.rootfs, "rootfs");
  tap_is_str (out->created, in.created, "created");
  tap_is_str (out->owner, in.owner, "owner");
  tap_is_str (out->cgroup_path, in.cgroup_path, "cgroup_path");
  tap_is_str (out->config_json, in.config_json, "config_json");
  tap_is_int (out->userns_auto, in.userns_auto, "userns_auto");
  tap_is_int (out->id_first, in.id_first, "id_first");
  tap_is_str (out->isolation, in.isolation, "isolation");
  tap_is_int (sb_strv_len (out->annotations_kv), 4, "annotations count");
  for (size_t i = 0; i < 4 && i < sb_strv_len (out->annotations_kv); i++)
    tap_is_str (out->annotations_kv[i], in.annotations_kv[i], "annotation %zu", i);
  sb_state_freep (&out);

  /* NULL optional fields survive as NULL.  */
  in.cgroup_path = NULL;
  in.isolation = NULL;
  in.annotations_kv = NULL;
  tap_is_int (sb_state_write (root, &in, NULL), 0, "write with NULL optionals");
  tap_is_int (sb_state_read (root, "c1", &out, NULL), 0, "read it back");
  tap_ok (out && out->cgroup_path == NULL && out->isolation == NULL && sb_strv_len (out->annotations_kv) == 0,
          "NULL optionals round-trip");

  tap_is_int (sb_state_read (root, "nope", &out, &err), -1, "read of a missing container");
  tap_is_str (err ? err->msg : NULL, "container \"nope\" does not exist", "missing container message");
  sb_err_free (&err);
}

static void
expect_corrupt (const char *text, const char *needle, const char *what)
{
  _cleanup_free_ char *path = sb_xasprintf ("%s/c1/state.json", root);
  _cleanup_state_ sb_state *out = NULL;
  _cleanup_err_ sb_err *err = NULL;

  sb_write_file_atomic (path, text, strlen (text), 0600, NULL);
  tap_is_int (sb_state_read (root, "c1", &out, &err), -1, "corrupt state.json (%s) refused", what);
  tap_ok (err && contains (err->msg, "corrupt state.json") && contains (err->msg, needle), "message: %s",
          err ? err->msg : "");
}

static void
test_corrupt (void)
{
  sb_state in = full_state ();
  _cleanup_state_ sb_state *out = NULL;

  expect_corrupt ("{\"id\": \"c1\", \"pid\": ", "container \"c1\"", "truncated");
  expect_corrupt ("garbage", "c1", "not JSON");
  expect_corrupt ("[1,2]", "not a JSON object", "array");
  expect_corrupt ("{} trailing", "c1", "trailing data");
  expect_corrupt ("{\"id\":\"c1\"}", "\"pid\"", "missing fields");
  /* A valid state with the wrong id inside.  */
  in.id = "c2";
  sb_state_create_dir (root, "c2", NULL, NULL, NULL);
  sb_state_write (root, &in, NULL);
  rename (P ("%s/c2/state.json", root), P ("%s/c1/state.json", root));
  tap_is_int (sb_state_read (root, "c1", &out, NULL), -1, "state of another container refused");
  sb_state_remove (root, "c2", NULL);
  in.id = "c1";
  sb_state_write (root, &in, NULL);
}

static void
test_live_status (void)
{
  sb_state st = full_state ();
  int status;
  pid_t pid = fork ();

  if (pid == 0)
    {
      pause ();
      _exit (0);
    }
  st.pid = pid;
  st.status = SB_STATUS_RUNNING;
  tap_ok (sb_proc_start_time (pid, &st.pid_start) == 0, "child start time");
  tap_is_int (sb_state_live_status (&st, false), SB_STATUS_RUNNING, "live child: running");
  tap_is_int (sb_state_live_status (&st, true), SB_STATUS_PAUSED, "live frozen child: paused");
  st.status = SB_STATUS_CREATED;
  tap_is_int (sb_state_live_status (&st, false), SB_STATUS_CREATED, "live child recorded created: created");
  st.pid_start++;
  tap_is_int (sb_state_live_status (&st, false), SB_STATUS_STOPPED, "pid reused (other start time): stopped");
  st.pid_start--;

  kill (pid, SIGKILL);
  /* Wait for it to become a zombie without reaping it.  */
  for (int i = 0; i < 1000; i++)
    {
      siginfo_t si = { 0 };
      if (waitid (P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0 && si.si_pid == pid)
        break;
    }
  tap_is_int (sb_state_live_status (&st, false), SB_STATUS_STOPPED, "zombie: stopped");
  waitpid (pid, &status, 0);
  tap_is_int (sb_state_live_status (&st, false), SB_STATUS_STOPPED, "reaped: stopped");

  st.pid = 0;
  st.status = SB_STATUS_CREATING;
  tap_is_int (sb_state_live_status (&st, false), SB_STATUS_CREATING, "no pid yet: creating");
}

static void
test_oci_json (void)
{
  sb_state st = full_state ();
  _cleanup_free_ char *running = sb_state_to_oci_json (&st, SB_STATUS_RUNNING);
  _cleanup_free_ char *stopped = sb_state_to_oci_json (&st, SB_STATUS_STOPPED);
  json_object *o = json_tokener_parse (running), *v;
  json_object *s = json_tokener_parse (stopped);
  const char *keys[]
      = { "ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "annotations", "owner" };
  size_t n = 0;

  tap_ok (o != NULL && s != NULL, "state JSON parses");
  json_object_object_foreach (o, k, val)
  {
    (void)val;
    tap_is_str (k, n < 9 ? keys[n] : "(extra)", "key %zu in runc's order", n);
    n++;
  }
  tap_is_int (n, 9, "exactly runc's fields");
  tap_ok (json_object_object_get_ex (o, "pid", &v) && json_object_get_int (v) == 4242, "pid while running");
  tap_ok (json_object_object_get_ex (o, "status", &v) && strcmp (json_object_get_string (v), "running") == 0,
          "status running");
  tap_ok (json_object_object_get_ex (o, "annotations", &v)
              && json_object_object_get_ex (v, "org.example/a", &v)
              && strcmp (json_object_get_string (v), "1") == 0,
          "annotations as an object");
  tap_ok (json_object_object_get_ex (s, "pid", &v) && json_object_get_int (v) == 0, "pid 0 when stopped");
  tap_ok (contains (running, "\"bundle\": \"/b/bundle\""), "slashes not escaped, runc's spacing");
  json_object_put (o);
  json_object_put (s);
  st.annotations_kv = NULL;
  _cleanup_free_ char *bare = sb_state_to_oci_json (&st, SB_STATUS_STOPPED);
  o = json_tokener_parse (bare);
  tap_ok (!json_object_object_get_ex (o, "annotations", NULL), "no annotations: omitted as runc does");
  json_object_put (o);
}

static void
test_list_remove (void)
{
  _cleanup_strv_ char **ids = NULL;
  _cleanup_free_ char *missing = sb_xasprintf ("%s/none", tmp);
  sb_state st = full_state ();
  const char *names[] = { "zeta", "alpha", "Mid", "10" };

  for (size_t i = 0; i < 4; i++)
    {
      st.id = (char *)names[i];
      sb_state_create_dir (root, names[i], NULL, NULL, NULL);
      sb_state_write (root, &st, NULL);
    }
  /* Not containers: being created (no state.json), a file, a symlink, a bad name.  */
  sb_state_create_dir (root, "halfway", NULL, NULL, NULL);
  sb_write_file_atomic (P ("%s/file", root), "x", 1, 0600, NULL);
  tap_symlink (P ("%s/c1", root), P ("%s/symlinked", root));
  mkdir (P ("%s/.hidden", root), 0700);
  sb_write_file_atomic (P ("%s/.hidden/state.json", root), "{}", 2, 0600, NULL);

  tap_is_int (sb_state_list (root, false, &ids, NULL), 0, "list");
  tap_is_int (sb_strv_len (ids), 5, "five containers (c1 and four more)");
  if (sb_strv_len (ids) == 5)
    {
      const char *want[] = { "10", "Mid", "alpha", "c1", "zeta" };
      for (size_t i = 0; i < 5; i++)
        tap_is_str (ids[i], want[i], "sorted %zu", i);
    }
  sb_strv_freep (&ids);
  mkdir (P ("%s/idranges", root), 0700);
  tap_is_int (sb_state_list (root, true, &ids, NULL), 0, "list with incomplete ones");
  tap_is_int (sb_strv_len (ids), 6, "six: the five and \"halfway\", never idranges");
  sb_strv_freep (&ids);
  tap_is_int (sb_state_list (missing, false, &ids, NULL), 0, "list of a missing root");
  tap_ok (ids != NULL && ids[0] == NULL, "is empty");

  /* Remove must not follow links out of the container directory.  */
  _cleanup_free_ char *outside = sb_xasprintf ("%s/outside", tmp);
  mkdir (outside, 0700);
  sb_write_file_atomic (P ("%s/keep", outside), "x", 1, 0600, NULL);
  tap_symlink (outside, P ("%s/alpha/link", root));
  sb_mkdir_p (P ("%s/alpha/sub/deeper", root), 0700, NULL);
  tap_symlink (outside, P ("%s/alpha/sub/deeper/link2", root));
  tap_is_int (sb_state_remove (root, "alpha", NULL), 0, "remove alpha");
  tap_ok (access (P ("%s/alpha", root), F_OK) < 0 && errno == ENOENT, "alpha is gone");
  tap_ok (access (P ("%s/keep", outside), F_OK) == 0, "links were not followed");
  tap_is_int (sb_state_remove (root, "alpha", NULL), 0, "remove of a missing container is fine");
  tap_is_int (sb_state_remove (root, "../outside", NULL), -1, "remove with a bad id fails");

  for (const char *r = "zeta\0Mid\0"
                       "10\0c1\0halfway\0";
       *r; r += strlen (r) + 1)
    sb_state_remove (root, r, NULL);
  unlink (P ("%s/file", root));
  unlink (P ("%s/symlinked", root));
  unlink (P ("%s/.hidden/state.json", root));
  rmdir (P ("%s/.hidden", root));
  rmdir (P ("%s/idranges", root));
  tap_is_int (rmdir (root), 0, "remove leaves nothing behind");
  unlink (P ("%s/keep", outside));
  rmdir (outside);
}

static void
test_now (void)
{
  _cleanup_free_ char *now = sb_now_rfc3339 ();
  struct tm tm = { 0 };
  const char *end = strptime (now, "%Y-%m-%dT%H:%M:%S", &tm);

  tap_ok (strlen (now) == 30 && end != NULL && end[0] == '.' && strspn (end + 1, "0123456789") == 9
              && strcmp (end + 10, "Z") == 0,
          "RFC 3339 with nanoseconds: %s", now);
}

/* Hooks: what the hook receives is the container state.  */

static char *
slurp (const char *path)
{
  char *s = NULL;
  if (sb_read_file_at (AT_FDCWD, path, 1 << 20, &s, NULL, NULL) < 0)
    return NULL;
  return s;
}

static int
run_one (sb_hook *h, const char *state, char **msg)
{
  _cleanup_err_ sb_err *err = NULL;
  int r = sb_hooks_run (SB_HOOK_CREATE_RUNTIME, h, 1, state, &err);
  *msg = err ? sb_xstrdup (err->msg) : NULL;
  return r;
}

static void
test_hooks (void)
{
  _cleanup_free_ char *out = sb_xasprintf ("%s/hook-out", tmp);
  _cleanup_free_ char *cmd = sb_xasprintf ("cat > %s", out);
  _cleanup_free_ char *cmd2
      = sb_xasprintf ("echo \"$0 $1 $FOO $BAR\" > %s; ls /proc/self/fd | wc -l >> %s", out, out);
  char *args[] = { "sh", "-c", cmd, NULL };
  char *args2[] = { "sh", "-c", cmd2, "one", "two", NULL };
  char *env2[] = { "FOO=foo", "BAR=bar", NULL };
  char *args3[] = { "sh", "-c", "exit 3", NULL };
  char *args4[] = { "sh", "-c", "kill -SEGV $$", NULL };
  char *args5[] = { "sleep", "10", NULL };
  char *args6[] = { "sh", "-c", "exec 0<&-; exit 0", NULL };
  sb_hook h = { .path = "/bin/sh", .args = args };
  sb_state st = full_state ();
  _cleanup_free_ char *state = sb_state_to_oci_json (&st, SB_STATUS_CREATED);
  char *msg = NULL, *got;
  struct timespec t0, t1;

  tap_is_int (run_one (&h, state, &msg), 0, "hook reading stdin succeeds");
  got = slurp (out);
  tap_is_str (got, state, "hook received the state JSON on stdin");
  free (got);
  free (msg);

  h.args = args2;
  h.env = env2;
  tap_is_int (run_one (&h, state, &msg), 0, "hook with args and env");
  got = slurp (out);
  /* 0, 1, 2 and the fd ls opens: nothing of the runtime leaks.  */
  tap_is_str (got, "one two foo bar\n4\n", "args and env passed, no extra fds");
  free (got);
  free (msg);

  h.args = args3;
  h.env = NULL;
  tap_is_int (run_one (&h, state, &msg), -1, "exit 3 fails");
  tap_is_str (msg, "createRuntime hook 0 (/bin/sh): exit status 3", "exit status message");
  free (msg);

  h.args = args4;
  tap_is_int (run_one (&h, state, &msg), -1, "killed hook fails");
  tap_ok (contains (msg, "killed by signal SIGSEGV"), "signal message: %s", msg);
  free (msg);

  h.path = "/bin/sleep";
  h.args = args5;
  h.has_timeout = true;
  h.timeout = 1;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  tap_is_int (run_one (&h, state, &msg), -1, "sleep 10 with timeout 1 fails");
  clock_gettime (CLOCK_MONOTONIC, &t1);
  tap_is_str (msg, "createRuntime hook 0 (/bin/sleep): timed out after 1 s", "timeout message");
  tap_ok (t1.tv_sec - t0.tv_sec < 3, "timed out in about 1 s (%ld s)", (long)(t1.tv_sec - t0.tv_sec));
  free (msg);

  h.path = "/no/such/hook";
  h.args = NULL;
  h.has_timeout = false;
  tap_is_int (run_one (&h, state, &msg), -1, "missing hook fails");
  tap_is_str (msg, "createRuntime hook 0 (/no/such/hook): exec: No such file or directory",
              "missing hook message");
  free (msg);

  /* A hook that never reads the state does not upset the runtime; a failing
     second hook is reported with its index.  */
  sb_hook two[] = { { .path = "/bin/sh", .args = args6 }, { .path = "/bin/sh", .args = args3 } };
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_free_ char *big = sb_xmalloc0 (1 << 20);
  memset (big, ' ', (1 << 20) - 1);
  tap_is_int (sb_hooks_run (SB_HOOK_POSTSTOP, two, 2, big, &err), -1, "second hook fails");
  tap_is_str (err ? err->msg : NULL, "poststop hook 1 (/bin/sh): exit status 3", "index of the failing hook");
  sb_err_free (&err);
  tap_is_int (sb_hooks_run (SB_HOOK_POSTSTOP, two, 1, big, &err), 0,
              "a hook ignoring 1 MiB of stdin succeeds");
  tap_is_int (sb_hooks_run (SB_HOOK_PRESTART, NULL, 0, state, &err), 0, "no hooks: nothing to do");
  unlink (out);
}

int
main (void)
{
  signal (SIGPIPE, SIG_IGN);
  if (mkdtemp (tmp) == NULL)
    abort ();
  root = sb_xasprintf ("%s/run/sudobox", tmp);
  test_check_id ();
  test_create ();
  test_round_trip ();
  test_corrupt ();
  test_live_status ();
  test_oci_json ();
  test_list_remove ();
  test_now ();
  test_hooks ();
  rmdir (P ("%s/run", tmp));
  tap_ok (rmdir (tmp) == 0, "temp dir empty at the end");
  free (root);
  return tap_done ();
}
