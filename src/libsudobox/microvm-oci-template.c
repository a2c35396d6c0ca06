/* The snapshot OCI microvms restore instead of booting: a guest booted once
   up to its agent, before any disk is mounted, with placeholder disks of
   the sizes every container's disks have (the guest keeps what it probed;
   the agent drops what it cached of them before mounting).  One per state
   root, kernel, agent and accelerator: it holds nothing of a bundle.  */
#include "microvm-oci.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define TEMPLATE_BOOT_MS 120000

typedef struct tmpl
{
  char *dir, *run, *base, *root, *projects, *snapshot, *keyfile;
} tmpl;

static void
tmpl_release (tmpl *t)
{
  free (t->dir);
  free (t->run);
  free (t->base);
  free (t->root);
  free (t->projects);
  free (t->snapshot);
  free (t->keyfile);
}

static void
tmpl_paths (const char *cache, tmpl *t)
{
  t->dir = sb_xasprintf ("%s/template", cache);
  t->run = sb_xasprintf ("%s/run", t->dir);
  t->base = sb_xasprintf ("%s/base.raw", t->dir);
  t->root = sb_xasprintf ("%s/root.qcow2", t->dir);
  t->projects = sb_xasprintf ("%s/projects.raw", t->dir);
  t->snapshot = sb_xasprintf ("%s/snapshot", t->dir);
  t->keyfile = sb_xasprintf ("%s/key", t->dir);
}

static int
sparse_file (const char *path, off_t size, sb_err **err)
{
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || ftruncate (fd, size) < 0)
    return sb_error (err, errno, "create `%s`", path);
  return 0;
}

/* A fresh run dir owned by the VM's uid, and placeholder disks.  */
static int
tmpl_prepare (const tmpl *t, uid_t uid, sb_err **err)
{
  char *rm[] = { "rm", "-rf", t->run, NULL };

  if (sb_vm_run (rm, err) < 0)
    return -1;
  if (mkdir (t->run, 0700) < 0 || chown (t->run, uid, uid) < 0)
    return sb_error (err, errno, "prepare `%s`", t->run);
  unlink (t->root);
  if (sparse_file (t->base, (off_t)SB_MICROVM_OCI_ROOT_SIZE, err) < 0
      || sb_vm_overlay (t->base, t->root, err) < 0)
    return -1;
  return sparse_file (t->projects, (off_t)SB_MICROVM_PROJECTS_SIZE, err);
}

static int
tmpl_build (const sb_vm_boot *b, const tmpl *t, uid_t uid, bool kvm, sb_err **err)
{
  _cleanup_free_ char *tmp = sb_xasprintf ("%s.tmp", t->snapshot);
  _cleanup_close_ int out = -1;
  sb_microvm_cfg c = { .run_dir = t->run,
                       .vmlinux = b->vmlinux,
                       .initramfs = b->initramfs,
                       .base_disk = t->base,
                       .root_disk = t->root,
                       .projects_disk = t->projects,
                       .uid = uid,
                       .gid = uid,
                       .mem_mb = SB_MICROVM_OCI_MEM_MB,
                       .cpus = 1,
                       .kvm = kvm,
                       .network = true };
  pid_t pid;
  int r;

  if (tmpl_prepare (t, uid, err) < 0)
    return -1;
  if (sb_vm_start_guest (&c, TEMPLATE_BOOT_MS, &pid, err) < 0)
    return sb_error_wrap (err, "boot the template guest");
  out = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  r = out < 0 ? sb_error (err, errno, "create `%s`", tmp) : sb_microvm_save (t->run, out, err);
  sb_vm_kill (pid);
  if (r == 0 && rename (tmp, t->snapshot) < 0)
    r = sb_error (err, errno, "rename `%s`", tmp);
  if (r < 0)
    unlink (tmp);
  return r;
}

int
sb_microvm_oci_template (const char *cache, const sb_vm_boot *b, uid_t uid, bool kvm, char **snapshot,
                         sb_err **err)
{
  _cleanup_free_ char *key = sb_xasprintf ("%s %s\n", b->key, kvm ? "kvm" : "tcg"), *have = NULL;
  _cleanup_free_ char *lockpath = sb_xasprintf ("%s/template.lock", cache);
  _cleanup_close_ int lock = open (lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  tmpl t = { 0 };
  size_t len;
  int r = 0;

  if (lock < 0 || flock (lock, LOCK_EX) < 0)
    return sb_error (err, errno, "lock `%s`", lockpath);
  tmpl_paths (cache, &t);
  if (sb_read_file_at (AT_FDCWD, t.keyfile, 4096, &have, &len, NULL) < 0 || strcmp (have, key) != 0
      || access (t.snapshot, R_OK) < 0)
    {
      unlink (t.keyfile);
      r = sb_mkdir_p (t.dir, 0700, err);
      if (r == 0)
        r = tmpl_build (b, &t, uid, kvm, err);
      if (r == 0)
        r = sb_write_file_atomic (t.keyfile, key, strlen (key), 0600, err);
    }
  if (r == 0)
    *snapshot = sb_steal (&t.snapshot);
  tmpl_release (&t);
  return r;
}
