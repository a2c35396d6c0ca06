/* CVE-2019-5736: a container process that can reach the runtime's binary
   through /proc/PID/exe could overwrite it for the next container.  The
   runtime therefore runs from a sealed, read-only memfd copy of itself
   whenever it is about to enter a container.  */
#ifndef SB_SELFEXE_H
#define SB_SELFEXE_H

#include "error.h"

/* Re-executes the current binary (argv, or this process's own command
   line when NULL) from a sealed memfd unless it already runs from one.
   Returns only on failure (or 0 when already sealed).  */
int sb_selfexe_ensure_sealed (char **argv, sb_err **err);

/* A helper program of sudobox's: $env_name when set, else next to the
   running executable as the build tree lays them out (EXE/../build_dir/
   name), else the installed libexec directory.  */
int sb_find_helper (const char *name, const char *build_dir, const char *env_name, char **out, sb_err **err);

#endif
