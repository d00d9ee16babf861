#define _XOPEN_SOURCE 700
#include "rom.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "md5.h"

/*
 * Packets, before SLIP (0xC0 ends a frame; 0xDB 0xDC = 0xC0, 0xDB 0xDD = 0xDB):
 *   command:  u8 0x00, u8 op, u16 size, u32 checksum (XOR of the data block, seeded 0xEF), data[size]
 *   response: u8 0x01, u8 op, u16 size, u32 value, data[size] — data ends with status, error (2 bytes)
 */
enum {
    OP_FLASH_BEGIN = 0x02, OP_FLASH_DATA = 0x03, OP_FLASH_END = 0x04, OP_SYNC = 0x08, OP_WRITE_REG = 0x09,
    OP_READ_REG = 0x0a, OP_SPI_SET_PARAMS = 0x0b, OP_SPI_ATTACH = 0x0d, OP_CHANGE_BAUDRATE = 0x0f,
    OP_FLASH_DEFL_BEGIN = 0x10, OP_FLASH_DEFL_DATA = 0x11, OP_FLASH_DEFL_END = 0x12, OP_SPI_FLASH_MD5 = 0x13,
    OP_GET_SECURITY_INFO = 0x14, OP_ERASE_REGION = 0xd1
};
enum { ERR_BAD_DATA_LEN = 0xc0, ERR_BAD_DATA_CHECKSUM = 0xc1, ERR_INVALID_COMMAND = 0xc5, ERR_FAILED = 0xc6,
       ERR_DEFLATE = 0xcb, ERR_NOT_IN_FLASH_MODE = 0xc9 };

/* registers the flasher reads: eFuse MAC words and the SPI1 user-command block (flash JEDEC id) */
#define EFUSE_MAC0 0x60007044u
#define EFUSE_MAC1 0x60007048u
#define SPI1 0x60002000u
#define SPI_CMD (SPI1 + 0x00)
#define SPI_USR2 (SPI1 + 0x20)
#define SPI_W0 (SPI1 + 0x58)
#define SPI_CMD_USR (1u << 18)

static int fd_;
static uint8_t *flash_;
static size_t flash_size_;
static const tp_rom_options *opt_;
static long blocks_seen;
static uint32_t spi_usr2, spi_w0;

/* the current FLASH_(DEFL_)BEGIN */
static struct {
    int active, compressed;
    uint32_t offset, size, written, next_seq;
    z_stream z;
} w;

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24); }

static void write_slip(const uint8_t *p, size_t n) {
    static uint8_t out[2 * 1024 + 16];
    size_t o = 0;
    out[o++] = 0xc0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == 0xc0) out[o++] = 0xdb, out[o++] = 0xdc;
        else if (p[i] == 0xdb) out[o++] = 0xdb, out[o++] = 0xdd;
        else out[o++] = p[i];
    }
    out[o++] = 0xc0;
    for (size_t at = 0; at < o;) {
        ssize_t k = write(fd_, out + at, o - at);
        if (k <= 0) return;
        at += (size_t)k;
    }
}

static void respond(uint8_t op, uint32_t value, const uint8_t *data, size_t n, uint8_t status, uint8_t error) {
    uint8_t p[8 + 64];
    p[0] = 0x01, p[1] = op, p[2] = (uint8_t)(n + 2), p[3] = 0;
    put(p + 4, value);
    if (n) memcpy(p + 8, data, n);
    p[8 + n] = status, p[9 + n] = error;
    write_slip(p, 10 + n);
}

static void ok(uint8_t op) { respond(op, 0, NULL, 0, 0, 0); }
static void fail(uint8_t op, uint8_t error) { respond(op, 0, NULL, 0, 1, error); }

static uint32_t read_reg(uint32_t addr) {
    const uint8_t *m = opt_->mac;
    if (addr == EFUSE_MAC0) return (uint32_t)m[2] << 24 | (uint32_t)m[3] << 16 | (uint32_t)m[4] << 8 | m[5];
    if (addr == EFUSE_MAC1) return (uint32_t)m[0] << 8 | m[1];
    if (addr == SPI_CMD) return 0; /* the user command finished at once */
    if (addr == SPI_W0) return spi_w0;
    return 0;
}

static void write_reg(uint32_t addr, uint32_t value) {
    if (addr == SPI_USR2) spi_usr2 = value;
    if (addr == SPI_CMD && (value & SPI_CMD_USR) && (spi_usr2 & 0xff) == 0x9f) {
        /* RDID: manufacturer 0xEF, memory type 0x40, capacity log2(size) (0x18 = 16 MiB) */
        uint32_t log2 = 0;
        while ((1ul << log2) < flash_size_) log2++;
        spi_w0 = 0xef | 0x40u << 8 | log2 << 16;
    }
}

static void begin(uint8_t op, const uint8_t *d, size_t n) {
    if (n < 16) return fail(op, ERR_BAD_DATA_LEN);
    uint32_t size = le32(d), offset = le32(d + 12);
    if ((size_t)offset + size > flash_size_) return fail(op, ERR_FAILED);
    if (w.active && w.compressed) inflateEnd(&w.z);
    memset(&w, 0, sizeof w);
    w.active = 1, w.compressed = op == OP_FLASH_DEFL_BEGIN, w.offset = offset, w.size = size;
    uint32_t erase = (size + 4095) / 4096 * 4096;
    if ((size_t)offset + erase > flash_size_) erase = (uint32_t)(flash_size_ - offset);
    memset(flash_ + offset, 0xff, erase); /* a flash write starts with erasing its sectors */
    if (w.compressed && inflateInit(&w.z) != Z_OK) return fail(op, ERR_DEFLATE);
    ok(op);
}

static void data(uint8_t op, const uint8_t *d, size_t n, uint32_t checksum) {
    if (!w.active || w.compressed != (op == OP_FLASH_DEFL_DATA)) return fail(op, ERR_NOT_IN_FLASH_MODE);
    if (n < 16 || le32(d) != n - 16) return fail(op, ERR_BAD_DATA_LEN);
    const uint8_t *block = d + 16;
    size_t len = n - 16;
    uint8_t x = 0xef;
    for (size_t i = 0; i < len; i++) x ^= block[i];
    if (x != (checksum & 0xff)) return fail(op, ERR_BAD_DATA_CHECKSUM);
    if (le32(d + 4) != w.next_seq) return fail(op, ERR_FAILED);
    blocks_seen++;
    if (opt_->drop_after >= 0 && blocks_seen > opt_->drop_after) {
        fprintf(stderr, "tinypipe-board: fault: the line drops mid-write (block %ld)\n", blocks_seen);
        exit(3);
    }
    uint32_t before = w.written;
    if (w.compressed) {
        w.z.next_in = (Bytef *)block, w.z.avail_in = (uInt)len;
        w.z.next_out = flash_ + w.offset + w.written, w.z.avail_out = (uInt)(w.size - w.written);
        int r = inflate(&w.z, Z_NO_FLUSH);
        if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) return fail(op, ERR_DEFLATE);
        w.written = w.size - w.z.avail_out;
    } else {
        size_t take = len < w.size - w.written ? len : w.size - w.written;
        memcpy(flash_ + w.offset + w.written, block, take);
        w.written += (uint32_t)take;
    }
    if (opt_->corrupt_block >= 0 && blocks_seen - 1 == opt_->corrupt_block && w.written > before)
        flash_[w.offset + before] ^= 0x01; /* fault: a bit goes wrong in flash */
    w.next_seq++;
    ok(op);
}

static void md5(uint8_t op, const uint8_t *d, size_t n) {
    if (n < 8) return fail(op, ERR_BAD_DATA_LEN);
    uint32_t addr = le32(d), size = le32(d + 4);
    if ((size_t)addr + size > flash_size_) return fail(op, ERR_FAILED);
    tp_md5 m;
    uint8_t digest[16];
    tp_md5_init(&m);
    tp_md5_update(&m, flash_ + addr, size);
    tp_md5_final(&m, digest);
    respond(op, 0, digest, 16, 0, 0); /* the stub's form: 16 raw bytes */
}

/* One command; returns 1 when the firmware should run. */
static int command(const uint8_t *p, size_t n) {
    if (n < 8 || p[0] != 0x00) return 0; /* not a command: ignore, as the ROM does */
    uint8_t op = p[1];
    size_t size = (size_t)(p[2] | p[3] << 8);
    const uint8_t *d = p + 8;
    if (size != n - 8) return fail(op, ERR_BAD_DATA_LEN), 0;
    switch (op) {
    case OP_SYNC: respond(op, 0, NULL, 0, 0, 0); return 0; /* value 0: "the stub is running" */
    case OP_READ_REG: if (size < 4) return fail(op, ERR_BAD_DATA_LEN), 0; respond(op, read_reg(le32(d)), NULL, 0, 0, 0); return 0;
    case OP_WRITE_REG: if (size < 8) return fail(op, ERR_BAD_DATA_LEN), 0; write_reg(le32(d), le32(d + 4)); ok(op); return 0;
    case OP_GET_SECURITY_INFO: {
        uint8_t info[20] = {0};
        put(info + 12, opt_->chip_id);
        respond(op, 0, info, sizeof info, 0, 0);
        return 0;
    }
    case OP_SPI_ATTACH: case OP_SPI_SET_PARAMS: case OP_CHANGE_BAUDRATE: ok(op); return 0;
    case OP_FLASH_BEGIN: case OP_FLASH_DEFL_BEGIN: begin(op, d, size); return 0;
    case OP_FLASH_DATA: case OP_FLASH_DEFL_DATA: data(op, d, size, le32(p + 4)); return 0;
    case OP_FLASH_END: case OP_FLASH_DEFL_END: {
        if (w.active && w.compressed) inflateEnd(&w.z);
        w.active = 0;
        ok(op);
        return size >= 4 && le32(d) == 0; /* 0: reboot into the firmware */
    }
    case OP_SPI_FLASH_MD5: md5(op, d, size); return 0;
    case OP_ERASE_REGION: {
        if (size < 8 || (size_t)le32(d) + le32(d + 4) > flash_size_) return fail(op, ERR_FAILED), 0;
        memset(flash_ + le32(d), 0xff, le32(d + 4));
        ok(op);
        return 0;
    }
    default: fail(op, ERR_INVALID_COMMAND); return 0;
    }
}

int tp_rom_serve(int fd, uint8_t *flash, size_t flash_size, const tp_rom_options *o) {
    static uint8_t packet[64 * 1024];
    size_t len = 0;
    int in_frame = 0, escape = 0;
    fd_ = fd, flash_ = flash, flash_size_ = flash_size, opt_ = o;
    for (;;) {
        struct pollfd fds[3] = {{fd, POLLIN, 0}, {0, POLLIN, 0}, {o->idle_fd, POLLIN, 0}};
        if (poll(fds, o->idle_fd >= 0 ? 3 : 2, 100) < 0) continue;
        if (fds[1].revents & (POLLIN | POLLHUP)) {
            char c;
            if (read(0, &c, 1) <= 0) return -1;
        }
        if (o->idle_fd >= 0 && (fds[2].revents & POLLIN)) {
            uint8_t junk[4096]; /* the previous board says HELLO before this one runs: nobody listens yet */
            if (read(o->idle_fd, junk, sizeof junk) < 0) continue;
        }
        if (!(fds[0].revents & POLLIN)) continue;
        uint8_t buf[4096];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) continue;
        for (ssize_t i = 0; i < n; i++) {
            uint8_t b = buf[i];
            if (b == 0xc0) {
                if (in_frame && len > 0 && command(packet, len)) return 0;
                in_frame = 1, len = 0, escape = 0;
                continue;
            }
            if (!in_frame) continue;
            if (escape) b = b == 0xdc ? 0xc0 : b == 0xdd ? 0xdb : b, escape = 0;
            else if (b == 0xdb) {
                escape = 1;
                continue;
            }
            if (len < sizeof packet) packet[len++] = b;
            else in_frame = 0; /* too long: drop it and wait for the next frame */
        }
    }
}
