/*
 * libFuzzer target: the tokenizer (src/tokenizer.c) over a vocabulary built from the input.
 *
 * Byte 0 flags: bit 0 BOS, bit 1 EOS, bit 2 swap the sorted index's first two entries (init must refuse it),
 * bit 3 a small out buffer (byte 0 >> 4 ids) instead of TP_TOKENIZER_ENCODE_CAP(len). Byte 1: vocab size
 * 1 + b % 48; byte 2: max_token_length 1 + b % 8. Then per token: u8 length (mod max_token_length + 1), u8 score
 * class (0, ±1, 2, NaN, -1e10, +Inf, -Inf), the piece's bytes (zero past the input's end); the rest is the text.
 * The sorted index is computed here (insertion sort by piece bytes, then id). Checked: init accepts the section
 * and refuses the swapped index; every piece's lookup finds an equal piece of no larger id; encode never writes
 * past `out` (exact-size allocations: ASan), returns ids < vocab, and with the full capacity never NO_MEMORY;
 * decode of every id gives at most max_token_length bytes (or one), printable 0 or all of them.
 * Seeds (corpus/tokenizer/, written by hand in this layout): a 9-token vocabulary with merges and "é", with
 * BOS/EOS, invalid UTF-8 and a NUL, the swapped index, a 3-id out buffer.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/tokenizer.h"

#define MAX_V 48

static void put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static int piece_less(const uint8_t *bytes, const uint32_t *off, uint32_t a, uint32_t b) {
    uint32_t la = off[a + 1] - off[a], lb = off[b + 1] - off[b], n = la < lb ? la : lb;
    int c = n ? memcmp(bytes + off[a], bytes + off[b], n) : 0;
    if (c != 0) return c < 0;
    return la != lb ? la < lb : a < b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    static const float classes[8] = {0.0f, 1.0f, -1.0f, 2.0f, 0.0f, -1e10f, 0.0f, 0.0f};
    uint8_t flags = data[0];
    uint32_t v = 1u + data[1] % MAX_V, mtl = 1u + data[2] % 8u;
    size_t at = 3;
    uint32_t off[MAX_V + 1] = {0}, ids[MAX_V];
    uint8_t bytes[MAX_V * 8 + 1], scores[MAX_V * 4], offsets[(MAX_V + 1) * 4], sorted[MAX_V * 4];
    for (uint32_t i = 0; i < v; i++) {
        uint32_t len = at < size ? data[at] % (mtl + 1u) : 0u;
        uint8_t cls = at + 1 < size ? data[at + 1] % 8u : 0u;
        at += 2;
        float s = classes[cls];
        if (cls == 4) s = (float)NAN;
        if (cls == 6) s = (float)INFINITY;
        if (cls == 7) s = -(float)INFINITY;
        uint32_t bits;
        memcpy(&bits, &s, 4);
        put_u32(scores + 4 * i, bits);
        for (uint32_t k = 0; k < len; k++) bytes[off[i] + k] = at + k < size ? data[at + k] : 0;
        at += len;
        off[i + 1] = off[i] + len;
    }
    for (uint32_t i = 0; i <= v; i++) put_u32(offsets + 4 * i, off[i]);
    for (uint32_t i = 0; i < v; i++) { /* insertion sort by (piece, id) */
        uint32_t j = i;
        while (j > 0 && piece_less(bytes, off, i, ids[j - 1])) ids[j] = ids[j - 1], j--;
        ids[j] = i;
    }
    for (uint32_t i = 0; i < v; i++) put_u32(sorted + 4 * i, ids[i]);
    tp_tokenizer t;
    if (tp_tokenizer_init(&t, v, mtl, scores, offsets, bytes, off[v], sorted) != TP_OK) abort();
    if (v > 1 && (flags & 4)) {
        put_u32(sorted, ids[1]), put_u32(sorted + 4, ids[0]);
        if (tp_tokenizer_init(&t, v, mtl, scores, offsets, bytes, off[v], sorted) != TP_E_BAD_TABLE) abort();
        return 0;
    }
    for (uint32_t i = 0; i < v; i++) { /* a piece's lookup: an equal piece, the lowest id */
        int32_t j = tp_tokenizer_lookup(&t, bytes + off[i], off[i + 1] - off[i], NULL, 0);
        if (j < 0 || (uint32_t)j > i || off[j + 1] - off[j] != off[i + 1] - off[i] ||
            memcmp(bytes + off[j], bytes + off[i], off[i + 1] - off[i]) != 0)
            abort();
    }
    size_t len = at < size ? size - at : 0;
    char *text = malloc(len ? len : 1);
    if (len) memcpy(text, data + at, len);
    size_t room = flags & 8 ? (size_t)(flags >> 4) : TP_TOKENIZER_ENCODE_CAP(len), n = 0;
    int32_t *out = malloc(room ? room * sizeof *out : 1);
    tp_status st = tp_tokenizer_encode(&t, text, len, flags & 1, (flags >> 1) & 1, out, room, &n);
    if (st == TP_OK) {
        if (n > room) abort();
        for (size_t i = 0; i < n; i++)
            if (out[i] < 0 || (uint32_t)out[i] >= v) abort();
    } else if (n != 0 || (st != TP_E_BAD_TABLE && !(st == TP_E_NO_MEMORY && (flags & 8)))) {
        abort();
    }
    for (int32_t id = -1; id <= (int32_t)v; id++) {
        const uint8_t *p;
        size_t plen;
        tp_status d = tp_tokenizer_decode(&t, id > 0 ? id - 1 : 1, id, &p, &plen);
        if (id < 0 || (uint32_t)id >= v) {
            if (d != TP_E_ARG) abort();
            continue;
        }
        if (d != TP_OK || plen > mtl) abort();
        size_t shown = tp_tokenizer_printable(p, plen);
        if (shown != 0 && shown != plen) abort();
    }
    free(text), free(out);
    return 0;
}
