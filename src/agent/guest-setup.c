/* The guest machine's setup: what an init system and udev would do, kept to
   what a workspace needs.  */
#include "agent.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/random.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netif.h"
#include "util.h"

/* Modules sit in /modules as NN-name.ko, numbered in load order by the
   initramfs builder (dependencies first).  */
#define MODULES_DIR "/modules"

void
agent_log (const char *fmt, ...)
{
  char buf[512];
  va_list ap;
  int fd = open ("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
  int n = snprintf (buf, sizeof (buf), "sudobox-agent: ");

  va_start (ap, fmt);
  n += vsnprintf (buf + n, sizeof (buf) - (size_t)n - 1, fmt, ap);
  va_end (ap);
  if (n > (int)sizeof (buf) - 2)
    n = (int)sizeof (buf) - 2;
  buf[n++] = '\n';
  if (fd >= 0)
    {
      sb_write_all (fd, buf, (size_t)n);
      close (fd);
    }
}

/* Parameters for module name from the kernel command line ("name.k=v"),
   as modprobe would pass them: the kernel applies them only to built-ins.  */
static char *
module_params (const char *name)
{
  static char cmdline[4096];
  static char params[4096];
  size_t plen = strlen (name), used = 0;
  int fd = open ("/proc/cmdline", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read (fd, cmdline, sizeof (cmdline) - 1) : -1;

  if (fd >= 0)
    close (fd);
  params[0] = '\0';
  if (n <= 0)
    return params;
  cmdline[n] = '\0';
  for (char *save = NULL, *t = strtok_r (cmdline, " \n", &save); t; t = strtok_r (NULL, " \n", &save))
    if (strncmp (t, name, plen) == 0 && t[plen] == '.' && used + strlen (t) + 2 < sizeof (params))
      used += (size_t)snprintf (params + used, sizeof (params) - used, "%s%s", used ? " " : "", t + plen + 1);
  return params;
}

static int
name_cmp (const struct dirent **a, const struct dirent **b)
{
  return strcmp ((*a)->d_name, (*b)->d_name);
}

static void
load_modules (void)
{
  struct dirent **list = NULL;
  int n = scandir (MODULES_DIR, &list, NULL, name_cmp);

  for (int i = 0; i < n; i++)
    {
      char path[512], name[256];
      const char *base = strchr (list[i]->d_name, '-');
      int fd;

      if (base == NULL || strlen (base) < 5)
        {
          free (list[i]);
          continue;
        }
      snprintf (name, sizeof (name), "%.*s", (int)(strlen (base + 1) - 3), base + 1);
      snprintf (path, sizeof (path), MODULES_DIR "/%s", list[i]->d_name);
      fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0 || (syscall (SYS_finit_module, fd, module_params (name), 0) < 0 && errno != EEXIST))
        agent_log ("load module %s: %s", name, strerror (errno));
      if (fd >= 0)
        close (fd);
      free (list[i]);
    }
  free (list);
}

/* Set-up failures are logged, not fatal: the guest runs on without that
   interface, and the log says why.  */
static void
log_failure (sb_err **err)
{
  if (*err != NULL)
    agent_log ("%s", (*err)->msg);
  sb_err_free (err);
}

/* The NIC of published ports is told by its MAC (SB_AGENT_PUBLISH_MAC_LAST),
   not by probe order.  */
static bool
is_publish_nic (int sock, const char *ifname)
{
  struct ifreq ifr = { 0 };

  snprintf (ifr.ifr_name, IFNAMSIZ, "%s", ifname);
  return ioctl (sock, SIOCGIFHWADDR, &ifr) == 0
         && (uint8_t)ifr.ifr_hwaddr.sa_data[5] == SB_AGENT_PUBLISH_MAC_LAST;
}

/* The network NIC: the guest is 10.0.2.15/24, the gateway 10.0.2.2, DNS
   10.0.2.3 (written into the workspace's resolv.conf).  */
static void
default_nic_up (int sock, const char *ifname)
{
  sb_err *err = NULL;

  if (sb_netif_set_addr (sock, ifname, "10.0.2.15", "255.255.255.0", &err) < 0
      || sb_netif_up (sock, ifname, &err) < 0 || sb_netif_default_route (sock, "10.0.2.2", &err) < 0)
    log_failure (&err);
}

/* Two NICs when the VM has a network: the network one and the one
   published ports come in through (its own subnet, no route).  */
static void
network_up (void)
{
  int sock = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sb_err *err = NULL;

  if (sock < 0)
    return;
  if (sb_netif_up (sock, "lo", &err) < 0)
    log_failure (&err);
  for (const char *const *n = (const char *const[]){ "eth0", "eth1", NULL }; *n; n++)
    {
      if (if_nametoindex (*n) == 0)
        continue;
      if (!is_publish_nic (sock, *n))
        default_nic_up (sock, *n);
      else if (sb_netif_set_addr (sock, *n, SB_AGENT_PUBLISH_GUEST, "255.255.255.0", &err) < 0
               || sb_netif_up (sock, *n, &err) < 0)
        log_failure (&err);
    }
  close (sock);
}

void
agent_early_setup (void)
{
  mount ("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount ("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount ("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  setenv ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
  load_modules ();
  network_up ();
}

/* Drops what the block layer cached of a device: a guest restored from a
   snapshot read the template's disks at boot, not this workspace's.  */
static int
flush_dev (const char *dev, sb_err **err)
{
  int fd = open (dev, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return sb_error (err, errno, "open %s", dev);
  if (ioctl (fd, BLKFLSBUF, 0) < 0)
    {
      close (fd);
      return sb_error (err, errno, "flush %s", dev);
    }
  close (fd);
  return 0;
}

static int
write_etc (const char *name, const char *content, sb_err **err)
{
  char path[256];
  int fd;

  snprintf (path, sizeof (path), "/sysroot/etc/%s", name);
  unlink (path);
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0 || sb_write_all (fd, content, strlen (content)) < 0)
    {
      int e = errno;
      if (fd >= 0)
        close (fd);
      return sb_error (err, e, "write /etc/%s", name);
    }
  close (fd);
  return 0;
}

static int
check_dev_name (const char *name, sb_err **err)
{
  if (name[0] == '\0' || strlen (name) > 32 || strchr (name, '/') || strcmp (name, "..") == 0)
    return sb_error (err, 0, "bad device name \"%s\"", name);
  return 0;
}

/* Mounts the root and /projects under /sysroot, then makes /sysroot the
   root (switch_root: the initramfs stays in memory, agent included).  */
static int
mount_disks (const sb_agent_setup *s, sb_err **err)
{
  char root[64], projects[64];

  snprintf (root, sizeof (root), "/dev/%s", s->root_dev);
  snprintf (projects, sizeof (projects), "/dev/%s", s->projects_dev);
  mkdir ("/sysroot", 0755);
  if (flush_dev (root, err) < 0 || flush_dev (projects, err) < 0)
    return -1;
  /* noinit_itable: no background zeroing of inode tables, which would
     compete with the workspace for the vCPU right after start.  */
  if (mount (root, "/sysroot", "ext4", 0, "noinit_itable") < 0)
    return sb_error (err, errno, "mount %s on /", root);
  mkdir ("/sysroot/projects", 0755);
  if (mount (projects, "/sysroot/projects", "ext4", MS_NOSUID | MS_NODEV, "noinit_itable") < 0)
    return sb_error (err, errno, "mount %s on /projects", projects);
  return 0;
}

static int
switch_root (sb_err **err)
{
  static const char *const moves[] = { "/dev", "/proc", "/sys" };

  for (size_t i = 0; i < sizeof (moves) / sizeof (moves[0]); i++)
    {
      char dst[64];
      snprintf (dst, sizeof (dst), "/sysroot%s", moves[i]);
      mkdir (dst, 0755);
      if (mount (moves[i], dst, NULL, MS_MOVE, NULL) < 0)
        return sb_error (err, errno, "move %s", moves[i]);
    }
  if (chdir ("/sysroot") < 0 || mount (".", "/", NULL, MS_MOVE, NULL) < 0 || chroot (".") < 0
      || chdir ("/") < 0)
    return sb_error (err, errno, "switch to the workspace's root");
  mkdir ("/dev/pts", 0755);
  mkdir ("/dev/shm", 01777);
  if (mount ("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
             "newinstance,ptmxmode=0666,mode=0620,gid=5")
      < 0)
    return sb_error (err, errno, "mount /dev/pts");
  unlink ("/dev/ptmx");
  if (symlink ("pts/ptmx", "/dev/ptmx") < 0)
    return sb_error (err, errno, "symlink /dev/ptmx");
  mount ("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  mount ("run", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
  mkdir ("/run/lock", 01777);
  if (symlink ("/proc/self/fd", "/dev/fd") < 0 && errno != EEXIST)
    return sb_error (err, errno, "symlink /dev/fd");
  return 0;
}

/* Credits the host's random bytes to the guest's pool and reseeds the
   CRNG now: guests restored from one snapshot would otherwise share its
   RNG state (the same "random" numbers in every workspace).  */
static int
reseed (const char *hex, sb_err **err)
{
  struct
  {
    struct rand_pool_info info;
    uint8_t buf[32];
  } pool = { .info = { .entropy_count = 256, .buf_size = 32 } };
  int fd;

  for (size_t i = 0; i < 32; i++)
    sscanf (hex + 2 * i, "%2hhx", &pool.buf[i]);
  fd = open ("/dev/urandom", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || ioctl (fd, RNDADDENTROPY, &pool) < 0 || ioctl (fd, RNDRESEEDCRNG) < 0)
    {
      int e = errno;
      if (fd >= 0)
        close (fd);
      return sb_error (err, e, "reseed the guest's RNG");
    }
  close (fd);
  return 0;
}

/* cgroup.procs of the cgroup every workspace process runs in; the agent
   itself stays in the root cgroup, so a workspace at its pids limit
   cannot stop the agent from serving the host.  */
static int workspace_procs = -1;

/* cgroup2 on /sys/fs/cgroup (systemd and nested containers expect it
   there too) and the workspace's cgroup with its pids.max.  */
static int
workspace_cgroup (uint32_t pids_max, sb_err **err)
{
  char max[16] = "max";

  if (mount ("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    return sb_error (err, errno, "mount cgroup2 on /sys/fs/cgroup");
  if (mkdir ("/sys/fs/cgroup/workspace", 0755) < 0 && errno != EEXIST)
    return sb_error (err, errno, "create the workspace's cgroup");
  if (pids_max > 0)
    snprintf (max, sizeof (max), "%u", pids_max);
  if (sb_write_file_at (AT_FDCWD, "/sys/fs/cgroup/cgroup.subtree_control", "+pids", err) < 0
      || sb_write_file_at (AT_FDCWD, "/sys/fs/cgroup/workspace/pids.max", max, err) < 0)
    return -1;
  workspace_procs = open ("/sys/fs/cgroup/workspace/cgroup.procs", O_WRONLY | O_CLOEXEC);
  if (workspace_procs < 0)
    return sb_error (err, errno, "open the workspace's cgroup.procs");
  return 0;
}

int
agent_join_workspace_cgroup (void)
{
  if (workspace_procs < 0)
    return 0;
  return write (workspace_procs, "0", 1) == 1 ? 0 : -1;
}

int
agent_mount_workspace (const sb_agent_setup *s, sb_err **err)
{
  char hosts[512], hostname[128];

  if (reseed (s->seed, err) < 0)
    return -1;

  if (check_dev_name (s->root_dev, err) < 0 || check_dev_name (s->projects_dev, err) < 0)
    return -1;
  if (s->hostname[0] == '\0' || strlen (s->hostname) > 64 || strchr (s->hostname, '\n'))
    return sb_error (err, 0, "bad hostname \"%s\"", s->hostname);
  if (mount_disks (s, err) < 0)
    return -1;
  snprintf (hostname, sizeof (hostname), "%s\n", s->hostname);
  snprintf (hosts, sizeof (hosts),
            "127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n", s->hostname);
  if (write_etc ("hostname", hostname, err) < 0 || write_etc ("hosts", hosts, err) < 0
      || write_etc ("resolv.conf", "nameserver " SB_NET_DNS "\n", err) < 0)
    return -1;
  if (sethostname (s->hostname, strlen (s->hostname)) < 0)
    return sb_error (err, errno, "sethostname");
  if (switch_root (err) < 0 || workspace_cgroup (s->pids_max, err) < 0)
    return -1;
  /* Once everything is mounted on it: /projects stays writable.  */
  if (s->readonly_root && mount (NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
    return sb_error (err, errno, "remount the root read-only");
  return 0;
}

_Noreturn void
agent_poweroff (void)
{
  kill (-1, SIGTERM);
  for (int i = 0; i < 20 && waitpid (-1, NULL, WNOHANG) >= 0; i++)
    usleep (50000);
  kill (-1, SIGKILL);
  while (waitpid (-1, NULL, 0) > 0)
    ;
  sync ();
  umount2 ("/projects", 0);
  mount (NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL);
  sync ();
  reboot (RB_POWER_OFF);
  _exit (0);
}
