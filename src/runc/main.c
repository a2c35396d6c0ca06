/* sudobox-runc entry point: global options, then one command.  */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "util.h"

static void
usage (FILE *out)
{
  fputs ("Usage: sudobox-runc [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n\n"
         "An OCI runtime where root inside a container is nobody outside it.\n\n"
         "Global options:\n"
         "  --root DIR            state directory (default /run/sudobox)\n"
         "  --log FILE            also log to FILE\n"
         "  --log-format FORMAT   text or json\n"
         "  --debug               verbose logging\n"
         "  --systemd-cgroup      use the systemd cgroup manager (not supported)\n"
         "  --isolation MODE      userns, system or microvm, over the spec's run.sudobox.isolation\n"
         "                        annotation (a RuntimeClass handler: the administrator's choice)\n"
         "  -v, --version         print the version\n"
         "  -h, --help            this help\n\n"
         "Commands:\n",
         out);
  for (const cli_command *c = cli_commands; c->name; c++)
    fprintf (out, "  %-9s %s\n", c->name, c->summary);
  fputs ("\nRun 'sudobox-runc COMMAND --help' for a command's options. See sudobox-runc(8).\n", out);
}

static const cli_command *
find_command (const char *name)
{
  for (const cli_command *c = cli_commands; c->name; c++)
    if (strcmp (c->name, name) == 0)
      return c;
  return NULL;
}

int
main (int argc, char **argv)
{
  static const struct option opts[] = {
    { "root", required_argument, NULL, 'r' },
    { "log", required_argument, NULL, 'l' },
    { "log-format", required_argument, NULL, 'f' },
    { "debug", no_argument, NULL, 'd' },
    { "systemd-cgroup", no_argument, NULL, 's' },
    { "version", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { "criu", required_argument, NULL, 'c' },
    { "rootless", required_argument, NULL, 'R' },
    { "isolation", required_argument, NULL, 'i' },
    { NULL, 0, NULL, 0 },
  };
  cli_global g = { .root = "/run/sudobox" };
  const char *log_path = NULL, *log_format = "text";
  const cli_command *cmd;
  _cleanup_err_ sb_err *err = NULL;
  int opt, exit_code = 0;

  while ((opt = getopt_long (argc, argv, "+vh", opts, NULL)) != -1)
    switch (opt)
      {
      case 'r':
        g.root = optarg;
        break;
      case 'l':
        log_path = optarg;
        break;
      case 'f':
        log_format = optarg;
        break;
      case 'd':
        g.debug = true;
        break;
      case 's':
        g.systemd_cgroup = true;
        break;
      case 'i':
        g.isolation = optarg;
        break;
      case 'v':
        printf ("sudobox-runc version %s\nspec: 1.1.0\n", SUDOBOX_VERSION);
        return 0;
      case 'h':
        usage (stdout);
        return 0;
      case 'c':
      case 'R':
        break;
      default:
        usage (stderr);
        return 2;
      }
  if (g.root[0] == '\0')
    {
      fputs ("sudobox-runc: --root: expected a directory, got an empty string\n", stderr);
      return 2;
    }
  if (strcmp (log_format, "text") != 0 && strcmp (log_format, "json") != 0)
    {
      fprintf (stderr, "sudobox-runc: --log-format: expected text or json, got \"%s\"\n", log_format);
      return 2;
    }
  if (sb_log_init (log_path, strcmp (log_format, "json") == 0, g.debug) < 0)
    {
      fprintf (stderr, "sudobox-runc: --log `%s`: cannot open\n", log_path);
      return 2;
    }
  if (optind >= argc)
    {
      usage (stderr);
      return 2;
    }
  if (strcmp (argv[optind], "help") == 0)
    {
      usage (stdout);
      return 0;
    }
  cmd = find_command (argv[optind]);
  if (cmd == NULL)
    {
      sb_log (SB_LOG_ERROR, "unknown command \"%s\"; see sudobox-runc --help", argv[optind]);
      return 2;
    }
  if (g.systemd_cgroup && (strcmp (cmd->name, "create") == 0 || strcmp (cmd->name, "run") == 0))
    {
      sb_log (SB_LOG_ERROR, "--systemd-cgroup: the systemd cgroup manager is not supported; "
                            "use the cgroupfs manager (drop --systemd-cgroup)");
      return 1;
    }
  if (cmd->run (&g, argc - optind, argv + optind, &exit_code, &err) < 0)
    {
      sb_log (SB_LOG_ERROR, "%s", err ? err->msg : "failed");
      return exit_code ? exit_code : 1;
    }
  return exit_code;
}
