/*
 * A virtual ESP32-S3 serial bootloader for tests: enough of the ROM / flasher-stub protocol (SLIP
 * framing; SYNC, READ_REG, WRITE_REG, GET_SECURITY_INFO, SPI_ATTACH, SPI_SET_PARAMS, CHANGE_BAUDRATE,
 * FLASH_BEGIN/DATA/END, FLASH_DEFL_BEGIN/DATA/END, SPI_FLASH_MD5, ERASE_REGION) over a flash held in a file,
 * so @tinypipe/flasher can be tested against something that behaves like the chip. It answers SYNC as the
 * stub does (value 0: no stub upload needed).
 */
#ifndef TP_ROM_H
#define TP_ROM_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t chip_id;      /* GET_SECURITY_INFO chip id: 9 = ESP32-S3 (2 = ESP32-S2, for wrong-chip tests) */
    uint8_t mac[6];
    long drop_after;       /* fault: vanish (exit) after this many flash data blocks (-1: never) */
    long corrupt_block;    /* fault: flip one byte of this flash data block when writing it (-1: never) */
    int idle_fd;           /* another UART (a chain's link in), read and discarded until boot as the chip's
                              FIFO does in the ROM; -1: none */
} tp_rom_options;

/* Serves the bootloader on fd until a FLASH_END asks to run the firmware (returns 0) or the line or
 * stdin closes (returns -1). flash is the whole flash, writable; flash_size its bytes. */
int tp_rom_serve(int fd, uint8_t *flash, size_t flash_size, const tp_rom_options *o);

#endif
