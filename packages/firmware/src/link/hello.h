/*
 * The HELLO payload (docs/protocol.md §4.1): its layout, the two HELLOs a board writes (its own, and the
 * one it sends when it opens the link to the next board) and the verdict on a peer's HELLO. No state: the
 * handshake that carries it is in link.c.
 */
#ifndef TP_HELLO_H
#define TP_HELLO_H
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* The HELLO payload (docs/protocol.md §4.1; docs/vectors/protocol.json helloLayout holds the same
   offsets, checked by ts/protocol-vectors.test.ts through tp-protocol). All fields little-endian. */
#define TP_HELLO_PROTOCOL 2 /* the `protocol` field: 2 since the HELLO carries the build id */
#define TP_HELLO_BYTES 68
#define TP_HELLO_V1_BYTES 60 /* a protocol-1 HELLO (no build id): refused, answered in its own layout */
#define TP_BUILD_ID_BYTES 8
#define TP_HELLO_OFF_PROTOCOL 0     /* u8 */
#define TP_HELLO_OFF_ROLE 1         /* u8: 0 host (opening end), 1 board */
#define TP_HELLO_OFF_BOARD 2        /* u16: plan index (0xFFFF any / none) */
#define TP_HELLO_OFF_FINGERPRINT 4  /* u8[32]: quantized model fingerprint (zero: any / none) */
#define TP_HELLO_OFF_LAYER_FROM 36  /* u16 */
#define TP_HELLO_OFF_LAYER_TO 38    /* u16 */
#define TP_HELLO_OFF_VOCAB_FROM 40  /* u32 */
#define TP_HELLO_OFF_VOCAB_TO 44    /* u32 */
#define TP_HELLO_OFF_MAX_PAYLOAD 48 /* u16 */
#define TP_HELLO_OFF_STREAMS 50     /* u16 */
#define TP_HELLO_OFF_CAPS 52        /* u32 */
#define TP_HELLO_OFF_BAUD 56        /* u32 */
#define TP_HELLO_OFF_BUILD 60       /* u8[8]: build id (zero: any / none) */

enum { TP_HELLO_OK = 0, TP_HELLO_PROTOCOL_MISMATCH = 1, TP_HELLO_WRONG_MODEL = 2, TP_HELLO_WRONG_BUILD = 3 };

/* Writes a board's HELLO payload (docs/protocol.md §4.1 table). */
void tp_hello_board(uint8_t out[TP_HELLO_BYTES], uint16_t board, const uint8_t fingerprint[32], uint16_t layer_from,
                    uint16_t layer_to, uint32_t vocab_from, uint32_t vocab_to, uint16_t streams, uint32_t caps);

/* Writes a host-role HELLO: what the opener expects of its peer (0xFFFF / 0xFFFFFFFF fields: any). */
void tp_hello_expect(uint8_t out[TP_HELLO_BYTES], uint16_t board, const uint8_t fingerprint[32], uint16_t layer_from,
                     uint16_t layer_to);

/* Sets the build id of a HELLO written by tp_hello_board (the image's build id; zero: none) or
   tp_hello_expect (the build the opener expects; zero: any). Both write a zero build id. */
void tp_hello_set_build(uint8_t out[TP_HELLO_BYTES], const uint8_t build[TP_BUILD_ID_BYTES]);

/* The board's verdict on a host's HELLO (TP_HELLO_*), and why, in `why` (for the log). */
int tp_hello_check(const uint8_t *host, size_t n, const uint8_t board[TP_HELLO_BYTES], char *why, size_t why_size);

/* `caps` bits 3–4: the KV cache format (docs/protocol.md §4.1; tp_kv_format numbers). */
#define TP_HELLO_CAPS_KV_SHIFT 3
#define TP_HELLO_CAPS_KV_MASK (3u << TP_HELLO_CAPS_KV_SHIFT)

/* An opening board's verdict on the next board's HELLO (in its HELLO_ACK): tp_hello_check, then the KV format —
   `expect` (tp_hello_expect) carries the opener's own in caps bits 3–4, and the next board must store its KV
   cache the same way (else TP_HELLO_WRONG_MODEL: the chain would compute neither format's numbers). */
int tp_hello_check_next(const uint8_t expect[TP_HELLO_BYTES], const uint8_t *next, char *why, size_t why_size);

#endif
