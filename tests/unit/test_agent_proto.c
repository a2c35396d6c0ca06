/* The microvm agent's wire codec: round trips and strict refusals.  */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent-proto.h"
#include "tap.h"

#define SEED "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static sb_agent_exec *
new_exec (void)
{
  sb_agent_exec *e = calloc (1, sizeof (*e));
  if (e == NULL)
    abort ();
  return e;
}

static void
test_header (void)
{
  sb_agent_buf b = { 0 };
  sb_agent_hdr h;
  const uint8_t *p = NULL;
  sb_err *err = NULL;

  tap_ok (sb_agent_put (&b, SB_AGENT_STDOUT, 7, "abc", 3, NULL) == 0, "put a STDOUT frame");
  tap_is_int ((long long)b.len, SB_AGENT_HDR_SIZE + 3, "frame is header + payload");
  tap_is_int (sb_agent_frame_next (b.data, b.len - 1, &h, &p, NULL), 0, "a partial frame needs more bytes");
  tap_is_int (sb_agent_frame_next (b.data, 5, &h, &p, NULL), 0, "a partial header needs more bytes");
  tap_is_int (sb_agent_frame_next (b.data, b.len, &h, &p, NULL), 1, "a whole frame is split off");
  tap_ok (h.type == SB_AGENT_STDOUT && h.session == 7 && h.len == 3 && memcmp (p, "abc", 3) == 0,
          "type, session, length and payload survive");
  b.data[2] = 1;
  tap_is_int (sb_agent_frame_next (b.data, b.len, &h, &p, &err), -1, "non-zero flags are refused");
  tap_ok (err && strstr (err->msg, "flags"), "the error names the flags");
  sb_err_free (&err);
  b.data[2] = 0;
  b.data[0] = 99;
  tap_is_int (sb_agent_frame_next (b.data, b.len, &h, &p, NULL), -1, "an unknown type is refused");
  b.data[0] = SB_AGENT_STDOUT;
  b.data[11] = 0x7f;
  tap_is_int (sb_agent_frame_next (b.data, SB_AGENT_HDR_SIZE, &h, &p, &err), -1,
              "an oversized length is refused from the header alone");
  tap_ok (err && strstr (err->msg, "exceeds"), "the error names the size");
  sb_err_free (&err);
  sb_agent_buf_release (&b);
  tap_ok (sb_agent_put (&b, SB_AGENT_STDOUT, 1, NULL, SB_AGENT_MAX_PAYLOAD + 1, NULL) < 0,
          "an oversized payload is not encoded");
  sb_agent_buf_release (&b);
}

static void
test_exec (void)
{
  sb_agent_exec *e = new_exec (), *d = new_exec ();
  sb_agent_buf b = { 0 };
  sb_agent_hdr h;
  const uint8_t *p = NULL;
  sb_err *err = NULL;

  *e = (sb_agent_exec){ .uid = 1000,
                        .gid = 1001,
                        .rows = 40,
                        .cols = 120,
                        .tty = true,
                        .n_groups = 2,
                        .groups = { 1001, 27 },
                        .cwd = "/home/dev" };
  e->argv[0] = "sudo";
  e->argv[1] = "-n";
  e->argv[2] = "";
  e->envp[0] = "HOME=/home/dev";
  tap_ok (sb_agent_put_exec (&b, 5, e, NULL) == 0, "encode an EXEC");
  tap_is_int (sb_agent_frame_next (b.data, b.len, &h, &p, NULL), 1, "split it");
  tap_ok (sb_agent_exec_decode (p, h.len, d, &err) == 0, "decode it");
  tap_ok (d->uid == 1000 && d->gid == 1001 && d->rows == 40 && d->cols == 120 && d->tty && d->n_groups == 2
              && d->groups[1] == 27,
          "ids, size, tty and groups survive");
  tap_is_str (d->cwd, "/home/dev", "cwd survives");
  tap_ok (d->argv[0] && strcmp (d->argv[1], "-n") == 0 && d->argv[2][0] == '\0' && d->argv[3] == NULL,
          "argv survives, empty strings included");
  tap_ok (strcmp (d->envp[0], "HOME=/home/dev") == 0 && d->envp[1] == NULL, "env survives");
  tap_ok (sb_agent_exec_decode (p, h.len - 1, d, &err) < 0, "a truncated EXEC is refused");
  tap_ok (err && strstr (err->msg, "NUL"), "the error names the missing NUL: %s", err ? err->msg : "");
  sb_err_free (&err);
  {
    uint8_t *copy = malloc (h.len + 1);
    memcpy (copy, p, h.len);
    copy[h.len] = 'x';
    tap_ok (sb_agent_exec_decode (copy, h.len + 1, d, &err) < 0 && strstr (err->msg, "trailing"),
            "trailing bytes are refused");
    sb_err_free (&err);
    memcpy (copy, p, h.len);
    copy[20] = 0;
    tap_ok (sb_agent_exec_decode (copy, h.len, d, &err) < 0, "argc 0 is refused");
    sb_err_free (&err);
    memcpy (copy, p, h.len);
    copy[12] = 2;
    tap_ok (sb_agent_exec_decode (copy, h.len, d, &err) < 0, "a tty flag other than 0/1 is refused");
    sb_err_free (&err);
    memcpy (copy, p, h.len);
    copy[19] = 1;
    tap_ok (sb_agent_exec_decode (copy, h.len, d, &err) < 0, "a huge group count is refused");
    sb_err_free (&err);
    free (copy);
  }
  e->cwd = "relative";
  sb_agent_buf_release (&b);
  sb_agent_put_exec (&b, 5, e, NULL);
  sb_agent_frame_next (b.data, b.len, &h, &p, NULL);
  tap_ok (sb_agent_exec_decode (p, h.len, d, &err) < 0, "a relative cwd is refused");
  sb_err_free (&err);
  sb_agent_buf_release (&b);
  free (e);
  free (d);
}

/* FILE frames: a round trip, then what the decoder must refuse.  */
static int
file_decodes (uint32_t mode, const char *path, const char *data, bool append)
{
  sb_agent_buf b = { 0 };
  sb_agent_hdr h;
  const uint8_t *p = NULL;
  sb_agent_file f
      = { .mode = mode, .path = path, .data = (const uint8_t *)data, .len = strlen (data), .append = append };
  int r;

  sb_agent_put_file (&b, &f, NULL);
  sb_agent_frame_next (b.data, b.len, &h, &p, NULL);
  r = sb_agent_file_decode (p, h.len, &f, NULL);
  sb_agent_buf_release (&b);
  return r;
}

static void
test_file (void)
{
  sb_agent_buf b = { 0 };
  sb_agent_hdr h;
  const uint8_t *p = NULL;
  sb_agent_file f = {
    .mode = S_IFREG | 0640, .uid = 7, .gid = 8, .path = "/etc/hosts", .data = (const uint8_t *)"x y", .len = 3
  };

  sb_agent_put_file (&b, &f, NULL);
  sb_agent_frame_next (b.data, b.len, &h, &p, NULL);
  memset (&f, 0, sizeof (f));
  tap_ok (sb_agent_file_decode (p, h.len, &f, NULL) == 0 && f.mode == (S_IFREG | 0640) && f.uid == 7
              && f.gid == 8 && strcmp (f.path, "/etc/hosts") == 0 && f.len == 3
              && memcmp (f.data, "x y", 3) == 0 && !f.append,
          "FILE");
  tap_ok (sb_agent_file_decode (p, 15, &f, NULL) < 0, "a FILE shorter than its fixed part is refused");
  sb_agent_buf_release (&b);
  tap_ok (file_decodes (S_IFREG | 0644, "/a/b", "more", true) == 0, "FILE: an appended chunk");
  tap_ok (file_decodes (S_IFDIR | 0755, "/a/b", "", false) == 0, "FILE: a directory");
  tap_ok (file_decodes (S_IFLNK | 0777, "/a/l", "../t", false) == 0, "FILE: a symlink");
  tap_ok (file_decodes (S_IFREG | 0644, "a/b", "", false) < 0, "FILE: a relative path is refused");
  tap_ok (file_decodes (S_IFREG | 0644, "/a/../b", "", false) < 0, "FILE: a .. component is refused");
  tap_ok (file_decodes (S_IFREG | 0644, "/a//b", "", false) < 0, "FILE: an empty component is refused");
  tap_ok (file_decodes (S_IFREG | 0644, "/", "", false) < 0, "FILE: / itself is refused");
  tap_ok (file_decodes (S_IFREG | 0644, "/a/.", "", false) < 0, "FILE: a . component is refused");
  tap_ok (file_decodes (S_IFCHR | 0644, "/dev/x", "", false) < 0, "FILE: a device node is refused");
  tap_ok (file_decodes (S_IFDIR | 0755, "/d", "data", false) < 0, "FILE: a directory with data is refused");
  tap_ok (file_decodes (S_IFLNK | 0777, "/l", "", false) < 0, "FILE: a symlink without target is refused");
  tap_ok (file_decodes (S_IFREG | 010000, "/f", "", false) < 0, "FILE: unknown mode bits are refused");
  {
    sb_agent_file ro = { .mode = S_IFDIR | 0755, .path = "/mnt/vol", .readonly = true };
    sb_agent_put_file (&b, &ro, NULL);
    sb_agent_frame_next (b.data, b.len, &h, &p, NULL);
    memset (&ro, 0, sizeof (ro));
    tap_ok (sb_agent_file_decode (p, h.len, &ro, NULL) == 0 && ro.readonly && !ro.append,
            "FILE: a read-only bind");
    sb_agent_buf_release (&b);
    ro = (sb_agent_file){
      .mode = S_IFREG | 0644, .path = "/f", .data = (const uint8_t *)"x", .len = 1, .readonly = true
    };
    sb_agent_put_file (&b, &ro, NULL);
    sb_agent_frame_next (b.data, b.len, &h, &p, NULL);
    tap_ok (sb_agent_file_decode (p, h.len, &ro, NULL) < 0, "FILE: a read-only bind with data is refused");
    sb_agent_buf_release (&b);
  }
}

static void
test_small (void)
{
  sb_agent_buf b = { 0 };
  sb_agent_hdr h;
  const uint8_t *p = NULL;
  uint16_t rows, cols;
  uint32_t a, s, e;
  const char *msg;
  sb_agent_setup su;

  sb_agent_put_resize (&b, 1, 50, 132, NULL);
  sb_agent_frame_next (b.data, b.len, &h, &p, NULL);
  tap_ok (sb_agent_resize_decode (p, h.len, &rows, &cols, NULL) == 0 && rows == 50 && cols == 132, "RESIZE");
  tap_ok (sb_agent_resize_decode (p, 3, &rows, &cols, NULL) < 0, "a short RESIZE is refused");
  sb_agent_buf_release (&b);
  sb_agent_put_signal (&b, 1, 15, NULL);
  sb_agent_frame_next (b.data, b.len, &h, &p, NULL);
  tap_ok (sb_agent_signal_decode (p, h.len, &s, NULL) == 0 && s == 15, "SIGNAL");
  sb_agent_buf_release (&b);
  sb_agent_put_signal (&b, 1, 0, NULL);
  sb_agent_frame_next (b.data, b.len, &h, &p, NULL);
  tap_ok (sb_agent_signal_decode (p, h.len, &s, NULL) < 0, "signal 0 is refused");
  sb_agent_buf_release (&b);
  sb_agent_put_u32x2 (&b, SB_AGENT_EXIT, 1, 0, 9, NULL);
  sb_agent_frame_next (b.data, b.len, &h, &p, NULL);
  tap_ok (sb_agent_exit_decode (p, h.len, &a, &s, NULL) == 0 && a == 0 && s == 9, "EXIT by a signal");
  sb_agent_buf_release (&b);
  sb_agent_put_u32x2 (&b, SB_AGENT_EXIT, 1, 256, 0, NULL);
  sb_agent_frame_next (b.data, b.len, &h, &p, NULL);
  tap_ok (sb_agent_exit_decode (p, h.len, &a, &s, NULL) < 0, "an exit code above 255 is refused");
  sb_agent_buf_release (&b);
  sb_agent_put_error (&b, 3, 2, "no such file", NULL);
  sb_agent_frame_next (b.data, b.len, &h, &p, NULL);
  tap_ok (sb_agent_error_decode (p, h.len, &e, &msg, NULL) == 0 && e == 2
              && strcmp (msg, "no such file") == 0,
          "ERROR");
  tap_ok (sb_agent_error_decode (p, h.len - 1, &e, &msg, NULL) < 0, "an ERROR without its NUL is refused");
  sb_agent_buf_release (&b);
  sb_agent_put_setup (&b, &(sb_agent_setup){ "ws1", "vda", "vdb", SEED, 100, true }, NULL);
  sb_agent_frame_next (b.data, b.len, &h, &p, NULL);
  tap_ok (sb_agent_setup_decode (p, h.len, &su, NULL) == 0 && strcmp (su.hostname, "ws1") == 0
              && strcmp (su.projects_dev, "vdb") == 0 && strcmp (su.seed, SEED) == 0 && su.pids_max == 100
              && su.readonly_root,
          "SETUP");
  tap_ok (sb_agent_setup_decode (p, h.len - 4, &su, NULL) < 0, "a SETUP missing a field is refused");
  tap_ok (sb_agent_setup_decode (p, 7, &su, NULL) < 0, "a SETUP shorter than its fixed part is refused");
  {
    uint8_t bad[512];
    memcpy (bad, p, h.len);
    bad[4] = 2;
    tap_ok (sb_agent_setup_decode (bad, h.len, &su, NULL) < 0, "a SETUP with an unknown flag is refused");
  }
  sb_agent_buf_release (&b);
  sb_agent_put_setup (&b, &(sb_agent_setup){ "ws1", "vda", "vdb", "00ff", 0, false }, NULL);
  sb_agent_frame_next (b.data, b.len, &h, &p, NULL);
  tap_ok (sb_agent_setup_decode (p, h.len, &su, NULL) < 0, "a SETUP with a short seed is refused");
  sb_agent_buf_release (&b);
  test_file ();
  tap_ok (sb_agent_type_to_guest (SB_AGENT_EXEC) && !sb_agent_type_to_guest (SB_AGENT_EXIT)
              && sb_agent_type_to_host (SB_AGENT_EXIT) && !sb_agent_type_to_host (SB_AGENT_EXEC),
          "each side accepts only the other side's types");
}

int
main (void)
{
  test_header ();
  test_exec ();
  test_small ();
  return tap_done ();
}
