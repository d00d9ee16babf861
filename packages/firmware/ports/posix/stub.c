/*
 * esptool's flasher stub, as the board behaves once MEM_END started it (docs/esp-rom.md "Stub"): 2-byte
 * status (the error code first), 16 KiB blocks, BEGIN with 4 or 5 words and the exact size, erase as the data
 * reaches each sector, raw 16-byte MD5, ERASE_FLASH / ERASE_REGION / READ_FLASH / RUN_USER_CODE. It attached
 * the flash itself when it started, so SPI_ATTACH is optional.
 */
#define _XOPEN_SOURCE 700
#include <string.h>

#include "loader.h"

/* the stub's response codes (esptool util.py's table; esp-flasher-stub's RESPONSE_*) */
enum {
    E_BAD_DATA_LEN = 0xc0,
    E_BAD_CHECKSUM = 0xc1,
    E_FAILED_SPI = 0xc4,
    E_NOT_IN_FLASH_MODE = 0xc6,
    E_INFLATE = 0xc7,
    E_NOT_ENOUGH_DATA = 0xc8,
    E_TOO_MUCH_DATA = 0xc9,
    E_NOT_IMPLEMENTED = 0xff
};

#define STUB_FLASH_BLOCK 0x4000u /* esptool's FLASH_WRITE_SIZE for the stub */
#define READ_PACKET_MAX 4096u    /* esp-flasher-stub's READ_FLASH buffer */

static void ok(tp_loader *L, uint8_t op) { tp_loader_reply(L, op, 0, NULL, 0, 0); }
static void fail(tp_loader *L, uint8_t op, uint8_t e) { tp_loader_reply(L, op, 0, NULL, 0, e); }

static uint8_t write_error(tp_write_result r) {
    switch (r) {
    case WR_OK: return 0;
    case WR_NOT_BEGUN: return E_NOT_IN_FLASH_MODE;
    case WR_INFLATE: return E_INFLATE;
    case WR_TOO_MUCH: return E_TOO_MUCH_DATA;
    case WR_NOT_DONE: return E_BAD_DATA_LEN;
    default: return E_FAILED_SPI;
    }
}

static int in_flash(const tp_loader *L, uint32_t addr, uint32_t len) {
    return (uint64_t)addr + len <= L->flash_size && (uint64_t)addr + len <= L->chip_size;
}

/* BEGIN: size (the exact bytes to write), blocks, block size, offset [, encrypted] */
static void begin(tp_loader *L, uint8_t op, const uint8_t *d, size_t size) {
    if (size != 16 && size != 20) return fail(L, op, E_BAD_DATA_LEN);
    if (size == 20 && tp_le32(d + 16) != 0) return fail(L, op, E_FAILED_SPI); /* no flash encryption here */
    uint8_t e = write_error(tp_flash_begin(L, tp_le32(d + 12), tp_le32(d), op == OP_FLASH_DEFL_BEGIN, 0));
    if (e) return fail(L, op, e);
    ok(L, op);
}

static void data(tp_loader *L, uint8_t op, const uint8_t *d, size_t size, uint32_t checksum) {
    if (size < BLOCK_HEADER) return fail(L, op, op == OP_FLASH_DATA ? E_NOT_ENOUGH_DATA : E_BAD_DATA_LEN);
    if (!L->write.active || L->write.compressed != (op == OP_FLASH_DEFL_DATA)) return fail(L, op, E_NOT_IN_FLASH_MODE);
    size_t len = size - BLOCK_HEADER;
    if (tp_le32(d) != len) return fail(L, op, E_BAD_DATA_LEN);
    if (tp_loader_checksum(d + BLOCK_HEADER, len) != (checksum & 0xff)) return fail(L, op, E_BAD_CHECKSUM);
    uint8_t e = write_error(tp_flash_data(L, d + BLOCK_HEADER, len));
    if (e) return fail(L, op, e);
    ok(L, op);
}

/* FLASH_END / FLASH_DEFL_END once every byte arrived: 0 reboots (into the firmware), 1 stays in the stub. */
static void end(tp_loader *L, uint8_t op, const uint8_t *d, size_t size) {
    if (size != 4) return fail(L, op, E_BAD_DATA_LEN);
    uint8_t e = write_error(tp_flash_end(L, 1));
    if (e) return fail(L, op, e);
    ok(L, op);
    if (tp_le32(d) == 0) L->reset = RESET_BOOT;
}

static void md5(tp_loader *L, const uint8_t *d, size_t size) {
    if (size != 16) return fail(L, OP_SPI_FLASH_MD5, E_BAD_DATA_LEN);
    uint32_t addr = tp_le32(d), len = tp_le32(d + 4);
    if (!in_flash(L, addr, len)) return fail(L, OP_SPI_FLASH_MD5, E_FAILED_SPI);
    uint8_t digest[16];
    tp_flash_md5(L, addr, len, digest);
    tp_loader_reply(L, OP_SPI_FLASH_MD5, 0, digest, sizeof digest, 0); /* the stub's form: 16 raw bytes */
}

static void erase_region(tp_loader *L, const uint8_t *d, size_t size) {
    if (size != 8) return fail(L, OP_ERASE_REGION, E_BAD_DATA_LEN);
    uint32_t addr = tp_le32(d), len = tp_le32(d + 4);
    if (addr % SECTOR || len % SECTOR) return fail(L, OP_ERASE_REGION, E_BAD_DATA_LEN);
    if (!in_flash(L, addr, len) || tp_flash_erase(L, addr, len) != WR_OK) return fail(L, OP_ERASE_REGION, E_FAILED_SPI);
    ok(L, OP_ERASE_REGION);
}

/* READ_FLASH: offset, length, packet size, packets in flight. After the reply the stub sends the data as bare
 * SLIP frames, each acknowledged by the host with the total received (u32), then the MD5 of it all. */
static void read_flash(tp_loader *L, const uint8_t *d, size_t size) {
    if (size != 16) return fail(L, OP_READ_FLASH, E_BAD_DATA_LEN);
    uint32_t addr = tp_le32(d), len = tp_le32(d + 4), packet = tp_le32(d + 8);
    if (packet == 0 || packet > READ_PACKET_MAX) return fail(L, OP_READ_FLASH, E_BAD_DATA_LEN);
    if (!in_flash(L, addr, len)) return fail(L, OP_READ_FLASH, E_FAILED_SPI);
    ok(L, OP_READ_FLASH);
    for (uint32_t sent = 0; sent < len;) {
        uint32_t n = len - sent < packet ? len - sent : packet;
        tp_loader_send_frame(L, L->flash + addr + sent, n);
        sent += n;
        uint8_t ack[8]; /* one packet in flight, as esp-flasher-stub does */
        if (tp_loader_read_frame(L, ack, sizeof ack, 3000) != 4 || tp_le32(ack) != sent) return;
    }
    uint8_t digest[16];
    tp_flash_md5(L, addr, len, digest);
    tp_loader_send_frame(L, digest, sizeof digest);
}

void tp_stub_command(tp_loader *L, uint8_t op, const uint8_t *d, size_t size, uint32_t checksum) {
    if (size > STUB_FLASH_BLOCK + BLOCK_HEADER) return fail(L, op, E_BAD_DATA_LEN); /* over its receive buffer */
    switch (op) {
    case OP_SYNC:
        if (size != 36) return fail(L, op, E_BAD_DATA_LEN);
        for (int i = 0; i < 8; i++) ok(L, op); /* eight, as the ROM, but value 0: "a stub is running" */
        return;
    case OP_READ_REG:
        if (size != 4) return fail(L, op, E_BAD_DATA_LEN);
        return tp_loader_reply(L, op, tp_regs_read(L, tp_le32(d)), NULL, 0, 0);
    case OP_WRITE_REG:
        if (size == 0 || size % 16) return fail(L, op, E_NOT_ENOUGH_DATA);
        for (size_t i = 0; i < size; i += 16) tp_regs_write(L, tp_le32(d + i), tp_le32(d + i + 4), tp_le32(d + i + 8));
        return ok(L, op);
    case OP_GET_SECURITY_INFO:
        if (size != 0) return fail(L, op, E_BAD_DATA_LEN);
        return tp_loader_security_info(L, op);
    case OP_SPI_ATTACH: /* one word to the stub */
        if (size != 4) return fail(L, op, E_BAD_DATA_LEN);
        return ok(L, op);
    case OP_SPI_SET_PARAMS:
        if (size != 24) return fail(L, op, E_BAD_DATA_LEN);
        if (tp_le32(d + 4) == 0) return fail(L, op, E_FAILED_SPI);
        L->chip_size = tp_le32(d + 4);
        return ok(L, op);
    case OP_CHANGE_BAUDRATE: /* new baud, old baud */
        if (size != 8) return fail(L, op, E_BAD_DATA_LEN);
        return ok(L, op);
    case OP_MEM_BEGIN:
    case OP_MEM_END: /* accepted; the board runs no further uploaded code */
        if (size != (op == OP_MEM_BEGIN ? 16u : 8u)) return fail(L, op, E_BAD_DATA_LEN);
        return ok(L, op);
    case OP_MEM_DATA:
        if (size < BLOCK_HEADER || tp_le32(d) != size - BLOCK_HEADER) return fail(L, op, E_TOO_MUCH_DATA);
        if (tp_loader_checksum(d + BLOCK_HEADER, size - BLOCK_HEADER) != (checksum & 0xff))
            return fail(L, op, E_BAD_CHECKSUM);
        return ok(L, op);
    case OP_FLASH_BEGIN:
    case OP_FLASH_DEFL_BEGIN: return begin(L, op, d, size);
    case OP_FLASH_DATA:
    case OP_FLASH_DEFL_DATA: return data(L, op, d, size, checksum);
    case OP_FLASH_END:
    case OP_FLASH_DEFL_END: return end(L, op, d, size);
    case OP_SPI_FLASH_MD5: return md5(L, d, size);
    case OP_ERASE_FLASH:
        if (size != 0) return fail(L, op, E_BAD_DATA_LEN);
        tp_flash_erase(L, 0, (uint32_t)L->flash_size);
        return ok(L, op);
    case OP_ERASE_REGION: return erase_region(L, d, size);
    case OP_READ_FLASH: return read_flash(L, d, size);
    case OP_RUN_USER_CODE: /* leaves the stub without a reply */ L->reset = RESET_BOOT; return;
    default: return fail(L, op, E_NOT_IMPLEMENTED);
    }
}
