#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "console.h"
#include "hooks.h"
#include "idmap.h"
#include "idrange.h"
#include "init.h"
#include "isolation.h"
#include "microvm-oci.h"
#include "log.h"
#include "namespaces.h"
#include "process.h"
#include "selfexe.h"
#include "sync.h"
#include "util.h"

/* What create has built so far, undone in reverse on failure.  */
typedef struct creation
{
  const sb_create_opts *o;
  sb_spec *spec;
  char *config_json;
  char *rootfs;
  char *state_dir;
  bool state_made, range_taken, userns_auto, userns_new;
  bool cg_made;      /* c->cg's directories exist */
  bool idmap_mounts; /* rootfs and bind mounts idmapped into the user namespace */
  uint32_t id_first;
  sb_idmap auto_map;
  sb_cgroup *cg;
  enum sb_cgroup_mode cg_mode;
  sb_exec_plan plan;
  int sync;
  int listen_fd;
  int rootfs_dir;
  int lock_fd; /* the flocked state directory, held while creating */
  pid_t stage1, init;
  bool stage1_in_cgroup; /* born there by clone3: no migration needed */
  bool direct;           /* the init was cloned straight into its namespaces */
  int console_master;    /* kept for a foreground run with a terminal */
  bool keep_console;
  sb_isolation isolation;
  const sb_isolation_ops *iso; /* what the isolation mode adds */
} creation;

static const char *
annotation_is (const sb_spec *spec, const char *key, const char *value)
{
  const char *v = sb_spec_annotation (spec, key);
  return v && strcmp (v, value) == 0 ? v : NULL;
}

static const char *const isolation_names[] = {
  [SB_ISOLATION_USERNS] = "userns",
  [SB_ISOLATION_SYSTEM] = "system",
  [SB_ISOLATION_MICROVM] = "microvm",
};

const char *
sb_isolation_name (sb_isolation mode)
{
  return isolation_names[mode];
}

int
sb_isolation_parse (const char *what, const char *name, sb_isolation *mode, sb_err **err)
{
  for (size_t i = 0; i < sizeof isolation_names / sizeof *isolation_names; i++)
    if (strcmp (name, isolation_names[i]) == 0)
      {
        *mode = (sb_isolation)i;
        return 0;
      }
  return sb_error (err, 0, "%s: unknown isolation \"%s\" (userns, system or microvm)", what, name);
}

int
sb_spec_isolation (const sb_spec *spec, sb_isolation *mode, sb_err **err)
{
  const char *v = sb_spec_annotation (spec, SB_ANNOT_ISOLATION);

  *mode = SB_ISOLATION_USERNS;
  if (v == NULL)
    return 0;
  return sb_isolation_parse ("annotation " SB_ANNOT_ISOLATION, v, mode, err);
}

bool
sb_spec_needs_sealed_runtime (const sb_spec *spec)
{
  const sb_namespace *user = &spec->linux.namespaces[SB_NS_USER];

  if (!user->present)
    return annotation_is (spec, SB_ANNOT_USERNS, "host") != NULL;
  if (user->path != NULL)
    return true;
  for (size_t i = 0; i < spec->linux.n_uid_mappings; i++)
    {
      const sb_idmap *m = &spec->linux.uid_mappings[i];
      if (m->host_id == 0 || (uint64_t)m->host_id + m->size > UINT32_MAX)
        return true;
    }
  return false;
}

static void
creation_undo (creation *c)
{
  if (c->init > 0)
    {
      kill (c->init, SIGKILL);
      waitpid (c->init, NULL, 0);
    }
  if (c->stage1 > 0)
    {
      kill (c->stage1, SIGKILL);
      waitpid (c->stage1, NULL, 0);
    }
  if (c->cg_made)
    sb_cgroup_destroy (c->cg, NULL);
  if (c->state_made)
    sb_isolation_teardown (c->state_dir, NULL);
  if (c->range_taken)
    sb_idrange_free (c->o->root, c->o->id, NULL);
  if (c->state_made)
    sb_state_remove (c->o->root, c->o->id, NULL);
}

static void
creation_release (creation *c)
{
  if (c->sync >= 0)
    close (c->sync);
  if (c->listen_fd >= 0)
    close (c->listen_fd);
  if (c->rootfs_dir >= 0)
    close (c->rootfs_dir);
  if (c->plan.seccomp_listener >= 0)
    close (c->plan.seccomp_listener);
  if (c->console_master >= 0)
    close (c->console_master);
  sb_exec_plan_release (&c->plan);
  if (c->cg)
    sb_cgroup_free (c->cg);
  sb_spec_free (c->spec);
  free (c->config_json);
  free (c->rootfs);
  free (c->state_dir);
}

static int
resolve_rootfs (creation *c, sb_err **err)
{
  _cleanup_free_ char *joined = NULL;
  char real[PATH_MAX];
  struct stat st;

  joined = c->spec->root_path[0] == '/' ? sb_xstrdup (c->spec->root_path)
                                        : sb_xasprintf ("%s/%s", c->o->bundle, c->spec->root_path);
  if (realpath (joined, real) == NULL)
    return sb_error (err, errno, "root.path `%s`", joined);
  if (stat (real, &st) < 0 || !S_ISDIR (st.st_mode))
    return sb_error (err, ENOTDIR, "root.path `%s`", real);
  c->rootfs = sb_xstrdup (real);
  c->rootfs_dir = open (real, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (c->rootfs_dir < 0)
    return sb_error (err, errno, "root.path `%s`", real);
  return 0;
}

/* Files that root writes inside through an idmapped rootfs are stored as
   host root.  They must not be reachable by unprivileged host users, or a
   setuid-root binary planted inside could be run from the host: some
   directory on the way must be closed to "other" (and to groups other than
   root).  */
static int
check_rootfs_private (creation *c, sb_err **err)
{
  _cleanup_free_ char *p = sb_xstrdup (c->rootfs);

  if (annotation_is (c->spec, SB_ANNOT_SHARED_ROOTFS, "true"))
    return 0;
  for (;;)
    {
      struct stat st;
      char *slash;
      if (stat (*p ? p : "/", &st) == 0 && st.st_uid == 0 && !(st.st_mode & S_IXOTH)
          && (!(st.st_mode & S_IXGRP) || st.st_gid == 0))
        return 0;
      slash = strrchr (p, '/');
      if (slash == NULL || *p == '\0')
        break;
      *slash = '\0';
    }
  return sb_error (err, 0,
                   "root.path `%s` is reachable by unprivileged host users: files root writes inside the "
                   "container would be owned by host root there; put the bundle below a directory of mode "
                   "0700 or set the annotation %s=true",
                   c->rootfs, SB_ANNOT_SHARED_ROOTFS);
}

static int
plan_userns (creation *c, sb_err **err)
{
  sb_namespace *user = &c->spec->linux.namespaces[SB_NS_USER];
  sb_idpool pool;

  if (user->present)
    {
      c->userns_new = user->path == NULL;
      if (c->userns_new && (c->spec->linux.n_uid_mappings == 0 || c->spec->linux.n_gid_mappings == 0))
        return sb_error (err, 0,
                         "linux.uidMappings and linux.gidMappings are required with a new user namespace");
      c->idmap_mounts = annotation_is (c->spec, SB_ANNOT_IDMAP, "true") != NULL;
      return c->idmap_mounts ? check_rootfs_private (c, err) : 0;
    }
  if (annotation_is (c->spec, SB_ANNOT_USERNS, "host"))
    return 0;
  if (sb_idpool_default (&pool, err) < 0
      || sb_idrange_alloc (c->o->root, &pool, c->o->id, &c->id_first, err) < 0)
    return -1;
  c->range_taken = true;
  c->userns_auto = c->userns_new = c->idmap_mounts = true;
  c->auto_map = (sb_idmap){ .container_id = 0, .host_id = c->id_first, .size = SB_IDRANGE_SIZE };
  return check_rootfs_private (c, err);
}

static int
validate (creation *c, sb_err **err)
{
  const sb_spec *spec = c->spec;

  if (spec->process == NULL)
    return sb_error (err, 0, "process: required to create a container");
  /* The runtime's --isolation wins over the spec's annotation: it is a
     RuntimeClass handler, the administrator's choice, which a pod author
     must not be able to change.  */
  if (c->o->isolation ? sb_isolation_parse ("--isolation", c->o->isolation, &c->isolation, err) < 0
                      : sb_spec_isolation (spec, &c->isolation, err) < 0)
    return -1;
  c->iso = sb_isolation_ops_get (c->isolation, err);
  if (c->iso == NULL || (c->iso->prepare && c->iso->prepare (c->spec, c->o, err) < 0))
    return -1;
  if (!spec->linux.namespaces[SB_NS_MOUNT].present)
    return sb_error (err, 0, "linux.namespaces: a mount namespace is required");
  if (spec->process->terminal && c->o->console_socket == NULL && !c->keep_console)
    return sb_error (err, 0, "process.terminal is true: a --console-socket is required when detached");
  if (sb_ns_check_paths (spec, err) < 0)
    return -1;
  if (sb_exec_plan_init (&c->plan, spec->process, spec->linux.seccomp, err) < 0)
    return -1;
  c->plan.preserve_fds = c->o->preserve_fds;
  c->plan.personality_domain = spec->linux.has_personality ? spec->linux.personality_domain : NULL;
  if (sb_cgroup_detect (&c->cg_mode, err) < 0)
    return -1;
  if (spec->linux.resources && sb_cgroup_validate (spec->linux.resources, c->cg_mode, err) < 0)
    return -1;
  return resolve_rootfs (c, err);
}

/* Connected by the runtime, as host root (the container cannot reach host
   paths), once the isolation mode has started what may be listening; the
   init inherits the connection.  */
static int
connect_listener (creation *c, sb_err **err)
{
  const sb_seccomp *s = c->spec->linux.seccomp;

  if (s == NULL || s->listener_path == NULL)
    return 0;
  c->plan.seccomp_listener = sb_unix_connect (s->listener_path, err);
  return c->plan.seccomp_listener < 0 ? sb_error_wrap (err, "linux.seccomp.listenerPath") : 0;
}

static char *
owner_name (void)
{
  struct passwd *pw;
  if (geteuid () == 0)
    return sb_xstrdup ("");
  pw = getpwuid (geteuid ());
  return sb_xstrdup (pw ? pw->pw_name : "");
}

static sb_state *
new_state (creation *c, sb_status status)
{
  size_t n = c->spec->n_annotations;
  sb_state *st = sb_xmalloc0 (sizeof (*st));

  st->id = sb_xstrdup (c->o->id);
  st->pid = c->init;
  sb_proc_start_time (c->init, &st->pid_start);
  st->status = status;
  st->bundle = sb_xstrdup (c->o->bundle);
  st->rootfs = sb_xstrdup (c->rootfs);
  st->created = sb_now_rfc3339 ();
  st->owner = owner_name ();
  st->cgroup_path = c->cg ? sb_xstrdup (sb_cgroup_path (c->cg)) : NULL;
  st->userns_auto = c->userns_auto;
  st->id_first = c->id_first;
  st->isolation = sb_xstrdup (sb_isolation_name (c->isolation));
  st->config_json = sb_xstrdup (c->config_json);
  st->annotations_kv = sb_xmalloc0 ((2 * n + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    {
      st->annotations_kv[2 * i] = sb_xstrdup (c->spec->annotations[i].key);
      st->annotations_kv[2 * i + 1] = sb_xstrdup (c->spec->annotations[i].value);
    }
  return st;
}

/* A user namespace with the given maps, for mounts that bring their own
   idmap: a short-lived child holds it while its fd is opened.  */
static int
userns_for_maps (const sb_mount *m, sb_err **err)
{
  int pipefd[2];
  char path[64];
  pid_t pid;
  int fd = -1;

  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return sb_error (err, errno, "pipe");
  pid = fork ();
  if (pid == 0)
    {
      char c;
      close (pipefd[1]);
      if (unshare (CLONE_NEWUSER) < 0)
        _exit (1);
      _exit (read (pipefd[0], &c, 1) < 0);
    }
  close (pipefd[0]);
  if (pid < 0)
    {
      close (pipefd[1]);
      return sb_error (err, errno, "fork");
    }
  /* The child must have unshared before its maps are written: retry until
     /proc/PID/ns/user differs from ours.  */
  for (int tries = 0; tries < 1000 && fd < 0; tries++)
    {
      struct stat a, b;
      snprintf (path, sizeof (path), "/proc/%d/ns/user", pid);
      if (stat (path, &a) == 0 && stat ("/proc/self/ns/user", &b) == 0 && a.st_ino != b.st_ino)
        {
          if (sb_ns_write_maps (pid, m->uid_mappings, m->n_uid_mappings, m->gid_mappings, m->n_gid_mappings,
                                err)
              == 0)
            fd = open (path, O_RDONLY | O_CLOEXEC);
          break;
        }
      usleep (100);
    }
  close (pipefd[1]);
  waitpid (pid, NULL, 0);
  if (fd < 0)
    return sb_error (err, errno, "user namespace for an idmapped mount");
  return fd;
}

/* A plain detached copy of a bind source, made as host root so the
   container's init, which cannot search host directories, need not.  */
static int
clone_source (const sb_mount *m, size_t i, int *fd, sb_err **err)
{
  *fd = open_tree (AT_FDCWD, m->source,
                   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m->recursive ? AT_RECURSIVE : 0));
  if (*fd < 0)
    return sb_error (err, errno, "mounts[%zu]: bind source `%s`", i, m->source);
  return 0;
}

/* The detached mount the init attaches for spec mount i, if it needs one:
 *fd = -1 when the init mounts it itself.  */
static int
premount_for (creation *c, size_t i, int userns_fd, int *fd, sb_err **err)
{
  const sb_mount *m = &c->spec->mounts[i];
  _cleanup_close_ int own_ns = -1;
  _cleanup_err_ sb_err *local = NULL;

  *fd = -1;
  if (!m->idmap && !m->bind)
    return 0;
  if (m->source == NULL)
    return sb_error (err, 0, "mounts[%zu]: an idmapped or bind mount needs a source", i);
  if (!m->idmap && !c->idmap_mounts)
    return clone_source (m, i, fd, err);
  if (m->idmap && m->n_uid_mappings > 0)
    {
      own_ns = userns_for_maps (m, err);
      if (own_ns < 0)
        return -1;
      userns_fd = own_ns;
    }
  if (userns_fd < 0)
    return sb_error (err, 0, "mounts[%zu]: \"idmap\" needs a user namespace or its own mappings", i);
  *fd = sb_idmap_tree (m->source, userns_fd, m->recursive, m->idmap ? err : &local);
  if (*fd < 0 && m->idmap)
    return sb_error_wrap (err, "mounts[%zu]", i);
  /* A filesystem that cannot be idmapped (procfs, sysfs, another overlay)
     is bound as it is: its files then show as nobody inside.  */
  if (*fd < 0)
    {
      sb_debug ("mounts[%zu]: %s: bound without idmap", i, local->msg);
      return clone_source (m, i, fd, err);
    }
  return 0;
}

/* The host id that container id 0 maps to (overlayfs writes with it).  */
static uint32_t
root_host_id (const creation *c, const sb_idmap *maps, size_t n)
{
  if (c->userns_auto)
    return c->id_first;
  for (size_t i = 0; i < n; i++)
    if (maps[i].container_id == 0)
      return maps[i].host_id;
  return 0;
}

/* The rootfs given as layers by annotation: 0 with *fd = -1 when absent.  */
static int
annotated_overlay (creation *c, int userns_fd, int *fd, sb_err **err)
{
  const char *lower = sb_spec_annotation (c->spec, SB_ANNOT_OVERLAY_LOWER);
  const char *upper = sb_spec_annotation (c->spec, SB_ANNOT_OVERLAY_UPPER);
  const char *work = sb_spec_annotation (c->spec, SB_ANNOT_OVERLAY_WORK);
  _cleanup_free_ char *up = NULL, *wk = NULL, *copy = NULL;
  _cleanup_strv_ char **layers = NULL;
  char *save = NULL;

  *fd = -1;
  if (lower == NULL)
    return 0;
  if ((upper == NULL) != (work == NULL))
    return sb_error (err, 0, "annotations: %s and %s go together", SB_ANNOT_OVERLAY_UPPER,
                     SB_ANNOT_OVERLAY_WORK);
  copy = sb_xstrdup (lower);
  for (char *l = strtok_r (copy, ":", &save); l; l = strtok_r (NULL, ":", &save))
    sb_strv_append (&layers, l);
  if (layers == NULL)
    return sb_error (err, 0, "annotations: %s is empty", SB_ANNOT_OVERLAY_LOWER);
  up = sb_xstrdup (upper);
  wk = sb_xstrdup (work);
  *fd = sb_idmap_overlay_layers (
      layers, up, wk, userns_fd, root_host_id (c, c->spec->linux.uid_mappings, c->spec->linux.n_uid_mappings),
      root_host_id (c, c->spec->linux.gid_mappings, c->spec->linux.n_gid_mappings), err);
  return *fd < 0 ? sb_error_wrap (err, "annotations: %s", SB_ANNOT_OVERLAY_LOWER) : 0;
}

static int
send_premounts (creation *c, sb_err **err)
{
  _cleanup_close_ int userns_fd = -1;
  sb_sync_msg m;

  if (sb_sync_expect (c->sync, SB_SYNC_MOUNTS, &m, err) < 0)
    return -1;
  if (c->userns_new || c->spec->linux.namespaces[SB_NS_USER].present)
    {
      char path[64];
      snprintf (path, sizeof (path), "/proc/%d/ns/user", c->init);
      userns_fd = open (path, O_RDONLY | O_CLOEXEC);
      if (userns_fd < 0)
        return sb_error (err, errno, "open `%s`", path);
    }
  if (c->idmap_mounts)
    {
      _cleanup_close_ int fd = -1;
      if (annotated_overlay (c, userns_fd, &fd, err) < 0
          || (fd < 0
              && sb_idmap_overlay (
                     c->rootfs, userns_fd,
                     root_host_id (c, c->spec->linux.uid_mappings, c->spec->linux.n_uid_mappings),
                     root_host_id (c, c->spec->linux.gid_mappings, c->spec->linux.n_gid_mappings), &fd, err)
                     < 0))
        return -1;
      if (fd < 0)
        fd = sb_idmap_tree (c->rootfs, userns_fd, true, err);
      if (fd < 0)
        return sb_error_wrap (err, "root.path");
      if (sb_sync_send (c->sync, SB_SYNC_PREMOUNT, -1, fd, NULL) < 0)
        return sb_error (err, errno, "sync");
    }
  for (size_t i = 0; i < c->spec->n_mounts; i++)
    {
      _cleanup_close_ int fd = -1;
      if (premount_for (c, i, userns_fd, &fd, err) < 0)
        return -1;
      if (fd >= 0 && sb_sync_send (c->sync, SB_SYNC_PREMOUNT, (int32_t)i, fd, NULL) < 0)
        return sb_error (err, errno, "sync");
    }
  return sb_sync_send (c->sync, SB_SYNC_GO, 0, -1, NULL) < 0 ? sb_error (err, errno, "sync") : 0;
}

static int
record_state (creation *c, sb_status status, sb_err **err)
{
  _cleanup_state_ sb_state *st = new_state (c, status);
  return sb_state_write (c->o->root, st, err);
}

static int
run_create_hooks (creation *c, sb_err **err)
{
  _cleanup_state_ sb_state *st = NULL;
  _cleanup_free_ char *json = NULL;
  sb_sync_msg m;
  int ret;

  if (sb_sync_expect (c->sync, SB_SYNC_HOOKS, &m, err) < 0)
    return -1;
  st = new_state (c, SB_STATUS_CREATING);
  json = sb_state_to_oci_json (st, SB_STATUS_CREATING);
  ret = sb_hooks_run (SB_HOOK_PRESTART, c->spec->hooks[SB_HOOK_PRESTART], c->spec->n_hooks[SB_HOOK_PRESTART],
                      json, err);
  if (ret == 0)
    ret = sb_hooks_run (SB_HOOK_CREATE_RUNTIME, c->spec->hooks[SB_HOOK_CREATE_RUNTIME],
                        c->spec->n_hooks[SB_HOOK_CREATE_RUNTIME], json, err);
  if (ret < 0)
    return -1;
  return sb_sync_send (c->sync, SB_SYNC_STATE, 0, -1, json) < 0 ? sb_error (err, errno, "sync") : 0;
}

static int
handle_console (creation *c, sb_err **err)
{
  sb_sync_msg m;
  int ret = 0;

  if (!c->spec->process->terminal)
    return 0;
  if (sb_sync_expect (c->sync, SB_SYNC_CONSOLE, &m, err) < 0)
    return -1;
  if (c->o->console_socket)
    ret = sb_console_send (c->o->console_socket, m.fd, err);
  else
    c->console_master = sb_steal_fd (&m.fd);
  sb_sync_msg_release (&m);
  return ret;
}

static int
set_oom_score (creation *c, sb_err **err)
{
  char path[64], val[16];
  if (!c->spec->process->has_oom_score_adj)
    return 0;
  snprintf (path, sizeof (path), "/proc/%d/oom_score_adj", c->init);
  snprintf (val, sizeof (val), "%d", c->spec->process->oom_score_adj);
  return sb_write_file_at (AT_FDCWD, path, val, err) < 0 ? sb_error_wrap (err, "process.oomScoreAdj") : 0;
}

static int
finish_created (creation *c, sb_err **err)
{
  sb_sync_msg m;
  int ret;

  if (sb_sync_expect (c->sync, SB_SYNC_CREATED, &m, err) < 0)
    return -1;
  ret = record_state (c, SB_STATUS_CREATED, err);
  if (ret == 0 && c->o->pid_file)
    {
      _cleanup_free_ char *pid = sb_xasprintf ("%d", c->init);
      ret = sb_write_file_atomic (c->o->pid_file, pid, strlen (pid), 0644, err);
    }
  if (ret < 0)
    return -1;
  /* The state is recorded: the init may now outlive the runtime.  It says
     when it no longer has the parent-death signal, so the runtime's exit
     cannot kill it by a race.  */
  if (sb_sync_send (c->sync, SB_SYNC_GO, 0, -1, NULL) < 0)
    return sb_error (err, errno, "sync");
  return sb_sync_expect (c->sync, SB_SYNC_DETACHED, &m, err);
}

/* Once the runtime knows the init's pid: its mounts, the create hooks, the
   terminal, and the record of a created container.  */
static int
drive_created (creation *c, sb_err **err)
{
  if (sb_sync_send (c->sync, SB_SYNC_GO, 0, -1, NULL) < 0)
    return sb_error (err, errno, "sync");
  if (set_oom_score (c, err) < 0 || send_premounts (c, err) < 0 || run_create_hooks (c, err) < 0)
    return -1;
  if (handle_console (c, err) < 0)
    return -1;
  return finish_created (c, err);
}

static int
write_maps (creation *c, pid_t pid, sb_err **err)
{
  const sb_linux *l = &c->spec->linux;
  if (c->userns_auto)
    return sb_ns_write_maps (pid, &c->auto_map, 1, &c->auto_map, 1, err);
  return sb_ns_write_maps (pid, l->uid_mappings, l->n_uid_mappings, l->gid_mappings, l->n_gid_mappings, err);
}

/* The cgroup's directories and limits, and what the isolation mode adds:
   made once, before the first process joins.  On v2 the init is born in
   its cgroup, which must exist before the clone (do_create).  */
static int
make_cgroup (creation *c, sb_err **err)
{
  if (c->cg_made)
    return 0;
  if (sb_cgroup_make (c->cg, c->spec->linux.resources, err) < 0)
    return -1;
  c->cg_made = true;
  if (c->iso->cgroup_created
      && c->iso->cgroup_created (c->cg, c->state_dir,
                                 root_host_id (c, c->spec->linux.uid_mappings, c->spec->linux.n_uid_mappings),
                                 root_host_id (c, c->spec->linux.gid_mappings, c->spec->linux.n_gid_mappings),
                                 err)
             < 0)
    return -1;
  return 0;
}

/* The init joins its v1 cgroups itself (sb_cgroup_self_join_fds) when it
   gets their `tasks` files before GO; elsewhere the runtime moves it.  */
static int
join_cgroup (creation *c, sb_err **err)
{
  _cleanup_free_ int *fds = NULL;
  size_t n;
  int r = 0;

  if (sb_cgroup_self_join_fds (c->cg, &fds, &n, err) < 0)
    return -1;
  if (n == 0)
    return sb_cgroup_enter (c->cg, c->init, err);
  for (size_t i = 0; i < n; i++)
    {
      if (r == 0 && sb_sync_send (c->sync, SB_SYNC_CGROUP, 0, fds[i], NULL) < 0)
        r = sb_error (err, errno, "sync");
      close (fds[i]);
    }
  return r;
}

/* The init was cloned into its namespaces: put it in its cgroup, give its
   user namespace maps, let it go.  */
static int
drive_direct (creation *c, sb_err **err)
{
  if (c->userns_new && write_maps (c, c->init, err) < 0)
    return -1;
  /* As soon as the network namespace exists: the helper starts while the
     rest is built.  */
  if (c->o->on_namespaces && c->o->on_namespaces (c->init, c->o->on_created_arg, err) < 0)
    return -1;
  if (make_cgroup (c, err) < 0 || (!c->stage1_in_cgroup && join_cgroup (c, err) < 0))
    return -1;
  if (sb_sync_send (c->sync, SB_SYNC_GO, 0, -1, NULL) < 0)
    return sb_error (err, errno, "sync");
  return drive_created (c, err);
}

/* The two-stage way: stage 1 joins namespaces by path, creates the rest and
   forks the init.  */
static int
drive_staged (creation *c, sb_err **err)
{
  sb_sync_msg m;

  if (make_cgroup (c, err) < 0 || (!c->stage1_in_cgroup && sb_cgroup_enter (c->cg, c->stage1, err) < 0))
    return -1;
  if (sb_sync_send (c->sync, SB_SYNC_GO, 0, -1, NULL) < 0)
    return sb_error (err, errno, "sync");
  if (c->userns_new)
    {
      if (sb_sync_expect (c->sync, SB_SYNC_USERNS, &m, err) < 0 || write_maps (c, c->stage1, err) < 0)
        return -1;
      if (sb_sync_send (c->sync, SB_SYNC_GO, 0, -1, NULL) < 0)
        return sb_error (err, errno, "sync");
    }
  if (sb_sync_expect (c->sync, SB_SYNC_PID, &m, err) < 0)
    return -1;
  c->init = m.value;
  waitpid (c->stage1, NULL, 0);
  c->stage1 = 0;
  if (c->o->on_namespaces && c->o->on_namespaces (c->init, c->o->on_created_arg, err) < 0)
    return -1;
  return drive_created (c, err);
}

/* One process instead of two when nothing is joined by path and there is
   no time namespace (its offsets must be set before anyone enters it).  */
static bool
direct_clone_ok (const sb_spec *spec)
{
  for (int k = 0; k < SB_NS_KINDS; k++)
    if (spec->linux.namespaces[k].path)
      return false;
  return !spec->linux.namespaces[SB_NS_TIME].present;
}

static int
fork_init (creation *c, sb_init_ctx *ctx, int cgfd, int parent_end, sb_err **err)
{
  /* The cgroup namespace is made by the init itself once it is in its
     cgroup, so that cgroup is its root.  */
  uint64_t flags = (c->userns_new ? CLONE_NEWUSER : 0) | (sb_ns_new_flags (c->spec) & ~CLONE_NEWCGROUP);
  pid_t pid;

  c->direct = direct_clone_ok (c->spec);
  pid = sb_clone_into_cgroup (c->direct ? flags : 0, cgfd, &c->stage1_in_cgroup);
  if (pid < 0)
    return sb_error (err, errno, "clone the container's %s", c->direct ? "init" : "first process");
  if (pid == 0)
    {
      close (parent_end);
      if (c->direct)
        sb_init_direct (ctx);
      sb_init_stage1 (ctx);
    }
  if (c->direct)
    c->init = pid;
  else
    c->stage1 = pid;
  return 0;
}

static int
drive_init (creation *c, sb_err **err)
{
  return c->direct ? drive_direct (c, err) : drive_staged (c, err);
}

/* The isolation mode's directory for the init, absolute: the init looks it
   up after the runtime changed to the bundle directory.  */
static int
iso_init_dir (creation *c, char **out, sb_err **err)
{
  char real[PATH_MAX];

  if (c->iso->init_dir == NULL)
    return 0;
  if (realpath (c->state_dir, real) == NULL)
    return sb_error (err, errno, "`%s`", c->state_dir);
  *out = sb_xasprintf ("%s/%s", real, c->iso->init_dir);
  return 0;
}

static int
spawn_init (creation *c, sb_err **err)
{
  int sv[2];
  _cleanup_free_ char *sock = sb_xasprintf ("%s/%s", c->state_dir, SB_STATE_START_SOCKET);
  _cleanup_free_ char *iso_dir = NULL;
  sb_init_ctx ctx;

  if (iso_init_dir (c, &iso_dir, err) < 0)
    return -1;
  c->listen_fd = sb_unix_listen (sock, err);
  if (c->listen_fd < 0)
    return -1;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return sb_error (err, errno, "socketpair");
  ctx = (sb_init_ctx){ .spec = c->spec,
                       .opts = c->o,
                       .rootfs = c->rootfs,
                       .rootfs_dir = c->rootfs_dir,
                       .lock_fd = c->lock_fd,
                       .userns_new = c->userns_new,
                       .userns = c->userns_new || c->spec->linux.namespaces[SB_NS_USER].present,
                       .plan = &c->plan,
                       .iso = c->iso,
                       .iso_dir = iso_dir,
                       .iso_dirfd = -1,
                       .sync = sv[1],
                       .listen_fd = c->listen_fd,
                       .cgroup_path = sb_cgroup_path (c->cg),
                       .cgroup_unified = c->cg_mode == SB_CGROUP_UNIFIED };
  _cleanup_close_ int cgfd = sb_cgroup_open_fd (c->cg);

  if (chdir (c->o->bundle) < 0)
    return sb_error (err, errno, "chdir to the bundle `%s`", c->o->bundle);
  if (fork_init (c, &ctx, cgfd, sv[0], err) < 0)
    {
      close (sv[0]);
      close (sv[1]);
      return -1;
    }
  close (sv[1]);
  c->sync = sv[0];
  return 0;
}

/* Like runc, the spec's device rules are followed by the devices every
   container needs (and the ones it lists in linux.devices).  */
static void
add_default_device_rules (sb_spec *spec)
{
  static const sb_device_rule defaults[] = {
    { true, 'c', -1, -1, (char *)"m" },    { true, 'b', -1, -1, (char *)"m" },
    { true, 'c', 1, 3, (char *)"rwm" },    { true, 'c', 1, 5, (char *)"rwm" },
    { true, 'c', 1, 7, (char *)"rwm" },    { true, 'c', 1, 8, (char *)"rwm" },
    { true, 'c', 1, 9, (char *)"rwm" },    { true, 'c', 5, 0, (char *)"rwm" },
    { true, 'c', 5, 1, (char *)"rwm" },    { true, 'c', 5, 2, (char *)"rwm" },
    { true, 'c', 136, -1, (char *)"rwm" }, { true, 'c', 10, 200, (char *)"rwm" },
  };
  size_t nd = sizeof (defaults) / sizeof (defaults[0]);
  sb_resources *r = spec->linux.resources;
  size_t n;

  if (r == NULL)
    r = spec->linux.resources = sb_xmalloc0 (sizeof (*r));
  n = r->n_devices;
  r->devices = sb_xrealloc (r->devices, (n + nd + spec->linux.n_devices) * sizeof (sb_device_rule));
  for (size_t i = 0; i < nd; i++)
    {
      r->devices[n + i] = defaults[i];
      r->devices[n + i].access = sb_xstrdup (defaults[i].access);
    }
  n += nd;
  for (size_t i = 0; i < spec->linux.n_devices; i++)
    {
      const sb_device *d = &spec->linux.devices[i];
      if (d->type != 'c' && d->type != 'b' && d->type != 'u')
        continue;
      r->devices[n++]
          = (sb_device_rule){ true, d->type == 'b' ? 'b' : 'c', d->major, d->minor, sb_xstrdup ("rwm") };
    }
  r->n_devices = n;
}

static int
do_create (creation *c, sb_err **err)
{
  _cleanup_close_ int dirfd = -1;
  _cleanup_close_ int bundlefd = -1;
  size_t len = 0;

  if (sb_state_check_id (c->o->id, err) < 0)
    return -1;
  bundlefd = open (c->o->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (bundlefd < 0)
    return sb_error (err, errno, "bundle `%s`", c->o->bundle);
  if (sb_read_file_at (bundlefd, "config.json", SB_SPEC_MAX_SIZE, &c->config_json, &len, err) < 0)
    return sb_error_wrap (err, "bundle `%s`", c->o->bundle);
  if (sb_spec_parse (c->config_json, len, &c->spec, err) < 0)
    return -1;
  /* Nothing is changed yet: the command can start over from a sealed copy.  */
  if (sb_spec_needs_sealed_runtime (c->spec) && sb_selfexe_ensure_sealed (NULL, err) < 0)
    return -1;
  if (validate (c, err) < 0)
    return -1;
  if (sb_state_create_dir (c->o->root, c->o->id, &c->state_dir, &dirfd, err) < 0)
    return -1;
  c->state_made = true;
  /* Held until created: a concurrent delete waits instead of tearing down
     a container that is half built.  */
  if (flock (dirfd, LOCK_EX) < 0)
    return sb_error (err, errno, "lock `%s`", c->state_dir);
  c->lock_fd = dirfd;
  if (plan_userns (c, err) < 0)
    return -1;
  add_default_device_rules (c->spec);
  if (sb_cgroup_plan (c->o->id, c->spec->linux.cgroups_path, c->spec->linux.resources, &c->cg, err) < 0)
    return -1;
  /* Now if what the isolation mode adds (system: the /proc server, which
     connect_listener may reach) needs the cgroup.  */
  if ((c->cg_mode == SB_CGROUP_UNIFIED || c->iso->cgroup_created) && make_cgroup (c, err) < 0)
    return -1;
  if (connect_listener (c, err) < 0)
    return -1;
  /* Recorded at once, so that if this runtime is killed from here on, a
     delete finds what to remove (the cgroup, made now or later, the id
     range).  */
  if (record_state (c, SB_STATUS_CREATING, err) < 0)
    return -1;
  if (spawn_init (c, err) < 0)
    return -1;
  return drive_init (c, err);
}

static void
creation_init (creation *c, const sb_create_opts *o)
{
  memset (c, 0, sizeof (*c));
  c->o = o;
  c->sync = c->listen_fd = c->console_master = c->rootfs_dir = c->lock_fd = -1;
}

int
sb_container_create (const sb_create_opts *o, sb_err **err)
{
  creation c;
  int ret;

  if (sb_microvm_oci_claims (o))
    return sb_microvm_oci_create (o, err);
  creation_init (&c, o);
  ret = do_create (&c, err);
  if (ret < 0)
    creation_undo (&c);
  creation_release (&c);
  return ret;
}

static int
run_poststart (const sb_state *st, sb_err **err)
{
  _cleanup_spec_ sb_spec *spec = NULL;
  _cleanup_free_ char *json = NULL;
  _cleanup_err_ sb_err *hook_err = NULL;

  if (sb_spec_parse (st->config_json, strlen (st->config_json), &spec, err) < 0)
    return -1;
  json = sb_state_to_oci_json (st, SB_STATUS_RUNNING);
  /* The program runs already: a failing poststart hook is only reported.  */
  if (sb_hooks_run (SB_HOOK_POSTSTART, spec->hooks[SB_HOOK_POSTSTART], spec->n_hooks[SB_HOOK_POSTSTART], json,
                    &hook_err)
      < 0)
    sb_warn ("%s", hook_err->msg);
  return 0;
}

/* Releases the init waiting in accept() and reports what it says: nothing
   (EOF at its execve) is success, text is the reason it could not run.  */
static int
signal_start (const char *root, const char *id, sb_err **err)
{
  _cleanup_free_ char *sock = sb_xasprintf ("%s/%s/%s", root, id, SB_STATE_START_SOCKET);
  _cleanup_close_ int fd = sb_unix_connect (sock, err);
  char reply[4096];
  ssize_t n;

  if (fd < 0)
    return sb_error_wrap (err, "start container \"%s\"", id);
  if (sb_write_all (fd, "S", 1) < 0)
    return sb_error (err, errno, "start container \"%s\"", id);
  n = sb_read_all (fd, reply, sizeof (reply) - 1);
  unlink (sock);
  if (n > 0)
    {
      reply[n] = '\0';
      return sb_error (err, 0, "start container \"%s\": %s", id, reply);
    }
  return 0;
}

static int
release_init (const char *root, sb_state *st, sb_err **err)
{
  if (signal_start (root, st->id, err) < 0)
    return -1;
  st->status = SB_STATUS_RUNNING;
  return run_poststart (st, err);
}

/* Starts a container this process has just created: its recorded state is
   read back only for poststart hooks.  */
static int
start_created (creation *c, sb_err **err)
{
  _cleanup_state_ sb_state *st = NULL;
  sb_status status;

  if (c->spec->n_hooks[SB_HOOK_POSTSTART] == 0)
    return signal_start (c->o->root, c->o->id, err);
  if (sb_container_load (c->o->root, c->o->id, &st, &status, err) < 0)
    return -1;
  return release_init (c->o->root, st, err);
}

int
sb_container_start (const char *root, const char *id, sb_err **err)
{
  if (sb_microvm_oci_is (root, id))
    return sb_microvm_oci_start (root, id, err);
  _cleanup_close_ int lock = sb_state_lock (root, id, err);
  _cleanup_state_ sb_state *st = NULL;
  sb_status status;

  if (lock < 0 || sb_container_load (root, id, &st, &status, err) < 0)
    return -1;
  if (status != SB_STATUS_CREATED)
    return sb_error (err, 0, "cannot start container \"%s\": it is %s, not created", id,
                     sb_status_name (status));
  return release_init (root, st, err);
}

/* Waits for the init of a foreground run, passing on the signals a caller
   sends to the runtime.  */
static int
wait_forwarding (pid_t init, int *exit_code, sb_err **err)
{
  static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
  _cleanup_close_ int sfd = -1, pidfd = (int)syscall (SYS_pidfd_open, init, 0);
  sigset_t set, old;
  int status = 0;

  if (pidfd < 0)
    return sb_error (err, errno, "pidfd_open %d", init);
  sigemptyset (&set);
  for (size_t i = 0; i < sizeof (sigs) / sizeof (sigs[0]); i++)
    sigaddset (&set, sigs[i]);
  sigprocmask (SIG_BLOCK, &set, &old);
  sfd = signalfd (-1, &set, SFD_CLOEXEC);
  for (;;)
    {
      struct pollfd pfd[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
      struct signalfd_siginfo si;
      if (poll (pfd, 2, -1) < 0 && errno != EINTR)
        break;
      if (pfd[1].revents & POLLIN && read (sfd, &si, sizeof (si)) == sizeof (si))
        kill (init, (int)si.ssi_signo);
      if (pfd[0].revents & POLLIN)
        break;
    }
  sigprocmask (SIG_SETMASK, &old, NULL);
  if (waitpid (init, &status, 0) < 0)
    return sb_error (err, errno, "wait for the container");
  *exit_code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
  return 0;
}

static int
run_foreground (creation *c, int *exit_code, sb_err **err)
{
  int ret;

  if (start_created (c, err) < 0)
    {
      sb_container_delete (c->o->root, c->o->id, true, NULL);
      c->init = 0;
      return -1;
    }
  if (c->console_master >= 0)
    {
      _cleanup_close_ int pidfd = (int)syscall (SYS_pidfd_open, c->init, 0);
      if (sb_console_relay (c->console_master, pidfd, err) < 0)
        sb_warn ("%s", (*err)->msg), sb_err_free (err);
    }
  ret = wait_forwarding (c->init, exit_code, err);
  c->init = 0;
  if (ret < 0)
    return -1;
  return sb_container_delete (c->o->root, c->o->id, true, err);
}

int
sb_container_run (const sb_create_opts *o, bool detach, int *exit_code, sb_err **err)
{
  creation c;
  int ret;

  if (sb_microvm_oci_claims (o))
    return sb_microvm_oci_run (o, detach, exit_code, err);
  creation_init (&c, o);
  c.keep_console = !detach && o->console_socket == NULL;
  *exit_code = 0;
  ret = do_create (&c, err);
  if (ret < 0)
    {
      creation_undo (&c);
      creation_release (&c);
      return -1;
    }
  if (o->on_created && o->on_created (c.init, o->on_created_arg, err) < 0)
    {
      sb_container_delete (o->root, o->id, true, NULL);
      c.init = 0;
      creation_release (&c);
      return -1;
    }
  if (detach)
    {
      ret = start_created (&c, err);
      if (ret < 0)
        sb_container_delete (o->root, o->id, true, NULL);
    }
  else
    ret = run_foreground (&c, exit_code, err);
  creation_release (&c);
  return ret;
}
