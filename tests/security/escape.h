/* The escape battery's shared parts: the TAP reporter, helpers and the
   attempt groups (escape-host.c: the host's files, runtime, kernel settings,
   cgroups, devices and modules; escape-ns.c: mounts, namespaces,
   processes, network, links, exhaustion and the terminal).  */
#ifndef SB_ESCAPE_H
#define SB_ESCAPE_H

#include <stdbool.h>
#include <sys/types.h>

/* Settings from the command line (see escape.c).  */
extern const char *canary, *state, *hostns, *hostifs, *keydesc, *other;
extern long hostpid, otherpid, port, delegated, guest, nested;
/* While set, a successful attempt only reached the guest kernel the
   workspace owns (microvm): reported as contained (see escape.c).  */
extern bool guest_scope;

/* One TAP line.  blocked: the attempt failed (or its outcome is harmless).  */
void __attribute__ ((format (printf, 3, 4))) result (bool blocked, const char *name, const char *fmt, ...);
/* "EPERM" style name of errno after a failed call, "succeeded" otherwise.  */
const char *outcome (int r);
int write_file (const char *path, const char *data);
ssize_t read_file (const char *path, char *buf, size_t size);
/* Runs fn in a child; returns its exit status (0 = blocked).  */
int in_child (int (*fn) (void *), void *arg);
/* In a child: a nested user namespace with new mount (+ extra) namespaces.  */
int enter_nested (int extra);
/* Whether the host canary can be opened relative to dirfd.  */
bool canary_reachable_from (int dirfd);

void group_fs (void);
void group_runtime (void);
void kernel_settings (void);
void cgroup_attempts (void);
void dev_attempts (void);
void module_attempts (void);
void mode_crash (void);
void mode_exe_race (int seconds);

void mount_attempts (void);
void group_ns (void);
void proc_attempts (void);
void net_attempts (void);
void link_attempts (void);
void mode_kill_all (void);
void mode_fork_bomb (long limit);
void mode_balloon (long mb);
void mode_tty_inject (void);

#endif
