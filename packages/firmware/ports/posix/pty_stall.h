/*
 * --stall-ms MS (the simulated board only; no port has it): a ticker thread that notices when this process
 * could not run for longer than MS — a loaded host machine, or a SIGSTOP — and says so on stderr, one line a
 * stall (`tinypipe-board: stall: N ms`). While the board is not scheduled it cannot ACK, so the host's
 * retransmission timer may fire: a test counts these lines to tell that from a protocol fault.
 */
#ifndef TP_POSIX_PTY_STALL_H
#define TP_POSIX_PTY_STALL_H

/* Starts the ticker when stall_ms > 0 (0: off, nothing started). 0, or -1 when the thread cannot start. */
int tp_stall_start(long stall_ms);

#endif
