/* Network interface set-up by ioctl on an AF_INET datagram socket of the
   network namespace to configure: what `ip link/addr/route` would do for
   one interface, without netlink.  Used by the guest agent (the microVM's
   NICs) and by sudobox-net (a workspace's tap device).  */
#ifndef SB_NETIF_H
#define SB_NETIF_H

#include <stdbool.h>

#include "error.h"

/* The resolver every workspace is given, in both user-mode networks:
   sudobox-net (libslirp) and a microvm's passt.  */
#define SB_NET_DNS "10.0.2.3"

/* Creates the tap device ifname (no packet-info header) in the calling
   thread's network namespace; returns its fd, non-blocking, close-on-exec.  */
int sb_netif_tap_open (const char *ifname, sb_err **err);
/* ip is the address, mask the netmask, both dotted IPv4.  */
int sb_netif_set_addr (int sock, const char *ifname, const char *ip, const char *mask, sb_err **err);
int sb_netif_set_mtu (int sock, const char *ifname, int mtu, sb_err **err);
int sb_netif_up (int sock, const char *ifname, sb_err **err);
int sb_netif_default_route (int sock, const char *gateway, sb_err **err);
/* Whether the calling thread's network namespace has an IPv6 default
   route other than the kernel's unreachable one: sudobox-net gives
   workspaces IPv6 only then.  */
bool sb_netif_host_has_ipv6 (void);
/* The same for IPv6, on a socket of their own.  */
int sb_netif_set_addr6 (const char *ifname, const char *ip, unsigned prefixlen, sb_err **err);
int sb_netif_default_route6 (const char *ifname, const char *gateway, sb_err **err);

#endif
