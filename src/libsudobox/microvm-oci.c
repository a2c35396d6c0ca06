/* The OCI lifecycle in microvm isolation.  create boots a guest whose root
   disk is made from the bundle's rootfs (mkfs.ext4 -d: ownership copied,
   nothing chowned), as an unprivileged uid of an exclusive id range, and
   leaves a shim (like conmon: it keeps create's stdio, or the console's
   pty) waiting on the state directory's start socket.  start releases the
   shim, which runs process in the guest through the agent and powers the
   guest off when it exits.  The state's pid is QEMU's: the container runs
   while QEMU does.  kill signals the shim (which passes the signal to the
   process in the guest) and SIGKILL ends the VM; delete powers off and
   removes the disks.  */
#include "microvm-oci.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "console.h"
#include "idrange.h"
#include "log.h"
#include "microvm-host.h"
#include "util.h"

#define BOOT_MS 120000
#define POWEROFF_MS 10000
#define SHIM_PID "shim.pid"
#define TTY_PATH "tty"

bool
sb_microvm_oci_claims (const sb_create_opts *o)
{
  _cleanup_free_ char *json = NULL, *path = sb_xasprintf ("%s/config.json", o->bundle);
  _cleanup_spec_ sb_spec *spec = NULL;
  sb_isolation mode = SB_ISOLATION_USERNS;
  size_t len;

  if (o->isolation)
    return sb_isolation_parse ("--isolation", o->isolation, &mode, NULL) == 0 && mode == SB_ISOLATION_MICROVM;
  if (sb_read_file_at (AT_FDCWD, path, SB_SPEC_MAX_SIZE, &json, &len, NULL) < 0
      || sb_spec_parse (json, len, &spec, NULL) < 0)
    return false;
  return sb_spec_isolation (spec, &mode, NULL) == 0 && mode == SB_ISOLATION_MICROVM;
}

bool
sb_microvm_oci_is (const char *root, const char *id)
{
  _cleanup_state_ sb_state *st = NULL;

  return sb_state_check_id (id, NULL) == 0 && sb_state_read (root, id, &st, NULL) == 0 && st->isolation
         && strcmp (st->isolation, "microvm") == 0;
}

/* What one container's VM is made of, below its state directory.  */
typedef struct vm_paths
{
  char *dir, *run, *base, *root, *projects;
} vm_paths;

static void
paths_of (const char *root, const char *id, vm_paths *p)
{
  p->dir = sb_xasprintf ("%s/%s", root, id);
  p->run = sb_xasprintf ("%s/vm", p->dir);
  p->base = sb_xasprintf ("%s/base.raw", p->dir);
  p->root = sb_xasprintf ("%s/root.qcow2", p->dir);
  p->projects = sb_xasprintf ("%s/projects.img", p->dir);
}

static void
paths_release (vm_paths *p)
{
  free (p->dir);
  free (p->run);
  free (p->base);
  free (p->root);
  free (p->projects);
}

/* The bundle's rootfs as the guest's root disk: room for what the
   container writes (sparse), ownership and modes as in the bundle.  */
static int
make_disks (const char *rootfs, const vm_paths *p, const sb_process *proc, uid_t uid, sb_err **err)
{
  _cleanup_free_ char *size = sb_xasprintf ("%lluk", SB_MICROVM_OCI_ROOT_SIZE / 1024);
  char *mkfs[] = { "mkfs.ext4", "-q", "-F", "-L", "sudobox-root", "-d", (char *)rootfs, p->base, size, NULL };

  if (sb_vm_run (mkfs, err) < 0)
    return sb_error_wrap (err, "make the guest's disk from `%s`", rootfs);
  if (sb_vm_overlay (p->base, p->root, err) < 0
      || sb_vm_projects_disk (p->projects, proc->uid, proc->gid, err) < 0)
    return -1;
  if (mkdir (p->run, 0700) < 0 || chown (p->run, uid, uid) < 0)
    return sb_error (err, errno, "prepare `%s`", p->run);
  return 0;
}

static bool
want_kvm (void)
{
  const char *a = secure_getenv ("SUDOBOX_MICROVM_ACCEL");
  if (a && strcmp (a, "kvm") == 0)
    return true;
  sb_warn (
      "microvm: using software emulation (TCG); set SUDOBOX_MICROVM_ACCEL=kvm where KVM boots the guest");
  return false;
}

/* The VM's size from the spec's limits, as Kata sizes its VM: memory from
   linux.resources.memory.limit, vCPUs from the cpu quota (rounded up).  */
static int
vm_size (const sb_spec *spec, unsigned *mem_mb, unsigned *cpus, sb_err **err)
{
  const sb_resources *r = spec->linux.resources;

  *mem_mb = SB_MICROVM_OCI_MEM_MB;
  *cpus = 1;
  if (r == NULL)
    return 0;
  if (r->memory.limit.set && r->memory.limit.v > 0)
    {
      if (r->memory.limit.v < SB_MICROVM_MIN_MEM || r->memory.limit.v > (1ll << 40))
        return sb_error (err, 0,
                         "linux.resources.memory.limit %lld: a microvm needs between 256 MiB and 1 TiB",
                         (long long)r->memory.limit.v);
      *mem_mb = (unsigned)(r->memory.limit.v >> 20);
    }
  if (r->cpu.quota.set && r->cpu.quota.v > 0 && r->cpu.period.set && r->cpu.period.v > 0)
    {
      int64_t n = (r->cpu.quota.v + r->cpu.period.v - 1) / r->cpu.period.v;
      if (n > 255)
        return sb_error (err, 0, "linux.resources.cpu: a quota of %lld CPUs is more than a microvm has (255)",
                         (long long)n);
      *cpus = (unsigned)n;
    }
  return 0;
}

/* Starts the guest: restored from the template's snapshot when it has the
   template's devices (a network) and size, else a cold boot.  */
static int
start_guest (const char *root, const sb_spec *spec, const vm_paths *p, uid_t uid, pid_t *pid, sb_err **err)
{
  _cleanup_free_ char *cache = sb_xasprintf ("%s/.microvm", root), *snapshot = NULL;
  bool network = spec->linux.namespaces[SB_NS_NETWORK].present, kvm;
  sb_vm_boot b = { 0 };
  unsigned mem_mb, cpus;
  int r;

  if (vm_size (spec, &mem_mb, &cpus, err) < 0)
    return -1;
  kvm = want_kvm ();
  if (sb_vm_boot_files_in (cache, &b, err) < 0)
    return -1;
  r = 0;
  if (network && mem_mb == SB_MICROVM_OCI_MEM_MB && cpus == 1 && !secure_getenv ("SUDOBOX_MICROVM_COLD"))
    r = sb_microvm_oci_template (cache, &b, uid, kvm, &snapshot, err);
  if (r == 0)
    {
      sb_microvm_cfg c = { .run_dir = p->run,
                           .vmlinux = b.vmlinux,
                           .initramfs = b.initramfs,
                           .base_disk = p->base,
                           .root_disk = p->root,
                           .projects_disk = p->projects,
                           .uid = uid,
                           .gid = uid,
                           .incoming = snapshot,
                           .mem_mb = mem_mb,
                           .cpus = cpus,
                           .kvm = kvm,
                           .network = network };
      r = sb_vm_start_guest (&c, BOOT_MS, pid, err);
    }
  sb_vm_boot_release (&b);
  return r;
}

/* linux.resources.pids.limit for the guest's workspace cgroup: 0 (none)
   when absent, unlimited (-1) or beyond what a kernel allows.  */
static uint32_t
pids_limit (const sb_spec *spec)
{
  const sb_resources *r = spec->linux.resources;
  if (r == NULL || !r->pids.limit.set || r->pids.limit.v <= 0 || r->pids.limit.v > SB_MICROVM_PIDS_MAX)
    return 0;
  return (uint32_t)r->pids.limit.v;
}

/* Starts the guest and mounts its disks; the agent's channel for the
   container's process in *fd (with its port lock).  */
static int
boot (const char *root, const sb_spec *spec, const vm_paths *p, uid_t uid, pid_t *pid, int *fd, int *lock,
      sb_err **err)
{
  char seed[65];

  if (start_guest (root, spec, p, uid, pid, err) < 0)
    return -1;
  {
    sb_agent_setup s = { .hostname = spec->hostname ? spec->hostname : "sudobox",
                         .root_dev = "vda",
                         .projects_dev = "vdb",
                         .seed = seed,
                         .pids_max = pids_limit (spec),
                         .readonly_root = spec->root_readonly };
    if (sb_vm_random_hex (seed, err) < 0 || sb_microvm_connect (p->run, 5000, fd, lock, err) < 0
        || sb_microvm_setup (*fd, &s, BOOT_MS, err) < 0)
      {
        sb_vm_kill (*pid);
        return -1;
      }
  }
  return 0;
}

/* The agent's request for process p (pointers into p).  */
static void
exec_request (const sb_process *p, sb_agent_exec *e)
{
  struct winsize ws;

  e->uid = p->uid;
  e->gid = p->gid;
  e->tty = p->terminal;
  e->rows = p->has_console_size ? (uint16_t)p->console_height : 0;
  e->cols = p->has_console_size ? (uint16_t)p->console_width : 0;
  /* The terminal's own size when it has one: the program may ask before
     the first resize reaches the guest.  */
  if (p->terminal && ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
    {
      e->rows = ws.ws_row;
      e->cols = ws.ws_col;
    }
  e->groups[e->n_groups++] = p->gid;
  for (size_t i = 0; i < p->n_additional_gids && e->n_groups < SB_AGENT_MAX_GROUPS; i++)
    e->groups[e->n_groups++] = p->additional_gids[i];
  e->cwd = p->cwd ? p->cwd : "/";
  for (size_t i = 0; i < SB_AGENT_MAX_ARGS && p->args[i]; i++)
    e->argv[i] = p->args[i];
  for (size_t i = 0; p->env && i < SB_AGENT_MAX_ARGS && p->env[i]; i++)
    e->envp[i] = p->env[i];
}

/* Runs p through the agent on fd with this process's stdio; the guest is
   powered off afterwards when poweroff is set.  */
static int
run_process (int fd, const sb_process *p, bool poweroff, int *exit_code, sb_err **err)
{
  _cleanup_free_ sb_agent_exec *e = sb_xmalloc0 (sizeof (*e));
  int r;

  exec_request (p, e);
  r = sb_microvm_exec (fd, e, exit_code, err);
  if (poweroff)
    sb_microvm_poweroff (fd, POWEROFF_MS, NULL);
  return r;
}

static int
drop_to (uid_t uid, sb_err **err)
{
  if (setgroups (0, NULL) < 0 || setresgid (uid, uid, uid) < 0 || setresuid (uid, uid, uid) < 0)
    return sb_error (err, errno, "switch to uid %u", (unsigned)uid);
  return 0;
}

/* The shim, as the VM's uid: waits for start, runs the process, powers
   the guest off.  It keeps only stdio, the start socket, the agent's
   channel and its port lock (held for as long as the process runs).  */
static _Noreturn void
shim (int listen_fd, int fd, int lock, const sb_process *p, int tty, uid_t uid)
{
  _cleanup_err_ sb_err *err = NULL;
  int conn, code;

  if (tty >= 0 && (dup2 (tty, 0) < 0 || dup2 (tty, 1) < 0 || dup2 (tty, 2) < 0))
    _exit (1);
  /* A reader of the output that goes away must not kill the shim (and
     leave the VM without it).  */
  signal (SIGPIPE, SIG_IGN);
  if (sb_close_fds_from (3, (int[]){ listen_fd, fd, lock }, 3) < 0 || drop_to (uid, &err) < 0)
    _exit (1);
  conn = accept4 (listen_fd, NULL, NULL, SOCK_CLOEXEC);
  close (listen_fd);
  if (conn < 0)
    _exit (1);
  close (conn);
  if (run_process (fd, p, true, &code, &err) < 0)
    _exit (1);
  _exit (code & 0xff);
}

/* The console for terminal=true: the master goes to the console socket,
   the shim keeps the slave.  */
static int
open_console (const sb_create_opts *o, const sb_process *p, int *slave, sb_err **err)
{
  _cleanup_close_ int master = -1;

  if (!p->terminal)
    return 0;
  if (o->console_socket == NULL)
    return sb_error (err, 0, "process.terminal is true: a --console-socket is required when detached");
  if (sb_console_open (&master, slave, p->console_height, p->console_width, err) < 0)
    return -1;
  return sb_console_send (o->console_socket, master, err);
}

/* Forks the shim (detached from us: its own session, reparented).  */
static int
spawn_shim (const vm_paths *p, const sb_create_opts *o, const sb_process *proc, int fd, int lock, uid_t uid,
            sb_err **err)
{
  _cleanup_free_ char *sock = sb_xasprintf ("%s/%s", p->dir, SB_STATE_START_SOCKET);
  _cleanup_close_ int lfd = sb_unix_listen (sock, err), slave = -1;
  pid_t pid;
  int pp[2];

  if (lfd < 0 || open_console (o, proc, &slave, err) < 0)
    return -1;
  if (pipe2 (pp, O_CLOEXEC) < 0)
    return sb_error (err, errno, "pipe");
  pid = fork ();
  if (pid < 0)
    return sb_error (err, errno, "fork");
  if (pid == 0)
    {
      pid_t s;
      close (pp[0]);
      setsid ();
      s = fork ();
      if (s != 0)
        {
          sb_write_all (pp[1], &s, sizeof (s));
          _exit (0);
        }
      close (pp[1]);
      shim (lfd, fd, lock, proc, slave, uid);
    }
  close (pp[1]);
  waitpid (pid, NULL, 0);
  {
    pid_t s = 0;
    _cleanup_free_ char *text = NULL, *path = sb_xasprintf ("%s/%s", p->dir, SHIM_PID);
    ssize_t n = sb_read_all (pp[0], &s, sizeof (s));
    close (pp[0]);
    if (n != sizeof (s) || s <= 0)
      return sb_error (err, 0, "fork the shim");
    text = sb_xasprintf ("%d\n", s);
    return sb_write_file_atomic (path, text, strlen (text), 0600, err);
  }
}

static int
write_pid_file (const char *path, pid_t pid, sb_err **err)
{
  _cleanup_free_ char *text = sb_xasprintf ("%d", pid);
  return path ? sb_write_file_atomic (path, text, strlen (text), 0644, err) : 0;
}

static int
record (const sb_create_opts *o, const sb_spec *spec, const char *json, const char *rootfs, pid_t pid,
        uint32_t first, sb_err **err)
{
  _cleanup_state_ sb_state *st = sb_xmalloc0 (sizeof (*st));
  size_t n = spec->n_annotations;

  st->id = sb_xstrdup (o->id);
  st->pid = pid;
  sb_proc_start_time (pid, &st->pid_start);
  st->status = SB_STATUS_CREATED;
  st->bundle = sb_xstrdup (o->bundle);
  st->rootfs = sb_xstrdup (rootfs);
  st->created = sb_now_rfc3339 ();
  st->owner = sb_xstrdup ("");
  st->userns_auto = true;
  st->id_first = first;
  st->isolation = sb_xstrdup ("microvm");
  st->config_json = sb_xstrdup (json);
  st->annotations_kv = sb_xmalloc0 ((2 * n + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    {
      st->annotations_kv[2 * i] = sb_xstrdup (spec->annotations[i].key);
      st->annotations_kv[2 * i + 1] = sb_xstrdup (spec->annotations[i].value);
    }
  return sb_state_write (o->root, st, err);
}

/* Everything of create but the shim; the agent channel in *fd.  */
static int
create_vm (const sb_create_opts *o, sb_spec **spec, char **json, vm_paths *p, pid_t *pid, int *fd, int *lock,
           uint32_t *first, sb_err **err)
{
  _cleanup_free_ char *dir = NULL, *rootfs = NULL, *config = sb_xasprintf ("%s/config.json", o->bundle);
  _cleanup_close_ int dirfd = -1;
  unsigned mem_mb, cpus;
  sb_idpool pool;
  size_t len;

  if (sb_state_check_id (o->id, err) < 0 || sb_state_create_dir (o->root, o->id, &dir, &dirfd, err) < 0)
    return -1;
  paths_of (o->root, o->id, p);
  if (sb_read_file_at (AT_FDCWD, config, SB_SPEC_MAX_SIZE, json, &len, err) < 0
      || sb_spec_parse (*json, len, spec, err) < 0)
    return -1;
  if ((*spec)->process == NULL)
    return sb_error (err, 0, "process: required to create a container");
  /* Refused before anything is made.  */
  if (vm_size (*spec, &mem_mb, &cpus, err) < 0)
    return -1;
  rootfs = (*spec)->root_path[0] == '/' ? sb_xstrdup ((*spec)->root_path)
                                        : sb_xasprintf ("%s/%s", o->bundle, (*spec)->root_path);
  if (sb_idpool_default (&pool, err) < 0 || sb_idrange_alloc (o->root, &pool, o->id, first, err) < 0)
    return -1;
  if (make_disks (rootfs, p, (*spec)->process, *first, err) < 0
      || boot (o->root, *spec, p, *first, pid, fd, lock, err) < 0)
    return -1;
  /* On failure the caller's destroy stops the VM.  */
  if (sb_microvm_copy_mounts (*fd, *spec, o->bundle, err) < 0)
    return -1;
  return record (o, *spec, *json, rootfs, *pid, *first, err);
}

/* Removes what create made: the VM, the id range, the state directory
   (disks included).  */
static int
destroy (const char *root, const char *id, pid_t qemu, sb_err **err)
{
  vm_paths p = { 0 };
  int r;

  if (qemu > 0)
    sb_vm_kill (qemu);
  paths_of (root, id, &p);
  {
    char *rm[] = { "rm", "-rf", p.dir, NULL };
    r = sb_idrange_free (root, id, err);
    if (r == 0)
      r = sb_vm_run (rm, err);
  }
  paths_release (&p);
  return r;
}

int
sb_microvm_oci_create (const sb_create_opts *o, sb_err **err)
{
  _cleanup_spec_ sb_spec *spec = NULL;
  _cleanup_free_ char *json = NULL;
  _cleanup_close_ int fd = -1, lock = -1;
  vm_paths p = { 0 };
  uint32_t first = 0;
  pid_t pid = 0;
  int r = create_vm (o, &spec, &json, &p, &pid, &fd, &lock, &first, err);

  if (r == 0)
    r = spawn_shim (&p, o, spec->process, fd, lock, first, err);
  if (r == 0)
    r = write_pid_file (o->pid_file, pid, err);
  if (r < 0 && p.dir)
    destroy (o->root, o->id, pid, NULL);
  paths_release (&p);
  return r;
}

/* A foreground run: the process runs with the runtime's own stdio and
   terminal (signals passed on by the agent client), then everything is
   removed.  */
static int
run_foreground (const sb_create_opts *o, int *exit_code, sb_err **err)
{
  _cleanup_spec_ sb_spec *spec = NULL;
  _cleanup_free_ char *json = NULL;
  _cleanup_close_ int fd = -1, lock = -1;
  vm_paths p = { 0 };
  uint32_t first = 0;
  pid_t pid = 0;
  int r = create_vm (o, &spec, &json, &p, &pid, &fd, &lock, &first, err);

  if (r == 0)
    r = write_pid_file (o->pid_file, pid, err);
  if (r == 0)
    r = run_process (fd, spec->process, true, exit_code, err);
  if (p.dir && destroy (o->root, o->id, pid, r < 0 ? NULL : err) < 0)
    r = -1;
  paths_release (&p);
  return r;
}

int
sb_microvm_oci_run (const sb_create_opts *o, bool detach, int *exit_code, sb_err **err)
{
  *exit_code = 0;
  if (!detach)
    return run_foreground (o, exit_code, err);
  if (sb_microvm_oci_create (o, err) < 0)
    return -1;
  if (sb_microvm_oci_start (o->root, o->id, err) < 0)
    {
      sb_microvm_oci_delete (o->root, o->id, true, NULL);
      return -1;
    }
  return 0;
}

static int
load (const char *root, const char *id, int *lock, sb_state **st, sb_status *status, sb_err **err)
{
  *lock = sb_state_lock (root, id, err);
  if (*lock < 0)
    return -1;
  return sb_container_load (root, id, st, status, err);
}

int
sb_microvm_oci_start (const char *root, const char *id, sb_err **err)
{
  _cleanup_close_ int lock = -1, fd = -1;
  _cleanup_state_ sb_state *st = NULL;
  _cleanup_free_ char *sock = sb_xasprintf ("%s/%s/%s", root, id, SB_STATE_START_SOCKET);
  sb_status status;

  if (load (root, id, &lock, &st, &status, err) < 0)
    return -1;
  if (status != SB_STATUS_CREATED)
    return sb_error (err, 0, "cannot start container \"%s\": it is %s, not created", id,
                     sb_status_name (status));
  fd = sb_unix_connect (sock, err);
  if (fd < 0)
    return sb_error_wrap (err, "start container \"%s\"", id);
  unlink (sock);
  st->status = SB_STATUS_RUNNING;
  return sb_state_write (root, st, err);
}

static pid_t
shim_pid (const char *root, const char *id)
{
  _cleanup_free_ char *path = sb_xasprintf ("%s/%s/%s", root, id, SHIM_PID), *text = NULL;
  int64_t pid = 0;
  size_t len;

  if (sb_read_file_at (AT_FDCWD, path, 64, &text, &len, NULL) < 0)
    return 0;
  text[strcspn (text, "\n")] = '\0';
  return sb_parse_i64 (text, &pid) == 0 && pid > 0 ? (pid_t)pid : 0;
}

/* Whether the shim passes sig into the guest: what the agent client
   forwards for a process without a terminal.  */
static bool
forwarded (const sb_state *st, int sig)
{
  _cleanup_spec_ sb_spec *spec = NULL;

  if (sig != SIGTERM && sig != SIGINT && sig != SIGHUP && sig != SIGQUIT)
    return false;
  return sb_spec_parse (st->config_json, strlen (st->config_json), &spec, NULL) == 0
         && !spec->process->terminal;
}

/* A signal for the process: the shim passes TERM, INT, HUP and QUIT into
   the guest; SIGKILL, or a terminating signal for a process with a
   terminal, ends the VM (and the process with it).  Other signals are
   refused rather than lost.  */
int
sb_microvm_oci_kill (const char *root, const char *id, int sig, sb_err **err)
{
  _cleanup_close_ int lock = -1;
  _cleanup_state_ sb_state *st = NULL;
  sb_status status;
  pid_t shim = shim_pid (root, id);

  if (load (root, id, &lock, &st, &status, err) < 0)
    return -1;
  if (status == SB_STATUS_STOPPED)
    return sb_error (err, 0, "container \"%s\" is not running", id);
  if (status == SB_STATUS_RUNNING && shim > 0 && forwarded (st, sig))
    return kill (shim, sig) < 0 ? sb_error (err, errno, "signal the shim of container \"%s\"", id) : 0;
  if (sig != SIGKILL && sig != SIGTERM && sig != SIGINT && sig != SIGHUP && sig != SIGQUIT)
    return sb_error (err, 0, "signal %d cannot be passed into a microvm (only KILL, TERM, INT, HUP, QUIT)",
                     sig);
  if (shim > 0)
    kill (shim, SIGKILL);
  sb_vm_kill (st->pid);
  return 0;
}

int
sb_microvm_oci_delete (const char *root, const char *id, bool force, sb_err **err)
{
  _cleanup_close_ int lock = -1;
  _cleanup_state_ sb_state *st = NULL;
  sb_status status;
  pid_t shim = shim_pid (root, id);

  if (load (root, id, &lock, &st, &status, err) < 0)
    return -1;
  if (status == SB_STATUS_RUNNING && !force)
    return sb_error (err, 0, "cannot delete container \"%s\" that is not stopped: running (use --force)", id);
  if (shim > 0)
    kill (shim, SIGKILL);
  return destroy (root, id, status == SB_STATUS_STOPPED ? 0 : st->pid, err);
}

/* The container's process with exec's overrides, or -p's.  */
int
sb_microvm_oci_exec (const sb_exec_opts *o, int *exit_code, sb_err **err)
{
  _cleanup_spec_ sb_spec *spec = NULL;
  _cleanup_state_ sb_state *st = NULL;
  _cleanup_close_ int fd = -1, lock = -1;
  _cleanup_free_ char *run = sb_xasprintf ("%s/%s/vm", o->root, o->id);
  sb_process *p = NULL;
  sb_status status;
  int r;

  *exit_code = 0;
  if (sb_container_load (o->root, o->id, &st, &status, err) < 0)
    return -1;
  if (status != SB_STATUS_RUNNING && status != SB_STATUS_CREATED)
    return sb_error (err, 0, "cannot exec in container \"%s\": it is %s", o->id, sb_status_name (status));
  if (o->detach || o->console_socket)
    return sb_error (err, 0, "exec -d and --console-socket are not available with isolation microvm yet");
  if (sb_spec_parse (st->config_json, strlen (st->config_json), &spec, err) < 0
      || sb_exec_process (o, spec, &p, err) < 0)
    return -1;
  r = sb_microvm_connect (run, 10000, &fd, &lock, err);
  if (r == 0)
    r = run_process (fd, p, false, exit_code, err);
  sb_process_free (p);
  return r;
}
