/* A published port: "[IP:]HOSTPORT:PORT[/tcp|/udp]", the syntax of
   `sudobox create --publish` and of sudobox-net's --publish.  */
#ifndef SB_PUBLISH_H
#define SB_PUBLISH_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef struct sb_publish
{
  char host_ip[46]; /* "127.0.0.1" default */
  uint16_t host_port;
  uint16_t port;
  bool udp;
} sb_publish;

/* Errors name the option value.  */
int sb_publish_parse (const char *s, sb_publish *out, sb_err **err);

typedef struct
{
  char s[INET6_ADDRSTRLEN + 24];
} sb_hostport;
/* "127.0.0.1:8080", "[::1]:8080/udp": the host side, for messages.  */
sb_hostport sb_publish_host (const sb_publish *p);
/* "127.0.0.1:8080:80/udp": the whole publish, spelled so that
   sb_publish_parse reads it back as it is.  */
sb_hostport sb_publish_spec (const sb_publish *p);

#endif
