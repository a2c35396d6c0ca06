/* The container filesystem built for real: a tiny rootfs in a temporary
   directory, sb_mounts_setup + sb_mounts_enter_root in a child with its own
   mount and pid namespaces (and a user namespace with an idmapped rootfs
   for the second case), checked from inside through file operations.  The
   child reports each check over a pipe as "<0|1> <description>".  */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "mounts.h"
#include "tap.h"
#include "util.h"

#define HOST_UID_BASE 100000

typedef struct fixture
{
  char dir[64];
  char *rootfs, *hostfile, *hostdir;
} fixture;

static void
report (int fd, bool ok, const char *fmt, ...)
{
  _cleanup_free_ char *msg = NULL;
  _cleanup_free_ char *line = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  for (char *p = msg; *p; p++)
    if (*p == '\n')
      *p = ' ';
  line = sb_xasprintf ("%d %s\n", ok ? 1 : 0, msg);
  sb_write_all (fd, line, strlen (line));
}

/* The fixture cannot be built: TAP's way to stop the whole run.  */
static void
must (bool ok, const char *what, const char *path)
{
  if (ok)
    return;
  printf ("Bail out! %s `%s`: %s\n", what, path, strerror (errno));
  exit (1);
}

static void
write_file (const char *path, const char *data)
{
  must (sb_write_file_atomic (path, data, strlen (data), 0644, NULL) == 0, "write", path);
}

static char *
slurp (const char *path)
{
  char *buf = NULL;
  if (sb_read_file_at (AT_FDCWD, path, 1 << 20, &buf, NULL, NULL) < 0)
    return NULL;
  return buf;
}

static void
fixture_path (const fixture *fx, char path[static 256], const char *rel)
{
  snprintf (path, 256, "%s/%s", fx->rootfs, rel);
}

static void
fixture_init (fixture *fx)
{
  static const char *const dirs[] = { "proc", "sys", "tmp", "etc", "data", "data/copy" };
  static const struct
  {
    const char *target, *rel;
  } links[] = {
    { "keep", "data/copy/link" },
    /* An image trying to send mounts to the host's /etc and into /proc.  */
    { "/../../../etc", "evil" },
    { "../proc/sys/kernel/core_pattern", "evilproc" },
  };
  char path[256];

  strcpy (fx->dir, "/tmp/sb-test-mounts.XXXXXX");
  must (mkdtemp (fx->dir) != NULL, "mkdtemp", fx->dir);
  must (chmod (fx->dir, 0755) == 0, "chmod", fx->dir);
  fx->rootfs = sb_xasprintf ("%s/rootfs", fx->dir);
  fx->hostfile = sb_xasprintf ("%s/hostfile", fx->dir);
  fx->hostdir = sb_xasprintf ("%s/hostdir", fx->dir);
  must (mkdir (fx->rootfs, 0755) == 0, "mkdir", fx->rootfs);
  must (mkdir (fx->hostdir, 0755) == 0, "mkdir", fx->hostdir);
  for (size_t i = 0; i < sizeof (dirs) / sizeof (dirs[0]); i++)
    {
      fixture_path (fx, path, dirs[i]);
      must (mkdir (path, 0755) == 0, "mkdir", path);
    }
  for (size_t i = 0; i < sizeof (links) / sizeof (links[0]); i++)
    {
      fixture_path (fx, path, links[i].rel);
      must (symlink (links[i].target, path) == 0, "symlink", path);
    }
  fixture_path (fx, path, "marker");
  write_file (path, "rootfs");
  fixture_path (fx, path, "data/copy/keep");
  write_file (path, "kept");
  write_file (fx->hostfile, "hello");
  /* Writable for anyone: only the read-only mount may refuse a write.  */
  must (chmod (fx->hostfile, 0666) == 0, "chmod", fx->hostfile);
  snprintf (path, sizeof (path), "%s/sb-escape-marker", fx->hostdir);
  write_file (path, "bound");
}

static int
rm_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove (path);
}

static void
fixture_free (fixture *fx)
{
  nftw (fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free (fx->rootfs);
  free (fx->hostfile);
  free (fx->hostdir);
}

static int
count_lines (const char *path)
{
  _cleanup_free_ char *buf = slurp (path);
  int n = 0;
  for (char *p = buf; p && *p; p++)
    n += *p == '\n';
  return n;
}

typedef void (*body_fn) (int report_fd, const fixture *fx, void *arg);

static void
as_container_root (int userns_fd)
{
  if (setns (userns_fd, CLONE_NEWUSER) < 0 || setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0
      || setgroups (0, NULL) < 0)
    {
      perror ("join the user namespace");
      _exit (2);
    }
}

/* Runs body as PID 1 of new mount, pid and cgroup namespaces (inside
   userns_fd when >= 0) and turns its reports into TAP lines.  */
static void
run_contained (const char *name, const fixture *fx, int userns_fd, body_fn body, void *arg)
{
  int fds[2], status = 0;
  pid_t pid;
  FILE *in;
  char *line = NULL;
  size_t cap = 0;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    abort ();
  pid = fork ();
  if (pid == 0)
    {
      pid_t init;
      close (fds[0]);
      if (userns_fd >= 0)
        as_container_root (userns_fd);
      if (unshare (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWCGROUP) < 0)
        {
          perror ("unshare");
          _exit (2);
        }
      init = fork ();
      if (init == 0)
        {
          body (fds[1], fx, arg);
          _exit (0);
        }
      if (init < 0 || waitpid (init, &status, 0) < 0)
        _exit (2);
      _exit (WIFEXITED (status) ? WEXITSTATUS (status) : 3);
    }
  close (fds[1]);
  in = fdopen (fds[0], "r");
  while (getline (&line, &cap, in) > 0)
    {
      line[strcspn (line, "\n")] = '\0';
      tap_ok (line[0] == '1', "%s: %s", name, line + 2);
    }
  free (line);
  fclose (in);
  waitpid (pid, &status, 0);
  tap_ok (WIFEXITED (status) && WEXITSTATUS (status) == 0, "%s: the contained process exited cleanly", name);
}

static sb_mount
bind_mount (const char *source, const char *dest, unsigned long flags)
{
  return (sb_mount){ .destination = (char *)dest, .source = (char *)source, .bind = true, .flags = flags };
}

static sb_mount
fs_mount (const char *type, const char *dest, unsigned long flags, const char *data)
{
  return (sb_mount){ .destination = (char *)dest,
                     .type = (char *)type,
                     .source = (char *)type,
                     .flags = flags,
                     .data = (char *)data };
}

static bool
is_char_dev (const char *path, unsigned maj, unsigned min)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISCHR (st.st_mode) && major (st.st_rdev) == maj
         && minor (st.st_rdev) == min;
}

static bool
open_fails_with (const char *path, int flags, int err)
{
  int fd = open (path, flags | O_CLOEXEC, 0644);
  if (fd >= 0)
    close (fd);
  return fd < 0 && errno == err;
}

static bool
is_fs (const char *path, long magic)
{
  struct statfs sfs;
  return statfs (path, &sfs) == 0 && sfs.f_type == magic;
}

static bool
is_readonly (const char *path)
{
  struct statvfs sv;
  return statvfs (path, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

static void
check_dev (int rep)
{
  char buf[16] = { 1 };
  char target[64] = "";
  int fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  bool zeros = true;

  report (rep, fd >= 0 && write (fd, "abc", 3) == 3, "/dev/null takes writes");
  if (fd >= 0)
    close (fd);
  fd = open ("/dev/zero", O_RDONLY | O_CLOEXEC);
  zeros = fd >= 0 && read (fd, buf, sizeof (buf)) == sizeof (buf);
  for (size_t i = 0; i < sizeof (buf); i++)
    zeros &= buf[i] == 0;
  report (rep, zeros, "/dev/zero reads zeros");
  if (fd >= 0)
    close (fd);
  report (rep,
          is_char_dev ("/dev/null", 1, 3) && is_char_dev ("/dev/urandom", 1, 9)
              && is_char_dev ("/dev/tty", 5, 0),
          "default device nodes");
  report (rep, readlink ("/dev/ptmx", target, sizeof (target) - 1) > 0 && strcmp (target, "pts/ptmx") == 0,
          "/dev/ptmx -> pts/ptmx");
  memset (target, 0, sizeof (target));
  report (rep, readlink ("/dev/fd", target, sizeof (target) - 1) > 0 && strcmp (target, "/proc/self/fd") == 0,
          "/dev/fd -> /proc/self/fd");
  report (rep, is_fs ("/dev", TMPFS_MAGIC), "/dev is a tmpfs");
}

/* Checks shared by the plain and the user namespace cases.  */
static void
check_common (int rep, const fixture *fx)
{
  _cleanup_free_ char *marker = slurp ("/marker");
  _cleanup_free_ char *escaped = slurp ("/etc/sb-escape-marker");
  struct stat st;
  char buf[8];
  int fd;

  report (rep, marker && strcmp (marker, "rootfs") == 0, "/ is the rootfs");
  report (rep, access (fx->dir, F_OK) < 0, "the old root is gone");
  report (rep, access ("/proc/self/status", F_OK) == 0, "/proc is mounted");
  report (rep, is_fs ("/tmp", TMPFS_MAGIC) && stat ("/tmp", &st) == 0 && (st.st_mode & 07777) == 01777,
          "/tmp is a tmpfs with mode 1777");
  report (rep, open_fails_with ("/data/ro-file", O_WRONLY, EROFS), "the read-only bind rejects writes");
  report (rep, escaped && strcmp (escaped, "bound") == 0,
          "a bind through the /evil symlink lands in the rootfs /etc");
  check_dev (rep);
  fd = open ("/proc/timer_list", O_RDONLY | O_CLOEXEC);
  report (rep, fd >= 0 && read (fd, buf, sizeof (buf)) == 0, "/proc/timer_list (a file) is masked");
  if (fd >= 0)
    close (fd);
  report (rep,
          access ("/proc/acpi", F_OK) < 0
              || (is_fs ("/proc/acpi", TMPFS_MAGIC) && is_readonly ("/proc/acpi")),
          "/proc/acpi (a directory) is masked by a read-only tmpfs");
  if (fd >= 0)
    close (fd);
  report (rep, is_readonly ("/proc/sys") && open ("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC) < 0,
          "/proc/sys is read-only");
  report (rep, is_readonly ("/sys"), "/sys is read-only");
}

typedef struct variant
{
  int premount;      /* idmapped rootfs, used in a user namespace */
  int evil_premount; /* idmapped host dir for the bind through /evil, or -1 */
  bool no_pivot, root_readonly;
} variant;

/* The pty slave shows up as /dev/console.  */
static void
check_console (int rep, int slave)
{
  struct stat a, b;
  report (rep,
          fstat (slave, &a) == 0 && stat ("/dev/console", &b) == 0 && S_ISCHR (b.st_mode)
              && a.st_rdev == b.st_rdev,
          "/dev/console is the console pty");
}

static int
open_pty_slave (void)
{
  int master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  char *name = master >= 0 && grantpt (master) == 0 && unlockpt (master) == 0 ? ptsname (master) : NULL;
  return name ? open (name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
}

static void
mounts_body (int rep, const fixture *fx, void *arg)
{
  const variant *v = arg;
  int premount = v->premount;
  sb_device tun = { .type = 'c', .path = (char *)"/dev/net/tun", .major = 10, .minor = 200 };
  char *masked[] = { "/proc/kcore", "/proc/timer_list", "/proc/acpi", "/proc/no-such-file", NULL };
  char *readonly[] = { "/proc/sys", "/no/such/dir", NULL };
  sb_mount mounts[] = {
    fs_mount ("proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
    fs_mount ("tmpfs", "/tmp", MS_NOSUID | MS_NODEV, "mode=1777"),
    bind_mount (fx->hostfile, "/data/ro-file", MS_RDONLY),
    bind_mount (fx->hostdir, "/evil", 0),
    fs_mount ("sysfs", "/sys", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
    fs_mount ("tmpfs", "/data/copy", 0, NULL),
    bind_mount (fx->hostfile, "/proc/uptime", MS_RDONLY),
    fs_mount ("cgroup", "/sys/fs/cgroup", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
    fs_mount ("devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"),
  };
  sb_spec spec = { .mounts = mounts, .n_mounts = sizeof (mounts) / sizeof (mounts[0]) };
  _cleanup_close_ int rootfs_dir = open (fx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  sb_mount_ctx ctx = { .spec = &spec,
                       .rootfs = fx->rootfs,
                       .rootfs_dir = rootfs_dir,
                       .root_mount = -1,
                       .rootfs_premount = premount,
                       .console_slave = open_pty_slave (),
                       .userns = premount >= 0,
                       .no_pivot = v->no_pivot };
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_free_ char *path = sb_xasprintf ("%s/etc/sb-escape-marker", fx->rootfs);
  _cleanup_free_ char *uptime = NULL;
  _cleanup_free_ char *kept = NULL;
  char link[16] = "";
  struct stat st;
  int r;

  int premounts[sizeof (mounts) / sizeof (mounts[0])];

  for (size_t i = 0; i < sizeof (mounts) / sizeof (mounts[0]); i++)
    premounts[i] = -1;
  premounts[3] = v->evil_premount;
  ctx.premounts = premounts;
  if (v->evil_premount >= 0)
    mounts[3].flags = MS_RDONLY | MS_NOSUID;
  mounts[5].tmpcopyup = true;
  spec.root_readonly = v->root_readonly;
  spec.linux.devices = &tun;
  spec.linux.n_devices = 1;
  spec.linux.namespaces[SB_NS_CGROUP].present = true;
  spec.linux.masked_paths = masked;
  spec.linux.readonly_paths = readonly;
  r = sb_mounts_setup (&ctx, &err);
  report (rep, r == 0, "sb_mounts_setup: %s", err ? err->msg : "ok");
  if (r < 0)
    return;
  report (rep, access ("/etc/sb-escape-marker", F_OK) < 0 && access (path, F_OK) == 0,
          "the symlinked destination stays inside the rootfs (host /etc untouched)");
  r = sb_mounts_enter_root (&ctx, &err);
  report (rep, r == 0, "sb_mounts_enter_root: %s", err ? err->msg : "ok");
  if (r < 0)
    return;
  r = sb_mounts_restrict (&ctx, &err);
  report (rep, r == 0, "sb_mounts_restrict: %s", err ? err->msg : "ok");
  if (r < 0)
    return;
  check_common (rep, fx);
  uptime = slurp ("/proc/uptime");
  report (rep, uptime && strcmp (uptime, "hello") == 0, "an lxcfs-style bind over /proc/uptime is allowed");
  kept = slurp ("/data/copy/keep");
  report (rep,
          is_fs ("/data/copy", TMPFS_MAGIC) && kept && strcmp (kept, "kept") == 0
              && readlink ("/data/copy/link", link, sizeof (link) - 1) == 4,
          "tmpcopyup copied the original contents into the tmpfs");
  report (rep,
          is_fs ("/sys/fs/cgroup", TMPFS_MAGIC) && is_fs ("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC)
              && is_readonly ("/sys/fs/cgroup/memory"),
          "cgroup v1 hierarchies are mounted read-only");
  report (rep, is_char_dev ("/dev/net/tun", 10, 200), "the spec's device /dev/net/tun");
  report (rep, is_fs ("/dev/pts", DEVPTS_SUPER_MAGIC) && open_pty_slave () >= 0,
          "devpts is mounted below the /dev tmpfs and /dev/ptmx opens a pty");
  check_console (rep, ctx.console_slave);
  if (v->root_readonly)
    report (rep, is_readonly ("/") && open_fails_with ("/new-file", O_WRONLY | O_CREAT, EROFS),
            "/ is read-only");
  if (v->evil_premount >= 0)
    report (rep,
            is_readonly ("/etc") && stat ("/etc/sb-escape-marker", &st) == 0 && st.st_uid == 0
                && open_fails_with ("/etc/sb-escape-marker", O_WRONLY, EROFS),
            "an idmapped premount is attached at its resolved destination, read-only");
  if (premount >= 0)
    report (rep, stat ("/marker", &st) == 0 && st.st_uid == 0 && st.st_gid == 0,
            "the idmapped rootfs shows host root's files as owned by root");
}

static void
proc_guard_body (int rep, const fixture *fx, void *arg)
{
  const char *dest = arg;
  sb_mount mounts[] = {
    fs_mount ("proc", "/proc", 0, NULL),
    bind_mount (fx->hostfile, dest, 0),
  };
  sb_spec spec = { .mounts = mounts, .n_mounts = 2 };
  _cleanup_close_ int rootfs_dir = open (fx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  sb_mount_ctx ctx = { .spec = &spec,
                       .rootfs = fx->rootfs,
                       .rootfs_dir = rootfs_dir,
                       .root_mount = -1,
                       .rootfs_premount = -1,
                       .console_slave = -1 };
  _cleanup_err_ sb_err *err = NULL;
  int r = sb_mounts_setup (&ctx, &err);

  report (rep, r < 0 && err && strstr (err->msg, "mounts[1]") && strstr (err->msg, "/proc"),
          "a bind onto %s is refused naming the mount: %s", dest, err ? err->msg : "no error");
}

/* A user namespace mapping 0..65535 to HOST_UID_BASE..: a process waits in
   it until its pipe closes.  */
static pid_t
make_userns (int *userns_fd, int *hold)
{
  int fds[2];
  char path[64];
  char c;
  pid_t pid;
  _cleanup_free_ char *map = sb_xasprintf ("0 %d 65536\n", HOST_UID_BASE);

  if (pipe2 (fds, O_CLOEXEC) < 0)
    abort ();
  pid = fork ();
  if (pid == 0)
    {
      close (fds[1]);
      if (unshare (CLONE_NEWUSER) < 0)
        _exit (1);
      while (read (fds[0], &c, 1) > 0)
        ;
      _exit (0);
    }
  close (fds[0]);
  *hold = fds[1];
  /* Until the child has unshared, its maps are the host's.  */
  for (int i = 0; i < 1000; i++)
    {
      struct stat a, b;
      snprintf (path, sizeof (path), "/proc/%d/ns/user", pid);
      if (stat (path, &a) == 0 && stat ("/proc/self/ns/user", &b) == 0 && a.st_ino != b.st_ino)
        break;
      usleep (1000);
    }
  snprintf (path, sizeof (path), "/proc/%d/uid_map", pid);
  if (sb_write_file_at (AT_FDCWD, path, map, NULL) < 0)
    return -1;
  snprintf (path, sizeof (path), "/proc/%d/gid_map", pid);
  if (sb_write_file_at (AT_FDCWD, path, map, NULL) < 0)
    return -1;
  snprintf (path, sizeof (path), "/proc/%d/ns/user", pid);
  *userns_fd = open (path, O_RDONLY | O_CLOEXEC);
  return *userns_fd < 0 ? -1 : pid;
}

static int
idmapped_tree (const char *path, int userns_fd)
{
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd };
  int fd = open_tree (AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);

  if (fd < 0 || mount_setattr (fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof (attr)) < 0)
    {
      if (fd >= 0)
        close (fd);
      return -1;
    }
  return fd;
}

static void
test_userns (const fixture *fx)
{
  int userns_fd = -1, hold = -1, premount, evil;
  pid_t holder = make_userns (&userns_fd, &hold);

  tap_ok (holder > 0, "create a user namespace mapping 0 -> %d", HOST_UID_BASE);
  premount = holder > 0 ? idmapped_tree (fx->rootfs, userns_fd) : -1;
  tap_ok (premount >= 0, "idmapped clone of the rootfs: %s", premount >= 0 ? "ok" : strerror (errno));
  evil = premount >= 0 ? idmapped_tree (fx->hostdir, userns_fd) : -1;
  tap_ok (evil >= 0, "idmapped clone of a host directory");
  if (premount >= 0 && evil >= 0)
    run_contained ("userns", fx, userns_fd, mounts_body,
                   &(variant){ .premount = premount, .evil_premount = evil });
  if (premount >= 0)
    close (premount);
  if (evil >= 0)
    close (evil);
  if (userns_fd >= 0)
    close (userns_fd);
  if (hold >= 0)
    close (hold);
  if (holder > 0)
    waitpid (holder, NULL, 0);
}

int
main (void)
{
  fixture fx;
  int before, after;

  if (geteuid () != 0)
    {
      printf ("1..0 # SKIP needs root\n");
      return 0;
    }
  fixture_init (&fx);
  before = count_lines ("/proc/self/mountinfo");
  run_contained ("root", &fx, -1, mounts_body, &(variant){ .premount = -1, .evil_premount = -1 });
  run_contained ("root-nopivot-ro", &fx, -1, mounts_body,
                 &(variant){ .premount = -1, .evil_premount = -1, .no_pivot = true, .root_readonly = true });
  run_contained ("guard", &fx, -1, proc_guard_body, "/proc/sys/kernel/core_pattern");
  run_contained ("guard-symlink", &fx, -1, proc_guard_body, "/evilproc");
  test_userns (&fx);
  after = count_lines ("/proc/self/mountinfo");
  tap_is_int (after, before, "no mount leaked to the host namespace");
  tap_ok (access ("/etc/sb-escape-marker", F_OK) < 0, "host /etc unchanged");
  fixture_free (&fx);
  return tap_done ();
}
