/* The "system" isolation mode: a container that behaves like a whole
   machine (nested container runtimes, systemd as PID 1) while its root is
   still an unprivileged range of host ids.  What it adds to userns:

   - A delegated cgroup: the container's cgroup directories belong to its
     root, in a cgroup namespace of its own, mounted read-write.  The limits
     sudobox set are on the directory itself, whose knobs stay host root's.
   - Fresh proc and sysfs mounts inside (what runc, crun and buildah do for
     every nested container).  The kernel allows a new procfs or sysfs in a
     user namespace only when one of the same type is already fully visible
     in the mount namespace (mnt_already_visible): with masked paths over
     /proc none is.  Like LXC's nesting mounts (/dev/.lxc/proc), the init
     keeps an unmasked proc and sysfs, but below a directory it then covers
     with an empty read-only tmpfs, so nothing inside can reach them.
   - Immutable mounts.  Every mount the init built is locked by copying the
     mount namespace into a nested user namespace (an identity map of the
     container's ids): the kernel then refuses to unmount any of them (the
     masks and the cover included), to clear ro/nosuid/nodev/noexec on them,
     to move them or to bind one without what is mounted below it.  This was
     chosen over seccomp user notification on mount(2): the kernel enforces
     it for every path to a mount (mount, umount2, move_mount, open_tree,
     mount_setattr, fsmount), with no supervisor process to keep alive and
     no race between checking the arguments and the syscall.  Fresh mounts
     made inside stay free, which is what nested runtimes need.
   - A /proc that tells the truth: the workspace's own sudobox-procfs
     server (procfs.h) is started once the cgroup exists, its files are
     bound over /proc and /sys before the change of root (and locked with
     every other mount), sysinfo(2) is answered by it through seccomp user
     notification, and it is stopped on delete.
   - The namespaces the container created for itself (uts, ipc, network,
     cgroup) are created again from the nested user namespace, so that root
     inside owns them (sethostname, interfaces and routes for nested
     containers' networks); /sys's net directories are bound from a
     sysfs of the new network namespace.  Namespaces joined by path (a
     pod's network namespace) are kept: root inside cannot reconfigure
     those.  The pid namespace stays the one the init is PID 1 of: root
     inside cannot mount a procfs for it, only for the pid namespaces it
     creates.  */
#include "isolation.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/wait.h>

#include "procfs.h"
#include "util.h"

/* Where the unmasked proc and sysfs are kept, under the cover.  */
#define HIDDEN_DIR "/dev/.sudobox"

static bool
is_cgroup_mount (const sb_mount *m)
{
  return m->type && (strcmp (m->type, "cgroup") == 0 || strcmp (m->type, "cgroup2") == 0);
}

static bool
strv_has (char *const *v, const char *s)
{
  for (size_t i = 0; v && v[i]; i++)
    if (strcmp (v[i], s) == 0)
      return true;
  return false;
}

/* sysinfo(2) answered by the workspace's server, which listens below the
   state directory (it is started in cgroup_created, and the runtime
   connects to it after that).  */
static int
add_sysinfo (sb_spec *spec, const char *state_dir, sb_err **err)
{
  _cleanup_free_ char *listener = sb_xasprintf ("%s/%s", state_dir, SB_PROCFS_NOTIFY);
  return sb_procfs_spec_add_sysinfo (spec, listener, err);
}

static int
system_prepare (sb_spec *spec, const sb_create_opts *o, sb_err **err)
{
  static const char *const kernel_only[] = { "/sys/kernel/debug", "/sys/kernel/tracing" };
  const sb_namespace *user = &spec->linux.namespaces[SB_NS_USER];
  const char *userns = sb_spec_annotation (spec, SB_ANNOT_USERNS);
  _cleanup_free_ char *state_dir = sb_xasprintf ("%s/%s", o->root, o->id);

  if (!user->present && userns && strcmp (userns, "host") == 0)
    return sb_error (err, 0, "isolation \"system\" needs a user namespace: remove the annotation %s=host",
                     SB_ANNOT_USERNS);
  if (user->path)
    return sb_error (err, 0,
                     "isolation \"system\": the user namespace must be the container's own, not "
                     "joined by path");
  if (!spec->linux.namespaces[SB_NS_PID].present || spec->linux.namespaces[SB_NS_PID].path)
    return sb_error (err, 0, "isolation \"system\" needs a pid namespace of the container's own");
  if (o->no_pivot)
    return sb_error (err, 0,
                     "isolation \"system\" does not work with --no-pivot (a chrooted process "
                     "cannot create the nested user namespace that locks the mounts)");
  /* The cgroup is delegated: a cgroup namespace rooted at it, mounted
     writable (only the container's own directories are its to write).  */
  spec->linux.namespaces[SB_NS_CGROUP].present = true;
  /* The kernel refuses debugfs and tracefs in a user namespace: masked
     (an empty tmpfs mounted there), systemd's mount units for them find
     them mounted instead of failing.  */
  for (size_t i = 0; i < sizeof (kernel_only) / sizeof (kernel_only[0]); i++)
    if (!strv_has (spec->linux.masked_paths, kernel_only[i]))
      sb_strv_append (&spec->linux.masked_paths, kernel_only[i]);
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (is_cgroup_mount (&spec->mounts[i]))
      spec->mounts[i].flags &= ~(unsigned long)MS_RDONLY;
  return add_sysinfo (spec, state_dir, err);
}

static int
system_cgroup_created (sb_cgroup *cg, const char *state_dir, uid_t root_uid, gid_t root_gid, sb_err **err)
{
  sb_procfs_opts po = { .state_dir = state_dir,
                        .cgroup_path = sb_cgroup_path (cg),
                        .uid = root_uid,
                        .gid = root_gid,
                        .start = -1,
                        .notify = true };
  pid_t pid;

  if (sb_cgroup_delegate (cg, root_uid, root_gid, err) < 0)
    return -1;
  return sb_procfs_start (&po, &pid, err) < 0 ? sb_error_wrap (err, "isolation \"system\": the /proc server")
                                              : 0;
}

/* The unmasked proc and sysfs under HIDDEN_DIR.  cover_hidden later puts
   an empty read-only tmpfs over that directory: it sits on the holding
   tmpfs, not on proc or sysfs, so these two have no mount below them, which
   is what makes them "fully visible" to the kernel.  */
static int
mount_hidden (sb_err **err)
{
  static const unsigned long fl = MS_NOSUID | MS_NODEV | MS_NOEXEC;

  if (mkdir (HIDDEN_DIR, 0700) < 0)
    return sb_error (err, errno, "mkdir `%s`", HIDDEN_DIR);
  if (mount ("tmpfs", HIDDEN_DIR, "tmpfs", fl, "mode=700,size=16k") < 0)
    return sb_error (err, errno, "mount a tmpfs on `%s`", HIDDEN_DIR);
  if (mkdir (HIDDEN_DIR "/proc", 0700) < 0 || mkdir (HIDDEN_DIR "/sys", 0700) < 0)
    return sb_error (err, errno, "mkdir below `%s`", HIDDEN_DIR);
  if (mount ("proc", HIDDEN_DIR "/proc", "proc", fl, NULL) < 0)
    return sb_error (err, errno, "mount the unmasked proc for nested containers");
  /* Read-write, on the writable superblock of the spec's /sys (mounts.c):
     a read-only one would only count as visible for read-only mounts,
     and `--privileged` nested containers mount theirs read-write.  */
  if (mount ("sysfs", HIDDEN_DIR "/sys", "sysfs", fl, NULL) < 0)
    return sb_error (err, errno, "mount the unmasked sysfs for nested containers");
  return 0;
}

static int
cover_hidden (sb_err **err)
{
  if (mount ("tmpfs", HIDDEN_DIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "mode=000,size=4k")
      < 0)
    return sb_error (err, errno, "cover `%s`", HIDDEN_DIR);
  return 0;
}

/* On a hybrid host the container's cgroup exists only in the v1
   hierarchies (the v2 one carries no controller it uses), so the v2 mount
   inside shows a cgroup it cannot write.  systemd takes a writable v2
   mount for its process tracking and stops when it cannot create
   init.scope there; without it, it tracks processes in the delegated
   name=systemd v1 hierarchy.  */
static int
drop_hybrid_unified (sb_err **err)
{
  struct statfs top, unified;

  if (statfs ("/sys/fs/cgroup", &top) < 0 || top.f_type != TMPFS_MAGIC
      || statfs ("/sys/fs/cgroup/unified", &unified) < 0 || unified.f_type != CGROUP2_SUPER_MAGIC)
    return 0;
  if (umount2 ("/sys/fs/cgroup/unified", MNT_DETACH) < 0 || rmdir ("/sys/fs/cgroup/unified") < 0)
    return sb_error (err, errno, "remove the hybrid cgroup v2 mount `/sys/fs/cgroup/unified`");
  return 0;
}

/* "inside outside count" lines of our user namespace's map -> the identity
   map of the same inside ids, for the nested user namespace.  */
static int
identity_map (const char *file, char **out, sb_err **err)
{
  _cleanup_fclose_ FILE *f = fopen (file, "re");
  _cleanup_free_ char *map = sb_xstrdup ("");
  unsigned long inside, outside, count;

  if (f == NULL)
    return sb_error (err, errno, "open `%s`", file);
  while (fscanf (f, "%lu %lu %lu", &inside, &outside, &count) == 3)
    {
      char *next = sb_xasprintf ("%s%lu %lu %lu\n", map, inside, inside, count);
      free (map);
      map = next;
    }
  *out = sb_steal (&map);
  return 0;
}

/* What the outer helper needs: it is forked before the nested user
   namespace exists and stays in the container's first one, where it holds
   the capabilities the init gives up by entering the nested one.  */
typedef struct outer_job
{
  pid_t target;     /* the init, in our pid namespace */
  bool fresh_netns; /* the init creates its network namespace again */
  char *uid_map, *gid_map;
  const sb_isolation_step *restrict_paths;
  int sock;
  pid_t pid;
} outer_job;

/* 'K' (done) or 'E' + the message.  A lost reply reaches the init as EOF,
   which it reports as the helper's failure: nothing to handle here.  */
static void
reply (int sock, const sb_err *err)
{
  _cleanup_free_ char *msg = sb_xasprintf ("%c%s", err ? 'E' : 'K', err ? err->msg : "");
  (void)!send (sock, msg, strlen (msg), MSG_NOSIGNAL);
}

static int
write_maps (const outer_job *j, sb_err **err)
{
  char path[64];

  snprintf (path, sizeof (path), "/proc/%d/uid_map", j->target);
  if (sb_write_file_at (AT_FDCWD, path, j->uid_map, err) < 0)
    return sb_error_wrap (err, "the nested user namespace");
  snprintf (path, sizeof (path), "/proc/%d/gid_map", j->target);
  if (sb_write_file_at (AT_FDCWD, path, j->gid_map, err) < 0)
    return sb_error_wrap (err, "the nested user namespace");
  return 0;
}

static bool
has_sysfs (const sb_spec *spec)
{
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (spec->mounts[i].type && strcmp (spec->mounts[i].type, "sysfs") == 0
        && strcmp (spec->mounts[i].destination, "/sys") == 0)
      return true;
  return false;
}

/* The spec's /sys was mounted in the network namespace the init then
   replaced (recreate_owned_namespaces), which has no interface left: its
   net directories were empty.  The helper may mount here and, from the
   parent user namespace, holds CAP_SYS_ADMIN over the init's new network
   namespace: it mounts a sysfs of that namespace and binds its two net
   directories over the stale ones, before the mount namespace is copied,
   so they are locked with the rest.  Class entries are links into
   devices/virtual/net, which is why both.  */
static int
bind_fresh_net_dirs (int ns, sb_err **err)
{
  static const char *const dirs[] = { "class/net", "devices/virtual/net" };
  static const unsigned long fl = MS_NOSUID | MS_NODEV | MS_NOEXEC;

  if (ns < 0 || setns (ns, CLONE_NEWNET) < 0)
    return sb_error (err, errno, "join the workspace's network namespace");
  if (mkdir (HIDDEN_DIR "/net", 0700) < 0 || mount ("sysfs", HIDDEN_DIR "/net", "sysfs", fl, NULL) < 0)
    return sb_error (err, errno, "mount the sysfs of the workspace's network namespace");
  for (size_t i = 0; i < sizeof (dirs) / sizeof (dirs[0]); i++)
    {
      _cleanup_free_ char *src = sb_xasprintf (HIDDEN_DIR "/net/%s", dirs[i]);
      _cleanup_free_ char *dst = sb_xasprintf ("/sys/%s", dirs[i]);
      if (mount (src, dst, NULL, MS_BIND, NULL) < 0
          || mount (NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | fl, NULL) < 0)
        return sb_error (err, errno, "bind `%s` of the workspace's network namespace", dst);
    }
  if (umount2 (HIDDEN_DIR "/net", MNT_DETACH) < 0)
    return sb_error (err, errno, "unmount `%s/net`", HIDDEN_DIR);
  return 0;
}

/* The helper: writes the nested user namespace's maps (an identity over
   the full range needs CAP_SETUID in the parent), then, once the init has
   configured its namespaces, masks paths and covers HIDDEN_DIR in the
   mount namespace that only the first user namespace may change.  Each
   step starts on a byte from the init and answers 'K' or 'E' + message.  */
_Noreturn static void
outer_helper (outer_job *j)
{
  sb_err *err = NULL;
  int netns = -1;
  char c;

  if (read (j->sock, &c, 1) != 1)
    _exit (1);
  if (write_maps (j, &err) < 0)
    {
      reply (j->sock, err);
      _exit (1);
    }
  reply (j->sock, NULL);
  /* With the init's new network namespace when it made one.  */
  if (sb_recv_fd (j->sock, &netns, &c, 1) != 1)
    _exit (1);
  if ((j->fresh_netns && bind_fresh_net_dirs (netns, &err) < 0)
      || j->restrict_paths->run (j->restrict_paths->arg, &err) < 0 || cover_hidden (&err) < 0)
    {
      reply (j->sock, err);
      _exit (1);
    }
  reply (j->sock, NULL);
  _exit (0);
}

/* Starts a helper step, handing it fd if not -1, and waits for its answer.  */
static int
helper_step (outer_job *j, const char *what, int fd, sb_err **err)
{
  char buf[4096];
  ssize_t n;

  if (sb_send_fd (j->sock, fd, "G", 1) < 0)
    return sb_error (err, errno, "%s: the outer helper", what);
  n = recv (j->sock, buf, sizeof (buf) - 1, 0);
  if (n <= 0)
    return sb_error (err, n < 0 ? errno : 0, "%s: the outer helper exited", what);
  buf[n] = '\0';
  return buf[0] == 'K' ? 0 : sb_error (err, 0, "%s: %s", what, buf + 1);
}

static void
outer_job_release (outer_job *j)
{
  if (j->sock >= 0)
    close (j->sock);
  if (j->pid > 0)
    waitpid (j->pid, NULL, 0);
  free (j->uid_map);
  free (j->gid_map);
}

static int
start_helper (outer_job *j, sb_err **err)
{
  int sv[2];

  if (identity_map ("/proc/self/uid_map", &j->uid_map, err) < 0
      || identity_map ("/proc/self/gid_map", &j->gid_map, err) < 0)
    return -1;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return sb_error (err, errno, "socketpair");
  j->pid = fork ();
  if (j->pid == 0)
    {
      close (sv[0]);
      j->sock = sv[1];
      outer_helper (j);
    }
  close (sv[1]);
  j->sock = sv[0];
  if (j->pid < 0)
    return sb_error (err, errno, "fork the outer helper");
  return 0;
}

/* The init enters the nested user namespace; the helper maps it.  */
static int
enter_nested_userns (outer_job *j, sb_err **err)
{
  /* The init changed its uid when it became root, which made it
     non-dumpable: its /proc files belong to host root then, and the helper
     could not open the map files.  Dumpable only until they are written:
     nothing else of the container runs yet.  */
  prctl (PR_SET_DUMPABLE, 1);
  if (unshare (CLONE_NEWUSER) < 0)
    return sb_error (err, errno, "create the nested user namespace");
  if (helper_step (j, "map the nested user namespace", -1, err) < 0)
    return -1;
  prctl (PR_SET_DUMPABLE, 0);
  return 0;
}

/* The namespaces the container created for itself, created again so that
   the nested user namespace owns them (see the top of the file).  The
   copies keep what they hold (the hostname); the mount namespace comes
   last, once the helper has masked paths: its copy locks every mount.  */
static int
recreate_owned_namespaces (const sb_spec *spec, bool mounts, sb_err **err)
{
  static const enum sb_ns_kind kinds[] = { SB_NS_UTS, SB_NS_IPC, SB_NS_NETWORK, SB_NS_CGROUP };
  int flags = 0;

  if (mounts)
    flags = CLONE_NEWNS;
  else
    for (size_t i = 0; i < sizeof (kinds) / sizeof (kinds[0]); i++)
      if (spec->linux.namespaces[kinds[i]].present && spec->linux.namespaces[kinds[i]].path == NULL)
        flags |= sb_ns_clone_flag (kinds[i]);
  if (flags && unshare (flags) < 0)
    return sb_error (err, errno, "create the namespaces of the nested user namespace (0x%x)", flags);
  return 0;
}

static int
system_seal (const sb_spec *spec, const sb_isolation_step *configure, const sb_isolation_step *restrict_paths,
             sb_err **err)
{
  const sb_namespace *net = &spec->linux.namespaces[SB_NS_NETWORK];
  _cleanup_close_ int netns = -1;
  outer_job j __attribute__ ((cleanup (outer_job_release)))
  = { .target = getpid (),
      .fresh_netns = net->present && net->path == NULL && has_sysfs (spec),
      .restrict_paths = restrict_paths,
      .sock = -1 };

  if (drop_hybrid_unified (err) < 0 || mount_hidden (err) < 0 || start_helper (&j, err) < 0
      || enter_nested_userns (&j, err) < 0)
    return -1;
  if (recreate_owned_namespaces (spec, false, err) < 0 || configure->run (configure->arg, err) < 0)
    return -1;
  if (j.fresh_netns)
    {
      netns = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
      if (netns < 0)
        return sb_error (err, errno, "open the workspace's network namespace");
    }
  if (helper_step (&j, "masked and read-only paths", netns, err) < 0)
    return -1;
  return recreate_owned_namespaces (spec, true, err);
}

const sb_isolation_ops sb_isolation_system_ops = {
  .prepare = system_prepare,
  .exec_prepare = add_sysinfo,
  .cgroup_created = system_cgroup_created,
  .init_dir = SB_PROCFS_DIR,
  .mounts_built = sb_procfs_bind,
  .seal = system_seal,
  .teardown = sb_procfs_stop,
};
