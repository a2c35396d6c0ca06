/* sudobox's command line: each command parses its flags and calls the
   manager.  */
#ifndef SB_MGR_CLI_H
#define SB_MGR_CLI_H

#include <json-c/json.h>
#include <stdbool.h>

#include "error.h"
#include "manager.h"

typedef struct mgr_command
{
  const char *name;
  const char *usage;
  const char *summary;
  int (*run) (sb_mgr *m, int argc, char **argv, int *exit_code, sb_err **err);
} mgr_command;

extern const mgr_command mgr_ws_commands[];
int cmd_image (sb_mgr *m, int argc, char **argv, int *exit_code, sb_err **err);

/* Helpers shared by the command files.  */
bool cli_wants_help (int argc, char **argv);
int cli_usage_error (const char *cmd, const char *usage, sb_err **err);
/* Prints a JSON value for people and scripts alike (pretty, spaced).  */
void cli_print_json (json_object *o);
/* Prints a JSON value of the given records or a table.  */
bool cli_parse_format (const char *s, bool *json, sb_err **err);

#endif
