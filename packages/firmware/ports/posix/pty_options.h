/*
 * The simulated board's protocol-mode options (tinypipe-board --pty …; pty_board.c lists them): parsed into
 * one struct, checked against each other. The ring's own options are pty_ring.c's (tp_ring_option).
 */
#ifndef TP_POSIX_PTY_OPTIONS_H
#define TP_POSIX_PTY_OPTIONS_H

#include <stddef.h>

#include "rom.h"

typedef struct {
    const char *image_path; /* --image */
    const char *flash_path; /* --flash */
    unsigned long flash_size;
    tp_rom_options rom;
    int boot_now; /* --boot: power on booting the flash, no ROM loader */
    unsigned board, seed;
    double ber, drop;
    int streams;
    size_t psram;   /* --psram: the bytes the stream arenas may take together (0: no limit) */
    int in_pty;     /* --in-pty */
    int chain_mode; /* TP_CHAIN_* (serve.h) */
    const char *next_path;
    long stage_us, preload_us, line_baud; /* emulation of a real board's speed (0: as fast as the host) */
    long stall_ms; /* --stall-ms: report each time the process could not run for longer (0: off; pty_stall.c) */
} tp_pty_options;

/* Fills o from argv (defaults for what is not given). 0, or the exit status of a usage error (printed). */
int tp_pty_options_parse(int argc, char **argv, tp_pty_options *o);

#endif
