/* sudobox-agent: PID 1 of a microvm workspace.  It prepares the guest,
   then serves frames (agent-proto.h) from the host on the virtio-serial
   ports named "sudobox.N": one host client per port at a time, any number
   of sessions per client.  When a client goes away its sessions are
   killed, as sshd does with a dropped connection.  */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define MAX_PORTS 16
#define PORT_PREFIX "sudobox."

typedef struct port
{
  int fd;
  bool hup; /* no host client: not polled until the next SIGIO */
  sb_agent_buf in, out;
} port;

static port ports[MAX_PORTS];
static int n_ports;
static agent_session sessions[AGENT_MAX_SESSIONS];
static int sigfd = -1;
static bool mounted;

static void
port_send (int p, const sb_agent_buf *b)
{
  if (ports[p].fd >= 0 && !ports[p].hup && sb_write_all (ports[p].fd, b->data, b->len) < 0)
    agent_log ("write to port %d: %s", p, strerror (errno));
}

static void
send_frame (int p, uint16_t type, uint32_t session, const void *data, size_t len)
{
  sb_agent_buf b = { 0 };
  if (sb_agent_put (&b, type, session, data, len, NULL) == 0)
    port_send (p, &b);
  sb_agent_buf_release (&b);
}

static void
send_error (int p, uint32_t session, const sb_err *e)
{
  sb_agent_buf b = { 0 };
  if (sb_agent_put_error (&b, session, (uint32_t)(e ? e->errnum : 0), e ? e->msg : "error", NULL) == 0)
    port_send (p, &b);
  sb_agent_buf_release (&b);
}

static agent_session *
find_session (int p, uint32_t id)
{
  for (int i = 0; i < AGENT_MAX_SESSIONS; i++)
    if (sessions[i].port == p && sessions[i].id == id && (sessions[i].pid > 0 || sessions[i].out_fd >= 0))
      return &sessions[i];
  return NULL;
}

static agent_session *
free_session (void)
{
  for (int i = 0; i < AGENT_MAX_SESSIONS; i++)
    if (sessions[i].pid == 0 && sessions[i].out_fd < 0 && sessions[i].err_fd < 0)
      return &sessions[i];
  return NULL;
}

/* A session ends when its process is reaped and its output drained.  */
static void
maybe_finish (agent_session *s)
{
  if (s->pid != 0 || s->out_fd >= 0 || s->err_fd >= 0)
    return;
  if (s->port >= 0)
    {
      sb_agent_buf b = { 0 };
      if (sb_agent_put_u32x2 (&b, SB_AGENT_EXIT, s->id, s->code, s->sig, NULL) == 0)
        port_send (s->port, &b);
      sb_agent_buf_release (&b);
    }
  agent_session_close_fds (s);
  s->port = -1;
}

static void
do_exec (int p, uint32_t id, const uint8_t *data, size_t len)
{
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_free_ sb_agent_exec *e = calloc (1, sizeof (*e));
  agent_session *s;

  if (e == NULL || sb_agent_exec_decode (data, len, e, &err) < 0)
    return send_error (p, id, err);
  if (!mounted)
    return send_error (p, id, &(sb_err){ 0, (char *)"the workspace is not set up yet" });
  if (id == 0 || find_session (p, id) != NULL || (s = free_session ()) == NULL)
    return send_error (p, id, &(sb_err){ EBUSY, (char *)"session id in use or too many sessions" });
  *s = (agent_session){ .id = id, .port = p, .in_fd = -1, .out_fd = -1, .err_fd = -1 };
  if (agent_session_spawn (s, e, &err) < 0)
    {
      send_error (p, id, err);
      agent_session_close_fds (s);
      s->port = -1; /* reaped silently */
    }
}

static void
do_stdin (agent_session *s, const uint8_t *data, size_t len)
{
  if (s->in_fd < 0)
    return;
  if (len == 0)
    s->close_in = true;
  else
    sb_agent_buf_append (&s->pending_in, data, len);
}

static void
do_setup (int p, const uint8_t *data, size_t len)
{
  _cleanup_err_ sb_err *err = NULL;
  sb_agent_setup s;

  if (mounted)
    return send_error (p, 0, &(sb_err){ EBUSY, (char *)"already set up" });
  if (sb_agent_setup_decode (data, len, &s, &err) < 0 || agent_mount_workspace (&s, &err) < 0)
    return send_error (p, 0, err);
  mounted = true;
  send_frame (p, SB_AGENT_OK, 0, NULL, 0);
}

static void
do_file (int p, const uint8_t *data, size_t len)
{
  _cleanup_err_ sb_err *err = NULL;
  sb_agent_file f;

  if (!mounted)
    return send_error (p, 0, &(sb_err){ EBUSY, (char *)"FILE before SETUP" });
  if (sb_agent_file_decode (data, len, &f, &err) < 0 || agent_write_file (&f, &err) < 0)
    return send_error (p, 0, err);
  send_frame (p, SB_AGENT_OK, 0, NULL, 0);
}

static void
do_session_frame (int p, const sb_agent_hdr *h, const uint8_t *data)
{
  _cleanup_err_ sb_err *err = NULL;
  agent_session *s = find_session (p, h->session);
  uint16_t rows, cols;
  uint32_t sig;

  if (s == NULL)
    return;
  if (h->type == SB_AGENT_STDIN)
    do_stdin (s, data, h->len);
  else if (h->type == SB_AGENT_RESIZE && sb_agent_resize_decode (data, h->len, &rows, &cols, &err) == 0)
    {
      struct winsize ws = { .ws_row = rows, .ws_col = cols };
      if (s->tty && s->out_fd >= 0)
        ioctl (s->out_fd, TIOCSWINSZ, &ws);
    }
  else if (h->type == SB_AGENT_SIGNAL && sb_agent_signal_decode (data, h->len, &sig, &err) == 0)
    {
      if (s->pid > 0)
        kill (-s->pid, (int)sig);
    }
  else if (h->type == SB_AGENT_CLOSE && s->pid > 0)
    kill (-s->pid, SIGKILL);
  if (err)
    send_error (p, h->session, err);
}

static void
dispatch (int p, const sb_agent_hdr *h, const uint8_t *data)
{
  if (!sb_agent_type_to_guest (h->type))
    return send_error (p, h->session, &(sb_err){ EPROTO, (char *)"frame type not accepted by the agent" });
  switch (h->type)
    {
    case SB_AGENT_PING:
      return send_frame (p, SB_AGENT_PONG, h->session, data, h->len);
    case SB_AGENT_SETUP:
      return do_setup (p, data, h->len);
    case SB_AGENT_EXEC:
      return do_exec (p, h->session, data, h->len);
    case SB_AGENT_FILE:
      return do_file (p, data, h->len);
    case SB_AGENT_POWEROFF:
      send_frame (p, SB_AGENT_OK, 0, NULL, 0);
      agent_poweroff ();
    default:
      return do_session_frame (p, h, data);
    }
}

/* The client of port p left (or sent garbage): end its sessions.  */
static void
port_reset (int p)
{
  ports[p].hup = true;
  ports[p].in.len = 0;
  for (int i = 0; i < AGENT_MAX_SESSIONS; i++)
    if (sessions[i].port == p)
      {
        if (sessions[i].pid > 0)
          kill (-sessions[i].pid, SIGKILL);
        sessions[i].port = -1;
        maybe_finish (&sessions[i]);
      }
}

static void
port_read (int p)
{
  _cleanup_err_ sb_err *err = NULL;
  uint8_t buf[65536];
  ssize_t n = read (ports[p].fd, buf, sizeof (buf));
  size_t off = 0;
  sb_agent_hdr h;
  const uint8_t *payload;
  int r;

  if (n <= 0)
    {
      if (n == 0 || (errno != EINTR && errno != EAGAIN))
        port_reset (p);
      return;
    }
  sb_agent_buf_append (&ports[p].in, buf, (size_t)n);
  while ((r = sb_agent_frame_next (ports[p].in.data + off, ports[p].in.len - off, &h, &payload, &err)) == 1)
    {
      dispatch (p, &h, payload);
      off += SB_AGENT_HDR_SIZE + h.len;
    }
  sb_agent_buf_consume (&ports[p].in, off);
  if (r < 0)
    {
      send_error (p, 0, err);
      port_reset (p);
    }
}

static void
session_output (agent_session *s, int *fd, uint16_t type)
{
  uint8_t buf[32768];
  ssize_t n = read (*fd, buf, sizeof (buf));

  if (n > 0)
    {
      if (s->port >= 0)
        send_frame (s->port, type, s->id, buf, (size_t)n);
      return;
    }
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  /* EOF, or EIO from a pty master once no one holds the tty.  */
  if (*fd == s->in_fd)
    s->in_fd = -1;
  close (*fd);
  *fd = -1;
  maybe_finish (s);
}

static void
session_input (agent_session *s)
{
  ssize_t n = s->pending_in.len ? write (s->in_fd, s->pending_in.data, s->pending_in.len) : 0;

  if (n > 0)
    sb_agent_buf_consume (&s->pending_in, (size_t)n);
  else if (n < 0 && errno != EAGAIN && errno != EINTR)
    s->pending_in.len = 0;
  if (s->pending_in.len == 0 && s->close_in)
    {
      s->close_in = false;
      /* A tty has no end of input but its EOF character.  */
      if (s->tty)
        sb_write_all (s->in_fd, "\004", 1);
      else
        {
          close (s->in_fd);
          s->in_fd = -1;
        }
    }
}

static void
reap (void)
{
  struct signalfd_siginfo si;
  int status;
  pid_t pid;

  while (read (sigfd, &si, sizeof (si)) == sizeof (si))
    if (si.ssi_signo == SIGIO)
      for (int p = 0; p < n_ports; p++)
        ports[p].hup = false;
  while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
    for (int i = 0; i < AGENT_MAX_SESSIONS; i++)
      if (sessions[i].pid == pid)
        {
          agent_session *s = &sessions[i];
          s->pid = 0;
          s->code = WIFEXITED (status) ? (uint32_t)WEXITSTATUS (status) : 0;
          s->sig = WIFSIGNALED (status) ? (uint32_t)WTERMSIG (status) : 0;
          /* A pty is drained now: a background job may keep it open.  */
          if (s->tty && s->out_fd >= 0)
            {
              session_output (s, &s->out_fd, SB_AGENT_STDOUT);
              if (s->out_fd >= 0)
                {
                  close (s->out_fd);
                  s->out_fd = s->in_fd = -1;
                }
            }
          maybe_finish (s);
        }
}

/* Opens every port named sudobox.N; the host adds them asynchronously, so
   wait for the count given on the kernel command line (sudobox.ports=N).  */
static void
open_ports (void)
{
  char cmdline[4096] = "", *v;
  int want = 1, fd = open ("/proc/cmdline", O_RDONLY | O_CLOEXEC);

  if (fd >= 0)
    {
      ssize_t n = read (fd, cmdline, sizeof (cmdline) - 1);
      cmdline[n > 0 ? n : 0] = '\0';
      close (fd);
    }
  if ((v = strstr (cmdline, "sudobox.ports=")) != NULL)
    want = atoi (v + 14);
  want = want < 1 ? 1 : want > MAX_PORTS ? MAX_PORTS : want;
  for (int tries = 0; n_ports < want && tries < 2000; tries++)
    {
      DIR *d = opendir ("/sys/class/virtio-ports");
      struct dirent *de;
      n_ports = 0;
      while (d && (de = readdir (d)) != NULL)
        {
          char path[300], name[64] = "";
          int nfd;
          snprintf (path, sizeof (path), "/sys/class/virtio-ports/%s/name", de->d_name);
          nfd = open (path, O_RDONLY | O_CLOEXEC);
          if (nfd >= 0)
            {
              ssize_t n = read (nfd, name, sizeof (name) - 1);
              name[n > 0 ? n : 0] = '\0';
              close (nfd);
            }
          if (strncmp (name, PORT_PREFIX, strlen (PORT_PREFIX)) == 0)
            n_ports++;
        }
      if (d)
        closedir (d);
      if (n_ports < want)
        usleep (5000);
    }
  n_ports = 0;
  for (int i = 0; i < want; i++)
    {
      char path[64];
      ports[i].fd = -1;
      /* Ports are numbered from 1 on device 0 (vport0p1 ...).  */
      snprintf (path, sizeof (path), "/dev/vport0p%d", i + 1);
      ports[i].fd = open (path, O_RDWR | O_CLOEXEC);
      if (ports[i].fd < 0)
        {
          agent_log ("open %s: %s", path, strerror (errno));
          continue;
        }
      fcntl (ports[i].fd, F_SETOWN, getpid ());
      fcntl (ports[i].fd, F_SETFL, O_ASYNC);
      n_ports = i + 1;
    }
}

static bool
fd_gone (void *who, int fd)
{
  if (who >= (void *)ports && who < (void *)(ports + MAX_PORTS))
    return false;
  if (who >= (void *)sessions && who < (void *)(sessions + AGENT_MAX_SESSIONS)
      && ((uintptr_t)who - (uintptr_t)sessions) % sizeof (agent_session) == 0)
    return ((agent_session *)who)->in_fd != fd;
  return *(int *)who != fd;
}

static void
serve (void)
{
  struct pollfd pfd[1 + MAX_PORTS + 3 * AGENT_MAX_SESSIONS];
  void *who[1 + MAX_PORTS + 3 * AGENT_MAX_SESSIONS];

  for (;;)
    {
      nfds_t n = 0;
      pfd[n++] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
      for (int p = 0; p < n_ports; p++)
        if (ports[p].fd >= 0 && !ports[p].hup)
          {
            who[n] = &ports[p];
            pfd[n++] = (struct pollfd){ .fd = ports[p].fd, .events = POLLIN };
          }
      for (int i = 0; i < AGENT_MAX_SESSIONS; i++)
        {
          agent_session *s = &sessions[i];
          int *fds[] = { &s->out_fd, &s->err_fd };
          for (int k = 0; k < 2; k++)
            if (*fds[k] >= 0)
              {
                who[n] = fds[k];
                pfd[n++] = (struct pollfd){ .fd = *fds[k], .events = POLLIN };
              }
          if (s->in_fd >= 0 && (s->pending_in.len || s->close_in))
            {
              who[n] = s;
              pfd[n++] = (struct pollfd){ .fd = s->in_fd, .events = POLLOUT };
            }
        }
      if (poll (pfd, n, -1) < 0)
        continue;
      if (pfd[0].revents)
        reap ();
      for (nfds_t k = 1; k < n; k++)
        {
          /* An fd closed by an earlier entry of this round.  */
          if (pfd[k].revents == 0 || (who[k] != NULL && fd_gone (who[k], pfd[k].fd)))
            continue;
          if (who[k] >= (void *)ports && who[k] < (void *)(ports + MAX_PORTS))
            {
              int p = (int)((port *)who[k] - ports);
              if (pfd[k].revents & POLLIN)
                port_read (p);
              else if (pfd[k].revents & (POLLHUP | POLLERR))
                port_reset (p);
            }
          else if (who[k] >= (void *)sessions && who[k] < (void *)(sessions + AGENT_MAX_SESSIONS)
                   && pfd[k].events == POLLOUT)
            session_input (who[k]);
          else
            for (int i = 0; i < AGENT_MAX_SESSIONS; i++)
              if (who[k] == &sessions[i].out_fd || who[k] == &sessions[i].err_fd)
                session_output (&sessions[i], who[k],
                                who[k] == &sessions[i].out_fd ? SB_AGENT_STDOUT : SB_AGENT_STDERR);
        }
    }
}

int
main (void)
{
  sigset_t set;

  if (getpid () != 1)
    {
      fprintf (stderr, "sudobox-agent: runs only as PID 1 of a sudobox microvm\n");
      return 1;
    }
  for (int i = 0; i < AGENT_MAX_SESSIONS; i++)
    sessions[i] = (agent_session){ .port = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1 };
  sigemptyset (&set);
  sigaddset (&set, SIGCHLD);
  sigaddset (&set, SIGIO);
  sigprocmask (SIG_BLOCK, &set, NULL);
  signal (SIGPIPE, SIG_IGN);
  sigfd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  agent_early_setup ();
  open_ports ();
  agent_log ("ready, %d ports", n_ports);
  serve ();
}
