/* MD5 (RFC 1321), for the virtual ROM's SPI_FLASH_MD5 — the digest esptool-style flashers verify with. */
#ifndef TP_MD5_H
#define TP_MD5_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t a, b, c, d;
    uint64_t length; /* bytes so far */
    uint8_t block[64];
    size_t used;
} tp_md5;

void tp_md5_init(tp_md5 *m);
void tp_md5_update(tp_md5 *m, const uint8_t *bytes, size_t n);
void tp_md5_final(tp_md5 *m, uint8_t digest[16]);

#endif
