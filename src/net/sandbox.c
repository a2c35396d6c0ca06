/* What a compromised sudobox-net could still do.  libslirp parses every
   packet the workspace sends, so its bugs are the workspace's way out; once
   the tap device exists and the published ports are bound, the helper
   keeps only what forwarding needs:
   - the uid and gid of nobody, no supplementary groups, no capabilities,
     no new privileges (no setuid exec; no exec at all, below);
   - Landlock: the file system read-only under /etc (the resolver
     configuration libslirp re-reads), nothing else; no signals to and no
     abstract sockets of processes outside its domain;
   - a seccomp allow-list: socket I/O of IPv4/IPv6 sockets, memory and
     time; nothing that creates namespaces, mounts, execs, traces or opens
     other kinds of sockets.  */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <linux/landlock.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#define NOBODY 65534

/* The kernel's struct grew after Debian 12's headers: net (ABI 4) and
   scoped (ABI 6) follow handled_access_fs.  */
struct ruleset_attr
{
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

#define SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define SCOPE_SIGNAL (1ULL << 1)

/* Every file system right the running kernel knows: ABI 1 has 13, ABI 2
   adds refer, 3 truncate, 5 ioctl on devices.  */
static uint64_t
fs_rights (int abi)
{
  uint64_t all = (1ULL << 13) - 1;

  if (abi >= 2)
    all |= 1ULL << 13;
  if (abi >= 3)
    all |= 1ULL << 14;
  if (abi >= 5)
    all |= 1ULL << 15;
  return all;
}

static int
allow_read (int ruleset, const char *dir, sb_err **err)
{
  struct landlock_path_beneath_attr rule = {
    .allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR,
  };
  _cleanup_close_ int fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return errno == ENOENT ? 0 : sb_error (err, errno, "open `%s`", dir);
  rule.parent_fd = fd;
  if (syscall (SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0)
    return sb_error (err, errno, "landlock: allow `%s`", dir);
  return 0;
}

/* /etc, and where /etc/resolv.conf really lives when it is a symlink out
   of it (systemd-resolved's /run/systemd/resolve).  */
static int
allow_resolver (int ruleset, sb_err **err)
{
  _cleanup_free_ char *real = realpath ("/etc/resolv.conf", NULL);

  if (allow_read (ruleset, "/etc", err) < 0)
    return -1;
  if (real == NULL || strncmp (real, "/etc/", 5) == 0)
    return 0;
  return allow_read (ruleset, dirname (real), err);
}

/* Must run while the no-new-privileges bit is set and before the uid
   changes (realpath of the resolver needs root's view).  A kernel without
   Landlock leaves this layer out; the others still hold.  */
static int
landlock (sb_err **err)
{
  int abi = (int)syscall (SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  struct ruleset_attr attr = { 0 };
  size_t size = sizeof (attr.handled_access_fs);
  _cleanup_close_ int ruleset = -1;

  if (abi < 1)
    return 0;
  attr.handled_access_fs = fs_rights (abi);
  if (abi >= 6)
    {
      attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL;
      size = sizeof (attr);
    }
  ruleset = (int)syscall (SYS_landlock_create_ruleset, &attr, size, 0);
  if (ruleset < 0)
    return sb_error (err, errno, "landlock: create ruleset");
  if (allow_resolver (ruleset, err) < 0)
    return -1;
  if (syscall (SYS_landlock_restrict_self, ruleset, 0) < 0)
    return sb_error (err, errno, "landlock: restrict");
  return 0;
}

static int
become_nobody (sb_err **err)
{
  if (setgroups (0, NULL) < 0 || setresgid (NOBODY, NOBODY, NOBODY) < 0)
    return sb_error (err, errno, "drop groups");
  /* From uid 0 to another, the kernel clears every capability set but the
     bounding one, which no-new-privileges and no exec make moot.  */
  if (setresuid (NOBODY, NOBODY, NOBODY) < 0)
    return sb_error (err, errno, "drop to uid %d", NOBODY);
  if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    return sb_error (err, errno, "prctl PR_SET_DUMPABLE");
  return 0;
}

/* What the loop, libslirp, glib and the C library call once running.  */
static const int allowed[] = {
  SCMP_SYS (read),
  SCMP_SYS (write),
  SCMP_SYS (readv),
  SCMP_SYS (writev),
  SCMP_SYS (close),
  SCMP_SYS (poll),
  SCMP_SYS (ppoll),
  SCMP_SYS (recvfrom),
  SCMP_SYS (recvmsg),
  SCMP_SYS (sendto),
  SCMP_SYS (sendmsg),
  SCMP_SYS (connect),
  SCMP_SYS (accept),
  SCMP_SYS (accept4),
  SCMP_SYS (bind),
  SCMP_SYS (listen),
  SCMP_SYS (getsockname),
  SCMP_SYS (getpeername),
  SCMP_SYS (getsockopt),
  SCMP_SYS (setsockopt),
  SCMP_SYS (shutdown),
  SCMP_SYS (fcntl),
  SCMP_SYS (openat),
  SCMP_SYS (newfstatat),
  SCMP_SYS (fstat),
  SCMP_SYS (lseek),
  SCMP_SYS (brk),
  SCMP_SYS (mmap),
  SCMP_SYS (munmap),
  SCMP_SYS (mremap),
  SCMP_SYS (madvise),
  SCMP_SYS (mprotect),
  SCMP_SYS (clock_gettime),
  SCMP_SYS (gettimeofday),
  SCMP_SYS (getrandom),
  SCMP_SYS (futex),
  SCMP_SYS (getpid),
  SCMP_SYS (gettid),
  SCMP_SYS (rt_sigreturn),
  SCMP_SYS (rt_sigprocmask),
  SCMP_SYS (exit),
  SCMP_SYS (exit_group),
  SCMP_SYS (restart_syscall),
};

/* Everything else fails with EPERM rather than killing the helper: a path
   of libslirp that is never exercised in tests then loses one connection,
   not the whole workspace's network.  */
static int
seccomp (sb_err **err)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ERRNO (EPERM));
  int r = ctx == NULL ? -ENOMEM : 0;

  for (size_t i = 0; r == 0 && i < sizeof (allowed) / sizeof (allowed[0]); i++)
    r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, allowed[i], 0);
  for (const int *family = (const int[]){ AF_INET, AF_INET6, 0 }; r == 0 && *family; family++)
    r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (socket), 1,
                          SCMP_A0 (SCMP_CMP_EQ, (scmp_datum_t)*family));
  for (const unsigned long *req = (const unsigned long[]){ FIONREAD, FIONBIO, 0 }; r == 0 && *req; req++)
    r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (ioctl), 1,
                          SCMP_A1 (SCMP_CMP_EQ, (scmp_datum_t)*req));
  if (r == 0)
    r = seccomp_load (ctx);
  seccomp_release (ctx);
  if (r < 0)
    return sb_error (err, -r, "seccomp filter");
  return 0;
}

int
net_sandbox (sb_err **err)
{
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return sb_error (err, errno, "prctl PR_SET_NO_NEW_PRIVS");
  if (landlock (err) < 0 || become_nobody (err) < 0)
    return -1;
  return seccomp (err);
}
