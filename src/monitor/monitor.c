/* sudobox-monitor: what stays on the host while a workspace runs.

   The manager's `start` builds the container and its network helper in a
   process that then execs this small static program, so that an idle
   workspace costs a few hundred KiB instead of a whole manager with SQLite,
   libarchive and json-c mapped.  The container's init and the network
   helper stay its children across the exec.  It waits for the init, kills
   the helper, and execs the manager again to record the exit:

     sudobox-monitor INIT-PID HELPER-PID HELPER-EXIT-FD -- FINISH-COMMAND...

   HELPER-PID is 0 without a helper, HELPER-EXIT-FD -1 without one (the
   helper exits when every copy of that pipe end is closed, so it also dies
   with us if we are killed).  The finish command gets the init's exit code
   (128+signal when killed) as its last argument.  */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static long
number (const char *s, long min)
{
  char *end;
  long v;

  errno = 0;
  v = strtol (s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > INT_MAX)
    {
      fprintf (stderr, "sudobox-monitor: \"%s\" is not a valid number\n", s);
      exit (2);
    }
  return v;
}

static int
wait_exit_code (pid_t pid)
{
  int status;

  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return 128 + SIGKILL;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

int
main (int argc, char **argv)
{
  pid_t init, helper;
  int helper_fd, code;
  char code_arg[16];
  char **finish;

  if (argc < 6 || strcmp (argv[4], "--") != 0)
    {
      fputs ("usage: sudobox-monitor INIT-PID HELPER-PID HELPER-EXIT-FD -- FINISH-COMMAND...\n", stderr);
      return 2;
    }
  init = (pid_t)number (argv[1], 1);
  helper = (pid_t)number (argv[2], 0);
  helper_fd = (int)number (argv[3], -1);
  finish = argv + 5;

  code = wait_exit_code (init);
  if (helper > 0)
    {
      /* The helper keeps no state worth a graceful exit; slirp4netns takes
         tens of milliseconds to act on SIGTERM.  Not reaped: the finish
         command exits soon after and init reaps it then.  */
      kill (helper, SIGKILL);
    }
  if (helper_fd >= 0)
    close (helper_fd);

  snprintf (code_arg, sizeof code_arg, "%d", code);
  /* argv[4] ("--") is overwritten: finish[-1] is ours to reuse, and the
     code takes the slot of the terminating NULL after one shift.  */
  for (int i = 0; finish[i] != NULL; i++)
    finish[i - 1] = finish[i];
  argv[argc - 1] = code_arg;
  execv (finish[-1], finish - 1);
  fprintf (stderr, "sudobox-monitor: exec `%s`: %s\n", finish[-1], strerror (errno));
  return 1;
}
