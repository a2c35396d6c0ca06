#include "idrange.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "idclaim.h"
#include "util.h"

/* Host id 4294967295 is (uid_t) -1, "no id": the pool must end below it.  */
#define SB_ID_LIMIT 4294967295ull
/* Host ids below this belong to root and system users.  */
#define SB_ID_MIN 65536u
#define SB_IDRANGE_DEFAULT_COUNT (SB_IDRANGE_SIZE * 4096ull)
#define SB_SUBID_USER "sudobox"
#define SB_OWNER_MAX 1024

static int
pool_check (const sb_idpool *pool, const char *what, sb_err **err)
{
  if (pool->first < SB_ID_MIN)
    return sb_error (err, 0, "%s: first id %u is below %u (host system ids are never handed out)", what,
                     pool->first, SB_ID_MIN);
  if (pool->count < SB_IDRANGE_SIZE)
    return sb_error (err, 0, "%s: %u ids are fewer than one range of %u", what, pool->count, SB_IDRANGE_SIZE);
  if ((uint64_t)pool->first + pool->count > SB_ID_LIMIT)
    return sb_error (err, 0, "%s: %u+%u goes past the largest valid id %llu", what, pool->first, pool->count,
                     SB_ID_LIMIT - 1);
  return 0;
}

/* Parses "first:count" of a subid line for our user.  */
static int
subid_parse_range (char *rest, const char *path, unsigned line, sb_idpool *pool, sb_err **err)
{
  char *colon = strchr (rest, ':');
  uint64_t first, count;

  if (colon == NULL)
    return sb_error (err, 0, "%s:%u: expected NAME:FIRST:COUNT", path, line);
  *colon = '\0';
  if (sb_parse_u64 (rest, &first) < 0 || sb_parse_u64 (colon + 1, &count) < 0 || first > UINT32_MAX
      || count > UINT32_MAX)
    return sb_error (err, 0, "%s:%u: invalid range `%s:%s`", path, line, rest, colon + 1);
  pool->first = (uint32_t)first;
  pool->count = (uint32_t)count;
  return 0;
}

/* 0 when name has an entry (the first one wins, as for newuidmap), 1 when
   it has none or the file does not exist, -1 on error.  */
static int
subid_find (const char *path, const char *name, sb_idpool *pool, sb_err **err)
{
  _cleanup_fclose_ FILE *f = fopen (path, "re");
  _cleanup_free_ char *buf = NULL;
  size_t cap = 0, namelen = strlen (name);
  unsigned line = 0;
  ssize_t n;

  if (f == NULL && errno == ENOENT)
    return 1;
  if (f == NULL)
    return sb_error (err, errno, "open `%s`", path);
  while ((errno = 0, n = getline (&buf, &cap, f)) >= 0)
    {
      _cleanup_free_ char *where = NULL;
      line++;
      if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
      /* Lines of other users are not ours to judge.  */
      if (strncmp (buf, name, namelen) != 0 || buf[namelen] != ':')
        continue;
      if (subid_parse_range (buf + namelen + 1, path, line, pool, err) < 0)
        return -1;
      where = sb_xasprintf ("%s:%u", path, line);
      if (pool_check (pool, where, err) < 0)
        return -1;
      return 0;
    }
  if (errno != 0)
    return sb_error (err, errno, "read `%s`", path);
  return 1;
}

int
sb_idpool_from_subid (const char *subid_path, const char *name, sb_idpool *pool, sb_err **err)
{
  int r = subid_find (subid_path, name, pool, err);
  if (r > 0)
    return sb_error (err, 0, "`%s` has no entry for user \"%s\"", subid_path, name);
  return r;
}

static const char *
env_or (const char *var, const char *fallback)
{
  const char *v = secure_getenv (var);
  return v != NULL && *v != '\0' ? v : fallback;
}

int
sb_idpool_default (sb_idpool *pool, sb_err **err)
{
  const char *uid_path = env_or ("SUDOBOX_SUBID_FILE", "/etc/subuid");
  const char *gid_path = env_or ("SUDOBOX_SUBGID_FILE", "/etc/subgid");
  sb_idpool upool = { 0 }, gpool = { 0 };
  int ru, rg;

  ru = subid_find (uid_path, SB_SUBID_USER, &upool, err);
  if (ru < 0)
    return -1;
  rg = subid_find (gid_path, SB_SUBID_USER, &gpool, err);
  if (rg < 0)
    return -1;
  /* A slot is used for uids and gids alike, so a range reserved in only one
     of the files could be handed to someone else in the other.  */
  if (ru != rg || (ru == 0 && (upool.first != gpool.first || upool.count != gpool.count)))
    {
      _cleanup_free_ char *us
          = ru == 0 ? sb_xasprintf ("%u:%u", upool.first, upool.count) : sb_xstrdup ("none");
      _cleanup_free_ char *gs
          = rg == 0 ? sb_xasprintf ("%u:%u", gpool.first, gpool.count) : sb_xstrdup ("none");
      return sb_error (err, 0, "the \"%s\" entries of `%s` (%s) and `%s` (%s) must be the same range",
                       SB_SUBID_USER, uid_path, us, gid_path, gs);
    }
  if (ru == 0)
    {
      *pool = upool;
      return 0;
    }
  pool->first = SB_IDRANGE_DEFAULT_FIRST;
  pool->count = (uint32_t)SB_IDRANGE_DEFAULT_COUNT;
  if (SB_IDRANGE_DEFAULT_FIRST + SB_IDRANGE_DEFAULT_COUNT > SB_ID_LIMIT)
    pool->count = (uint32_t)((SB_ID_LIMIT - SB_IDRANGE_DEFAULT_FIRST) / SB_IDRANGE_SIZE * SB_IDRANGE_SIZE);
  return 0;
}

static int
owner_check (const char *owner, sb_err **err)
{
  size_t len = owner != NULL ? strlen (owner) : 0;
  if (len == 0 || len > SB_OWNER_MAX || strchr (owner, '\n') != NULL)
    return sb_error (err, 0, "invalid id range owner \"%s\"", owner != NULL ? owner : "");
  return 0;
}

/* Opens ROOT/idranges (creating it when create) and takes its lock.  Returns
   the directory fd, with the lock fd in *lockfd; 1 when it does not exist
   and !create.  */
static int
idranges_open (const char *root_dir, bool create, int lock_op, int *dirfd_out, int *lockfd, sb_err **err)
{
  _cleanup_free_ char *dir = sb_xasprintf ("%s/idranges", root_dir);
  _cleanup_close_ int dfd = -1, lfd = -1;
  int r;

  if (create && sb_mkdir_p (dir, 0700, err) < 0)
    return -1;
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 && errno == ENOENT && !create)
    return 1;
  if (dfd < 0)
    return sb_error (err, errno, "open `%s`", dir);
  lfd = openat (dfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lfd < 0)
    return sb_error (err, errno, "open `%s/.lock`", dir);
  do
    r = flock (lfd, lock_op);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return sb_error (err, errno, "lock `%s/.lock`", dir);
  *dirfd_out = sb_steal_fd (&dfd);
  *lockfd = sb_steal_fd (&lfd);
  return 0;
}

typedef struct slot
{
  uint32_t first;
  char *owner; /* "" when unreadable: owned by someone unknown */
} slot;

typedef struct slots
{
  slot *v;
  size_t n;
} slots;

static void
slots_freep (slots *s)
{
  for (size_t i = 0; i < s->n; i++)
    free (s->v[i].owner);
  free (s->v);
  s->v = NULL;
  s->n = 0;
}

static int
slot_cmp (const void *a, const void *b)
{
  const slot *x = a, *y = b;
  return x->first < y->first ? -1 : x->first > y->first;
}

/* Every slot file, sorted by first id.  Slot files are named by the first
   host id of their range rather than by an index into the pool, so they stay
   meaningful when the pool changes.  */
static int
slots_read (int dfd, slots *out, sb_err **err)
{
  int fd = fcntl (dfd, F_DUPFD_CLOEXEC, 3);
  DIR *d;
  struct dirent *de;

  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      return sb_error (err, saved, "read the id range directory");
    }
  rewinddir (d);
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      uint64_t first;
      char *owner = NULL;
      if (de->d_name[0] < '0' || de->d_name[0] > '9' || sb_parse_u64 (de->d_name, &first) < 0
          || first > UINT32_MAX)
        continue;
      if (sb_read_file_at (dfd, de->d_name, SB_OWNER_MAX, &owner, NULL, NULL) < 0)
        owner = sb_xstrdup ("");
      out->v = sb_xrealloc (out->v, (out->n + 1) * sizeof (slot));
      out->v[out->n++] = (slot){ .first = (uint32_t)first, .owner = owner };
    }
  if (errno != 0)
    {
      int saved = errno;
      closedir (d);
      return sb_error (err, saved, "read the id range directory");
    }
  closedir (d);
  if (out->n > 1)
    qsort (out->v, out->n, sizeof (slot), slot_cmp);
  return 0;
}

static const slot *
slots_find_owner (const slots *s, const char *owner)
{
  for (size_t i = 0; i < s->n; i++)
    if (strcmp (s->v[i].owner, owner) == 0)
      return &s->v[i];
  return NULL;
}

/* The lowest range of the pool overlapping no existing slot and claimed
   host-wide for this root and owner: 0, or 1 when there is none.  */
static int
slots_claim_lowest (const slots *s, const sb_idpool *pool, const char *root_dir, const char *owner,
                    uint32_t *first, sb_err **err)
{
  uint32_t nslots = pool->count / SB_IDRANGE_SIZE;
  size_t j = 0;

  for (uint32_t k = 0; k < nslots; k++)
    {
      uint64_t c = (uint64_t)pool->first + (uint64_t)k * SB_IDRANGE_SIZE;
      int r;
      while (j < s->n && (uint64_t)s->v[j].first + SB_IDRANGE_SIZE <= c)
        j++;
      if (j < s->n && s->v[j].first < c + SB_IDRANGE_SIZE)
        continue;
      r = sb_idclaim_take ((uint32_t)c, root_dir, owner, err);
      if (r < 0)
        return -1;
      if (r == 0)
        {
          *first = (uint32_t)c;
          return 0;
        }
    }
  return 1;
}

static int
slot_create (int dfd, const char *root_dir, uint32_t first, const char *owner, sb_err **err)
{
  char name[16];
  _cleanup_close_ int fd = -1;

  snprintf (name, sizeof (name), "%u", first);
  fd = openat (dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return sb_error (err, errno, "create `%s/idranges/%s`", root_dir, name);
  if (sb_write_all (fd, owner, strlen (owner)) < 0)
    {
      int saved = errno;
      unlinkat (dfd, name, 0);
      return sb_error (err, saved, "write `%s/idranges/%s`", root_dir, name);
    }
  return 0;
}

int
sb_idrange_alloc (const char *root_dir, const sb_idpool *pool, const char *owner, uint32_t *host_first,
                  sb_err **err)
{
  _cleanup_close_ int dfd = -1, lfd = -1;
  __attribute__ ((cleanup (slots_freep))) slots s = { 0 };
  const slot *mine;
  uint32_t first;
  int r;

  if (owner_check (owner, err) < 0 || pool_check (pool, "id pool", err) < 0)
    return -1;
  if (idranges_open (root_dir, true, LOCK_EX, &dfd, &lfd, err) < 0 || slots_read (dfd, &s, err) < 0)
    return sb_error_wrap (err, "allocate an id range for \"%s\"", owner);
  mine = slots_find_owner (&s, owner);
  if (mine != NULL)
    {
      *host_first = mine->first;
      return 0;
    }
  r = slots_claim_lowest (&s, pool, root_dir, owner, &first, err);
  if (r < 0)
    return -1;
  if (r > 0)
    return sb_error (err, 0, "no free id range in pool %u+%u (%u ranges of %u)", pool->first, pool->count,
                     pool->count / SB_IDRANGE_SIZE, SB_IDRANGE_SIZE);
  if (slot_create (dfd, root_dir, first, owner, err) < 0)
    {
      sb_idclaim_release (first, root_dir, owner, NULL);
      return -1;
    }
  *host_first = first;
  return 0;
}

int
sb_idrange_free (const char *root_dir, const char *owner, sb_err **err)
{
  _cleanup_close_ int dfd = -1, lfd = -1;
  __attribute__ ((cleanup (slots_freep))) slots s = { 0 };
  int r;

  if (owner_check (owner, err) < 0)
    return -1;
  r = idranges_open (root_dir, false, LOCK_EX, &dfd, &lfd, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (slots_read (dfd, &s, err) < 0)
    return -1;
  for (size_t i = 0; i < s.n; i++)
    {
      char name[16];
      if (strcmp (s.v[i].owner, owner) != 0)
        continue;
      snprintf (name, sizeof (name), "%u", s.v[i].first);
      if (unlinkat (dfd, name, 0) < 0 && errno != ENOENT)
        return sb_error (err, errno, "remove `%s/idranges/%s`", root_dir, name);
      if (sb_idclaim_release (s.v[i].first, root_dir, owner, err) < 0)
        return -1;
    }
  return 0;
}

int
sb_idrange_lookup (const char *root_dir, const char *owner, uint32_t *host_first, sb_err **err)
{
  _cleanup_close_ int dfd = -1, lfd = -1;
  __attribute__ ((cleanup (slots_freep))) slots s = { 0 };
  const slot *mine;
  int r;

  if (owner_check (owner, err) < 0)
    return -1;
  /* Shared: an alloc in progress has created its file but maybe not yet
     written the owner.  */
  r = idranges_open (root_dir, false, LOCK_SH, &dfd, &lfd, err);
  if (r != 0)
    return r;
  if (slots_read (dfd, &s, err) < 0)
    return -1;
  mine = slots_find_owner (&s, owner);
  if (mine == NULL)
    return 1;
  *host_first = mine->first;
  return 0;
}
