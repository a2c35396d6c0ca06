#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "util.h"

/* The state on a memfd rather than a pipe: the parent never blocks on a hook
   that does not read it and never sees EPIPE, and each hook reads it from
   the start.  */
static int
state_memfd (const char *state_json, sb_err **err)
{
  _cleanup_close_ int fd = memfd_create ("sudobox-hook-state", MFD_CLOEXEC);
  if (fd < 0)
    return sb_error (err, errno, "memfd_create");
  if (sb_write_all (fd, state_json, strlen (state_json)) < 0 || lseek (fd, 0, SEEK_SET) < 0)
    return sb_error (err, errno, "write the state for the hook");
  return sb_steal_fd (&fd);
}

static void __attribute__ ((noreturn)) child_fail (int errfd)
{
  int e = errno;
  (void)!write (errfd, &e, sizeof (e));
  _exit (127);
}

/* In the child: never returns.  Exec failures are sent as an errno over
   errfd, which exec closes on success.  */
static void __attribute__ ((noreturn)) hook_exec (const sb_hook *h, int statefd, int errfd)
{
  char *default_args[] = { h->path, NULL };
  char *empty_env[] = { NULL };
  sigset_t none;

  /* The runtime's blocked and ignored signals must not leak into the hook.  */
  for (int sig = 1; sig < NSIG; sig++)
    signal (sig, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  if (statefd == STDIN_FILENO ? fcntl (statefd, F_SETFD, 0) < 0 : dup2 (statefd, STDIN_FILENO) < 0)
    child_fail (errfd);
  /* Every other fd of the runtime is closed by exec; errfd is already
     close-on-exec and stays usable until then.  */
  if (close_range (3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    child_fail (errfd);
  execve (h->path, h->args != NULL ? h->args : default_args, h->env != NULL ? h->env : empty_env);
  child_fail (errfd);
}

static int
pidfd_open (pid_t pid)
{
  return (int)syscall (SYS_pidfd_open, pid, 0);
}

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 0 when the child exited (not yet reaped), 1 on timeout.  */
static int
wait_exit (int pidfd, const sb_hook *h, sb_err **err)
{
  int64_t deadline = h->has_timeout ? now_ms () + (int64_t)h->timeout * 1000 : -1;

  for (;;)
    {
      struct pollfd p = { .fd = pidfd, .events = POLLIN };
      int64_t left = deadline < 0 ? -1 : deadline - now_ms ();
      int r;
      if (deadline >= 0 && left <= 0)
        return 1;
      r = poll (&p, 1, left < 0 ? -1 : (int)(left > INT32_MAX ? INT32_MAX : left));
      if (r > 0)
        return 0;
      if (r < 0 && errno != EINTR)
        return sb_error (err, errno, "poll");
    }
}

static int
reap (pid_t pid, int *status)
{
  pid_t r;
  do
    r = waitpid (pid, status, 0);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -1 : 0;
}

static int
hook_status (int status, sb_err **err)
{
  if (WIFEXITED (status) && WEXITSTATUS (status) != 0)
    return sb_error (err, 0, "exit status %d", WEXITSTATUS (status));
  if (WIFSIGNALED (status))
    {
      const char *abbrev = sigabbrev_np (WTERMSIG (status));
      if (abbrev != NULL)
        return sb_error (err, 0, "killed by signal SIG%s", abbrev);
      return sb_error (err, 0, "killed by signal %d", WTERMSIG (status));
    }
  return 0;
}

static int
hook_run (const sb_hook *h, const char *state_json, sb_err **err)
{
  _cleanup_close_ int statefd = state_memfd (state_json, err);
  _cleanup_close_ int pidfd = -1, err_rd = -1, err_wr = -1;
  int errpipe[2];
  int status, exec_errno = 0, r;
  pid_t pid;

  if (statefd < 0)
    return -1;
  if (pipe2 (errpipe, O_CLOEXEC) < 0)
    return sb_error (err, errno, "pipe");
  err_rd = errpipe[0];
  err_wr = errpipe[1];
  pid = fork ();
  if (pid < 0)
    return sb_error (err, errno, "fork");
  if (pid == 0)
    hook_exec (h, statefd, err_wr);
  sb_closep (&err_wr);
  pidfd = pidfd_open (pid);
  r = pidfd < 0 ? sb_error (err, errno, "pidfd_open") : wait_exit (pidfd, h, err);
  if (r != 0)
    kill (pid, SIGKILL);
  if (reap (pid, &status) < 0 && r == 0)
    r = sb_error (err, errno, "waitpid %d", pid);
  if (r == 0 && sb_read_all (err_rd, &exec_errno, sizeof (exec_errno)) == sizeof (exec_errno))
    r = sb_error (err, exec_errno, "exec");
  if (r == 1)
    return sb_error (err, 0, "timed out after %d s", h->timeout);
  if (r < 0)
    return -1;
  return hook_status (status, err);
}

int
sb_hooks_run (enum sb_hook_kind kind, const sb_hook *hooks, size_t n, const char *state_json, sb_err **err)
{
  for (size_t i = 0; i < n; i++)
    if (hook_run (&hooks[i], state_json, err) < 0)
      return sb_error_wrap (err, "%s hook %zu (%s)", sb_hook_kind_name (kind), i, hooks[i].path);
  return 0;
}
