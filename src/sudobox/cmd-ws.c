/* The workspace commands: create, start, stop, restart, rm, ls, inspect,
   logs, exec, shell, run, gc.  */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "network.h"
#include "util.h"

#define CREATE_USAGE                                                                                         \
  "NAME --image IMG [--isolation userns|system|microvm] [--user U] [--cpus N] [--memory SIZE] [--pids N] "   \
  "[--volume HOSTDIR:DIR[:ro]] [--publish [IP:]HOSTPORT:PORT] [--env K=V] [--network slirp|none] "           \
  "[--hostname H] [--security-opt seccomp=unconfined]"

/* The workspace user: --user (a name or uid in the image), else the image's
   own user, else root.  Read from the image's /etc/passwd, resolved inside
   the image so a symlink there cannot point at the host's.  */
static int
image_user (sb_mgr *m, const char *image, const char *want, sb_wsconfig *c, sb_err **err)
{
  sb_image_rec *img = NULL;
  _cleanup_free_ char *rootfs = NULL, *buf = NULL, *wanted = NULL;
  _cleanup_close_ int rootfd = -1, fd = -1;
  json_object *conf;
  int r = sb_registry_image_get (m->reg, image, &img, err);

  if (r != 0)
    return r < 0 ? -1 : sb_error (err, 0, "image \"%s\" not found", image);
  rootfs = sb_xasprintf ("%s/rootfs", img->dir);
  conf = json_tokener_parse (img->config ? img->config : "{}");
  wanted = sb_xstrdup (want ? want
                       : json_object_get_string (json_object_object_get (conf, "user"))
                           ? json_object_get_string (json_object_object_get (conf, "user"))
                           : "root");
  json_object_put (conf);
  sb_image_rec_free (img);
  rootfd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  fd = rootfd >= 0 ? sb_open_in_root (rootfd, "/etc/passwd", O_RDONLY, 0, NULL) : -1;
  if (fd >= 0 && sb_read_fd (fd, 1 << 20, &buf, NULL, NULL) < 0)
    {
      close (fd);
      fd = -1;
    }
  for (char *save = NULL, *line = buf ? strtok_r (buf, "\n", &save) : NULL; line;
       line = strtok_r (NULL, "\n", &save))
    {
      char *f[7] = { 0 }, *p = line;
      int i = 0;
      for (char *t = strsep (&p, ":"); t && i < 7; t = strsep (&p, ":"))
        f[i++] = t;
      if (i == 7 && (strcmp (f[0], wanted) == 0 || strcmp (f[2], wanted) == 0))
        {
          c->user = sb_xstrdup (f[0]);
          c->uid = (uint32_t)atoll (f[2]);
          c->gid = (uint32_t)atoll (f[3]);
          c->home = sb_xstrdup (f[5]);
          return 0;
        }
    }
  return sb_error (err, 0, "--user \"%s\": no such user in image \"%s\"", wanted, image);
}

static int
parse_volume (const char *s, sb_wsconfig *c, sb_err **err)
{
  _cleanup_free_ char *copy = sb_xstrdup (s);
  char *host = copy, *dest = strchr (copy, ':'), *mode;
  char real[PATH_MAX];

  if (dest == NULL)
    return sb_error (err, 0, "--volume \"%s\": expected HOSTDIR:DIR[:ro]", s);
  *dest++ = '\0';
  mode = strchr (dest, ':');
  if (mode)
    *mode++ = '\0';
  if (*dest != '/' || (mode && strcmp (mode, "ro") != 0 && strcmp (mode, "rw") != 0))
    return sb_error (err, 0, "--volume \"%s\": expected HOSTDIR:/ABSOLUTE/DIR[:ro|rw]", s);
  if (realpath (host, real) == NULL)
    return sb_error (err, errno, "--volume \"%s\": host directory `%s`", s, host);
  c->volumes = sb_xrealloc (c->volumes, (c->n_volumes + 1) * sizeof (sb_volume));
  c->volumes[c->n_volumes++]
      = (sb_volume){ sb_xstrdup (real), sb_xstrdup (dest), mode && !strcmp (mode, "ro") };
  return 0;
}

static int
add_publish (const char *s, sb_wsconfig *c, sb_err **err)
{
  c->publish = sb_xrealloc (c->publish, (c->n_publish + 1) * sizeof (sb_publish));
  return sb_publish_parse (s, &c->publish[c->n_publish++], err);
}

enum
{
  OPT_IMAGE = 256,
  OPT_ISOLATION,
  OPT_CPUS,
  OPT_MEMORY,
  OPT_PIDS,
  OPT_NETWORK,
  OPT_HOSTNAME,
  OPT_NAME,
  OPT_RM,
  OPT_SECURITY_OPT,
};

/* create's flags, shared with run.  Returns the index of the first
   argument after the options.  */
static int
parse_create (sb_mgr *m, int argc, char **argv, const char **image, const char **name, bool *rm,
              sb_wsconfig *c, sb_err **err)
{
  static const struct option opts[] = {
    { "image", required_argument, NULL, OPT_IMAGE },
    { "isolation", required_argument, NULL, OPT_ISOLATION },
    { "user", required_argument, NULL, 'u' },
    { "cpus", required_argument, NULL, OPT_CPUS },
    { "memory", required_argument, NULL, OPT_MEMORY },
    { "pids", required_argument, NULL, OPT_PIDS },
    { "volume", required_argument, NULL, 'v' },
    { "publish", required_argument, NULL, 'p' },
    { "env", required_argument, NULL, 'e' },
    { "network", required_argument, NULL, OPT_NETWORK },
    { "hostname", required_argument, NULL, OPT_HOSTNAME },
    { "name", required_argument, NULL, OPT_NAME },
    { "rm", no_argument, NULL, OPT_RM },
    { "security-opt", required_argument, NULL, OPT_SECURITY_OPT },
    { NULL, 0, NULL, 0 },
  };
  const char *user = NULL, *hostname = NULL;
  int opt;

  c->network = true;
  c->isolation = sb_xstrdup ("userns");
  optind = 0; /* 0: GNU getopt re-initializes (a new argv, its own ordering) */
  while ((opt = getopt_long (argc, argv, "+u:v:p:e:", opts, NULL)) != -1)
    {
      int r = 0;
      switch (opt)
        {
        case OPT_IMAGE:
          *image = optarg;
          break;
        case OPT_ISOLATION:
          if (strcmp (optarg, "userns") && strcmp (optarg, "system") && strcmp (optarg, "microvm"))
            return sb_error (err, 0, "--isolation \"%s\": expected userns, system or microvm", optarg);
          free (c->isolation);
          c->isolation = sb_xstrdup (optarg);
          break;
        case 'u':
          user = optarg;
          break;
        case OPT_CPUS:
          r = sb_parse_cpus (optarg, &c->cpus, err);
          break;
        case OPT_MEMORY:
          r = sb_parse_memory (optarg, &c->memory, err);
          break;
        case OPT_PIDS:
          r = sb_parse_count ("--pids", optarg, &c->pids, err);
          break;
        case 'v':
          r = parse_volume (optarg, c, err);
          break;
        case 'p':
          r = add_publish (optarg, c, err);
          break;
        case 'e':
          if (strchr (optarg, '=') == NULL || optarg[0] == '=')
            return sb_error (err, 0, "--env \"%s\": expected K=V", optarg);
          sb_strv_append (&c->env, optarg);
          break;
        case OPT_NETWORK:
          if (strcmp (optarg, "slirp") && strcmp (optarg, "none"))
            return sb_error (err, 0, "--network \"%s\": expected slirp or none", optarg);
          c->network = strcmp (optarg, "slirp") == 0;
          break;
        case OPT_HOSTNAME:
          hostname = optarg;
          break;
        case OPT_SECURITY_OPT:
          if (strcmp (optarg, "seccomp=unconfined") != 0)
            return sb_error (err, 0, "--security-opt \"%s\": expected seccomp=unconfined", optarg);
          c->seccomp_unconfined = true;
          break;
        case OPT_NAME:
          if (name)
            *name = optarg;
          else
            return cli_usage_error ("create", CREATE_USAGE, err);
          break;
        case OPT_RM:
          if (rm)
            *rm = true;
          else
            return cli_usage_error ("create", CREATE_USAGE, err);
          break;
        default:
          return cli_usage_error (argv[0], CREATE_USAGE, err);
        }
      if (r < 0)
        return -1;
    }
  if (hostname
      && (strlen (hostname) > 63
          || strspn (hostname, "abcdefghijklmnopqrstuvwxyz0123456789-.") != strlen (hostname)))
    return sb_error (err, 0, "--hostname \"%s\": use lowercase letters, digits, '-' and '.' (at most 63)",
                     hostname);
  /* run takes the image as its first argument too: run [options] IMG -- CMD.  */
  if (*image == NULL && rm != NULL && optind < argc && strcmp (argv[optind], "--") != 0)
    *image = argv[optind++];
  if (*image == NULL)
    return sb_error (err, 0, "%s: --image is required", argv[0]);
  c->hostname = hostname ? sb_xstrdup (hostname) : NULL;
  if (image_user (m, *image, user, c, err) < 0)
    return -1;
  return optind;
}

static int
cmd_create (sb_mgr *m, int argc, char **argv, int *exit_code, sb_err **err)
{
  sb_wsconfig c = { 0 };
  const char *image = NULL, *name;
  int i, ret = -1;

  (void)exit_code;
  /* The name comes first (create NAME --image ...), as in the usage.  */
  if (argc < 2 || argv[1][0] == '-')
    return cli_usage_error ("create", CREATE_USAGE, err);
  name = argv[1];
  if (sb_check_name ("workspace", name, err) < 0)
    return -1;
  /* getopt and parse_create's messages name argv[0]: the command, not NAME.  */
  argv[1] = argv[0];
  i = parse_create (m, argc - 1, argv + 1, &image, NULL, NULL, &c, err);
  argv[1] = (char *)name;
  if (i >= 0 && i != argc - 1)
    i = cli_usage_error ("create", CREATE_USAGE, err);
  if (i >= 0)
    {
      if (c.hostname == NULL)
        c.hostname = sb_xstrdup (name);
      ret = sb_ws_create (m, name, image, &c, err);
    }
  sb_wsconfig_release (&c);
  return ret;
}

static int
one_name (const char *cmd, int argc, char **argv, sb_err **err)
{
  if (argc != 2 || argv[1][0] == '-')
    return cli_usage_error (cmd, "NAME", err);
  return sb_check_name ("workspace", argv[1], err);
}

static int
cmd_start (sb_mgr *m, int argc, char **argv, int *exit_code, sb_err **err)
{
  (void)exit_code;
  return one_name ("start", argc, argv, err) < 0 ? -1 : sb_ws_start (m, argv[1], err);
}

static int
parse_timeout (int argc, char **argv, int *timeout, sb_err **err)
{
  static const struct option opts[] = { { "timeout", required_argument, NULL, 't' }, { NULL, 0, NULL, 0 } };
  int opt;
  int64_t t;

  optind = 0; /* 0: GNU getopt re-initializes (a new argv, its own ordering) */
  while ((opt = getopt_long (argc, argv, "+t:", opts, NULL)) != -1)
    {
      if (opt != 't' || sb_parse_i64 (optarg, &t) < 0 || t < 0 || t > 3600)
        return sb_error (err, 0, "%s: --timeout expects seconds 0..3600", argv[0]);
      *timeout = (int)t;
    }
  if (optind != argc - 1)
    return cli_usage_error (argv[0], "[--timeout S] NAME", err);
  return sb_check_name ("workspace", argv[optind], err);
}

static int
cmd_stop (sb_mgr *m, int argc, char **argv, int *exit_code, sb_err **err)
{
  int timeout = 10;
  (void)exit_code;
  return parse_timeout (argc, argv, &timeout, err) < 0 ? -1 : sb_ws_stop (m, argv[optind], timeout, err);
}

static int
cmd_restart (sb_mgr *m, int argc, char **argv, int *exit_code, sb_err **err)
{
  int timeout = 10;
  sb_ws_rec *ws = NULL;
  bool running;

  (void)exit_code;
  if (parse_timeout (argc, argv, &timeout, err) < 0)
    return -1;
  if (sb_registry_ws_get (m->reg, argv[optind], &ws, err) != 0)
    return sb_error (err, 0, "workspace \"%s\" not found", argv[optind]);
  running = ws->state == SB_WS_RUNNING;
  sb_ws_rec_free (ws);
  if (running && sb_ws_stop (m, argv[optind], timeout, err) < 0)
    return -1;
  return sb_ws_start (m, argv[optind], err);
}

static int
cmd_rm (sb_mgr *m, int argc, char **argv, int *exit_code, sb_err **err)
{
  static const struct option opts[]
      = { { "force", no_argument, NULL, 'f' }, { "volumes", no_argument, NULL, 'v' }, { NULL, 0, NULL, 0 } };
  bool force = false, volumes = false;
  sb_ws_rec *ws = NULL;
  int opt, r;

  (void)exit_code;
  optind = 0; /* 0: GNU getopt re-initializes (a new argv, its own ordering) */
  while ((opt = getopt_long (argc, argv, "+fv", opts, NULL)) != -1)
    {
      if (opt == 'f')
        force = true;
      else if (opt == 'v')
        volumes = true;
      else
        return cli_usage_error ("rm", "[--force] [--volumes] NAME", err);
    }
  if (optind != argc - 1)
    return cli_usage_error ("rm", "[--force] [--volumes] NAME", err);
  /* Checked before sb_ws_rm takes the name's lock: garbage must not leave
     a lock file behind.  */
  if (sb_check_name ("workspace", argv[optind], err) < 0)
    return -1;
  r = sb_registry_ws_get (m->reg, argv[optind], &ws, err);
  sb_ws_rec_free (ws);
  if (r != 0)
    return r < 0 ? -1 : sb_error (err, 0, "workspace \"%s\" not found", argv[optind]);
  return sb_ws_rm (m, argv[optind], force, volumes, err);
}

static json_object *
ws_json (const sb_ws_rec *w)
{
  json_object *o = json_object_new_object ();
  bool alive = sb_ws_monitor_alive (w);
  const char *state = w->state == SB_WS_RUNNING && !alive ? "stopped" : sb_ws_state_name (w->state);

  json_object_object_add (o, "name", json_object_new_string (w->name));
  json_object_object_add (o, "image", json_object_new_string (w->image));
  json_object_object_add (o, "state", json_object_new_string (state));
  json_object_object_add (o, "isolation", json_object_new_string (w->isolation));
  json_object_object_add (o, "hostIdFirst", json_object_new_int64 (w->id_first));
  json_object_object_add (o, "hostIdCount", json_object_new_int (65536));
  json_object_object_add (o, "monitorPid", json_object_new_int (alive ? w->monitor_pid : 0));
  json_object_object_add (o, "exitCode", json_object_new_int (w->exit_code));
  json_object_object_add (o, "created", json_object_new_string (w->created));
  json_object_object_add (o, "config", json_tokener_parse (w->config ? w->config : "{}"));
  return o;
}

static int
cmd_ls (sb_mgr *m, int argc, char **argv, int *exit_code, sb_err **err)
{
  static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
                                        { "quiet", no_argument, NULL, 'q' },
                                        { NULL, 0, NULL, 0 } };
  json_object *arr = json_object_new_array ();
  sb_ws_rec **list = NULL;
  bool json = false, quiet = false;
  size_t n = 0;
  int opt;

  (void)exit_code;
  optind = 0; /* 0: GNU getopt re-initializes (a new argv, its own ordering) */
  while ((opt = getopt_long (argc, argv, "+q", opts, NULL)) != -1)
    if ((opt == 'f' && !cli_parse_format (optarg, &json, err)) || (opt != 'f' && opt != 'q'))
      {
        json_object_put (arr);
        return opt == 'f' ? -1 : cli_usage_error ("ls", "[-q] [--format table|json]", err);
      }
    else if (opt == 'q')
      quiet = true;
  if (optind != argc)
    {
      json_object_put (arr);
      return cli_usage_error ("ls", "[-q] [--format table|json]", err);
    }
  if (sb_registry_ws_list (m->reg, &list, &n, err) < 0)
    {
      json_object_put (arr);
      return -1;
    }
  if (!json && !quiet)
    printf ("%-24s %-16s %-10s %-10s %-22s %s\n", "NAME", "IMAGE", "STATE", "ISOLATION", "HOST IDS",
            "CREATED");
  for (size_t i = 0; i < n; i++)
    {
      json_object *o = ws_json (list[i]);
      if (json)
        json_object_array_add (arr, json_object_get (o));
      else if (quiet)
        puts (list[i]->name);
      else
        printf ("%-24s %-16s %-10s %-10s %u-%-11u %s\n", list[i]->name, list[i]->image,
                json_object_get_string (json_object_object_get (o, "state")), list[i]->isolation,
                list[i]->id_first, list[i]->id_first + 65535, list[i]->created);
      json_object_put (o);
      sb_ws_rec_free (list[i]);
    }
  free (list);
  if (json)
    cli_print_json (arr);
  json_object_put (arr);
  return 0;
}

static int
cmd_inspect (sb_mgr *m, int argc, char **argv, int *exit_code, sb_err **err)
{
  sb_ws_rec *w = NULL;
  json_object *o;
  int r;

  (void)exit_code;
  if (one_name ("inspect", argc, argv, err) < 0 || sb_check_name ("workspace", argv[1], err) < 0)
    return -1;
  r = sb_registry_ws_get (m->reg, argv[1], &w, err);
  if (r != 0)
    return r < 0 ? -1 : sb_error (err, 0, "workspace \"%s\" not found", argv[1]);
  o = ws_json (w);
  cli_print_json (o);
  json_object_put (o);
  sb_ws_rec_free (w);
  return 0;
}

static int
cmd_logs (sb_mgr *m, int argc, char **argv, int *exit_code, sb_err **err)
{
  bool follow = argc == 3 && (strcmp (argv[1], "-f") == 0 || strcmp (argv[1], "--follow") == 0);
  (void)exit_code;
  if (argc != 2 + follow)
    return cli_usage_error ("logs", "[-f] NAME", err);
  return sb_ws_logs (m, argv[argc - 1], follow, err);
}

/* exec's flags; returns the index of NAME.  */
static int
parse_exec (int argc, char **argv, sb_ws_exec_opts *o, bool *interactive, char ***env, sb_err **err)
{
  static const struct option opts[] = {
    { "tty", no_argument, NULL, 't' },        { "interactive", no_argument, NULL, 'i' },
    { "user", required_argument, NULL, 'u' }, { "workdir", required_argument, NULL, 'w' },
    { "env", required_argument, NULL, 'e' },  { NULL, 0, NULL, 0 },
  };
  int opt;

  optind = 0; /* 0: GNU getopt re-initializes (a new argv, its own ordering) */
  while ((opt = getopt_long (argc, argv, "+tiu:w:e:", opts, NULL)) != -1)
    switch (opt)
      {
      case 't':
        o->tty = true;
        break;
      case 'i':
        *interactive = true;
        break;
      case 'u':
        o->user = optarg;
        break;
      case 'w':
        if (optarg[0] != '/')
          return sb_error (err, 0, "--workdir \"%s\": must be absolute", optarg);
        o->workdir = optarg;
        break;
      case 'e':
        if (strchr (optarg, '=') == NULL || optarg[0] == '=')
          return sb_error (err, 0, "--env \"%s\": expected K=V", optarg);
        sb_strv_append (env, optarg);
        break;
      default:
        return -2;
      }
  return optind;
}

/* Without -i the command gets no input, as with podman exec.  */
static void
detach_stdin (bool interactive, bool tty)
{
  int fd;
  if (interactive || tty)
    return;
  fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      dup2 (fd, 0);
      close (fd);
    }
}

static int
cmd_exec (sb_mgr *m, int argc, char **argv, int *exit_code, sb_err **err)
{
  static const char usage[] = "[-t] [-i] [--user U] [--workdir D] [--env K=V] NAME -- CMD...";
  _cleanup_strv_ char **env = NULL;
  sb_ws_exec_opts o = { 0 };
  bool interactive = false;
  int i = parse_exec (argc, argv, &o, &interactive, &env, err);

  if (i == -2 || (i >= 0 && i >= argc - 1))
    return cli_usage_error ("exec", usage, err);
  if (i < 0)
    return -1;
  o.env = env;
  o.args = argv + i + 1;
  if (strcmp (o.args[0], "--") == 0)
    o.args++;
  if (o.args[0] == NULL)
    return cli_usage_error ("exec", usage, err);
  detach_stdin (interactive, o.tty);
  return sb_ws_exec (m, argv[i], &o, exit_code, err);
}

static int
cmd_shell (sb_mgr *m, int argc, char **argv, int *exit_code, sb_err **err)
{
  sb_ws_exec_opts o = { .tty = isatty (0) != 0, .login_shell = true };
  if (one_name ("shell", argc, argv, err) < 0)
    return -1;
  return sb_ws_exec (m, argv[1], &o, exit_code, err);
}

static char *
random_name (void)
{
  unsigned char b[4] = { 0 };
  _cleanup_close_ int fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && read (fd, b, sizeof (b)) != sizeof (b))
    memset (b, 0, sizeof (b));
  return sb_xasprintf ("run-%02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
}

static int
cmd_run (sb_mgr *m, int argc, char **argv, int *exit_code, sb_err **err)
{
  _cleanup_free_ char *generated = NULL;
  const char *name = NULL, *image = NULL;
  sb_wsconfig c = { 0 };
  sb_ws_exec_opts o = { 0 };
  bool rm = false;
  int i, ret = -1;

  i = parse_create (m, argc, argv, &image, &name, &rm, &c, err);
  if (i < 0)
    goto out;
  /* run [options] -- CMD: the image may also come as the first argument.  */
  if (i < argc && strcmp (argv[i], "--") == 0)
    i++;
  if (i >= argc)
    {
      ret = cli_usage_error ("run", "[--rm] [--name N] (create's options) IMG -- CMD...", err);
      goto out;
    }
  if (name == NULL)
    name = generated = random_name ();
  if (c.hostname == NULL)
    c.hostname = sb_xstrdup (name);
  o.args = argv + i;
  o.tty = isatty (0) && isatty (1);
  if (rm)
    ret = sb_ws_run_rm (m, name, image, &c, &o, exit_code, err);
  else if (sb_ws_create (m, name, image, &c, err) == 0 && sb_ws_start (m, name, err) == 0)
    ret = sb_ws_exec (m, name, &o, exit_code, err);
out:
  sb_wsconfig_release (&c);
  return ret;
}

static int
cmd_gc (sb_mgr *m, int argc, char **argv, int *exit_code, sb_err **err)
{
  int cleaned = 0;
  (void)argv;
  (void)exit_code;
  if (argc != 1)
    return cli_usage_error ("gc", "", err);
  if (sb_mgr_gc (m, &cleaned, err) < 0)
    return -1;
  printf ("gc: %d item%s cleaned up\n", cleaned, cleaned == 1 ? "" : "s");
  return 0;
}

/* Run by sudobox-monitor when the workspace's init has exited: not for
   users (left out of the usage), and refused from any other process.  */
static int
cmd_monitor_exit (sb_mgr *m, int argc, char **argv, int *exit_code, sb_err **err)
{
  sb_ws_rec *ws = NULL;
  int64_t code;
  int r;

  (void)exit_code;
  if (argc != 3 || sb_parse_i64 (argv[2], &code) < 0 || code < 0 || code > 255)
    return sb_error (err, 0, "monitor-exit is run by sudobox-monitor only");
  r = sb_registry_ws_get (m->reg, argv[1], &ws, err);
  if (r != 0)
    return r < 0 ? -1 : sb_error (err, 0, "workspace \"%s\" not found", argv[1]);
  r = ws->monitor_pid == getpid () ? sb_monitor_finish (m, argv[1], (int)code, err)
                                   : sb_error (err, 0, "monitor-exit is run by sudobox-monitor only");
  sb_ws_rec_free (ws);
  return r;
}

const mgr_command mgr_ws_commands[] = {
  { "create", CREATE_USAGE, "create a workspace from an image", cmd_create },
  { "start", "NAME", "start a workspace", cmd_start },
  { "stop", "[--timeout S] NAME", "stop a workspace (SIGTERM, then SIGKILL)", cmd_stop },
  { "restart", "[--timeout S] NAME", "stop and start a workspace", cmd_restart },
  { "rm", "[--force] [--volumes] NAME", "remove a workspace (and its /projects with --volumes)", cmd_rm },
  { "ls", "[-q] [--format table|json]", "list workspaces", cmd_ls },
  { "inspect", "NAME", "show a workspace as JSON", cmd_inspect },
  { "logs", "[-f] NAME", "show a workspace's console log", cmd_logs },
  { "exec", "[-t] [-i] [--user U] [--workdir D] [--env K=V] NAME -- CMD...", "run a command in a workspace",
    cmd_exec },
  { "shell", "NAME", "a login shell as the workspace user", cmd_shell },
  { "run", "[--rm] [--name N] (create's options) IMG -- CMD...", "create, start and exec", cmd_run },
  { "gc", "", "clean up what killed commands left", cmd_gc },
  { "image", "build|import|ls|inspect|rm ...", "manage images", cmd_image },
  { "monitor-exit", "NAME CODE", NULL, cmd_monitor_exit },
  { NULL, NULL, NULL, NULL },
};
