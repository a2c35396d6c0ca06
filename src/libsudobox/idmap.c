#include "idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>

#include "util.h"

int
sb_idmap_tree (const char *path, int userns_fd, bool recursive, sb_err **err)
{
  unsigned int rec = recursive ? AT_RECURSIVE : 0;
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd };
  _cleanup_close_ int fd = open_tree (AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);

  if (fd < 0)
    return sb_error (err, errno, "open_tree `%s`", path);
  if (mount_setattr (fd, "", AT_EMPTY_PATH | rec, &attr, sizeof (attr)) < 0)
    return sb_error (err, errno, "idmap mount of `%s`", path);
  return sb_steal_fd (&fd);
}

/* mountinfo escapes blanks, tabs, newlines and backslashes as \ooo.  */
static void
unescape_octal (char *s)
{
  char *w = s;
  for (char *r = s; *r; r++)
    {
      if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0'
          && r[3] <= '7')
        {
          *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
          r += 3;
        }
      else
        *w++ = *r;
    }
  *w = '\0';
}

/* The super options of the overlay mounted exactly at path, or NULL.  */
static char *
overlay_options (const char *path)
{
  _cleanup_fclose_ FILE *f = fopen ("/proc/self/mountinfo", "re");
  _cleanup_free_ char *line = NULL;
  char *found = NULL;
  size_t cap = 0;

  if (f == NULL)
    return NULL;
  while (getline (&line, &cap, f) > 0)
    {
      char *save = NULL, *mnt, *sep, *fstype, *opts;
      strtok_r (line, " ", &save);
      strtok_r (NULL, " ", &save);
      strtok_r (NULL, " ", &save);
      strtok_r (NULL, " ", &save);
      mnt = strtok_r (NULL, " ", &save);
      sep = strstr (save, " - ");
      if (mnt == NULL || sep == NULL)
        continue;
      unescape_octal (mnt);
      fstype = strtok_r (sep + 3, " ", &save);
      strtok_r (NULL, " ", &save);
      opts = strtok_r (NULL, " \n", &save);
      if (strcmp (mnt, path) != 0 || fstype == NULL || opts == NULL)
        continue;
      free (found);
      /* The last mount at path is the visible one.  */
      found = strcmp (fstype, "overlay") == 0 ? sb_xstrdup (opts) : NULL;
    }
  return found;
}

/* Splits "a:b\:c" on unescaped colons (overlay's own escaping).  */
static char **
split_layers (const char *value)
{
  char **out = NULL;
  _cleanup_free_ char *cur = sb_xmalloc0 (strlen (value) + 1);
  size_t n = 0;

  for (const char *p = value;; p++)
    {
      if (*p == '\\' && p[1] != '\0')
        {
          cur[n++] = *++p;
          continue;
        }
      if (*p == ':' || *p == '\0')
        {
          cur[n] = '\0';
          unescape_octal (cur);
          if (*cur)
            sb_strv_append (&out, cur);
          n = 0;
          if (*p == '\0')
            break;
          continue;
        }
      cur[n++] = *p;
    }
  return out;
}

static int
set_layer_fd (int fsfd, const char *key, const char *path, int userns_fd, sb_err **err)
{
  _cleanup_close_ int fd = sb_idmap_tree (path, userns_fd, false, err);
  if (fd < 0)
    return -1;
  if (fsconfig (fsfd, FSCONFIG_SET_FD, key, NULL, fd) < 0)
    return sb_error (err, errno, "overlay: set %s `%s`", key, path);
  return 0;
}

/* upperdir and workdir must be on one mount: idmap their common parent once
   and name both through it.  */
static int
set_upper_work (int fsfd, char *upper, char *work, int userns_fd, sb_err **err)
{
  _cleanup_free_ char *parent = NULL;
  _cleanup_close_ int pfd = -1;
  size_t common = 0;
  char buf[64];

  unescape_octal (upper);
  unescape_octal (work);
  for (size_t i = 0; upper[i] && upper[i] == work[i]; i++)
    if (upper[i] == '/')
      common = i;
  if (common == 0)
    return sb_error (err, 0, "overlay: upperdir `%s` and workdir `%s` share no parent directory", upper,
                     work);
  parent = strndup (upper, common);
  pfd = sb_idmap_tree (parent, userns_fd, false, err);
  if (pfd < 0)
    return -1;
  snprintf (buf, sizeof (buf), "/proc/self/fd/%d", pfd);
  {
    _cleanup_free_ char *u = sb_xasprintf ("%s%s", buf, upper + common);
    _cleanup_free_ char *w = sb_xasprintf ("%s%s", buf, work + common);
    if (fsconfig (fsfd, FSCONFIG_SET_STRING, "upperdir", u, 0) < 0)
      return sb_error (err, errno, "overlay: set upperdir `%s`", upper);
    if (fsconfig (fsfd, FSCONFIG_SET_STRING, "workdir", w, 0) < 0)
      return sb_error (err, errno, "overlay: set workdir `%s`", work);
  }
  return 0;
}

int
sb_idmap_overlay (const char *path, int userns_fd, int *out, sb_err **err)
{
  _cleanup_free_ char *opts = overlay_options (path);
  _cleanup_strv_ char **lower = NULL;
  _cleanup_close_ int fsfd = -1;
  char *upper = NULL, *work = NULL, *save = NULL;
  int mfd;

  *out = -1;
  if (opts == NULL)
    return 0;
  for (char *o = strtok_r (opts, ",", &save); o; o = strtok_r (NULL, ",", &save))
    {
      if (strncmp (o, "lowerdir=", 9) == 0)
        lower = split_layers (o + 9);
      else if (strncmp (o, "upperdir=", 9) == 0)
        upper = o + 9;
      else if (strncmp (o, "workdir=", 8) == 0)
        work = o + 8;
    }
  if (lower == NULL)
    return sb_error (err, 0, "overlay rootfs `%s`: no lowerdir in its mount options", path);
  fsfd = fsopen ("overlay", FSOPEN_CLOEXEC);
  if (fsfd < 0)
    return sb_error (err, errno, "fsopen overlay");
  for (char **l = lower; *l; l++)
    if (set_layer_fd (fsfd, "lowerdir+", *l, userns_fd, err) < 0)
      return -1;
  if (upper != NULL && work != NULL && set_upper_work (fsfd, upper, work, userns_fd, err) < 0)
    return -1;
  if (fsconfig (fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return sb_error (err, errno, "overlay over idmapped layers of `%s`", path);
  mfd = fsmount (fsfd, FSMOUNT_CLOEXEC, 0);
  if (mfd < 0)
    return sb_error (err, errno, "fsmount overlay of `%s`", path);
  *out = mfd;
  return 0;
}
