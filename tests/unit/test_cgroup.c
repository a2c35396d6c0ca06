/* The cgroup module against the real kernel: the host's v1 controllers, then
   a pure v2 hierarchy mounted in a private mount namespace.  Runs as root;
   every cgroup and process it makes is removed, also when a check fails.  */
#include "cgroup.h"
#include "cgroup-internal.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "tap.h"

/* In the v2 child, results go to the parent through this pipe so that the
   TAP numbering stays one sequence.  */
static int report_fd = -1;

/* What to clean up at exit whatever happened.  */
static sb_cgroup *live_cgroups[8];
static pid_t live_pids[8];

static void
check (bool cond, const char *fmt, ...)
{
  _cleanup_free_ char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  for (char *p = msg; *p; p++)
    if (*p == '\n')
      *p = ' ';
  if (report_fd < 0)
    tap_ok (cond, "%s", msg);
  else
    dprintf (report_fd, "%d %s\n", cond ? 1 : 0, msg);
}

static void
check_str (const char *got, const char *expected, const char *what)
{
  bool ok = got != NULL && strcmp (got, expected) == 0;
  if (ok)
    check (true, "%s", what);
  else
    check (false, "%s (got `%s`, expected `%s`)", what, got ? got : "(null)", expected);
}

/* r < 0 with a message containing want.  */
static void
check_err (int r, sb_err **err, const char *want, const char *what)
{
  const char *msg = *err != NULL ? (*err)->msg : "(no error)";
  if (r < 0 && *err != NULL && strstr (msg, want) != NULL)
    check (true, "%s: %s", what, msg);
  else
    check (false, "%s: expected an error with `%s`, got r=%d `%s`", what, want, r, msg);
  sb_err_free (err);
}

static void
check_okr (int r, sb_err **err, const char *what)
{
  check (r == 0, "%s%s%s", what, *err ? ": " : "", *err ? (*err)->msg : "");
  sb_err_free (err);
}

static void
track_cgroup (sb_cgroup *cg)
{
  for (size_t i = 0; i < 8; i++)
    if (live_cgroups[i] == NULL)
      {
        live_cgroups[i] = cg;
        return;
      }
  abort ();
}

/* Destroys (unless keep) and forgets a tracked cgroup.  */
static int
drop_cgroup (sb_cgroup *cg, bool destroy, sb_err **err)
{
  int r = destroy ? sb_cgroup_destroy (cg, err) : 0;
  for (size_t i = 0; i < 8; i++)
    if (live_cgroups[i] == cg)
      live_cgroups[i] = NULL;
  sb_cgroup_free (cg);
  return r;
}

static pid_t
spawn_sleeper (void)
{
  pid_t pid = fork ();
  if (pid < 0)
    abort ();
  if (pid == 0)
    {
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      for (;;)
        pause ();
    }
  for (size_t i = 0; i < 8; i++)
    if (live_pids[i] == 0)
      {
        live_pids[i] = pid;
        return pid;
      }
  abort ();
}

/* Waits for a sleeper and returns the signal that ended it (0 if none).  */
static int
reap (pid_t pid)
{
  int status = 0;
  for (size_t i = 0; i < 8; i++)
    if (live_pids[i] == pid)
      live_pids[i] = 0;
  if (waitpid (pid, &status, 0) != pid)
    return 0;
  return WIFSIGNALED (status) ? WTERMSIG (status) : 0;
}

static void
cleanup (void)
{
  for (size_t i = 0; i < 8; i++)
    if (live_pids[i] > 0)
      {
        kill (live_pids[i], SIGKILL);
        waitpid (live_pids[i], NULL, 0);
        live_pids[i] = 0;
      }
  for (size_t i = 0; i < 8; i++)
    if (live_cgroups[i] != NULL)
      {
        _cleanup_err_ sb_err *err = NULL;
        if (sb_cgroup_destroy (live_cgroups[i], &err) < 0)
          fprintf (stderr, "# cleanup: %s\n", err->msg);
        sb_cgroup_free (live_cgroups[i]);
        live_cgroups[i] = NULL;
      }
}

static char *
read_knob (const char *dir, const char *file)
{
  _cleanup_err_ sb_err *err = NULL;
  char *v = NULL;
  if (sb_cg_read (dir, file, &v, &err) < 0)
    return sb_xasprintf ("<%s>", err->msg);
  return v;
}

static const char *
dir_of (sb_cgroup *cg, const char *controller)
{
  const sb_cgroup_hier *h = sb_cg_hier_for (cg, controller);
  return h != NULL ? h->dir : "/nonexistent";
}

static bool
pids_has (sb_cgroup *cg, pid_t pid, size_t *n)
{
  _cleanup_free_ pid_t *pids = NULL;
  _cleanup_err_ sb_err *err = NULL;
  bool found = false;

  *n = 0;
  if (sb_cgroup_pids (cg, &pids, n, &err) < 0)
    return false;
  for (size_t i = 0; i < *n; i++)
    found |= pids[i] == pid;
  return found;
}

/* Every directory of cg, for checking removal after destroy.  */
static char **
dirs_of (sb_cgroup *cg)
{
  char **v = sb_xmalloc0 (sizeof (char *));
  for (size_t i = 0; i < cg->n_hiers; i++)
    sb_strv_append (&v, cg->hiers[i].dir);
  return v;
}

static void
check_all_gone (char **dirs, const char *what)
{
  for (size_t i = 0; dirs[i]; i++)
    check (access (dirs[i], F_OK) < 0 && errno == ENOENT, "%s: %s removed", what, dirs[i]);
}

static void
test_validate_v1 (void)
{
  _cleanup_err_ sb_err *err = NULL;
  sb_resources r;
  sb_kv kv = { "memory.high", "1G" };

  memset (&r, 0, sizeof (r));
  r.memory.limit = (sb_opt_i64){ true, 1024 * 1024 };
  check_err (sb_cgroup_validate (&r, SB_CGROUP_V1, &err), &err, "below the minimum of 6 MiB",
             "1 MiB memory limit");
  memset (&r, 0, sizeof (r));
  r.cpu.period = (sb_opt_i64){ true, 10 };
  check_err (sb_cgroup_validate (&r, SB_CGROUP_V1, &err), &err, "cpu.period", "10 us cpu period");
  memset (&r, 0, sizeof (r));
  r.cpu.shares = (sb_opt_i64){ true, 1 };
  check_err (sb_cgroup_validate (&r, SB_CGROUP_V1, &err), &err, "2..262144", "cpu shares 1");
  memset (&r, 0, sizeof (r));
  r.unified = &kv;
  r.n_unified = 1;
  check_err (sb_cgroup_validate (&r, SB_CGROUP_V1, &err), &err, "cgroup v2 setting", "unified key on v1");
  memset (&r, 0, sizeof (r));
  r.memory.limit = (sb_opt_i64){ true, 64 << 20 };
  r.memory.swap = (sb_opt_i64){ true, 32 << 20 };
  check_err (sb_cgroup_validate (&r, SB_CGROUP_V1, &err), &err, "below memory.limit", "swap below limit");
  memset (&r, 0, sizeof (r));
  r.cpu.cpus = (char *)"3-1";
  check_err (sb_cgroup_validate (&r, SB_CGROUP_V1, &err), &err, "cpu.cpus", "bad cpu list");
  memset (&r, 0, sizeof (r));
  r.cpu.quota = (sb_opt_i64){ true, 50000 };
  r.memory.limit = (sb_opt_i64){ true, 64 << 20 };
  r.pids.limit = (sb_opt_i64){ true, 0 };
  check_okr (sb_cgroup_validate (&r, SB_CGROUP_V1, &err), &err, "quota without period, pids 0: valid");
  check_okr (sb_cgroup_validate (NULL, SB_CGROUP_V1, &err), &err, "no resources: valid");
}

static void
test_paths (const char *id)
{
  _cleanup_err_ sb_err *err = NULL;
  sb_cgroup *cg = NULL;

  check_err (sb_cgroup_create (id, "system.slice:sudobox:x", NULL, &cg, &err), &err, "systemd cgroup paths",
             "systemd-style cgroupsPath");
  check_err (sb_cgroup_create (id, "/sudobox/../x", NULL, &cg, &err), &err, "`..` components",
             "`..` component");
  check_err (sb_cgroup_create (id, "/", NULL, &cg, &err), &err, "root cgroup", "root cgroup");
  check_err (sb_cgroup_create ("a/b", NULL, NULL, &cg, &err), &err, "cannot name a cgroup",
             "id with a slash");
}

static void
test_relative (const char *id)
{
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_free_ char *rel = sb_xasprintf ("sudobox-test-rel/%s", id);
  _cleanup_free_ char *suffix = sb_xasprintf ("/sudobox-test-rel/%s", id);
  _cleanup_strv_ char **dirs = NULL;
  sb_cgroup *cg = NULL;
  const char *p;

  if (sb_cgroup_create (id, rel, NULL, &cg, &err) < 0)
    {
      check (false, "relative cgroupsPath: %s", err->msg);
      return;
    }
  track_cgroup (cg);
  p = sb_cgroup_path (cg);
  check (p[0] == '/' && strlen (p) >= strlen (suffix)
             && strcmp (p + strlen (p) - strlen (suffix), suffix) == 0,
         "relative cgroupsPath resolved below our cgroup: %s", p);
  dirs = dirs_of (cg);
  check_okr (drop_cgroup (cg, true, &err), &err, "destroy relative cgroup");
  check_all_gone (dirs, "relative");
  for (size_t i = 0; dirs[i]; i++)
    *strrchr (dirs[i], '/') = '\0';
  check_all_gone (dirs, "created parent");
}

static void
test_devices_v1 (const char *id)
{
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_free_ char *list = NULL;
  sb_device_rule rules[] = {
    { false, 'a', -1, -1, (char *)"rwm" },
    { true, 'c', 1, 3, (char *)"rwm" },
    { true, 'c', 136, -1, (char *)"rw" },
  };
  sb_resources r;
  sb_cgroup *cg = NULL;

  memset (&r, 0, sizeof (r));
  r.devices = rules;
  r.n_devices = 3;
  if (sb_cgroup_create (id, NULL, &r, &cg, &err) < 0)
    {
      check (false, "create with device rules: %s", err->msg);
      return;
    }
  track_cgroup (cg);
  list = read_knob (dir_of (cg, "devices"), "devices.list");
  check_str (list, "c 1:3 rwm\nc 136:* rw", "devices.list is deny-all plus the allowed rules");
  check_okr (drop_cgroup (cg, true, &err), &err, "destroy devices cgroup");
}

static void
test_v1 (const char *id)
{
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_strv_ char **dirs = NULL;
  _cleanup_free_ char *v = NULL;
  _cleanup_free_ char *path = sb_xasprintf ("/sudobox/%s", id);
  sb_resources r;
  sb_cgroup *cg = NULL, *again = NULL, *loaded = NULL;
  bool frozen = true, found;
  size_t n;
  pid_t child;

  memset (&r, 0, sizeof (r));
  r.memory.limit = (sb_opt_i64){ true, 64 << 20 };
  r.pids.limit = (sb_opt_i64){ true, 20 };
  r.cpu.quota = (sb_opt_i64){ true, 50000 };
  r.cpu.period = (sb_opt_i64){ true, 100000 };
  r.cpu.cpus = (char *)"0";
  if (sb_cgroup_create (id, NULL, &r, &cg, &err) < 0)
    {
      check (false, "v1 create: %s", err->msg);
      return;
    }
  track_cgroup (cg);
  check (true, "v1 create with memory, pids and cpu limits");
  check_str (sb_cgroup_path (cg), path, "default path /sudobox/ID");
  check (access (dir_of (cg, "name=systemd"), F_OK) == 0, "name=systemd hierarchy has the cgroup too");
  check (access (dir_of (cg, "cpuacct"), F_OK) == 0, "cpuacct hierarchy has the cgroup too");

  child = spawn_sleeper ();
  check_okr (sb_cgroup_enter (cg, child, &err), &err, "enter a child");
  v = read_knob (dir_of (cg, "memory"), "memory.limit_in_bytes");
  check_str (v, "67108864", "memory.limit_in_bytes");
  free (v);
  v = read_knob (dir_of (cg, "pids"), "pids.max");
  check_str (v, "20", "pids.max");
  free (v);
  v = read_knob (dir_of (cg, "cpu"), "cpu.cfs_quota_us");
  check_str (v, "50000", "cpu.cfs_quota_us");
  free (v);
  v = read_knob (dir_of (cg, "cpuset"), "cpuset.cpus");
  check_str (v, "0", "cpuset.cpus");

  /* Raising memory with swap needs memsw written first, lowering needs the
     limit first: both directions must be accepted.  */
  memset (&r, 0, sizeof (r));
  r.pids.limit = (sb_opt_i64){ true, 30 };
  r.memory.limit = (sb_opt_i64){ true, 128 << 20 };
  r.memory.swap = (sb_opt_i64){ true, 256 << 20 };
  check_okr (sb_cgroup_update (cg, &r, &err), &err, "update pids and raise memory+swap");
  free (v);
  v = read_knob (dir_of (cg, "pids"), "pids.max");
  check_str (v, "30", "pids.max after update");
  free (v);
  v = read_knob (dir_of (cg, "memory"), "memory.memsw.limit_in_bytes");
  check_str (v, "268435456", "memory.memsw.limit_in_bytes after raise");
  r.memory.limit = (sb_opt_i64){ true, 32 << 20 };
  r.memory.swap = (sb_opt_i64){ true, 48 << 20 };
  check_okr (sb_cgroup_update (cg, &r, &err), &err, "lower memory+swap");
  free (v);
  v = read_knob (dir_of (cg, "memory"), "memory.limit_in_bytes");
  check_str (v, "33554432", "memory.limit_in_bytes after lowering");

  check_okr (sb_cgroup_freeze (cg, true, &err), &err, "freeze");
  check_okr (sb_cgroup_is_frozen (cg, &frozen, &err), &err, "is_frozen");
  check (frozen, "is_frozen reports frozen");
  check_okr (sb_cgroup_freeze (cg, false, &err), &err, "thaw");
  sb_cgroup_is_frozen (cg, &frozen, &err);
  check (!frozen, "is_frozen reports thawed");

  found = pids_has (cg, child, &n);
  check (found && n == 1, "pids lists the child alone (%zu pids)", n);
  check_err (sb_cgroup_create (id, NULL, NULL, &again, &err), &err, "already has processes",
             "create over a cgroup with processes");

  if (sb_cgroup_load (sb_cgroup_path (cg), &loaded, &err) < 0)
    check (false, "load: %s", err->msg);
  else
    {
      check_str (sb_cgroup_path (loaded), sb_cgroup_path (cg), "load gives the same path");
      check (sb_cgroup_get_mode (loaded) == SB_CGROUP_V1, "load detects v1");
      check_okr (sb_cgroup_freeze (loaded, true, &err), &err, "freeze through the loaded cgroup");
      check_okr (sb_cgroup_kill (loaded, SIGKILL, &err), &err, "kill --all a frozen container");
      check (reap (child) == SIGKILL, "child died of SIGKILL");
      sb_cgroup_is_frozen (loaded, &frozen, &err);
      check (!frozen, "kill left the cgroup thawed");
      sb_cgroup_free (loaded);
    }

  child = spawn_sleeper ();
  check_okr (sb_cgroup_enter (cg, child, &err), &err, "enter a second child");
  dirs = dirs_of (cg);
  check_okr (drop_cgroup (cg, true, &err), &err, "destroy with a live process");
  check (reap (child) == SIGKILL, "destroy killed the child");
  check_all_gone (dirs, "v1 destroy");

  check_err (sb_cgroup_load (path, &loaded, &err), &err, "No such file", "load of a removed cgroup");
}

static void
test_reuse (const char *id)
{
  _cleanup_err_ sb_err *err = NULL;
  sb_cgroup *a = NULL, *b = NULL;

  if (sb_cgroup_create (id, NULL, NULL, &a, &err) < 0)
    {
      check (false, "create without limits: %s", err->msg);
      return;
    }
  track_cgroup (a);
  check_okr (sb_cgroup_create (id, NULL, NULL, &b, &err), &err, "an existing empty cgroup is reused");
  if (b != NULL)
    sb_cgroup_free (b);
  check_okr (drop_cgroup (a, true, &err), &err, "destroy reused cgroup");
}

static void
test_more_v1 (const char *id)
{
  _cleanup_err_ sb_err *err = NULL;
  struct sb_hugepage huge = { (char *)"2MB", 4 << 20 };
  sb_resources r;
  sb_cgroup *cg = NULL;
  static const struct
  {
    const char *controller, *file, *want;
  } knobs[] = {
    { "cpu", "cpu.shares", "512" },
    { "memory", "memory.soft_limit_in_bytes", "33554432" },
    { "memory", "memory.swappiness", "10" },
    { "pids", "pids.max", "max" },
  };

  memset (&r, 0, sizeof (r));
  r.hugepage_limits = &huge;
  r.n_hugepage_limits = 1;
  if (access ("/sys/fs/cgroup/hugetlb", F_OK) < 0)
    check_err (sb_cgroup_create (id, NULL, &r, &cg, &err), &err,
               "the hugetlb controller is not mounted in cgroup v1",
               "hugetlb limit without a v1 hugetlb mount");
  memset (&r, 0, sizeof (r));
  r.cpu.shares = (sb_opt_i64){ true, 512 };
  r.memory.reservation = (sb_opt_i64){ true, 32 << 20 };
  r.memory.swappiness = (sb_opt_i64){ true, 10 };
  r.memory.disable_oom_killer = true;
  r.pids.limit = (sb_opt_i64){ true, -1 };
  r.blkio.weight = (sb_opt_i64){ true, 500 };
  if (sb_cgroup_create (id, NULL, &r, &cg, &err) < 0)
    {
      check (false, "create with shares, reservation, swappiness, oom, blkio: %s", err->msg);
      return;
    }
  track_cgroup (cg);
  for (size_t i = 0; i < sizeof (knobs) / sizeof (knobs[0]); i++)
    {
      _cleanup_free_ char *v = read_knob (dir_of (cg, knobs[i].controller), knobs[i].file);
      check_str (v, knobs[i].want, knobs[i].file);
    }
  {
    _cleanup_free_ char *oom = read_knob (dir_of (cg, "memory"), "memory.oom_control");
    check (strstr (oom, "oom_kill_disable 1") != NULL, "memory.oom_control has oom_kill_disable 1");
  }
  check_okr (drop_cgroup (cg, true, &err), &err, "destroy");
}

/* ---- pure v2, in a private mount namespace ---- */

static int
mount_v2 (void)
{
  if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
      || umount2 ("/sys/fs/cgroup", MNT_DETACH) < 0
      || mount ("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0)
    return -1;
  return 0;
}

static void
test_v2_errors (const char *id)
{
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_free_ char *avail = read_knob ("/sys/fs/cgroup", "cgroup.controllers");
  _cleanup_free_ char *want = NULL;
  struct sb_hugepage huge = { (char *)"2MB", 4 << 20 };
  sb_kv bad = { "../x", "1" }, mem = { "memory.high", "1G" };
  sb_resources r;
  sb_cgroup *cg = NULL;

  memset (&r, 0, sizeof (r));
  r.memory.limit = (sb_opt_i64){ true, 64 << 20 };
  want
      = sb_xasprintf ("linux.resources.memory: the memory controller is not available in cgroup v2 hierarchy "
                      "/sys/fs/cgroup (available: %s)",
                      *avail ? avail : "none");
  check_err (sb_cgroup_create (id, NULL, &r, &cg, &err), &err, want,
             "v2 memory limit without memory controller");
  free (want);
  want = sb_xasprintf ("/sys/fs/cgroup/sudobox/%s", id);
  check (access (want, F_OK) < 0, "a refused create makes nothing");
  memset (&r, 0, sizeof (r));
  r.unified = &bad;
  r.n_unified = 1;
  check_err (sb_cgroup_validate (&r, SB_CGROUP_UNIFIED, &err), &err, "not a cgroup file name",
             "unified key ../x");
  r.unified = &mem;
  check_err (sb_cgroup_validate (&r, SB_CGROUP_UNIFIED, &err), &err, "memory controller is not available",
             "unified memory.high without memory controller");
  memset (&r, 0, sizeof (r));
  r.cpu.realtime_runtime = (sb_opt_i64){ true, 1000 };
  check_err (sb_cgroup_validate (&r, SB_CGROUP_UNIFIED, &err), &err, "cgroup v2", "rt on v2");
  memset (&r, 0, sizeof (r));
  r.hugepage_limits = &huge;
  r.n_hugepage_limits = 1;
  if (strstr (avail, "hugetlb") == NULL)
    return;
  /* hugetlb is in this hierarchy but the root does not delegate it: the
     runtime must say so rather than touch the root.  */
  {
    _cleanup_free_ char *enabled = read_knob ("/sys/fs/cgroup", "cgroup.subtree_control");
    int ret = sb_cgroup_create (id, NULL, &r, &cg, &err);
    if (strstr (enabled, "hugetlb") == NULL)
      check_err (ret, &err, "not enabled in /sys/fs/cgroup/cgroup.subtree_control",
                 "hugetlb not delegated by root");
    else
      {
        _cleanup_free_ char *v = NULL;
        check_okr (ret, &err, "create with a hugetlb limit");
        if (ret == 0)
          {
            track_cgroup (cg);
            v = read_knob (dir_of (cg, "hugetlb"), "hugetlb.2MB.max");
            check_str (v, "4194304", "hugetlb.2MB.max");
            check_okr (drop_cgroup (cg, true, &err), &err, "destroy hugetlb cgroup");
          }
      }
  }
}

enum probe_op
{
  PROBE_READ,
  PROBE_WRITE,
  PROBE_RDWR,
  PROBE_MKNOD_CHAR,
  PROBE_MKNOD_BLOCK,
};

/* What a process in cg gets for op on path: 0 or the errno.  */
static int
probe (sb_cgroup *cg, enum probe_op op, const char *path)
{
  _cleanup_err_ sb_err *err = NULL;
  int go[2], status = 0;
  pid_t pid;
  char c;

  if (pipe (go) < 0)
    abort ();
  pid = fork ();
  if (pid < 0)
    abort ();
  if (pid == 0)
    {
      int fd = -1, r;
      close (go[1]);
      if (read (go[0], &c, 1) != 1)
        _exit (255);
      if (op == PROBE_MKNOD_CHAR || op == PROBE_MKNOD_BLOCK)
        {
          r = mknod (path, (op == PROBE_MKNOD_CHAR ? S_IFCHR : S_IFBLK) | 0600, makedev (1, 7));
          if (r == 0)
            unlink (path);
          _exit (r == 0 ? 0 : errno);
        }
      fd = open (path, op == PROBE_READ ? O_RDONLY : op == PROBE_WRITE ? O_WRONLY : O_RDWR);
      _exit (fd >= 0 ? 0 : errno);
    }
  close (go[0]);
  if (sb_cgroup_enter (cg, pid, &err) < 0)
    check (false, "probe enters the cgroup: %s", err->msg);
  if (write (go[1], "g", 1) != 1)
    abort ();
  close (go[1]);
  waitpid (pid, &status, 0);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 255;
}

/* Device rules on v2 are a BPF program: every access bit is decided by the
   last rule naming it, an update replaces the program.  */
static void
test_devices_v2 (const char *id)
{
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_free_ char *node = sb_xasprintf ("/tmp/sb-test-cgroup-node-%d", getpid ());
  sb_device_rule rules[] = {
    { false, 'a', -1, -1, (char *)"rwm" }, { true, 'c', 1, 3, (char *)"rwm" },
    { true, 'c', -1, -1, (char *)"m" },    { true, 'c', 1, 5, (char *)"r" },
    { false, 'c', 1, 3, (char *)"w" },
  };
  sb_device_rule all[] = { { true, 'a', -1, -1, (char *)"rwm" } };
  sb_resources r;
  sb_cgroup *cg = NULL;

  memset (&r, 0, sizeof (r));
  r.devices = rules;
  r.n_devices = sizeof (rules) / sizeof (rules[0]);
  if (sb_cgroup_create (id, NULL, &r, &cg, &err) < 0)
    {
      check (false, "v2 create with device rules: %s", err->msg);
      return;
    }
  track_cgroup (cg);
  check (probe (cg, PROBE_READ, "/dev/null") == 0, "v2 devices: read /dev/null allowed");
  check (probe (cg, PROBE_WRITE, "/dev/null") == EPERM,
         "v2 devices: write /dev/null denied by the later rule");
  check (probe (cg, PROBE_RDWR, "/dev/null") == EPERM,
         "v2 devices: read+write /dev/null denied (one bit is)");
  check (probe (cg, PROBE_READ, "/dev/zero") == 0, "v2 devices: read /dev/zero allowed");
  check (probe (cg, PROBE_WRITE, "/dev/zero") == EPERM, "v2 devices: write /dev/zero not allowed");
  check (probe (cg, PROBE_READ, "/dev/full") == EPERM, "v2 devices: /dev/full denied (no rule: deny-all)");
  check (probe (cg, PROBE_MKNOD_CHAR, node) == 0, "v2 devices: mknod of a char device allowed (c *:* m)");
  check (probe (cg, PROBE_MKNOD_BLOCK, node) == EPERM, "v2 devices: mknod of a block device denied");
  r.devices = all;
  r.n_devices = 1;
  check_okr (sb_cgroup_update (cg, &r, &err), &err, "v2 devices: update to allow all");
  check (probe (cg, PROBE_READ, "/dev/full") == 0 && probe (cg, PROBE_WRITE, "/dev/null") == 0,
         "v2 devices: the update replaced the program");
  check_okr (drop_cgroup (cg, true, &err), &err, "v2 devices: destroy");
}

static void
test_v2 (const char *id)
{
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_free_ char *dir = NULL;
  _cleanup_free_ char *v = NULL;
  enum sb_cgroup_mode mode = SB_CGROUP_V1;
  sb_cgroup *cg = NULL, *loaded = NULL;
  bool frozen = false, found;
  size_t n;
  pid_t child;

  check_okr (sb_cgroup_detect (&mode, &err), &err, "detect in the v2 namespace");
  check (mode == SB_CGROUP_UNIFIED, "cgroup2 at /sys/fs/cgroup is unified");
  test_v2_errors (id);

  if (sb_cgroup_create (id, NULL, NULL, &cg, &err) < 0)
    {
      check (false, "v2 create: %s", err->msg);
      return;
    }
  track_cgroup (cg);
  dir = sb_xasprintf ("/sys/fs/cgroup/sudobox/%s", id);
  check (access (dir, F_OK) == 0, "v2 create made %s", dir);
  child = spawn_sleeper ();
  check_okr (sb_cgroup_enter (cg, child, &err), &err, "v2 enter");
  found = pids_has (cg, child, &n);
  check (found && n == 1, "v2 pids lists the child (%zu pids)", n);
  check_okr (sb_cgroup_freeze (cg, true, &err), &err, "v2 freeze");
  check_okr (sb_cgroup_is_frozen (cg, &frozen, &err), &err, "v2 is_frozen");
  check (frozen, "v2 is_frozen reports frozen");
  v = read_knob (dir, "cgroup.freeze");
  check_str (v, "1", "cgroup.freeze is 1");
  check_okr (sb_cgroup_freeze (cg, false, &err), &err, "v2 thaw");
  sb_cgroup_is_frozen (cg, &frozen, &err);
  check (!frozen, "v2 is_frozen reports thawed");

  if (sb_cgroup_load (sb_cgroup_path (cg), &loaded, &err) < 0)
    check (false, "v2 load: %s", err->msg);
  else
    {
      check (sb_cgroup_get_mode (loaded) == SB_CGROUP_UNIFIED, "v2 load detects unified");
      check_okr (sb_cgroup_freeze (loaded, true, &err), &err, "v2 freeze before kill");
      check_okr (sb_cgroup_kill (loaded, SIGKILL, &err), &err, "v2 kill --all");
      check (reap (child) == SIGKILL, "v2 child died of SIGKILL");
      sb_cgroup_free (loaded);
    }
  check_okr (sb_cgroup_freeze (cg, false, &err), &err, "v2 thaw the emptied cgroup");
  child = spawn_sleeper ();
  check_okr (sb_cgroup_enter (cg, child, &err), &err, "v2 enter a second child");
  check_okr (sb_cgroup_kill (cg, SIGTERM, &err), &err, "v2 kill with SIGTERM signals pid by pid");
  check (reap (child) == SIGTERM, "v2 child died of SIGTERM");
  child = spawn_sleeper ();
  check_okr (sb_cgroup_enter (cg, child, &err), &err, "v2 enter a third child");
  check_okr (drop_cgroup (cg, true, &err), &err, "v2 destroy with a live process");
  check (reap (child) == SIGKILL, "v2 destroy killed the child");
  check (access (dir, F_OK) < 0 && errno == ENOENT, "v2 destroy removed %s", dir);
  test_devices_v2 (id);
}

static void
run_v2_child (const char *id)
{
  int fds[2];
  pid_t pid;
  FILE *in;
  char *line = NULL;
  size_t cap = 0;
  int status = 0;

  if (pipe (fds) < 0)
    abort ();
  pid = fork ();
  if (pid < 0)
    abort ();
  if (pid == 0)
    {
      close (fds[0]);
      report_fd = fds[1];
      memset (live_cgroups, 0, sizeof (live_cgroups));
      memset (live_pids, 0, sizeof (live_pids));
      if (mount_v2 () < 0)
        {
          check (false, "mount cgroup2 in a private mount namespace: %s", strerror (errno));
          exit (1);
        }
      test_v2 (id);
      cleanup ();
      exit (0);
    }
  close (fds[1]);
  in = fdopen (fds[0], "r");
  while (getline (&line, &cap, in) > 0)
    {
      line[strcspn (line, "\n")] = '\0';
      tap_ok (line[0] == '1', "%s", line + 2);
    }
  free (line);
  fclose (in);
  waitpid (pid, &status, 0);
  tap_ok (WIFEXITED (status) && WEXITSTATUS (status) == 0, "v2 child exited cleanly");
}

int
main (void)
{
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_free_ char *id = sb_xasprintf ("test-cgroup-%d", getpid ());
  enum sb_cgroup_mode mode;

  if (geteuid () != 0 || sb_cgroup_detect (&mode, &err) < 0)
    {
      printf ("1..0 # SKIP needs root and /sys/fs/cgroup\n");
      return 0;
    }
  atexit (cleanup);
  tap_ok (true, "detect: %s", mode == SB_CGROUP_V1 ? "v1/hybrid" : "unified");
  if (mode == SB_CGROUP_V1)
    {
      test_validate_v1 ();
      test_paths (id);
      test_v1 (id);
      test_reuse (id);
      test_devices_v1 (id);
      test_more_v1 (id);
      test_relative (id);
    }
  cleanup ();
  run_v2_child (id);
  return tap_done ();
}
