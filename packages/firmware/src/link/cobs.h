/*
 * COBS (Consistent Overhead Byte Stuffing, Cheshire & Baker 1999) as docs/protocol.md §2 specifies it:
 * the canonical form, identical byte for byte to packages/protocol/src/cobs.
 */
#ifndef TP_COBS_H
#define TP_COBS_H
#include <stddef.h>
#include <stdint.h>

#include "../tp_status.h"

/* Bytes COBS may need for n input bytes: n + ceil(n / 254) + 1. */
#define TP_COBS_MAX(n) ((n) + ((n) + 253) / 254 + 1)

/* Encodes in[0, n) into out (capacity TP_COBS_MAX(n)); returns the encoded length. No 0x00 in out. */
size_t tp_cobs_encode(const uint8_t *in, size_t n, uint8_t *out);

/* Decodes one block (no delimiters) into out (capacity >= n), its length in *length: TP_OK, or TP_E_MALFORMED
 * (a zero byte, or a code past the block's end; *length is then 0). */
tp_status tp_cobs_decode(const uint8_t *in, size_t n, uint8_t *out, size_t *length);

#endif
