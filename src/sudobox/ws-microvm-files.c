/* What microvm workspaces boot from: the kernel and initramfs, the image
   as a disk, the workspace's overlay and /projects disks, and the snapshot
   of a booted template guest that new workspaces restore.  */
#include "ws-microvm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

int
sb_vm_boot_files (sb_mgr *m, sb_vm_boot *b, sb_err **err)
{
  return sb_vm_boot_files_in (m->root, b, err);
}

int
sb_vm_base_disk (sb_mgr *m, const char *image, char **path, sb_err **err)
{
  _cleanup_free_ char *tmp = NULL, *rootfs = NULL, *size = NULL;
  sb_image_rec *img = NULL;
  int64_t bytes = 0;
  int r = sb_registry_image_get (m->reg, image, &img, err);

  if (r != 0)
    return r < 0 ? -1 : sb_error (err, 0, "image \"%s\" not found", image);
  *path = sb_xasprintf ("%s/microvm.raw", img->dir);
  rootfs = sb_xasprintf ("%s/rootfs", img->dir);
  tmp = sb_xasprintf ("%s/.microvm.raw.%d", img->dir, getpid ());
  bytes = img->size;
  sb_image_rec_free (img);
  if (access (*path, R_OK) == 0)
    return 0;
  /* Room for what the workspace installs: the image plus 8 GiB, sparse.  */
  size = sb_xasprintf ("%lldk", (long long)((bytes + (8ll << 30)) / 1024));
  {
    char *argv[] = { "mkfs.ext4", "-q", "-F", "-L", "sudobox-root", "-d", rootfs, tmp, size, NULL };
    if (sb_vm_run (argv, err) < 0)
      {
        unlink (tmp);
        return sb_error_wrap (err, "make the disk of image \"%s\"", image);
      }
  }
  if (rename (tmp, *path) < 0)
    return sb_error (err, errno, "rename `%s`", tmp);
  return 0;
}
