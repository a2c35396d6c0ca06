/* Fast starts: a template guest of the image is booted once (cold) up to
   its agent answering, before any workspace disk is mounted, and saved
   with QEMU's migration into a file.  A workspace then starts QEMU with
   -incoming from that file: the same devices, its own disk files, and the
   agent mounts them once restored (after dropping what the kernel cached
   of the template's disks).  The template's placeholder disks have the
   same sizes as a workspace's, since the guest keeps what it probed.  The
   accelerator is decided here too: KVM only if a guest booted under it.  */
#include "ws-microvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define COLD_BOOT_MS 120000
#define KVM_PROBE_MS 15000

typedef struct tmpl
{
  char *dir, *run, *root, *projects, *snapshot, *keyfile;
} tmpl;

static void
tmpl_release (tmpl *t)
{
  free (t->dir);
  free (t->run);
  free (t->root);
  free (t->projects);
  free (t->snapshot);
  free (t->keyfile);
}

static int
tmpl_paths (sb_mgr *m, const char *image, tmpl *t, char **base, sb_err **err)
{
  if (sb_vm_base_disk (m, image, base, err) < 0)
    return -1;
  t->dir = sb_xasprintf ("%s/microvm/templates/%s", m->root, image);
  t->run = sb_xasprintf ("%s/run", t->dir);
  t->root = sb_xasprintf ("%s/root.qcow2", t->dir);
  t->projects = sb_xasprintf ("%s/projects.raw", t->dir);
  t->snapshot = sb_xasprintf ("%s/snapshot", t->dir);
  t->keyfile = sb_xasprintf ("%s/key", t->dir);
  return sb_mkdir_p (t->dir, 0700, err);
}

/* A fresh run dir owned by the VM's uid, and placeholder disks.  */
static int
tmpl_prepare (const tmpl *t, const char *base, uid_t uid, sb_err **err)
{
  _cleanup_close_ int fd = -1;
  char *rm_run[] = { "rm", "-rf", t->run, NULL };

  if (sb_vm_run (rm_run, err) < 0 || mkdir (t->run, 0700) < 0 || chown (t->run, uid, uid) < 0)
    return sb_error (err, errno, "prepare `%s`", t->run);
  unlink (t->root);
  unlink (t->projects);
  if (sb_vm_overlay (base, t->root, err) < 0)
    return -1;
  fd = open (t->projects, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || ftruncate (fd, (off_t)SB_MICROVM_PROJECTS_SIZE) < 0)
    return sb_error (err, errno, "create `%s`", t->projects);
  return 0;
}

static sb_microvm_cfg
tmpl_cfg (const sb_vm_boot *b, const tmpl *t, const char *base, uid_t uid, bool kvm)
{
  return (sb_microvm_cfg){ .run_dir = t->run,
                           .vmlinux = b->vmlinux,
                           .initramfs = b->initramfs,
                           .base_disk = base,
                           .root_disk = t->root,
                           .projects_disk = t->projects,
                           .uid = uid,
                           .gid = uid,
                           .mem_mb = SB_VM_MEM_MB,
                           .cpus = SB_VM_CPUS,
                           .kvm = kvm,
                           .network = true };
}

static int
read_small (const char *path, char *buf, size_t size)
{
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read (fd, buf, size - 1) : -1;
  buf[n > 0 ? n : 0] = '\0';
  return n > 0 ? 0 : -1;
}

int
sb_vm_accel (sb_mgr *m, const sb_vm_boot *b, const char *image, uid_t uid, bool *kvm, sb_err **err)
{
  _cleanup_free_ char *cache = sb_xasprintf ("%s/microvm/accel", m->root);
  _cleanup_free_ char *base = NULL;
  _cleanup_close_ int dev = -1;
  const char *env = secure_getenv ("SUDOBOX_MICROVM_ACCEL");
  char got[16];
  tmpl t = { 0 };
  pid_t pid;
  int r;

  if (env && *env)
    {
      if (strcmp (env, "kvm") != 0 && strcmp (env, "tcg") != 0)
        return sb_error (err, 0, "SUDOBOX_MICROVM_ACCEL=%s: expected kvm or tcg", env);
      *kvm = strcmp (env, "kvm") == 0;
      return 0;
    }
  if (read_small (cache, got, sizeof (got)) == 0)
    {
      *kvm = strncmp (got, "kvm", 3) == 0;
      return 0;
    }
  dev = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  *kvm = false;
  if (dev >= 0)
    {
      /* /dev/kvm may exist and still not boot a stock kernel (nested
         hosts): only an answering agent counts.  */
      _cleanup_err_ sb_err *ignored = NULL;
      if (tmpl_paths (m, image, &t, &base, err) < 0 || tmpl_prepare (&t, base, uid, err) < 0)
        {
          tmpl_release (&t);
          return -1;
        }
      sb_microvm_cfg c = tmpl_cfg (b, &t, base, uid, true);
      r = sb_vm_start_guest (&c, KVM_PROBE_MS, &pid, &ignored);
      if (r == 0)
        sb_vm_kill (pid);
      *kvm = r == 0;
      tmpl_release (&t);
    }
  return sb_write_file_atomic (cache, *kvm ? "kvm\n" : "tcg\n", 4, 0644, err);
}

static int
tmpl_build (const sb_vm_boot *b, const tmpl *t, const char *base, uid_t uid, bool kvm, sb_err **err)
{
  _cleanup_free_ char *tmp = sb_xasprintf ("%s.tmp", t->snapshot);
  _cleanup_close_ int out = -1;
  sb_microvm_cfg c;
  pid_t pid;
  int r;

  if (tmpl_prepare (t, base, uid, err) < 0)
    return -1;
  c = tmpl_cfg (b, t, base, uid, kvm);
  if (sb_vm_start_guest (&c, COLD_BOOT_MS, &pid, err) < 0)
    return sb_error_wrap (err, "boot the template guest");
  out = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0)
    r = sb_error (err, errno, "create `%s`", tmp);
  else
    r = sb_microvm_save (t->run, out, err);
  sb_vm_kill (pid);
  if (r == 0 && rename (tmp, t->snapshot) < 0)
    r = sb_error (err, errno, "rename `%s`", tmp);
  if (r < 0)
    unlink (tmp);
  return r;
}

int
sb_vm_template (sb_mgr *m, const sb_vm_boot *b, const char *image, uid_t uid, bool kvm, char **snapshot,
                sb_err **err)
{
  _cleanup_free_ char *base = NULL, *key = NULL, *lockpath = NULL;
  _cleanup_close_ int lock = -1;
  char have[4096];
  tmpl t = { 0 };
  int r = -1;

  if (tmpl_paths (m, image, &t, &base, err) < 0)
    goto out;
  key = sb_xasprintf ("%s %s %s\n", b->key, kvm ? "kvm" : "tcg", base);
  lockpath = sb_xasprintf ("%s.lock", t.dir);
  lock = open (lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0 || flock (lock, LOCK_EX) < 0)
    {
      r = sb_error (err, errno, "lock `%s`", lockpath);
      goto out;
    }
  if (read_small (t.keyfile, have, sizeof (have)) < 0 || strcmp (have, key) != 0
      || access (t.snapshot, R_OK) < 0)
    {
      unlink (t.keyfile);
      if (tmpl_build (b, &t, base, uid, kvm, err) < 0
          || sb_write_file_atomic (t.keyfile, key, strlen (key), 0600, err) < 0)
        goto out;
    }
  *snapshot = sb_steal (&t.snapshot);
  r = 0;
out:
  tmpl_release (&t);
  return r;
}
