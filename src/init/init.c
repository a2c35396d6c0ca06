/* sudobox-init: PID 1 of a workspace.  Reaps every orphan that the kernel
   hands it, and either runs a command and mirrors its exit, or (with no
   command) idles until asked to stop.  On SIGTERM/SIGINT it passes the
   signal to every process of the workspace, waits up to STOP_GRACE seconds
   for them to exit, then exits itself, which ends the pid namespace.
   Static, no allocation: it must work in any image.  */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STOP_GRACE 10

static int
status_to_code (int status)
{
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

/* Reaps what has exited; returns the exit code of child when it is among
   them, else -1.  */
static int
reap (pid_t child)
{
  int status, code = -1;
  pid_t pid;

  while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
    if (pid == child)
      code = status_to_code (status);
  return code;
}

/* Everyone else gets the signal, then whatever is left after the grace
   period gets SIGKILL (exiting PID 1 would do that too, but only after
   this process's own exit code is decided).  */
static void
stop_all (int sig)
{
  time_t deadline = time (NULL) + STOP_GRACE;

  kill (-1, sig);
  while (time (NULL) < deadline)
    {
      if (waitpid (-1, NULL, WNOHANG) < 0 && errno == ECHILD)
        return;
      usleep (20000);
    }
  kill (-1, SIGKILL);
  while (waitpid (-1, NULL, 0) > 0)
    ;
}

static pid_t
spawn (char **argv, const sigset_t *old)
{
  pid_t pid = fork ();
  if (pid == 0)
    {
      sigprocmask (SIG_SETMASK, old, NULL);
      setsid ();
      execvp (argv[0], argv);
      fprintf (stderr, "sudobox-init: exec %s: %s\n", argv[0], strerror (errno));
      _exit (127);
    }
  return pid;
}

int
main (int argc, char **argv)
{
  sigset_t all, old;
  pid_t child = 0;
  int sfd;

  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, &old);
  sfd = signalfd (-1, &all, SFD_CLOEXEC);
  if (sfd < 0)
    {
      perror ("sudobox-init: signalfd");
      return 1;
    }
  if (getpid () != 1)
    prctl (PR_SET_CHILD_SUBREAPER, 1);
  if (argc > 1 && (child = spawn (argv + 1, &old)) < 0)
    {
      perror ("sudobox-init: fork");
      return 1;
    }
  for (;;)
    {
      struct signalfd_siginfo si;
      int code;
      if (read (sfd, &si, sizeof (si)) != sizeof (si))
        continue;
      if (si.ssi_signo == SIGCHLD)
        {
          code = reap (child);
          if (child > 0 && code >= 0)
            {
              stop_all (SIGTERM);
              return code;
            }
          continue;
        }
      if (child > 0)
        kill (child, (int)si.ssi_signo);
      else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT || si.ssi_signo == SIGPWR)
        {
          stop_all (SIGTERM);
          return 0;
        }
    }
}
