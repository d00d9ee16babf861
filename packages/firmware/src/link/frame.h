/*
 * Frames (docs/protocol.md §3): header ‖ payload ‖ CRC-32C, COBS-encoded between 0x00 delimiters, and
 * the receiver that cuts a byte stream into frames, dropping and counting whatever is damaged.
 *
 *   0   u8   version   (TP_PROTOCOL_VERSION)
 *   1   u8   type      (tp_frame_type)
 *   2   u16  session   sender's boot nonce
 *   4   u16  seq       DATA sequence number
 *   6   u16  ack       next DATA seq the sender expects
 *   8   u16  sack      bit i: the peer's seq ack+1+i already received
 *   10  u16  length    payload bytes, <= TP_MAX_PAYLOAD
 *   12  ...  payload
 *   ..  u32  crc32c    of header ‖ payload         (all little-endian)
 */
#ifndef TP_FRAME_H
#define TP_FRAME_H
#include <stddef.h>
#include <stdint.h>

#include "cobs.h"

#define TP_PROTOCOL_VERSION 1
#define TP_HEADER_BYTES 12
#define TP_CRC_BYTES 4
#define TP_MAX_PAYLOAD 4096
#define TP_MAX_FRAME (TP_HEADER_BYTES + TP_MAX_PAYLOAD + TP_CRC_BYTES)
#define TP_MAX_ENCODED TP_COBS_MAX(TP_MAX_FRAME)
/* on the wire: 0x00, COBS(frame), 0x00 */
#define TP_MAX_WIRE (TP_MAX_ENCODED + 2)

typedef enum {
    TP_FRAME_DATA = 1,
    TP_FRAME_ACK = 2,
    TP_FRAME_HELLO = 3,
    TP_FRAME_HELLO_ACK = 4,
    TP_FRAME_PING = 5,
    TP_FRAME_PONG = 6,
    TP_FRAME_RESET = 7
} tp_frame_type;

typedef struct {
    uint8_t version; /* TP_PROTOCOL_VERSION, except in tests of version mismatches */
    uint8_t type;
    uint16_t session, seq, ack, sack;
    uint16_t length;
    const uint8_t *payload;
} tp_frame;

/* Why a block was dropped (the same reasons, in the same order of checks, as the TS decoder). */
typedef enum {
    TP_DROP_COBS,
    TP_DROP_SHORT,
    TP_DROP_LENGTH,
    TP_DROP_CRC,
    TP_DROP_VERSION,
    TP_DROP_TYPE,
    TP_DROP_OVERSIZE,
    TP_DROP_REASONS
} tp_drop_reason;

const char *tp_drop_name(tp_drop_reason r);

/* Writes the frame's wire bytes into out (capacity TP_MAX_WIRE); returns their count, 0 if too large. */
size_t tp_frame_encode(const tp_frame *f, uint8_t *out);

/* Decodes one block between delimiters; returns 1 and fills f (payload points into scratch), or 0 and
 * sets *why. scratch holds >= TP_MAX_ENCODED bytes. */
int tp_frame_decode_block(const uint8_t *block, size_t n, uint8_t *scratch, tp_frame *f, tp_drop_reason *why);

/* The streaming receiver: push any chunking of the line's bytes; each intact frame goes to on_frame. */
typedef struct {
    uint8_t block[TP_MAX_ENCODED];   /* bytes since the last delimiter */
    uint8_t scratch[TP_MAX_ENCODED]; /* the decoded frame */
    size_t length;
    int overflow;
    uint32_t bytes_in, frames_in, dropped[TP_DROP_REASONS];
    void (*on_frame)(void *ctx, const tp_frame *f);
    void (*on_drop)(void *ctx, tp_drop_reason why); /* may be NULL */
    void *ctx;
} tp_receiver;

void tp_receiver_init(tp_receiver *r, void (*on_frame)(void *, const tp_frame *), void *ctx);
void tp_receiver_push(tp_receiver *r, const uint8_t *bytes, size_t n);

#endif
