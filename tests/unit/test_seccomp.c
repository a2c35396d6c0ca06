/* Filters are loaded for real in forked children: the kernel, not a mock,
   says whether a syscall is denied.  */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "seccomp-filter.h"
#include "tap.h"
#include "util.h"

/* A path whose parent does not exist: a mkdir that gets through the filter
   fails with ENOENT and leaves nothing behind.  */
#define NO_PARENT "/nonexistent-sudobox-test/dir"

static char *mkdir_names[] = { "mkdir", "mkdirat", NULL };
static char *uname_names[] = { "uname", NULL };
static char *personality_names[] = { "personality", NULL };

static sb_seccomp_rule
rule (char **names, const char *action)
{
  return (sb_seccomp_rule){ .names = names, .action = (char *)action };
}

static sb_seccomp
filter_spec (sb_seccomp_rule *rules, size_t n)
{
  return (sb_seccomp){ .default_action = (char *)"SCMP_ACT_ALLOW", .syscalls = rules, .n_syscalls = n };
}

/* Compiles sc and returns the message of the expected error ("" if none).  */
static char *
compile_error (const sb_seccomp *sc)
{
  _cleanup_err_ sb_err *err = NULL;
  sb_seccomp_filter *f = NULL;

  if (sb_seccomp_compile (sc, &f, &err) == 0)
    {
      sb_seccomp_free (f);
      return sb_xstrdup ("");
    }
  return sb_xstrdup (err && err->msg ? err->msg : "(no message)");
}

static void
load_or_exit (sb_seccomp_filter *f, int *notify_fd)
{
  int fd = -1;

  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sb_seccomp_load (f, &fd, NULL) < 0)
    _exit (100);
  if (notify_fd != NULL)
    *notify_fd = fd;
}

static int
wait_child (pid_t pid)
{
  int status;

  if (waitpid (pid, &status, 0) < 0)
    return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 200 + (WIFSIGNALED (status) ? WTERMSIG (status) : 0);
}

static int
errno_of (int r)
{
  return r < 0 ? errno : 0;
}

static void
test_basic_filter (void)
{
  sb_seccomp_rule rules[] = { rule (mkdir_names, "SCMP_ACT_ERRNO"), rule (uname_names, "SCMP_ACT_ERRNO") };
  sb_seccomp sc = filter_spec (rules, 2);
  _cleanup_err_ sb_err *err = NULL;
  sb_seccomp_filter *f = NULL;
  pid_t pid;

  rules[1].has_errno_ret = true;
  rules[1].errno_ret = ENOSYS;
  tap_is_int (sb_seccomp_compile (&sc, &f, &err), 0, "basic filter compiles");
  if (f == NULL)
    return;
  tap_ok (!sb_seccomp_uses_notify (f), "basic filter does not use notify");
  pid = fork ();
  if (pid == 0)
    {
      struct utsname u;
      load_or_exit (f, NULL);
      if (errno_of (mkdir (NO_PARENT, 0755)) != EPERM)
        _exit (2);
      if (errno_of (uname (&u)) != ENOSYS)
        _exit (3);
      if (getpid () <= 0)
        _exit (4);
      _exit (0);
    }
  tap_is_int (wait_child (pid), 0, "child: mkdir EPERM, uname ENOSYS (errnoRet), getpid allowed");
  sb_seccomp_free (f);
}

static void
test_arg_compare (void)
{
  sb_seccomp_arg arg = { .index = 0, .value = 0xffffffff, .op = (char *)"SCMP_CMP_NE" };
  sb_seccomp_rule rules[] = { rule (personality_names, "SCMP_ACT_ERRNO") };
  sb_seccomp sc = filter_spec (rules, 1);
  sb_seccomp_filter *f = NULL;
  pid_t pid;

  rules[0].args = &arg;
  rules[0].n_args = 1;
  tap_is_int (sb_seccomp_compile (&sc, &f, NULL), 0, "personality filter compiles");
  if (f == NULL)
    return;
  pid = fork ();
  if (pid == 0)
    {
      load_or_exit (f, NULL);
      if (errno_of (personality (0xffffffff)) != 0)
        _exit (2);
      if (errno_of (personality (PER_LINUX)) != EPERM)
        _exit (3);
      _exit (0);
    }
  tap_is_int (wait_child (pid), 0, "child: personality(0xffffffff) allowed, personality(PER_LINUX) EPERM");
  sb_seccomp_free (f);
}

/* Two conditions on the same argument become two rules (OR), as in runc.  */
static void
test_same_index (void)
{
  sb_seccomp_arg args[] = { { .index = 0, .value = 1, .op = (char *)"SCMP_CMP_EQ" },
                            { .index = 0, .value = 2, .op = (char *)"SCMP_CMP_EQ" } };
  sb_seccomp_rule rules[] = { rule (personality_names, "SCMP_ACT_ERRNO") };
  sb_seccomp sc = filter_spec (rules, 1);
  sb_seccomp_filter *f = NULL;
  pid_t pid;

  rules[0].args = args;
  rules[0].n_args = 2;
  rules[0].has_errno_ret = true;
  rules[0].errno_ret = EACCES;
  tap_is_int (sb_seccomp_compile (&sc, &f, NULL), 0, "same-index filter compiles");
  if (f == NULL)
    return;
  pid = fork ();
  if (pid == 0)
    {
      load_or_exit (f, NULL);
      if (errno_of (personality (1)) != EACCES)
        _exit (2);
      if (errno_of (personality (2)) != EACCES)
        _exit (3);
      if (errno_of (personality (0xffffffff)) != 0)
        _exit (4);
      _exit (0);
    }
  tap_is_int (wait_child (pid), 0, "child: personality(1) and (2) EACCES, query allowed");
  sb_seccomp_free (f);
}

static int
answer_one_notification (int notify_fd)
{
  struct seccomp_notif *req = NULL;
  struct seccomp_notif_resp *resp = NULL;
  struct pollfd p = { .fd = notify_fd, .events = POLLIN };
  int ret = -1;

  if (poll (&p, 1, 10000) != 1 || seccomp_notify_alloc (&req, &resp) < 0)
    return -1;
  if (seccomp_notify_receive (notify_fd, req) == 0)
    {
      resp->id = req->id;
      resp->error = -EACCES;
      resp->val = 0;
      resp->flags = 0;
      ret = seccomp_notify_respond (notify_fd, resp) == 0 ? 0 : -1;
    }
  seccomp_notify_free (req, resp);
  return ret;
}

static void
test_notify (void)
{
  sb_seccomp_rule rules[] = { rule (mkdir_names, "SCMP_ACT_NOTIFY") };
  sb_seccomp sc = filter_spec (rules, 1);
  sb_seccomp_filter *f = NULL;
  _cleanup_close_ int notify_fd = -1;
  int sv[2];
  char byte;
  pid_t pid;

  tap_is_int (sb_seccomp_compile (&sc, &f, NULL), 0, "notify filter compiles");
  if (f == NULL)
    return;
  tap_ok (sb_seccomp_uses_notify (f), "notify filter uses notify");
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return;
  pid = fork ();
  if (pid == 0)
    {
      int fd = -1;
      close (sv[0]);
      load_or_exit (f, &fd);
      if (fd < 0 || sb_send_fd (sv[1], fd, "n", 1) < 0)
        _exit (2);
      close (fd);
      _exit (errno_of (mkdir (NO_PARENT, 0755)) == EACCES ? 0 : 3);
    }
  close (sv[1]);
  tap_ok (sb_recv_fd (sv[0], &notify_fd, &byte, 1) >= 0 && notify_fd >= 0, "parent received the notify fd");
  close (sv[0]);
  tap_is_int (notify_fd >= 0 ? answer_one_notification (notify_fd) : -1, 0,
              "parent answered mkdir with EACCES");
  if (notify_fd < 0)
    kill (pid, SIGKILL);
  tap_is_int (wait_child (pid), 0, "child saw EACCES from the listener");
  sb_seccomp_free (f);
}

static void
test_send_notify_fd (void)
{
  char dir[] = "/tmp/sb-seccomp-XXXXXX";
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  _cleanup_close_ int listener = -1, conn = -1, got = -1;
  _cleanup_err_ sb_err *err = NULL;
  char payload[4096] = { 0 };
  json_object *msg = NULL, *v = NULL, *st = NULL;
  int pipefd[2];

  if (mkdtemp (dir) == NULL || pipe2 (pipefd, O_CLOEXEC) < 0)
    return;
  snprintf (addr.sun_path, sizeof (addr.sun_path), "%s/l.sock", dir);
  listener = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  tap_ok (bind (listener, (struct sockaddr *)&addr, sizeof (addr)) == 0 && listen (listener, 1) == 0,
          "listener socket ready");
  conn = sb_unix_connect (addr.sun_path, &err);
  tap_is_int (sb_seccomp_send_notify_fd (conn, pipefd[0],
                                         "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"creating\","
                                         "\"pid\":42,\"bundle\":\"/b\"}",
                                         "meta", &err),
              0, "send_notify_fd succeeds%s%s", err ? ": " : "", err ? err->msg : "");
  close (conn);
  conn = accept4 (listener, NULL, NULL, SOCK_CLOEXEC);
  tap_ok (conn >= 0 && sb_recv_fd (conn, &got, payload, sizeof (payload) - 1) >= 0 && got >= 0,
          "listener received an fd");
  msg = json_tokener_parse (payload);
  tap_ok (msg != NULL, "payload is JSON: %s", payload);
  tap_is_str (msg && json_object_object_get_ex (msg, "fds", &v)
                  ? json_object_get_string (json_object_array_get_idx (v, 0))
                  : NULL,
              "seccompFd", "fds[0]");
  tap_is_int (msg && json_object_object_get_ex (msg, "pid", &v) ? json_object_get_int (v) : -1, 42, "pid");
  tap_is_str (msg && json_object_object_get_ex (msg, "ociVersion", &v) ? json_object_get_string (v) : NULL,
              "1.2.0", "ociVersion");
  tap_is_str (msg && json_object_object_get_ex (msg, "state", &st) && json_object_object_get_ex (st, "id", &v)
                  ? json_object_get_string (v)
                  : NULL,
              "c1", "state.id");
  tap_is_str (msg && json_object_object_get_ex (msg, "metadata", &v) ? json_object_get_string (v) : NULL,
              "meta", "metadata");
  json_object_put (msg);
  sb_err_free (&err);
  tap_ok (sb_seccomp_send_notify_fd (conn, pipefd[0], "not json", NULL, &err) < 0 && err != NULL,
          "invalid state JSON is an error");
  close (pipefd[0]);
  close (pipefd[1]);
  unlink (addr.sun_path);
  rmdir (dir);
}

static void
test_errors (void)
{
  sb_seccomp_arg bad_op = { .index = 0, .value = 1, .op = (char *)"SCMP_CMP_FOO" };
  sb_seccomp_arg bad_index = { .index = 6, .value = 1, .op = (char *)"SCMP_CMP_EQ" };
  sb_seccomp_rule rules[] = { rule (uname_names, "SCMP_ACT_ERRNO"), rule (mkdir_names, "SCMP_ACT_FOO") };
  char *archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_FOO", NULL };
  char *flags[] = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_BAR", NULL };
  sb_seccomp sc = filter_spec (rules, 2);
  _cleanup_free_ char *m1 = NULL, *m2 = NULL, *m3 = NULL, *m4 = NULL, *m5 = NULL, *m6 = NULL, *m7 = NULL,
                      *m8 = NULL;

  m1 = compile_error (&sc);
  tap_is_str (m1, "linux.seccomp.syscalls[1].action: unknown action \"SCMP_ACT_FOO\"", "unknown action");

  sc.n_syscalls = 1;
  sc.default_action = (char *)"SCMP_ACT_NOPE";
  m2 = compile_error (&sc);
  tap_is_str (m2, "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"", "unknown default action");

  sc.default_action = (char *)"SCMP_ACT_NOTIFY";
  m8 = compile_error (&sc);
  tap_is_str (m8, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action",
              "NOTIFY as default action");

  sc = filter_spec (rules, 1);
  rules[0].args = &bad_op;
  rules[0].n_args = 1;
  m3 = compile_error (&sc);
  tap_is_str (m3, "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\"",
              "unknown operator");
  rules[0].args = &bad_index;
  m4 = compile_error (&sc);
  tap_is_str (m4, "linux.seccomp.syscalls[0].args[0].index: 6 is not below 6", "argument index out of range");
  rules[0].n_args = 0;

  sc.architectures = archs;
  m5 = compile_error (&sc);
  tap_is_str (m5, "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_FOO\"", "unknown arch");
  archs[1] = "SCMP_ARCH_X86";
  sc.flags = flags;
  m6 = compile_error (&sc);
  tap_is_str (m6, "linux.seccomp.flags[1]: unknown or unsupported flag \"SECCOMP_FILTER_FLAG_BAR\"",
              "unknown flag (known archs accepted)");

  sc = filter_spec (rules, 1);
  rules[0].action = (char *)"SCMP_ACT_KILL";
  rules[0].has_errno_ret = true;
  m7 = compile_error (&sc);
  tap_is_str (m7, "linux.seccomp.syscalls[0].action: errnoRet is not supported with action \"SCMP_ACT_KILL\"",
              "errnoRet with an action that cannot carry it");
}

static void
test_skips (void)
{
  char *names[] = { "no_such_syscall_sudobox", "uname", NULL };
  sb_seccomp_rule rules[] = { rule (names, "SCMP_ACT_ERRNO"), rule (mkdir_names, "SCMP_ACT_ALLOW") };
  sb_seccomp sc = filter_spec (rules, 2);
  _cleanup_free_ char *m = compile_error (&sc);

  tap_is_str (m, "", "unknown syscall name and a rule equal to the default action are skipped");
}

static bool
has (const char *const *list, const char *name)
{
  for (; *list; list++)
    if (strcmp (*list, name) == 0)
      return true;
  return false;
}

static void
test_known (void)
{
  tap_ok (has (sb_seccomp_known_actions (), "SCMP_ACT_NOTIFY"), "known actions include SCMP_ACT_NOTIFY");
  tap_ok (has (sb_seccomp_known_operators (), "SCMP_CMP_MASKED_EQ"), "known operators include MASKED_EQ");
  tap_ok (has (sb_seccomp_known_archs (), "SCMP_ARCH_AARCH64"), "known archs include AARCH64");
  tap_ok (has (sb_seccomp_known_flags (), "SECCOMP_FILTER_FLAG_SPEC_ALLOW"),
          "known flags include SPEC_ALLOW");
}

int
main (void)
{
  test_basic_filter ();
  test_arg_compare ();
  test_same_index ();
  test_notify ();
  test_send_notify_fd ();
  test_errors ();
  test_skips ();
  test_known ();
  return tap_done ();
}
