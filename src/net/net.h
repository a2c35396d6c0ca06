/* sudobox-net: a workspace's user-mode network, one small static process
   per workspace on the host.  libslirp (Debian's source, built static)
   answers the workspace's tap device: outbound TCP/UDP/ICMP echo through
   host sockets, DNS forwarded to the host's resolvers, published ports
   listened for on the host.  */
#ifndef SB_NET_H
#define SB_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "netif.h"
#include "publish.h"

/* The workspace side, as slirp4netns --configure sets it up, so both give
   a workspace the same view.  */
#define NET_IFNAME "tap0"
#define NET_MTU 65520
#define NET_NETWORK "10.0.2.0"
#define NET_NETMASK "255.255.255.0"
#define NET_GUEST "10.0.2.100"
#define NET_GATEWAY "10.0.2.2"
#define NET_DNS SB_NET_DNS
/* IPv6, as slirp4netns --enable-ipv6: a unique local prefix, the gateway
   and the resolver at ::2 and ::3 of it.  */
#define NET_PREFIX6 "fd00::"
#define NET_PREFIX6_LEN 64
#define NET_GUEST6 "fd00::100"
#define NET_GATEWAY6 "fd00::2"
#define NET_DNS6 "fd00::3"

typedef struct net_opts
{
  pid_t pid;    /* the workspace's network namespace is this process's */
  int ready_fd; /* written "1" and closed once packets flow; -1: none */
  int exit_fd;  /* we exit when it hangs up or is readable; -1: none */
  sb_publish *publish;
  size_t n_publish;
} net_opts;

/* The loop: never returns but to exit, with 0 when exit_fd hung up.  */
typedef struct net_loop net_loop;
/* ipv6: libslirp serves NET_PREFIX6 too.  */
net_loop *net_loop_new (int tap, bool ipv6, int exit_fd);
int net_loop_publish (net_loop *l, const sb_publish *p, sb_err **err);
int net_loop_run (net_loop *l);

/* Drops everything the loop does not need: root, capabilities, the file
   system except the resolver configuration, signals to other processes,
   every syscall it does not make.  */
int net_sandbox (sb_err **err);

#endif
