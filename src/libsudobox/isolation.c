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
