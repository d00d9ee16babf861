/*
 * tinypipe-board --pty's options (pty_options.h): each flag, its value, and the combinations refused.
 */
#include "pty_options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/serve.h"
#include "pty_ring.h"

static int parse_mac(const char *s, uint8_t mac[6]) {
    unsigned v[6];
    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return -1;
    for (int i = 0; i < 6; i++) mac[i] = (uint8_t)v[i];
    return 0;
}

int tp_pty_options_parse(int argc, char **argv, tp_pty_options *o) {
    static const tp_rom_options rom = {9, {0x7c, 0xdf, 0xa1, 0x00, 0x00, 0x01}, -1, -1, -1, 10000, 0};
    memset(o, 0, sizeof *o);
    o->flash_size = 16ul << 20;
    o->rom = rom;
    o->board = 0xffff, o->seed = 1;
    o->streams = 4;
    o->chain_mode = TP_CHAIN_NONE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--pty")) continue;
        int ring = tp_ring_option(a, v); /* pty_ring.c */
        if (ring < 0) return 2;
        if (ring) {
            i += ring - 1;
            continue;
        }
        if (!strcmp(a, "--in-pty")) {
            o->in_pty = 1;
            continue;
        }
        if (!strcmp(a, "--boot")) {
            o->boot_now = 1;
            continue;
        }
        if (!strcmp(a, "--out-pty")) {
            o->chain_mode = TP_CHAIN_HOST;
            continue;
        }
        if (!v) return fprintf(stderr, "tinypipe-board: USAGE: %s needs a value\n", a), 2;
        if (!strcmp(a, "--image")) o->image_path = v;
        else if (!strcmp(a, "--flash")) o->flash_path = v;
        else if (!strcmp(a, "--flash-size")) o->flash_size = strtoul(v, NULL, 0);
        else if (!strcmp(a, "--chip-id")) o->rom.chip_id = (uint32_t)strtoul(v, NULL, 0);
        else if (!strcmp(a, "--mac")) {
            if (parse_mac(v, o->rom.mac) != 0)
                return fprintf(stderr, "tinypipe-board: USAGE: --mac aa:bb:cc:dd:ee:ff\n"), 2;
        } else if (!strcmp(a, "--drop-after")) o->rom.drop_after = strtol(v, NULL, 10);
        else if (!strcmp(a, "--corrupt-block")) o->rom.corrupt_block = strtol(v, NULL, 10);
        else if (!strcmp(a, "--erase-us-per-mb")) o->rom.erase_us_per_mb = strtol(v, NULL, 10);
        else if (!strcmp(a, "--md5-us-per-mb")) o->rom.md5_us_per_mb = strtol(v, NULL, 10);
        else if (!strcmp(a, "--board")) o->board = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--streams")) {
            o->streams = (int)strtol(v, NULL, 10);
            if (o->streams < 1 || o->streams > TP_SERVE_MAX_STREAMS)
                return fprintf(stderr, "tinypipe-board: USAGE: --streams must be 1..%d\n", TP_SERVE_MAX_STREAMS), 2;
        } else if (!strcmp(a, "--psram")) o->psram = (size_t)strtoull(v, NULL, 10);
        else if (!strcmp(a, "--ber")) o->ber = strtod(v, NULL);
        else if (!strcmp(a, "--drop")) o->drop = strtod(v, NULL);
        else if (!strcmp(a, "--seed")) o->seed = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--stage-us")) o->stage_us = strtol(v, NULL, 10);
        else if (!strcmp(a, "--preload-us")) o->preload_us = strtol(v, NULL, 10);
        else if (!strcmp(a, "--line-baud")) o->line_baud = strtol(v, NULL, 10);
        else if (!strcmp(a, "--stall-ms")) o->stall_ms = strtol(v, NULL, 10);
        else if (!strcmp(a, "--next")) o->next_path = v, o->chain_mode = TP_CHAIN_NEXT;
        else return fprintf(stderr, "tinypipe-board: USAGE: unknown option %s\n", a), 2;
        i++;
    }
    if (o->next_path && o->chain_mode == TP_CHAIN_HOST)
        return fprintf(
                   stderr,
                   "tinypipe-board: USAGE: --next (a board in the middle) or --out-pty (the last board), not both\n"),
               2;
    if (!o->image_path == !o->flash_path)
        return fprintf(stderr, "tinypipe-board: USAGE: give --image PATH or --flash FILE\n"), 2;
    return 0;
}
