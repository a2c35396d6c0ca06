/* The probes of `sudobox check`.  Wherever it is cheap the probe does the
   real thing the runtime will do (in a scratch directory under the state
   root, with a throwaway user namespace) instead of inferring support from
   version numbers: distributions backport and disable features.  Nothing
   outlives the probes: the mounts are detached or live in a child's mount
   namespace, the scratch directory is removed.  */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <linux/kvm.h>
#include <linux/magic.h>

#include "cgroup.h"
#include "idmap.h"
#include "idrange.h"
#include "namespaces.h"
#include "netif.h"
#include "selfexe.h"
#include "util.h"

#define PROBE_ANSWER 4242

static void
set_item (sb_check_report *r, sb_check_id id, const char *name, sb_check_status st, const char *fmt, ...)
{
  va_list ap;
  sb_check_item *it = &r->items[id];

  free (it->detail);
  it->name = name;
  it->status = st;
  va_start (ap, fmt);
  if (vasprintf (&it->detail, fmt, ap) < 0)
    it->detail = NULL;
  va_end (ap);
}

/* The full path of prog in $PATH, or NULL.  */
static char *
find_in_path (const char *prog)
{
  const char *env = getenv ("PATH");
  _cleanup_free_ char *path = sb_xstrdup (env ? env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin");
  char *save = NULL;

  for (char *dir = strtok_r (path, ":", &save); dir; dir = strtok_r (NULL, ":", &save))
    {
      char *cand = sb_xasprintf ("%s/%s", dir, prog);
      if (access (cand, X_OK) == 0)
        return cand;
      free (cand);
    }
  return NULL;
}

static const char *
fs_name (long type)
{
  static const struct
  {
    long magic;
    const char *name;
  } names[] = {
    { EXT4_SUPER_MAGIC, "ext4" },
    { XFS_SUPER_MAGIC, "xfs" },
    { BTRFS_SUPER_MAGIC, "btrfs" },
    { TMPFS_MAGIC, "tmpfs" },
    { OVERLAYFS_SUPER_MAGIC, "overlay" },
    { NFS_SUPER_MAGIC, "nfs" },
    { F2FS_SUPER_MAGIC, "f2fs" },
    { 0x2fc12fc1, "zfs" },
    { RAMFS_MAGIC, "ramfs" },
  };
  for (size_t i = 0; i < sizeof (names) / sizeof (names[0]); i++)
    if (names[i].magic == type)
      return names[i].name;
  return "an unknown filesystem";
}

static void
probe_kernel (sb_check_report *r)
{
  struct utsname u;
  int major = 0, minor = 0;

  uname (&u);
  sscanf (u.release, "%d.%d", &major, &minor);
  if (major < 5 || (major == 5 && minor < 12))
    set_item (r, SB_CK_KERNEL, "kernel", SB_CHECK_FAIL, "%s: idmapped mounts need Linux 5.12 or later",
              u.release);
  else if (major < 6 || (major == 6 && minor < 8))
    set_item (r, SB_CK_KERNEL, "kernel", SB_CHECK_WARN,
              "%s: an overlay over idmapped layers needs Linux 6.8 (overlay layers given as fds)", u.release);
  else
    set_item (r, SB_CK_KERNEL, "kernel", SB_CHECK_OK, "%s", u.release);
}

static void
probe_userns_limits (sb_check_report *r)
{
  _cleanup_free_ char *max = NULL, *clone = NULL;
  int64_t n = -1;

  if (sb_read_file_at (AT_FDCWD, "/proc/sys/user/max_user_namespaces", 64, &max, NULL, NULL) < 0
      || sb_parse_i64 (strtok (max, "\n"), &n) < 0)
    {
      set_item (r, SB_CK_USERNS, "user-namespaces", SB_CHECK_FAIL,
                "/proc/sys/user/max_user_namespaces is unreadable: a kernel without user namespaces");
      return;
    }
  /* Debian's knob restricts unprivileged users only; report it because a
     nested runtime inside a workspace is such a user.  */
  sb_read_file_at (AT_FDCWD, "/proc/sys/kernel/unprivileged_userns_clone", 64, &clone, NULL, NULL);
  if (n == 0)
    set_item (r, SB_CK_USERNS, "user-namespaces", SB_CHECK_FAIL,
              "user.max_user_namespaces is 0: set it (sysctl user.max_user_namespaces=63000)");
  else
    set_item (r, SB_CK_USERNS, "user-namespaces", SB_CHECK_OK, "user.max_user_namespaces=%lld%s%s",
              (long long)n, clone ? ", kernel.unprivileged_userns_clone=" : "",
              clone ? strtok (clone, "\n") : "");
}

/* A user namespace mapping 0..65535 to host_first.., held by no process
   once this returns (the fd keeps it alive).  */
static int
probe_userns_fd (uint32_t host_first, sb_err **err)
{
  int ready[2], hold[2], child_errno = 0;
  sb_idmap map = { .container_id = 0, .host_id = host_first, .size = SB_IDRANGE_SIZE };
  _cleanup_free_ char *path = NULL;
  int fd = -1;
  pid_t pid;

  if (pipe2 (ready, O_CLOEXEC) < 0)
    return sb_error (err, errno, "pipe");
  if (pipe2 (hold, O_CLOEXEC) < 0)
    {
      close (ready[0]);
      close (ready[1]);
      return sb_error (err, errno, "pipe");
    }
  pid = fork ();
  if (pid == 0)
    {
      char c;
      int e;
      close (ready[0]);
      close (hold[1]);
      e = unshare (CLONE_NEWUSER) == 0 ? 0 : errno;
      if (sb_write_all (ready[1], &e, sizeof (e)) < 0 || read (hold[0], &c, 1) < 0)
        _exit (1);
      _exit (0);
    }
  close (ready[1]);
  close (hold[0]);
  if (pid < 0)
    sb_error (err, errno, "fork");
  else if (sb_read_all (ready[0], &child_errno, sizeof (child_errno)) != sizeof (child_errno) || child_errno)
    sb_error (err, child_errno, "unshare(CLONE_NEWUSER)");
  else if (sb_ns_write_maps (pid, &map, 1, &map, 1, err) == 0)
    {
      path = sb_xasprintf ("/proc/%d/ns/user", pid);
      fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        sb_error (err, errno, "open %s", path);
    }
  close (ready[0]);
  close (hold[1]);
  if (pid > 0)
    waitpid (pid, NULL, 0);
  return fd;
}

static int
make_file (const char *dir, const char *name, sb_err **err)
{
  _cleanup_free_ char *p = sb_xasprintf ("%s/%s", dir, name);
  _cleanup_close_ int fd = open (p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

  if (fd < 0)
    return sb_error (err, errno, "create %s", p);
  return 0;
}

static int
make_dirs (const char *base, const char *const *names, sb_err **err)
{
  for (size_t i = 0; names[i]; i++)
    {
      _cleanup_free_ char *p = sb_xasprintf ("%s/%s", base, names[i]);
      if (mkdir (p, 0755) < 0 && errno != EEXIST)
        return sb_error (err, errno, "mkdir %s", p);
    }
  return 0;
}

/* Root's file seen through the detached mount at fd must belong to host_first.  */
static int
expect_owner (int mntfd, const char *name, uint32_t host_first, sb_err **err)
{
  struct stat st;

  if (fstatat (mntfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return sb_error (err, errno, "stat %s through the mount", name);
  if (st.st_uid != host_first || st.st_gid != host_first)
    return sb_error (err, 0, "a file owned by 0:0 appears as %u:%u through the mount, expected %u:%u",
                     (unsigned)st.st_uid, (unsigned)st.st_gid, host_first, host_first);
  return 0;
}

static void
probe_idmap (sb_check_report *r, const char *tmp, int userns_fd, uint32_t host_first)
{
  static const char *const dirs[] = { "idmap", NULL };
  _cleanup_free_ char *dir = sb_xasprintf ("%s/idmap", tmp);
  _cleanup_err_ sb_err *e = NULL;
  _cleanup_close_ int fd = -1;
  struct statfs sf;
  const char *fs = statfs (tmp, &sf) == 0 ? fs_name ((long)sf.f_type) : "an unknown filesystem";

  if (make_dirs (tmp, dirs, &e) < 0 || make_file (dir, "f", &e) < 0
      || (fd = sb_idmap_tree (dir, userns_fd, false, &e)) < 0 || expect_owner (fd, "f", host_first, &e) < 0)
    set_item (r, SB_CK_IDMAP, "idmapped-mounts", SB_CHECK_FAIL, "%s under %s: %s", fs, r->root, e->msg);
  else
    set_item (r, SB_CK_IDMAP, "idmapped-mounts", SB_CHECK_OK, "%s under %s: a file of 0:0 appears as %u:%u",
              fs, r->root, host_first, host_first);
}

/* What the userns mode does for every image: an overlay whose layers are
   idmapped copies, mounted by the host, then written through.  */
static int
try_overlay_idmap (const char *tmp, int userns_fd, uint32_t host_first, sb_err **err)
{
  static const char *const dirs[] = { "ov", "ov/lower", "ov/upper", "ov/work", NULL };
  _cleanup_free_ char *lower = sb_xasprintf ("%s/ov/lower", tmp);
  _cleanup_free_ char *upper = sb_xasprintf ("%s/ov/upper", tmp);
  _cleanup_free_ char *work = sb_xasprintf ("%s/ov/work", tmp);
  char *layers[] = { lower, NULL };
  _cleanup_close_ int fd = -1;
  int status = 0;
  pid_t pid;

  if (make_dirs (tmp, dirs, err) < 0 || make_file (lower, "f", err) < 0)
    return -1;
  fd = sb_idmap_overlay_layers (layers, upper, work, userns_fd, host_first, host_first, err);
  if (fd < 0 || expect_owner (fd, "f", host_first, err) < 0)
    return -1;
  /* Write as the container's root would: a host id inside the range (root
     of the host is outside it, so the idmapped upper layer refuses it).  */
  pid = fork ();
  if (pid == 0)
    {
      setfsgid (host_first);
      setfsuid (host_first);
      _exit (close (openat (fd, "written", O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == 0 ? 0 : errno);
    }
  if (pid < 0 || waitpid (pid, &status, 0) < 0)
    return sb_error (err, errno, "fork");
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return sb_error (err, WIFEXITED (status) ? WEXITSTATUS (status) : 0, "write into the overlay as %u",
                     host_first);
  return 0;
}

static void
probe_overlay_idmap (sb_check_report *r, const char *tmp, int userns_fd, uint32_t host_first)
{
  _cleanup_err_ sb_err *e = NULL;

  if (try_overlay_idmap (tmp, userns_fd, host_first, &e) < 0)
    set_item (r, SB_CK_OVERLAY_IDMAP, "overlay-idmapped-layers", SB_CHECK_FAIL, "%s", e->msg);
  else
    set_item (r, SB_CK_OVERLAY_IDMAP, "overlay-idmapped-layers", SB_CHECK_OK,
              "an overlay over idmapped layers mounted and written");
}

/* The child of probe_overlay_userns: becomes root of its namespace and
   mounts an overlay as a nested runtime would.  Returns an errno.  */
static int
overlay_userns_child (int ready, int go)
{
  int e = unshare (CLONE_NEWUSER | CLONE_NEWNS) == 0 ? 0 : errno;
  char c;

  if (sb_write_all (ready, &e, sizeof (e)) < 0 || e != 0)
    return e ? e : EIO;
  if (read (go, &c, 1) != 1)
    return EIO;
  if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
    return errno;
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return errno;
  if (mount ("overlay", "merged", "overlay", 0, "lowerdir=lower,upperdir=upper,workdir=work") < 0)
    return errno;
  if (close (open ("merged/written", O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) < 0)
    return errno;
  return 0;
}

/* What a nested container runtime does inside the system mode: mount an
   overlay from inside a user namespace, as its root.  The scratch dirs
   belong to the namespace's root; the child enters them before dropping to
   it because the state root above is 0700.  */
static int
try_overlay_userns (const char *tmp, uint32_t host_first, sb_err **err)
{
  static const char *const dirs[] = { "ovns", "ovns/lower", "ovns/upper", "ovns/work", "ovns/merged", NULL };
  sb_idmap map = { .container_id = 0, .host_id = host_first, .size = SB_IDRANGE_SIZE };
  _cleanup_free_ char *base = sb_xasprintf ("%s/ovns", tmp);
  int ready[2], go[2], status = 0, child_errno = 0;
  pid_t pid;

  if (make_dirs (tmp, dirs, err) < 0)
    return -1;
  for (size_t i = 0; dirs[i]; i++)
    {
      _cleanup_free_ char *p = sb_xasprintf ("%s/%s", tmp, dirs[i]);
      if (chown (p, host_first, host_first) < 0)
        return sb_error (err, errno, "chown %s", p);
    }
  if (pipe2 (ready, O_CLOEXEC) < 0)
    return sb_error (err, errno, "pipe");
  if (pipe2 (go, O_CLOEXEC) < 0)
    {
      close (ready[0]);
      close (ready[1]);
      return sb_error (err, errno, "pipe");
    }
  pid = fork ();
  if (pid == 0)
    {
      close (ready[0]);
      close (go[1]);
      _exit (chdir (base) < 0 ? errno : overlay_userns_child (ready[1], go[0]));
    }
  close (ready[1]);
  close (go[0]);
  if (pid > 0 && sb_read_all (ready[0], &child_errno, sizeof (child_errno)) == sizeof (child_errno)
      && child_errno == 0 && sb_ns_write_maps (pid, &map, 1, &map, 1, err) == 0)
    sb_write_all (go[1], "g", 1);
  close (ready[0]);
  close (go[1]);
  if (pid < 0)
    return sb_error (err, errno, "fork");
  if (waitpid (pid, &status, 0) < 0 || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return sb_error (err, WIFEXITED (status) ? WEXITSTATUS (status) : 0,
                     "overlay mounted by root of a user namespace");
  return 0;
}

static void
probe_overlay_userns (sb_check_report *r, const char *tmp, uint32_t host_first)
{
  _cleanup_err_ sb_err *e = NULL;

  if (try_overlay_userns (tmp, host_first, &e) < 0)
    set_item (r, SB_CK_OVERLAY_USERNS, "overlay-in-userns", SB_CHECK_FAIL, "%s", e->msg);
  else
    set_item (r, SB_CK_OVERLAY_USERNS, "overlay-in-userns", SB_CHECK_OK,
              "root of a user namespace mounted and wrote an overlay");
}

/* The child of probe_seccomp_notify: installs a filter that sends getppid
   to a listener, answers its own grandchild's call and checks the answer.  */
static int
seccomp_notify_child (void)
{
  struct seccomp_notif *req = NULL;
  struct seccomp_notif_resp *resp = NULL;
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
  int nfd, status = 0;
  pid_t pid;

  alarm (5);
  if (ctx == NULL || prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0
      || seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, SCMP_SYS (getppid), 0) < 0 || seccomp_load (ctx) < 0)
    return 2;
  nfd = seccomp_notify_fd (ctx);
  if (nfd < 0 || seccomp_notify_alloc (&req, &resp) < 0)
    return 3;
  pid = fork ();
  if (pid == 0)
    _exit (syscall (SYS_getppid) == PROBE_ANSWER ? 0 : 1);
  if (pid < 0 || seccomp_notify_receive (nfd, req) < 0)
    return 4;
  resp->id = req->id;
  resp->val = PROBE_ANSWER;
  resp->error = 0;
  resp->flags = 0;
  if (seccomp_notify_respond (nfd, resp) < 0 || waitpid (pid, &status, 0) < 0)
    return 5;
  return WIFEXITED (status) && WEXITSTATUS (status) == 0 ? 0 : 6;
}

static void
probe_seccomp_notify (sb_check_report *r)
{
  static const char *const why[] = {
    "",
    "",
    "the filter with SCMP_ACT_NOTIFY did not load",
    "no listener fd",
    "no notification arrived",
    "the response was refused",
    "the answered syscall did not return the listener's value",
  };
  int status = 0;
  pid_t pid = fork ();

  if (pid == 0)
    _exit (seccomp_notify_child ());
  if (pid < 0 || waitpid (pid, &status, 0) < 0)
    set_item (r, SB_CK_SECCOMP_NOTIFY, "seccomp-notify", SB_CHECK_FAIL, "fork: %s", strerror (errno));
  else if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    set_item (r, SB_CK_SECCOMP_NOTIFY, "seccomp-notify", SB_CHECK_OK,
              "a syscall was answered by a listener (libseccomp API level %u)", seccomp_api_get ());
  else
    set_item (r, SB_CK_SECCOMP_NOTIFY, "seccomp-notify", SB_CHECK_FAIL, "%s",
              WIFEXITED (status) && WEXITSTATUS (status) < 7 ? why[WEXITSTATUS (status)]
                                                             : "the probe process was killed");
}

/* The probes that need a scratch directory on the root's filesystem.  */
static void
probe_storage (sb_check_report *r, uint32_t host_first)
{
  _cleanup_free_ char *tmp = sb_xasprintf ("%s/check-XXXXXX", r->root);
  _cleanup_err_ sb_err *e = NULL;
  _cleanup_close_ int userns_fd = -1;
  const char *why;

  if (mkdtemp (tmp) == NULL)
    {
      why = strerror (errno);
      set_item (r, SB_CK_IDMAP, "idmapped-mounts", SB_CHECK_FAIL, "mkdtemp under %s: %s", r->root, why);
      set_item (r, SB_CK_OVERLAY_IDMAP, "overlay-idmapped-layers", SB_CHECK_FAIL,
                "not tried: no scratch dir");
      set_item (r, SB_CK_OVERLAY_USERNS, "overlay-in-userns", SB_CHECK_FAIL, "not tried: no scratch dir");
      return;
    }
  userns_fd = probe_userns_fd (host_first, &e);
  if (userns_fd < 0)
    {
      set_item (r, SB_CK_USERNS, "user-namespaces", SB_CHECK_FAIL, "%s", e->msg);
      set_item (r, SB_CK_IDMAP, "idmapped-mounts", SB_CHECK_FAIL, "not tried: no user namespace");
      set_item (r, SB_CK_OVERLAY_IDMAP, "overlay-idmapped-layers", SB_CHECK_FAIL,
                "not tried: no user namespace");
    }
  else
    {
      probe_idmap (r, tmp, userns_fd, host_first);
      probe_overlay_idmap (r, tmp, userns_fd, host_first);
    }
  probe_overlay_userns (r, tmp, host_first);
  {
    _cleanup_close_ int rootfd = open (r->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd >= 0)
      sb_rm_rf_at (rootfd, strrchr (tmp, '/') + 1);
  }
}

/* Whether a v2 hierarchy hands controllers down to child cgroups.  */
static void
probe_delegation (sb_check_report *r, enum sb_cgroup_mode mode)
{
  _cleanup_free_ char *sub = NULL, *unified = NULL;

  if (mode == SB_CGROUP_V1)
    {
      sb_read_file_at (AT_FDCWD, "/sys/fs/cgroup/unified/cgroup.controllers", 4096, &unified, NULL, NULL);
      set_item (r, SB_CK_CGROUP_DELEGATION, "cgroup-delegation", SB_CHECK_WARN,
                "cgroup v1: nested runtimes and systemd inside get v1 controllers only (v2 controllers: %s)",
                unified && *strtok (unified, "\n") ? unified : "none");
      return;
    }
  if (sb_read_file_at (AT_FDCWD, "/sys/fs/cgroup/cgroup.subtree_control", 4096, &sub, NULL, NULL) < 0)
    set_item (r, SB_CK_CGROUP_DELEGATION, "cgroup-delegation", SB_CHECK_WARN,
              "/sys/fs/cgroup/cgroup.subtree_control is unreadable");
  else if (strstr (sub, "memory") && strstr (sub, "pids"))
    set_item (r, SB_CK_CGROUP_DELEGATION, "cgroup-delegation", SB_CHECK_OK, "v2, delegated controllers: %s",
              strtok (sub, "\n"));
  else
    set_item (r, SB_CK_CGROUP_DELEGATION, "cgroup-delegation", SB_CHECK_WARN,
              "v2, but memory and pids are not enabled in /sys/fs/cgroup/cgroup.subtree_control");
}

static void
probe_cgroup (sb_check_report *r)
{
  _cleanup_err_ sb_err *e = NULL;
  _cleanup_free_ char *ctrl = NULL;
  enum sb_cgroup_mode mode;

  if (sb_cgroup_detect (&mode, &e) < 0)
    {
      set_item (r, SB_CK_CGROUP, "cgroup", SB_CHECK_FAIL, "%s", e->msg);
      set_item (r, SB_CK_CGROUP_DELEGATION, "cgroup-delegation", SB_CHECK_FAIL, "no cgroup hierarchy");
      return;
    }
  if (mode == SB_CGROUP_V1)
    {
      bool mem = access ("/sys/fs/cgroup/memory", F_OK) == 0,
           pids = access ("/sys/fs/cgroup/pids", F_OK) == 0;
      set_item (r, SB_CK_CGROUP, "cgroup", mem && pids ? SB_CHECK_OK : SB_CHECK_WARN,
                "v1%s: memory %s, pids %s", access ("/sys/fs/cgroup/unified", F_OK) == 0 ? " (hybrid)" : "",
                mem ? "yes" : "no (no memory limits)", pids ? "yes" : "no (no pids limits)");
    }
  else if (sb_read_file_at (AT_FDCWD, "/sys/fs/cgroup/cgroup.controllers", 4096, &ctrl, NULL, NULL) < 0)
    set_item (r, SB_CK_CGROUP, "cgroup", SB_CHECK_FAIL, "v2, but cgroup.controllers is unreadable");
  else
    set_item (r, SB_CK_CGROUP, "cgroup", SB_CHECK_OK, "v2: %s",
              strtok (ctrl, "\n") ? ctrl : "no controllers");
  probe_delegation (r, mode);
}

static void
probe_fuse (sb_check_report *r)
{
  _cleanup_close_ int fd = open ("/dev/fuse", O_RDWR | O_CLOEXEC);
  _cleanup_free_ char *fm = find_in_path ("fusermount3");

  if (fd < 0)
    set_item (r, SB_CK_FUSE, "fuse", SB_CHECK_FAIL, "/dev/fuse: %s", strerror (errno));
  else
    set_item (r, SB_CK_FUSE, "fuse", fm ? SB_CHECK_OK : SB_CHECK_WARN, "/dev/fuse opens; fusermount3: %s",
              fm ? fm : "not found (install fuse3)");
}

#if defined(__x86_64__)
/* Runs five bytes of real-mode code in the VM (mov al, 42; out 0x10, al;
   hlt) and returns 0 when the vCPU exits on that port write with that
   value: the CPU really executed guest code.  In a child with an alarm,
   so a host whose KVM_RUN never returns cannot hang the report; the child
   creates its own VM because a VM belongs to its creator's address space.  */
static int
kvm_test_guest (int kvm)
{
  static const uint8_t code[] = { 0xb0, 0x2a, 0xe6, 0x10, 0xf4 };
  struct kvm_userspace_memory_region region = { .slot = 0, .guest_phys_addr = 0x1000, .memory_size = 0x1000 };
  struct kvm_sregs sregs;
  struct kvm_regs regs = { .rip = 0x1000, .rflags = 0x2 };
  struct kvm_run *run;
  uint8_t *mem;
  int vm, vcpu, size;

  alarm (3);
  vm = ioctl (kvm, KVM_CREATE_VM, 0);
  if (vm < 0)
    return 1;
  mem = mmap (NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED)
    return 2;
  memcpy (mem, code, sizeof (code));
  region.userspace_addr = (uint64_t)(uintptr_t)mem;
  vcpu = ioctl (vm, KVM_CREATE_VCPU, 0);
  size = ioctl (kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (ioctl (vm, KVM_SET_USER_MEMORY_REGION, &region) < 0 || vcpu < 0 || size <= 0)
    return 3;
  run = mmap (NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED || ioctl (vcpu, KVM_GET_SREGS, &sregs) < 0)
    return 4;
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  if (ioctl (vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl (vcpu, KVM_SET_REGS, &regs) < 0)
    return 5;
  if (ioctl (vcpu, KVM_RUN, 0) < 0)
    return 6;
  if (run->exit_reason != KVM_EXIT_IO || run->io.port != 0x10 || run->io.direction != KVM_EXIT_IO_OUT
      || ((uint8_t *)run)[run->io.data_offset] != 42)
    return 7;
  return 0;
}

static bool
kvm_runs_guest_code (int kvm)
{
  int status = 0;
  pid_t pid = fork ();

  if (pid == 0)
    _exit (kvm_test_guest (kvm));
  return pid > 0 && waitpid (pid, &status, 0) == pid && WIFEXITED (status) && WEXITSTATUS (status) == 0;
}
#else
static bool
kvm_runs_guest_code (int kvm)
{
  (void)kvm;
  return false;
}
#endif

static void
probe_kvm (sb_check_report *r)
{
  _cleanup_close_ int fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC), vm = -1;
  int api;

  if (fd < 0)
    {
      set_item (r, SB_CK_KVM, "kvm", SB_CHECK_WARN, "/dev/kvm: %s; microvm uses software emulation (TCG)",
                strerror (errno));
      return;
    }
  api = ioctl (fd, KVM_GET_API_VERSION, 0);
  if (api != KVM_API_VERSION)
    {
      set_item (r, SB_CK_KVM, "kvm", SB_CHECK_WARN,
                "/dev/kvm answers API version %d, not %d; microvm uses software emulation (TCG)", api,
                KVM_API_VERSION);
      return;
    }
  vm = ioctl (fd, KVM_CREATE_VM, 0);
  if (vm < 0)
    {
      set_item (r, SB_CK_KVM, "kvm", SB_CHECK_WARN,
                "KVM_CREATE_VM: %s; microvm uses software emulation (TCG)", strerror (errno));
      return;
    }
  if (!kvm_runs_guest_code (fd))
    {
      set_item (r, SB_CK_KVM, "kvm", SB_CHECK_WARN,
                "KVM present (API %d) but a test guest did not run; microvm uses software emulation (TCG)",
                api);
      return;
    }
  r->kvm_usable = true;
  /* Guest code runs on hosts where a stock kernel still does not boot
     (nested "PVM" hosts): only a booted guest proves acceleration.  */
  set_item (r, SB_CK_KVM, "kvm", SB_CHECK_OK,
            "KVM present (API %d, a test guest ran); microvm uses software emulation unless a guest boots",
            api);
}

/* Workspaces' default network: sudobox-net and the tun device it opens.  */
static void
probe_network (sb_check_report *r)
{
  _cleanup_err_ sb_err *e = NULL;
  _cleanup_free_ char *net = NULL;

  if (sb_find_helper ("sudobox-net", "net", "SUDOBOX_NET", &net, &e) < 0)
    set_item (r, SB_CK_NETWORK, "network", SB_CHECK_WARN, "%s: workspaces need --network none", e->msg);
  else if (access ("/dev/net/tun", R_OK | W_OK) < 0)
    set_item (r, SB_CK_NETWORK, "network", SB_CHECK_WARN, "/dev/net/tun: %s: workspaces need --network none",
              strerror (errno));
  else
    set_item (r, SB_CK_NETWORK, "network", SB_CHECK_OK, "%s; %s", net,
              sb_netif_host_has_ipv6 () ? "IPv4 and IPv6 (the host has an IPv6 default route)"
                                        : "IPv4 only (the host has no IPv6 default route)");
}

static void
probe_programs (sb_check_report *r)
{
  struct utsname u;
  _cleanup_free_ char *qemu_name = NULL, *qemu = NULL;

  uname (&u);
  qemu_name = sb_xasprintf ("qemu-system-%s", u.machine);
  qemu = find_in_path (qemu_name);
  if (qemu)
    set_item (r, SB_CK_QEMU, "qemu", SB_CHECK_OK, "%s", qemu);
  else
    set_item (r, SB_CK_QEMU, "qemu", SB_CHECK_FAIL, "%s not found (install qemu-system-x86)", qemu_name);
  probe_network (r);
}

/* Another user's /etc/subuid range inside the workspaces' pool would let
   that user's rootless containers share ids with a workspace.  */
static void
probe_subuid (sb_check_report *r, const sb_mgr *m)
{
  _cleanup_err_ sb_err *e = NULL;
  _cleanup_fclose_ FILE *f = fopen ("/etc/subuid", "re");
  _cleanup_free_ char *line = NULL, *clash = NULL;
  uint64_t first = m->pool_first, end = first + m->pool_count;
  sb_idpool rt;
  size_t cap = 0;

  while (f && getline (&line, &cap, f) > 0)
    {
      char name[256];
      unsigned long long a, n;
      if (sscanf (line, "%255[^:]:%llu:%llu", name, &a, &n) == 3 && strcmp (name, "sudobox") != 0
          && strcmp (name, "sudobox-ws") != 0 && a < end && a + n > first && clash == NULL)
        clash = sb_xstrdup (name);
    }
  if (sb_idpool_default (&rt, &e) < 0)
    set_item (r, SB_CK_SUBUID, "subuid", SB_CHECK_FAIL, "%s", e->msg);
  else if (m->pool_count < SB_IDRANGE_SIZE)
    set_item (r, SB_CK_SUBUID, "subuid", SB_CHECK_FAIL,
              "the workspace pool holds %u ids, fewer than one range", m->pool_count);
  else
    set_item (r, SB_CK_SUBUID, "subuid", clash ? SB_CHECK_WARN : SB_CHECK_OK,
              "workspaces %u+%u (%u ranges), sudobox-runc %u+%u (%u ranges)%s%s%s", m->pool_first,
              m->pool_count, m->pool_count / SB_IDRANGE_SIZE, rt.first, rt.count, rt.count / SB_IDRANGE_SIZE,
              clash ? "; overlaps the /etc/subuid range of \"" : "", clash ? clash : "", clash ? "\"" : "");
}

static void
probe_init (sb_check_report *r)
{
  _cleanup_err_ sb_err *e = NULL;
  _cleanup_free_ char *path = NULL;

  if (sb_mgr_init_path (&path, &e) < 0)
    set_item (r, SB_CK_INIT, "sudobox-init", SB_CHECK_FAIL, "%s", e->msg);
  else
    set_item (r, SB_CK_INIT, "sudobox-init", SB_CHECK_OK, "%s", path);
}

void
sb_check_run (sb_mgr *m, sb_check_report *r)
{
  memset (r, 0, sizeof (*r));
  r->root = sb_xstrdup (m->root);
  probe_kernel (r);
  probe_userns_limits (r);
  probe_storage (r, m->pool_first);
  probe_seccomp_notify (r);
  probe_cgroup (r);
  probe_fuse (r);
  probe_kvm (r);
  probe_programs (r);
  probe_subuid (r, m);
  probe_init (r);
}

void
sb_check_report_clear (sb_check_report *r)
{
  for (size_t i = 0; i < SB_CK_COUNT; i++)
    free (r->items[i].detail);
  free (r->root);
  memset (r, 0, sizeof (*r));
}
