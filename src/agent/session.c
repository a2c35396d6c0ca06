/* One process the host asked for: user, groups, cwd, environment, and its
   stdio on pipes or on a pty.  */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util.h"

void
agent_session_close_fds (agent_session *s)
{
  int *fds[] = { &s->in_fd, &s->out_fd, &s->err_fd };
  for (size_t i = 0; i < 3; i++)
    {
      /* With a tty the three are one fd.  */
      if (*fds[i] >= 0 && (i == 0 || *fds[i] != s->in_fd))
        close (*fds[i]);
      *fds[i] = -1;
    }
  s->in_fd = s->out_fd = s->err_fd = -1;
  sb_agent_buf_release (&s->pending_in);
}

/* The child: reports why it could not exec on report_fd (errno, message).  */
static _Noreturn void
child (const sb_agent_exec *e, int report_fd)
{
  char msg[300];
  const char *what = "exec";

  for (const char *const *v = e->envp; *v; v++)
    if (strncmp (*v, "PATH=", 5) == 0)
      setenv ("PATH", *v + 5, 1);
  signal (SIGPIPE, SIG_DFL);
  if (agent_join_workspace_cgroup () < 0)
    what = "join the workspace's cgroup";
  else if (setgroups (e->n_groups, (const gid_t *)e->groups) < 0)
    what = "setgroups";
  else if (setgid (e->gid) < 0)
    what = "setgid";
  else if (setuid (e->uid) < 0)
    what = "setuid";
  else if (chdir (e->cwd) < 0)
    what = e->cwd;
  else
    execvpe (e->argv[0], (char *const *)e->argv, (char *const *)e->envp);
  if (strcmp (what, "exec") == 0)
    what = e->argv[0];
  {
    int err = errno;
    int n = snprintf (msg, sizeof (msg), "%c%c%c%c%s", (char)err, (char)(err >> 8), 0, 0, what);
    sb_write_all (report_fd, msg, (size_t)n);
  }
  _exit (127);
}

static int
setup_tty (agent_session *s, const sb_agent_exec *e, int *slave, sb_err **err)
{
  struct winsize ws = { .ws_row = e->rows ? e->rows : 24, .ws_col = e->cols ? e->cols : 80 };
  int master;

  if (openpty (&master, slave, NULL, NULL, &ws) < 0)
    return sb_error (err, errno, "openpty");
  fcntl (master, F_SETFD, FD_CLOEXEC);
  fcntl (master, F_SETFL, O_NONBLOCK);
  s->in_fd = s->out_fd = master;
  s->err_fd = -1;
  return 0;
}

static int
setup_pipes (agent_session *s, int child_fds[3], sb_err **err)
{
  int p[3][2];
  for (int i = 0; i < 3; i++)
    if (pipe2 (p[i], O_CLOEXEC) < 0)
      return sb_error (err, errno, "pipe");
  child_fds[0] = p[0][0];
  s->in_fd = p[0][1];
  child_fds[1] = p[1][1];
  s->out_fd = p[1][0];
  child_fds[2] = p[2][1];
  s->err_fd = p[2][0];
  for (int i = 0; i < 3; i++)
    fcntl (i == 0 ? s->in_fd : i == 1 ? s->out_fd : s->err_fd, F_SETFL, O_NONBLOCK);
  return 0;
}

/* Waits for the child's exec (the report pipe closes) or its report.  */
static int
read_report (int fd, sb_err **err)
{
  char buf[300];
  ssize_t n = sb_read_all (fd, buf, sizeof (buf) - 1);
  int e;

  if (n <= 0)
    return 0;
  buf[n] = '\0';
  e = (unsigned char)buf[0] | ((unsigned char)buf[1] << 8);
  return sb_error (err, e, "%s", n > 4 ? buf + 4 : "?");
}

int
agent_session_spawn (agent_session *s, const sb_agent_exec *e, sb_err **err)
{
  int child_fds[3] = { -1, -1, -1 }, report[2], slave = -1;
  pid_t pid;
  int r;

  s->in_fd = s->out_fd = s->err_fd = -1;
  if ((e->tty ? setup_tty (s, e, &slave, err) : setup_pipes (s, child_fds, err)) < 0)
    return -1;
  if (pipe2 (report, O_CLOEXEC) < 0)
    return sb_error (err, errno, "pipe");
  pid = fork ();
  if (pid < 0)
    return sb_error (err, errno, "fork");
  if (pid == 0)
    {
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      setsid ();
      if (e->tty)
        {
          ioctl (slave, TIOCSCTTY, 0);
          child_fds[0] = child_fds[1] = child_fds[2] = slave;
        }
      for (int i = 0; i < 3; i++)
        dup2 (child_fds[i], i);
      child (e, report[1]);
    }
  close (report[1]);
  if (slave >= 0)
    close (slave);
  for (int i = 0; i < 3; i++)
    if (child_fds[i] >= 0)
      close (child_fds[i]);
  s->pid = pid;
  s->tty = e->tty;
  r = read_report (report[0], err);
  close (report[0]);
  return r;
}
