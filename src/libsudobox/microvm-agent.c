/* The host's side of the agent channel: connecting to a port, control
   requests, and running a process with this process's stdio.  Every frame
   from the guest is validated before use: the guest is not trusted.  */
#include "microvm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* A running exec pings a guest that has been silent this long, and gives
   up on one silent for AGENT_DEAD_MS: a guest kernel that hangs or panics
   leaves QEMU, and so the channel, open.  Generous for software emulation
   on a busy host, where the agent still answers within milliseconds.  */
#define AGENT_PING_MS 5000
#define AGENT_DEAD_MS 20000

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
try_connect (const char *path)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof (sa.sun_path))
    return -1;
  strcpy (sa.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect (fd, (struct sockaddr *)&sa, sizeof (sa)) == 0)
    return fd;
  if (fd >= 0)
    close (fd);
  return -1;
}

int
sb_microvm_connect (const char *run_dir, int timeout_ms, int *fd, int *lock_fd, sb_err **err)
{
  int64_t deadline = now_ms () + timeout_ms;
  _cleanup_close_ int dirfd = open (run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (dirfd < 0)
    return sb_error (err, errno, "open `%s`", run_dir);
  do
    {
      for (int i = 0; i < SB_MICROVM_PORTS; i++)
        {
          /* Long state roots: the socket is reached through the dir's fd.  */
          _cleanup_free_ char *lock = sb_xasprintf ("%s/port-%d.lock", run_dir, i);
          _cleanup_free_ char *sock = sb_xasprintf ("/proc/self/fd/%d/port-%d.sock", dirfd, i);
          _cleanup_close_ int l = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
          int s;
          if (l < 0)
            return sb_error (err, errno, "open `%s`", lock);
          if (flock (l, LOCK_EX | LOCK_NB) < 0)
            continue;
          s = try_connect (sock);
          if (s >= 0)
            {
              *fd = s;
              *lock_fd = sb_steal_fd (&l);
              return 0;
            }
        }
      usleep (20000);
    }
  while (now_ms () < deadline);
  return sb_error (err, 0,
                   "no free agent port in `%s` (is the workspace running? at most %d sessions at once)",
                   run_dir, SB_MICROVM_PORTS);
}

int
sb_microvm_read_frame (int fd, sb_agent_buf *b, sb_agent_hdr *h, int timeout_ms, sb_err **err)
{
  int64_t deadline = timeout_ms < 0 ? -1 : now_ms () + timeout_ms;

  for (;;)
    {
      const uint8_t *payload;
      uint8_t buf[65536];
      int r = sb_agent_frame_next (b->data, b->len, h, &payload, err);
      struct pollfd p = { .fd = fd, .events = POLLIN };
      ssize_t n;

      if (r < 0)
        return sb_error_wrap (err, "from the guest agent");
      if (r == 1)
        {
          if (!sb_agent_type_to_host (h->type))
            return sb_error (err, 0, "guest agent sent frame type %u, which only the host sends", h->type);
          return 1;
        }
      if (poll (&p, 1, deadline < 0 ? -1 : (int)(deadline > now_ms () ? deadline - now_ms () : 0)) == 0)
        return sb_error (err, ETIMEDOUT, "waiting for the guest agent");
      n = read (fd, buf, sizeof (buf));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return sb_error (err, errno, "read from the guest agent");
      if (n == 0)
        return b->len ? sb_error (err, 0, "guest agent closed the channel mid-frame") : 0;
      sb_agent_buf_append (b, buf, (size_t)n);
    }
}

static int
send_buf (int fd, sb_agent_buf *b, sb_err **err)
{
  int r = sb_write_all (fd, b->data, b->len);
  sb_agent_buf_release (b);
  return r < 0 ? sb_error (err, errno, "write to the guest agent") : 0;
}

/* Sends the control frame in b and waits for want (or ERROR) on session 0,
   skipping anything else.  */
static int
control (int fd, sb_agent_buf *b, uint16_t want, int timeout_ms, sb_err **err)
{
  sb_agent_buf in = { 0 };
  sb_agent_hdr h;
  int r;

  if (send_buf (fd, b, err) < 0)
    return -1;
  while ((r = sb_microvm_read_frame (fd, &in, &h, timeout_ms, err)) == 1)
    {
      const uint8_t *p = in.data + SB_AGENT_HDR_SIZE;
      uint32_t e;
      const char *msg;
      if (h.session == 0 && h.type == want)
        break;
      if (h.session == 0 && h.type == SB_AGENT_ERROR)
        {
          r = sb_agent_error_decode (p, h.len, &e, &msg, err) < 0 ? -1
                                                                  : sb_error (err, (int)e, "guest: %s", msg);
          break;
        }
      sb_agent_buf_consume (&in, SB_AGENT_HDR_SIZE + h.len);
    }
  sb_agent_buf_release (&in);
  if (r == 0)
    return sb_error (err, 0, "the guest agent closed the channel");
  return r < 0 ? -1 : 0;
}

int
sb_microvm_ping (int fd, int timeout_ms, sb_err **err)
{
  sb_agent_buf b = { 0 };
  sb_agent_put (&b, SB_AGENT_PING, 0, "sudobox", 7, err);
  return control (fd, &b, SB_AGENT_PONG, timeout_ms, err);
}

int
sb_microvm_setup (int fd, const sb_agent_setup *s, int timeout_ms, sb_err **err)
{
  sb_agent_buf b = { 0 };
  if (sb_agent_put_setup (&b, s, err) < 0)
    return -1;
  return control (fd, &b, SB_AGENT_OK, timeout_ms, err);
}

int
sb_microvm_file (int fd, const sb_agent_file *f, int timeout_ms, sb_err **err)
{
  sb_agent_buf b = { 0 };
  if (sb_agent_put_file (&b, f, err) < 0)
    return -1;
  return control (fd, &b, SB_AGENT_OK, timeout_ms, err);
}

int
sb_microvm_poweroff (int fd, int timeout_ms, sb_err **err)
{
  sb_agent_buf b = { 0 };
  sb_agent_put (&b, SB_AGENT_POWEROFF, 0, NULL, 0, err);
  return control (fd, &b, SB_AGENT_OK, timeout_ms, err);
}

typedef struct relay
{
  int fd;
  /* This client's pid: unique among the clients a port has had lately, so
     a frame an earlier client's session left in the channel is told apart
     and skipped instead of being taken for ours (its EXIT would end this
     exec with that session's status and none of our output).  */
  uint32_t session;
  bool tty;
  bool raw;
  struct termios saved;
  int sigfd;
  bool stdin_open;
  int exit_code;
  bool done;
  int64_t heard_ms; /* when the guest last sent a frame */
  bool pinged;      /* a ping since then */
} relay;

static void
send_winsize (relay *r)
{
  struct winsize ws;
  sb_agent_buf b = { 0 };
  if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
    return;
  if (sb_agent_put_resize (&b, r->session, ws.ws_row, ws.ws_col, NULL) == 0)
    sb_write_all (r->fd, b.data, b.len);
  sb_agent_buf_release (&b);
}

static int
on_signal (relay *r)
{
  struct signalfd_siginfo si;
  sb_agent_buf b = { 0 };

  while (read (r->sigfd, &si, sizeof (si)) == sizeof (si))
    {
      if (si.ssi_signo == SIGWINCH)
        send_winsize (r);
      else
        sb_agent_put_signal (&b, r->session, si.ssi_signo, NULL);
    }
  if (b.len)
    sb_write_all (r->fd, b.data, b.len);
  sb_agent_buf_release (&b);
  return 0;
}

static int
on_stdin (relay *r, sb_err **err)
{
  uint8_t buf[32768];
  ssize_t n = read (STDIN_FILENO, buf, sizeof (buf));
  sb_agent_buf b = { 0 };

  if (n < 0 && errno == EINTR)
    return 0;
  if (n <= 0)
    r->stdin_open = false;
  sb_agent_put (&b, SB_AGENT_STDIN, r->session, buf, n > 0 ? (size_t)n : 0, NULL);
  return send_buf (r->fd, &b, err);
}

/* One frame of the session from the guest.  */
static int
on_frame (relay *r, const sb_agent_hdr *h, const uint8_t *p, sb_err **err)
{
  uint32_t code, sig, e;
  const char *msg;

  /* Session 0 is the agent's own (an ERROR about the channel): ours too.  */
  if (h->session == 0 && h->type == SB_AGENT_ERROR)
    {
      if (sb_agent_error_decode (p, h->len, &e, &msg, err) < 0)
        return -1;
      return sb_error (err, (int)e, "guest agent: %s", msg);
    }
  if (h->session != r->session)
    return 0;
  switch (h->type)
    {
    case SB_AGENT_STDOUT:
    case SB_AGENT_STDERR:
      if (sb_write_all (h->type == SB_AGENT_STDOUT || r->tty ? STDOUT_FILENO : STDERR_FILENO, p, h->len) < 0
          && errno != EPIPE)
        return sb_error (err, errno, "write output");
      return 0;
    case SB_AGENT_EXIT:
      if (sb_agent_exit_decode (p, h->len, &code, &sig, err) < 0)
        return -1;
      r->exit_code = sig ? 128 + (int)sig : (int)code;
      r->done = true;
      return 0;
    case SB_AGENT_PONG:
      return 0;
    case SB_AGENT_ERROR:
      /* The program could not be started: reported as a shell would, with
         127 (not found) or 126.  */
      if (sb_agent_error_decode (p, h->len, &e, &msg, err) < 0)
        return -1;
      dprintf (STDERR_FILENO, "sudobox: %s\n", msg);
      r->exit_code = e == ENOENT ? 127 : 126;
      r->done = true;
      return 0;
    default:
      return sb_error (err, 0, "guest agent sent unexpected frame type %u", h->type);
    }
}

static int
relay_setup (relay *r, sb_err **err)
{
  sigset_t set;

  sigemptyset (&set);
  sigaddset (&set, SIGWINCH);
  if (!r->tty)
    {
      sigaddset (&set, SIGINT);
      sigaddset (&set, SIGTERM);
      sigaddset (&set, SIGHUP);
      sigaddset (&set, SIGQUIT);
    }
  if (sigprocmask (SIG_BLOCK, &set, NULL) < 0)
    return sb_error (err, errno, "sigprocmask");
  r->sigfd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (r->sigfd < 0)
    return sb_error (err, errno, "signalfd");
  if (r->tty && isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &r->saved) == 0)
    {
      struct termios raw = r->saved;
      cfmakeraw (&raw);
      if (tcsetattr (STDIN_FILENO, TCSANOW, &raw) < 0)
        return sb_error (err, errno, "putting the terminal in raw mode");
      r->raw = true;
    }
  return 0;
}

/* Reads what the guest sent and handles every whole frame in it.  */
static int
on_channel (relay *r, sb_agent_buf *in, sb_err **err)
{
  uint8_t buf[65536];
  ssize_t n = read (r->fd, buf, sizeof (buf));
  const uint8_t *p;
  sb_agent_hdr h;
  int f;

  if (n < 0)
    return errno == EINTR || errno == EAGAIN ? 0 : sb_error (err, errno, "read from the guest agent");
  if (n == 0)
    return sb_error (err, 0, "the guest agent closed the channel (the workspace stopped?)");
  sb_agent_buf_append (in, buf, (size_t)n);
  while (!r->done && (f = sb_agent_frame_next (in->data, in->len, &h, &p, err)) != 0)
    {
      if (f < 0)
        return sb_error_wrap (err, "from the guest agent");
      if (!sb_agent_type_to_host (h.type))
        return sb_error (err, 0, "guest agent sent frame type %u, which only the host sends", h.type);
      if (on_frame (r, &h, p, err) < 0)
        return -1;
      r->heard_ms = now_ms ();
      r->pinged = false;
      sb_agent_buf_consume (in, SB_AGENT_HDR_SIZE + h.len);
    }
  return 0;
}

/* Called when poll timed out: the guest has been silent for a while.  */
static int
keepalive (relay *r, sb_err **err)
{
  int64_t silent = now_ms () - r->heard_ms;
  sb_agent_buf b = { 0 };

  if (silent >= AGENT_DEAD_MS)
    return sb_error (err, 0, "the guest agent has not answered for %d s (the workspace's VM hangs?)",
                     (int)(silent / 1000));
  if (r->pinged || silent < AGENT_PING_MS)
    return 0;
  r->pinged = true;
  sb_agent_put (&b, SB_AGENT_PING, r->session, NULL, 0, NULL);
  return send_buf (r->fd, &b, err);
}

/* How long poll may wait before keepalive has something to do.  */
static int
keepalive_wait (const relay *r)
{
  int64_t left = (r->pinged ? AGENT_DEAD_MS : AGENT_PING_MS) - (now_ms () - r->heard_ms);

  return left > 0 ? (int)left : 0;
}

static int
relay_loop (relay *r, sb_err **err)
{
  sb_agent_buf in = { 0 };
  int ret = 0;

  r->heard_ms = now_ms ();
  while (!r->done && ret == 0)
    {
      struct pollfd p[3] = { { .fd = r->fd, .events = POLLIN },
                             { .fd = r->sigfd, .events = POLLIN },
                             { .fd = r->stdin_open ? STDIN_FILENO : -1, .events = POLLIN } };
      int n = poll (p, 3, keepalive_wait (r));

      if (n < 0)
        {
          if (errno != EINTR)
            ret = sb_error (err, errno, "poll");
          continue;
        }
      if (n == 0)
        {
          ret = keepalive (r, err);
          continue;
        }
      if (p[1].revents)
        on_signal (r);
      if (p[2].revents && on_stdin (r, err) < 0)
        ret = -1;
      if (p[0].revents && ret == 0)
        ret = on_channel (r, &in, err);
    }
  sb_agent_buf_release (&in);
  return ret;
}

int
sb_microvm_exec (int fd, const sb_agent_exec *e, int *exit_code, sb_err **err)
{
  relay r = {
    .fd = fd, .session = (uint32_t)getpid (), .tty = e->tty, .sigfd = -1, .stdin_open = true, .exit_code = -1
  };
  sb_agent_buf b = { 0 };
  sigset_t old;
  int ret;

  sigprocmask (SIG_SETMASK, NULL, &old);
  if (sb_agent_put_exec (&b, r.session, e, err) < 0 || send_buf (fd, &b, err) < 0
      || relay_setup (&r, err) < 0)
    ret = -1;
  else
    {
      if (r.tty)
        send_winsize (&r);
      ret = relay_loop (&r, err);
    }
  if (r.raw)
    tcsetattr (STDIN_FILENO, TCSANOW, &r.saved);
  if (r.sigfd >= 0)
    close (r.sigfd);
  sigprocmask (SIG_SETMASK, &old, NULL);
  *exit_code = r.exit_code;
  return ret;
}
