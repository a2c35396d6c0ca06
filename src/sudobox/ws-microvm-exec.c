/* exec and shell in a microvm workspace: the user is resolved from the
   image's /etc/passwd and /etc/group (the guest's disk is in use by the
   guest, the image is what it booted from), then the agent runs the
   program.  Users added inside the workspace later are reached by number
   (--user UID).  */
#include "ws-microvm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util.h"

typedef struct vm_user
{
  uint32_t uid, gid;
  char *name, *home, *shell;
  uint32_t groups[SB_AGENT_MAX_GROUPS];
  uint32_t n_groups;
} vm_user;

static void
user_release (vm_user *u)
{
  free (u->name);
  free (u->home);
  free (u->shell);
}

/* Splits a colon-separated line into at most n fields; returns the count.  */
static int
split (char *line, char **f, int n)
{
  int i = 0;
  line[strcspn (line, "\n")] = '\0';
  for (char *t = strsep (&line, ":"); t && i < n; t = strsep (&line, ":"))
    f[i++] = t;
  return i;
}

static void
add_groups (int rootfd, vm_user *u)
{
  _cleanup_fclose_ FILE *f = sb_ws_open_root_file (rootfd, "etc/group");
  _cleanup_free_ char *line = NULL;
  size_t cap = 0;

  u->groups[u->n_groups++] = u->gid;
  while (f && getline (&line, &cap, f) > 0 && u->n_groups < SB_AGENT_MAX_GROUPS)
    {
      char *fl[4];
      char *members, *save = NULL;
      if (split (line, fl, 4) < 4)
        continue;
      members = fl[3];
      for (char *m = strtok_r (members, ",", &save); m; m = strtok_r (NULL, ",", &save))
        if (strcmp (m, u->name) == 0 && (uint32_t)atoll (fl[2]) != u->gid)
          u->groups[u->n_groups++] = (uint32_t)atoll (fl[2]);
    }
}

/* From the image's files, read as a root of their own (an image's
   symlinks must not lead this host process to the host's files).  */
static int
resolve_user (const char *rootfs, const char *want, vm_user *u, sb_err **err)
{
  _cleanup_close_ int rootfd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  _cleanup_fclose_ FILE *f = rootfd >= 0 ? sb_ws_open_root_file (rootfd, "etc/passwd") : NULL;
  _cleanup_free_ char *line = NULL;
  size_t cap = 0;
  int64_t n = -1;

  sb_parse_i64 (want, &n);
  while (f && getline (&line, &cap, f) > 0)
    {
      char *fl[7];
      if (split (line, fl, 7) < 7 || !(strcmp (fl[0], want) == 0 || (n >= 0 && atoll (fl[2]) == n)))
        continue;
      *u = (vm_user){ .uid = (uint32_t)atoll (fl[2]),
                      .gid = (uint32_t)atoll (fl[3]),
                      .name = sb_xstrdup (fl[0]),
                      .home = sb_xstrdup (fl[5][0] ? fl[5] : "/"),
                      .shell = sb_xstrdup (fl[6][0] ? fl[6] : "/bin/sh") };
      add_groups (rootfd, u);
      return 0;
    }
  if (n < 0 || n > 0xfffffffe)
    return sb_error (err, 0, "--user \"%s\": no such user in the workspace's image", want);
  *u = (vm_user){ .uid = (uint32_t)n,
                  .gid = (uint32_t)n,
                  .name = sb_xstrdup (want),
                  .home = sb_xstrdup ("/"),
                  .shell = sb_xstrdup ("/bin/sh"),
                  .groups = { (uint32_t)n },
                  .n_groups = 1 };
  return 0;
}

/* The session's environment as for any workspace, with a PATH first: the
   guest's process gets none from the image's config.  */
static char **
session_env (const sb_ws_exec_opts *o, const sb_wsconfig *cfg, const vm_user *u)
{
  _cleanup_strv_ char **rest = sb_ws_session_env (o, cfg, u->home, u->name);
  char **env = NULL;

  sb_strv_append (&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  for (char **e = rest; e && *e; e++)
    sb_strv_append (&env, *e);
  return env;
}

static int
run (const char *run_dir, const sb_agent_exec *e, int *exit_code, sb_err **err)
{
  _cleanup_close_ int fd = -1, lock = -1;
  if (sb_microvm_connect (run_dir, 10000, &fd, &lock, err) < 0)
    return -1;
  return sb_microvm_exec (fd, e, exit_code, err);
}

int
sb_ws_microvm_exec (sb_mgr *m, const sb_ws_rec *ws, const sb_ws_exec_opts *o, int *exit_code, sb_err **err)
{
  _cleanup_free_ char *rootfs = NULL, *run_dir = NULL;
  _cleanup_free_ sb_agent_exec *e = sb_xmalloc0 (sizeof (*e));
  _cleanup_strv_ char **env = NULL;
  sb_image_rec *img = NULL;
  sb_wsconfig cfg;
  vm_user u = { 0 };
  int r;

  if (!sb_ws_microvm_alive (ws))
    return sb_error (err, 0, "workspace \"%s\" is not running (sudobox start %s)", ws->name, ws->name);
  if (sb_wsconfig_from_json (ws->config, &cfg, err) < 0)
    return -1;
  r = sb_registry_image_get (m->reg, ws->image, &img, err);
  if (r == 0)
    {
      rootfs = sb_xasprintf ("%s/rootfs", img->dir);
      sb_image_rec_free (img);
      r = resolve_user (rootfs, o->user ? o->user : cfg.user, &u, err);
    }
  else if (r > 0)
    r = sb_error (err, 0, "image \"%s\" not found", ws->image);
  if (r == 0)
    {
      const char *login[] = { u.shell, "-l", NULL };
      e->uid = u.uid;
      e->gid = u.gid;
      e->n_groups = u.n_groups;
      memcpy (e->groups, u.groups, sizeof (u.groups));
      e->tty = o->tty;
      e->cwd = o->workdir ? o->workdir : u.home;
      env = session_env (o, &cfg, &u);
      for (size_t i = 0; i < SB_AGENT_MAX_ARGS && (o->login_shell ? login[i] : o->args[i]); i++)
        e->argv[i] = o->login_shell ? login[i] : o->args[i];
      for (size_t i = 0; i < SB_AGENT_MAX_ARGS && env[i]; i++)
        e->envp[i] = env[i];
      run_dir = sb_xasprintf ("%s/workspaces/%s/vm", m->root, ws->name);
      r = run (run_dir, e, exit_code, err);
    }
  user_release (&u);
  sb_wsconfig_release (&cfg);
  return r;
}
