/* sudobox-runc: the command line of a runc-compatible OCI runtime.  Each
   command parses its own flags and calls the container library.  */
#ifndef SB_RUNC_CLI_H
#define SB_RUNC_CLI_H

#include <stdbool.h>

#include "error.h"

typedef struct cli_global
{
  const char *root;
  bool debug;
  bool systemd_cgroup;
  const char *isolation; /* --isolation: wins over the annotation, or NULL */
} cli_global;

typedef struct cli_command
{
  const char *name;
  const char *usage;   /* after "sudobox-runc NAME " */
  const char *summary; /* one line for --help */
  /* Returns < 0 on error; *exit_code is the status to exit with otherwise
     (the container program's for run and exec).  */
  int (*run) (const cli_global *g, int argc, char **argv, int *exit_code, sb_err **err);
} cli_command;

/* The table of commands, NULL-name terminated.  */
extern const cli_command cli_commands[];

#endif
