/* sudobox-net [--ready-fd N] [--exit-fd N] [--publish SPEC]... PID

   Gives the network namespace of PID a tap device served by libslirp (see
   net.h), then confines itself (sandbox.c) and forwards packets until the
   exit fd hangs up.  SPEC is `sudobox create --publish`'s
   [IP:]HOSTPORT:PORT[/udp].  The ready fd gets "ok" once the workspace's
   network works and every published port is bound, or the reason it
   cannot ("port 127.0.0.1:8080 is already in use"); then it is closed.  */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netif.h"
#include "util.h"

#define USAGE "usage: sudobox-net [--ready-fd N] [--exit-fd N] [--publish [IP:]HOSTPORT:PORT[/udp]]... PID\n"

static int
parse_fd (const char *opt, const char *s, int *out, sb_err **err)
{
  int64_t v;

  if (sb_parse_i64 (s, &v) < 0 || v < 0 || v > INT32_MAX || fcntl ((int)v, F_GETFD) < 0)
    return sb_error (err, 0, "%s \"%s\" is not an open file descriptor", opt, s);
  *out = (int)v;
  return 0;
}

static int
parse_args (int argc, char **argv, net_opts *o, sb_err **err)
{
  static const struct option longopts[] = { { "ready-fd", required_argument, NULL, 'r' },
                                            { "exit-fd", required_argument, NULL, 'e' },
                                            { "publish", required_argument, NULL, 'p' },
                                            { NULL, 0, NULL, 0 } };
  int64_t pid;
  int c;

  *o = (net_opts){ .ready_fd = -1, .exit_fd = -1 };
  while ((c = getopt_long (argc, argv, "+", longopts, NULL)) != -1)
    {
      if (c == 'r' && parse_fd ("--ready-fd", optarg, &o->ready_fd, err) < 0)
        return -1;
      if (c == 'e' && parse_fd ("--exit-fd", optarg, &o->exit_fd, err) < 0)
        return -1;
      if (c == 'p')
        {
          o->publish = sb_xrealloc (o->publish, (o->n_publish + 1) * sizeof (*o->publish));
          if (sb_publish_parse (optarg, &o->publish[o->n_publish++], err) < 0)
            return -1;
        }
      if (c == '?')
        return sb_error (err, 0, "unknown option");
    }
  if (optind != argc - 1)
    return sb_error (err, 0, "expected one PID");
  if (sb_parse_i64 (argv[optind], &pid) < 0 || pid < 1 || pid > INT32_MAX)
    return sb_error (err, 0, "\"%s\" is not a process id", argv[optind]);
  o->pid = (pid_t)pid;
  return 0;
}

/* tap0's IPv6 address is the fixed one below: no duplicate detection (it
   would hold the address back for a second; libslirp is the only other
   node) and no router advertisements (they would add a second address).  */
static int
ipv6_sysctls (sb_err **err)
{
  static const char *const knobs[] = { "accept_dad", "accept_ra" };

  for (size_t i = 0; i < sizeof (knobs) / sizeof (knobs[0]); i++)
    {
      _cleanup_free_ char *path = sb_xasprintf ("/proc/sys/net/ipv6/conf/" NET_IFNAME "/%s", knobs[i]);
      if (sb_write_file_at (AT_FDCWD, path, "0", err) < 0)
        return -1;
    }
  return 0;
}

/* The workspace side, as slirp4netns --configure (--enable-ipv6) sets it:
   lo and tap0 up, tap0 10.0.2.100/24 (and fd00::100/64) with the gateway
   10.0.2.2 (and fd00::2) as default route.  */
static int
configure (int tap_sock, bool ipv6, sb_err **err)
{
  if (sb_netif_up (tap_sock, "lo", err) < 0 || sb_netif_set_mtu (tap_sock, NET_IFNAME, NET_MTU, err) < 0
      || sb_netif_set_addr (tap_sock, NET_IFNAME, NET_GUEST, NET_NETMASK, err) < 0
      || (ipv6
          && (ipv6_sysctls (err) < 0
              || sb_netif_set_addr6 (NET_IFNAME, NET_GUEST6, NET_PREFIX6_LEN, err) < 0))
      || sb_netif_up (tap_sock, NET_IFNAME, err) < 0)
    return -1;
  if (sb_netif_default_route (tap_sock, NET_GATEWAY, err) < 0)
    return -1;
  return ipv6 ? sb_netif_default_route6 (NET_IFNAME, NET_GATEWAY6, err) : 0;
}

static bool
same_file (int a, int b)
{
  struct stat sa, sb;

  return fstat (a, &sa) == 0 && fstat (b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Creates and configures tap0 inside the workspace's network namespace and
   comes back: the sockets libslirp opens later must be the host's.  */
static int
open_tap (pid_t pid, bool ipv6, sb_err **err)
{
  _cleanup_free_ char *path = sb_xasprintf ("/proc/%d/ns/net", (int)pid);
  _cleanup_close_ int host = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  _cleanup_close_ int target = open (path, O_RDONLY | O_CLOEXEC);
  _cleanup_close_ int tap = -1, sock = -1;
  int r;

  if (host < 0)
    return sb_error (err, errno, "open /proc/self/ns/net");
  if (target < 0)
    return sb_error (err, errno, "network namespace of pid %d", (int)pid);
  /* A tap device and a default route are for a workspace, never the host.  */
  if (same_file (host, target))
    return sb_error (err, 0, "pid %d is in the host's network namespace", (int)pid);
  if (setns (target, CLONE_NEWNET) < 0)
    return sb_error (err, errno, "join the network namespace of pid %d", (int)pid);
  tap = sb_netif_tap_open (NET_IFNAME, err);
  sock = tap < 0 ? -1 : socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (tap >= 0 && sock < 0)
    sb_error (err, errno, "socket");
  r = sock < 0 ? -1 : configure (sock, ipv6, err);
  if (setns (host, CLONE_NEWNET) < 0)
    return sb_error (err, errno, "return to the host network namespace");
  return r < 0 ? -1 : sb_steal_fd (&tap);
}

static void
report (int ready_fd, const char *msg)
{
  if (ready_fd < 0)
    return;
  if (sb_write_all (ready_fd, msg, strlen (msg)) < 0)
    fprintf (stderr, "sudobox-net: write ready fd: %s\n", strerror (errno));
  close (ready_fd);
}

static int
start (const net_opts *o, net_loop **out, sb_err **err)
{
  bool ipv6 = sb_netif_host_has_ipv6 ();
  int tap = open_tap (o->pid, ipv6, err);
  net_loop *l;

  if (tap < 0)
    return -1;
  l = net_loop_new (tap, ipv6, o->exit_fd);
  for (size_t i = 0; i < o->n_publish; i++)
    if (net_loop_publish (l, &o->publish[i], err) < 0)
      return -1;
  if (net_sandbox (err) < 0)
    return sb_error_wrap (err, "sandbox");
  *out = l;
  return 0;
}

int
main (int argc, char **argv)
{
  _cleanup_err_ sb_err *err = NULL;
  net_opts o;
  net_loop *l = NULL;

  signal (SIGPIPE, SIG_IGN);
  if (parse_args (argc, argv, &o, &err) < 0)
    {
      fprintf (stderr, "sudobox-net: %s\n" USAGE, err->msg);
      return 2;
    }
  if (start (&o, &l, &err) < 0)
    {
      fprintf (stderr, "sudobox-net: %s\n", err->msg);
      report (o.ready_fd, err->msg);
      return 1;
    }
  report (o.ready_fd, "ok");
  return net_loop_run (l);
}
