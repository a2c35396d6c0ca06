#include "idclaim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define CLAIM_MAX (PATH_MAX + 1100)

/* The claims directory, locked: every operation reads and changes claims
   under one exclusive flock, so a stale claim is taken over by one
   allocator only.  */
static const char *
claims_dir (void)
{
  const char *env = secure_getenv ("SUDOBOX_IDCLAIM_DIR");
  return env && *env ? env : SB_IDCLAIM_DIR;
}

static int
claims_open (int *dirfd, int *lockfd, sb_err **err)
{
  _cleanup_close_ int dfd = -1, lfd = -1;
  const char *dir = claims_dir ();
  int r;

  if (sb_mkdir_p (dir, 0700, err) < 0)
    return -1;
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dfd < 0)
    return sb_error (err, errno, "open `%s`", dir);
  lfd = openat (dfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lfd < 0)
    return sb_error (err, errno, "open `%s/.lock`", dir);
  do
    r = flock (lfd, LOCK_EX);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return sb_error (err, errno, "lock `%s/.lock`", dir);
  *dirfd = sb_steal_fd (&dfd);
  *lockfd = sb_steal_fd (&lfd);
  return 0;
}

/* "ROOT\tOWNER" with ROOT made absolute (it exists while it allocates).  */
static char *
claim_text (const char *root, const char *owner, sb_err **err)
{
  _cleanup_free_ char *abs = realpath (root, NULL);

  if (abs == NULL)
    {
      sb_error (err, errno, "state root `%s`", root);
      return NULL;
    }
  if (strchr (abs, '\t') || strchr (abs, '\n') || strchr (owner, '\t') || strchr (owner, '\n'))
    {
      sb_error (err, 0, "state root `%s` or owner \"%s\" holds a tab or newline", abs, owner);
      return NULL;
    }
  return sb_xasprintf ("%s\t%s", abs, owner);
}

/* A claim's ROOT still exists: the claim may be in use.  Claims are
   written under the lock, so one without its tab is the torn write of a
   killed allocator: stale.  */
static bool
claim_live (const char *text)
{
  _cleanup_free_ char *root = sb_xstrdup (text);
  char *tab = strchr (root, '\t');

  if (tab == NULL)
    return false;
  *tab = '\0';
  return access (root, F_OK) == 0 || errno != ENOENT;
}

static int
claim_write (int dfd, const char *name, const char *text, sb_err **err)
{
  _cleanup_close_ int fd = openat (dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    return sb_error (err, errno, "create `%s/%s`", claims_dir (), name);
  if (sb_write_all (fd, text, strlen (text)) < 0)
    {
      int saved = errno;
      unlinkat (dfd, name, 0);
      return sb_error (err, saved, "write `%s/%s`", claims_dir (), name);
    }
  return 0;
}

/* The claim on first as it is now, under the lock: its file name in
   name, its text in *held (NULL when there is none), what this root and
   owner would write in *text.  */
typedef struct claim
{
  int dfd, lfd;
  char name[16];
  char *text, *held;
} claim;

static void
claim_release (claim *c)
{
  if (c->dfd >= 0)
    close (c->dfd);
  if (c->lfd >= 0)
    close (c->lfd);
  free (c->text);
  free (c->held);
}

static int
claim_load (claim *c, uint32_t first, const char *root, const char *owner, sb_err **err)
{
  *c = (claim){ .dfd = -1, .lfd = -1 };
  snprintf (c->name, sizeof c->name, "%u", first);
  c->text = claim_text (root, owner, err);
  if (c->text == NULL || claims_open (&c->dfd, &c->lfd, err) < 0)
    return -1;
  if (sb_read_file_at (c->dfd, c->name, CLAIM_MAX, &c->held, NULL, NULL) < 0)
    c->held = NULL;
  return 0;
}

int
sb_idclaim_take (uint32_t first, const char *root, const char *owner, sb_err **err)
{
  __attribute__ ((cleanup (claim_release))) claim c;

  if (claim_load (&c, first, root, owner, err) < 0)
    return -1;
  if (c.held != NULL)
    {
      if (strcmp (c.held, c.text) == 0)
        return 0;
      if (claim_live (c.held))
        return 1;
      if (unlinkat (c.dfd, c.name, 0) < 0)
        return sb_error (err, errno, "remove the stale claim `%s/%s`", claims_dir (), c.name);
    }
  return claim_write (c.dfd, c.name, c.text, err);
}

int
sb_idclaim_release (uint32_t first, const char *root, const char *owner, sb_err **err)
{
  __attribute__ ((cleanup (claim_release))) claim c;

  if (claim_load (&c, first, root, owner, err) < 0)
    return -1;
  if (c.held == NULL || strcmp (c.held, c.text) != 0)
    return 0;
  if (unlinkat (c.dfd, c.name, 0) < 0 && errno != ENOENT)
    return sb_error (err, errno, "remove `%s/%s`", claims_dir (), c.name);
  return 0;
}

/* A claim sb_idclaim_prune releases: stale, or one of this root that
   keep does not want.  */
static bool
claim_goes (const char *held, uint32_t first, const char *prefix,
            bool (*keep) (uint32_t, const char *, void *), void *arg)
{
  size_t plen = strlen (prefix);
  return !claim_live (held) || (strncmp (held, prefix, plen) == 0 && !keep (first, held + plen, arg));
}

/* Calls fn for every claim file of the directory with its text; stops
   when fn returns true.  1 when one did, 0 when none, -1 when the
   directory cannot be read.  */
static int
for_each_claim (int dfd, bool (*fn) (int dfd, const char *name, uint32_t first, const char *held, void *ctx),
                void *ctx)
{
  DIR *d = fdopendir (fcntl (dfd, F_DUPFD_CLOEXEC, 3));
  struct dirent *de;
  bool stopped = false;

  if (d == NULL)
    return -1;
  while (!stopped && (de = readdir (d)) != NULL)
    {
      _cleanup_free_ char *held = NULL;
      uint64_t first;
      if (sb_parse_u64 (de->d_name, &first) < 0 || first > UINT32_MAX
          || sb_read_file_at (dfd, de->d_name, CLAIM_MAX, &held, NULL, NULL) < 0)
        continue;
      stopped = fn (dfd, de->d_name, (uint32_t)first, held, ctx);
    }
  closedir (d);
  return stopped;
}

typedef struct prune_ctx
{
  const char *prefix;
  bool (*keep) (uint32_t first, const char *owner, void *arg);
  void *arg;
} prune_ctx;

static bool
release_if_gone (int dfd, const char *name, uint32_t first, const char *held, void *ctx)
{
  prune_ctx *p = ctx;
  if (claim_goes (held, first, p->prefix, p->keep, p->arg))
    unlinkat (dfd, name, 0);
  return false;
}

static bool
found_gone (int dfd, const char *name, uint32_t first, const char *held, void *ctx)
{
  prune_ctx *p = ctx;
  (void)dfd;
  (void)name;
  return claim_goes (held, first, p->prefix, p->keep, p->arg);
}

int
sb_idclaim_prune (const char *root, bool (*keep) (uint32_t first, const char *owner, void *arg), void *arg,
                  sb_err **err)
{
  _cleanup_close_ int dfd = -1, lfd = -1;
  _cleanup_free_ char *prefix = claim_text (root, "", err);
  prune_ctx p = { .keep = keep, .arg = arg };

  if (prefix == NULL || claims_open (&dfd, &lfd, err) < 0)
    return -1;
  p.prefix = prefix;
  if (for_each_claim (dfd, release_if_gone, &p) < 0)
    return sb_error (err, errno, "read `%s`", claims_dir ());
  return 0;
}

bool
sb_idclaim_prune_pending (const char *root, bool (*keep) (uint32_t first, const char *owner, void *arg),
                          void *arg)
{
  _cleanup_free_ char *prefix = claim_text (root, "", NULL);
  _cleanup_close_ int dfd = open (claims_dir (), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  prune_ctx p = { .prefix = prefix, .keep = keep, .arg = arg };

  if (dfd < 0 && errno == ENOENT)
    return false; /* no claim yet */
  if (prefix == NULL || dfd < 0)
    return true;
  return for_each_claim (dfd, found_gone, &p) != 0;
}
