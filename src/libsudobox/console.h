/* Terminals: the container's pty, handing its master to a console socket,
   and the relay a foreground `run -t`/`exec -t` uses between the caller's
   terminal and the master.  */
#ifndef SB_CONSOLE_H
#define SB_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Opens a new pty pair from the devpts instance mounted at /dev/pts of the
   calling process (call it inside the container after its /dev is set up),
   sets its size when rows/cols are not 0.  */
int sb_console_open (int *master, int *slave, uint32_t rows, uint32_t cols, sb_err **err);
/* Makes fd the controlling terminal and stdin/stdout/stderr (setsid first).  */
int sb_console_make_controlling (int slave, sb_err **err);
/* Connects to the unix socket at path and sends master with SCM_RIGHTS
   (runc's protocol: the payload is the name "/dev/ptmx").  */
int sb_console_send (const char *socket_path, int master, sb_err **err);

/* Relays until the master hangs up: stdin -> master, master -> stdout,
   the caller's window size -> master (SIGWINCH).  Puts the caller's terminal
   in raw mode for the duration when stdin is a terminal.  Returns when
   master reports EOF/EIO or exit_fd (a pidfd, or -1) becomes readable and
   the output is drained.  */
int sb_console_relay (int master, int exit_fd, sb_err **err);

#endif
