/* Device rules on cgroup v2: v2 has no devices controller, the kernel asks
   the BPF_CGROUP_DEVICE programs attached to the cgroup instead.  The
   program is built from linux.resources.devices with the semantics of the
   v1 controller: each access bit a request carries (mknod, read, write) is
   decided on its own by the last rule that matches the device and names
   that bit, and a request is allowed only if every bit is.  A bit no rule
   decides is denied, as runc, crun and youki do on v2 (specs start with a
   deny-all anyway).

   The program is assembled here: there is no library for it in Debian's
   C world short of a compiler, and it is a few dozen instructions.  */
#include "cgroup-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* Registers after the prologue.  */
enum
{
  R_TYPE = 2,   /* BPF_DEVCG_DEV_* */
  R_ACCESS = 3, /* BPF_DEVCG_ACC_* bits */
  R_MAJOR = 4,
  R_MINOR = 5,
};

typedef struct prog
{
  struct bpf_insn *insn;
  size_t n;
} prog;

static size_t
emit (prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  p->insn[p->n] = (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
  return p->n++;
}

/* Points the jump at index `at` to the next instruction to be emitted.  */
static void
land_here (prog *p, size_t at)
{
  p->insn[at].off = (int16_t)(p->n - at - 1);
}

static void
emit_exit (prog *p, int32_t verdict)
{
  emit (p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, verdict);
  emit (p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static uint32_t
access_bits (const char *access)
{
  uint32_t bits = 0;
  for (const char *c = access ? access : "rwm"; *c; c++)
    bits |= *c == 'm'   ? BPF_DEVCG_ACC_MKNOD
            : *c == 'r' ? BPF_DEVCG_ACC_READ
            : *c == 'w' ? BPF_DEVCG_ACC_WRITE
                        : 0;
  return bits;
}

/* The rules deciding `bit`, last first.  Jumps to the end of the bit's
   section are collected in `to_end`.  Returns false when a rule matched
   unconditionally (type "a"): what follows would be unreachable, which the
   verifier refuses.  */
static bool
emit_bit_rules (prog *p, const sb_device_rule *rules, size_t n, uint32_t bit, size_t *to_end, size_t *n_end)
{
  for (size_t i = n; i-- > 0;)
    {
      const sb_device_rule *r = &rules[i];
      size_t skip[3], n_skip = 0;

      if (!(access_bits (r->access) & bit))
        continue;
      if (r->type != 'a')
        {
          skip[n_skip++] = emit (p, BPF_JMP32 | BPF_JNE | BPF_K, R_TYPE, 0, 0,
                                 r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
          if (r->major >= 0)
            skip[n_skip++] = emit (p, BPF_JMP32 | BPF_JNE | BPF_K, R_MAJOR, 0, 0, (int32_t)r->major);
          if (r->minor >= 0)
            skip[n_skip++] = emit (p, BPF_JMP32 | BPF_JNE | BPF_K, R_MINOR, 0, 0, (int32_t)r->minor);
        }
      if (r->allow)
        to_end[(*n_end)++] = emit (p, BPF_JMP | BPF_JA, 0, 0, 0, 0);
      else
        emit_exit (p, 0);
      for (size_t k = 0; k < n_skip; k++)
        land_here (p, skip[k]);
      if (r->type == 'a')
        return false;
    }
  return true;
}

/* The whole program; *len instructions in a new array.  */
static struct bpf_insn *
build (const sb_device_rule *rules, size_t n, size_t *len)
{
  static const uint32_t bits[] = { BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE };
  /* Per bit: 3 to test it, per rule at most 3 tests and 2 to conclude, 2 to deny.  */
  size_t cap = 8 + 3 * (5 + 5 * n);
  _cleanup_free_ size_t *to_end = sb_xmalloc0 ((n + 1) * sizeof (size_t));
  prog p = { sb_xmalloc0 (cap * sizeof (struct bpf_insn)), 0 };

  emit (&p, BPF_LDX | BPF_W | BPF_MEM, R_TYPE, 1, offsetof (struct bpf_cgroup_dev_ctx, access_type), 0);
  emit (&p, BPF_ALU | BPF_AND | BPF_K, R_TYPE, 0, 0, 0xffff);
  emit (&p, BPF_LDX | BPF_W | BPF_MEM, R_ACCESS, 1, offsetof (struct bpf_cgroup_dev_ctx, access_type), 0);
  emit (&p, BPF_ALU | BPF_RSH | BPF_K, R_ACCESS, 0, 0, 16);
  emit (&p, BPF_LDX | BPF_W | BPF_MEM, R_MAJOR, 1, offsetof (struct bpf_cgroup_dev_ctx, major), 0);
  emit (&p, BPF_LDX | BPF_W | BPF_MEM, R_MINOR, 1, offsetof (struct bpf_cgroup_dev_ctx, minor), 0);
  for (size_t b = 0; b < sizeof (bits) / sizeof (bits[0]); b++)
    {
      size_t n_end = 0;

      /* A request without this bit skips its section.  */
      emit (&p, BPF_ALU | BPF_MOV | BPF_X, 1, R_ACCESS, 0, 0);
      emit (&p, BPF_ALU | BPF_AND | BPF_K, 1, 0, 0, (int32_t)bits[b]);
      to_end[n_end++] = emit (&p, BPF_JMP32 | BPF_JEQ | BPF_K, 1, 0, 0, 0);
      if (emit_bit_rules (&p, rules, n, bits[b], to_end, &n_end))
        emit_exit (&p, 0);
      for (size_t k = 0; k < n_end; k++)
        land_here (&p, to_end[k]);
    }
  emit_exit (&p, 1);
  *len = p.n;
  return p.insn;
}

static int
bpf (int cmd, union bpf_attr *attr)
{
  return (int)syscall (SYS_bpf, cmd, attr, sizeof (*attr));
}

static int
load (const sb_device_rule *rules, size_t n, sb_err **err)
{
  size_t len;
  _cleanup_free_ struct bpf_insn *insn = build (rules, n, &len);
  char log[1024] = "";
  union bpf_attr a;
  int fd;

  memset (&a, 0, sizeof (a));
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (uintptr_t)insn;
  a.insn_cnt = (uint32_t)len;
  a.license = (uintptr_t) "GPL";
  fd = bpf (BPF_PROG_LOAD, &a);
  if (fd >= 0)
    return fd;
  /* Again with the verifier's log, for the error.  */
  a.log_buf = (uintptr_t)log;
  a.log_size = sizeof (log);
  a.log_level = 1;
  fd = bpf (BPF_PROG_LOAD, &a);
  if (fd >= 0)
    return fd;
  log[strcspn (log, "\n")] = '\0';
  return sb_error (err, errno, "load the device program (%zu instructions)%s%s", len, log[0] ? ": " : "",
                   log);
}

/* Ids of the device programs attached to the cgroup itself.  */
static int
query (int cgfd, uint32_t *ids, uint32_t *n, sb_err **err)
{
  union bpf_attr a;

  memset (&a, 0, sizeof (a));
  a.query.target_fd = (uint32_t)cgfd;
  a.query.attach_type = BPF_CGROUP_DEVICE;
  a.query.prog_ids = (uintptr_t)ids;
  a.query.prog_cnt = *n;
  if (bpf (BPF_PROG_QUERY, &a) < 0)
    return sb_error (err, errno, "list the cgroup's device programs");
  *n = a.query.prog_cnt < *n ? a.query.prog_cnt : *n;
  return 0;
}

static int
detach (int cgfd, uint32_t id, sb_err **err)
{
  union bpf_attr a;
  _cleanup_close_ int fd = -1;

  memset (&a, 0, sizeof (a));
  a.prog_id = id;
  fd = bpf (BPF_PROG_GET_FD_BY_ID, &a);
  if (fd < 0)
    return errno == ENOENT ? 0 : sb_error (err, errno, "open device program %u", id);
  memset (&a, 0, sizeof (a));
  a.target_fd = (uint32_t)cgfd;
  a.attach_bpf_fd = (uint32_t)fd;
  a.attach_type = BPF_CGROUP_DEVICE;
  if (bpf (BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
    return sb_error (err, errno, "detach device program %u", id);
  return 0;
}

/* The new program is attached before the old ones go, so there is no
   moment without rules (an update).  BPF_F_ALLOW_MULTI: a delegated
   subtree may add programs below, which can only deny more.  */
int
sb_cg_devices_attach (const char *dir, const sb_device_rule *rules, size_t n, sb_err **err)
{
  _cleanup_close_ int cgfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  _cleanup_close_ int progfd = -1;
  uint32_t old[64], n_old = sizeof (old) / sizeof (old[0]);
  union bpf_attr a;

  if (cgfd < 0)
    return sb_error (err, errno, "open `%s`", dir);
  if (query (cgfd, old, &n_old, err) < 0)
    return -1;
  progfd = load (rules, n, err);
  if (progfd < 0)
    return -1;
  memset (&a, 0, sizeof (a));
  a.target_fd = (uint32_t)cgfd;
  a.attach_bpf_fd = (uint32_t)progfd;
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf (BPF_PROG_ATTACH, &a) < 0)
    return sb_error (err, errno, "attach the device program to `%s`", dir);
  for (uint32_t i = 0; i < n_old; i++)
    if (detach (cgfd, old[i], err) < 0)
      return -1;
  return 0;
}
