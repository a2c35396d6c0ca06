/* sudobox: the daemonless workspace manager.  */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "log.h"
#include "util.h"

bool
cli_wants_help (int argc, char **argv)
{
  for (int i = 1; i < argc && strcmp (argv[i], "--") != 0; i++)
    if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
      return true;
  return false;
}

int
cli_usage_error (const char *cmd, const char *usage, sb_err **err)
{
  return sb_error (err, 0, "usage: sudobox %s %s", cmd, usage);
}

void
cli_print_json (json_object *o)
{
  puts (json_object_to_json_string_ext (o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
                                               | JSON_C_TO_STRING_NOSLASHESCAPE));
}

bool
cli_parse_format (const char *s, bool *json, sb_err **err)
{
  if (strcmp (s, "json") != 0 && strcmp (s, "table") != 0)
    {
      sb_error (err, 0, "--format \"%s\": expected table or json", s);
      return false;
    }
  *json = strcmp (s, "json") == 0;
  return true;
}

static const mgr_command check_command
    = { "check", "[--format table|json]", "report whether this node is ready for each isolation mode",
        cmd_check };

static void
usage (FILE *out)
{
  fputs ("Usage: sudobox [--root DIR] COMMAND [OPTIONS] [ARGS]\n\n"
         "Workspaces where sudo works and root inside is nobody outside.\n\n"
         "Global options:\n"
         "  --root DIR   state directory (default /var/lib/sudobox)\n"
         "  --debug      verbose logging\n"
         "  --version, --help\n\n"
         "Commands:\n",
         out);
  for (const mgr_command *c = mgr_ws_commands; c->name; c++)
    if (c->summary != NULL)
      fprintf (out, "  %-8s %s\n", c->name, c->summary);
  fprintf (out, "  %-8s %s\n", check_command.name, check_command.summary);
  fputs ("\nRun 'sudobox COMMAND --help' for a command's options. See sudobox(1).\n", out);
}

static const mgr_command *
find (const char *name)
{
  for (const mgr_command *c = mgr_ws_commands; c->name; c++)
    if (strcmp (c->name, name) == 0)
      return c;
  return strcmp (name, check_command.name) == 0 ? &check_command : NULL;
}

int
main (int argc, char **argv)
{
  static const struct option opts[] = { { "root", required_argument, NULL, 'r' },
                                        { "debug", no_argument, NULL, 'd' },
                                        { "version", no_argument, NULL, 'v' },
                                        { "help", no_argument, NULL, 'h' },
                                        { NULL, 0, NULL, 0 } };
  const char *root = "/var/lib/sudobox";
  _cleanup_err_ sb_err *err = NULL;
  const mgr_command *cmd;
  sb_mgr *m = NULL;
  bool debug = false;
  int opt, exit_code = 0, ret;

  while ((opt = getopt_long (argc, argv, "+vh", opts, NULL)) != -1)
    switch (opt)
      {
      case 'r':
        root = optarg;
        break;
      case 'd':
        debug = true;
        break;
      case 'v':
        printf ("sudobox version %s\n", SUDOBOX_VERSION);
        return 0;
      case 'h':
        usage (stdout);
        return 0;
      default:
        usage (stderr);
        return 2;
      }
  sb_log_init (NULL, false, debug);
  if (root[0] == '\0')
    {
      fputs ("sudobox: --root: expected a directory, got an empty string\n", stderr);
      return 2;
    }
  if (optind >= argc)
    {
      usage (stderr);
      return 2;
    }
  cmd = find (argv[optind]);
  if (cmd == NULL)
    {
      fprintf (stderr, "sudobox: unknown command \"%s\"; see sudobox --help\n", argv[optind]);
      return 2;
    }
  if (cli_wants_help (argc - optind, argv + optind) && cmd->summary != NULL
      && strcmp (cmd->name, "image") != 0)
    {
      printf ("Usage: sudobox %s %s\n  %s\n", cmd->name, cmd->usage, cmd->summary);
      return 0;
    }
  /* Not before gc itself, nor before a monitor records its workspace's end.  */
  if (sb_mgr_open (root, &m, &err) < 0
      || (cmd->summary != NULL && strcmp (cmd->name, "gc") != 0 && sb_mgr_gc (m, NULL, &err) < 0))
    {
      fprintf (stderr, "sudobox: %s\n", err->msg);
      sb_mgr_close (m);
      return 1;
    }
  ret = cmd->run (m, argc - optind, argv + optind, &exit_code, &err);
  sb_mgr_close (m);
  if (ret < 0)
    {
      fprintf (stderr, "sudobox: %s\n", err ? err->msg : "failed");
      return exit_code ? exit_code : 1;
    }
  return exit_code;
}
