/*
 * CRC-32C, byte at a time with a 256-entry table built on first use (1 KiB of RAM; the flash-resident
 * image is checked once at boot, so the simple loop is fast enough). Same function as packages/protocol
 * src/crc32c (which uses slicing-by-8): the shared vectors in packages/protocol/src/crc32c/vectors.json are
 * checked against both.
 */
#include "crc32c.h"

static uint32_t table[256];
static int table_ready;

static void build_table(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[n] = c;
    }
    table_ready = 1;
}

uint32_t tp_crc32c(const uint8_t *bytes, size_t n, uint32_t prev) {
    if (!table_ready) build_table();
    uint32_t c = ~prev;
    for (size_t i = 0; i < n; i++) c = table[(c ^ bytes[i]) & 0xFFu] ^ (c >> 8);
    return ~c;
}
