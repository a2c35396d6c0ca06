#include "archive-dl.h"

#include <dlfcn.h>
#include <stdbool.h>

/* The soname of libarchive 3, the one <archive.h> describes.  */
#define LIBARCHIVE_SONAME "libarchive.so.13"

sb_la_api sb_la;

int
sb_la_load (sb_err **err)
{
  static bool loaded;
  void *h;

  if (loaded)
    return 0;
  h = dlopen (LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL)
    return sb_error (err, 0, "load %s (install libarchive13): %s", LIBARCHIVE_SONAME, dlerror ());
#define SB_LA_SYM(name)                                                                                      \
  if ((*(void **)&sb_la.name = dlsym (h, #name)) == NULL)                                                    \
    return sb_error (err, 0, "%s has no %s", LIBARCHIVE_SONAME, #name);
  SB_LA_FUNCS (SB_LA_SYM)
#undef SB_LA_SYM
  loaded = true;
  return 0;
}
