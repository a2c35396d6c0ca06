#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/keyctl.h>

#include "console.h"
#include "hooks.h"
#include "mounts.h"
#include "namespaces.h"
#include "sync.h"
#include "util.h"

_Noreturn static void
fail (int sync, sb_err *err)
{
  sb_sync_send (sync, SB_SYNC_ERROR, 0, -1, err && err->msg ? err->msg : "unknown error");
  _exit (1);
}

static int
become_root (sb_err **err)
{
  if (syscall (SYS_setresgid, 0, 0, 0) < 0 || syscall (SYS_setresuid, 0, 0, 0) < 0)
    return sb_error (err, errno, "become root in the user namespace (is id 0 mapped?)");
  if (setgroups (0, NULL) < 0 && errno != EPERM)
    return sb_error (err, errno, "setgroups");
  return 0;
}

/* Receives the detached mounts the runtime prepared for this container.  */
static int
receive_premounts (sb_init_ctx *ctx, int *rootfs_fd, int *fds, sb_err **err)
{
  sb_sync_msg go;

  /* Stage 1 reports our pid on the same socket: speak only once the
     runtime has it, or our message could overtake it.  */
  if (sb_sync_expect (ctx->sync, SB_SYNC_GO, &go, err) < 0)
    return -1;
  if (sb_sync_send (ctx->sync, SB_SYNC_MOUNTS, 0, -1, NULL) < 0)
    return sb_error (err, errno, "sync");
  for (;;)
    {
      sb_sync_msg m;
      if (sb_sync_recv (ctx->sync, &m, err) < 0)
        return -1;
      if (m.type == SB_SYNC_GO)
        return 0;
      if (m.type != SB_SYNC_PREMOUNT || m.value < -1 || m.value >= (int32_t)ctx->spec->n_mounts)
        {
          sb_sync_msg_release (&m);
          return sb_error (err, 0, "protocol error while receiving mounts");
        }
      if (m.value == -1)
        *rootfs_fd = m.fd;
      else
        fds[m.value] = m.fd;
      m.fd = -1;
      sb_sync_msg_release (&m);
    }
}

static int
bind_console (int slave, sb_err **err)
{
  char src[64];
  _cleanup_close_ int fd = open ("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return sb_error (err, errno, "create /dev/console");
  snprintf (src, sizeof (src), "/proc/self/fd/%d", slave);
  if (mount (src, "/dev/console", NULL, MS_BIND, NULL) < 0)
    return sb_error (err, errno, "bind the terminal onto /dev/console");
  return 0;
}

static int
setup_console (sb_init_ctx *ctx, sb_err **err)
{
  const sb_process *p = ctx->spec->process;
  _cleanup_close_ int master = -1, slave = -1;

  if (sb_console_open (&master, &slave, p->has_console_size ? p->console_height : 0,
                       p->has_console_size ? p->console_width : 0, err)
      < 0)
    return -1;
  if (bind_console (slave, err) < 0)
    return -1;
  if (sb_sync_send (ctx->sync, SB_SYNC_CONSOLE, 0, master, NULL) < 0)
    return sb_error (err, errno, "send the terminal to the runtime");
  return sb_console_make_controlling (slave, err);
}

/* The largest gid mapped in our user namespace.  */
static int
max_mapped_gid (unsigned long *out, sb_err **err)
{
  _cleanup_fclose_ FILE *f = fopen ("/proc/self/gid_map", "re");
  unsigned long inside, outside, count;

  if (f == NULL)
    return sb_error (err, errno, "open /proc/self/gid_map");
  *out = 0;
  while (fscanf (f, "%lu %lu %lu", &inside, &outside, &count) == 3)
    if (count > 0 && inside + count - 1 > *out)
      *out = inside + count - 1;
  return 0;
}

/* Docker asks for net.ipv4.ping_group_range "0 2147483647" (every group).
   In a user namespace the kernel refuses bounds that are not mapped gids:
   every group there is a mapped one, so the range ends at the last.  */
static int
write_ping_group_range (const char *path, const char *value, sb_err **err)
{
  unsigned long low, high, max = 0;
  _cleanup_free_ char *clamped = NULL;

  if (sscanf (value, "%lu %lu", &low, &high) != 2 || max_mapped_gid (&max, err) < 0)
    return -1;
  if (high <= max || low > max)
    return -1;
  clamped = sb_xasprintf ("%lu %lu", low, max);
  return sb_write_file_at (AT_FDCWD, path, clamped, err);
}

static int
apply_sysctls (const sb_init_ctx *ctx, sb_err **err)
{
  const sb_spec *spec = ctx->spec;

  for (size_t i = 0; i < spec->linux.n_sysctl; i++)
    {
      const char *key = spec->linux.sysctl[i].key, *value = spec->linux.sysctl[i].value;
      _cleanup_free_ char *path = sb_xasprintf ("/proc/sys/%s", key);
      _cleanup_err_ sb_err *first = NULL;
      for (char *c = path + strlen ("/proc/sys/"); *c; c++)
        if (*c == '.')
          *c = '/';
      if (sb_write_file_at (AT_FDCWD, path, value, &first) == 0)
        continue;
      if (first->errnum == EINVAL && ctx->userns && strcmp (key, "net.ipv4.ping_group_range") == 0
          && write_ping_group_range (path, value, NULL) == 0)
        continue;
      return sb_error (err, 0, "linux.sysctl \"%s\": %s", key, first->msg);
    }
  return 0;
}

static int
apply_uts (const sb_spec *spec, sb_err **err)
{
  if (spec->hostname && sethostname (spec->hostname, strlen (spec->hostname)) < 0)
    return sb_error (err, errno, "hostname: sethostname \"%s\"", spec->hostname);
  if (spec->domainname && setdomainname (spec->domainname, strlen (spec->domainname)) < 0)
    return sb_error (err, errno, "domainname: setdomainname \"%s\"", spec->domainname);
  return 0;
}

static int
configure_step (void *arg, sb_err **err)
{
  const sb_init_ctx *ctx = arg;
  return apply_uts (ctx->spec, err) < 0 || apply_sysctls (ctx, err) < 0 ? -1 : 0;
}

static int
restrict_step (void *arg, sb_err **err)
{
  return sb_mounts_restrict (arg, err);
}

/* The hostname, sysctls, then the masked and read-only paths; an isolation
   mode may run them around namespaces of its own.  */
static int
finish_namespaces (sb_init_ctx *ctx, sb_mount_ctx *mctx, sb_err **err)
{
  sb_isolation_step configure = { configure_step, ctx }, restrict_paths = { restrict_step, mctx };

  if (ctx->iso->seal)
    return ctx->iso->seal (ctx->spec, &configure, &restrict_paths, err);
  if (configure.run (configure.arg, err) < 0)
    return -1;
  return restrict_paths.run (restrict_paths.arg, err);
}

/* Everything up to the point where the container is "created".  */
static int
build_container (sb_init_ctx *ctx, char **state_json, sb_err **err)
{
  const sb_spec *spec = ctx->spec;
  _cleanup_free_ int *premounts = sb_xmalloc0 ((spec->n_mounts + 1) * sizeof (int));
  int rootfs_fd = -1;
  sb_mount_ctx mctx;
  sb_sync_msg m;
  int ret;

  for (size_t i = 0; i < spec->n_mounts; i++)
    premounts[i] = -1;
  if (receive_premounts (ctx, &rootfs_fd, premounts, err) < 0)
    return -1;
  mctx = (sb_mount_ctx){ .spec = spec,
                         .rootfs = ctx->rootfs,
                         .rootfs_dir = ctx->rootfs_dir,
                         .root_mount = -1,
                         .rootfs_premount = rootfs_fd,
                         .premounts = premounts,
                         .userns = ctx->userns,
                         .console_slave = -1,
                         .cgroup_path = ctx->cgroup_path,
                         .cgroup_unified = ctx->cgroup_unified,
                         .no_pivot = ctx->opts->no_pivot };
  ret = sb_mounts_setup (&mctx, err);
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (premounts[i] >= 0)
      close (premounts[i]);
  if (rootfs_fd >= 0)
    close (rootfs_fd);
  if (ret == 0 && ctx->iso->mounts_built)
    ret = ctx->iso->mounts_built (ctx->iso_dirfd, mctx.root_mount, err);
  if (ctx->iso_dirfd >= 0)
    close (ctx->iso_dirfd);
  ctx->iso_dirfd = -1;
  if (ret < 0)
    return -1;
  if (sb_sync_send (ctx->sync, SB_SYNC_HOOKS, 0, -1, NULL) < 0)
    return sb_error (err, errno, "sync");
  if (sb_sync_expect (ctx->sync, SB_SYNC_STATE, &m, err) < 0)
    return -1;
  *state_json = sb_steal (&m.payload);
  sb_sync_msg_release (&m);
  if (sb_hooks_run (SB_HOOK_CREATE_CONTAINER, spec->hooks[SB_HOOK_CREATE_CONTAINER],
                    spec->n_hooks[SB_HOOK_CREATE_CONTAINER], *state_json, err)
      < 0)
    return -1;
  /* The runtime connected to the seccomp listener: the container's root
     could not reach it (a host path, below directories closed to it).  */
  ctx->plan->state_json = *state_json;
  if (sb_mounts_enter_root (&mctx, err) < 0)
    return -1;
  if (spec->process->terminal && setup_console (ctx, err) < 0)
    return -1;
  if (finish_namespaces (ctx, &mctx, err) < 0)
    return -1;
  if (!ctx->opts->no_new_keyring && syscall (SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0
      && errno != ENOSYS)
    return sb_error (err, errno, "create a session keyring");
  if (sb_process_set_rlimits (spec->process, err) < 0)
    return -1;
  return sb_process_resolve (ctx->plan, err);
}

/* Blocks until `start` connects; returns the connection.  */
static int
wait_for_start (int listen_fd)
{
  int conn;
  char c;
  do
    conn = accept4 (listen_fd, NULL, NULL, SOCK_CLOEXEC);
  while (conn < 0 && errno == EINTR);
  if (conn < 0 || read (conn, &c, 1) != 1)
    _exit (1);
  return conn;
}

_Noreturn static void
stage2 (sb_init_ctx *ctx)
{
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_free_ char *state_json = NULL;
  sb_sync_msg go;
  int conn;

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (build_container (ctx, &state_json, &err) < 0)
    fail (ctx->sync, err);
  if (sb_sync_send (ctx->sync, SB_SYNC_CREATED, 0, -1, NULL) < 0)
    _exit (1);
  /* Once the runtime has recorded the container it exits; the init must not
     die with it.  Before that, it must.  */
  if (sb_sync_expect (ctx->sync, SB_SYNC_GO, &go, &err) < 0)
    _exit (1);
  prctl (PR_SET_PDEATHSIG, 0);
  if (sb_sync_send (ctx->sync, SB_SYNC_DETACHED, 0, -1, NULL) < 0)
    _exit (1);
  close (ctx->sync);
  conn = wait_for_start (ctx->listen_fd);
  close (ctx->listen_fd);
  if (sb_hooks_run (SB_HOOK_START_CONTAINER, ctx->spec->hooks[SB_HOOK_START_CONTAINER],
                    ctx->spec->n_hooks[SB_HOOK_START_CONTAINER], state_json, &err)
      == 0)
    sb_process_exec (ctx->plan, &err);
  /* Only failures reach this point: `start` reports the message.  */
  sb_write_all (conn, err->msg, strlen (err->msg));
  _exit (127);
}

/* The runtime's fd of the rootfs belongs to the host's mount namespace;
   mounts need it in ours.  Still host uid 0 (before become_root), so the
   root-owned 0700 directories above the rootfs (and the state directory,
   for the isolation mode's directory) can be searched.  */
static int
reopen_rootfs (sb_init_ctx *ctx, sb_err **err)
{
  int fd = open (ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return sb_error (err, errno, "open the rootfs `%s` in the container's mount namespace", ctx->rootfs);
  close (ctx->rootfs_dir);
  ctx->rootfs_dir = fd;
  if (ctx->iso_dir == NULL)
    return 0;
  ctx->iso_dirfd = open (ctx->iso_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (ctx->iso_dirfd < 0)
    return sb_error (err, errno, "open `%s` in the container's mount namespace", ctx->iso_dir);
  return 0;
}

_Noreturn void
sb_init_stage1 (sb_init_ctx *ctx)
{
  _cleanup_err_ sb_err *err = NULL;
  sb_sync_msg m;
  pid_t pid;

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  /* A flock belongs to the open file: our copy would keep the container
     locked until we exec, and `start` needs that lock.  */
  close (ctx->lock_fd);
  if (sb_sync_expect (ctx->sync, SB_SYNC_GO, &m, &err) < 0)
    _exit (1);
  if (sb_ns_join_user (ctx->spec, &err) < 0)
    fail (ctx->sync, err);
  /* Namespaces given by path (podman's and CNI's network namespace, a pod's)
     belong to the host's user namespace: join them while we still hold
     CAP_SYS_ADMIN there, before creating ours (runc's order too).  */
  if (sb_ns_join_paths (ctx->spec, &err) < 0)
    fail (ctx->sync, err);
  if (ctx->userns_new)
    {
      if (unshare (CLONE_NEWUSER) < 0)
        {
          sb_error (&err, errno, "create a user namespace");
          fail (ctx->sync, err);
        }
      if (sb_sync_send (ctx->sync, SB_SYNC_USERNS, 0, -1, NULL) < 0
          || sb_sync_expect (ctx->sync, SB_SYNC_GO, &m, &err) < 0)
        _exit (1);
    }
  if (unshare (sb_ns_new_flags (ctx->spec)) < 0)
    {
      sb_error (&err, errno, "create namespaces");
      fail (ctx->sync, err);
    }
  if (reopen_rootfs (ctx, &err) < 0 || (ctx->userns && become_root (&err) < 0))
    fail (ctx->sync, err);
  if (sb_ns_set_time_offsets (ctx->spec, &err) < 0)
    fail (ctx->sync, err);
  /* CLONE_PARENT: the init becomes the runtime's child, so `run` can wait
     for it and a caller that is a subreaper (shims, conmon) inherits it.  */
  pid = (pid_t)syscall (SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
  if (pid < 0)
    {
      sb_error (&err, errno, "fork the container's init");
      fail (ctx->sync, err);
    }
  if (pid == 0)
    stage2 (ctx);
  sb_sync_send (ctx->sync, SB_SYNC_PID, pid, -1, NULL);
  _exit (0);
}

/* Waits for GO, joining the v1 cgroups whose `tasks` files come first:
   "0" moves this thread, the whole process while it is single-threaded as
   a fresh clone is.  A failed join goes to *join_err, reported once the
   runtime, past GO, listens.  */
static int
await_go (sb_init_ctx *ctx, sb_err **join_err, sb_err **err)
{
  for (;;)
    {
      sb_sync_msg m;
      bool go;

      if (sb_sync_recv (ctx->sync, &m, err) < 0)
        return -1;
      go = m.type == SB_SYNC_GO;
      if (!go && (m.type != SB_SYNC_CGROUP || m.fd < 0))
        {
          sb_sync_msg_release (&m);
          return sb_error (err, 0, "protocol error while joining the cgroup");
        }
      if (!go && write (m.fd, "0", 1) != 1)
        sb_error (join_err, errno, "join the container's cgroup");
      sb_sync_msg_release (&m);
      if (go)
        return 0;
    }
}

_Noreturn void
sb_init_direct (sb_init_ctx *ctx)
{
  _cleanup_err_ sb_err *err = NULL;

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  close (ctx->lock_fd); /* see sb_init_stage1 */
  if (await_go (ctx, &err, NULL) < 0)
    _exit (1);
  if (err != NULL)
    fail (ctx->sync, err);
  if ((sb_ns_new_flags (ctx->spec) & CLONE_NEWCGROUP) && unshare (CLONE_NEWCGROUP) < 0)
    {
      sb_error (&err, errno, "create the cgroup namespace");
      fail (ctx->sync, err);
    }
  if (reopen_rootfs (ctx, &err) < 0 || (ctx->userns && become_root (&err) < 0))
    fail (ctx->sync, err);
  stage2 (ctx);
}
