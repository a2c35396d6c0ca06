/* The worker: a libfuse low-level session on a clone of the supervisor's
   /dev/fuse connection.  The low-level API because the worker must own the
   session fd (a clone, so that its in-flight requests are aborted by the
   kernel when it dies rather than hang) and replay the connection's INIT,
   neither of which the high-level API allows; and inode numbers of a fixed
   tree need no path strings.  Every open renders the file once into the
   open file (a consistent snapshot for every read at any offset), direct_io
   so the page cache never serves a stale figure.  */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

enum kind
{
  K_DIR,
  K_MEMINFO,
  K_CPUINFO,
  K_STAT,
  K_UPTIME,
  K_LOADAVG,
  K_SWAPS,
  K_DISKSTATS,
  K_ONLINE,
  K_SYSCTL,
};

typedef struct node
{
  const char *name;
  fuse_ino_t parent;
  enum kind kind;
  int sysctl; /* index in sb_pfs_sysctls for K_SYSCTL */
} node;

#define MAX_NODES 96
/* Inode i is nodes[i]; 1 is the root.  */
static node nodes[MAX_NODES];
static size_t n_nodes = 2;
static char *names[MAX_NODES];

static const sb_pfs_config *cfg;
static sb_pfs_shared *shared;
static sb_pfs_source src;

static fuse_ino_t
child (fuse_ino_t parent, const char *name)
{
  for (size_t i = 2; i < n_nodes; i++)
    if (nodes[i].parent == parent && strcmp (nodes[i].name, name) == 0)
      return i;
  return 0;
}

/* Adds "a/b/c" below the root, making the directories on the way.  */
static void
add_path (const char *path, enum kind kind, int sysctl)
{
  _cleanup_free_ char *copy = sb_xstrdup (path);
  fuse_ino_t at = 1;
  char *save = NULL;

  for (char *part = strtok_r (copy, "/", &save); part; part = strtok_r (NULL, "/", &save))
    {
      bool last = save == NULL || *save == '\0';
      fuse_ino_t next = child (at, part);
      if (next == 0)
        {
          if (n_nodes == MAX_NODES)
            abort ();
          names[n_nodes] = sb_xstrdup (part);
          nodes[n_nodes] = (node){ names[n_nodes], at, last ? kind : K_DIR, sysctl };
          next = n_nodes++;
        }
      at = next;
    }
}

static void
build_tree (void)
{
  static const struct
  {
    const char *path;
    enum kind kind;
  } files[] = {
    { "proc/meminfo", K_MEMINFO },     { "proc/cpuinfo", K_CPUINFO },
    { "proc/stat", K_STAT },           { "proc/uptime", K_UPTIME },
    { "proc/loadavg", K_LOADAVG },     { "proc/swaps", K_SWAPS },
    { "proc/diskstats", K_DISKSTATS }, { "sys/devices/system/cpu/online", K_ONLINE },
  };

  nodes[1] = (node){ "", 1, K_DIR, -1 };
  for (size_t i = 0; i < sizeof (files) / sizeof (files[0]); i++)
    add_path (files[i].path, files[i].kind, -1);
  for (int i = 0; sb_pfs_sysctls[i] && i < SB_PFS_MAX_SYSCTL; i++)
    if (shared->sysctl[i][0])
      {
        _cleanup_free_ char *p = sb_xasprintf ("proc/sys/%s", sb_pfs_sysctls[i]);
        add_path (p, K_SYSCTL, i);
      }
}

static void
fill_attr (fuse_ino_t ino, struct stat *st)
{
  memset (st, 0, sizeof (*st));
  st->st_ino = ino;
  st->st_uid = cfg->uid;
  st->st_gid = cfg->gid;
  st->st_nlink = nodes[ino].kind == K_DIR ? 2 : 1;
  st->st_mode = nodes[ino].kind == K_DIR      ? S_IFDIR | 0555
                : nodes[ino].kind == K_SYSCTL ? S_IFREG | 0644
                                              : S_IFREG | 0444;
  st->st_blksize = 4096;
}

/* The tree never changes: the kernel may cache names and attributes.  */
#define FOREVER 86400.0

static void
op_lookup (fuse_req_t req, fuse_ino_t parent, const char *name)
{
  struct fuse_entry_param e = { .attr_timeout = FOREVER, .entry_timeout = FOREVER };
  fuse_ino_t ino = parent < n_nodes ? child (parent, name) : 0;

  if (ino == 0)
    {
      fuse_reply_err (req, ENOENT);
      return;
    }
  e.ino = ino;
  fill_attr (ino, &e.attr);
  fuse_reply_entry (req, &e);
}

static void
op_getattr (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  struct stat st;

  (void)fi;
  if (ino == 0 || ino >= n_nodes)
    {
      fuse_reply_err (req, ENOENT);
      return;
    }
  fill_attr (ino, &st);
  fuse_reply_attr (req, &st, FOREVER);
}

/* Only a truncation (open with O_TRUNC of a sysctl entry) gets here; the
   value changes on write, so there is nothing to do.  */
static void
op_setattr (fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
  (void)attr;
  if (ino >= n_nodes || nodes[ino].kind != K_SYSCTL
      || (to_set & ~(FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_CTIME | FUSE_SET_ATTR_MTIME)))
    {
      fuse_reply_err (req, EPERM);
      return;
    }
  op_getattr (req, ino, fi);
}

static void
op_readdir (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
  char buf[4096];
  size_t len = 0;
  size_t n = (size_t)off;

  (void)fi;
  if (size > sizeof (buf))
    size = sizeof (buf);
  /* Offsets are positions among this directory's children.  */
  for (size_t i = 2, k = 0; i < n_nodes; i++)
    if (nodes[i].parent == ino && k++ >= n)
      {
        struct stat st;
        size_t want;
        fill_attr (i, &st);
        want = fuse_add_direntry (req, buf + len, size - len, nodes[i].name, &st, (off_t)k);
        if (want > size - len)
          break;
        len += want;
      }
  fuse_reply_buf (req, buf, len);
}

static void
render (enum kind kind, int sysctl, sb_pfs_buf *out)
{
  sb_pfs_mem m;
  static sb_pfs_cpus cpus;
  static sb_pfs_cputime t;
  const char *host;

  switch (kind)
    {
    case K_MEMINFO:
    case K_SWAPS:
      sb_pfs_source_mem (&src, &m);
      host = sb_pfs_read (&src, SB_PFS_HOST_MEMINFO);
      (kind == K_MEMINFO ? sb_pfs_render_meminfo : sb_pfs_render_swaps) (out, host, &m);
      break;
    case K_CPUINFO:
      sb_pfs_source_cpus (&src, &cpus);
      sb_pfs_render_cpuinfo (out, sb_pfs_read (&src, SB_PFS_HOST_CPUINFO), &cpus);
      break;
    case K_ONLINE:
      sb_pfs_source_cpus (&src, &cpus);
      sb_pfs_render_online (out, &cpus);
      break;
    case K_STAT:
    case K_UPTIME:
      sb_pfs_source_cpus (&src, &cpus);
      sb_pfs_source_cputime (&src, &cpus, &t);
      if (kind == K_STAT)
        sb_pfs_render_stat (out, sb_pfs_read (&src, SB_PFS_HOST_STAT), &cpus, &t, sb_pfs_source_uptime (&src),
                            src.btime);
      else
        sb_pfs_render_uptime (out, &cpus, &t, sb_pfs_source_uptime (&src));
      break;
    case K_LOADAVG:
      {
        sb_pfs_tasks tk = sb_pfs_tasks_get (shared);
        sb_pfs_render_loadavg (out, &tk.load, tk.running, tk.threads,
                               sb_pfs_read (&src, SB_PFS_HOST_LOADAVG));
        break;
      }
    case K_DISKSTATS:
      {
        sb_pfs_io io[64];
        size_t n;
        if (src.v1)
          {
            _cleanup_free_ char *bytes = sb_xstrdup (sb_pfs_read (&src, SB_PFS_IO_BYTES));
            n = sb_pfs_io_parse_v1 (bytes, sb_pfs_read (&src, SB_PFS_IO_IOS), io, 64);
          }
        else
          n = sb_pfs_io_parse_v2 (sb_pfs_read (&src, SB_PFS_IO_BYTES), io, 64);
        sb_pfs_render_diskstats (out, sb_pfs_read (&src, SB_PFS_HOST_DISKSTATS), io, n);
        break;
      }
    case K_SYSCTL:
      sb_pfs_buf_printf (out, "%s", shared->sysctl[sysctl]);
      break;
    case K_DIR:
      break;
    }
}

static void
op_open (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  sb_pfs_buf *b;

  if (ino >= n_nodes || nodes[ino].kind == K_DIR)
    {
      fuse_reply_err (req, EISDIR);
      return;
    }
  if ((fi->flags & O_ACCMODE) != O_RDONLY && nodes[ino].kind != K_SYSCTL)
    {
      fuse_reply_err (req, EACCES);
      return;
    }
  b = sb_xmalloc0 (sizeof (*b));
  fi->fh = (uint64_t)(uintptr_t)b;
  fi->direct_io = 1;
  /* Reply first, render after: the caller's return to user space and its
     read(2) overlap the rendering.  The session is single-threaded, so the
     READ on this file is only handled once the rendering is done.  */
  fuse_reply_open (req, fi);
  if ((fi->flags & O_ACCMODE) != O_WRONLY)
    render (nodes[ino].kind, nodes[ino].sysctl, b);
}

static void
op_read (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
  sb_pfs_buf *b = (sb_pfs_buf *)(uintptr_t)fi->fh;

  (void)ino;
  if (off < 0 || (size_t)off >= b->len)
    fuse_reply_buf (req, NULL, 0);
  else
    fuse_reply_buf (req, b->p + off, b->len - (size_t)off < size ? b->len - (size_t)off : size);
}

static void
op_write (fuse_req_t req, fuse_ino_t ino, const char *data, size_t size, off_t off, struct fuse_file_info *fi)
{
  int r;

  (void)fi;
  /* Like the kernel's sysctls: one write at offset 0 sets the value.  */
  if (ino >= n_nodes || nodes[ino].kind != K_SYSCTL || off != 0)
    {
      fuse_reply_err (req, EINVAL);
      return;
    }
  r = sb_pfs_sysctl_write (shared, nodes[ino].sysctl, data, size);
  if (r != 0)
    fuse_reply_err (req, r);
  else
    fuse_reply_write (req, size);
}

static void
op_release (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  sb_pfs_buf *b = (sb_pfs_buf *)(uintptr_t)fi->fh;

  (void)ino;
  sb_pfs_buf_free (b);
  free (b);
  fuse_reply_err (req, 0);
}

static const struct fuse_lowlevel_ops ops = {
  .lookup = op_lookup,
  .getattr = op_getattr,
  .setattr = op_setattr,
  .readdir = op_readdir,
  .open = op_open,
  .read = op_read,
  .write = op_write,
  .release = op_release,
};

/* A clone of the connection for this worker: requests it has read when it
   dies end with ECONNABORTED instead of waiting forever for its reply.  */
static int
clone_fd (int master_fd)
{
  int fd = open ("/dev/fuse", O_RDWR | O_CLOEXEC);
  uint32_t m = (uint32_t)master_fd;

  if (fd < 0)
    return -1;
  if (ioctl (fd, FUSE_DEV_IOC_CLONE, &m) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static int
serve (struct fuse_session *se)
{
  struct fuse_buf buf = { 0 };
  int res = 0;

  if (shared->init_len > 0)
    {
      struct fuse_buf init = { .mem = shared->init, .size = shared->init_len };
      fuse_session_process_buf (se, &init);
    }
  while (!fuse_session_exited (se))
    {
      res = fuse_session_receive_buf (se, &buf);
      if (res == -EINTR)
        continue;
      if (res <= 0)
        break;
      /* The first request of a connection is FUSE_INIT.  */
      if (shared->init_len == 0 && (size_t)res <= SB_PFS_INIT_MAX)
        {
          memcpy (shared->init, buf.mem, (size_t)res);
          shared->init_len = (size_t)res;
        }
      fuse_session_process_buf (se, &buf);
    }
  free (buf.mem);
  return res < 0 && res != -ENODEV ? 1 : 0;
}

int
sb_pfs_worker_run (const sb_pfs_config *c, sb_pfs_shared *sh, int master_fd)
{
  _cleanup_err_ sb_err *err = NULL;
  char *argv[] = { (char *)"sudobox-procfs", NULL };
  struct fuse_args args = FUSE_ARGS_INIT (1, argv);
  struct fuse_session *se;
  char fdpath[32];
  int fd, status;

  cfg = c;
  shared = sh;
  if (sb_pfs_source_open (&src, cfg->cgroup, cfg->start, &err) < 0)
    {
      fprintf (stderr, "sudobox-procfs: %s\n", err->msg);
      return 1;
    }
  build_tree ();
  fd = clone_fd (master_fd);
  if (fd < 0)
    {
      perror ("sudobox-procfs: cloning the /dev/fuse connection");
      return 1;
    }
  close (master_fd);
  se = fuse_session_new (&args, &ops, sizeof (ops), NULL);
  snprintf (fdpath, sizeof (fdpath), "/dev/fd/%d", fd);
  if (se == NULL || fuse_session_mount (se, fdpath) != 0)
    return 1;
  status = serve (se);
  fuse_session_destroy (se);
  return status;
}
