/*
 * Inside the virtual ESP32-S3 download mode (rom.h): the state the ROM loader (rom.c), the flasher stub
 * (stub.c), the flash writer (flash_write.c) and the register file (regs.c) share, and the framing
 * (loader.c). One chip per process: one tp_loader.
 */
#ifndef TP_LOADER_H
#define TP_LOADER_H
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "rom.h"

/* command ops (serial-protocol.rst "Commands"); 0xD0.. are the stub's only */
enum {
    OP_FLASH_BEGIN = 0x02,
    OP_FLASH_DATA = 0x03,
    OP_FLASH_END = 0x04,
    OP_MEM_BEGIN = 0x05,
    OP_MEM_END = 0x06,
    OP_MEM_DATA = 0x07,
    OP_SYNC = 0x08,
    OP_WRITE_REG = 0x09,
    OP_READ_REG = 0x0a,
    OP_SPI_SET_PARAMS = 0x0b,
    OP_SPI_ATTACH = 0x0d,
    OP_CHANGE_BAUDRATE = 0x0f,
    OP_FLASH_DEFL_BEGIN = 0x10,
    OP_FLASH_DEFL_DATA = 0x11,
    OP_FLASH_DEFL_END = 0x12,
    OP_SPI_FLASH_MD5 = 0x13,
    OP_GET_SECURITY_INFO = 0x14,
    OP_ERASE_FLASH = 0xd0,
    OP_ERASE_REGION = 0xd1,
    OP_READ_FLASH = 0xd2,
    OP_RUN_USER_CODE = 0xd3
};

#define SECTOR 4096u     /* flash erase unit */
#define BLOCK_HEADER 16u /* a _DATA command's length, sequence, 0, 0 */

typedef enum { MODE_ROM, MODE_STUB } tp_loader_mode;
typedef enum { RESET_NONE, RESET_BOOT, RESET_DOWNLOAD } tp_reset; /* what the chip does after this command */

/* How a flash write went; each loader answers with its own code. */
typedef enum { WR_OK, WR_NOT_BEGUN, WR_RANGE, WR_INFLATE, WR_TOO_MUCH, WR_NOT_DONE } tp_write_result;

typedef struct {
    int active, compressed;
    int erase_at_begin;    /* the ROM erases the whole region at BEGIN; the stub as data reaches a sector */
    uint32_t offset, size; /* the region the BEGIN announced (the ROM: erase size; the stub: exact bytes) */
    uint32_t written;      /* bytes written from offset */
    uint32_t erased_to;    /* the stub: flash below this address (in the region) is erased */
    z_stream z;
} tp_flash_write;

typedef struct {
    int fd;
    uint8_t *flash;
    size_t flash_size;
    const tp_rom_options *opt;
    tp_loader_mode mode;
    tp_reset reset;
    tp_reset reset_later; /* a watchdog armed: this reset happens at reset_at (µs, tp_loader_now_us) */
    long long reset_at;
    int attached;       /* the ROM saw SPI_ATTACH */
    uint32_t chip_size; /* SPI_SET_PARAMS' total size: the ROM's flash functions refuse beyond it */
    long blocks_seen;   /* flash data blocks, for the faults */
    tp_flash_write write;
    struct { /* the current MEM_BEGIN, and where code was uploaded */
        int active;
        uint32_t offset, remaining;
        uint32_t text_from, text_to;
    } mem;
} tp_loader;

/* loader.c: a response in the current loader's form. error 0 = success; the ROM sends status, error and two
 * reserved bytes, the stub its error code (0: success) and a zero byte. */
void tp_loader_reply(tp_loader *L, uint8_t op, uint32_t value, const uint8_t *data, size_t n, uint8_t error);
/* GET_SECURITY_INFO's 20 bytes: flags, flash_crypt_cnt, 7 key purposes (all clear), chip id, api version 0 */
void tp_loader_security_info(tp_loader *L, uint8_t op);
void tp_loader_send_frame(tp_loader *L, const uint8_t *p, size_t n);
/* Reads one SLIP frame from the host (the stub's READ_FLASH acknowledgements); its length, or -1. */
long tp_loader_read_frame(tp_loader *L, uint8_t *p, size_t cap, int timeout_ms);
/* The command's 8-bit checksum: 0xEF XOR every byte. */
uint8_t tp_loader_checksum(const uint8_t *p, size_t n);
long long tp_loader_now_us(void);
/* Sleeps for bytes of erase at the configured rate. */
void tp_loader_erase_time(tp_loader *L, uint32_t bytes);
/* Sleeps for bytes read by SPI_FLASH_MD5 at the configured rate (--md5-us-per-mb). */
void tp_loader_md5_time(const tp_loader *L, uint32_t bytes);

/* A SLIP decoder: feeds bytes, returns 1 when packet[0..*len) is a whole frame. */
typedef struct {
    int in_frame, escape;
    size_t len;
} tp_slip_rx;
int tp_slip_feed(tp_slip_rx *s, uint8_t b, uint8_t *packet, size_t cap, size_t *len);
/* What the chip is after power-on or an EN pulse with GPIO0 low: the ROM loader, nothing attached. */
void tp_loader_power_on(tp_loader *L);
/* One packet from the host, to the running loader; anything that is not a command is ignored, as the loaders
 * do. tp_rom_serve calls it for each SLIP frame; the fuzz target (test/fuzz/fuzz_rom.c) calls it without a PTY. */
void tp_loader_packet(tp_loader *L, const uint8_t *p, size_t n);

/* rom.c / stub.c: one command (op, data[size], checksum) in that loader */
void tp_rom_command(tp_loader *L, uint8_t op, const uint8_t *d, size_t size, uint32_t checksum);
void tp_stub_command(tp_loader *L, uint8_t op, const uint8_t *d, size_t size, uint32_t checksum);

/* flash_write.c */
tp_write_result tp_flash_begin(tp_loader *L, uint32_t offset, uint32_t size, int compressed, int erase_at_begin);
tp_write_result tp_flash_data(tp_loader *L, const uint8_t *block, size_t len);
tp_write_result tp_flash_end(tp_loader *L, int need_all);
/* Erases [offset, offset + size) (sector-aligned by the caller); WR_RANGE outside the flash. */
tp_write_result tp_flash_erase(tp_loader *L, uint32_t offset, uint32_t size);
void tp_flash_md5(const tp_loader *L, uint32_t addr, uint32_t size, uint8_t digest[16]);

/* regs.c: READ_REG / WRITE_REG on the registers esptool-style flashers touch */
uint32_t tp_regs_read(tp_loader *L, uint32_t addr);
void tp_regs_write(tp_loader *L, uint32_t addr, uint32_t value, uint32_t mask);
void tp_regs_reset(void);

uint32_t tp_le32(const uint8_t *p);
void tp_put32(uint8_t *p, uint32_t v);

#endif
