#include "publish.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define PUBLISH_USAGE "expected [IP:]HOSTPORT:PORT[/tcp|udp]"

sb_hostport
sb_publish_host (const sb_publish *p)
{
  sb_hostport h;
  bool v6 = strchr (p->host_ip, ':') != NULL;
  snprintf (h.s, sizeof (h.s), "%s%s%s:%u%s", v6 ? "[" : "", p->host_ip, v6 ? "]" : "", p->host_port,
            p->udp ? "/udp" : "");
  return h;
}

sb_hostport
sb_publish_spec (const sb_publish *p)
{
  sb_hostport h;
  bool v6 = strchr (p->host_ip, ':') != NULL;
  snprintf (h.s, sizeof (h.s), "%s%s%s:%u:%u%s", v6 ? "[" : "", p->host_ip, v6 ? "]" : "", p->host_port,
            p->port, p->udp ? "/udp" : "");
  return h;
}

static int
parse_port (const char *opt, const char *s, uint16_t *out, sb_err **err)
{
  uint64_t v;
  if (sb_parse_u64 (s, &v) < 0 || v < 1 || v > 65535)
    return sb_error (err, 0, "--publish \"%s\": port \"%s\" is not a number from 1 to 65535", opt, s);
  *out = (uint16_t)v;
  return 0;
}

/* Stores the address in its canonical spelling.  */
static int
parse_ip (const char *opt, const char *ip, int family, sb_publish *out, sb_err **err)
{
  unsigned char addr[sizeof (struct in6_addr)];
  if (inet_pton (family, ip, addr) != 1)
    return sb_error (err, 0, "--publish \"%s\": \"%s\" is not an %s address", opt, ip,
                     family == AF_INET6 ? "IPv6" : "IPv4");
  if (inet_ntop (family, addr, out->host_ip, sizeof (out->host_ip)) == NULL)
    return sb_error (err, errno, "--publish \"%s\"", opt);
  return 0;
}

static int
parse_proto (const char *opt, char *s, bool *udp, sb_err **err)
{
  char *slash = strrchr (s, '/');
  if (slash == NULL)
    return 0;
  *slash = '\0';
  if (strcmp (slash + 1, "udp") == 0)
    *udp = true;
  else if (strcmp (slash + 1, "tcp") != 0)
    return sb_error (err, 0, "--publish \"%s\": unknown protocol \"%s\" (tcp or udp)", opt, slash + 1);
  return 0;
}

int
sb_publish_parse (const char *s, sb_publish *out, sb_err **err)
{
  _cleanup_free_ char *copy = sb_xstrdup (s);
  const char *ip = "127.0.0.1";
  int family = AF_INET;
  char *ports = copy, *colon;

  memset (out, 0, sizeof (*out));
  if (parse_proto (s, copy, &out->udp, err) < 0)
    return -1;
  if (copy[0] == '[')
    {
      char *close = strchr (copy, ']');
      if (close == NULL || close[1] != ':')
        return sb_error (err, 0, "--publish \"%s\": " PUBLISH_USAGE, s);
      *close = '\0';
      ip = copy + 1;
      ports = close + 2;
      family = AF_INET6;
    }
  else if (strchr (copy, ':') != strrchr (copy, ':'))
    {
      ports = strchr (copy, ':');
      *ports++ = '\0';
      ip = copy;
    }
  colon = strchr (ports, ':');
  if (colon == NULL || strchr (colon + 1, ':') != NULL || colon == ports || colon[1] == '\0')
    return sb_error (err, 0, "--publish \"%s\": " PUBLISH_USAGE, s);
  *colon = '\0';
  if (parse_port (s, ports, &out->host_port, err) < 0 || parse_port (s, colon + 1, &out->port, err) < 0)
    return -1;
  return parse_ip (s, ip, family, out, err);
}
