#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int
sb_exec_plan_init (sb_exec_plan *plan, const sb_process *proc, const sb_seccomp *seccomp, sb_err **err)
{
  memset (plan, 0, sizeof (*plan));
  plan->proc = proc;
  plan->seccomp_listener = -1;
  if (proc->has_caps && sb_caps_from_spec (&proc->caps, &plan->caps, err) < 0)
    return -1;
  if (seccomp != NULL && sb_seccomp_compile (seccomp, &plan->seccomp, err) < 0)
    return -1;
  plan->seccomp_metadata = seccomp ? seccomp->listener_metadata : NULL;
  return 0;
}

void
sb_exec_plan_release (sb_exec_plan *plan)
{
  if (plan->seccomp)
    sb_seccomp_free (plan->seccomp);
  plan->seccomp = NULL;
  free (plan->path);
  plan->path = NULL;
}

static int
rlimit_resource (const char *name)
{
  static const struct
  {
    const char *name;
    int res;
  } table[] = {
    { "RLIMIT_AS", RLIMIT_AS },
    { "RLIMIT_CORE", RLIMIT_CORE },
    { "RLIMIT_CPU", RLIMIT_CPU },
    { "RLIMIT_DATA", RLIMIT_DATA },
    { "RLIMIT_FSIZE", RLIMIT_FSIZE },
    { "RLIMIT_LOCKS", RLIMIT_LOCKS },
    { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
    { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
    { "RLIMIT_NICE", RLIMIT_NICE },
    { "RLIMIT_NOFILE", RLIMIT_NOFILE },
    { "RLIMIT_NPROC", RLIMIT_NPROC },
    { "RLIMIT_RSS", RLIMIT_RSS },
    { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
    { "RLIMIT_RTTIME", RLIMIT_RTTIME },
    { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
    { "RLIMIT_STACK", RLIMIT_STACK },
  };
  for (size_t i = 0; i < sizeof (table) / sizeof (table[0]); i++)
    if (strcmp (table[i].name, name) == 0)
      return table[i].res;
  return -1;
}

int
sb_process_set_rlimits (const sb_process *proc, sb_err **err)
{
  for (size_t i = 0; i < proc->n_rlimits; i++)
    {
      const sb_rlimit *r = &proc->rlimits[i];
      int res = rlimit_resource (r->type);
      struct rlimit lim = { .rlim_cur = r->soft, .rlim_max = r->hard };
      if (res < 0)
        return sb_error (err, 0, "process.rlimits[%zu].type: unknown rlimit \"%s\"", i, r->type);
      if (setrlimit (res, &lim) < 0)
        return sb_error (err, errno, "process.rlimits[%zu]: setrlimit %s soft %llu hard %llu", i, r->type,
                         (unsigned long long)r->soft, (unsigned long long)r->hard);
    }
  return 0;
}

static const char *
env_lookup (char *const *env, const char *key)
{
  size_t klen = strlen (key);
  for (size_t i = 0; env && env[i]; i++)
    if (strncmp (env[i], key, klen) == 0 && env[i][klen] == '=')
      return env[i] + klen + 1;
  return NULL;
}

int
sb_process_resolve (sb_exec_plan *plan, sb_err **err)
{
  const char *arg0 = plan->proc->args[0];
  const char *path = env_lookup (plan->proc->env, "PATH");
  _cleanup_free_ char *copy = NULL;
  char *save = NULL;

  if (strchr (arg0, '/') != NULL)
    {
      plan->path = sb_xstrdup (arg0);
      return 0;
    }
  copy = sb_xstrdup (path ? path : DEFAULT_PATH);
  for (char *dir = strtok_r (copy, ":", &save); dir; dir = strtok_r (NULL, ":", &save))
    {
      _cleanup_free_ char *cand = sb_xasprintf ("%s/%s", *dir ? dir : ".", arg0);
      struct stat st;
      if (stat (cand, &st) == 0 && S_ISREG (st.st_mode) && (st.st_mode & 0111))
        {
          plan->path = sb_steal (&cand);
          return 0;
        }
    }
  return sb_error (err, 0, "exec: \"%s\": executable file not found in $PATH", arg0);
}

static bool
lsm_enabled (const char *path)
{
  _cleanup_free_ char *buf = NULL;
  return sb_read_file_at (AT_FDCWD, path, 64, &buf, NULL, NULL) == 0 && buf[0] == 'Y';
}

/* Labels are applied at the coming execve, so they cover only the user
   program.  A label the host cannot apply is skipped with a warning, as
   runc does when the LSM is disabled.  */
static int
set_lsm_labels (const sb_process *proc, sb_err **err)
{
  if (proc->apparmor_profile && *proc->apparmor_profile
      && lsm_enabled ("/sys/module/apparmor/parameters/enabled"))
    {
      _cleanup_free_ char *v = sb_xasprintf ("exec %s", proc->apparmor_profile);
      if (sb_write_file_at (AT_FDCWD, "/proc/self/attr/apparmor/exec", v, err) < 0
          && sb_write_file_at (AT_FDCWD, "/proc/self/attr/exec", v, NULL) < 0)
        return sb_error_wrap (err, "process.apparmorProfile");
      sb_err_free (err);
    }
  if (proc->selinux_label && *proc->selinux_label && access ("/sys/fs/selinux/enforce", F_OK) == 0
      && sb_write_file_at (AT_FDCWD, "/proc/self/attr/exec", proc->selinux_label, err) < 0)
    return sb_error_wrap (err, "process.selinuxLabel");
  return 0;
}

static int
set_identity (const sb_process *proc, sb_err **err)
{
  gid_t *groups = sb_xmalloc0 ((proc->n_additional_gids + 1) * sizeof (gid_t));
  int ret;

  for (size_t i = 0; i < proc->n_additional_gids; i++)
    groups[i] = proc->additional_gids[i];
  ret = setgroups (proc->n_additional_gids, groups);
  free (groups);
  /* EPERM: setgroups is denied in this user namespace; runc ignores it too
     when no additional groups were asked for.  */
  if (ret < 0 && !(errno == EPERM && proc->n_additional_gids == 0))
    return sb_error (err, errno, "process.user.additionalGids: setgroups");
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return sb_error (err, errno, "prctl PR_SET_KEEPCAPS");
  if (syscall (SYS_setresgid, proc->gid, proc->gid, proc->gid) < 0)
    return sb_error (err, errno, "process.user.gid: setresgid %u (is it mapped?)", proc->gid);
  if (syscall (SYS_setresuid, proc->uid, proc->uid, proc->uid) < 0)
    return sb_error (err, errno, "process.user.uid: setresuid %u (is it mapped?)", proc->uid);
  return 0;
}

static int
load_seccomp (sb_exec_plan *plan, sb_err **err)
{
  _cleanup_close_ int notify_fd = -1;
  if (plan->seccomp == NULL)
    return 0;
  if (sb_seccomp_load (plan->seccomp, &notify_fd, err) < 0)
    return -1;
  if (notify_fd >= 0 && plan->seccomp_listener >= 0)
    return sb_seccomp_send_notify_fd (plan->seccomp_listener, notify_fd, plan->state_json,
                                      plan->seccomp_metadata, err);
  return 0;
}

static int
enter_cwd (const sb_process *proc, sb_err **err)
{
  char buf[PATH_MAX];
  if (chdir (proc->cwd) < 0)
    return sb_error (err, errno, "process.cwd: chdir `%s`", proc->cwd);
  /* CVE-2024-21626: a cwd reached through a leaked fd of the host would
     show as unreachable; refuse to run the program there.  */
  if (getcwd (buf, sizeof (buf)) == NULL || buf[0] != '/')
    return sb_error (err, errno, "process.cwd `%s` is outside the container root", proc->cwd);
  return 0;
}

int
sb_process_exec (sb_exec_plan *plan, sb_err **err)
{
  const sb_process *proc = plan->proc;
  char *empty_env[] = { NULL };

  if (plan->personality_domain && strcmp (plan->personality_domain, "LINUX32") == 0
      && personality (PER_LINUX32) < 0)
    return sb_error (err, errno, "linux.personality: LINUX32");
  if (proc->has_umask)
    umask (proc->umask);
  if (set_lsm_labels (proc, err) < 0)
    return -1;
  if (!proc->no_new_privileges && load_seccomp (plan, err) < 0)
    return -1;
  if (set_identity (proc, err) < 0)
    return -1;
  if (sb_caps_apply (&plan->caps, err) < 0)
    return -1;
  if (proc->no_new_privileges && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return sb_error (err, errno, "process.noNewPrivileges");
  if (enter_cwd (proc, err) < 0)
    return -1;
  if (proc->no_new_privileges && load_seccomp (plan, err) < 0)
    return -1;
  if (plan->seccomp_listener >= 0)
    close (plan->seccomp_listener);
  if (syscall (SYS_close_range, 3 + plan->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    return sb_error (err, errno, "close_range");
  execve (plan->path, proc->args, proc->env ? proc->env : empty_env);
  return sb_error (err, errno, "exec `%s`", plan->path);
}
