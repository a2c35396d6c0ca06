/* `sudobox image build|import|ls|inspect|rm`.  */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "image.h"
#include "state.h"
#include "util.h"

#define IMPORT_MAX_BYTES ((uint64_t)64 << 30)

/* Makes the image in ROOT/images/.tmp-NAME with fill(), then moves it into
   place and registers it; gc removes what a killed command leaves.  */
static int
add_image (sb_mgr *m, const char *name, const char *source,
           int (*fill) (const char *rootfs, void *arg, char **config, sb_err **err), void *arg, sb_err **err)
{
  _cleanup_free_ char *lockname = sb_xasprintf (".image-%s", name);
  _cleanup_free_ char *tmp = sb_xasprintf ("%s/images/.tmp-%s", m->root, name);
  _cleanup_free_ char *dir = sb_xasprintf ("%s/images/%s", m->root, name);
  _cleanup_free_ char *parent = sb_xasprintf ("%s/images", m->root);
  _cleanup_free_ char *rootfs = sb_xasprintf ("%s/rootfs", tmp);
  _cleanup_free_ char *config = NULL, *created = sb_now_rfc3339 ();
  _cleanup_close_ int lock = -1, images = -1;
  sb_image_rec *old = NULL;
  sb_image_rec rec;
  int64_t size = 0;
  int r;

  if (sb_check_name ("image", name, err) < 0)
    return -1;
  lock = sb_mgr_lock (m, lockname, true, err);
  if (lock < 0)
    return -1;
  r = sb_registry_image_get (m->reg, name, &old, err);
  sb_image_rec_free (old);
  if (r <= 0)
    return r < 0 ? -1 : sb_error (err, 0, "image \"%s\" already exists (sudobox image rm %s)", name, name);
  images = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  sb_rm_rf_at (images, strrchr (tmp, '/') + 1);
  sb_rm_rf_at (images, name);
  if (mkdir (tmp, 0700) < 0 || mkdir (rootfs, 0755) < 0)
    return sb_error (err, errno, "mkdir `%s`", rootfs);
  if (fill (rootfs, arg, &config, err) < 0 || sb_image_du (rootfs, &size, err) < 0)
    {
      sb_rm_rf_at (images, strrchr (tmp, '/') + 1);
      return -1;
    }
  if (rename (tmp, dir) < 0)
    return sb_error (err, errno, "rename `%s`", tmp);
  rec = (sb_image_rec){ .name = (char *)name,
                        .dir = dir,
                        .created = created,
                        .size = size,
                        .source = (char *)source,
                        .config = config ? config : (char *)"{}" };
  if (sb_registry_image_add (m->reg, &rec, err) < 0)
    {
      sb_rm_rf_at (images, name);
      return -1;
    }
  return 0;
}

typedef struct build_arg
{
  sb_image_build_opts o;
} build_arg;

static int
fill_build (const char *rootfs, void *arg, char **config, sb_err **err)
{
  build_arg *b = arg;
  json_object *c;
  if (sb_image_build (rootfs, &b->o, err) < 0)
    return -1;
  c = json_object_new_object ();
  json_object_object_add (c, "user", json_object_new_string (b->o.user));
  json_object_object_add (c, "uid", json_object_new_int64 (b->o.uid));
  *config = sb_xstrdup (json_object_to_json_string_ext (c, JSON_C_TO_STRING_PLAIN));
  json_object_put (c);
  return 0;
}

static int
parse_user_spec (const char *s, build_arg *b, sb_err **err)
{
  const char *colon = strchr (s, ':');
  int64_t uid = 1000;

  if (colon && (sb_parse_i64 (colon + 1, &uid) < 0 || uid < 1 || uid > 65533))
    return sb_error (err, 0, "--user \"%s\": expected NAME:UID with UID in 1..65533", s);
  b->o.user = colon ? strndup (s, (size_t)(colon - s)) : s;
  b->o.uid = (uint32_t)uid;
  return 0;
}

static int
image_build (sb_mgr *m, int argc, char **argv, sb_err **err)
{
  static const struct option opts[] = { { "suite", required_argument, NULL, 's' },
                                        { "include", required_argument, NULL, 'i' },
                                        { "user", required_argument, NULL, 'u' },
                                        { NULL, 0, NULL, 0 } };
  static const char usage[] = "NAME [--suite bookworm] [--include PKG,...] [--user NAME:UID]";
  build_arg b = { .o = { .suite = "bookworm", .user = "dev", .uid = 1000, .progress = isatty (2) } };
  _cleanup_strv_ char **include = NULL;
  _cleanup_free_ char *source = NULL;
  int opt;

  optind = 0; /* 0: GNU getopt re-initializes (a new argv, its own ordering) */
  /* Permuting: the name may come before the options.  */
  while ((opt = getopt_long (argc, argv, "", opts, NULL)) != -1)
    switch (opt)
      {
      case 's':
        b.o.suite = optarg;
        break;
      case 'i':
        for (char *save = NULL, *t = strtok_r (optarg, ",", &save); t; t = strtok_r (NULL, ",", &save))
          sb_strv_append (&include, t);
        break;
      case 'u':
        if (parse_user_spec (optarg, &b, err) < 0)
          return -1;
        break;
      default:
        return cli_usage_error ("image build", usage, err);
      }
  if (optind != argc - 1)
    return cli_usage_error ("image build", usage, err);
  b.o.include = include;
  if (sb_image_build_check (&b.o, err) < 0)
    return -1;
  source = sb_xasprintf ("build %s", b.o.suite);
  return add_image (m, argv[optind], source, fill_build, &b, err);
}

static int
fill_import (const char *rootfs, void *arg, char **config, sb_err **err)
{
  return sb_image_import (arg, rootfs, IMPORT_MAX_BYTES, config, err);
}

static int
image_import (sb_mgr *m, int argc, char **argv, sb_err **err)
{
  _cleanup_free_ char *source = NULL;
  char real[PATH_MAX];

  if (argc != 3)
    return cli_usage_error ("image import", "NAME SOURCE", err);
  if (realpath (argv[2], real) == NULL)
    return sb_error (err, errno, "image import: `%s`", argv[2]);
  source = sb_xasprintf ("import %s", real);
  return add_image (m, argv[1], source, fill_import, real, err);
}

static json_object *
image_json (const sb_image_rec *r)
{
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "name", json_object_new_string (r->name));
  json_object_object_add (o, "created", json_object_new_string (r->created));
  json_object_object_add (o, "size", json_object_new_int64 (r->size));
  json_object_object_add (o, "source", json_object_new_string (r->source));
  json_object_object_add (o, "dir", json_object_new_string (r->dir));
  json_object_object_add (o, "config", json_tokener_parse (r->config ? r->config : "{}"));
  return o;
}

static int
image_ls (sb_mgr *m, int argc, char **argv, sb_err **err)
{
  static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
                                        { "quiet", no_argument, NULL, 'q' },
                                        { NULL, 0, NULL, 0 } };
  sb_image_rec **list = NULL;
  json_object *arr = json_object_new_array ();
  bool json = false, quiet = false;
  size_t n = 0;
  int opt;

  optind = 0; /* 0: GNU getopt re-initializes (a new argv, its own ordering) */
  while ((opt = getopt_long (argc, argv, "+q", opts, NULL)) != -1)
    {
      if (opt == 'q')
        quiet = true;
      else if (opt != 'f' || !cli_parse_format (optarg, &json, err))
        {
          json_object_put (arr);
          return opt == 'f' ? -1 : cli_usage_error ("image ls", "[-q] [--format table|json]", err);
        }
    }
  if (optind != argc)
    {
      json_object_put (arr);
      return cli_usage_error ("image ls", "[-q] [--format table|json]", err);
    }
  if (sb_registry_image_list (m->reg, &list, &n, err) < 0)
    {
      json_object_put (arr);
      return -1;
    }
  if (!json && !quiet)
    printf ("%-24s %-10s %-32s %s\n", "NAME", "SIZE", "CREATED", "SOURCE");
  for (size_t i = 0; i < n; i++)
    {
      if (json)
        json_object_array_add (arr, image_json (list[i]));
      else if (quiet)
        puts (list[i]->name);
      else
        {
          char size[32];
          snprintf (size, sizeof (size), "%.1fM", (double)list[i]->size / (1 << 20));
          printf ("%-24s %-10s %-32s %s\n", list[i]->name, size, list[i]->created, list[i]->source);
        }
      sb_image_rec_free (list[i]);
    }
  free (list);
  if (json)
    cli_print_json (arr);
  json_object_put (arr);
  return 0;
}

static int
image_inspect (sb_mgr *m, int argc, char **argv, sb_err **err)
{
  sb_image_rec *r = NULL;
  json_object *o;
  int ret;

  if (argc != 2)
    return cli_usage_error ("image inspect", "NAME", err);
  ret = sb_registry_image_get (m->reg, argv[1], &r, err);
  if (ret != 0)
    return ret < 0 ? -1 : sb_error (err, 0, "image \"%s\" not found", argv[1]);
  o = image_json (r);
  cli_print_json (o);
  json_object_put (o);
  sb_image_rec_free (r);
  return 0;
}

static int
image_rm (sb_mgr *m, int argc, char **argv, sb_err **err)
{
  _cleanup_free_ char *lockname = NULL, *dir = NULL;
  _cleanup_close_ int lock = -1, images = -1;
  sb_image_rec *img = NULL;
  int r;

  if (argc != 2)
    return cli_usage_error ("image rm", "NAME", err);
  if (sb_check_name ("image", argv[1], err) < 0)
    return -1;
  /* A name that is not there gets no lock file either.  */
  r = sb_registry_image_get (m->reg, argv[1], &img, err);
  sb_image_rec_free (img);
  if (r != 0)
    return r < 0 ? -1 : sb_error (err, 0, "image \"%s\" not found", argv[1]);
  lockname = sb_xasprintf (".image-%s", argv[1]);
  lock = sb_mgr_lock (m, lockname, true, err);
  if (lock < 0 || sb_registry_image_remove (m->reg, argv[1], err) < 0)
    return -1;
  dir = sb_xasprintf ("%s/images", m->root);
  images = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (images < 0 || sb_rm_rf_at (images, argv[1]) < 0)
    return sb_error (err, errno, "remove the files of image \"%s\"", argv[1]);
  return 0;
}

int
cmd_image (sb_mgr *m, int argc, char **argv, int *exit_code, sb_err **err)
{
  static const struct
  {
    const char *name;
    int (*run) (sb_mgr *, int, char **, sb_err **);
  } subs[] = { { "build", image_build }, { "import", image_import },   { "ls", image_ls },
               { "list", image_ls },     { "inspect", image_inspect }, { "rm", image_rm } };

  *exit_code = 0;
  if (argc < 2 || cli_wants_help (argc, argv))
    {
      puts ("Usage: sudobox image build NAME [--suite S] [--include PKG,...] [--user NAME:UID]\n"
            "       sudobox image import NAME SOURCE   (tarball, directory, OCI layout or archive)\n"
            "       sudobox image ls [-q] [--format table|json]\n"
            "       sudobox image inspect NAME\n"
            "       sudobox image rm NAME");
      return argc < 2 ? cli_usage_error ("image", "build|import|ls|inspect|rm ...", err) : 0;
    }
  for (size_t i = 0; i < sizeof (subs) / sizeof (subs[0]); i++)
    if (strcmp (argv[1], subs[i].name) == 0)
      return subs[i].run (m, argc - 1, argv + 1, err);
  return sb_error (err, 0, "image: unknown command \"%s\" (build, import, ls, inspect, rm)", argv[1]);
}
