/*
 * llama2.c's encode / decode / safe_printf rules over the image's tokenizer section (tokenizer.h). The
 * specification is @tinypipe/core's Tokenizer; this file follows its steps in the same order.
 */
#include "tokenizer.h"

#include <string.h>

#include "image.h"
#include "numerics.h"

/* byte b at index b: the one-byte piece a "<0xNN>" token decodes to */
static const uint8_t byte_table[256] = {
#define TP_ROW(r) \
    r + 0, r + 1, r + 2, r + 3, r + 4, r + 5, r + 6, r + 7, r + 8, r + 9, r + 10, r + 11, r + 12, r + 13, r + 14, r + 15
    TP_ROW(0),   TP_ROW(16),  TP_ROW(32),  TP_ROW(48),  TP_ROW(64),  TP_ROW(80),  TP_ROW(96), TP_ROW(112), TP_ROW(128),
    TP_ROW(144), TP_ROW(160), TP_ROW(176), TP_ROW(192), TP_ROW(208), TP_ROW(224), TP_ROW(240)
#undef TP_ROW
};

const uint8_t *tp_tokenizer_piece(const tp_tokenizer *t, uint32_t id, size_t *len) {
    uint32_t from = tp_load_u32(t->offsets + 4u * id), to = tp_load_u32(t->offsets + 4u * id + 4u);
    *len = to - from;
    return t->bytes + from;
}

/* memcmp-like order of p[0..plen) against the key a[0..alen) b[0..blen): bytes unsigned, a prefix first */
static int compare(const uint8_t *p, size_t plen, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
    size_t n = plen < alen ? plen : alen;
    int c = n ? memcmp(p, a, n) : 0;
    if (c != 0) return c;
    if (plen <= alen) return plen < alen || blen > 0 ? -1 : 0;
    size_t rest = plen - alen, m = rest < blen ? rest : blen;
    c = m ? memcmp(p + alen, b, m) : 0;
    if (c != 0) return c;
    return rest < blen ? -1 : rest > blen ? 1 : 0;
}

int32_t tp_tokenizer_lookup(const tp_tokenizer *t, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
    if (alen + blen > t->max_token_length) return -1; /* no piece is that long (checked by init) */
    uint32_t lo = 0, hi = t->vocab;
    size_t plen;
    while (lo < hi) { /* the first entry not below the key */
        uint32_t mid = lo + (hi - lo) / 2u;
        const uint8_t *p = tp_tokenizer_piece(t, tp_load_u32(t->sorted + 4u * mid), &plen);
        if (compare(p, plen, a, alen, b, blen) < 0) lo = mid + 1u;
        else hi = mid;
    }
    if (lo == t->vocab) return -1;
    uint32_t id = tp_load_u32(t->sorted + 4u * lo);
    const uint8_t *p = tp_tokenizer_piece(t, id, &plen);
    return compare(p, plen, a, alen, b, blen) == 0 ? (int32_t)id : -1;
}

tp_status tp_tokenizer_init(tp_tokenizer *t, uint32_t vocab, uint32_t max_token_length, const uint8_t *scores,
                            const uint8_t *offsets, const uint8_t *bytes, size_t bytes_len, const uint8_t *sorted) {
    memset(t, 0, sizeof *t);
    if (vocab == 0 || max_token_length == 0 || max_token_length > TP_TOKENIZER_MAX_PIECE) return TP_E_BAD_TABLE;
    if (tp_load_u32(offsets) != 0 || tp_load_u32(offsets + 4u * vocab) != bytes_len) return TP_E_BAD_TABLE;
    for (uint32_t i = 0; i < vocab; i++) {
        uint32_t from = tp_load_u32(offsets + 4u * i), to = tp_load_u32(offsets + 4u * i + 4u);
        if (to < from || to - from > max_token_length) return TP_E_BAD_TABLE;
    }
    t->vocab = vocab;
    t->max_token_length = max_token_length;
    t->scores = scores;
    t->offsets = offsets;
    t->bytes = bytes;
    t->sorted = sorted;
    /* strictly increasing by (piece, id), every id in range: then the ids are distinct, a permutation */
    for (uint32_t i = 0; i < vocab; i++) {
        uint32_t id = tp_load_u32(sorted + 4u * i);
        if (id >= vocab) return TP_E_BAD_TABLE;
        if (i == 0) continue;
        uint32_t prev = tp_load_u32(sorted + 4u * i - 4u);
        size_t plen, qlen;
        const uint8_t *p = tp_tokenizer_piece(t, prev, &plen), *q = tp_tokenizer_piece(t, id, &qlen);
        int c = compare(p, plen, q, qlen, NULL, 0);
        if (c > 0 || (c == 0 && prev >= id)) return TP_E_BAD_TABLE;
    }
    t->space = tp_tokenizer_lookup(t, (const uint8_t *)" ", 1, NULL, 0);
    return TP_OK;
}

static float score_of(const tp_tokenizer *t, int32_t id) { return tp_load_f32(t->scores + 4u * (uint32_t)id); }

/* appends id to out (TS's push); TP_E_NO_MEMORY past cap */
static tp_status push(int32_t *out, size_t cap, size_t *n, int32_t id) {
    if (*n >= cap) return TP_E_NO_MEMORY;
    out[(*n)++] = id;
    return TP_OK;
}

/* the code points of text[0..len) looked up, unknown ones as byte tokens (TS encode's first loop) */
static tp_status code_points(const tp_tokenizer *t, const uint8_t *s, size_t len, int32_t *out, size_t cap, size_t *n) {
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t next = i + 1 < len ? s[i + 1] : 0;
        if ((s[i] & 0xC0) != 0x80) start = i;
        if ((next & 0xC0) == 0x80 && i + 1 - start < 4) continue;
        int32_t id = tp_tokenizer_lookup(t, s + start, i + 1 - start, NULL, 0);
        tp_status st = TP_OK;
        if (id >= 0) st = push(out, cap, n, id);
        for (size_t k = start; id < 0 && k <= i && st == TP_OK; k++) {
            uint32_t fallback = (uint32_t)s[k] + TP_TOKEN_BYTE0;
            st = fallback < t->vocab ? push(out, cap, n, (int32_t)fallback) : TP_E_BAD_TABLE;
        }
        if (st != TP_OK) return st;
        start = i + 1; /* a stray continuation byte starts a code point of its own */
    }
    return TP_OK;
}

/* merges the best-scoring adjacent pair until none merges (TS encode's second loop) */
static void merge(const tp_tokenizer *t, int32_t *out, size_t *n) {
    for (;;) {
        float best_score = -1e10f;
        int32_t best_id = -1;
        size_t best_at = 0;
        for (size_t i = 0; i + 1 < *n; i++) {
            size_t alen, blen;
            const uint8_t *a = tp_tokenizer_piece(t, (uint32_t)out[i], &alen);
            const uint8_t *b = tp_tokenizer_piece(t, (uint32_t)out[i + 1], &blen);
            int32_t id = tp_tokenizer_lookup(t, a, alen, b, blen);
            if (id >= 0 && score_of(t, id) > best_score) {
                best_score = score_of(t, id);
                best_id = id;
                best_at = i;
            }
        }
        if (best_id < 0) return;
        out[best_at] = best_id;
        memmove(out + best_at + 1, out + best_at + 2, (*n - best_at - 2) * sizeof *out);
        (*n)--;
    }
}

tp_status tp_tokenizer_encode(const tp_tokenizer *t, const char *text, size_t len, int bos, int eos, int32_t *out,
                              size_t cap, size_t *n) {
    const uint8_t *s = (const uint8_t *)text;
    for (size_t i = 0; i < len; i++) /* a C string ends at its NUL */
        if (s[i] == 0) len = i;
    *n = 0;
    tp_status st = TP_OK;
    if (bos) st = TP_TOKEN_BOS < t->vocab ? push(out, cap, n, TP_TOKEN_BOS) : TP_E_BAD_TABLE;
    if (st == TP_OK && len > 0) st = t->space >= 0 ? push(out, cap, n, t->space) : TP_E_BAD_TABLE;
    if (st == TP_OK) st = code_points(t, s, len, out, cap, n);
    if (st == TP_OK) merge(t, out, n);
    if (st == TP_OK && eos) st = TP_TOKEN_EOS < t->vocab ? push(out, cap, n, TP_TOKEN_EOS) : TP_E_BAD_TABLE;
    if (st != TP_OK) *n = 0;
    return st;
}

static int hex_digit(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

tp_status tp_tokenizer_decode(const tp_tokenizer *t, int32_t prev, int32_t token, const uint8_t **piece, size_t *len) {
    if (token < 0 || (uint32_t)token >= t->vocab) return TP_E_ARG;
    size_t plen;
    const uint8_t *p = tp_tokenizer_piece(t, (uint32_t)token, &plen);
    if (prev == TP_TOKEN_BOS && plen > 0 && p[0] == ' ') p++, plen--;
    int hi = plen >= 4 && p[0] == '<' && p[1] == '0' && p[2] == 'x' ? hex_digit(p[3]) : -1;
    if (hi >= 0) { /* "<0x" and one or two hex digits: that byte */
        int lo = plen >= 5 ? hex_digit(p[4]) : -1;
        int b = lo >= 0 ? hi * 16 + lo : hi;
        p = byte_table + b;
        plen = 1;
    }
    *piece = p;
    *len = plen;
    return TP_OK;
}

size_t tp_tokenizer_printable(const uint8_t *piece, size_t len) {
    if (len != 1) return len;
    uint8_t b = piece[0];
    return (b >= 0x20 && b <= 0x7E) || (b >= 0x09 && b <= 0x0D) ? 1 : 0;
}

tp_status tp_image_tokenizer(const tp_image *img, tp_tokenizer *t) {
    if (!img->has_tokenizer) return TP_E_ARG;
    const uint8_t *at[4]; /* scores, offsets, sorted, bytes: table order (docs/image-format.md §4b) */
    for (int i = 0; i < 4; i++) at[i] = tp_image_tensor(img, img->t_tokenizer + i);
    return tp_tokenizer_init(t, (uint32_t)img->config.vocab_size, img->tokenizer_max_token_length, at[0], at[1], at[3],
                             img->tokenizer_bytes, at[2]);
}
