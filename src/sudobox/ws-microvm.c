/* Microvm workspaces: create (disks), start (QEMU from the template's
   snapshot, or a cold boot when the workspace's limits differ from the
   template's), exec through the agent, stop (guest poweroff).  QEMU runs
   as the first id of the workspace's exclusive range: an unprivileged
   host uid no other workspace uses.  */
#include "ws-microvm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#define START_MS 120000

typedef struct ws_files
{
  char *dir, *run, *root, *projects;
} ws_files;

static void
files_release (ws_files *f)
{
  free (f->dir);
  free (f->run);
  free (f->root);
  free (f->projects);
}

static void
files_of (sb_mgr *m, const char *name, ws_files *f)
{
  _cleanup_free_ char *vol = sb_mgr_projects_dir (m, name);
  f->dir = sb_mgr_ws_dir (m, name);
  f->run = sb_xasprintf ("%s/vm", f->dir);
  f->root = sb_xasprintf ("%s/root.qcow2", f->dir);
  f->projects = sb_xasprintf ("%s/disk.img", vol);
}

bool
sb_ws_microvm_alive (const sb_ws_rec *ws)
{
  uint64_t start;
  char state;
  return ws->monitor_pid > 0 && sb_proc_stat (ws->monitor_pid, &state, &start) == 0
         && start == ws->monitor_start && state != 'Z';
}

int
sb_ws_microvm_check (const sb_wsconfig *cfg, sb_err **err)
{
  if (cfg->n_volumes > 0)
    return sb_error (err, 0, "--volume is not available with --isolation microvm (only /projects is shared)");
  if (cfg->seccomp_unconfined)
    return sb_error (err, 0,
                     "--security-opt seccomp=unconfined: a microvm workspace has no seccomp profile "
                     "(its guest kernel is the boundary)");
  if (cfg->pids > SB_MICROVM_PIDS_MAX)
    return sb_error (err, 0, "--pids %lld: a microvm workspace allows at most %d", (long long)cfg->pids,
                     SB_MICROVM_PIDS_MAX);
  if (cfg->memory > 0 && cfg->memory < SB_MICROVM_MIN_MEM)
    return sb_error (err, 0, "--memory: a microvm workspace needs at least 256M");
  return 0;
}

int
sb_ws_microvm_create (sb_mgr *m, const sb_ws_rec *ws, const sb_wsconfig *cfg, sb_err **err)
{
  _cleanup_free_ char *base = NULL;
  ws_files f = { 0 };
  int r;

  files_of (m, ws->name, &f);
  r = sb_vm_base_disk (m, ws->image, &base, err);
  if (r == 0 && access (f.root, F_OK) < 0)
    r = sb_vm_overlay (base, f.root, err);
  /* The volume outlives the workspace (rm without --volumes).  */
  if (r == 0)
    r = sb_vm_projects_disk (f.projects, cfg->uid, cfg->gid, err);
  files_release (&f);
  return r;
}

/* The run dir is recreated on every start and belongs to QEMU's uid.  */
static int
fresh_run_dir (const char *run, uid_t uid, sb_err **err)
{
  char *argv[] = { "rm", "-rf", (char *)run, NULL };
  if (sb_vm_run (argv, err) < 0)
    return -1;
  if (mkdir (run, 0700) < 0 || chown (run, uid, uid) < 0)
    return sb_error (err, errno, "prepare `%s`", run);
  return 0;
}

static int
launch (sb_mgr *m, const sb_ws_rec *ws, const sb_wsconfig *cfg, const ws_files *f, pid_t *pid, sb_err **err)
{
  _cleanup_free_ char *base = NULL, *snapshot = NULL;
  _cleanup_free_ sb_microvm_fwd *fwd = sb_xmalloc0 ((cfg->n_publish + 1) * sizeof (*fwd));
  sb_vm_boot b = { 0 };
  unsigned mem = cfg->memory ? (unsigned)(cfg->memory >> 20) : SB_VM_MEM_MB;
  unsigned cpus = cfg->cpus > 0 ? (unsigned)(cfg->cpus + 0.999) : SB_VM_CPUS;
  bool kvm = false;
  int r;

  for (size_t i = 0; i < cfg->n_publish; i++)
    fwd[i] = (sb_microvm_fwd){ .host_ip = cfg->publish[i].host_ip[0] ? cfg->publish[i].host_ip : NULL,
                               .host_port = cfg->publish[i].host_port,
                               .guest_port = cfg->publish[i].port,
                               .udp = cfg->publish[i].udp };
  if (sb_vm_boot_files (m, &b, err) < 0 || sb_vm_base_disk (m, ws->image, &base, err) < 0
      || sb_vm_accel (m, &b, ws->image, ws->id_first, &kvm, err) < 0)
    {
      sb_vm_boot_release (&b);
      return -1;
    }
  if (!kvm)
    fprintf (stderr, "sudobox: KVM cannot boot the guest on this host: using software emulation (TCG), "
                     "which is slower\n");
  /* The snapshot holds the template's memory size, cpus and network.  */
  r = 0;
  if (mem == SB_VM_MEM_MB && cpus == SB_VM_CPUS && cfg->network && !secure_getenv ("SUDOBOX_MICROVM_COLD"))
    r = sb_vm_template (m, &b, ws->image, ws->id_first, kvm, &snapshot, err);
  if (r == 0)
    {
      sb_microvm_cfg c = { .run_dir = f->run,
                           .vmlinux = b.vmlinux,
                           .initramfs = b.initramfs,
                           .base_disk = base,
                           .root_disk = f->root,
                           .projects_disk = f->projects,
                           .incoming = snapshot,
                           .uid = ws->id_first,
                           .gid = ws->id_first,
                           .mem_mb = mem,
                           .cpus = cpus,
                           .kvm = kvm,
                           .network = cfg->network,
                           .fwd = fwd,
                           .n_fwd = cfg->n_publish };
      r = fresh_run_dir (f->run, ws->id_first, err);
      if (r == 0)
        r = sb_vm_start_guest (&c, START_MS, pid, err);
    }
  sb_vm_boot_release (&b);
  return r;
}

int
sb_ws_microvm_start (sb_mgr *m, const sb_ws_rec *ws, sb_err **err)
{
  _cleanup_close_ int fd = -1, lock = -1;
  ws_files f = { 0 };
  sb_wsconfig cfg;
  uint64_t start = 0;
  pid_t pid = 0;
  int r;

  if (sb_wsconfig_from_json (ws->config, &cfg, err) < 0)
    return -1;
  files_of (m, ws->name, &f);
  r = launch (m, ws, &cfg, &f, &pid, err);
  if (r == 0)
    {
      char seed[65];
      sb_agent_setup s = { .hostname = cfg.hostname,
                           .root_dev = "vda",
                           .projects_dev = "vdb",
                           .seed = seed,
                           .pids_max = (uint32_t)cfg.pids };
      r = sb_vm_random_hex (seed, err);
      if (r == 0)
        r = sb_microvm_connect (f.run, 5000, &fd, &lock, err);
      if (r == 0)
        r = sb_microvm_setup (fd, &s, START_MS, err);
      if (r == 0 && sb_proc_start_time (pid, &start) < 0)
        r = sb_error (err, errno, "QEMU (pid %d) exited", pid);
      if (r == 0)
        r = sb_registry_ws_set_state (m->reg, ws->name, SB_WS_RUNNING, pid, start, -1, err);
      if (r < 0)
        sb_vm_kill (pid);
    }
  if (r < 0)
    sb_error_wrap (err, "start workspace \"%s\"", ws->name);
  files_release (&f);
  sb_wsconfig_release (&cfg);
  return r;
}

static bool
wait_gone (pid_t pid, int timeout_ms)
{
  _cleanup_close_ int fd = (int)syscall (SYS_pidfd_open, pid, 0);
  struct pollfd p = { .fd = fd, .events = POLLIN };
  return fd < 0 || poll (&p, 1, timeout_ms) > 0;
}

/* Poweroff through the agent (the guest syncs and unmounts), QEMU killed
   after the timeout.  */
int
sb_ws_microvm_stop (sb_mgr *m, const sb_ws_rec *ws, int timeout, sb_err **err)
{
  _cleanup_close_ int fd = -1, lock = -1;
  ws_files f = { 0 };
  int code = 0;

  files_of (m, ws->name, &f);
  if (sb_ws_microvm_alive (ws))
    {
      _cleanup_err_ sb_err *ignored = NULL;
      if (sb_microvm_connect (f.run, 2000, &fd, &lock, &ignored) < 0
          || sb_microvm_poweroff (fd, timeout * 1000, &ignored) < 0
          || !wait_gone (ws->monitor_pid, timeout * 1000))
        {
          code = 128 + SIGKILL;
          sb_vm_kill (ws->monitor_pid);
        }
    }
  {
    char *argv[] = { "rm", "-rf", f.run, NULL };
    sb_vm_run (argv, NULL);
  }
  files_release (&f);
  return sb_registry_ws_set_state (m->reg, ws->name, SB_WS_STOPPED, 0, 0, code, err);
}
