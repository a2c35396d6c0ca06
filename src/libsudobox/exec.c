/* `exec`: a new process inside a running container, joined to its
   namespaces (through a pidfd of its init, all at once) and its cgroup,
   with the container's process settings as the base.  */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "console.h"
#include "isolation.h"
#include "microvm-oci.h"
#include "process.h"
#include "selfexe.h"
#include "sync.h"
#include "util.h"

static void
replace_env (char ***env, const char *kv)
{
  size_t klen = strcspn (kv, "=");
  for (size_t i = 0; *env && (*env)[i]; i++)
    if (strncmp ((*env)[i], kv, klen) == 0 && (*env)[i][klen] == '=')
      {
        free ((*env)[i]);
        (*env)[i] = sb_xstrdup (kv);
        return;
      }
  sb_strv_append (env, kv);
}

int
sb_exec_process (const sb_exec_opts *o, sb_spec *spec, sb_process **out, sb_err **err)
{
  sb_process *p;

  if (o->process_json)
    {
      if (sb_process_parse (o->process_json, strlen (o->process_json), out, err) < 0)
        return sb_error_wrap (err, "process file");
      return 0;
    }
  if (o->args == NULL || o->args[0] == NULL)
    return sb_error (err, 0, "exec: no command given");
  p = sb_steal (&spec->process);
  sb_strv_free (p->args);
  p->args = NULL;
  for (char **a = o->args; *a; a++)
    sb_strv_append (&p->args, *a);
  for (char **e = o->env; e && *e; e++)
    replace_env (&p->env, *e);
  if (o->cwd)
    {
      free (p->cwd);
      p->cwd = sb_xstrdup (o->cwd);
    }
  if (o->has_user)
    {
      p->uid = o->uid;
      p->gid = o->gid;
    }
  p->terminal = o->tty;
  p->no_new_privileges |= o->no_new_privs;
  for (char **c = o->caps; c && *c; c++)
    {
      char ***sets[] = { &p->caps.bounding, &p->caps.effective, &p->caps.permitted, &p->caps.inheritable,
                         &p->caps.ambient };
      for (size_t i = 0; i < 5; i++)
        sb_strv_append (sets[i], *c);
      p->has_caps = true;
    }
  *out = p;
  return 0;
}

/* Namespaces of the init that differ from ours: setns refuses to "join"
   the user namespace one is already in.  */
static int
ns_flags_to_join (pid_t pid)
{
  int flags = 0;
  for (int k = 0; k < SB_NS_KINDS; k++)
    {
      char path[64], self[64];
      struct stat a, b;
      snprintf (path, sizeof (path), "/proc/%d/ns/%s", pid, sb_ns_proc_name (k));
      snprintf (self, sizeof (self), "/proc/self/ns/%s", sb_ns_proc_name (k));
      if (stat (path, &a) == 0 && stat (self, &b) == 0 && (a.st_ino != b.st_ino || a.st_dev != b.st_dev))
        flags |= sb_ns_clone_flag (k);
    }
  return flags;
}

typedef struct exec_job
{
  const sb_exec_opts *o;
  sb_spec *spec; /* as recorded, with what the isolation mode adds */
  sb_process *proc;
  sb_exec_plan plan;
  char *state_json; /* sent to the seccomp listener */
  sb_cgroup *cg;
  int init_pidfd;
  pid_t init_pid;
  bool in_cgroup; /* stage 1 was born in the container's cgroup */
  int sync[2];
} exec_job;

_Noreturn static void
exec_fail (int sync, sb_err *err)
{
  sb_sync_send (sync, SB_SYNC_ERROR, 0, -1, err ? err->msg : "exec failed");
  _exit (127);
}

_Noreturn static void
exec_child (exec_job *j)
{
  _cleanup_err_ sb_err *err = NULL;
  int sync = j->sync[1];

  if (j->proc->terminal)
    {
      _cleanup_close_ int master = -1, slave = -1;
      if (sb_console_open (&master, &slave, j->proc->has_console_size ? j->proc->console_height : 0,
                           j->proc->has_console_size ? j->proc->console_width : 0, &err)
              < 0
          || sb_sync_send (sync, SB_SYNC_CONSOLE, 0, master, NULL) < 0
          || sb_console_make_controlling (slave, &err) < 0)
        exec_fail (sync, err);
    }
  if (sb_process_set_rlimits (j->proc, &err) < 0 || sb_process_resolve (&j->plan, &err) < 0)
    exec_fail (sync, err);
  sb_process_exec (&j->plan, &err);
  exec_fail (sync, err);
}

/* Joins the container and forks the process that will run the command, so
   it is inside the pid namespace and a child of the runtime.  */
_Noreturn static void
exec_stage1 (exec_job *j)
{
  _cleanup_err_ sb_err *err = NULL;
  int sync = j->sync[1];
  pid_t pid;

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  /* Non-dumpable: processes in the container cannot open our
     /proc/PID/exe or memory while we run runtime code among them.  */
  prctl (PR_SET_DUMPABLE, 0);
  if (j->cg && !j->in_cgroup && sb_cgroup_enter_exec (j->cg, j->init_pid, getpid (), &err) < 0)
    exec_fail (sync, err);
  if (setns (j->init_pidfd, ns_flags_to_join (j->init_pid)) < 0)
    {
      sb_error (&err, errno, "join the namespaces of container \"%s\"", j->o->id);
      exec_fail (sync, err);
    }
  if (syscall (SYS_setresgid, 0, 0, 0) < 0 || syscall (SYS_setresuid, 0, 0, 0) < 0)
    {
      sb_error (&err, errno, "become root in the container");
      exec_fail (sync, err);
    }
  pid = (pid_t)syscall (SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
  if (pid < 0)
    {
      sb_error (&err, errno, "fork");
      exec_fail (sync, err);
    }
  if (pid == 0)
    exec_child (j);
  sb_sync_send (sync, SB_SYNC_PID, pid, -1, NULL);
  _exit (0);
}

/* What the container's isolation mode adds to a new process (system:
   sysinfo answered by its /proc server).  */
static int
isolation_prepare (const exec_job *j, const sb_state *st, sb_err **err)
{
  _cleanup_free_ char *dir = NULL;
  const sb_isolation_ops *iso;
  sb_isolation mode;

  if (st->isolation == NULL)
    return 0;
  if (sb_isolation_parse ("the recorded isolation", st->isolation, &mode, err) < 0
      || (iso = sb_isolation_ops_get (mode, err)) == NULL)
    return -1;
  if (iso->exec_prepare == NULL)
    return 0;
  dir = sb_xasprintf ("%s/%s", j->o->root, j->o->id);
  return iso->exec_prepare (j->spec, dir, err);
}

/* Connected here, as host root, like create does: the process sends its
   seccomp listener fd with the container's state.  */
static int
connect_listener (exec_job *j, const sb_state *st, sb_status status, sb_err **err)
{
  const sb_seccomp *s = j->spec->linux.seccomp;

  if (s == NULL || s->listener_path == NULL)
    return 0;
  j->plan.seccomp_listener = sb_unix_connect (s->listener_path, err);
  if (j->plan.seccomp_listener < 0)
    return sb_error_wrap (err, "linux.seccomp.listenerPath");
  j->state_json = sb_state_to_oci_json (st, status);
  j->plan.state_json = j->state_json;
  return 0;
}

static int
open_init (exec_job *j, sb_err **err)
{
  _cleanup_state_ sb_state *st = NULL;
  sb_spec *spec;
  sb_status status;
  uint64_t start;

  if (sb_container_load (j->o->root, j->o->id, &st, &status, err) < 0)
    return -1;
  if (status != SB_STATUS_RUNNING && status != SB_STATUS_CREATED)
    return sb_error (err, 0, "cannot exec in container \"%s\": it is %s", j->o->id, sb_status_name (status));
  if (sb_spec_parse (st->config_json, strlen (st->config_json), &j->spec, err) < 0
      || isolation_prepare (j, st, err) < 0)
    return -1;
  spec = j->spec;
  if (sb_spec_needs_sealed_runtime (spec) && sb_selfexe_ensure_sealed (NULL, err) < 0)
    return -1;
  if (sb_exec_process (j->o, spec, &j->proc, err) < 0)
    return -1;
  if (j->proc->terminal && j->o->detach && j->o->console_socket == NULL)
    return sb_error (err, 0, "exec -t -d needs a --console-socket");
  if (sb_exec_plan_init (&j->plan, j->proc, spec->linux.seccomp, err) < 0
      || connect_listener (j, st, status, err) < 0)
    return -1;
  j->plan.preserve_fds = j->o->preserve_fds;
  if (st->cgroup_path && sb_cgroup_load (st->cgroup_path, &j->cg, err) < 0)
    return -1;
  j->init_pid = st->pid;
  j->init_pidfd = (int)syscall (SYS_pidfd_open, st->pid, 0);
  if (j->init_pidfd < 0 || sb_proc_start_time (st->pid, &start) < 0 || start != st->pid_start)
    return sb_error (err, ESRCH, "container \"%s\" is not running", j->o->id);
  return 0;
}

/* Waits for the outcome of execve: EOF on the sync socket (closed on exec)
   is success; an error message is failure.  */
static int
await_exec (exec_job *j, pid_t *pid, int *master, sb_err **err)
{
  sb_sync_msg m;

  /* Stage 1 (the pid) and the process itself (the terminal, an error)
     share the socket: their messages come in any order.  EOF once both
     are gone, the process through its execve.  */
  *pid = 0;
  for (;;)
    {
      if (sb_sync_recv (j->sync[0], &m, NULL) < 0)
        return *pid > 0 ? 0
                        : sb_error (err, 0, "exec in container \"%s\": the runtime's helper died", j->o->id);
      if (m.type == SB_SYNC_ERROR)
        {
          sb_error (err, 0, "%s", m.payload ? m.payload : "exec failed");
          sb_sync_msg_release (&m);
          return -1;
        }
      if (m.type == SB_SYNC_PID)
        *pid = m.value;
      if (m.type == SB_SYNC_CONSOLE)
        *master = sb_steal_fd (&m.fd);
      sb_sync_msg_release (&m);
    }
}

static int
wait_exit (pid_t pid, int *exit_code, sb_err **err)
{
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return sb_error (err, errno, "wait for the exec'd process");
  *exit_code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
  return 0;
}

static int
run_exec (exec_job *j, int *exit_code, sb_err **err)
{
  _cleanup_close_ int master = -1;
  _cleanup_close_ int cgfd = j->cg ? sb_cgroup_open_fd (j->cg) : -1;
  pid_t stage1, pid = 0;
  int ret;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, j->sync) < 0)
    return sb_error (err, errno, "socketpair");
  stage1 = sb_clone_into_cgroup (0, cgfd, &j->in_cgroup);
  if (stage1 < 0)
    return sb_error (err, errno, "fork");
  if (stage1 == 0)
    {
      close (j->sync[0]);
      exec_stage1 (j);
    }
  close (j->sync[1]);
  j->sync[1] = -1;
  ret = await_exec (j, &pid, &master, err);
  waitpid (stage1, NULL, 0);
  if (ret < 0)
    {
      if (pid > 0)
        waitpid (pid, NULL, 0);
      return -1;
    }
  if (j->o->pid_file)
    {
      _cleanup_free_ char *s = sb_xasprintf ("%d", pid);
      if (sb_write_file_atomic (j->o->pid_file, s, strlen (s), 0644, err) < 0)
        return -1;
    }
  if (master >= 0 && j->o->console_socket && sb_console_send (j->o->console_socket, master, err) < 0)
    return -1;
  if (j->o->detach)
    return 0;
  if (master >= 0 && !j->o->console_socket)
    {
      _cleanup_close_ int pidfd = (int)syscall (SYS_pidfd_open, pid, 0);
      if (sb_console_relay (master, pidfd, err) < 0)
        return -1;
    }
  return wait_exit (pid, exit_code, err);
}

int
sb_container_exec (const sb_exec_opts *o, int *exit_code, sb_err **err)
{
  exec_job j = { .o = o, .init_pidfd = -1, .sync = { -1, -1 }, .plan = { .seccomp_listener = -1 } };
  int ret;

  if (sb_microvm_oci_is (o->root, o->id))
    return sb_microvm_oci_exec (o, exit_code, err);
  *exit_code = 0;
  ret = open_init (&j, err);
  if (ret == 0)
    ret = run_exec (&j, exit_code, err);
  if (j.sync[0] >= 0)
    close (j.sync[0]);
  if (j.init_pidfd >= 0)
    close (j.init_pidfd);
  if (j.plan.seccomp_listener >= 0)
    close (j.plan.seccomp_listener);
  sb_exec_plan_release (&j.plan);
  sb_process_free (j.proc);
  sb_spec_free (j.spec);
  free (j.state_json);
  if (j.cg)
    sb_cgroup_free (j.cg);
  return ret;
}
