/* Working inside a running workspace: exec (and shell) through the
   container library, and the console log.  */
#include "manager.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "util.h"
#include "ws-microvm.h"

/* The user to run as: a number, a name from the image's /etc/passwd as the
   workspace sees it (passwd, NULL if it has none), or the workspace user.  */
int
sb_ws_resolve_user (FILE *passwd, const char *user, const sb_wsconfig *cfg, uid_t *uid, gid_t *gid,
                    char **home, char **name, sb_err **err)
{
  _cleanup_free_ char *line = NULL;
  size_t cap = 0;
  int64_t n = -1;

  if (user == NULL)
    user = cfg->user;
  sb_parse_i64 (user, &n);
  while (passwd && getline (&line, &cap, passwd) > 0)
    {
      char *fields[7] = { 0 }, *p = line;
      int i = 0;
      line[strcspn (line, "\n")] = '\0';
      for (char *t = strsep (&p, ":"); t && i < 7; t = strsep (&p, ":"))
        fields[i++] = t;
      if (i < 7 || !(strcmp (fields[0], user) == 0 || (n >= 0 && atoll (fields[2]) == n)))
        continue;
      *uid = (uid_t)atoll (fields[2]);
      *gid = (gid_t)atoll (fields[3]);
      *home = sb_xstrdup (fields[5]);
      *name = sb_xstrdup (fields[0]);
      return 0;
    }
  if (n < 0 || n > 65535)
    return sb_error (err, 0, "--user \"%s\": no such user in the workspace", user);
  *uid = (uid_t)n;
  *gid = (gid_t)n;
  *home = sb_xstrdup ("/");
  *name = sb_xstrdup (user);
  return 0;
}

FILE *
sb_ws_open_root_file (int rootfd, const char *path)
{
  _cleanup_close_ int fd
      = sb_open_in_root (rootfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0, NULL);
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  struct stat st;
  FILE *f;

  if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode)
      || sb_read_fd (fd, 4 << 20, &text, &len, NULL) < 0 || len == 0)
    return NULL;
  /* A buffer of its own, freed by fclose.  */
  f = fmemopen (NULL, len, "w+");
  if (f != NULL && (fwrite (text, 1, len, f) != len || fseek (f, 0, SEEK_SET) < 0))
    {
      fclose (f);
      return NULL;
    }
  return f;
}

/* As the running workspace sees it: inside its init's root.  */
static int
resolve_user (pid_t init, const char *user, const sb_wsconfig *cfg, uid_t *uid, gid_t *gid, char **home,
              char **name, sb_err **err)
{
  _cleanup_free_ char *path = sb_xasprintf ("/proc/%d/root", init);
  _cleanup_close_ int root = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  _cleanup_fclose_ FILE *f = root >= 0 ? sb_ws_open_root_file (root, "etc/passwd") : NULL;

  return sb_ws_resolve_user (f, user, cfg, uid, gid, home, name, err);
}

char **
sb_ws_session_env (const sb_ws_exec_opts *o, const sb_wsconfig *cfg, const char *home, const char *user)
{
  char **env = NULL;
  const char *term = getenv ("TERM");
  _cleanup_free_ char *h = sb_xasprintf ("HOME=%s", home);
  _cleanup_free_ char *u = sb_xasprintf ("USER=%s", user);
  _cleanup_free_ char *l = sb_xasprintf ("LOGNAME=%s", user);
  _cleanup_free_ char *t = sb_xasprintf ("TERM=%s", term && o->tty ? term : "xterm");

  sb_strv_append (&env, h);
  sb_strv_append (&env, u);
  sb_strv_append (&env, l);
  sb_strv_append (&env, t);
  for (char **e = cfg->env; e && *e; e++)
    sb_strv_append (&env, *e);
  for (char **e = o->env; e && *e; e++)
    sb_strv_append (&env, *e);
  return env;
}

static char **
login_shell_args (pid_t init)
{
  _cleanup_free_ char *bash = sb_xasprintf ("/proc/%d/root/bin/bash", init);
  char **args = NULL;
  sb_strv_append (&args, access (bash, X_OK) == 0 ? "/bin/bash" : "/bin/sh");
  sb_strv_append (&args, "-l");
  return args;
}

int
sb_ws_exec (sb_mgr *m, const char *name, const sb_ws_exec_opts *o, int *exit_code, sb_err **err)
{
  _cleanup_strv_ char **env = NULL, **args = NULL;
  _cleanup_free_ char *home = NULL, *user = NULL, *cwd = NULL;
  sb_wsconfig cfg;
  sb_ws_rec *ws = NULL;
  uid_t uid = 0;
  gid_t gid = 0;
  int r;

  if (sb_check_name ("workspace", name, err) < 0)
    return -1;
  r = sb_registry_ws_get (m->reg, name, &ws, err);
  if (r != 0)
    return r < 0 ? -1 : sb_error (err, 0, "workspace \"%s\" not found", name);
  if (strcmp (ws->isolation, "microvm") == 0)
    {
      r = sb_ws_microvm_exec (m, ws, o, exit_code, err);
      sb_ws_rec_free (ws);
      return r;
    }
  if (ws->state != SB_WS_RUNNING || !sb_ws_monitor_alive (ws))
    {
      sb_ws_rec_free (ws);
      return sb_error (err, 0, "workspace \"%s\" is not running (sudobox start %s)", name, name);
    }
  r = sb_wsconfig_from_json (ws->config, &cfg, err);
  sb_ws_rec_free (ws);
  if (r < 0)
    return -1;
  {
    _cleanup_state_ sb_state *st = NULL;
    sb_status status;
    r = sb_container_load (m->run_root, name, &st, &status, err);
    if (r == 0)
      r = resolve_user (st->pid, o->user, &cfg, &uid, &gid, &home, &user, err);
    if (r == 0 && o->login_shell)
      args = login_shell_args (st->pid);
  }
  if (r == 0)
    {
      sb_exec_opts eo = { .root = m->run_root,
                          .id = name,
                          .args = args ? args : o->args,
                          .env = env = sb_ws_session_env (o, &cfg, home, user),
                          .cwd = cwd = sb_xstrdup (o->workdir ? o->workdir : home),
                          .has_user = true,
                          .uid = uid,
                          .gid = gid,
                          .tty = o->tty };
      r = sb_container_exec (&eo, exit_code, err);
    }
  sb_wsconfig_release (&cfg);
  return r;
}

/* Copies the log to stdout; with follow, keeps copying until the workspace
   stops.  */
int
sb_ws_logs (sb_mgr *m, const char *name, bool follow, sb_err **err)
{
  _cleanup_free_ char *dir = sb_mgr_ws_dir (m, name);
  _cleanup_free_ char *path = sb_xasprintf ("%s/console.log", dir);
  _cleanup_close_ int fd = -1;
  char buf[65536];
  sb_ws_rec *ws = NULL;
  int r;

  if (sb_check_name ("workspace", name, err) < 0)
    return -1;
  r = sb_registry_ws_get (m->reg, name, &ws, err);
  if (r != 0)
    return r < 0 ? -1 : sb_error (err, 0, "workspace \"%s\" not found", name);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  for (;;)
    {
      ssize_t n = fd >= 0 ? read (fd, buf, sizeof (buf)) : 0;
      if (n > 0)
        {
          if (sb_write_all (STDOUT_FILENO, buf, (size_t)n) < 0)
            break;
          continue;
        }
      if (!follow || !sb_ws_monitor_alive (ws))
        break;
      usleep (200000);
      if (fd < 0)
        fd = open (path, O_RDONLY | O_CLOEXEC);
      {
        sb_ws_rec *now = NULL;
        if (sb_registry_ws_get (m->reg, name, &now, NULL) == 0)
          {
            sb_ws_rec_free (ws);
            ws = now;
          }
      }
    }
  sb_ws_rec_free (ws);
  return 0;
}
