/*
 * libFuzzer target: the virtual ESP32-S3 download mode (ports/posix: loader.c's SLIP framing and packet
 * dispatch, rom.c, stub.c, flash_write.c, regs.c) without a PTY. The input's first byte picks the loader
 * (bit 0: the flasher stub, as after an upload; else the ROM), the rest is the host's line: SLIP frames of
 * commands. Replies go to /dev/null; READ_FLASH's acknowledgements read end-of-file there.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../ports/posix/loader.h"

#define FLASH_BYTES (256u << 10) /* the smallest flash tp_rom_flash_size_ok allows */
static uint8_t flash[FLASH_BYTES];
static uint8_t buf[64 * 1024 + 64];
static tp_loader L;
static const tp_rom_options opt = {9, {0x7c, 0xdf, 0xa1, 0x00, 0x00, 0x01}, -1, -1, -1, 0, 0};
static int null_fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 96 * 1024) return 0;
    if (null_fd < 0) null_fd = open("/dev/null", O_RDWR);
    memset(flash, 0xff, sizeof flash);
    memset(&L, 0, sizeof L);
    L.fd = null_fd, L.flash = flash, L.flash_size = sizeof flash, L.opt = &opt;
    tp_loader_power_on(&L);
    if (data[0] & 1) L.mode = MODE_STUB;
    tp_slip_rx rx = {0, 0, 0};
    for (size_t i = 1; i < size; i++) {
        if (L.reset_later != RESET_NONE) L.reset = L.reset_later; /* no waiting: the watchdog fires now */
        if (L.reset == RESET_BOOT) break;
        if (L.reset == RESET_DOWNLOAD) tp_loader_power_on(&L), rx.in_frame = 0;
        size_t len;
        if (tp_slip_feed(&rx, data[i], buf, sizeof buf, &len)) tp_loader_packet(&L, buf, len);
    }
    if (L.write.active && L.write.compressed) inflateEnd(&L.write.z);
    return 0;
}
