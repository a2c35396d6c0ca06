/* Workspace networking against the real sudobox-net (NET_HELPER): a
   network namespace owned by a child user namespace (as the runtime makes
   them), a published port reached from the host, the host's loopback out
   of reach, the helper confined.  Needs root.  */
#include "network.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "tap.h"
#include "util.h"

static char tmp[] = "/tmp/sudobox-test-network.XXXXXX";

static void
die (const char *what)
{
  perror (what);
  abort ();
}

/* A TCP socket on ip:port (0: any free port), listening.  */
static int
tcp_listen (const char *ip, uint16_t port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (port) };
  int one = 1, fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  inet_pton (AF_INET, ip, &a.sin_addr);
  if (fd < 0 || setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof (one)) < 0
      || bind (fd, (struct sockaddr *)&a, sizeof (a)) < 0 || listen (fd, 8) < 0)
    die ("tcp_listen");
  return fd;
}

static uint16_t
local_port (int fd)
{
  struct sockaddr_in a;
  socklen_t len = sizeof (a);
  if (getsockname (fd, (struct sockaddr *)&a, &len) < 0)
    die ("getsockname");
  return ntohs (a.sin_port);
}

static uint16_t
free_port (void)
{
  int fd = tcp_listen ("127.0.0.1", 0);
  uint16_t port = local_port (fd);
  close (fd);
  return port;
}

/* A connected socket, or -1 when the connection fails within ms.  */
static int
tcp_connect (const char *ip, uint16_t port, int ms)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (port) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), soerr = 0;
  socklen_t len = sizeof (soerr);
  struct pollfd pfd = { .fd = fd, .events = POLLOUT };

  inet_pton (AF_INET, ip, &a.sin_addr);
  if (connect (fd, (struct sockaddr *)&a, sizeof (a)) == 0)
    return fd;
  if (errno != EINPROGRESS || poll (&pfd, 1, ms) != 1
      || getsockopt (fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr != 0)
    {
      close (fd);
      return -1;
    }
  fcntl (fd, F_SETFL, 0);
  return fd;
}

static void
write_proc (pid_t pid, const char *file, const char *data)
{
  char path[64];
  snprintf (path, sizeof (path), "/proc/%d/%s", (int)pid, file);
  if (sb_write_file_at (AT_FDCWD, path, data, NULL) < 0)
    die (path);
}

/* A process in its own user namespace (root = host 1000000) and a network
   namespace that namespace owns; it lives until *hold is closed.  */
static pid_t
start_ns (int *hold)
{
  int up[2], down[2];
  char c;
  pid_t pid;

  if (pipe2 (up, O_CLOEXEC) < 0 || pipe2 (down, O_CLOEXEC) < 0)
    die ("pipe");
  pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      close (up[0]);
      close (down[1]);
      if (unshare (CLONE_NEWUSER) < 0 || write (up[1], "u", 1) != 1 || read (down[0], &c, 1) != 1
          || unshare (CLONE_NEWNET) < 0 || write (up[1], "n", 1) != 1)
        _exit (1);
      while (read (down[0], &c, 1) > 0)
        ;
      _exit (0);
    }
  close (up[1]);
  close (down[0]);
  if (read (up[0], &c, 1) != 1)
    die ("namespace child");
  write_proc (pid, "setgroups", "deny");
  write_proc (pid, "uid_map", "0 1000000 65536");
  write_proc (pid, "gid_map", "0 1000000 65536");
  if (write (down[1], "m", 1) != 1 || read (up[0], &c, 1) != 1)
    die ("namespace child");
  close (up[0]);
  *hold = down[1];
  return pid;
}

static int
reap (pid_t pid)
{
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

/* Waits at most ms for pid to exit; true when it did.  */
static bool
reap_within (pid_t pid, int ms)
{
  for (int i = 0; i < ms / 20; i++)
    {
      if (waitpid (pid, NULL, WNOHANG) == pid)
        return true;
      usleep (20000);
    }
  return false;
}

/* Forks a process in the user and network namespaces of target and runs
   fn there; returns its pid.  */
static pid_t
in_ns (pid_t target, int (*fn) (void *), void *arg)
{
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork");
  if (pid == 0)
    {
      char path[64];
      int userns, netns;
      snprintf (path, sizeof (path), "/proc/%d/ns/user", (int)target);
      userns = open (path, O_RDONLY | O_CLOEXEC);
      snprintf (path, sizeof (path), "/proc/%d/ns/net", (int)target);
      netns = open (path, O_RDONLY | O_CLOEXEC);
      if (userns < 0 || netns < 0 || setns (userns, CLONE_NEWUSER) < 0 || setns (netns, CLONE_NEWNET) < 0)
        _exit (120);
      alarm (20);
      _exit (fn (arg));
    }
  return pid;
}

static int
check_tap0 (void *arg)
{
  struct ifreq ifr = { 0 };
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  (void)arg;
  strcpy (ifr.ifr_name, "tap0");
  if (fd < 0 || ioctl (fd, SIOCGIFADDR, &ifr) < 0)
    return 1;
  return strcmp (inet_ntoa (((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr), "10.0.2.100") == 0 ? 0 : 2;
}

/* Answers one connection on 0.0.0.0:8080 with "hello"; a byte on the
   ready pipe says it is listening.  */
static int
hello_server (void *arg)
{
  int ready = *(int *)arg, lfd = tcp_listen ("0.0.0.0", 8080), fd;
  if (write (ready, "l", 1) != 1)
    return 1;
  fd = accept (lfd, NULL, NULL);
  return fd >= 0 && sb_write_all (fd, "hello", 5) == 0 ? 0 : 1;
}

typedef struct
{
  const char *ip;
  uint16_t port;
} target;

/* Exit status 0 when the connection is made, 1 when it fails.  */
static int
try_connect (void *arg)
{
  target *t = arg;
  int fd = tcp_connect (t->ip, t->port, 2000);
  return fd >= 0 ? 0 : 1;
}

static int
connect_from_ns (pid_t ns, const char *ip, uint16_t port)
{
  target t = { ip, port };
  return reap (in_ns (ns, try_connect, &t));
}

/* A non-loopback IPv4 address of the host, to show outbound TCP works
   without the internet; NULL when the host has none.  */
static const char *
host_ipv4 (char *buf, size_t size)
{
  struct ifaddrs *ifa, *i;
  const char *res = NULL;
  if (getifaddrs (&ifa) < 0)
    return NULL;
  for (i = ifa; i != NULL && res == NULL; i = i->ifa_next)
    if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET && !(i->ifa_flags & IFF_LOOPBACK)
        && (i->ifa_flags & IFF_UP))
      res = inet_ntop (AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf, (socklen_t)size);
  freeifaddrs (ifa);
  return res;
}

/* One "Key:   N kB" value of a /proc file, -1 when absent.  */
static long
proc_kb (pid_t pid, const char *file, const char *key)
{
  char path[64], line[256], fmt[64];
  long kb = -1;
  FILE *f;
  snprintf (path, sizeof (path), "/proc/%d/%s", (int)pid, file);
  snprintf (fmt, sizeof (fmt), "%s: %%ld kB", key);
  f = fopen (path, "re");
  if (f == NULL)
    return -1;
  while (fgets (line, sizeof (line), f) != NULL)
    if (sscanf (line, fmt, &kb) == 1)
      break;
  fclose (f);
  return kb;
}

/* The host memory an idle helper costs: its RSS, and of that the private
   part (RssAnon), which is what each further workspace adds; the file
   pages (one static binary) are shared by all helpers.  */
static void
report_memory (pid_t helper)
{
  printf ("# sudobox-net idle: VmRSS %ld kB (RssAnon %ld kB, RssFile %ld kB, Pss %ld kB)\n",
          proc_kb (helper, "status", "VmRSS"), proc_kb (helper, "status", "RssAnon"),
          proc_kb (helper, "status", "RssFile"), proc_kb (helper, "smaps_rollup", "Pss"));
  fflush (stdout);
}

/* True when pid holds an fd to path.  */
static bool
holds_file (pid_t pid, const char *path)
{
  char dir[64], link[PATH_MAX], fdpath[PATH_MAX + 80];
  struct dirent *de;
  bool found = false;
  DIR *d;
  snprintf (dir, sizeof (dir), "/proc/%d/fd", (int)pid);
  d = opendir (dir);
  if (d == NULL)
    return false;
  while ((de = readdir (d)) != NULL)
    {
      ssize_t n;
      snprintf (fdpath, sizeof (fdpath), "%s/%s", dir, de->d_name);
      n = readlink (fdpath, link, sizeof (link) - 1);
      if (n > 0)
        {
          link[n] = '\0';
          found |= strcmp (link, path) == 0;
        }
    }
  closedir (d);
  return found;
}

/* Children of this process running the program comm.  */
static int
count_children (const char *comm_wanted)
{
  DIR *d = opendir ("/proc");
  struct dirent *de;
  int count = 0;
  while (d != NULL && (de = readdir (d)) != NULL)
    {
      char path[300], buf[512], comm[64];
      int ppid;
      FILE *f;
      snprintf (path, sizeof (path), "/proc/%s/stat", de->d_name);
      f = fopen (path, "re");
      if (f == NULL)
        continue;
      if (fgets (buf, sizeof (buf), f) != NULL && sscanf (buf, "%*d (%63[^)]) %*c %d", comm, &ppid) == 2
          && ppid == getpid () && strcmp (comm, comm_wanted) == 0)
        count++;
      fclose (f);
    }
  if (d != NULL)
    closedir (d);
  return count;
}

static int
count_helpers (void)
{
  return count_children ("sudobox-net");
}

static bool
contains (const sb_err *e, const char *needle)
{
  return e != NULL && strstr (e->msg, needle) != NULL;
}

static void
parse_ok (const char *s, const char *ip, int host_port, int port, bool udp)
{
  sb_publish p;
  _cleanup_err_ sb_err *err = NULL;
  int r = sb_publish_parse (s, &p, &err);
  tap_ok (r == 0 && strcmp (p.host_ip, ip) == 0 && p.host_port == host_port && p.port == port && p.udp == udp,
          "parse \"%s\" -> %s %d %d %s%s%s", s, ip, host_port, port, udp ? "udp" : "tcp", err ? ": " : "",
          err ? err->msg : "");
}

static void
parse_bad (const char *s, const char *expected)
{
  sb_publish p;
  _cleanup_err_ sb_err *err = NULL;
  int r = sb_publish_parse (s, &p, &err);
  tap_ok (r < 0 && err != NULL, "parse \"%s\" fails", s);
  tap_is_str (err ? err->msg : NULL, expected, "message for \"%s\"", s);
}

static void
test_parse (void)
{
  parse_ok ("8080:80", "127.0.0.1", 8080, 80, false);
  parse_ok ("127.0.0.1:8080:80", "127.0.0.1", 8080, 80, false);
  parse_ok ("0.0.0.0:8080:80/udp", "0.0.0.0", 8080, 80, true);
  parse_ok ("8080:80/tcp", "127.0.0.1", 8080, 80, false);
  parse_ok ("[::1]:8080:80", "::1", 8080, 80, false);
  parse_ok ("[0:0::1]:1:65535/udp", "::1", 1, 65535, true);
  parse_bad ("abc", "--publish \"abc\": expected [IP:]HOSTPORT:PORT[/tcp|udp]");
  parse_bad ("8080", "--publish \"8080\": expected [IP:]HOSTPORT:PORT[/tcp|udp]");
  parse_bad ("", "--publish \"\": expected [IP:]HOSTPORT:PORT[/tcp|udp]");
  parse_bad (":80", "--publish \":80\": expected [IP:]HOSTPORT:PORT[/tcp|udp]");
  parse_bad ("8080:", "--publish \"8080:\": expected [IP:]HOSTPORT:PORT[/tcp|udp]");
  parse_bad ("::1:8080:80", "--publish \"::1:8080:80\": expected [IP:]HOSTPORT:PORT[/tcp|udp]");
  parse_bad ("[::1]8080:80", "--publish \"[::1]8080:80\": expected [IP:]HOSTPORT:PORT[/tcp|udp]");
  parse_bad ("[::1:8080:80", "--publish \"[::1:8080:80\": expected [IP:]HOSTPORT:PORT[/tcp|udp]");
  parse_bad ("0:80", "--publish \"0:80\": port \"0\" is not a number from 1 to 65535");
  parse_bad ("8080:65536", "--publish \"8080:65536\": port \"65536\" is not a number from 1 to 65535");
  parse_bad ("8080:-1", "--publish \"8080:-1\": port \"-1\" is not a number from 1 to 65535");
  parse_bad ("80x:80", "--publish \"80x:80\": port \"80x\" is not a number from 1 to 65535");
  parse_bad ("8080:80/sctp", "--publish \"8080:80/sctp\": unknown protocol \"sctp\" (tcp or udp)");
  parse_bad ("1.2.3:8080:80", "--publish \"1.2.3:8080:80\": \"1.2.3\" is not an IPv4 address");
  parse_bad ("localhost:8080:80", "--publish \"localhost:8080:80\": \"localhost\" is not an IPv4 address");
  parse_bad ("[1.2.3.4]:8080:80", "--publish \"[1.2.3.4]:8080:80\": \"1.2.3.4\" is not an IPv6 address");
  tap_is_str (sb_net_resolv_conf (), "nameserver 10.0.2.3\n", "resolv.conf points at slirp's DNS");
}

static sb_publish
pub (const char *ip, uint16_t host_port, uint16_t port)
{
  sb_publish p = { .host_port = host_port, .port = port };
  snprintf (p.host_ip, sizeof (p.host_ip), "%s", ip);
  return p;
}

static void
check_free_fails (const sb_publish *p, size_t n, const char *expected, const char *what)
{
  _cleanup_err_ sb_err *err = NULL;
  tap_ok (sb_publish_check_free (p, n, &err) < 0, "check_free: %s", what);
  tap_is_str (err ? err->msg : NULL, expected, "check_free message: %s", what);
}

/* A connection whose server side closes first leaves the port in
   TIME_WAIT on the server side.  */
static void
leave_time_wait (uint16_t *port)
{
  int lfd = tcp_listen ("127.0.0.1", 0), c, s;
  char buf[1];
  *port = local_port (lfd);
  c = tcp_connect ("127.0.0.1", *port, 1000);
  s = accept (lfd, NULL, NULL);
  close (lfd);
  close (s);
  if (c < 0 || read (c, buf, 1) != 0)
    die ("time_wait");
  close (c);
}

static void
test_check_free (void)
{
  _cleanup_err_ sb_err *err = NULL;
  int lfd = tcp_listen ("127.0.0.1", 0);
  uint16_t used = local_port (lfd), free1 = free_port (), tw;
  char msg[128];
  sb_publish p[3];

  p[0] = pub ("127.0.0.1", free1, 80);
  p[1] = pub ("127.0.0.1", free1, 81);
  p[1].udp = true;
  tap_ok (sb_publish_check_free (p, 2, &err) == 0, "check_free: free tcp and udp ports pass%s%s",
          err ? ": " : "", err ? err->msg : "");
  p[0] = pub ("127.0.0.1", used, 80);
  snprintf (msg, sizeof (msg), "port 127.0.0.1:%u is already in use", used);
  check_free_fails (p, 1, msg, "listener on the same address");
  p[0] = pub ("0.0.0.0", used, 80);
  snprintf (msg, sizeof (msg), "port 0.0.0.0:%u is already in use", used);
  check_free_fails (p, 1, msg, "wildcard over a loopback listener");
  p[0] = pub ("127.0.0.1", free1, 80);
  p[1] = pub ("127.0.0.1", free1, 81);
  snprintf (msg, sizeof (msg), "port 127.0.0.1:%u is published twice", free1);
  check_free_fails (p, 2, msg, "same port twice");
  p[1] = pub ("0.0.0.0", free1, 81);
  snprintf (msg, sizeof (msg), "published ports 127.0.0.1:%u and 0.0.0.0:%u overlap", free1, free1);
  check_free_fails (p, 2, msg, "loopback and wildcard");
  p[0] = pub ("192.0.2.1", free1, 80);
  snprintf (msg, sizeof (msg), "cannot publish port 192.0.2.1:%u: the host has no address 192.0.2.1", free1);
  check_free_fails (p, 1, msg, "address the host does not have");
  leave_time_wait (&tw);
  p[0] = pub ("127.0.0.1", tw, 80);
  sb_err_free (&err);
  tap_ok (sb_publish_check_free (p, 1, &err) == 0, "check_free: a port in TIME_WAIT is free%s%s",
          err ? ": " : "", err ? err->msg : "");
  close (lfd);
}

/* The published port answers from the host with what the workspace's
   server sends.  */
static void
test_forward (pid_t ns, uint16_t host_port)
{
  int ready[2], fd;
  char buf[16] = "";
  pid_t server;

  if (pipe2 (ready, O_CLOEXEC) < 0)
    die ("pipe");
  server = in_ns (ns, hello_server, &ready[1]);
  close (ready[1]);
  tap_ok (read (ready[0], buf, 1) == 1, "server listens on 0.0.0.0:8080 in the workspace");
  close (ready[0]);
  fd = tcp_connect ("127.0.0.1", host_port, 3000);
  tap_ok (fd >= 0, "host connects to 127.0.0.1:%u", host_port);
  if (fd >= 0)
    {
      ssize_t n = sb_read_all (fd, buf, sizeof (buf) - 1);
      buf[n > 0 ? n : 0] = '\0';
      close (fd);
    }
  tap_is_str (buf, "hello", "published port reaches the workspace");
  if (fd < 0)
    kill (server, SIGKILL);
  tap_is_int (reap (server), 0, "workspace server answered");
}

static void
test_isolation (pid_t ns)
{
  int lfd = tcp_listen ("127.0.0.1", 0), any;
  uint16_t port = local_port (lfd);
  char ip[INET_ADDRSTRLEN];

  tap_is_int (connect_from_ns (ns, "10.0.2.2", port), 1, "host's 127.0.0.1:%u unreachable via 10.0.2.2",
              port);
  tap_is_int (connect_from_ns (ns, "127.0.0.1", port), 1, "host's 127.0.0.1:%u unreachable via 127.0.0.1",
              port);
  close (lfd);
  if (host_ipv4 (ip, sizeof (ip)) == NULL)
    {
      tap_ok (true, "# SKIP no non-loopback host address for an outbound test");
      return;
    }
  any = tcp_listen ("0.0.0.0", 0);
  port = local_port (any);
  tap_is_int (connect_from_ns (ns, ip, port), 0, "outbound TCP to the host's %s:%u works", ip, port);
  close (any);
}

/* Starts a helper expected to fail; returns its error.  */
static sb_err *
start_fails (pid_t ns, const sb_publish *p, size_t n, const char *log)
{
  sb_err *err = NULL;
  pid_t helper = -1;
  int exit_fd = -1;
  if (sb_net_start_ex (ns, p, n, log, &helper, &exit_fd, &err) == 0)
    {
      tap_ok (false, "sb_net_start unexpectedly succeeded");
      close (exit_fd);
      kill (helper, SIGKILL);
      reap (helper);
    }
  return err;
}

static void
test_failures (pid_t ns)
{
  int lfd = tcp_listen ("127.0.0.1", 0);
  uint16_t used = local_port (lfd), dup = free_port ();
  sb_publish p[2] = { pub ("127.0.0.1", dup, 80), pub ("127.0.0.1", dup, 81) };
  char msg[128];
  sb_err *err;
  pid_t gone;

  err = start_fails (ns, p, 2, NULL);
  snprintf (msg, sizeof (msg), "port 127.0.0.1:%u is already in use", dup);
  tap_is_str (err ? err->msg : NULL, msg, "duplicate publish fails naming the port");
  sb_err_free (&err);
  tap_is_int (count_helpers (), 0, "no sudobox-net left after a failed publish");

  p[0] = pub ("127.0.0.1", used, 80);
  err = start_fails (ns, p, 1, NULL);
  snprintf (msg, sizeof (msg), "port 127.0.0.1:%u is already in use", used);
  tap_is_str (err ? err->msg : NULL, msg, "publishing a used port fails naming it");
  sb_err_free (&err);
  close (lfd);

  p[0] = pub ("192.0.2.1", dup, 80);
  err = start_fails (ns, p, 1, NULL);
  snprintf (msg, sizeof (msg), "cannot publish port 192.0.2.1:%u: the host has no address 192.0.2.1", dup);
  tap_is_str (err ? err->msg : NULL, msg, "publishing on an address the host lacks names it");
  sb_err_free (&err);

  p[0] = pub ("::1", dup, 80);
  err = start_fails (ns, p, 1, NULL);
  snprintf (msg, sizeof (msg), "cannot publish port [::1]:%u: only IPv4 host addresses can be published",
            dup);
  tap_is_str (err ? err->msg : NULL, msg, "IPv6 host address refused before starting");
  sb_err_free (&err);

  err = start_fails (getpid (), NULL, 0, NULL);
  snprintf (msg, sizeof (msg), "pid %d is in the host's network namespace", (int)getpid ());
  tap_is_str (err ? err->msg : NULL, msg, "the host's own network namespace is refused");
  sb_err_free (&err);

  gone = fork ();
  if (gone == 0)
    _exit (0);
  reap (gone);
  err = start_fails (gone, NULL, 0, NULL);
  snprintf (msg, sizeof (msg), "network namespace of pid %d: No such file or directory", (int)gone);
  tap_is_str (err ? err->msg : NULL, msg, "no such process: the helper says so");
  sb_err_free (&err);
  tap_is_int (count_helpers (), 0, "no sudobox-net left after a failed start");
}

/* With a log file the helper's output lands there, and stays.  */
static void
test_log_file (void)
{
  char *log = sb_xasprintf ("%s/net.log", tmp);
  _cleanup_free_ char *text = NULL;
  pid_t gone = fork ();
  sb_err *err;

  if (gone == 0)
    _exit (0);
  reap (gone);
  err = start_fails (gone, NULL, 0, log);
  tap_ok (contains (err, "network namespace of pid"), "start fails: %s", err ? err->msg : "");
  sb_err_free (&err);
  tap_ok (sb_read_file_at (AT_FDCWD, log, 1 << 20, &text, NULL, NULL) == 0
              && strstr (text, "sudobox-net: network namespace of pid") != NULL,
          "log file holds the helper's output");
  unlink (log);
  free (log);
}

/* A helper that never gets ready, one that dies without a word, and none
   at all.  */
static void
test_fake_helper (pid_t ns)
{
  char *fake = sb_xasprintf ("%s/fake-net", tmp);
  const char *sleeper = "#!/bin/sh\necho fake helper starting >&2\nexec /bin/sleep 30\n";
  const char *crasher = "#!/bin/sh\necho fake helper crashing >&2\nkill -SEGV $$\n";
  sb_err *err;

  if (sb_write_file_atomic (fake, sleeper, strlen (sleeper), 0755, NULL) < 0)
    die (fake);
  setenv ("SUDOBOX_NET", fake, 1);
  err = start_fails (ns, NULL, 0, NULL);
  tap_ok (contains (err, "(no answer within 5 s): fake helper starting"),
          "timeout error quotes the helper: %s", err ? err->msg : "");
  sb_err_free (&err);
  tap_is_int (count_children ("sleep"), 0, "helper killed after the timeout");
  if (sb_write_file_atomic (fake, crasher, strlen (crasher), 0755, NULL) < 0)
    die (fake);
  err = start_fails (ns, NULL, 0, NULL);
  tap_ok (contains (err, "(it was killed by signal 11): fake helper crashing"),
          "a helper that dies silently: signal and output named: %s", err ? err->msg : "");
  sb_err_free (&err);
  unlink (fake);
  if (access (SUDOBOX_LIBEXECDIR "/sudobox/sudobox-net", X_OK) == 0)
    tap_ok (true, "# SKIP an installed sudobox-net would be found");
  else
    {
      err = start_fails (ns, NULL, 0, NULL);
      tap_is_str (err ? err->msg : NULL, "sudobox-net not found (set SUDOBOX_NET): No such file or directory",
                  "missing helper named");
      sb_err_free (&err);
    }
  setenv ("SUDOBOX_NET", NET_HELPER, 1);
  free (fake);
}

static void
test_exit_fd (pid_t helper, int exit_fd)
{
  close (exit_fd);
  tap_ok (reap_within (helper, 3000), "helper exits when the exit fd closes");
}

/* The monitor owning the helper dies by SIGKILL: the helper follows.  This
   process is a subreaper so the orphaned helper comes back to it.  */
static void
test_owner_killed (pid_t ns)
{
  int report[2];
  pid_t owner, helper = -1;

  if (pipe2 (report, O_CLOEXEC) < 0)
    die ("pipe");
  owner = fork ();
  if (owner == 0)
    {
      int exit_fd;
      if (sb_net_start_ex (ns, NULL, 0, NULL, &helper, &exit_fd, NULL) < 0
          || write (report[1], &helper, sizeof (helper)) != sizeof (helper))
        _exit (1);
      pause ();
      _exit (0);
    }
  close (report[1]);
  if (read (report[0], &helper, sizeof (helper)) != sizeof (helper))
    helper = -1;
  close (report[0]);
  tap_ok (helper > 0, "owner started a helper");
  kill (owner, SIGKILL);
  reap (owner);
  if (helper > 0)
    tap_ok (reap_within (helper, 3000), "helper exits when its owner is SIGKILLed");
}

/* One "Key:\tvalue" line of /proc/PID/status, "" when absent.  */
static const char *
status_field (pid_t pid, const char *key, char *buf, size_t size)
{
  char path[64], line[256];
  size_t klen = strlen (key);
  FILE *f;

  snprintf (path, sizeof (path), "/proc/%d/status", (int)pid);
  buf[0] = '\0';
  f = fopen (path, "re");
  while (f != NULL && fgets (line, sizeof (line), f) != NULL)
    if (strncmp (line, key, klen) == 0 && line[klen] == ':')
      {
        snprintf (buf, size, "%s", line + klen + 1 + strspn (line + klen + 1, " \t"));
        buf[strcspn (buf, "\n")] = '\0';
        break;
      }
  if (f != NULL)
    fclose (f);
  return buf;
}

/* What a compromised helper keeps (src/net/sandbox.c).  */
static void
test_confined (pid_t helper)
{
  char buf[128];

  tap_is_str (status_field (helper, "Uid", buf, sizeof (buf)), "65534\t65534\t65534\t65534",
              "helper runs as nobody");
  tap_is_str (status_field (helper, "Gid", buf, sizeof (buf)), "65534\t65534\t65534\t65534",
              "in group nogroup");
  tap_is_str (status_field (helper, "Groups", buf, sizeof (buf)), "", "with no supplementary groups");
  tap_is_str (status_field (helper, "CapPrm", buf, sizeof (buf)), "0000000000000000",
              "no permitted capabilities");
  tap_is_str (status_field (helper, "CapEff", buf, sizeof (buf)), "0000000000000000",
              "no effective capabilities");
  tap_is_str (status_field (helper, "NoNewPrivs", buf, sizeof (buf)), "1", "no new privileges");
  tap_is_str (status_field (helper, "Seccomp", buf, sizeof (buf)), "2", "a seccomp filter");
}

static int
count_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  int n = 0;
  while (d != NULL && readdir (d) != NULL)
    n++;
  if (d != NULL)
    closedir (d);
  return n;
}

static void
test_live (void)
{
  char *marker = sb_xasprintf ("%s/marker", tmp);
  uint16_t port = free_port ();
  sb_publish p = pub ("127.0.0.1", port, 8080);
  _cleanup_err_ sb_err *err = NULL;
  int hold, exit_fd = -1, marker_fd = open (marker, O_CREAT | O_RDWR, 0600), r;
  pid_t ns = start_ns (&hold), helper = -1, plain = -1;

  r = sb_net_start_ex (ns, &p, 1, NULL, &helper, &exit_fd, &err);
  tap_ok (r == 0, "sb_net_start_ex%s%s", err ? ": " : "", err ? err->msg : "");
  if (r < 0)
    goto out;
  tap_ok (exit_fd >= 0 && (fcntl (exit_fd, F_GETFD) & FD_CLOEXEC), "exit fd returned close-on-exec");
  tap_ok (!holds_file (helper, marker), "helper did not inherit the caller's other fds");
  tap_is_int (reap (in_ns (ns, check_tap0, NULL)), 0, "tap0 has 10.0.2.100 in the workspace");
  test_confined (helper);
  test_forward (ns, port);
  test_isolation (ns);
  usleep (300000);
  report_memory (helper);
  test_exit_fd (helper, exit_fd);

  /* The plain entry point: no exit fd, the caller kills it.  */
  sb_err_free (&err);
  r = sb_net_start (ns, NULL, 0, &plain, &err);
  tap_ok (r == 0, "sb_net_start without publishes%s%s", err ? ": " : "", err ? err->msg : "");
  if (r == 0)
    {
      tap_is_int (reap (in_ns (ns, check_tap0, NULL)), 0, "tap0 configured again");
      kill (plain, SIGTERM);
      tap_ok (reap_within (plain, 3000), "helper stops on SIGTERM");
    }
  test_failures (ns);
  test_log_file ();
  test_fake_helper (ns);
  test_owner_killed (ns);
out:
  close (hold);
  tap_is_int (reap (ns), 0, "namespace holder exits");
  tap_is_int (count_helpers (), 0, "no sudobox-net left");
  close (marker_fd);
  unlink (marker);
  free (marker);
}

int
main (void)
{
  test_parse ();
  if (mkdtemp (tmp) == NULL)
    die ("mkdtemp");
  setenv ("SUDOBOX_NET", NET_HELPER, 1);
  /* Sanitizer builds: the failure tests SIGKILL a helper that may be in
     LeakSanitizer's exit scan, whose tracer would then be orphaned to this
     subreaper and counted as a helper left behind.  */
  setenv ("ASAN_OPTIONS", "detect_leaks=0", 1);
  if (geteuid () != 0)
    tap_ok (true, "# SKIP live tests need root");
  else
    {
      int fds = count_fds ();
      if (prctl (PR_SET_CHILD_SUBREAPER, 1) < 0)
        die ("PR_SET_CHILD_SUBREAPER");
      test_check_free ();
      test_live ();
      tap_is_int (count_fds (), fds, "no fd leaked");
    }
  tap_ok (rmdir (tmp) == 0, "temporary directory empty at the end");
  return tap_done ();
}
