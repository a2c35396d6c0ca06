/* The runtime's commands: flags as runc names them, then one library call.  */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cli.h"
#include "container.h"
#include "runtime-features.h"
#include "log.h"
#include "signals.h"
#include "update.h"
#include "spec.h"
#include "util.h"

#define HELP_OPT                                                                                             \
  {                                                                                                          \
    "help", no_argument, NULL, 'h'                                                                           \
  }

static int
show_help (const char *name, const char *usage, int *exit_code)
{
  printf ("Usage: sudobox-runc %s %s\n", name, usage);
  *exit_code = 0;
  return 0;
}

static int
bad_usage (const char *name, const char *usage, sb_err **err)
{
  return sb_error (err, 0, "usage: sudobox-runc %s %s", name, usage);
}

static int
parse_fd_count (const char *s, int *out, sb_err **err)
{
  int64_t v;
  if (sb_parse_i64 (s, &v) < 0 || v < 0 || v > 65536)
    return sb_error (err, 0, "--preserve-fds: expected a count 0..65536, got \"%s\"", s);
  *out = (int)v;
  return 0;
}

static char *
absolute_bundle (const char *bundle, sb_err **err)
{
  char real[PATH_MAX];
  if (realpath (bundle ? bundle : ".", real) == NULL)
    {
      sb_error (err, errno, "bundle `%s`", bundle ? bundle : ".");
      return NULL;
    }
  return sb_xstrdup (real);
}

/* create and run share their flags.  */
static int
parse_create (const char *name, const char *usage, int argc, char **argv, sb_create_opts *o, bool *detach,
              bool *help, sb_err **err)
{
  static const struct option opts[] = {
    { "bundle", required_argument, NULL, 'b' },
    { "console-socket", required_argument, NULL, 'c' },
    { "pid-file", required_argument, NULL, 'p' },
    { "preserve-fds", required_argument, NULL, 'P' },
    { "no-pivot", no_argument, NULL, 'n' },
    { "no-new-keyring", no_argument, NULL, 'k' },
    { "detach", no_argument, NULL, 'd' },
    { "keep", no_argument, NULL, 'K' },
    { "no-subreaper", no_argument, NULL, 'S' },
    HELP_OPT,
    { NULL, 0, NULL, 0 },
  };
  const char *bundle = NULL;
  int opt;

  optind = 0; /* 0: GNU getopt re-initializes (a new argv, its own ordering) */
  while ((opt = getopt_long (argc, argv, "+b:dh", opts, NULL)) != -1)
    switch (opt)
      {
      case 'b':
        bundle = optarg;
        break;
      case 'c':
        o->console_socket = optarg;
        break;
      case 'p':
        o->pid_file = optarg;
        break;
      case 'P':
        if (parse_fd_count (optarg, &o->preserve_fds, err) < 0)
          return -1;
        break;
      case 'n':
        o->no_pivot = true;
        break;
      case 'k':
        o->no_new_keyring = true;
        break;
      case 'd':
        *detach = true;
        break;
      case 'K':
      case 'S':
        break;
      case 'h':
        *help = true;
        return 0;
      default:
        return bad_usage (name, usage, err);
      }
  if (optind != argc - 1)
    return bad_usage (name, usage, err);
  o->id = argv[optind];
  o->bundle = absolute_bundle (bundle, err);
  return o->bundle ? 0 : -1;
}

static int
cmd_create (const cli_global *g, int argc, char **argv, int *exit_code, sb_err **err)
{
  static const char usage[] = "[--bundle DIR] [--console-socket SOCK] [--pid-file FILE] [--preserve-fds N] "
                              "[--no-pivot] [--no-new-keyring] ID";
  sb_create_opts o = { .root = g->root, .isolation = g->isolation };
  bool detach = false, help = false;
  int ret;

  if (parse_create ("create", usage, argc, argv, &o, &detach, &help, err) < 0)
    return -1;
  if (help)
    return show_help ("create", usage, exit_code);
  ret = sb_container_create (&o, err);
  free ((char *)o.bundle);
  return ret;
}

static int
cmd_run (const cli_global *g, int argc, char **argv, int *exit_code, sb_err **err)
{
  static const char usage[] = "[--detach] [--bundle DIR] [--console-socket SOCK] [--pid-file FILE] "
                              "[--preserve-fds N] [--no-pivot] [--no-new-keyring] ID";
  sb_create_opts o = { .root = g->root, .isolation = g->isolation };
  bool detach = false, help = false;
  int ret;

  if (parse_create ("run", usage, argc, argv, &o, &detach, &help, err) < 0)
    return -1;
  if (help)
    return show_help ("run", usage, exit_code);
  ret = sb_container_run (&o, detach, exit_code, err);
  free ((char *)o.bundle);
  return ret;
}

/* Commands whose only argument is the container id.  */
static int
only_id (const char *name, const char *usage, int argc, char **argv, const char **id, int *exit_code,
         sb_err **err)
{
  static const struct option opts[] = { HELP_OPT, { NULL, 0, NULL, 0 } };
  int opt;

  *id = NULL;
  optind = 0; /* 0: GNU getopt re-initializes (a new argv, its own ordering) */
  while ((opt = getopt_long (argc, argv, "+h", opts, NULL)) != -1)
    {
      if (opt == 'h')
        return show_help (name, usage, exit_code);
      return bad_usage (name, usage, err);
    }
  if (optind != argc - 1)
    return bad_usage (name, usage, err);
  *id = argv[optind];
  return 0;
}

static int
cmd_start (const cli_global *g, int argc, char **argv, int *exit_code, sb_err **err)
{
  const char *id;
  if (only_id ("start", "ID", argc, argv, &id, exit_code, err) < 0)
    return -1;
  return id ? sb_container_start (g->root, id, err) : 0;
}

static int
cmd_state (const cli_global *g, int argc, char **argv, int *exit_code, sb_err **err)
{
  _cleanup_free_ char *json = NULL;
  const char *id;

  if (only_id ("state", "ID", argc, argv, &id, exit_code, err) < 0)
    return -1;
  if (id == NULL)
    return 0;
  if (sb_container_state_json (g->root, id, &json, err) < 0)
    return -1;
  puts (json);
  return 0;
}

static int
cmd_pause (const cli_global *g, int argc, char **argv, int *exit_code, sb_err **err)
{
  const char *id;
  if (only_id ("pause", "ID", argc, argv, &id, exit_code, err) < 0)
    return -1;
  return id ? sb_container_pause (g->root, id, true, err) : 0;
}

static int
cmd_resume (const cli_global *g, int argc, char **argv, int *exit_code, sb_err **err)
{
  const char *id;
  if (only_id ("resume", "ID", argc, argv, &id, exit_code, err) < 0)
    return -1;
  return id ? sb_container_pause (g->root, id, false, err) : 0;
}

static int
cmd_kill (const cli_global *g, int argc, char **argv, int *exit_code, sb_err **err)
{
  static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, HELP_OPT, { NULL, 0, NULL, 0 } };
  static const char usage[] = "[--all] ID [SIGNAL]";
  bool all = false;
  int opt, sig = SIGTERM;

  optind = 0; /* 0: GNU getopt re-initializes (a new argv, its own ordering) */
  while ((opt = getopt_long (argc, argv, "+ah", opts, NULL)) != -1)
    switch (opt)
      {
      case 'a':
        all = true;
        break;
      case 'h':
        return show_help ("kill", usage, exit_code);
      default:
        return bad_usage ("kill", usage, err);
      }
  if (optind != argc - 1 && optind != argc - 2)
    return bad_usage ("kill", usage, err);
  if (optind == argc - 2 && sb_signal_parse (argv[optind + 1], &sig) < 0)
    return sb_error (err, 0, "kill: unknown signal \"%s\"", argv[optind + 1]);
  return sb_container_kill (g->root, argv[optind], sig, all, err);
}

static int
cmd_delete (const cli_global *g, int argc, char **argv, int *exit_code, sb_err **err)
{
  static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, HELP_OPT, { NULL, 0, NULL, 0 } };
  static const char usage[] = "[--force] ID";
  bool force = false;
  int opt;

  optind = 0; /* 0: GNU getopt re-initializes (a new argv, its own ordering) */
  while ((opt = getopt_long (argc, argv, "+fh", opts, NULL)) != -1)
    switch (opt)
      {
      case 'f':
        force = true;
        break;
      case 'h':
        return show_help ("delete", usage, exit_code);
      default:
        return bad_usage ("delete", usage, err);
      }
  if (optind != argc - 1)
    return bad_usage ("delete", usage, err);
  return sb_container_delete (g->root, argv[optind], force, err);
}

static int
parse_format (const char *s, bool *json, sb_err **err)
{
  if (strcmp (s, "json") != 0 && strcmp (s, "table") != 0)
    return sb_error (err, 0, "--format: expected table or json, got \"%s\"", s);
  *json = strcmp (s, "json") == 0;
  return 0;
}

static int
cmd_list (const cli_global *g, int argc, char **argv, int *exit_code, sb_err **err)
{
  static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
                                        { "quiet", no_argument, NULL, 'q' },
                                        HELP_OPT,
                                        { NULL, 0, NULL, 0 } };
  static const char usage[] = "[--quiet] [--format table|json]";
  _cleanup_strv_ char **ids = NULL;
  bool json = false, quiet = false;
  int opt;

  optind = 0; /* 0: GNU getopt re-initializes (a new argv, its own ordering) */
  while ((opt = getopt_long (argc, argv, "+f:qh", opts, NULL)) != -1)
    switch (opt)
      {
      case 'f':
        if (parse_format (optarg, &json, err) < 0)
          return -1;
        break;
      case 'q':
        quiet = true;
        break;
      case 'h':
        return show_help ("list", usage, exit_code);
      default:
        return bad_usage ("list", usage, err);
      }
  if (optind != argc)
    return bad_usage ("list", usage, err);
  if (sb_state_list (g->root, false, &ids, err) < 0)
    return -1;
  if (json)
    fputs ("[", stdout);
  else if (!quiet)
    printf ("%-24s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
  for (size_t i = 0; ids && ids[i]; i++)
    {
      _cleanup_state_ sb_state *st = NULL;
      sb_status status;
      if (sb_container_load (g->root, ids[i], &st, &status, NULL) < 0)
        continue;
      if (json)
        {
          _cleanup_free_ char *one = sb_state_to_oci_json (st, status);
          printf ("%s%s", i ? "," : "", one);
        }
      else if (quiet)
        puts (st->id);
      else
        printf ("%-24s %-8d %-10s %-40s %-32s %s\n", st->id, status == SB_STATUS_STOPPED ? 0 : st->pid,
                sb_status_name (status), st->bundle, st->created, *st->owner ? st->owner : "root");
    }
  if (json)
    puts ("]");
  return 0;
}

static bool
pid_in (pid_t pid, const pid_t *pids, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (pids[i] == pid)
      return true;
  return false;
}

/* Table format: ps(1) with the given options (default -ef), keeping the
   header and the lines of the container's processes, as runc does.  */
static int
ps_table (char **ps_args, const pid_t *pids, size_t n, sb_err **err)
{
  _cleanup_free_ char *cmd = sb_xstrdup ("ps");
  _cleanup_free_ char *line = NULL;
  size_t cap = 0;
  int pid_col = -1;
  FILE *p;

  for (char **a = ps_args; a && *a; a++)
    {
      char *next = sb_xasprintf ("%s '%s'", cmd, *a);
      if (strchr (*a, '\''))
        {
          free (next);
          return sb_error (err, 0, "ps: argument contains a quote: %s", *a);
        }
      free (cmd);
      cmd = next;
    }
  if (ps_args == NULL || *ps_args == NULL)
    {
      free (cmd);
      cmd = sb_xstrdup ("ps -ef");
    }
  p = popen (cmd, "r");
  if (p == NULL)
    return sb_error (err, errno, "run ps");
  while (getline (&line, &cap, p) > 0)
    {
      char *save = NULL, *copy = sb_xstrdup (line);
      int col = 0;
      int64_t v = -1;
      for (char *tok = strtok_r (copy, " \t\n", &save); tok; tok = strtok_r (NULL, " \t\n", &save), col++)
        {
          if (pid_col < 0 && strcmp (tok, "PID") == 0)
            pid_col = col;
          else if (col == pid_col)
            sb_parse_i64 (tok, &v);
        }
      free (copy);
      if (v < 0 ? pid_col >= 0 && strstr (line, "PID") : pid_in ((pid_t)v, pids, n))
        fputs (line, stdout);
    }
  if (pclose (p) != 0 && pid_col < 0)
    return sb_error (err, 0, "ps failed");
  return 0;
}

static int
cmd_ps (const cli_global *g, int argc, char **argv, int *exit_code, sb_err **err)
{
  static const struct option opts[]
      = { { "format", required_argument, NULL, 'f' }, HELP_OPT, { NULL, 0, NULL, 0 } };
  static const char usage[] = "[--format table|json] ID [PS OPTIONS]";
  _cleanup_free_ pid_t *pids = NULL;
  bool json = false;
  size_t n = 0;
  int opt;

  optind = 0; /* 0: GNU getopt re-initializes (a new argv, its own ordering) */
  while ((opt = getopt_long (argc, argv, "+f:h", opts, NULL)) != -1)
    switch (opt)
      {
      case 'f':
        if (parse_format (optarg, &json, err) < 0)
          return -1;
        break;
      case 'h':
        return show_help ("ps", usage, exit_code);
      default:
        return bad_usage ("ps", usage, err);
      }
  if (optind >= argc)
    return bad_usage ("ps", usage, err);
  if (sb_container_pids (g->root, argv[optind], &pids, &n, err) < 0)
    return -1;
  if (!json)
    return ps_table (argv + optind + 1, pids, n, err);
  fputs ("[", stdout);
  for (size_t i = 0; i < n; i++)
    printf ("%s%d", i ? "," : "", pids[i]);
  puts ("]");
  return 0;
}

static int
parse_user (const char *s, sb_exec_opts *o, sb_err **err)
{
  _cleanup_free_ char *copy = sb_xstrdup (s);
  char *colon = strchr (copy, ':');
  uint64_t uid, gid = 0;

  if (colon)
    *colon = '\0';
  if (sb_parse_u64 (copy, &uid) < 0 || uid > UINT32_MAX - 1
      || (colon && (sb_parse_u64 (colon + 1, &gid) < 0 || gid > UINT32_MAX - 1)))
    return sb_error (err, 0, "--user: expected UID[:GID] as numbers, got \"%s\"", s);
  o->has_user = true;
  o->uid = (uid_t)uid;
  o->gid = (gid_t)gid;
  return 0;
}

static int
cmd_exec (const cli_global *g, int argc, char **argv, int *exit_code, sb_err **err)
{
  static const struct option opts[] = {
    { "console-socket", required_argument, NULL, 'C' },
    { "cwd", required_argument, NULL, 'w' },
    { "env", required_argument, NULL, 'e' },
    { "tty", no_argument, NULL, 't' },
    { "user", required_argument, NULL, 'u' },
    { "additional-gids", required_argument, NULL, 'g' },
    { "process", required_argument, NULL, 'p' },
    { "detach", no_argument, NULL, 'd' },
    { "pid-file", required_argument, NULL, 'i' },
    { "process-label", required_argument, NULL, 'l' },
    { "apparmor", required_argument, NULL, 'a' },
    { "no-new-privs", no_argument, NULL, 'n' },
    { "cap", required_argument, NULL, 'c' },
    { "preserve-fds", required_argument, NULL, 'P' },
    { "ignore-paused", no_argument, NULL, 'I' },
    { "cgroup", required_argument, NULL, 'G' },
    HELP_OPT,
    { NULL, 0, NULL, 0 },
  };
  static const char usage[]
      = "[-t] [-d] [-p process.json] [--cwd DIR] [-e K=V] [-u UID[:GID]] [--pid-file F] "
        "[--console-socket SOCK] [--preserve-fds N] [--no-new-privs] [-c CAP] ID [CMD...]";
  _cleanup_strv_ char **env = NULL, **caps = NULL;
  _cleanup_free_ char *process_json = NULL;
  const char *process_file = NULL;
  sb_exec_opts o = { .root = g->root };
  int opt;

  optind = 0; /* 0: GNU getopt re-initializes (a new argv, its own ordering) */
  while ((opt = getopt_long (argc, argv, "+e:tu:p:dc:h", opts, NULL)) != -1)
    switch (opt)
      {
      case 'C':
        o.console_socket = optarg;
        break;
      case 'w':
        o.cwd = optarg;
        break;
      case 'e':
        if (!strchr (optarg, '='))
          return sb_error (err, 0, "--env: expected K=V, got \"%s\"", optarg);
        sb_strv_append (&env, optarg);
        break;
      case 't':
        o.tty = true;
        break;
      case 'u':
        if (parse_user (optarg, &o, err) < 0)
          return -1;
        break;
      case 'p':
        process_file = optarg;
        break;
      case 'd':
        o.detach = true;
        break;
      case 'i':
        o.pid_file = optarg;
        break;
      case 'n':
        o.no_new_privs = true;
        break;
      case 'c':
        sb_strv_append (&caps, optarg);
        break;
      case 'P':
        if (parse_fd_count (optarg, &o.preserve_fds, err) < 0)
          return -1;
        break;
      case 'g':
      case 'l':
      case 'a':
      case 'I':
      case 'G':
        break;
      case 'h':
        return show_help ("exec", usage, exit_code);
      default:
        return bad_usage ("exec", usage, err);
      }
  if (optind >= argc || (process_file == NULL && optind == argc - 1))
    return bad_usage ("exec", usage, err);
  o.id = argv[optind];
  o.args = argv + optind + 1;
  o.env = env;
  o.caps = caps;
  if (process_file
      && sb_read_file_at (AT_FDCWD, process_file, SB_SPEC_MAX_SIZE, &process_json, NULL, err) < 0)
    return sb_error_wrap (err, "--process");
  o.process_json = process_json;
  return sb_container_exec (&o, exit_code, err);
}

static int
cmd_update (const cli_global *g, int argc, char **argv, int *exit_code, sb_err **err)
{
  return cli_update (g->root, argc, argv, exit_code, err);
}

static int
cmd_features (const cli_global *g, int argc, char **argv, int *exit_code, sb_err **err)
{
  _cleanup_free_ char *json = NULL;
  (void)g;
  if (argc > 1 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
    return show_help ("features", "", exit_code);
  if (argc > 1)
    return bad_usage ("features", "", err);
  json = cli_features_json ();
  puts (json);
  return 0;
}

static int
cmd_spec (const cli_global *g, int argc, char **argv, int *exit_code, sb_err **err)
{
  static const struct option opts[] = { { "bundle", required_argument, NULL, 'b' },
                                        { "rootless", no_argument, NULL, 'r' },
                                        HELP_OPT,
                                        { NULL, 0, NULL, 0 } };
  static const char usage[] = "[--rootless] [--bundle DIR]";
  _cleanup_free_ char *json = NULL, *path = NULL;
  const char *bundle = ".";
  bool rootless = false;
  struct stat st;
  int opt;

  (void)g;
  optind = 0; /* 0: GNU getopt re-initializes (a new argv, its own ordering) */
  while ((opt = getopt_long (argc, argv, "+b:h", opts, NULL)) != -1)
    switch (opt)
      {
      case 'b':
        bundle = optarg;
        break;
      case 'r':
        rootless = true;
        break;
      case 'h':
        return show_help ("spec", usage, exit_code);
      default:
        return bad_usage ("spec", usage, err);
      }
  if (optind != argc)
    return bad_usage ("spec", usage, err);
  path = sb_xasprintf ("%s/config.json", bundle);
  if (stat (path, &st) == 0)
    return sb_error (err, EEXIST, "`%s`: remove it first", path);
  json = sb_spec_default_json (rootless);
  return sb_write_file_atomic (path, json, strlen (json), 0644, err);
}

const cli_command cli_commands[] = {
  { "create", "", "create a container (stopped before its program runs)", cmd_create },
  { "start", "", "run the program of a created container", cmd_start },
  { "run", "", "create and start a container", cmd_run },
  { "state", "", "print the state of a container as JSON", cmd_state },
  { "kill", "", "send a signal to a container's init (or all its processes)", cmd_kill },
  { "delete", "", "delete a container and everything the runtime made for it", cmd_delete },
  { "list", "", "list containers", cmd_list },
  { "ps", "", "list the processes of a container", cmd_ps },
  { "exec", "", "run a new process inside a container", cmd_exec },
  { "pause", "", "freeze every process of a container", cmd_pause },
  { "resume", "", "thaw a paused container", cmd_resume },
  { "update", "", "change a container's resource limits", cmd_update },
  { "features", "", "print the features this runtime supports as JSON", cmd_features },
  { "spec", "", "write a default config.json", cmd_spec },
  { NULL, NULL, NULL, NULL },
};
