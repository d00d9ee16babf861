/* CRC-32C (Castagnoli, reflected 0x82F63B78, init/xorout 0xFFFFFFFF); check("123456789") = 0xE3069283. */
#ifndef TP_CRC32C_H
#define TP_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/* CRC of bytes[0..n), continuing from `prev` (0 for a fresh CRC), like @tinypipe/protocol crc32c(). */
uint32_t tp_crc32c(const uint8_t *bytes, size_t n, uint32_t prev);

#endif
