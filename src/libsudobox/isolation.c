#include "isolation.h"

static const sb_isolation_ops userns_ops = { 0 };

const sb_isolation_ops *
sb_isolation_ops_get (sb_isolation mode, sb_err **err)
{
  switch (mode)
    {
    case SB_ISOLATION_USERNS:
      return &userns_ops;
    case SB_ISOLATION_SYSTEM:
      return &sb_isolation_system_ops;
    case SB_ISOLATION_MICROVM:
      break;
    }
  sb_error (err, 0, "isolation \"%s\" is not available through the OCI runtime yet",
            sb_isolation_name (mode));
  return NULL;
}

int
sb_isolation_teardown (const char *state_dir, sb_err **err)
{
  static const sb_isolation_ops *const all[] = { &userns_ops, &sb_isolation_system_ops };

  for (size_t i = 0; i < sizeof (all) / sizeof (all[0]); i++)
    if (all[i]->teardown && all[i]->teardown (state_dir, err) < 0)
      return -1;
  return 0;
}
