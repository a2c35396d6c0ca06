#include "network.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "netif.h"
#include "selfexe.h"
#include "util.h"

#define READY_TIMEOUT_MS 5000
/* How much of the helper's output an error quotes.  */
#define TAIL_MAX 1024
/* Fixed fd numbers in the helper, so its argv can name them.  */
#define CHILD_READY_FD 3
#define CHILD_EXIT_FD 4

static bool
is_wildcard (const char *ip)
{
  return strcmp (ip, "0.0.0.0") == 0 || strcmp (ip, "::") == 0;
}

/* Two publishes that the host cannot both bind.  */
static bool
overlap (const sb_publish *a, const sb_publish *b)
{
  return a->udp == b->udp && a->host_port == b->host_port
         && (strcmp (a->host_ip, b->host_ip) == 0 || is_wildcard (a->host_ip) || is_wildcard (b->host_ip));
}

static int
check_overlaps (const sb_publish *p, size_t n, sb_err **err)
{
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++)
      if (overlap (&p[i], &p[j]))
        {
          sb_hostport a = sb_publish_host (&p[j]), b = sb_publish_host (&p[i]);
          if (strcmp (a.s, b.s) == 0)
            return sb_error (err, 0, "port %s is published twice", a.s);
          return sb_error (err, 0, "published ports %s and %s overlap", a.s, b.s);
        }
  return 0;
}

static int
check_one_free (const sb_publish *p, sb_err **err)
{
  sb_hostport h = sb_publish_host (p);
  bool v6 = strchr (p->host_ip, ':') != NULL;
  struct sockaddr_storage ss = { 0 };
  socklen_t len;
  int one = 1;
  _cleanup_close_ int fd = -1;

  if (v6)
    {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
      a->sin6_family = AF_INET6;
      a->sin6_port = htons (p->host_port);
      inet_pton (AF_INET6, p->host_ip, &a->sin6_addr);
      len = sizeof (*a);
    }
  else
    {
      struct sockaddr_in *a = (struct sockaddr_in *)&ss;
      a->sin_family = AF_INET;
      a->sin_port = htons (p->host_port);
      inet_pton (AF_INET, p->host_ip, &a->sin_addr);
      len = sizeof (*a);
    }
  fd = socket (v6 ? AF_INET6 : AF_INET, (p->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return sb_error (err, errno, "socket for port %s", h.s);
  /* TCP: what slirp4netns trips on is a listener, which SO_REUSEADDR still
     refuses; without it, TIME_WAIT connections of a just-stopped workspace
     would count as "in use" for a minute.  UDP keeps it off: there it would
     let two sockets share the port.  */
  if (!p->udp && setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof (one)) < 0)
    return sb_error (err, errno, "setsockopt SO_REUSEADDR for port %s", h.s);
  if (bind (fd, (struct sockaddr *)&ss, len) == 0)
    return 0;
  if (errno == EADDRINUSE)
    return sb_error (err, 0, "port %s is already in use", h.s);
  if (errno == EADDRNOTAVAIL)
    return sb_error (err, 0, "cannot publish port %s: the host has no address %s", h.s, p->host_ip);
  return sb_error (err, errno, "cannot publish port %s", h.s);
}

int
sb_publish_check_free (const sb_publish *p, size_t n, sb_err **err)
{
  if (check_overlaps (p, n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (check_one_free (&p[i], err) < 0)
      return -1;
  return 0;
}

const char *
sb_net_resolv_conf (void)
{
  return "nameserver " SB_NET_DNS "\n";
}

/* Where the helper's output goes and how to get its tail back.  With a log
   file the tail is read from the file; otherwise from a pipe that is closed
   once the helper is ready (the helper ignores SIGPIPE, so later output is
   just dropped).  */
typedef struct
{
  int child_fd; /* the helper's stdout and stderr */
  int read_fd;  /* pipe read end, -1 with a log file */
  off_t log_start;
  char tail[2 * TAIL_MAX];
  size_t tail_len;
} helper_output;

static void
output_release (helper_output *o)
{
  sb_closep (&o->child_fd);
  sb_closep (&o->read_fd);
}

static int
output_open (helper_output *o, const char *log_path, sb_err **err)
{
  int fds[2];
  o->child_fd = o->read_fd = -1;
  o->tail_len = 0;
  if (log_path != NULL)
    {
      o->child_fd = open (log_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
      if (o->child_fd < 0)
        return sb_error (err, errno, "open network helper log `%s`", log_path);
      o->log_start = lseek (o->child_fd, 0, SEEK_END);
      return 0;
    }
  if (pipe2 (fds, O_CLOEXEC | O_NONBLOCK) < 0)
    return sb_error (err, errno, "pipe");
  o->read_fd = fds[0];
  o->child_fd = fds[1];
  /* Only the helper writes; a blocking write end keeps its output whole.  */
  fcntl (o->child_fd, F_SETFL, 0);
  return 0;
}

static void
tail_append (helper_output *o, const char *buf, size_t len)
{
  if (len > TAIL_MAX)
    {
      buf += len - TAIL_MAX;
      len = TAIL_MAX;
    }
  if (o->tail_len + len > sizeof (o->tail))
    {
      size_t drop = o->tail_len + len - TAIL_MAX;
      memmove (o->tail, o->tail + drop, o->tail_len - drop);
      o->tail_len -= drop;
    }
  memcpy (o->tail + o->tail_len, buf, len);
  o->tail_len += len;
}

/* Reads what the pipe holds; returns false at end of file.  */
static bool
output_drain (helper_output *o)
{
  char buf[4096];
  for (;;)
    {
      ssize_t r = read (o->read_fd, buf, sizeof (buf));
      if (r > 0)
        tail_append (o, buf, (size_t)r);
      else if (r < 0 && errno == EINTR)
        continue;
      else
        return r < 0 && errno == EAGAIN;
    }
}

/* The last lines the helper wrote, on one line ("a; b").  */
static char *
output_tail (helper_output *o)
{
  const char *s;
  size_t len;
  char *res;

  if (o->read_fd >= 0)
    output_drain (o);
  else
    {
      off_t end = lseek (o->child_fd, 0, SEEK_END);
      off_t from = end - o->log_start > TAIL_MAX ? end - TAIL_MAX : o->log_start;
      ssize_t r = from < end ? pread (o->child_fd, o->tail, (size_t)(end - from), from) : 0;
      o->tail_len = r > 0 ? (size_t)r : 0;
    }
  s = o->tail;
  len = o->tail_len;
  if (len > TAIL_MAX)
    {
      s += len - TAIL_MAX;
      len = TAIL_MAX;
    }
  while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
    len--;
  if (len == 0)
    return sb_xstrdup ("(no output)");
  res = sb_xmalloc0 (2 * len + 1);
  for (size_t i = 0, j = 0; i < len; i++)
    if (s[i] == '\n')
      {
        res[j++] = ';';
        res[j++] = ' ';
      }
    else
      res[j++] = s[i];
  return res;
}

typedef struct
{
  const char *exe;
  char *const *argv;
  int ready_fd; /* write end */
  int exit_fd;  /* read end or -1 */
  int out_fd;
  int null_fd;
} child_setup;

/* Between fork and exec: async-signal-safe calls only.  Every fd goes up
   out of the way first so the dup2 to 0..4 cannot clobber another source.  */
static void __attribute__ ((noreturn)) child_exec (const child_setup *c)
{
  static const char msg[] = "sudobox: cannot execute sudobox-net\n";
  int null_fd = fcntl (c->null_fd, F_DUPFD_CLOEXEC, 10);
  int out_fd = fcntl (c->out_fd, F_DUPFD_CLOEXEC, 10);
  int ready_fd = fcntl (c->ready_fd, F_DUPFD_CLOEXEC, 10);
  int exit_fd = c->exit_fd >= 0 ? fcntl (c->exit_fd, F_DUPFD_CLOEXEC, 10) : -1;
  struct sigaction dfl = { .sa_handler = SIG_DFL }, ign = { .sa_handler = SIG_IGN };
  sigset_t none;

  if (null_fd < 0 || out_fd < 0 || ready_fd < 0 || (c->exit_fd >= 0 && exit_fd < 0))
    _exit (127);
  if (dup2 (null_fd, 0) < 0 || dup2 (out_fd, 1) < 0 || dup2 (out_fd, 2) < 0
      || dup2 (ready_fd, CHILD_READY_FD) < 0 || (exit_fd >= 0 && dup2 (exit_fd, CHILD_EXIT_FD) < 0))
    _exit (127);
  close_range (exit_fd >= 0 ? CHILD_EXIT_FD + 1 : CHILD_READY_FD + 1, ~0U, 0);
  /* The caller's signal handling is not the helper's; SIGPIPE stays ignored
     so output after the pipe reader is gone is dropped, not fatal.  */
  for (int sig = 1; sig < NSIG; sig++)
    sigaction (sig, sig == SIGPIPE ? &ign : &dfl, NULL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  /* Out of the caller's session: a ^C at the caller's terminal must not
     take the workspace's network down behind its back.  */
  setsid ();
  execv (c->exe, c->argv);
  if (write (2, msg, sizeof (msg) - 1) < 0)
    _exit (127);
  _exit (127);
}

static char **
helper_argv (pid_t pid, const sb_publish *p, size_t n, bool with_exit_fd)
{
  char **argv = NULL;
  char *s;

  sb_strv_append (&argv, "sudobox-net");
  s = sb_xasprintf ("--ready-fd=%d", CHILD_READY_FD);
  sb_strv_append (&argv, s);
  free (s);
  if (with_exit_fd)
    {
      s = sb_xasprintf ("--exit-fd=%d", CHILD_EXIT_FD);
      sb_strv_append (&argv, s);
      free (s);
    }
  for (size_t i = 0; i < n; i++)
    {
      s = sb_xasprintf ("--publish=%s", sb_publish_spec (&p[i]).s);
      sb_strv_append (&argv, s);
      free (s);
    }
  s = sb_xasprintf ("%d", (int)pid);
  sb_strv_append (&argv, s);
  free (s);
  return argv;
}

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What the helper wrote on its ready fd before closing it: "ok", or why it
   could not start.  Returns -1 on timeout.  The output pipe is drained
   meanwhile so a chatty helper cannot block on it.  */
static int
wait_ready (int ready_fd, helper_output *o, char *msg, size_t size)
{
  int64_t deadline = now_ms () + READY_TIMEOUT_MS;
  struct pollfd pfd[2] = { { .fd = ready_fd, .events = POLLIN }, { .fd = o->read_fd, .events = POLLIN } };
  size_t len = 0;

  for (;;)
    {
      int64_t left = deadline - now_ms ();
      ssize_t r;
      if (left <= 0)
        return -1;
      if (poll (pfd, 2, (int)left) < 0 && errno != EINTR)
        return -1;
      if (pfd[1].revents != 0 && !output_drain (o))
        pfd[1].fd = -1;
      if (pfd[0].revents == 0)
        continue;
      r = read (ready_fd, msg + len, size - 1 - len);
      if (r < 0 && errno == EINTR)
        continue;
      if (r > 0 && (len += (size_t)r) < size - 1)
        continue;
      msg[len] = '\0';
      return 0;
    }
}

static void
kill_helper (pid_t pid, int *status)
{
  kill (pid, SIGKILL);
  while (waitpid (pid, status, 0) < 0 && errno == EINTR)
    ;
}

/* The helper said why (a port in use), or died without a word: then its
   exit status and last output say what happened.  */
static int
not_ready_error (pid_t pid, pid_t target, bool timeout, const char *msg, helper_output *o, sb_err **err)
{
  int status = 0;
  _cleanup_free_ char *tail = NULL;
  char why[64];

  kill_helper (pid, &status);
  if (!timeout && *msg != '\0')
    return sb_error (err, 0, "%s", msg);
  tail = output_tail (o);
  if (timeout)
    snprintf (why, sizeof (why), "no answer within %d s", READY_TIMEOUT_MS / 1000);
  else if (WIFEXITED (status))
    snprintf (why, sizeof (why), "it exited with status %d", WEXITSTATUS (status));
  else
    snprintf (why, sizeof (why), "it was killed by signal %d", WTERMSIG (status));
  return sb_error (err, 0, "the network helper did not start for the network namespace of pid %d (%s): %s",
                   (int)target, why, tail);
}

/* Refused before anything starts: libslirp 4.7 accepts an IPv6 host
   address but never connects what arrives there to the workspace.  */
static int
check_ipv4_only (const sb_publish *p, size_t n, sb_err **err)
{
  for (size_t i = 0; i < n; i++)
    if (strchr (p[i].host_ip, ':') != NULL)
      return sb_error (err, 0, "cannot publish port %s: only IPv4 host addresses can be published",
                       sb_publish_host (&p[i]).s);
  return 0;
}

struct sb_net_pending
{
  helper_output out;
  pid_t target, child;
  int ready_fd, exit_fd;
};

void
sb_net_pending_free (sb_net_pending *np)
{
  if (np == NULL)
    return;
  if (np->child > 0)
    kill_helper (np->child, NULL);
  output_release (&np->out);
  sb_closep (&np->ready_fd);
  sb_closep (&np->exit_fd);
  free (np);
}

/* The pipes of a helper about to be forked: its output, its ready fd (read
   end kept in np), its exit fd (write end kept in np).  */
static int
spawn_pipes (sb_net_pending *np, const char *log_path, bool with_exit_fd, int *ready_w, int *exit_r,
             sb_err **err)
{
  int fds[2];

  if (output_open (&np->out, log_path, err) < 0)
    return -1;
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return sb_error (err, errno, "pipe");
  np->ready_fd = fds[0];
  *ready_w = fds[1];
  if (!with_exit_fd)
    return 0;
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return sb_error (err, errno, "pipe");
  *exit_r = fds[0];
  np->exit_fd = fds[1];
  return 0;
}

int
sb_net_spawn (pid_t pid, const sb_publish *p, size_t n, const char *log_path, bool with_exit_fd,
              sb_net_pending **out, sb_err **err)
{
  _cleanup_free_ char *exe = NULL;
  _cleanup_strv_ char **argv = NULL;
  _cleanup_close_ int null_fd = -1, ready_w = -1, exit_r = -1;
  sb_net_pending *np;
  child_setup c;

  if (check_ipv4_only (p, n, err) < 0)
    return -1;
  if (sb_find_helper ("sudobox-net", "net", "SUDOBOX_NET", &exe, err) < 0)
    return -1;
  null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0)
    return sb_error (err, errno, "open /dev/null");
  np = sb_xmalloc0 (sizeof (*np));
  *np = (sb_net_pending){
    .out = { .child_fd = -1, .read_fd = -1 }, .target = pid, .ready_fd = -1, .exit_fd = -1
  };
  if (spawn_pipes (np, log_path, with_exit_fd, &ready_w, &exit_r, err) < 0)
    {
      sb_net_pending_free (np);
      return -1;
    }
  argv = helper_argv (pid, p, n, with_exit_fd);
  c = (child_setup){ .exe = exe,
                     .argv = argv,
                     .ready_fd = ready_w,
                     .exit_fd = exit_r,
                     .out_fd = np->out.child_fd,
                     .null_fd = null_fd };
  np->child = fork ();
  if (np->child < 0)
    {
      np->child = 0;
      sb_net_pending_free (np);
      return sb_error (err, errno, "fork the network helper");
    }
  if (np->child == 0)
    child_exec (&c);
  if (np->out.read_fd >= 0)
    sb_closep (&np->out.child_fd);
  *out = np;
  return 0;
}

int
sb_net_finish (sb_net_pending *np, pid_t *helper, int *exit_fd, sb_err **err)
{
  char msg[512];
  int r = wait_ready (np->ready_fd, &np->out, msg, sizeof (msg));

  if (r < 0 || strcmp (msg, "ok") != 0)
    {
      not_ready_error (np->child, np->target, r < 0, msg, &np->out, err);
      np->child = 0;
      sb_net_pending_free (np);
      return -1;
    }
  *helper = np->child;
  np->child = 0;
  if (exit_fd != NULL)
    *exit_fd = sb_steal_fd (&np->exit_fd);
  sb_net_pending_free (np);
  return 0;
}

int
sb_net_start_ex (pid_t pid, const sb_publish *p, size_t n, const char *log_path, pid_t *helper, int *exit_fd,
                 sb_err **err)
{
  sb_net_pending *np = NULL;

  if (sb_net_spawn (pid, p, n, log_path, exit_fd != NULL, &np, err) < 0)
    return -1;
  return sb_net_finish (np, helper, exit_fd, err);
}

int
sb_net_start (pid_t pid, const sb_publish *p, size_t n, pid_t *helper, sb_err **err)
{
  return sb_net_start_ex (pid, p, n, NULL, helper, NULL, err);
}
