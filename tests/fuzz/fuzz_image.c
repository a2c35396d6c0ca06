/* libFuzzer target for the layer extractor: any input must be applied or
   refused with an error, never crash, and never write outside its
   destination.  Each input gets a fresh directory holding root/ (the
   destination) and canary/ (a sibling holding one file, f); anything new
   in canary/ or next to the two, or a link to or a change of f, is an
   escape and aborts, so the fuzzer keeps the input.  */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "image.h"
#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Number of entries in dir other than those named in keep.  */
static int
count_others (const char *dir, const char *keep1, const char *keep2)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  int n = 0;

  if (d == NULL)
    abort ();
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0
        && (keep1 == NULL || strcmp (de->d_name, keep1) != 0)
        && (keep2 == NULL || strcmp (de->d_name, keep2) != 0))
      n++;
  closedir (d);
  return n;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char base[] = "/tmp/sudobox-fuzz-image.XXXXXX";
  _cleanup_free_ char *root = NULL;
  _cleanup_free_ char *canary = NULL;
  _cleanup_free_ char *canary_file = NULL;
  struct stat st;
  _cleanup_close_ int fd = memfd_create ("layer", MFD_CLOEXEC);
  _cleanup_close_ int cfd = -1;
  uint64_t budget = 1 << 20;
  sb_err *err = NULL;

  if (fd < 0 || sb_write_all (fd, data, size) < 0 || lseek (fd, 0, SEEK_SET) != 0 || mkdtemp (base) == NULL)
    abort ();
  root = sb_xasprintf ("%s/root", base);
  canary = sb_xasprintf ("%s/canary", base);
  canary_file = sb_xasprintf ("%s/f", canary);
  if (mkdir (root, 0755) < 0 || mkdir (canary, 0755) < 0
      || (cfd = open (canary_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0
      || sb_write_all (cfd, "canary", 6) < 0 || fchmod (cfd, 0644) < 0)
    abort ();

  if (sb_image_apply_layer (fd, root, &budget, &err) < 0 && (err == NULL || err->msg == NULL))
    __builtin_trap ();
  sb_err_free (&err);

  if (count_others (canary, "f", NULL) != 0 || count_others (base, "root", "canary") != 0
      || lstat (canary_file, &st) < 0 || st.st_nlink != 1 || st.st_size != 6 || (st.st_mode & 07777) != 0644
      || st.st_uid != 0)
    {
      fprintf (stderr, "fuzz_image: the layer wrote outside its destination %s\n", root);
      abort ();
    }
  if (sb_image_remove_tree (AT_FDCWD, base, &err) < 0)
    {
      fprintf (stderr, "fuzz_image: cannot remove %s: %s\n", base, err->msg);
      abort ();
    }
  return 0;
}
