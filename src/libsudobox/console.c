/* The container's pty and the foreground relay.  The slave is obtained from
   the master with TIOCGPTPEER, never by looking up /dev/pts/N, so a
   container cannot substitute another file for it.  */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>

#include "util.h"

#define RELAY_BUF 32768
/* Output read from the master after the process exited; bounded so a
   process that keeps writing through an inherited slave cannot hold the
   caller forever.  */
#define RELAY_DRAIN_MAX (1024 * 1024)

static int
open_ptmx (sb_err **err)
{
  int fd = open ("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  int first;

  if (fd >= 0)
    return fd;
  /* devpts may be mounted with ptmxmode=000; /dev/ptmx then is the way in.  */
  first = errno;
  fd = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return sb_error (err, errno, "opening /dev/pts/ptmx (%s) and /dev/ptmx", strerror (first));
  return fd;
}

int
sb_console_open (int *master, int *slave, uint32_t rows, uint32_t cols, sb_err **err)
{
  _cleanup_close_ int m = open_ptmx (err);
  _cleanup_close_ int s = -1;
  int unlock = 0;

  if (m < 0)
    return -1;
  if (ioctl (m, TIOCSPTLCK, &unlock) < 0)
    return sb_error (err, errno, "unlocking the pty");
  s = ioctl (m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0)
    return sb_error (err, errno, "opening the pty slave");
  if (rows != 0 || cols != 0)
    {
      struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
      if (rows > 0xffff || cols > 0xffff)
        return sb_error (err, 0, "process.consoleSize: %ux%u is too large", cols, rows);
      if (ioctl (m, TIOCSWINSZ, &ws) < 0)
        return sb_error (err, errno, "setting the pty size to %ux%u", cols, rows);
    }
  *master = sb_steal_fd (&m);
  *slave = sb_steal_fd (&s);
  return 0;
}

int
sb_console_make_controlling (int slave, sb_err **err)
{
  /* EPERM: already a session leader (e.g. exec into a fresh session).  */
  if (setsid () < 0 && errno != EPERM)
    return sb_error (err, errno, "setsid");
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    return sb_error (err, errno, "making the pty the controlling terminal");
  for (int i = 0; i <= 2; i++)
    if (dup2 (slave, i) < 0)
      return sb_error (err, errno, "dup2 of the pty to fd %d", i);
  return 0;
}

int
sb_console_send (const char *socket_path, int master, sb_err **err)
{
  static const char name[] = "/dev/ptmx";
  _cleanup_close_ int sock = sb_unix_connect (socket_path, err);

  if (sock < 0)
    return sb_error_wrap (err, "console socket");
  if (sb_send_fd (sock, master, name, sizeof (name) - 1) < 0)
    return sb_error (err, errno, "sending the pty master to the console socket `%s`", socket_path);
  return 0;
}

/* Everything the relay changes in the caller, restored on every return.  */
struct relay_saved
{
  bool term_saved;
  struct termios term;
  bool mask_saved;
  sigset_t mask;
  int master;
  int master_flags; /* -1 when unchanged */
};

static void
relay_restore (struct relay_saved *s)
{
  if (s->term_saved)
    tcsetattr (STDIN_FILENO, TCSANOW, &s->term);
  if (s->mask_saved)
    sigprocmask (SIG_SETMASK, &s->mask, NULL);
  if (s->master_flags >= 0)
    fcntl (s->master, F_SETFL, s->master_flags);
}

static int
relay_setup (struct relay_saved *s, int *sigfd, sb_err **err)
{
  sigset_t winch;
  struct termios raw;
  int flags;

  if (isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &s->term) == 0)
    {
      raw = s->term;
      cfmakeraw (&raw);
      if (tcsetattr (STDIN_FILENO, TCSANOW, &raw) < 0)
        return sb_error (err, errno, "putting the terminal in raw mode");
      s->term_saved = true;
    }
  /* Blocked and read from a signalfd, a resize cannot slip in between the
     poll and the size copy.  */
  sigemptyset (&winch);
  sigaddset (&winch, SIGWINCH);
  if (sigprocmask (SIG_BLOCK, &winch, &s->mask) < 0)
    return sb_error (err, errno, "blocking SIGWINCH");
  s->mask_saved = true;
  *sigfd = signalfd (-1, &winch, SFD_CLOEXEC | SFD_NONBLOCK);
  if (*sigfd < 0)
    return sb_error (err, errno, "signalfd for SIGWINCH");
  /* Non-blocking so a child that does not read its input cannot stall the
     copy of its output.  */
  flags = fcntl (s->master, F_GETFL);
  if (flags < 0 || fcntl (s->master, F_SETFL, flags | O_NONBLOCK) < 0)
    return sb_error (err, errno, "setting the pty master non-blocking");
  s->master_flags = flags;
  return 0;
}

static void
copy_winsize (int master)
{
  struct winsize ws;

  if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
    ioctl (master, TIOCSWINSZ, &ws);
}

static void
drain_signalfd (int sigfd)
{
  struct signalfd_siginfo si;

  while (read (sigfd, &si, sizeof (si)) == (ssize_t)sizeof (si))
    ;
}

/* One read from the master to stdout: 1 copied (or nothing ready yet),
   0 the slave side is gone, -1 error.  */
static int
master_to_stdout (int master, char *buf, size_t *copied, sb_err **err)
{
  ssize_t r = read (master, buf, RELAY_BUF);

  if (r < 0 && (errno == EAGAIN || errno == EINTR))
    return 1;
  /* EIO is how a pty master reports that every slave fd was closed.  */
  if (r == 0 || (r < 0 && errno == EIO))
    return 0;
  if (r < 0)
    return sb_error (err, errno, "reading the pty master");
  if (sb_write_all (STDOUT_FILENO, buf, (size_t)r) < 0)
    return sb_error (err, errno, "writing the container output to stdout");
  if (copied != NULL)
    *copied += (size_t)r;
  return 1;
}

static int
drain_master (int master, char *buf, sb_err **err)
{
  size_t copied = 0;

  while (copied < RELAY_DRAIN_MAX)
    {
      size_t before = copied;
      int r = master_to_stdout (master, buf, &copied, err);
      if (r <= 0)
        return r;
      if (copied == before)
        break;
    }
  return 0;
}

/* Input read from stdin and not yet accepted by the master.  */
struct pending
{
  char buf[RELAY_BUF];
  size_t off, len;
};

static int
stdin_to_pending (struct pending *in, bool *stdin_open)
{
  ssize_t r = read (STDIN_FILENO, in->buf, sizeof (in->buf));

  if (r < 0 && (errno == EAGAIN || errno == EINTR))
    return 0;
  /* Like runc, end of input only stops reading it: the master stays open
     so the output keeps flowing.  */
  if (r <= 0)
    {
      *stdin_open = false;
      return 0;
    }
  in->off = 0;
  in->len = (size_t)r;
  return 0;
}

static int
pending_to_master (struct pending *in, int master, sb_err **err)
{
  ssize_t w = write (master, in->buf + in->off, in->len - in->off);

  if (w < 0 && (errno == EAGAIN || errno == EINTR))
    return 0;
  if (w < 0 && errno == EIO)
    {
      in->off = in->len = 0;
      return 0;
    }
  if (w < 0)
    return sb_error (err, errno, "writing input to the pty master");
  in->off += (size_t)w;
  if (in->off == in->len)
    in->off = in->len = 0;
  return 0;
}

static int
relay_loop (int master, int exit_fd, int sigfd, sb_err **err)
{
  _cleanup_free_ char *out = sb_xmalloc0 (RELAY_BUF);
  _cleanup_free_ struct pending *in = sb_xmalloc0 (sizeof (*in));
  bool stdin_open = true;

  for (;;)
    {
      struct pollfd p[4];
      nfds_t n = 0, i_master, i_sig, i_in = 4, i_exit = 4;
      int r;

      if (stdin_open && in->len == 0)
        {
          i_in = n;
          p[n++] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
        }
      i_master = n;
      p[n++] = (struct pollfd){ .fd = master, .events = POLLIN | (in->len ? POLLOUT : 0) };
      i_sig = n;
      p[n++] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
      if (exit_fd >= 0)
        {
          i_exit = n;
          p[n++] = (struct pollfd){ .fd = exit_fd, .events = POLLIN };
        }
      if (poll (p, n, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return sb_error (err, errno, "poll on the console");
        }
      if (i_exit < n && p[i_exit].revents)
        return drain_master (master, out, err);
      if (p[i_sig].revents)
        {
          drain_signalfd (sigfd);
          copy_winsize (master);
        }
      if (i_in < n && p[i_in].revents)
        stdin_to_pending (in, &stdin_open);
      if ((p[i_master].revents & POLLOUT) && in->len > 0 && pending_to_master (in, master, err) < 0)
        return -1;
      if (p[i_master].revents & (POLLIN | POLLHUP | POLLERR))
        {
          r = master_to_stdout (master, out, NULL, err);
          if (r <= 0)
            return r;
        }
    }
}

int
sb_console_relay (int master, int exit_fd, sb_err **err)
{
  __attribute__ ((cleanup (relay_restore))) struct relay_saved saved
      = { .master = master, .master_flags = -1 };
  _cleanup_close_ int sigfd = -1;

  if (relay_setup (&saved, &sigfd, err) < 0)
    return -1;
  copy_winsize (master);
  return relay_loop (master, exit_fd, sigfd, err);
}
