/* The OCI runtime configuration (config.json, runtime-spec 1.1) as C structs.
   The parser validates types, ranges and required fields and reports errors
   naming the JSON field ("process.user.uid: expected an integer").  What
   belongs to another module's domain (capability names, seccomp actions,
   cgroup values) is kept as written and validated by that module before the
   container is created, so every error still surfaces before any fork.  */
#ifndef SB_SPEC_H
#define SB_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* GNU C predefines `linux` as 1; the spec's "linux" object keeps its name.  */
#undef linux

/* Largest config.json accepted.  */
#define SB_SPEC_MAX_SIZE (16u * 1024 * 1024)

typedef struct sb_kv
{
  char *key;
  char *value;
} sb_kv;

typedef struct sb_idmap
{
  uint32_t container_id;
  uint32_t host_id;
  uint32_t size;
} sb_idmap;

typedef struct sb_rlimit
{
  char *type; /* "RLIMIT_NOFILE" */
  uint64_t hard;
  uint64_t soft;
} sb_rlimit;

typedef struct sb_caps
{
  /* NULL-terminated capability names ("CAP_CHOWN"); NULL when absent.  */
  char **bounding, **effective, **inheritable, **permitted, **ambient;
} sb_caps;

typedef struct sb_process
{
  bool terminal;
  bool has_console_size;
  uint32_t console_height, console_width;
  uint32_t uid, gid;
  bool has_umask;
  uint32_t umask;
  uint32_t *additional_gids;
  size_t n_additional_gids;
  char **args; /* NULL-terminated, at least one element */
  char **env;  /* NULL-terminated, may be NULL */
  char *cwd;   /* absolute */
  bool has_caps;
  sb_caps caps;
  sb_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  bool has_oom_score_adj;
  int oom_score_adj;
  char *apparmor_profile;
  char *selinux_label;
} sb_process;

typedef struct sb_mount
{
  char *destination; /* absolute path inside the container */
  char *type;        /* may be NULL (bind mounts) */
  char *source;      /* may be NULL */
  char **options;    /* NULL-terminated as written, may be NULL */
  sb_idmap *uid_mappings, *gid_mappings;
  size_t n_uid_mappings, n_gid_mappings;
  /* Derived from options by the parser.  */
  unsigned long flags;       /* MS_* to set */
  unsigned long clear_flags; /* MS_* explicitly cleared ("rw", "suid", ...) */
  unsigned long propagation; /* MS_SHARED|MS_PRIVATE|... possibly with MS_REC */
  bool bind;                 /* "bind" or "rbind" */
  bool recursive;            /* "rbind", "rro" ... */
  bool idmap;                /* "idmap" or "ridmap" */
  bool tmpcopyup;
  char *data; /* the options that are not flags, comma-joined, or NULL */
} sb_mount;

typedef struct sb_hook
{
  char *path;
  char **args;
  char **env;
  bool has_timeout;
  int timeout; /* seconds, > 0 */
} sb_hook;

enum sb_hook_kind
{
  SB_HOOK_PRESTART,
  SB_HOOK_CREATE_RUNTIME,
  SB_HOOK_CREATE_CONTAINER,
  SB_HOOK_START_CONTAINER,
  SB_HOOK_POSTSTART,
  SB_HOOK_POSTSTOP,
  SB_HOOK_KINDS
};

enum sb_ns_kind
{
  SB_NS_PID,
  SB_NS_NETWORK,
  SB_NS_MOUNT,
  SB_NS_IPC,
  SB_NS_UTS,
  SB_NS_USER,
  SB_NS_CGROUP,
  SB_NS_TIME,
  SB_NS_KINDS
};

typedef struct sb_namespace
{
  bool present; /* listed in linux.namespaces */
  char *path;   /* join this one instead of creating, or NULL */
} sb_namespace;

typedef struct sb_device
{
  char type; /* 'c', 'b', 'u', 'p' */
  char *path;
  int64_t major, minor;
  bool has_file_mode;
  uint32_t file_mode;
  bool has_uid, has_gid;
  uint32_t uid, gid;
} sb_device;

typedef struct sb_device_rule
{
  bool allow;
  char type;            /* 'a', 'c', 'b' */
  int64_t major, minor; /* -1 is "any" */
  char *access;         /* subset of "rwm" */
} sb_device_rule;

typedef struct sb_weight_device
{
  int64_t major, minor;
  bool has_weight, has_leaf_weight;
  uint16_t weight, leaf_weight;
} sb_weight_device;

typedef struct sb_throttle_device
{
  int64_t major, minor;
  uint64_t rate;
} sb_throttle_device;

/* An optional integer: set says whether the spec gave it.  */
typedef struct sb_opt_i64
{
  bool set;
  int64_t v;
} sb_opt_i64;

typedef struct sb_resources
{
  struct
  {
    sb_opt_i64 limit, reservation, swap, kernel, kernel_tcp, swappiness;
    bool disable_oom_killer, use_hierarchy;
  } memory;
  struct
  {
    sb_opt_i64 shares, quota, period, realtime_runtime, realtime_period, idle, burst;
    char *cpus, *mems;
  } cpu;
  struct
  {
    sb_opt_i64 limit;
  } pids;
  struct
  {
    sb_opt_i64 weight, leaf_weight;
    sb_weight_device *weight_devices;
    size_t n_weight_devices;
    sb_throttle_device *throttle_read_bps, *throttle_write_bps, *throttle_read_iops, *throttle_write_iops;
    size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops, n_throttle_write_iops;
  } blkio;
  struct sb_hugepage
  {
    char *page_size; /* "2MB" */
    uint64_t limit;
  } * hugepage_limits;
  size_t n_hugepage_limits;
  sb_device_rule *devices;
  size_t n_devices;
  sb_kv *unified;
  size_t n_unified;
} sb_resources;

typedef struct sb_seccomp_arg
{
  uint32_t index;
  uint64_t value, value_two;
  char *op; /* "SCMP_CMP_EQ" ... */
} sb_seccomp_arg;

typedef struct sb_seccomp_rule
{
  char **names; /* NULL-terminated */
  char *action; /* "SCMP_ACT_ERRNO" ... */
  bool has_errno_ret;
  uint32_t errno_ret;
  sb_seccomp_arg *args;
  size_t n_args;
} sb_seccomp_rule;

typedef struct sb_seccomp
{
  char *default_action;
  bool has_default_errno_ret;
  uint32_t default_errno_ret;
  char **architectures; /* "SCMP_ARCH_X86_64" ... */
  char **flags;         /* "SECCOMP_FILTER_FLAG_LOG" ... */
  char *listener_path;
  char *listener_metadata;
  sb_seccomp_rule *syscalls;
  size_t n_syscalls;
} sb_seccomp;

typedef struct sb_linux
{
  sb_namespace namespaces[SB_NS_KINDS];
  sb_idmap *uid_mappings, *gid_mappings;
  size_t n_uid_mappings, n_gid_mappings;
  sb_device *devices;
  size_t n_devices;
  char *cgroups_path;
  sb_resources *resources; /* NULL when absent */
  sb_kv *sysctl;
  size_t n_sysctl;
  sb_seccomp *seccomp;              /* NULL when absent */
  unsigned long rootfs_propagation; /* MS_* or 0 */
  char **masked_paths;
  char **readonly_paths;
  char *mount_label;
  bool has_personality;
  char *personality_domain; /* "LINUX" or "LINUX32" */
  bool has_time_offsets;
  struct
  {
    int64_t secs;
    uint32_t nanosecs;
  } time_offsets[2]; /* [0] monotonic, [1] boottime */
} sb_linux;

typedef struct sb_spec
{
  char *oci_version;
  char *root_path; /* as written: absolute or relative to the bundle */
  bool root_readonly;
  char *hostname;
  char *domainname;
  sb_process *process; /* NULL when absent (allowed only for create-time checks) */
  sb_mount *mounts;
  size_t n_mounts;
  sb_hook *hooks[SB_HOOK_KINDS];
  size_t n_hooks[SB_HOOK_KINDS];
  sb_kv *annotations;
  size_t n_annotations;
  sb_linux linux;
} sb_spec;

/* Parses and validates config.json text.  */
int sb_spec_parse (const char *json, size_t len, sb_spec **out, sb_err **err);
/* Reads BUNDLE/config.json.  */
int sb_spec_load (const char *bundle, sb_spec **out, sb_err **err);
/* Parses a process object alone (exec -p process.json).  */
int sb_process_parse (const char *json, size_t len, sb_process **out, sb_err **err);
void sb_spec_free (sb_spec *spec);
void sb_process_free (sb_process *p);
void sb_spec_freep (sb_spec **spec);
void sb_process_freep (sb_process **p);
#define _cleanup_spec_ __attribute__ ((cleanup (sb_spec_freep)))
#define _cleanup_process_ __attribute__ ((cleanup (sb_process_freep)))

const char *sb_spec_annotation (const sb_spec *spec, const char *key);
const char *sb_ns_name (enum sb_ns_kind kind);          /* "pid", "network", ... as in the spec */
int sb_ns_clone_flag (enum sb_ns_kind kind);            /* CLONE_NEWPID ... */
const char *sb_ns_proc_name (enum sb_ns_kind kind);     /* "pid", "net", ... as in /proc/PID/ns */
const char *sb_hook_kind_name (enum sb_hook_kind kind); /* "prestart", "createRuntime", ... */

/* The masked and read-only paths runc's default spec lists (NULL-ended):
   what every container should hide.  */
extern const char *const sb_default_masked_paths[];
extern const char *const sb_default_readonly_paths[];

/* The default spec that `spec` writes (runc's, with a terminal and sh).
   rootless: the variant with a user namespace and no cgroup limits.  */
char *sb_spec_default_json (bool rootless);

#endif
