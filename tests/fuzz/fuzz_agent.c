/* libFuzzer target for the agent protocol decoders, both directions: the
   input is a byte stream as read from the channel; every whole frame is
   decoded with the decoder its type selects, exactly as the host (and the
   guest agent) do before acting on it.  Any input must be split or refused
   with an error, never read out of bounds or crash.  */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent-proto.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
decode_one (const sb_agent_hdr *h, const uint8_t *p, sb_agent_exec *e)
{
  sb_err *err = NULL;
  sb_agent_setup s;
  sb_agent_file f;
  uint16_t rows, cols;
  uint32_t a, b;
  const char *msg;

  switch (h->type)
    {
    case SB_AGENT_EXEC:
      if (sb_agent_exec_decode (p, h->len, e, &err) == 0)
        for (size_t i = 0; e->argv[i]; i++)
          if (strlen (e->argv[i]) > h->len)
            abort ();
      break;
    case SB_AGENT_SETUP:
      if (sb_agent_setup_decode (p, h->len, &s, &err) == 0 && strlen (s.hostname) >= h->len)
        abort ();
      break;
    case SB_AGENT_FILE:
      /* A decoded path never climbs out: the agent writes below / with it.  */
      if (sb_agent_file_decode (p, h->len, &f, &err) == 0
          && (f.path[0] != '/' || strstr (f.path, "/../") || strstr (f.path, "//")
              || f.data + f.len != p + h->len))
        abort ();
      break;
    case SB_AGENT_RESIZE:
      sb_agent_resize_decode (p, h->len, &rows, &cols, &err);
      break;
    case SB_AGENT_SIGNAL:
      sb_agent_signal_decode (p, h->len, &a, &err);
      break;
    case SB_AGENT_EXIT:
      sb_agent_exit_decode (p, h->len, &a, &b, &err);
      break;
    case SB_AGENT_ERROR:
      if (sb_agent_error_decode (p, h->len, &a, &msg, &err) == 0 && strlen (msg) >= h->len)
        abort ();
      break;
    default:
      break;
    }
  sb_err_free (&err);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static sb_agent_exec e;
  /* A copy of exactly size bytes: ASan sees any read past the end.  */
  uint8_t *buf = malloc (size ? size : 1);
  size_t off = 0;

  if (buf == NULL)
    abort ();
  memcpy (buf, data, size);
  for (;;)
    {
      sb_err *err = NULL;
      sb_agent_hdr h;
      const uint8_t *p;
      int r = sb_agent_frame_next (buf + off, size - off, &h, &p, &err);
      sb_err_free (&err);
      if (r != 1)
        break;
      decode_one (&h, p, &e);
      sb_agent_type_to_guest (h.type);
      sb_agent_type_to_host (h.type);
      off += SB_AGENT_HDR_SIZE + h.len;
    }
  free (buf);
  return 0;
}
