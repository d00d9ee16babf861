/*
 * The registers esptool-style flashers read and write over READ_REG / WRITE_REG (docs/esp-rom.md
 * "Registers"): the eFuse MAC words, the chip-detect magic, the SPI1 user-command block the flash-ID read
 * drives, the RTC watchdog and super watchdog, RTC_CNTL_OPTION1; any other address is plain storage.
 */
#define _XOPEN_SOURCE 700
#include <string.h>

#include "loader.h"

#define EFUSE_MAC0 0x60007044u
#define EFUSE_MAC1 0x60007048u
#define CHIP_MAGIC 0x40001000u /* a ROM word that differs per chip: 9 on the ESP32-S3 */

/* SPI1 (the flash's controller) user command: opcode in USR2, phases in USR, bit counts in *_DLEN */
#define SPI1 0x60002000u
#define SPI_CMD (SPI1 + 0x00)
#define SPI_USR (SPI1 + 0x18)
#define SPI_USR2 (SPI1 + 0x20)
#define SPI_MISO_DLEN (SPI1 + 0x28)
#define SPI_W0 (SPI1 + 0x58)       /* W0..W15: the data buffer */
#define SPI_CMD_USR (1u << 18)     /* CMD: run the user command (clears when done) */
#define SPI_USR_COMMAND (1u << 31) /* USR: send the opcode (command phase) */
#define SPI_USR_MISO (1u << 28)    /* USR: read MISO_DLEN + 1 bits into W0.. */

/* RTC watchdog and super watchdog (write-protected by a key), and the USB force-download flag */
#define RTC_WDTCONFIG0 0x60008098u
#define RTC_WDTCONFIG1 0x6000809cu
#define RTC_WDTWPROTECT 0x600080b0u
#define RTC_SWD_CONF 0x600080b4u
#define RTC_SWD_WPROTECT 0x600080b8u
#define RTC_OPTION1 0x6000812cu
#define WDT_WKEY 0x50d83aa1u
#define SWD_WKEY 0x8f1d312au
#define WDT_EN (1u << 31)
#define FORCE_DOWNLOAD_BOOT 1u
#define RTC_SLOW_HZ 136000u /* the RC slow clock the RTC WDT counts (~136 kHz) */

#define SPIFLASH_RDID 0x9f
#define JEDEC_WINBOND 0xef
#define JEDEC_TYPE 0x40

static struct { uint32_t addr, value; } store[128];
static size_t stored;

void tp_regs_reset(void) { stored = 0; }

static uint32_t *slot(uint32_t addr, int create) {
    for (size_t i = 0; i < stored; i++)
        if (store[i].addr == addr) return &store[i].value;
    if (!create || stored == sizeof store / sizeof store[0]) return NULL;
    store[stored].addr = addr, store[stored].value = 0;
    return &store[stored++].value;
}

static uint32_t get(uint32_t addr) {
    uint32_t *v = slot(addr, 0);
    return v ? *v : 0;
}

static void set(uint32_t addr, uint32_t value) {
    uint32_t *v = slot(addr, 1);
    if (v) *v = value;
}

/* The JEDEC id RDID answers: manufacturer, memory type, capacity byte = log2(size) (esptool's size table). */
static uint32_t jedec_id(const tp_loader *L) {
    uint32_t log2 = 0;
    while (((size_t)1 << log2) < L->flash_size) log2++;
    return JEDEC_WINBOND | JEDEC_TYPE << 8 | log2 << 16;
}

/* CMD.USR: the user command runs. With the command phase the flash hears the opcode; a read phase clocks
 * MISO_DLEN + 1 bits into W0.. from the first byte up. An opcode it did not hear leaves its output undriven:
 * the bits read as 1. */
static void spi_user_command(const tp_loader *L) {
    uint32_t usr = get(SPI_USR), usr2 = get(SPI_USR2);
    if (!(usr & SPI_USR_MISO)) return;
    uint8_t reply[64];
    memset(reply, 0xff, sizeof reply);
    int heard = (usr & SPI_USR_COMMAND) && (usr2 >> 28) == 7; /* an 8-bit opcode */
    uint8_t opcode = (uint8_t)usr2;
    if (heard && opcode == SPIFLASH_RDID) {
        uint32_t id = jedec_id(L);
        reply[0] = (uint8_t)id, reply[1] = (uint8_t)(id >> 8), reply[2] = (uint8_t)(id >> 16);
    } else if (heard && (opcode == 0x05 || opcode == 0x35 || opcode == 0x15)) {
        memset(reply, 0, sizeof reply); /* status registers 1-3: idle, nothing protected */
    }
    uint32_t bytes = ((get(SPI_MISO_DLEN) & 0x3ff) + 1 + 7) / 8;
    if (bytes > sizeof reply) bytes = sizeof reply;
    for (uint32_t i = 0; i < bytes; i++) {
        uint32_t reg = SPI_W0 + (i / 4) * 4, shift = (i % 4) * 8;
        set(reg, (get(reg) & ~(0xffu << shift)) | (uint32_t)reply[i] << shift);
    }
}

uint32_t tp_regs_read(tp_loader *L, uint32_t addr) {
    const uint8_t *m = L->opt->mac;
    switch (addr) {
    case EFUSE_MAC0: return (uint32_t)m[2] << 24 | (uint32_t)m[3] << 16 | (uint32_t)m[4] << 8 | m[5];
    case EFUSE_MAC1: return (uint32_t)m[0] << 8 | m[1];
    case CHIP_MAGIC: return L->opt->chip_id == 9 ? 9 : L->opt->chip_id == 2 ? 0x000007c6u : L->opt->chip_id;
    case SPI_CMD: return get(addr) & ~SPI_CMD_USR; /* the user command finished at once */
    default: return get(addr);
    }
}

void tp_regs_write(tp_loader *L, uint32_t addr, uint32_t value, uint32_t mask) {
    value = (value & mask) | (get(addr) & ~mask);
    /* the watchdogs' registers take writes only while their protect register holds the key */
    if ((addr == RTC_WDTCONFIG0 || addr == RTC_WDTCONFIG1) && get(RTC_WDTWPROTECT) != WDT_WKEY) return;
    if (addr == RTC_SWD_CONF && get(RTC_SWD_WPROTECT) != SWD_WKEY) return;
    set(addr, value);
    if (addr == SPI_CMD && (value & SPI_CMD_USR)) spi_user_command(L);
    if (addr == RTC_WDTCONFIG0 && (value & WDT_EN) && ((value >> 28) & 7)) {
        /* esptool's watchdog reset: the RTC WDT fires after WDTCONFIG1 slow-clock cycles and resets the chip,
           which boots from flash unless USB download was forced */
        L->reset_at = tp_loader_now_us() + (long long)get(RTC_WDTCONFIG1) * 1000000 / RTC_SLOW_HZ;
        L->reset_later = get(RTC_OPTION1) & FORCE_DOWNLOAD_BOOT ? RESET_DOWNLOAD : RESET_BOOT;
    }
}
