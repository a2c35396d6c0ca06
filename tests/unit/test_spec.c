/* config.json parsing: the default spec round-trips, every bad input is
   refused with an error naming the field, mount options translate like
   runc's.  */
#include "spec.h"
#include "util.h"
#include "tap.h"

#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

/* The smallest valid config; cases append fields after it.  */
#define BASE "\"ociVersion\":\"1.1.0\",\"root\":{\"path\":\"rootfs\"}"
#define WITH(fields) "{" BASE "," fields "}"
#define PROC(fields) WITH ("\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"," fields "}")
#define LINUX(fields) WITH ("\"linux\":{" fields "}")

struct bad_case
{
  const char *name;
  const char *json;
  const char *want; /* substring of the error */
};

static const struct bad_case bad_cases[] = {
  { "invalid JSON", "{\"ociVersion\": \"1.1.0\",\n  \"root\": }",
    "config.json: invalid JSON at line 2, column 11" },
  { "truncated JSON", "{\"ociVersion\": \"1.", "invalid JSON at line 1" },
  { "trailing text", "{" BASE "} x", "invalid JSON at line 1" },
  { "trailing comma", "{" BASE ",}", "invalid JSON" },
  { "empty input", "", "invalid JSON" },
  { "top-level array", "[]", "expected a JSON object, got an array" },
  { "root is a string", "{\"ociVersion\":\"1.1.0\",\"root\":\"rootfs\"}",
    "root: expected an object, got a string" },
  { "terminal is a string", PROC ("\"terminal\":\"yes\""),
    "process.terminal: expected a boolean, got a string" },
  { "mounts is an object", WITH ("\"mounts\":{}"), "mounts: expected an array, got an object" },
  { "mount is a number", WITH ("\"mounts\":[1]"), "mounts[0]: expected an object, got an integer" },
  { "env is not strings", PROC ("\"env\":[\"A=1\",2]"), "process.env[1]: expected a string, got an integer" },
  { "linux is an array", WITH ("\"linux\":[]"), "linux: expected an object, got an array" },
  { "missing ociVersion", "{\"root\":{\"path\":\"r\"}}", "ociVersion: required field is missing" },
  { "ociVersion 2", "{\"ociVersion\":\"2.0.0\",\"root\":{\"path\":\"r\"}}",
    "ociVersion: unsupported version \"2.0.0\"" },
  { "missing root", "{\"ociVersion\":\"1.1.0\"}", "config.json: root: required field is missing" },
  { "missing root.path", "{\"ociVersion\":\"1.1.0\",\"root\":{}}", "root.path: required field is missing" },
  { "relative mount destination", WITH ("\"mounts\":[{\"destination\":\"/a\"},{\"destination\":\"tmp\"}]"),
    "mounts[1].destination: must be an absolute path, got \"tmp\"" },
  { "relative cwd", WITH ("\"process\":{\"args\":[\"sh\"],\"cwd\":\"tmp\"}"),
    "process.cwd: must be an absolute path, got \"tmp\"" },
  { "missing cwd", WITH ("\"process\":{\"args\":[\"sh\"]}"), "process.cwd: required field is missing" },
  { "empty args", WITH ("\"process\":{\"args\":[],\"cwd\":\"/\"}"),
    "process.args: must contain at least one element" },
  { "missing args", WITH ("\"process\":{\"cwd\":\"/\"}"), "process.args: required field is missing" },
  { "unknown namespace",
    LINUX ("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"foo\"}]"),
    "config.json: linux.namespaces[2].type: unknown namespace type \"foo\"" },
  { "duplicate namespace", LINUX ("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]"),
    "linux.namespaces[1].type: duplicate namespace type \"pid\"" },
  { "proc name as namespace type", LINUX ("\"namespaces\":[{\"type\":\"net\"}]"),
    "linux.namespaces[0].type: unknown namespace type \"net\"" },
  { "relative namespace path", LINUX ("\"namespaces\":[{\"type\":\"network\",\"path\":\"x\"}]"),
    "linux.namespaces[0].path: must be an absolute path, got \"x\"" },
  { "uid 2^32", PROC ("\"user\":{\"uid\":4294967296}"),
    "process.user.uid: expected an integer in 0..4294967295, got 4294967296" },
  { "uid -1", PROC ("\"user\":{\"uid\":-1}"),
    "process.user.uid: expected an integer in 0..4294967295, got -1" },
  { "uid fractional", PROC ("\"user\":{\"uid\":1.5}"),
    "process.user.uid: expected an integer in 0..4294967295, got 1.5" },
  { "gid string", PROC ("\"user\":{\"gid\":\"0\"}"), "process.user.gid: expected an integer" },
  { "additional gid", PROC ("\"user\":{\"additionalGids\":[1,-2]}"),
    "process.user.additionalGids[1]: expected" },
  { "mapping overflow", LINUX ("\"uidMappings\":[{\"containerID\":4294967295,\"hostID\":0,\"size\":2}]"),
    "linux.uidMappings[0]: containerID 4294967295 + size 2 overflows" },
  { "host mapping overflow",
    LINUX ("\"gidMappings\":[{\"containerID\":0,\"hostID\":4294967000,\"size\":65536}]"),
    "linux.gidMappings[0]: hostID 4294967000 + size 65536 overflows" },
  { "mapping size 0", LINUX ("\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":0}]"),
    "linux.uidMappings[0].size: must be greater than 0" },
  { "mapping without size", LINUX ("\"uidMappings\":[{\"containerID\":0,\"hostID\":0}]"),
    "linux.uidMappings[0].size: required field is missing" },
  { "negative rlimit", PROC ("\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":-1,\"soft\":1}]"),
    "process.rlimits[0].hard: expected an integer in 0..18446744073709551615, got -1" },
  { "rlimit beyond 2^64",
    PROC ("\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":18446744073709551616,\"soft\":1}]"),
    "integer out of the 64-bit range" },
  { "rlimit soft above hard", PROC ("\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1,\"soft\":2}]"),
    "process.rlimits[0]: soft limit 2 is greater than hard limit 1" },
  { "duplicate rlimit",
    PROC (
        "\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"hard\":1,\"soft\":1},{\"type\":\"RLIMIT_CORE\",\"hard\":1,"
        "\"soft\":1}]"),
    "process.rlimits[1].type: duplicate rlimit \"RLIMIT_CORE\"" },
  { "oomScoreAdj", PROC ("\"oomScoreAdj\":1001"),
    "process.oomScoreAdj: expected an integer in -1000..1000, got 1001" },
  { "console size", PROC ("\"consoleSize\":{\"height\":1,\"width\":4294967296}"),
    "process.consoleSize.width" },
  { "bad rootfsPropagation", LINUX ("\"rootfsPropagation\":\"sideways\""),
    "linux.rootfsPropagation: unknown propagation \"sideways\"" },
  { "bad personality domain", LINUX ("\"personality\":{\"domain\":\"LINUX64\"}"),
    "linux.personality.domain: unknown domain \"LINUX64\"" },
  { "nanosecs out of range", LINUX ("\"timeOffsets\":{\"monotonic\":{\"secs\":1,\"nanosecs\":1000000000}}"),
    "linux.timeOffsets.monotonic.nanosecs: expected an integer in 0..999999999, got 1000000000" },
  { "unknown clock", LINUX ("\"timeOffsets\":{\"realtime\":{\"secs\":1}}"),
    "linux.timeOffsets.realtime: unknown clock" },
  { "non-string annotation", WITH ("\"annotations\":{\"a\":\"b\",\"foo\":1}"),
    "annotations.foo: expected a string, got an integer" },
  { "relative hook path", WITH ("\"hooks\":{\"prestart\":[{\"path\":\"bin/true\"}]}"),
    "hooks.prestart[0].path: must be an absolute path, got \"bin/true\"" },
  { "hook timeout 0", WITH ("\"hooks\":{\"poststop\":[{\"path\":\"/bin/true\",\"timeout\":0}]}"),
    "hooks.poststop[0].timeout: expected an integer in 1..2147483647, got 0" },
  { "hook timeout huge", WITH ("\"hooks\":{\"poststop\":[{\"path\":\"/bin/true\",\"timeout\":2147483648}]}"),
    "hooks.poststop[0].timeout" },
  { "NUL in a string", WITH ("\"hostname\":\"a\\u0000b\""), "hostname: contains a NUL character" },
  { "device type", LINUX ("\"devices\":[{\"type\":\"x\",\"path\":\"/dev/x\"}]"),
    "linux.devices[0].type: unknown device type \"x\"" },
  { "device rule access", LINUX ("\"resources\":{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}"),
    "linux.resources.devices[0].access: invalid access \"rwx\"" },
  { "seccomp arg index",
    LINUX ("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
           "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}"),
    "linux.seccomp.syscalls[0].args[0].index: expected an integer in 0..5, got 6" },
  { "seccomp without names",
    LINUX ("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[],"
           "\"action\":\"SCMP_ACT_ERRNO\"}]}"),
    "linux.seccomp.syscalls[0].names: must contain at least one syscall name" },
  { "mount mapping alone",
    WITH ("\"mounts\":[{\"destination\":\"/"
          "a\",\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]}]"),
    "mounts[0]: uidMappings and gidMappings must be given together" },
  { "relative masked path", LINUX ("\"maskedPaths\":[\"/proc/kcore\",\"proc/keys\"]"),
    "linux.maskedPaths[1]: must be an absolute path" },
  { "memory limit string", LINUX ("\"resources\":{\"memory\":{\"limit\":\"1G\"}}"),
    "linux.resources.memory.limit: expected an integer" },
};

static void
test_bad_cases (void)
{
  for (size_t i = 0; i < sizeof (bad_cases) / sizeof (bad_cases[0]); i++)
    {
      const struct bad_case *c = &bad_cases[i];
      _cleanup_err_ sb_err *err = NULL;
      _cleanup_spec_ sb_spec *spec = NULL;
      int r = sb_spec_parse (c->json, strlen (c->json), &spec, &err);

      tap_ok (r < 0 && spec == NULL && err != NULL, "%s: refused", c->name);
      if (err != NULL && strstr (err->msg, c->want) == NULL)
        tap_is_str (err->msg, c->want, "%s: error names the field", c->name);
      else
        tap_ok (err != NULL, "%s: error contains \"%s\"", c->name, c->want);
    }
}

static void
test_too_many_mappings (void)
{
  _cleanup_free_ char *json = NULL;
  _cleanup_free_ char *maps = sb_xstrdup ("");
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_spec_ sb_spec *spec = NULL;

  for (int i = 0; i < 341; i++)
    {
      char *next = sb_xasprintf ("%s%s{\"containerID\":%d,\"hostID\":%d,\"size\":1}", maps, i ? "," : "", i,
                                 i + 1000);
      free (maps);
      maps = next;
    }
  json = sb_xasprintf (LINUX ("\"uidMappings\":[%s]"), maps);
  tap_ok (sb_spec_parse (json, strlen (json), &spec, &err) < 0, "341 mappings refused");
  tap_ok (err && strstr (err->msg, "linux.uidMappings: at most 340 entries are allowed, got 341"), "%s",
          err ? err->msg : "no error");
}

static void
test_long_lists (void)
{
  _cleanup_free_ char *rlimits = sb_xstrdup ("");
  _cleanup_free_ char *json = NULL;
  _cleanup_free_ char *options = sb_xmalloc0 (200000 * 4 + 1);
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_spec_ sb_spec *spec = NULL;

  for (int i = 0; i < 65; i++)
    {
      char *next = sb_xasprintf ("%s%s{\"type\":\"R%d\",\"hard\":1,\"soft\":1}", rlimits, i ? "," : "", i);
      free (rlimits);
      rlimits = next;
    }
  json = sb_xasprintf (PROC ("\"rlimits\":[%s]"), rlimits);
  tap_ok (sb_spec_parse (json, strlen (json), &spec, &err) < 0 && err
              && strstr (err->msg, "process.rlimits: at most 64 entries are allowed, got 65"),
          "65 rlimits refused: %s", err ? err->msg : "no error");
  sb_err_free (&err);
  free (json);
  /* 200000 data options: joined in linear time.  */
  for (size_t i = 0; i < 200000; i++)
    memcpy (options + i * 4, i ? ",\"x\"" : "\"x\" ", 4);
  json = sb_xasprintf (WITH ("\"mounts\":[{\"destination\":\"/m\",\"options\":[%s]}]"), options);
  tap_ok (sb_spec_parse (json, strlen (json), &spec, &err) == 0
              && strlen (spec->mounts[0].data) == 2 * 200000 - 1,
          "200000 mount options joined into data");
}

static void
test_too_large (void)
{
  size_t len = SB_SPEC_MAX_SIZE + 1;
  _cleanup_free_ char *json = sb_xmalloc0 (len);
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_spec_ sb_spec *spec = NULL;

  memset (json, ' ', len);
  json[0] = '{';
  json[len - 1] = '}';
  tap_ok (sb_spec_parse (json, len, &spec, &err) < 0 && err && strstr (err->msg, "larger than"),
          "config.json over SB_SPEC_MAX_SIZE refused");
}

static void
test_default_roundtrip (void)
{
  _cleanup_free_ char *json = sb_spec_default_json (false);
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_spec_ sb_spec *spec = NULL;
  const sb_linux *l;

  tap_ok (sb_spec_parse (json, strlen (json), &spec, &err) == 0, "default spec parses%s%s", err ? ": " : "",
          err ? err->msg : "");
  if (spec == NULL)
    return;
  l = &spec->linux;
  tap_is_str (spec->oci_version, "1.1.0", "default ociVersion");
  tap_is_str (spec->root_path, "rootfs", "default root.path");
  tap_ok (spec->root_readonly, "default root is readonly");
  tap_is_str (spec->hostname, "sudobox", "default hostname");
  tap_ok (spec->process && spec->process->terminal, "default process has a terminal");
  tap_is_str (spec->process->args[0], "sh", "default args");
  tap_is_str (spec->process->cwd, "/", "default cwd");
  tap_is_int ((long long)sb_strv_len (spec->process->env), 2, "default env entries");
  tap_is_str (spec->process->env[1], "TERM=xterm", "default TERM");
  tap_is_str (spec->process->caps.bounding[2], "CAP_NET_BIND_SERVICE", "default bounding caps");
  tap_ok (spec->process->caps.inheritable == NULL, "no inheritable caps by default");
  tap_is_int ((long long)spec->process->n_rlimits, 1, "one rlimit");
  tap_is_int ((long long)spec->process->rlimits[0].hard, 1024, "NOFILE hard 1024");
  tap_ok (spec->process->no_new_privileges, "noNewPrivileges");
  tap_is_int ((long long)spec->n_mounts, 7, "seven default mounts");
  tap_is_str (spec->mounts[1].destination, "/dev", "second mount is /dev");
  tap_is_str (spec->mounts[1].data, "mode=755,size=65536k", "/dev data");
  tap_ok (spec->mounts[1].flags == (MS_NOSUID | MS_STRICTATIME), "/dev flags");
  tap_ok (spec->mounts[5].flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY), "/sys flags");
  for (int k = 0; k < SB_NS_KINDS; k++)
    tap_ok (l->namespaces[k].present == (k != SB_NS_USER && k != SB_NS_TIME), "namespace %s %s",
            sb_ns_name (k), l->namespaces[k].present ? "present" : "absent");
  tap_ok (sb_strv_len (l->masked_paths) >= 10 && strcmp (l->masked_paths[0], "/proc/acpi") == 0,
          "masked paths");
  tap_is_int ((long long)sb_strv_len (l->readonly_paths), 5, "readonly paths");
  tap_ok (l->resources && l->resources->n_devices == 1 && !l->resources->devices[0].allow
              && l->resources->devices[0].type == 'a' && strcmp (l->resources->devices[0].access, "rwm") == 0,
          "device cgroup denies everything");
}

static void
test_default_rootless (void)
{
  _cleanup_free_ char *json = sb_spec_default_json (true);
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_spec_ sb_spec *spec = NULL;

  tap_ok (sb_spec_parse (json, strlen (json), &spec, &err) == 0, "rootless default spec parses");
  if (spec == NULL)
    return;
  tap_ok (spec->linux.namespaces[SB_NS_USER].present, "rootless: user namespace");
  tap_ok (!spec->linux.namespaces[SB_NS_NETWORK].present, "rootless: no network namespace");
  tap_ok (spec->linux.resources == NULL, "rootless: no cgroup resources");
  tap_ok (spec->linux.n_uid_mappings == 1 && spec->linux.uid_mappings[0].host_id == geteuid ()
              && spec->linux.uid_mappings[0].size == 1,
          "rootless: uid mapping of the current user");
  tap_ok (spec->linux.n_gid_mappings == 1 && spec->linux.gid_mappings[0].host_id == getegid (),
          "rootless: gid mapping of the current group");
  tap_ok (spec->mounts[5].bind && spec->mounts[5].recursive, "rootless: /sys is an rbind");
  tap_ok (strstr (spec->mounts[2].data, "gid=") == NULL, "rootless: devpts without gid=");
}

struct mount_case
{
  const char *options; /* JSON array body */
  unsigned long flags, clear_flags, propagation;
  bool bind, recursive, idmap, tmpcopyup;
  const char *data;
};

static const struct mount_case mount_cases[] = {
  { "\"ro\",\"nosuid\",\"nodev\",\"rbind\",\"rprivate\",\"idmap\",\"mode=755\"",
    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_BIND | MS_REC, 0, MS_PRIVATE | MS_REC, true, true, true, false,
    "mode=755" },
  { "\"rw\",\"suid\",\"dev\",\"exec\"", 0, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, false, false,
    false, false, NULL },
  { "\"ro\",\"rw\"", 0, MS_RDONLY, 0, false, false, false, false, NULL },
  { "\"bind\",\"shared\",\"noexec\",\"relatime\"", MS_BIND | MS_NOEXEC | MS_RELATIME, 0, MS_SHARED, true,
    false, false, false, NULL },
  { "\"ridmap\",\"rslave\"", 0, 0, MS_SLAVE | MS_REC, false, true, true, false, NULL },
  { "\"tmpcopyup\",\"size=64k\",\"mode=1777\",\"runbindable\"", 0, 0, MS_UNBINDABLE | MS_REC, false, false,
    false, true, "size=64k,mode=1777" },
  { "\"rro\",\"bind\"", MS_RDONLY | MS_BIND, 0, 0, true, true, false, false, NULL },
  { "\"sync\",\"dirsync\",\"remount\",\"mand\",\"noatime\",\"nodiratime\",\"strictatime\"",
    MS_SYNCHRONOUS | MS_DIRSYNC | MS_REMOUNT | MS_MANDLOCK | MS_NOATIME | MS_NODIRATIME | MS_STRICTATIME, 0,
    0, false, false, false, false, NULL },
  { "\"async\",\"nomand\",\"atime\",\"diratime\",\"norelatime\",\"nostrictatime\"", 0,
    MS_SYNCHRONOUS | MS_MANDLOCK | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME, 0, false, false,
    false, false, NULL },
  { "\"unbindable\",\"private\",\"context=\\\"x,y\\\"\"", 0, 0, MS_PRIVATE, false, false, false, false,
    "context=\"x,y\"" },
};

static void
test_mount_options (void)
{
  for (size_t i = 0; i < sizeof (mount_cases) / sizeof (mount_cases[0]); i++)
    {
      const struct mount_case *c = &mount_cases[i];
      _cleanup_free_ char *json = sb_xasprintf (
          WITH ("\"mounts\":[{\"destination\":\"/m\",\"type\":\"tmpfs\",\"options\":[%s]}]"), c->options);
      _cleanup_err_ sb_err *err = NULL;
      _cleanup_spec_ sb_spec *spec = NULL;
      const sb_mount *m;

      if (sb_spec_parse (json, strlen (json), &spec, &err) < 0)
        {
          tap_ok (false, "options [%s]: %s", c->options, err->msg);
          continue;
        }
      m = &spec->mounts[0];
      tap_is_int ((long long)m->flags, (long long)c->flags, "[%s] flags", c->options);
      tap_is_int ((long long)m->clear_flags, (long long)c->clear_flags, "[%s] clear_flags", c->options);
      tap_is_int ((long long)m->propagation, (long long)c->propagation, "[%s] propagation", c->options);
      tap_ok (m->bind == c->bind && m->recursive == c->recursive && m->idmap == c->idmap
                  && m->tmpcopyup == c->tmpcopyup,
              "[%s] bind/recursive/idmap/tmpcopyup", c->options);
      if (c->data)
        tap_is_str (m->data, c->data, "[%s] data", c->options);
      else
        tap_ok (m->data == NULL, "[%s] no data", c->options);
    }
}

static const char full_config[]
    = "{"
      "\"ociVersion\": \"1.1.0\","
      "\"root\": {\"path\": \"/var/rootfs\"},"
      "\"domainname\": \"example.org\","
      "\"process\": {\"args\": [\"/bin/true\", \"x\"], \"cwd\": \"/tmp\", \"consoleSize\": {\"height\": 24, "
      "\"width\": 80},"
      "  \"user\": {\"uid\": 4294967295, \"gid\": 5, \"umask\": 18, \"additionalGids\": [10, 20]},"
      "  \"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"hard\": 18446744073709551615, \"soft\": "
      "18446744073709551615}],"
      "  \"oomScoreAdj\": -1000, \"apparmorProfile\": \"p\", \"selinuxLabel\": \"l\","
      "  \"capabilities\": {\"ambient\": [\"CAP_CHOWN\"], \"inheritable\": []}},"
      "\"mounts\": [{\"destination\": \"/data\", \"source\": \"/srv\", \"options\": [\"bind\"],"
      "  \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],"
      "  \"gidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]}],"
      "\"hooks\": {\"createRuntime\": [{\"path\": \"/bin/hook\", \"args\": [\"hook\", \"a\"], \"env\": "
      "[\"X=1\"],"
      "  \"timeout\": 5}], \"poststop\": [{\"path\": \"/bin/stop\"}]},"
      "\"annotations\": {\"org.example.key\": \"value\", \"empty\": \"\"},"
      "\"linux\": {"
      "  \"namespaces\": [{\"type\": \"user\"}, {\"type\": \"time\"}, {\"type\": \"network\", \"path\": "
      "\"/run/netns/x\"}],"
      "  \"uidMappings\": [{\"containerID\": 0, \"hostID\": 4294901760, \"size\": 65536}],"
      "  \"devices\": [{\"type\": \"c\", \"path\": \"/dev/fuse\", \"major\": 10, \"minor\": 229, "
      "\"fileMode\": 438,"
      "    \"uid\": 0}, {\"type\": \"p\", \"path\": \"/dev/fifo\"}],"
      "  \"cgroupsPath\": \"/sudobox/x\","
      "  \"resources\": {\"memory\": {\"limit\": 1073741824, \"swap\": -1, \"swappiness\": "
      "18446744073709551615},"
      "    \"cpu\": {\"shares\": 512, \"quota\": -1, \"cpus\": \"0-1\"}, \"pids\": {\"limit\": 100},"
      "    \"blockIO\": {\"weight\": 500, \"weightDevice\": [{\"major\": 8, \"minor\": 0, \"weight\": 100}],"
      "      \"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 18446744073709551615}]},"
      "    \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 0}],"
      "    \"devices\": [{\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"rw\"}],"
      "    \"unified\": {\"memory.high\": \"max\"}},"
      "  \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"},"
      "  \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,"
      "    \"architectures\": [\"SCMP_ARCH_X86_64\"], \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"],"
      "    \"listenerPath\": \"/run/l.sock\", \"listenerMetadata\": \"m\","
      "    \"syscalls\": [{\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\","
      "      \"args\": [{\"index\": 0, \"value\": 18446744073709551615, \"valueTwo\": 1, \"op\": "
      "\"SCMP_CMP_MASKED_EQ\"}]}]},"
      "  \"rootfsPropagation\": \"rslave\","
      "  \"maskedPaths\": [\"/proc/kcore\"], \"readonlyPaths\": [\"/proc/sys\"],"
      "  \"mountLabel\": \"ml\","
      "  \"personality\": {\"domain\": \"LINUX32\", \"flags\": []},"
      "  \"timeOffsets\": {\"monotonic\": {\"secs\": -5, \"nanosecs\": 999999999}, \"boottime\": {\"secs\": "
      "7}},"
      "  \"intelRdt\": {\"closID\": \"ignored\"}"
      "}}";

static void
test_full_config (void)
{
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_spec_ sb_spec *spec = NULL;
  const sb_process *p;
  const sb_linux *l;
  const sb_resources *r;
  const sb_seccomp *s;

  tap_ok (sb_spec_parse (full_config, strlen (full_config), &spec, &err) == 0, "full config parses%s%s",
          err ? ": " : "", err ? err->msg : "");
  if (spec == NULL)
    return;
  p = spec->process;
  l = &spec->linux;
  r = l->resources;
  s = l->seccomp;
  tap_is_str (spec->domainname, "example.org", "domainname");
  tap_ok (p->has_console_size && p->console_height == 24 && p->console_width == 80, "consoleSize");
  tap_ok (p->uid == UINT32_MAX && p->gid == 5 && p->has_umask && p->umask == 18, "user");
  tap_ok (p->n_additional_gids == 2 && p->additional_gids[1] == 20, "additionalGids");
  tap_ok (p->rlimits[0].hard == UINT64_MAX && p->rlimits[0].soft == UINT64_MAX, "rlimit of 2^64-1 is fine");
  tap_ok (p->has_oom_score_adj && p->oom_score_adj == -1000, "oomScoreAdj");
  tap_ok (p->has_caps && p->caps.ambient && p->caps.inheritable && p->caps.inheritable[0] == NULL
              && p->caps.bounding == NULL,
          "capabilities: given, empty and absent sets");
  tap_ok (spec->mounts[0].n_uid_mappings == 1 && spec->mounts[0].gid_mappings[0].host_id == 100000,
          "mount id mappings");
  tap_ok (spec->n_hooks[SB_HOOK_CREATE_RUNTIME] == 1 && spec->hooks[SB_HOOK_CREATE_RUNTIME][0].has_timeout
              && spec->hooks[SB_HOOK_CREATE_RUNTIME][0].timeout == 5,
          "createRuntime hook");
  tap_ok (spec->n_hooks[SB_HOOK_POSTSTOP] == 1 && !spec->hooks[SB_HOOK_POSTSTOP][0].has_timeout,
          "poststop hook");
  tap_ok (spec->n_hooks[SB_HOOK_PRESTART] == 0, "no prestart hooks");
  tap_is_str (sb_spec_annotation (spec, "org.example.key"), "value", "annotation lookup");
  tap_is_str (sb_spec_annotation (spec, "empty"), "", "empty annotation");
  tap_ok (sb_spec_annotation (spec, "absent") == NULL, "absent annotation");
  tap_ok (l->namespaces[SB_NS_TIME].present && l->namespaces[SB_NS_USER].path == NULL,
          "time and user namespaces");
  tap_is_str (l->namespaces[SB_NS_NETWORK].path, "/run/netns/x", "namespace path");
  tap_ok (l->uid_mappings[0].host_id == 4294901760u, "mapping ending exactly at 2^32");
  tap_ok (l->n_devices == 2 && l->devices[0].type == 'c' && l->devices[0].minor == 229
              && l->devices[0].has_file_mode && l->devices[0].file_mode == 0666 && l->devices[0].has_uid
              && !l->devices[0].has_gid,
          "character device");
  tap_ok (l->devices[1].type == 'p', "fifo without device numbers");
  tap_ok (r->memory.limit.set && r->memory.limit.v == 1073741824 && r->memory.swap.v == -1
              && !r->memory.swappiness.set && !r->memory.reservation.set,
          "memory resources (swappiness 2^64-1 reads as unset)");
  tap_ok (r->cpu.shares.v == 512 && r->cpu.quota.v == -1 && strcmp (r->cpu.cpus, "0-1") == 0,
          "cpu resources");
  tap_ok (r->pids.limit.set && r->pids.limit.v == 100, "pids limit");
  tap_ok (r->blkio.weight.v == 500 && r->blkio.n_weight_devices == 1
              && r->blkio.weight_devices[0].weight == 100 && r->blkio.throttle_read_bps[0].rate == UINT64_MAX,
          "blockIO");
  tap_ok (r->n_hugepage_limits == 1 && strcmp (r->hugepage_limits[0].page_size, "2MB") == 0,
          "hugepage limits");
  tap_ok (r->n_devices == 1 && r->devices[0].allow && r->devices[0].major == 1
              && strcmp (r->devices[0].access, "rw") == 0,
          "device rule");
  tap_ok (r->n_unified == 1 && strcmp (r->unified[0].key, "memory.high") == 0, "unified");
  tap_ok (l->n_sysctl == 1 && strcmp (l->sysctl[0].value, "1") == 0, "sysctl");
  tap_ok (s->has_default_errno_ret && s->default_errno_ret == 38
              && strcmp (s->flags[0], "SECCOMP_FILTER_FLAG_LOG") == 0,
          "seccomp defaults");
  tap_ok (s->n_syscalls == 1 && strcmp (s->syscalls[0].names[1], "write") == 0
              && !s->syscalls[0].has_errno_ret && s->syscalls[0].args[0].value == UINT64_MAX
              && s->syscalls[0].args[0].value_two == 1,
          "seccomp rule");
  tap_is_str (s->listener_path, "/run/l.sock", "seccomp listener");
  tap_ok (l->rootfs_propagation == (MS_SLAVE | MS_REC), "rootfsPropagation rslave");
  tap_is_str (l->personality_domain, "LINUX32", "personality");
  tap_ok (l->has_time_offsets && l->time_offsets[0].secs == -5 && l->time_offsets[0].nanosecs == 999999999
              && l->time_offsets[1].secs == 7,
          "time offsets");
}

static void
test_process_parse (void)
{
  static const char good[] = "{\"args\":[\"ls\"],\"cwd\":\"/\",\"env\":[\"A=1\"],\"user\":{\"uid\":1000}}";
  static const char bad[] = "{\"args\":[\"ls\"],\"cwd\":\"here\"}";
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_process_ sb_process *p = NULL;

  tap_ok (sb_process_parse (good, strlen (good), &p, &err) == 0 && p->uid == 1000
              && strcmp (p->env[0], "A=1") == 0,
          "process.json parses");
  tap_ok (sb_process_parse (bad, strlen (bad), &p, &err) < 0, "process.json with a relative cwd refused");
  tap_ok (err && strstr (err->msg, "process.cwd: must be an absolute path"), "%s",
          err ? err->msg : "no error");
}

static void
test_load (void)
{
  char dir[] = "/tmp/test-spec-XXXXXX";
  _cleanup_free_ char *path = NULL;
  _cleanup_free_ char *missing = NULL;
  _cleanup_free_ char *json = sb_spec_default_json (false);
  _cleanup_err_ sb_err *err = NULL;
  _cleanup_spec_ sb_spec *spec = NULL;

  if (mkdtemp (dir) == NULL)
    {
      tap_ok (false, "mkdtemp");
      return;
    }
  missing = sb_xasprintf ("bundle %s: config.json: No such file or directory", dir);
  tap_ok (sb_spec_load (dir, &spec, &err) < 0 && err && strcmp (err->msg, missing) == 0,
          "missing config.json: %s", err ? err->msg : "no error");
  sb_err_free (&err);
  path = sb_xasprintf ("%s/config.json", dir);
  tap_ok (sb_write_file_atomic (path, json, strlen (json), 0644, &err) == 0, "write config.json");
  tap_ok (sb_spec_load (dir, &spec, &err) == 0 && spec && strcmp (spec->hostname, "sudobox") == 0,
          "bundle loads");
  sb_write_file_atomic (path, "{\"ociVersion\":\"1.1.0\"}", 22, 0644, NULL);
  sb_spec_freep (&spec);
  tap_ok (sb_spec_load (dir, &spec, &err) < 0 && err && strstr (err->msg, "config.json: root: required"),
          "%s", err ? err->msg : "no error");
  tap_ok (err && strncmp (err->msg, "bundle /tmp/", 12) == 0, "load errors name the bundle");
  sb_err_free (&err);
  unlink (path);
  rmdir (dir);
  tap_ok (sb_spec_load (dir, &spec, &err) < 0 && err && strstr (err->msg, "No such file or directory"),
          "missing bundle: %s", err ? err->msg : "no error");
}

static void
test_names (void)
{
  static const char *const spec_names[]
      = { "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time" };
  static const char *const proc_names[] = { "pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time" };
  static const int flags[] = { CLONE_NEWPID, CLONE_NEWNET,  CLONE_NEWNS,     CLONE_NEWIPC,
                               CLONE_NEWUTS, CLONE_NEWUSER, CLONE_NEWCGROUP, 0x80 };
  static const char *const hooks[]
      = { "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop" };

  for (int k = 0; k < SB_NS_KINDS; k++)
    {
      tap_is_str (sb_ns_name (k), spec_names[k], "sb_ns_name(%d)", k);
      tap_is_str (sb_ns_proc_name (k), proc_names[k], "sb_ns_proc_name(%d)", k);
      tap_is_int (sb_ns_clone_flag (k), flags[k], "sb_ns_clone_flag(%s)", spec_names[k]);
    }
  for (int k = 0; k < SB_HOOK_KINDS; k++)
    tap_is_str (sb_hook_kind_name (k), hooks[k], "sb_hook_kind_name(%d)", k);
}

int
main (void)
{
  test_default_roundtrip ();
  test_default_rootless ();
  test_bad_cases ();
  test_too_many_mappings ();
  test_long_lists ();
  test_too_large ();
  test_mount_options ();
  test_full_config ();
  test_process_parse ();
  test_load ();
  test_names ();
  return tap_done ();
}
