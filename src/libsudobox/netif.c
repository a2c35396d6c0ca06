#include "netif.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util.h"

static struct ifreq
ifreq_for (const char *ifname)
{
  struct ifreq ifr;

  memset (&ifr, 0, sizeof (ifr));
  snprintf (ifr.ifr_name, IFNAMSIZ, "%s", ifname);
  return ifr;
}

int
sb_netif_tap_open (const char *ifname, sb_err **err)
{
  struct ifreq ifr = ifreq_for (ifname);
  _cleanup_close_ int fd = open ("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

  if (fd < 0)
    return sb_error (err, errno, "open /dev/net/tun");
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl (fd, TUNSETIFF, &ifr) < 0)
    return sb_error (err, errno, "create tap device %s", ifname);
  return sb_steal_fd (&fd);
}

static int
set_inet (int sock, const char *ifname, unsigned long req, const char *ip, sb_err **err)
{
  struct ifreq ifr = ifreq_for (ifname);
  struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

  sin->sin_family = AF_INET;
  if (inet_pton (AF_INET, ip, &sin->sin_addr) != 1)
    return sb_error (err, 0, "%s: \"%s\" is not an IPv4 address", ifname, ip);
  if (ioctl (sock, req, &ifr) < 0)
    return sb_error (err, errno, "%s: set %s %s", ifname, req == SIOCSIFADDR ? "address" : "netmask", ip);
  return 0;
}

int
sb_netif_set_addr (int sock, const char *ifname, const char *ip, const char *mask, sb_err **err)
{
  if (set_inet (sock, ifname, SIOCSIFADDR, ip, err) < 0)
    return -1;
  return set_inet (sock, ifname, SIOCSIFNETMASK, mask, err);
}

int
sb_netif_set_mtu (int sock, const char *ifname, int mtu, sb_err **err)
{
  struct ifreq ifr = ifreq_for (ifname);

  ifr.ifr_mtu = mtu;
  if (ioctl (sock, SIOCSIFMTU, &ifr) < 0)
    return sb_error (err, errno, "%s: set MTU %d", ifname, mtu);
  return 0;
}

int
sb_netif_up (int sock, const char *ifname, sb_err **err)
{
  struct ifreq ifr = ifreq_for (ifname);

  if (ioctl (sock, SIOCGIFFLAGS, &ifr) < 0)
    return sb_error (err, errno, "%s: read flags", ifname);
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl (sock, SIOCSIFFLAGS, &ifr) < 0)
    return sb_error (err, errno, "%s: set up", ifname);
  return 0;
}

int
sb_netif_default_route (int sock, const char *gateway, sb_err **err)
{
  struct rtentry rt;
  struct sockaddr_in *gw = (struct sockaddr_in *)&rt.rt_gateway;

  memset (&rt, 0, sizeof (rt));
  ((struct sockaddr_in *)&rt.rt_dst)->sin_family = AF_INET;
  ((struct sockaddr_in *)&rt.rt_genmask)->sin_family = AF_INET;
  gw->sin_family = AF_INET;
  if (inet_pton (AF_INET, gateway, &gw->sin_addr) != 1)
    return sb_error (err, 0, "gateway \"%s\" is not an IPv4 address", gateway);
  rt.rt_flags = RTF_UP | RTF_GATEWAY;
  if (ioctl (sock, SIOCADDRT, &rt) < 0)
    return sb_error (err, errno, "default route via %s", gateway);
  return 0;
}

/* The kernel's struct in6_ifreq (linux/ipv6.h, which clashes with
   netinet/in.h).  */
struct netif_in6_ifreq
{
  struct in6_addr addr;
  uint32_t prefixlen;
  int ifindex;
};

/* An IPv6 socket for the ioctls below: they are per address family.  */
static int
inet6_sock (int *ifindex, const char *ifname, sb_err **err)
{
  int sock = socket (AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (sock < 0)
    return sb_error (err, errno, "IPv6 socket");
  *ifindex = (int)if_nametoindex (ifname);
  if (*ifindex == 0)
    {
      int e = errno;
      close (sock);
      return sb_error (err, e, "interface %s", ifname);
    }
  return sock;
}

int
sb_netif_set_addr6 (const char *ifname, const char *ip, unsigned prefixlen, sb_err **err)
{
  struct netif_in6_ifreq req = { .prefixlen = prefixlen };
  _cleanup_close_ int sock = inet6_sock (&req.ifindex, ifname, err);

  if (sock < 0)
    return -1;
  if (inet_pton (AF_INET6, ip, &req.addr) != 1)
    return sb_error (err, 0, "%s: \"%s\" is not an IPv6 address", ifname, ip);
  if (ioctl (sock, SIOCSIFADDR, &req) < 0)
    return sb_error (err, errno, "%s: set address %s/%u", ifname, ip, prefixlen);
  return 0;
}

int
sb_netif_default_route6 (const char *ifname, const char *gateway, sb_err **err)
{
  struct in6_rtmsg rt;
  int ifindex;
  _cleanup_close_ int sock = inet6_sock (&ifindex, ifname, err);

  if (sock < 0)
    return -1;
  memset (&rt, 0, sizeof (rt));
  if (inet_pton (AF_INET6, gateway, &rt.rtmsg_gateway) != 1)
    return sb_error (err, 0, "gateway \"%s\" is not an IPv6 address", gateway);
  rt.rtmsg_flags = RTF_UP | RTF_GATEWAY;
  rt.rtmsg_metric = 1;
  rt.rtmsg_ifindex = ifindex;
  if (ioctl (sock, SIOCADDRT, &rt) < 0)
    return sb_error (err, errno, "default route via %s", gateway);
  return 0;
}

/* Whether the host (our network namespace) has an IPv6 default route that
   is not the kernel's unreachable one.  Without one the workspace gets no
   IPv6: a connection to an IPv6 address would wait for its timeout there
   (the ICMPv6 "no route" libslirp answers is a soft error to TCP).  */
bool
sb_netif_host_has_ipv6 (void)
{
  _cleanup_fclose_ FILE *f = fopen ("/proc/net/ipv6_route", "re");
  char dst[33];
  unsigned plen, flags;

  while (f && fscanf (f, "%32s %x %*s %*s %*s %*s %*s %*s %x %*s", dst, &plen, &flags) == 3)
    if (plen == 0 && strspn (dst, "0") == 32 && (flags & RTF_UP) && !(flags & RTF_REJECT))
      return true;
  return false;
}
