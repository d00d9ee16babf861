/*
 * A virtual ESP32-S3 serial download mode over a flash held in a file: the chip's ROM loader answers first
 * (4-byte status, ASCII MD5, SPI_ATTACH before flash commands, 0x400-byte blocks, erase at BEGIN); after a
 * stub upload (MEM_BEGIN/MEM_DATA/MEM_END with an entry point) it answers as esptool's flasher stub (OHAI,
 * 2-byte status, raw MD5, 16 KiB blocks, ERASE_REGION, READ_FLASH). docs/esp-rom.md cites every behaviour;
 * docs/vectors/esp-rom.json holds them as packets.
 */
#ifndef TP_ROM_H
#define TP_ROM_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t chip_id; /* GET_SECURITY_INFO chip id: 9 = ESP32-S3 (2 = ESP32-S2, for wrong-chip tests) */
    uint8_t mac[6];
    long drop_after;      /* fault: vanish (exit) after this many flash data blocks (-1: never) */
    long corrupt_block;   /* fault: flip one bit of this flash data block when writing it (-1: never) */
    int idle_fd;          /* another UART (a chain's link in), read and discarded until boot as the chip's
                              FIFO does in the ROM; -1: none */
    long erase_us_per_mb; /* erase time per MiB (the chip's is seconds; scaled down so tests stay fast) */
    long md5_us_per_mb;   /* SPI_FLASH_MD5 time per MiB read (default 0: at once) */
} tp_rom_options;

/* Serves download mode on fd until the chip resets into its firmware (returns 0: boot from flash) or the
 * line or stdin closes (returns -1). flash is the whole flash, writable; flash_size its bytes, a power of
 * two from 256 KiB to 256 MiB (tp_rom_flash_size_ok): the JEDEC capacity byte is its log2.
 * SIGUSR1 is an EN (reset) pulse with GPIO0 high: the chip boots from flash; SIGUSR2 one with GPIO0 low:
 * the chip restarts in the ROM loader. */
int tp_rom_serve(int fd, uint8_t *flash, size_t flash_size, const tp_rom_options *o);

int tp_rom_flash_size_ok(size_t flash_size);

#endif
