/* Encoding and strict decoding of agent frames (see agent-proto.h).  Links
   into the static guest agent too, so it needs only libc and error.c.  */
#include "agent-proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* EXEC's fixed part: uid, gid, rows, cols, tty, 3 zero bytes, n_groups,
   argc, envc.  */
#define EXEC_FIXED 28u

static void
put_u16 (uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void
put_u32 (uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t
get_u16 (const uint8_t *p)
{
  return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t
get_u32 (const uint8_t *p)
{
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

void
sb_agent_buf_release (sb_agent_buf *b)
{
  free (b->data);
  *b = (sb_agent_buf){ 0 };
}

void
sb_agent_buf_consume (sb_agent_buf *b, size_t n)
{
  if (n >= b->len)
    {
      b->len = 0;
      return;
    }
  memmove (b->data, b->data + n, b->len - n);
  b->len -= n;
}

void
sb_agent_buf_append (sb_agent_buf *b, const void *data, size_t n)
{
  if (b->len + n > b->cap)
    {
      size_t cap = b->cap ? b->cap : 4096;
      while (cap < b->len + n)
        cap *= 2;
      b->data = realloc (b->data, cap);
      if (b->data == NULL)
        abort ();
      b->cap = cap;
    }
  if (n)
    memcpy (b->data + b->len, data, n);
  b->len += n;
}

bool
sb_agent_type_to_guest (uint16_t type)
{
  switch (type)
    {
    case SB_AGENT_PING:
    case SB_AGENT_SETUP:
    case SB_AGENT_EXEC:
    case SB_AGENT_STDIN:
    case SB_AGENT_RESIZE:
    case SB_AGENT_SIGNAL:
    case SB_AGENT_CLOSE:
    case SB_AGENT_POWEROFF:
    case SB_AGENT_FILE:
      return true;
    default:
      return false;
    }
}

bool
sb_agent_type_to_host (uint16_t type)
{
  switch (type)
    {
    case SB_AGENT_PONG:
    case SB_AGENT_STDOUT:
    case SB_AGENT_STDERR:
    case SB_AGENT_EXIT:
    case SB_AGENT_OK:
    case SB_AGENT_ERROR:
      return true;
    default:
      return false;
    }
}

int
sb_agent_hdr_decode (const uint8_t *buf, sb_agent_hdr *h, sb_err **err)
{
  h->type = get_u16 (buf);
  h->flags = get_u16 (buf + 2);
  h->session = get_u32 (buf + 4);
  h->len = get_u32 (buf + 8);
  if (h->type == 0 || h->type > SB_AGENT_TYPE_MAX)
    return sb_error (err, 0, "agent frame: unknown type %u", h->type);
  if (h->flags != 0)
    return sb_error (err, 0, "agent frame: flags 0x%x set (none are defined)", h->flags);
  if (h->len > SB_AGENT_MAX_PAYLOAD)
    return sb_error (err, 0, "agent frame: payload of %u bytes exceeds %u", h->len, SB_AGENT_MAX_PAYLOAD);
  return 0;
}

int
sb_agent_frame_next (const uint8_t *buf, size_t n, sb_agent_hdr *h, const uint8_t **payload, sb_err **err)
{
  if (n < SB_AGENT_HDR_SIZE)
    return 0;
  if (sb_agent_hdr_decode (buf, h, err) < 0)
    return -1;
  if (n - SB_AGENT_HDR_SIZE < h->len)
    return 0;
  *payload = buf + SB_AGENT_HDR_SIZE;
  return 1;
}

int
sb_agent_put (sb_agent_buf *b, uint16_t type, uint32_t session, const void *payload, size_t len, sb_err **err)
{
  uint8_t hdr[SB_AGENT_HDR_SIZE];

  if (len > SB_AGENT_MAX_PAYLOAD)
    return sb_error (err, EMSGSIZE, "agent frame of %zu bytes", len);
  put_u16 (hdr, type);
  put_u16 (hdr + 2, 0);
  put_u32 (hdr + 4, session);
  put_u32 (hdr + 8, (uint32_t)len);
  sb_agent_buf_append (b, hdr, sizeof (hdr));
  sb_agent_buf_append (b, payload, len);
  return 0;
}

/* Appends the strings of a NULL-terminated vector with their NULs.  */
static void
put_strv (sb_agent_buf *p, const char *const *v)
{
  for (; v && *v; v++)
    sb_agent_buf_append (p, *v, strlen (*v) + 1);
}

static uint32_t
strv_count (const char *const *v)
{
  uint32_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

int
sb_agent_put_exec (sb_agent_buf *b, uint32_t session, const sb_agent_exec *e, sb_err **err)
{
  sb_agent_buf p = { 0 };
  uint8_t fixed[EXEC_FIXED] = { 0 };
  uint32_t argc = strv_count (e->argv), envc = strv_count (e->envp);
  int r;

  if (argc == 0 || argc > SB_AGENT_MAX_ARGS || envc > SB_AGENT_MAX_ARGS || e->n_groups > SB_AGENT_MAX_GROUPS)
    return sb_error (err, E2BIG, "exec: %u arguments, %u environment entries, %u groups", argc, envc,
                     e->n_groups);
  put_u32 (fixed, e->uid);
  put_u32 (fixed + 4, e->gid);
  put_u16 (fixed + 8, e->rows);
  put_u16 (fixed + 10, e->cols);
  fixed[12] = e->tty ? 1 : 0;
  put_u32 (fixed + 16, e->n_groups);
  put_u32 (fixed + 20, argc);
  put_u32 (fixed + 24, envc);
  sb_agent_buf_append (&p, fixed, sizeof (fixed));
  for (uint32_t i = 0; i < e->n_groups; i++)
    {
      uint8_t g[4];
      put_u32 (g, e->groups[i]);
      sb_agent_buf_append (&p, g, 4);
    }
  sb_agent_buf_append (&p, e->cwd ? e->cwd : "/", strlen (e->cwd ? e->cwd : "/") + 1);
  put_strv (&p, e->argv);
  put_strv (&p, e->envp);
  r = sb_agent_put (b, SB_AGENT_EXEC, session, p.data, p.len, err);
  sb_agent_buf_release (&p);
  return r < 0 ? sb_error_wrap (err, "exec: arguments and environment too long") : 0;
}

/* SETUP's flags.  */
#define SETUP_READONLY_ROOT 1u

int
sb_agent_put_setup (sb_agent_buf *b, const sb_agent_setup *s, sb_err **err)
{
  sb_agent_buf p = { 0 };
  const char *v[] = { s->hostname, s->root_dev, s->projects_dev, s->seed, NULL };
  uint8_t fixed[8];
  int r;

  put_u32 (fixed, s->pids_max);
  put_u32 (fixed + 4, s->readonly_root ? SETUP_READONLY_ROOT : 0);
  sb_agent_buf_append (&p, fixed, sizeof (fixed));
  put_strv (&p, v);
  r = sb_agent_put (b, SB_AGENT_SETUP, 0, p.data, p.len, err);
  sb_agent_buf_release (&p);
  return r;
}

#define FILE_APPEND 1u
#define FILE_READONLY 2u

int
sb_agent_put_file (sb_agent_buf *b, const sb_agent_file *f, sb_err **err)
{
  sb_agent_buf p = { 0 };
  uint8_t fixed[SB_AGENT_FILE_FIXED];
  int r;

  put_u32 (fixed, f->mode);
  put_u32 (fixed + 4, f->uid);
  put_u32 (fixed + 8, f->gid);
  put_u32 (fixed + 12, (f->append ? FILE_APPEND : 0) | (f->readonly ? FILE_READONLY : 0));
  sb_agent_buf_append (&p, fixed, sizeof (fixed));
  sb_agent_buf_append (&p, f->path, strlen (f->path) + 1);
  sb_agent_buf_append (&p, f->data, f->len);
  r = sb_agent_put (b, SB_AGENT_FILE, 0, p.data, p.len, err);
  sb_agent_buf_release (&p);
  return r;
}

int
sb_agent_put_u32x2 (sb_agent_buf *b, uint16_t type, uint32_t session, uint32_t a, uint32_t b2, sb_err **err)
{
  uint8_t p[8];
  put_u32 (p, a);
  put_u32 (p + 4, b2);
  return sb_agent_put (b, type, session, p, sizeof (p), err);
}

int
sb_agent_put_resize (sb_agent_buf *b, uint32_t session, uint16_t rows, uint16_t cols, sb_err **err)
{
  uint8_t p[4];
  put_u16 (p, rows);
  put_u16 (p + 2, cols);
  return sb_agent_put (b, SB_AGENT_RESIZE, session, p, sizeof (p), err);
}

int
sb_agent_put_signal (sb_agent_buf *b, uint32_t session, uint32_t sig, sb_err **err)
{
  uint8_t p[4];
  put_u32 (p, sig);
  return sb_agent_put (b, SB_AGENT_SIGNAL, session, p, sizeof (p), err);
}

int
sb_agent_put_error (sb_agent_buf *b, uint32_t session, uint32_t errnum, const char *msg, sb_err **err)
{
  sb_agent_buf p = { 0 };
  uint8_t e[4];
  size_t len = strnlen (msg, 1024);
  int r;

  put_u32 (e, errnum);
  sb_agent_buf_append (&p, e, 4);
  sb_agent_buf_append (&p, msg, len);
  sb_agent_buf_append (&p, "", 1);
  r = sb_agent_put (b, SB_AGENT_ERROR, session, p.data, p.len, err);
  sb_agent_buf_release (&p);
  return r;
}

/* Takes n NUL-terminated strings from *p (of *left bytes) into out.  */
static int
take_strings (const uint8_t **p, size_t *left, const char **out, uint32_t n, const char *what, sb_err **err)
{
  for (uint32_t i = 0; i < n; i++)
    {
      const uint8_t *nul = memchr (*p, '\0', *left);
      if (nul == NULL)
        return sb_error (err, 0, "agent frame: %s %u is not NUL-terminated", what, i);
      out[i] = (const char *)*p;
      *left -= (size_t)(nul + 1 - *p);
      *p = nul + 1;
    }
  return 0;
}

int
sb_agent_exec_decode (const uint8_t *p, size_t n, sb_agent_exec *e, sb_err **err)
{
  uint32_t argc, envc;

  if (n < EXEC_FIXED)
    return sb_error (err, 0, "agent EXEC: %zu bytes, shorter than its fixed part", n);
  e->uid = get_u32 (p);
  e->gid = get_u32 (p + 4);
  e->rows = get_u16 (p + 8);
  e->cols = get_u16 (p + 10);
  if (p[12] > 1 || p[13] || p[14] || p[15])
    return sb_error (err, 0, "agent EXEC: bad tty flag or padding");
  e->tty = p[12] == 1;
  e->n_groups = get_u32 (p + 16);
  argc = get_u32 (p + 20);
  envc = get_u32 (p + 24);
  if (e->n_groups > SB_AGENT_MAX_GROUPS || argc == 0 || argc > SB_AGENT_MAX_ARGS || envc > SB_AGENT_MAX_ARGS)
    return sb_error (err, 0, "agent EXEC: %u groups, %u arguments, %u environment entries out of range",
                     e->n_groups, argc, envc);
  p += EXEC_FIXED;
  n -= EXEC_FIXED;
  if (n < (size_t)e->n_groups * 4)
    return sb_error (err, 0, "agent EXEC: payload shorter than its %u groups", e->n_groups);
  for (uint32_t i = 0; i < e->n_groups; i++, p += 4, n -= 4)
    e->groups[i] = get_u32 (p);
  if (take_strings (&p, &n, &e->cwd, 1, "cwd", err) < 0
      || take_strings (&p, &n, e->argv, argc, "argument", err) < 0
      || take_strings (&p, &n, e->envp, envc, "environment entry", err) < 0)
    return -1;
  if (n != 0)
    return sb_error (err, 0, "agent EXEC: %zu trailing bytes", n);
  if (e->cwd[0] != '/' || e->argv[0][0] == '\0')
    return sb_error (err, 0, "agent EXEC: cwd must be absolute and argv[0] not empty");
  e->argv[argc] = NULL;
  e->envp[envc] = NULL;
  return 0;
}

int
sb_agent_setup_decode (const uint8_t *p, size_t n, sb_agent_setup *s, sb_err **err)
{
  const char *v[4];
  uint32_t flags;

  if (n < 8)
    return sb_error (err, 0, "agent SETUP: payload of %zu bytes, shorter than its fixed part", n);
  s->pids_max = get_u32 (p);
  flags = get_u32 (p + 4);
  if (flags & ~(uint32_t)SETUP_READONLY_ROOT)
    return sb_error (err, 0, "agent SETUP: unknown flags 0x%x", flags);
  s->readonly_root = flags & SETUP_READONLY_ROOT;
  p += 8;
  n -= 8;
  if (take_strings (&p, &n, v, 4, "setup field", err) < 0)
    return -1;
  if (n != 0)
    return sb_error (err, 0, "agent SETUP: %zu trailing bytes", n);
  s->hostname = v[0];
  s->root_dev = v[1];
  s->projects_dev = v[2];
  s->seed = v[3];
  if (strlen (s->seed) != 64 || strspn (s->seed, "0123456789abcdef") != 64)
    return sb_error (err, 0, "agent SETUP: the seed is not 64 hex digits");
  return 0;
}

/* Absolute, not too long, no empty, "." or ".." component.  */
static bool
clean_path (const char *path)
{
  size_t len = strlen (path);

  if (path[0] != '/' || len < 2 || len > 4095 || path[len - 1] == '/')
    return false;
  for (const char *c = path; c; c = strchr (c + 1, '/'))
    {
      size_t n = strcspn (c + 1, "/");
      if (n == 0 || (n == 1 && c[1] == '.') || (n == 2 && c[1] == '.' && c[2] == '.'))
        return false;
    }
  return true;
}

int
sb_agent_file_decode (const uint8_t *p, size_t n, sb_agent_file *f, sb_err **err)
{
  uint32_t flags, type;

  if (n < SB_AGENT_FILE_FIXED)
    return sb_error (err, 0, "agent FILE: %zu bytes, shorter than its fixed part", n);
  f->mode = get_u32 (p);
  f->uid = get_u32 (p + 4);
  f->gid = get_u32 (p + 8);
  flags = get_u32 (p + 12);
  p += SB_AGENT_FILE_FIXED;
  n -= SB_AGENT_FILE_FIXED;
  if (flags & ~(FILE_APPEND | FILE_READONLY))
    return sb_error (err, 0, "agent FILE: unknown flags 0x%x", flags);
  f->append = flags & FILE_APPEND;
  f->readonly = flags & FILE_READONLY;
  if (take_strings (&p, &n, &f->path, 1, "path", err) < 0)
    return -1;
  if (!clean_path (f->path))
    return sb_error (err, 0, "agent FILE: \"%.64s\" is not a clean absolute path", f->path);
  f->data = p;
  f->len = n;
  type = f->mode & S_IFMT;
  if ((f->mode & ~(uint32_t)(S_IFMT | 07777)) || (type != S_IFREG && type != S_IFDIR && type != S_IFLNK))
    return sb_error (err, 0, "agent FILE: mode 0%o is not a regular file, directory or symlink", f->mode);
  if (f->readonly && (n != 0 || f->append || type == S_IFLNK))
    return sb_error (err, 0, "agent FILE: a read-only bind is of a file or directory and carries no data");
  if (type == S_IFDIR && (n != 0 || f->append))
    return sb_error (err, 0, "agent FILE: a directory carries no data");
  if (type == S_IFLNK && (n == 0 || n > 4095 || memchr (p, '\0', n) || f->append))
    return sb_error (err, 0, "agent FILE: a symlink's target must be 1 to 4095 bytes without NUL");
  return 0;
}

static int
check_len (const char *what, size_t n, size_t want, sb_err **err)
{
  if (n != want)
    return sb_error (err, 0, "agent %s: payload of %zu bytes, expected %zu", what, n, want);
  return 0;
}

int
sb_agent_resize_decode (const uint8_t *p, size_t n, uint16_t *rows, uint16_t *cols, sb_err **err)
{
  if (check_len ("RESIZE", n, 4, err) < 0)
    return -1;
  *rows = get_u16 (p);
  *cols = get_u16 (p + 2);
  return 0;
}

int
sb_agent_signal_decode (const uint8_t *p, size_t n, uint32_t *sig, sb_err **err)
{
  if (check_len ("SIGNAL", n, 4, err) < 0)
    return -1;
  *sig = get_u32 (p);
  if (*sig == 0 || *sig > 64)
    return sb_error (err, 0, "agent SIGNAL: signal %u out of range", *sig);
  return 0;
}

int
sb_agent_exit_decode (const uint8_t *p, size_t n, uint32_t *code, uint32_t *sig, sb_err **err)
{
  if (check_len ("EXIT", n, 8, err) < 0)
    return -1;
  *code = get_u32 (p);
  *sig = get_u32 (p + 4);
  if (*code > 255 || *sig > 64 || (*sig && *code))
    return sb_error (err, 0, "agent EXIT: code %u signal %u out of range", *code, *sig);
  return 0;
}

int
sb_agent_error_decode (const uint8_t *p, size_t n, uint32_t *errnum, const char **msg, sb_err **err)
{
  if (n < 5 || p[n - 1] != '\0' || memchr (p + 4, '\0', n - 4) != p + n - 1)
    return sb_error (err, 0, "agent ERROR: malformed payload of %zu bytes", n);
  *errnum = get_u32 (p);
  *msg = (const char *)p + 4;
  return 0;
}
