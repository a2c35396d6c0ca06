/* Replays fuzz inputs (the seed corpus and every saved crash) through a
   fuzz target's entry point in ordinary and sanitizer builds, so `make test`
   keeps them as regression tests.  Prints TAP: one line per directory.  */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
replay_dir (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  int n = 0;

  if (d == NULL)
    return 0;
  while ((de = readdir (d)) != NULL)
    {
      _cleanup_free_ char *path = NULL;
      _cleanup_free_ char *buf = NULL;
      size_t len = 0;
      if (de->d_name[0] == '.')
        continue;
      path = sb_xasprintf ("%s/%s", dir, de->d_name);
      if (sb_read_file_at (AT_FDCWD, path, 64u << 20, &buf, &len, NULL) < 0)
        continue;
      LLVMFuzzerTestOneInput ((const uint8_t *)buf, len);
      n++;
    }
  closedir (d);
  return n;
}

/* The build passes the target's corpus and regression directories.  */
int
main (void)
{
  const char *dirs[] = { REPLAY_CORPUS, REPLAY_REGRESSIONS };
  for (int i = 0; i < 2; i++)
    printf ("ok %d - replayed %d inputs of %s\n", i + 1, replay_dir (dirs[i]), dirs[i]);
  puts ("1..2");
  return 0;
}
