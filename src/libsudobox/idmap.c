#include "idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>

#include "caps.h"

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
      sb_unescape_octal (mnt);
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
          sb_unescape_octal (cur);
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

/* Returns the idmapped copy's fd: it must stay open until the overlay is
   created, or the detached copy is dissolved and overlayfs cannot clone it.  */
static int
set_layer_fd (int fsfd, const char *key, const char *path, int userns_fd, sb_err **err)
{
  _cleanup_close_ int fd = sb_idmap_tree (path, userns_fd, false, err);
  if (fd < 0)
    return -1;
  if (fsconfig (fsfd, FSCONFIG_SET_FD, key, NULL, fd) < 0)
    return sb_error (err, errno, "overlay: set %s `%s`", key, path);
  return sb_steal_fd (&fd);
}

/* upperdir and workdir must be on one mount: idmap their common parent once
   and name both through it.  Returns that copy's fd (kept open likewise).  */
static int
set_upper_work (int fsfd, char *upper, char *work, int userns_fd, sb_err **err)
{
  _cleanup_free_ char *parent = NULL;
  _cleanup_close_ int pfd = -1;
  size_t common = 0;
  char buf[64];

  sb_unescape_octal (upper);
  sb_unescape_octal (work);
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
  return sb_steal_fd (&pfd);
}

/* overlayfs works in the upper layer with the credentials of whoever
   created it.  Through an idmapped upper, host root (fsuid 0) has no on-disk
   id: act as the container's root (the host id its uid 0 maps to), keeping
   every capability, while the overlay is set up.  */
static int
become_mounter (uid_t uid, gid_t gid, sb_err **err)
{
  setfsgid (gid);
  setfsuid (uid);
  if ((uid_t)setfsuid ((uid_t)-1) != uid || (gid_t)setfsgid ((gid_t)-1) != gid)
    return sb_error (err, EPERM, "switch to the container's root %u:%u for the overlay", uid, gid);
  return sb_caps_raise_effective (err);
}

static void
restore_mounter (bool *active)
{
  if (!*active)
    return;
  setfsuid (0);
  setfsgid (0);
  sb_caps_raise_effective (NULL);
}

/* The idmapped layer copies: they must stay open until the overlay is
   created, or the detached copies are dissolved and overlayfs cannot clone
   them.  */
typedef struct held_fds
{
  int fds[SB_IDMAP_MAX_LAYERS + 1];
  size_t n;
} held_fds;

static void
held_release (held_fds *h)
{
  for (size_t i = 0; i < h->n; i++)
    close (h->fds[i]);
}

/* flags: options without a value to carry over from the original mount.  */
static int
overlay_layers (char **lower, char *upper, char *work, char **flags, int userns_fd, uid_t root_uid,
                gid_t root_gid, sb_err **err)
{
  __attribute__ ((cleanup (restore_mounter))) bool as_mounter = true;
  __attribute__ ((cleanup (held_release))) held_fds held = { .n = 0 };
  _cleanup_close_ int fsfd = -1;
  int fd;

  if (sb_strv_len (lower) > SB_IDMAP_MAX_LAYERS)
    return sb_error (err, E2BIG, "overlay: more than %d layers", SB_IDMAP_MAX_LAYERS);
  /* The credentials at FSCONFIG_CMD_CREATE become the overlay's.  */
  if (become_mounter (root_uid, root_gid, err) < 0)
    return -1;
  fsfd = fsopen ("overlay", FSOPEN_CLOEXEC);
  if (fsfd < 0)
    return sb_error (err, errno, "fsopen overlay");
  for (char **l = lower; *l; l++)
    {
      if ((fd = set_layer_fd (fsfd, "lowerdir+", *l, userns_fd, err)) < 0)
        return -1;
      held.fds[held.n++] = fd;
    }
  if (upper != NULL && work != NULL)
    {
      if ((fd = set_upper_work (fsfd, upper, work, userns_fd, err)) < 0)
        return -1;
      held.fds[held.n++] = fd;
    }
  for (char **f = flags; f && *f; f++)
    if (fsconfig (fsfd, FSCONFIG_SET_FLAG, *f, NULL, 0) < 0)
      return sb_error (err, errno, "overlay: set option `%s`", *f);
  if (fsconfig (fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return sb_error (err, errno, "overlay over idmapped layers");
  fd = fsmount (fsfd, FSMOUNT_CLOEXEC, 0);
  if (fd < 0)
    return sb_error (err, errno, "fsmount overlay");
  return fd;
}

int
sb_idmap_overlay_layers (char **lower, char *upper, char *work, int userns_fd, uid_t root_uid, gid_t root_gid,
                         sb_err **err)
{
  return overlay_layers (lower, upper, work, NULL, userns_fd, root_uid, root_gid, err);
}

/* work: as in the mount options (escaped); returns WORK/sudobox, created.  */
static char *
volatile_workdir (const char *work, sb_err **err)
{
  _cleanup_free_ char *dir = sb_xasprintf ("%s/sudobox", work);
  _cleanup_free_ char *plain = sb_xstrdup (dir);

  sb_unescape_octal (plain);
  if (mkdir (plain, 0700) < 0 && errno != EEXIST)
    {
      sb_error (err, errno, "overlay: mkdir the workdir `%s`", plain);
      return NULL;
    }
  return sb_steal (&dir);
}

int
sb_idmap_overlay (const char *path, int userns_fd, uid_t root_uid, gid_t root_gid, int *out, sb_err **err)
{
  _cleanup_free_ char *opts = overlay_options (path);
  _cleanup_strv_ char **lower = NULL, **flags = NULL;
  _cleanup_free_ char *own_work = NULL;
  char *upper = NULL, *work = NULL, *save = NULL;

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
      /* Newer kernels show the volatile option as fsync=volatile.  */
      else if (strcmp (o, "volatile") == 0 || strcmp (o, "fsync=volatile") == 0)
        sb_strv_append (&flags, "volatile");
    }
  if (lower == NULL)
    return sb_error (err, 0, "overlay rootfs `%s`: no lowerdir in its mount options", path);
  /* A volatile overlay (podman --rm) marks its workdir dirty while mounted,
     and the kernel refuses a second overlay on that workdir: ours gets its
     own inside it (removed with the layer) and is volatile too.  */
  if (flags != NULL && work != NULL && (work = own_work = volatile_workdir (work, err)) == NULL)
    return -1;
  *out = overlay_layers (lower, upper, work, flags, userns_fd, root_uid, root_gid, err);
  return *out < 0 ? sb_error_wrap (err, "rootfs `%s`", path) : 0;
}
