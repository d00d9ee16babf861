#include "hello.h"

#include <stdio.h>
#include <string.h>

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v), put16(p + 2, v >> 16); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16; }

#define H(field) TP_HELLO_OFF_##field

void tp_hello_board(uint8_t out[TP_HELLO_BYTES], uint16_t board, const uint8_t fingerprint[32], uint16_t layer_from,
                    uint16_t layer_to, uint32_t vocab_from, uint32_t vocab_to, uint16_t streams, uint32_t caps) {
    memset(out, 0, TP_HELLO_BYTES); /* build id zero (none) until tp_hello_set_build */
    out[H(PROTOCOL)] = TP_HELLO_PROTOCOL;
    out[H(ROLE)] = 1; /* role: board */
    put16(out + H(BOARD), board);
    memcpy(out + H(FINGERPRINT), fingerprint, 32);
    put16(out + H(LAYER_FROM), layer_from), put16(out + H(LAYER_TO), layer_to);
    put32(out + H(VOCAB_FROM), vocab_from), put32(out + H(VOCAB_TO), vocab_to);
    put16(out + H(MAX_PAYLOAD), TP_MAX_PAYLOAD);
    put16(out + H(STREAMS), streams);
    put32(out + H(CAPS), caps);
    put32(out + H(BAUD), 0); /* keep the current rate (this port cannot switch) */
}

void tp_hello_expect(uint8_t out[TP_HELLO_BYTES], uint16_t board, const uint8_t fingerprint[32], uint16_t layer_from,
                     uint16_t layer_to) {
    memset(out, 0, TP_HELLO_BYTES); /* build id zero (any) until tp_hello_set_build */
    out[H(PROTOCOL)] = TP_HELLO_PROTOCOL;
    out[H(ROLE)] = 0; /* role: host (the opening end) */
    put16(out + H(BOARD), board);
    memcpy(out + H(FINGERPRINT), fingerprint, 32);
    put16(out + H(LAYER_FROM), layer_from), put16(out + H(LAYER_TO), layer_to);
    put32(out + H(VOCAB_FROM), 0xffffffffu), put32(out + H(VOCAB_TO), 0xffffffffu); /* any classifier rows */
    put16(out + H(MAX_PAYLOAD), TP_MAX_PAYLOAD);
}

void tp_hello_set_build(uint8_t out[TP_HELLO_BYTES], const uint8_t build[TP_BUILD_ID_BYTES]) {
    memcpy(out + H(BUILD), build, TP_BUILD_ID_BYTES);
}

static void hex8(char *out, const uint8_t *b) { /* the first 8 bytes as 16 hex digits */
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 8; i++) out[2 * i] = digits[b[i] >> 4], out[2 * i + 1] = digits[b[i] & 15];
    out[16] = 0;
}

static int all_zero(const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

int tp_hello_check(const uint8_t *host, size_t n, const uint8_t board[TP_HELLO_BYTES], char *why, size_t why_size) {
    if (n != TP_HELLO_BYTES || host[H(PROTOCOL)] != TP_HELLO_PROTOCOL) {
        snprintf(why, why_size, "PROTOCOL_MISMATCH: the host speaks protocol %d (%u-byte HELLO), this board %d",
                 n ? host[H(PROTOCOL)] : -1, (unsigned)n, TP_HELLO_PROTOCOL);
        return TP_HELLO_PROTOCOL_MISMATCH;
    }
    const uint8_t *hf = host + H(FINGERPRINT), *bf = board + H(FINGERPRINT);
    if (!all_zero(hf, 32) && memcmp(hf, bf, 32) != 0) {
        char a[17], b[17];
        hex8(a, hf), hex8(b, bf);
        snprintf(why, why_size, "WRONG_MODEL: the host expects model %s…, this board's image holds %s…", a, b);
        return TP_HELLO_WRONG_MODEL;
    }
    uint16_t hb = get16(host + H(BOARD)), bb = get16(board + H(BOARD));
    if (hb != 0xffff && hb != bb) {
        snprintf(why, why_size, "WRONG_MODEL: the host expects board %u, this is board %u", hb, bb);
        return TP_HELLO_WRONG_MODEL;
    }
    /* each end of the range may be 0xFFFF (any): a board opening the link to the next one in a chain knows
       where the next board's layers start, not where they end */
    uint16_t h0 = get16(host + H(LAYER_FROM)), h1 = get16(host + H(LAYER_TO));
    uint16_t b0 = get16(board + H(LAYER_FROM)), b1 = get16(board + H(LAYER_TO));
    if ((h0 != 0xffff && h0 != b0) || (h1 != 0xffff && h1 != b1)) {
        snprintf(why, why_size, "WRONG_MODEL: the host expects layers [%u, %u), this board holds [%u, %u)", h0, h1, b0,
                 b1);
        return TP_HELLO_WRONG_MODEL;
    }
    uint32_t hv0 = get32(host + H(VOCAB_FROM)), hv1 = get32(host + H(VOCAB_TO));
    uint32_t bv0 = get32(board + H(VOCAB_FROM)), bv1 = get32(board + H(VOCAB_TO));
    if (!(hv0 == 0xffffffffu && hv1 == 0xffffffffu) && (hv0 != bv0 || hv1 != bv1)) {
        snprintf(why, why_size, "WRONG_MODEL: the host expects classifier rows [%lu, %lu), this board holds [%lu, %lu)",
                 (unsigned long)hv0, (unsigned long)hv1, (unsigned long)bv0, (unsigned long)bv1);
        return TP_HELLO_WRONG_MODEL;
    }
    /* the build last: the same model and split from another `tinypipe build` (docs/protocol.md §4.1) */
    const uint8_t *hbuild = host + H(BUILD), *bbuild = board + H(BUILD);
    if (!all_zero(hbuild, TP_BUILD_ID_BYTES) && memcmp(hbuild, bbuild, TP_BUILD_ID_BYTES) != 0) {
        char a[17], b[17];
        hex8(a, hbuild), hex8(b, bbuild);
        snprintf(why, why_size, "MIXED_BUILD: the host expects build %s, this board's image is of build %s", a,
                 all_zero(bbuild, TP_BUILD_ID_BYTES) ? "none" : b);
        return TP_HELLO_WRONG_BUILD;
    }
    snprintf(why, why_size, "accepted");
    return TP_HELLO_OK;
}

int tp_hello_check_next(const uint8_t expect[TP_HELLO_BYTES], const uint8_t *next, char *why, size_t why_size) {
    int status = tp_hello_check(expect, TP_HELLO_BYTES, next, why, why_size);
    if (status != TP_HELLO_OK) return status;
    static const char *const names[4] = {"fp32", "fp16", "int8", "?"};
    uint32_t mine = (get32(expect + H(CAPS)) & TP_HELLO_CAPS_KV_MASK) >> TP_HELLO_CAPS_KV_SHIFT;
    uint32_t theirs = (get32(next + H(CAPS)) & TP_HELLO_CAPS_KV_MASK) >> TP_HELLO_CAPS_KV_SHIFT;
    if (mine != theirs) {
        snprintf(why, why_size,
                 "WRONG_MODEL: this board's KV cache is %s, the next board's %s (rebuild both with one --kv)",
                 names[mine], names[theirs]);
        return TP_HELLO_WRONG_MODEL;
    }
    return TP_HELLO_OK;
}
