/*
 * The ESP32-S3 ROM loader's commands (docs/esp-rom.md "ROM"): 4-byte status, error codes from the ROM's
 * table, SPI_ATTACH (two words) before any flash command, 5-word BEGINs, the region erased before BEGIN
 * answers, data blocks of at most 0x400 bytes, MD5 as 32 ASCII hex characters, no stub-only commands.
 * MEM_BEGIN/MEM_DATA/MEM_END with an entry point in uploaded code starts the flasher stub (stub.c).
 */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "loader.h"

/* ROM error codes (serial-protocol.rst "ROM Loader Errors") */
enum {
    E_BAD_PARAM = 0x01,   /* "The input parameter is invalid" */
    E_BAD_FORMAT = 0x05,  /* "The format of the received message is invalid" */
    E_FAILED = 0x06,      /* "Message is ok, but the running result is wrong" */
    E_CHECKSUM = 0x07,    /* "Checksum error" */
    E_FLASH_WRITE = 0x08, /* "Flash write error" */
    E_DEFLATE = 0x0b,     /* "Deflate failed error" */
    E_RAM_SIZE = 0x0e,    /* "Invalid RAM binary size" */
    E_RAM_ADDR = 0x0f     /* "Invalid RAM binary address" */
};

#define ROM_FLASH_BLOCK 0x400u /* esptool's FLASH_WRITE_SIZE for the ROM */
#define ROM_RAM_BLOCK 0x1800u  /* esptool's ESP_RAM_BLOCK */

/* The S3's internal RAM a RAM download may target (esptool's MEMORY_MAP for the ESP32-S3) */
static const struct {
    uint32_t from, to;
    int code;
} ram[] = {
    {0x40370000u, 0x403e0000u, 1}, /* IRAM: the stub's code */
    {0x3fc88000u, 0x3fd00000u, 0}, /* DRAM: its data */
};

static void ok(tp_loader *L, uint8_t op) { tp_loader_reply(L, op, 0, NULL, 0, 0); }
static void fail(tp_loader *L, uint8_t op, uint8_t e) { tp_loader_reply(L, op, 0, NULL, 0, e); }

static int ram_region(uint32_t addr) {
    for (size_t i = 0; i < sizeof ram / sizeof ram[0]; i++)
        if (addr >= ram[i].from && addr < ram[i].to) return (int)i;
    return -1;
}

static void mem_begin(tp_loader *L, const uint8_t *d, size_t size) {
    if (size != 16) return fail(L, OP_MEM_BEGIN, E_BAD_FORMAT);
    uint32_t total = tp_le32(d), offset = tp_le32(d + 12);
    int r = ram_region(offset);
    if (r < 0) return fail(L, OP_MEM_BEGIN, E_RAM_ADDR);
    if ((uint64_t)offset + total > ram[r].to) return fail(L, OP_MEM_BEGIN, E_RAM_SIZE);
    L->mem.active = 1, L->mem.offset = offset, L->mem.remaining = total;
    ok(L, OP_MEM_BEGIN);
}

static void mem_data(tp_loader *L, const uint8_t *d, size_t size, uint32_t checksum) {
    if (size < BLOCK_HEADER || size - BLOCK_HEADER > ROM_RAM_BLOCK || tp_le32(d) != size - BLOCK_HEADER)
        return fail(L, OP_MEM_DATA, E_BAD_FORMAT);
    uint32_t len = (uint32_t)(size - BLOCK_HEADER);
    if (tp_loader_checksum(d + BLOCK_HEADER, len) != (checksum & 0xff)) return fail(L, OP_MEM_DATA, E_CHECKSUM);
    if (!L->mem.active) return fail(L, OP_MEM_DATA, E_FAILED);
    if (len > L->mem.remaining) return fail(L, OP_MEM_DATA, E_RAM_SIZE);
    int r = ram_region(L->mem.offset);
    if (r >= 0 && ram[r].code) { /* where code landed: MEM_END may jump into it */
        if (!L->mem.text_to || L->mem.offset < L->mem.text_from) L->mem.text_from = L->mem.offset;
        if (L->mem.offset + len > L->mem.text_to) L->mem.text_to = L->mem.offset + len;
    }
    L->mem.offset += len, L->mem.remaining -= len;
    ok(L, OP_MEM_DATA);
}

/* MEM_END: word 0 is 0 to run the entry point (word 1). The board cannot execute Xtensa code: code uploaded
 * where the entry points is taken to be esptool's flasher stub, which greets with OHAI and takes over. */
static void mem_end(tp_loader *L, const uint8_t *d, size_t size) {
    if (size != 8) return fail(L, OP_MEM_END, E_BAD_FORMAT);
    uint32_t stay = tp_le32(d), entry = tp_le32(d + 4);
    L->mem.active = 0;
    ok(L, OP_MEM_END);
    if (stay) return;
    if (entry < L->mem.text_from || entry >= L->mem.text_to) {
        fprintf(stderr, "tinypipe-board: rom: MEM_END jumps to 0x%08x, outside uploaded code: the chip would crash\n",
                entry);
        return;
    }
    struct timespec pause = {0, 1000000}; /* the stub starts after the ROM's reply has left */
    nanosleep(&pause, NULL);
    static const uint8_t ohai[4] = {'O', 'H', 'A', 'I'};
    L->mode = MODE_STUB;
    if (L->write.active && L->write.compressed) inflateEnd(&L->write.z); /* a ROM write left open (fuzz_rom) */
    memset(&L->write, 0, sizeof L->write);
    tp_loader_send_frame(L, ohai, sizeof ohai);
    fprintf(stderr, "tinypipe-board: rom: stub running (entry 0x%08x)\n", entry);
}

static uint8_t write_error(tp_write_result r) {
    return r == WR_OK ? 0 : r == WR_INFLATE ? E_DEFLATE : r == WR_RANGE ? E_FLASH_WRITE : E_FAILED;
}

/* FLASH_BEGIN / FLASH_DEFL_BEGIN: erase size, blocks, block size, offset, encrypted. The ROM erases before it
 * answers (esptool waits up to 40 s/MB for it). */
static void begin(tp_loader *L, uint8_t op, const uint8_t *d, size_t size) {
    if (size != 20) return fail(L, op, E_BAD_FORMAT);                  /* the S3 ROM takes the 5th word */
    if (!L->attached && tp_le32(d) != 0) return fail(L, op, E_FAILED); /* size 0 (esptool's run) erases nothing */
    if (tp_le32(d + 16) != 0) return fail(L, op, E_BAD_PARAM);         /* no flash encryption on this chip */
    tp_write_result r = tp_flash_begin(L, tp_le32(d + 12), tp_le32(d), op == OP_FLASH_DEFL_BEGIN, 1);
    if (r != WR_OK) return fail(L, op, r == WR_RANGE ? E_BAD_PARAM : E_FAILED);
    ok(L, op);
}

static void data(tp_loader *L, uint8_t op, const uint8_t *d, size_t size, uint32_t checksum) {
    /* a block over 0x400 bytes overruns the ROM's receive buffer: the message is not one it can read */
    if (size < BLOCK_HEADER || size - BLOCK_HEADER > ROM_FLASH_BLOCK || tp_le32(d) != size - BLOCK_HEADER)
        return fail(L, op, E_BAD_FORMAT);
    if (!L->attached) return fail(L, op, E_FAILED);
    if (tp_loader_checksum(d + BLOCK_HEADER, size - BLOCK_HEADER) != (checksum & 0xff)) return fail(L, op, E_CHECKSUM);
    if (!L->write.active || L->write.compressed != (op == OP_FLASH_DEFL_DATA)) return fail(L, op, E_FAILED);
    uint8_t e = write_error(tp_flash_data(L, d + BLOCK_HEADER, size - BLOCK_HEADER));
    if (e) return fail(L, op, e);
    ok(L, op);
}

/* FLASH_END / FLASH_DEFL_END leave the ROM loader: 0 reboots, 1 runs the user code; either way the chip
 * (GPIO0 released) boots from flash. */
static void end(tp_loader *L, uint8_t op, size_t size) {
    if (size != 4) return fail(L, op, E_BAD_FORMAT);
    tp_flash_end(L, 0);
    ok(L, op);
    L->reset = RESET_BOOT;
}

static void md5(tp_loader *L, const uint8_t *d, size_t size) {
    if (size != 16) return fail(L, OP_SPI_FLASH_MD5, E_BAD_FORMAT);
    if (!L->attached) return fail(L, OP_SPI_FLASH_MD5, E_FAILED);
    uint32_t addr = tp_le32(d), len = tp_le32(d + 4);
    if ((uint64_t)addr + len > L->chip_size || (uint64_t)addr + len > L->flash_size)
        return fail(L, OP_SPI_FLASH_MD5, E_BAD_PARAM);
    uint8_t digest[16];
    char hex[33];
    tp_flash_md5(L, addr, len, digest);
    for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    tp_loader_reply(L, OP_SPI_FLASH_MD5, 0, (const uint8_t *)hex, 32, 0); /* the ROM's form: ASCII hex */
}

void tp_rom_command(tp_loader *L, uint8_t op, const uint8_t *d, size_t size, uint32_t checksum) {
    switch (op) {
    case OP_SYNC:
        if (size != 36) return fail(L, op, E_BAD_FORMAT);
        /* eight replies, the value non-zero (a stub answers 0): the first word of the SYNC data */
        for (int i = 0; i < 8; i++) tp_loader_reply(L, op, tp_le32(d), NULL, 0, 0);
        return;
    case OP_READ_REG:
        if (size != 4) return fail(L, op, E_BAD_FORMAT);
        return tp_loader_reply(L, op, tp_regs_read(L, tp_le32(d)), NULL, 0, 0);
    case OP_WRITE_REG: /* address, value, mask, delay µs; esptool may send two in one command */
        if (size == 0 || size % 16) return fail(L, op, E_BAD_FORMAT);
        for (size_t i = 0; i < size; i += 16) {
            struct timespec t = {0, (long)(tp_le32(d + i + 12) % 1000000) * 1000};
            nanosleep(&t, NULL);
            tp_regs_write(L, tp_le32(d + i), tp_le32(d + i + 4), tp_le32(d + i + 8));
        }
        return ok(L, op);
    case OP_GET_SECURITY_INFO:
        if (size != 0) return fail(L, op, E_BAD_FORMAT);
        return tp_loader_security_info(L, op);
    case OP_SPI_ATTACH: /* pins (0: the default SPI flash) and, to the ROM only, a second word */
        if (size != 8) return fail(L, op, E_BAD_FORMAT);
        L->attached = 1;
        return ok(L, op);
    case OP_SPI_SET_PARAMS: /* id, total size, block, sector, page, status mask */
        if (size != 24) return fail(L, op, E_BAD_FORMAT);
        if (tp_le32(d + 4) == 0) return fail(L, op, E_BAD_PARAM);
        L->chip_size = tp_le32(d + 4);
        return ok(L, op);
    case OP_CHANGE_BAUDRATE: /* new baud, 0 (to the ROM); a PTY has no baud to change */
        if (size != 8) return fail(L, op, E_BAD_FORMAT);
        return ok(L, op);
    case OP_MEM_BEGIN: return mem_begin(L, d, size);
    case OP_MEM_DATA: return mem_data(L, d, size, checksum);
    case OP_MEM_END: return mem_end(L, d, size);
    case OP_FLASH_BEGIN:
    case OP_FLASH_DEFL_BEGIN: return begin(L, op, d, size);
    case OP_FLASH_DATA:
    case OP_FLASH_DEFL_DATA: return data(L, op, d, size, checksum);
    case OP_FLASH_END:
    case OP_FLASH_DEFL_END: return end(L, op, size);
    case OP_SPI_FLASH_MD5: return md5(L, d, size);
    default: return fail(L, op, E_BAD_FORMAT); /* unknown to the ROM, the stub-only commands included */
    }
}
