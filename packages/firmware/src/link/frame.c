#include "frame.h"

#include <string.h>

#include "../crc32c.h"

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

const char *tp_drop_name(tp_drop_reason r) {
    static const char *names[TP_DROP_REASONS] = {"cobs", "short", "length", "crc", "version", "type", "oversize"};
    return r < TP_DROP_REASONS ? names[r] : "?";
}

size_t tp_frame_encode(const tp_frame *f, uint8_t *out) {
    static uint8_t body[TP_MAX_FRAME]; /* one frame at a time: the link is single-threaded */
    if (f->length > TP_MAX_PAYLOAD) return 0;
    body[0] = f->version, body[1] = f->type;
    put16(body + 2, f->session), put16(body + 4, f->seq), put16(body + 6, f->ack), put16(body + 8, f->sack);
    put16(body + 10, f->length);
    if (f->length) memcpy(body + TP_HEADER_BYTES, f->payload, f->length);
    size_t n = TP_HEADER_BYTES + f->length;
    uint32_t crc = tp_crc32c(body, n, 0);
    body[n] = (uint8_t)crc, body[n + 1] = (uint8_t)(crc >> 8), body[n + 2] = (uint8_t)(crc >> 16),
    body[n + 3] = (uint8_t)(crc >> 24);
    out[0] = 0;
    size_t e = tp_cobs_encode(body, n + TP_CRC_BYTES, out + 1);
    out[e + 1] = 0;
    return e + 2;
}

static int known_type(uint8_t t) { return t >= TP_FRAME_DATA && t <= TP_FRAME_RESET; }

int tp_frame_decode_block(const uint8_t *block, size_t n, uint8_t *scratch, tp_frame *f, tp_drop_reason *why) {
    if (n > TP_MAX_ENCODED) return *why = TP_DROP_OVERSIZE, 0;
    size_t m;
    if (tp_cobs_decode(block, n, scratch, &m) != TP_OK) return *why = TP_DROP_COBS, 0;
    if (m < TP_HEADER_BYTES + TP_CRC_BYTES) return *why = TP_DROP_SHORT, 0;
    uint16_t length = get16(scratch + 10);
    if (length > TP_MAX_PAYLOAD || (size_t)m != (size_t)TP_HEADER_BYTES + length + TP_CRC_BYTES)
        return *why = TP_DROP_LENGTH, 0;
    if (tp_crc32c(scratch, TP_HEADER_BYTES + length, 0) != get32(scratch + TP_HEADER_BYTES + length))
        return *why = TP_DROP_CRC, 0;
    if (scratch[0] != TP_PROTOCOL_VERSION) return *why = TP_DROP_VERSION, 0;
    if (!known_type(scratch[1])) return *why = TP_DROP_TYPE, 0;
    f->version = scratch[0], f->type = scratch[1];
    f->session = get16(scratch + 2), f->seq = get16(scratch + 4), f->ack = get16(scratch + 6);
    f->sack = get16(scratch + 8), f->length = length, f->payload = scratch + TP_HEADER_BYTES;
    return 1;
}

void tp_receiver_init(tp_receiver *r, void (*on_frame)(void *, const tp_frame *), void *ctx) {
    memset(r, 0, sizeof *r);
    r->on_frame = on_frame;
    r->ctx = ctx;
}

static void drop(tp_receiver *r, tp_drop_reason why) {
    r->dropped[why]++;
    if (r->on_drop) r->on_drop(r->ctx, why);
}

void tp_receiver_push(tp_receiver *r, const uint8_t *bytes, size_t n) {
    r->bytes_in += (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        if (bytes[i] != 0) {
            if (r->length < sizeof r->block) r->block[r->length++] = bytes[i];
            else r->overflow = 1; /* keep nothing more: wait for the next delimiter */
            continue;
        }
        if (r->overflow) drop(r, TP_DROP_OVERSIZE);
        else if (r->length > 0) {
            tp_frame f;
            tp_drop_reason why;
            if (tp_frame_decode_block(r->block, r->length, r->scratch, &f, &why)) {
                r->frames_in++;
                r->on_frame(r->ctx, &f);
            } else drop(r, why);
        }
        r->length = 0;
        r->overflow = 0;
    }
}
