/* The event loop around libslirp: one poll over the tap device, the exit
   fd and whatever sockets slirp has open; no threads, no glib main loop.  */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libslirp.h>

#include "util.h"

/* One Ethernet frame of the largest MTU.  */
#define FRAME_MAX (NET_MTU + 14)

typedef struct net_timer
{
  struct net_timer *next;
  SlirpTimerId id;
  void *cb_opaque;
  int64_t expire_ms; /* -1: not armed */
} net_timer;

struct net_loop
{
  Slirp *slirp;
  int tap;
  int exit_fd;
  struct pollfd *pfd;
  size_t n_pfd, cap_pfd;
  net_timer *timers;
};

static int64_t
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A frame the workspace cannot take now is dropped, as the API allows:
   TCP retransmits, and a full tap queue means the workspace is not
   reading.  */
static ssize_t
send_packet (const void *buf, size_t len, void *opaque)
{
  net_loop *l = opaque;
  ssize_t r;

  do
    r = write (l->tap, buf, len);
  while (r < 0 && errno == EINTR);
  if (r < 0 && errno != EAGAIN)
    return -errno;
  return (ssize_t)len;
}

static void
guest_error (const char *msg, void *opaque)
{
  (void)opaque;
  fprintf (stderr, "sudobox-net: workspace sent a bad packet: %s\n", msg);
}

static int64_t
clock_get_ns (void *opaque)
{
  (void)opaque;
  return now_ns ();
}

static void *
timer_new_opaque (SlirpTimerId id, void *cb_opaque, void *opaque)
{
  net_loop *l = opaque;
  net_timer *t = sb_xmalloc0 (sizeof (*t));

  *t = (net_timer){ .next = l->timers, .id = id, .cb_opaque = cb_opaque, .expire_ms = -1 };
  l->timers = t;
  return t;
}

static void
timer_free (void *timer, void *opaque)
{
  net_loop *l = opaque;

  for (net_timer **p = &l->timers; *p != NULL; p = &(*p)->next)
    if (*p == timer)
      {
        *p = (*p)->next;
        free (timer);
        return;
      }
}

static void
timer_mod (void *timer, int64_t expire_ms, void *opaque)
{
  (void)opaque;
  ((net_timer *)timer)->expire_ms = expire_ms;
}

/* Every fd is polled afresh each round (slirp_pollfds_fill), so there is
   nothing to register; nothing to wake either with a single thread.  */
static void
poll_fd_noop (int fd, void *opaque)
{
  (void)fd;
  (void)opaque;
}

static void
notify_noop (void *opaque)
{
  (void)opaque;
}

static const SlirpCb callbacks = {
  .send_packet = send_packet,
  .guest_error = guest_error,
  .clock_get_ns = clock_get_ns,
  .timer_free = timer_free,
  .timer_mod = timer_mod,
  .register_poll_fd = poll_fd_noop,
  .unregister_poll_fd = poll_fd_noop,
  .notify = notify_noop,
  .timer_new_opaque = timer_new_opaque,
};

static void
inet4 (const char *s, struct in_addr *out)
{
  inet_pton (AF_INET, s, out);
}

net_loop *
net_loop_new (int tap, bool ipv6, int exit_fd)
{
  net_loop *l = sb_xmalloc0 (sizeof (*l));
  SlirpConfig cfg = {
    .version = 4,
    .in_enabled = true,
    .in6_enabled = ipv6,
    .vprefix_len = NET_PREFIX6_LEN,
    .if_mtu = NET_MTU,
    .if_mru = NET_MTU,
    /* 10.0.2.2 and fd00::2 are the gateway, not a way to the host's own
       services.  */
    .disable_host_loopback = true,
  };

  inet4 (NET_NETWORK, &cfg.vnetwork);
  inet4 (NET_NETMASK, &cfg.vnetmask);
  inet4 (NET_GATEWAY, &cfg.vhost);
  inet4 (NET_GUEST, &cfg.vdhcp_start);
  inet4 (NET_DNS, &cfg.vnameserver);
  inet_pton (AF_INET6, NET_PREFIX6, &cfg.vprefix_addr6);
  inet_pton (AF_INET6, NET_GATEWAY6, &cfg.vhost6);
  inet_pton (AF_INET6, NET_DNS6, &cfg.vnameserver6);
  l->tap = tap;
  l->exit_fd = exit_fd;
  l->slirp = slirp_new (&cfg, &callbacks, l);
  return l;
}

static socklen_t
host_addr (const sb_publish *p, struct sockaddr_storage *ss)
{
  memset (ss, 0, sizeof (*ss));
  if (strchr (p->host_ip, ':') != NULL)
    {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
      a->sin6_family = AF_INET6;
      a->sin6_port = htons (p->host_port);
      inet_pton (AF_INET6, p->host_ip, &a->sin6_addr);
      return sizeof (*a);
    }
  struct sockaddr_in *a = (struct sockaddr_in *)ss;
  a->sin_family = AF_INET;
  a->sin_port = htons (p->host_port);
  inet_pton (AF_INET, p->host_ip, &a->sin_addr);
  return sizeof (*a);
}

int
net_loop_publish (net_loop *l, const sb_publish *p, sb_err **err)
{
  struct sockaddr_storage host;
  struct sockaddr_in guest = { .sin_family = AF_INET, .sin_port = htons (p->port) };
  socklen_t len = host_addr (p, &host);

  inet4 (NET_GUEST, &guest.sin_addr);
  if (slirp_add_hostxfwd (l->slirp, (struct sockaddr *)&host, len, (struct sockaddr *)&guest, sizeof (guest),
                          p->udp ? SLIRP_HOSTFWD_UDP : 0)
      == 0)
    return 0;
  if (errno == EADDRINUSE)
    return sb_error (err, 0, "port %s is already in use", sb_publish_host (p).s);
  if (errno == EADDRNOTAVAIL)
    return sb_error (err, 0, "cannot publish port %s: the host has no address %s", sb_publish_host (p).s,
                     p->host_ip);
  return sb_error (err, errno, "cannot publish port %s", sb_publish_host (p).s);
}

static short
to_poll (int events)
{
  return (short)(((events & SLIRP_POLL_IN) ? POLLIN : 0) | ((events & SLIRP_POLL_OUT) ? POLLOUT : 0)
                 | ((events & SLIRP_POLL_PRI) ? POLLPRI : 0));
}

static int
add_poll (int fd, int events, void *opaque)
{
  net_loop *l = opaque;

  if (l->n_pfd == l->cap_pfd)
    {
      l->cap_pfd = l->cap_pfd ? 2 * l->cap_pfd : 16;
      l->pfd = sb_xrealloc (l->pfd, l->cap_pfd * sizeof (*l->pfd));
    }
  l->pfd[l->n_pfd] = (struct pollfd){ .fd = fd, .events = to_poll (events) };
  return (int)l->n_pfd++;
}

static int
get_revents (int idx, void *opaque)
{
  net_loop *l = opaque;
  short r = l->pfd[idx].revents;

  return ((r & POLLIN) ? SLIRP_POLL_IN : 0) | ((r & POLLOUT) ? SLIRP_POLL_OUT : 0)
         | ((r & POLLPRI) ? SLIRP_POLL_PRI : 0) | ((r & POLLERR) ? SLIRP_POLL_ERR : 0)
         | ((r & POLLHUP) ? SLIRP_POLL_HUP : 0);
}

/* The poll timeout in ms: slirp's own (its TCP timers) or the next armed
   timer, whichever comes first; -1 for none.  */
static int
poll_timeout (net_loop *l, uint32_t slirp_ms)
{
  int64_t now = now_ns () / 1000000, best = slirp_ms == UINT32_MAX ? -1 : (int64_t)slirp_ms;

  for (net_timer *t = l->timers; t != NULL; t = t->next)
    if (t->expire_ms >= 0)
      {
        int64_t left = t->expire_ms > now ? t->expire_ms - now : 0;
        if (best < 0 || left < best)
          best = left;
      }
  return best > INT32_MAX ? INT32_MAX : (int)best;
}

static void
fire_timers (net_loop *l)
{
  int64_t now = now_ns () / 1000000;

  for (net_timer *t = l->timers; t != NULL; t = t->next)
    if (t->expire_ms >= 0 && t->expire_ms <= now)
      {
        t->expire_ms = -1;
        slirp_handle_timer (l->slirp, t->id, t->cb_opaque);
      }
}

static int
read_tap (net_loop *l)
{
  static uint8_t frame[FRAME_MAX];

  for (;;)
    {
      ssize_t r = read (l->tap, frame, sizeof (frame));
      if (r > 0)
        slirp_input (l->slirp, frame, (int)r);
      else if (r < 0 && errno == EINTR)
        continue;
      else if (r < 0 && errno == EAGAIN)
        return 0;
      else
        return -1;
    }
}

int
net_loop_run (net_loop *l)
{
  for (;;)
    {
      uint32_t slirp_ms = UINT32_MAX;
      int n;

      l->n_pfd = 0;
      add_poll (l->tap, SLIRP_POLL_IN, l);
      add_poll (l->exit_fd, SLIRP_POLL_IN, l);
      slirp_pollfds_fill (l->slirp, &slirp_ms, add_poll, l);
      n = poll (l->pfd, l->n_pfd, poll_timeout (l, slirp_ms));
      if (n < 0 && errno != EINTR)
        {
          fprintf (stderr, "sudobox-net: poll: %s\n", strerror (errno));
          return 1;
        }
      if (n > 0 && l->pfd[1].revents != 0)
        return 0;
      slirp_pollfds_poll (l->slirp, n < 0, get_revents, l);
      if (n > 0 && l->pfd[0].revents != 0 && read_tap (l) < 0)
        {
          fprintf (stderr, "sudobox-net: read %s: %s\n", NET_IFNAME, strerror (errno));
          return 1;
        }
      fire_timers (l);
    }
}
