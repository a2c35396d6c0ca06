#ifndef SB_RUNC_UPDATE_H
#define SB_RUNC_UPDATE_H

#include "error.h"

/* `update`: resource limits from flags or from -r FILE (a LinuxResources
   JSON object, "-" for stdin).  */
int cli_update (const char *root, int argc, char **argv, int *exit_code, sb_err **err);

#endif
