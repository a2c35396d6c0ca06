/* libFuzzer target for the config.json parser: any input must give either a
   spec or an error, never a crash, a leak or undefined behaviour.  Both entry
   points see every input (a process.json is a subset of a config.json).  */
#include <stddef.h>
#include <stdint.h>

#include "spec.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  sb_spec *spec = NULL;
  sb_process *process = NULL;
  sb_err *err = NULL;

  if (sb_spec_parse ((const char *)data, size, &spec, &err) == 0)
    {
      sb_spec_annotation (spec, "org.opencontainers.image.os");
      sb_spec_free (spec);
    }
  else if (err == NULL || err->msg == NULL)
    __builtin_trap ();
  sb_err_free (&err);
  if (sb_process_parse ((const char *)data, size, &process, &err) == 0)
    sb_process_free (process);
  else if (err == NULL || err->msg == NULL)
    __builtin_trap ();
  sb_err_free (&err);
  return 0;
}
