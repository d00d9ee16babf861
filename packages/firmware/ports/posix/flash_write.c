/*
 * The virtual chip's SPI NOR flash and one BEGIN…DATA…END write session, shared by both loaders. NOR flash
 * programs by clearing bits (a write ANDs into what is there) and only an erase sets a 4 KiB sector back to
 * 0xFF, so a write into a sector nobody erased shows. The ROM erases the announced region at BEGIN; the stub
 * erases each sector when the data first reaches it.
 */
#define _XOPEN_SOURCE 700
#include "loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md5.h"

static uint32_t align_down(uint32_t x) { return x / SECTOR * SECTOR; }
static uint64_t align_up(uint64_t x) { return (x + SECTOR - 1) / SECTOR * SECTOR; }

/* the bytes the ROM's / stub's flash functions may reach: the flash, as SPI_SET_PARAMS described it */
static uint64_t limit(const tp_loader *L) { return L->chip_size < L->flash_size ? L->chip_size : L->flash_size; }

tp_write_result tp_flash_erase(tp_loader *L, uint32_t offset, uint32_t size) {
    if ((uint64_t)offset + size > L->flash_size) return WR_RANGE;
    memset(L->flash + offset, 0xff, size);
    tp_loader_erase_time(L, size);
    return WR_OK;
}

void tp_flash_md5(const tp_loader *L, uint32_t addr, uint32_t size, uint8_t digest[16]) {
    tp_md5 m;
    tp_md5_init(&m);
    tp_md5_update(&m, L->flash + addr, size);
    tp_md5_final(&m, digest);
    tp_loader_md5_time(L, size);
}

tp_write_result tp_flash_begin(tp_loader *L, uint32_t offset, uint32_t size, int compressed, int erase_at_begin) {
    tp_flash_write *w = &L->write;
    if ((uint64_t)offset + size > limit(L)) return WR_RANGE;
    if (w->active && w->compressed) inflateEnd(&w->z);
    memset(w, 0, sizeof *w);
    if (compressed && inflateInit(&w->z) != Z_OK) return WR_INFLATE;
    w->active = 1, w->compressed = compressed, w->erase_at_begin = erase_at_begin;
    w->offset = offset, w->size = size, w->erased_to = align_down(offset);
    if (size > 0) /* the flasher's tests count sessions (resume skips finished chunks) */
        fprintf(stderr, "tinypipe-board: flash: begin 0x%x size %u%s\n", offset, size, compressed ? " deflate" : "");
    uint64_t end = align_up((uint64_t)offset + size);
    if (end > L->flash_size) end = L->flash_size;
    if (erase_at_begin) { /* the ROM: the whole region, sector by sector, before it answers */
        tp_flash_erase(L, w->erased_to, (uint32_t)(end - w->erased_to));
        w->erased_to = (uint32_t)end;
    } else if (size > 0) { /* the stub starts erasing its first sector at BEGIN */
        tp_flash_erase(L, w->erased_to, SECTOR);
        w->erased_to += SECTOR;
    }
    return WR_OK;
}

/* Programs n bytes at the session's position. */
static tp_write_result program(tp_loader *L, const uint8_t *bytes, size_t n) {
    tp_flash_write *w = &L->write;
    if (!w->erase_at_begin && (uint64_t)w->written + n > w->size) return WR_TOO_MUCH; /* the stub counts bytes */
    uint64_t at = (uint64_t)w->offset + w->written;
    if (at + n > limit(L)) return WR_RANGE;
    while (!w->erase_at_begin && w->erased_to < at + n) { /* the stub: erase just ahead of the data */
        tp_flash_erase(L, w->erased_to, SECTOR);
        w->erased_to += SECTOR;
    }
    for (size_t i = 0; i < n; i++) L->flash[at + i] &= bytes[i];
    w->written += (uint32_t)n;
    return WR_OK;
}

tp_write_result tp_flash_data(tp_loader *L, const uint8_t *block, size_t len) {
    tp_flash_write *w = &L->write;
    if (!w->active) return WR_NOT_BEGUN;
    L->blocks_seen++;
    if (L->opt->drop_after >= 0 && L->blocks_seen > L->opt->drop_after) {
        fprintf(stderr, "tinypipe-board: fault: the line drops mid-write (block %ld)\n", L->blocks_seen);
        exit(3);
    }
    uint32_t before = w->written;
    tp_write_result r = WR_OK;
    if (!w->compressed) {
        /* the stub writes only the bytes BEGIN announced (the last block comes padded); the ROM all of it */
        size_t n = w->erase_at_begin || len <= w->size - w->written ? len : w->size - w->written;
        r = program(L, block, n);
    } else {
        static uint8_t out[64 * 1024];
        w->z.next_in = (Bytef *)block, w->z.avail_in = (uInt)len;
        for (int more = 1; more && r == WR_OK;) {
            w->z.next_out = out, w->z.avail_out = sizeof out;
            int z = inflate(&w->z, Z_NO_FLUSH);
            if (z != Z_OK && z != Z_STREAM_END && z != Z_BUF_ERROR) return WR_INFLATE;
            size_t produced = sizeof out - w->z.avail_out;
            if (produced) r = program(L, out, produced);
            more = z == Z_OK && (w->z.avail_in > 0 || w->z.avail_out == 0);
        }
    }
    if (r == WR_OK && L->opt->corrupt_block >= 0 && L->blocks_seen - 1 == L->opt->corrupt_block && w->written > before)
        L->flash[w->offset + before] ^= 0x01; /* fault: a bit goes wrong in flash */
    return r;
}

tp_write_result tp_flash_end(tp_loader *L, int need_all) {
    tp_flash_write *w = &L->write;
    if (!w->active) return WR_NOT_BEGUN;
    if (need_all && w->written < w->size) return WR_NOT_DONE;
    if (w->compressed) inflateEnd(&w->z);
    memset(w, 0, sizeof *w);
    return WR_OK;
}
