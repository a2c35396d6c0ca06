#include "update.h"

#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "container.h"
#include "spec.h"
#include "util.h"

/* "512m", "1G", "1048576": sizes as docker and runc accept them.  */
static int
parse_size (const char *s, int64_t *out)
{
  _cleanup_free_ char *num = sb_xstrdup (s);
  size_t n = strlen (num);
  int64_t mult = 1, v;

  if (strcmp (s, "-1") == 0)
    {
      *out = -1;
      return 0;
    }
  if (n > 1 && (num[n - 1] == 'b' || num[n - 1] == 'B'))
    num[--n] = '\0';
  if (n > 1 && strchr ("kKmMgGtT", num[n - 1]))
    {
      long unit = (strchr ("kKmMgGtT", num[n - 1]) - "kKmMgGtT") / 2; /* 0 k, 1 m, 2 g, 3 t */
      mult = (int64_t)1 << (10 * (unit + 1));
      num[--n] = '\0';
    }
  if (sb_parse_i64 (num, &v) < 0 || v < 0 || v > INT64_MAX / mult)
    return -1;
  *out = v * mult;
  return 0;
}

/* Resources JSON goes through the spec parser, so it is validated exactly
   like linux.resources in config.json.  */
static int
resources_from_json (const char *text, sb_spec **holder, sb_err **err)
{
  _cleanup_free_ char *doc = sb_xasprintf (
      "{\"ociVersion\":\"1.1.0\",\"root\":{\"path\":\"/\"},\"linux\":{\"resources\":%s}}", text);
  return sb_spec_parse (doc, strlen (doc), holder, err);
}

typedef struct flag_target
{
  const char *name;
  sb_opt_i64 *field;
  bool size;
} flag_target;

static int
apply_flag (sb_resources *r, int idx, const char *value, sb_err **err)
{
  flag_target targets[] = {
    { "memory", &r->memory.limit, true },
    { "memory-reservation", &r->memory.reservation, true },
    { "memory-swap", &r->memory.swap, true },
    { "kernel-memory", &r->memory.kernel, true },
    { "cpu-shares", &r->cpu.shares, false },
    { "cpu-quota", &r->cpu.quota, false },
    { "cpu-period", &r->cpu.period, false },
    { "cpu-rt-runtime", &r->cpu.realtime_runtime, false },
    { "cpu-rt-period", &r->cpu.realtime_period, false },
    { "pids-limit", &r->pids.limit, false },
    { "blkio-weight", &r->blkio.weight, false },
  };
  flag_target *t = &targets[idx];
  int64_t v;

  if ((t->size ? parse_size (value, &v) : sb_parse_i64 (value, &v)) < 0)
    return sb_error (err, 0, "--%s: invalid value \"%s\"", t->name, value);
  t->field->set = true;
  t->field->v = v;
  return 0;
}

int
cli_update (const char *root, int argc, char **argv, int *exit_code, sb_err **err)
{
  static const struct option opts[] = {
    { "memory", required_argument, NULL, 0 },
    { "memory-reservation", required_argument, NULL, 1 },
    { "memory-swap", required_argument, NULL, 2 },
    { "kernel-memory", required_argument, NULL, 3 },
    { "cpu-shares", required_argument, NULL, 4 },
    { "cpu-quota", required_argument, NULL, 5 },
    { "cpu-period", required_argument, NULL, 6 },
    { "cpu-rt-runtime", required_argument, NULL, 7 },
    { "cpu-rt-period", required_argument, NULL, 8 },
    { "pids-limit", required_argument, NULL, 9 },
    { "blkio-weight", required_argument, NULL, 10 },
    { "cpuset-cpus", required_argument, NULL, 'c' },
    { "cpuset-mems", required_argument, NULL, 'm' },
    { "resources", required_argument, NULL, 'r' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  static const char usage[] = "[-r FILE | --memory N --memory-swap N --cpu-shares N --cpu-quota N "
                              "--cpu-period N --cpuset-cpus L --cpuset-mems L --pids-limit N ...] ID";
  _cleanup_spec_ sb_spec *holder = NULL;
  _cleanup_free_ char *text = NULL;
  sb_resources flags = { 0 };
  const char *file = NULL;
  int opt;

  optind = 0; /* 0: GNU getopt re-initializes (a new argv, its own ordering) */
  while ((opt = getopt_long (argc, argv, "+r:h", opts, NULL)) != -1)
    {
      if (opt >= 0 && opt <= 10)
        {
          if (apply_flag (&flags, opt, optarg, err) < 0)
            return -1;
        }
      else if (opt == 'c')
        flags.cpu.cpus = optarg;
      else if (opt == 'm')
        flags.cpu.mems = optarg;
      else if (opt == 'r')
        file = optarg;
      else if (opt == 'h')
        {
          printf ("Usage: sudobox-runc update %s\n", usage);
          *exit_code = 0;
          return 0;
        }
      else
        return sb_error (err, 0, "usage: sudobox-runc update %s", usage);
    }
  if (optind != argc - 1)
    return sb_error (err, 0, "usage: sudobox-runc update %s", usage);
  if (file == NULL)
    return sb_container_update (root, argv[optind], &flags, err);
  if (sb_read_file_at (AT_FDCWD, strcmp (file, "-") == 0 ? "/dev/stdin" : file, SB_SPEC_MAX_SIZE, &text, NULL,
                       err)
      < 0)
    return sb_error_wrap (err, "--resources");
  if (resources_from_json (text, &holder, err) < 0)
    return sb_error_wrap (err, "--resources `%s`", file);
  if (holder->linux.resources == NULL)
    return sb_error (err, 0, "--resources `%s`: no resources", file);
  return sb_container_update (root, argv[optind], holder->linux.resources, err);
}
