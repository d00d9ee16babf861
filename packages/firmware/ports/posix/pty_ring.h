/*
 * The simulated board as a board of a ring (docs/protocol.md §4.5; pty_ring.c): its options, the console
 * of board 0 (stdout/stdin, or the board's own PTY — its "USB port", which carries no protocol then), the
 * stable path of its UART in (a symlink the previous board's --next names, so a restarted board is found
 * again), and its step.
 */
#ifndef TP_POSIX_PTY_RING_H
#define TP_POSIX_PTY_RING_H

#include <stdint.h>

#include "../../src/serve.h"

/* argv[i] = a, argv[i + 1] = v (NULL when none): 0 not a ring option, 1 a flag alone, 2 a flag and its value,
 * -1 a usage error (printed). */
int tp_ring_option(const char *a, const char *v);

/* 1 with --ring. */
int tp_ring_mode(void);

/* After the PTYs are open: checks the ring options against the wiring (-1: a usage error, printed); with
 * --in-link, points that symlink at the board's PTY_IN (in_fd's). */
int tp_ring_setup(int in_fd, int master);

/* After tp_server_init: joins the ring (has_next: --next, else a ring of one, no links) and, on board 0, starts the
 * driver. */
void tp_ring_start(tp_server *s, uint16_t session, int has_next);

/* Reads stdin (the parent; with --console stdio, board 0's console): -1 when it closed. */
int tp_ring_stdin(void);

/* One step: the driver's (board 0) or tp_ring_step. Nonzero: stop (the pump said so, or --stories ran). */
int tp_ring_board_step(tp_server *s);

#endif
