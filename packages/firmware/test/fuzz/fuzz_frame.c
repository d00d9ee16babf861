/*
 * libFuzzer target: COBS and frame decoding (docs/protocol.md §2–3). The input is line bytes: decoded as
 * one block, then pushed through the streaming receiver in chunks whose sizes the input's first byte picks.
 * Every frame that decodes must re-encode to a block that decodes to the same frame.
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/link/frame.h"

static uint8_t out[TP_MAX_ENCODED], scratch[TP_MAX_ENCODED], again[TP_MAX_ENCODED], wire[TP_MAX_WIRE];
static tp_receiver rx;
static unsigned frames;

static void on_frame(void *ctx, const tp_frame *f) {
    (void)ctx;
    if (f->length > TP_MAX_PAYLOAD) abort();
    frames++;
}

static void roundtrip(const tp_frame *f) {
    size_t n = tp_frame_encode(f, wire);
    if (n < 2) abort();
    tp_frame g;
    tp_drop_reason why;
    if (!tp_frame_decode_block(wire + 1, n - 2, again, &g, &why)) abort();
    if (g.type != f->type || g.seq != f->seq || g.length != f->length || memcmp(g.payload, f->payload, f->length))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > TP_MAX_WIRE * 2) return 0;
    /* one block, no delimiters: COBS, then the frame checks */
    if (size <= TP_MAX_ENCODED) {
        size_t k;
        tp_status s = tp_cobs_decode(data, size, out, &k);
        if (s != TP_OK && s != TP_E_MALFORMED) abort();
        if (k > size || (s != TP_OK && k != 0)) abort();
        if (s == TP_OK) { /* canonical COBS: encoding the result gives the block back */
            uint8_t *enc = malloc(TP_COBS_MAX(k));
            size_t e = tp_cobs_encode(out, k, enc);
            for (size_t i = 0; i < e; i++)
                if (enc[i] == 0) abort();
            free(enc);
        }
        tp_frame f;
        tp_drop_reason why;
        if (tp_frame_decode_block(data, size, scratch, &f, &why)) {
            tp_frame copy = f;
            uint8_t payload[TP_MAX_PAYLOAD];
            memcpy(payload, f.payload, f.length);
            copy.payload = payload;
            roundtrip(&copy);
        } else if ((unsigned)why >= TP_DROP_REASONS) abort();
    }
    /* the stream: any chunking */
    tp_receiver_init(&rx, on_frame, NULL);
    frames = 0;
    size_t step = size ? 1 + data[0] % 64 : 1;
    for (size_t at = 0; at < size; at += step) tp_receiver_push(&rx, data + at, size - at < step ? size - at : step);
    if (rx.frames_in != frames || rx.bytes_in != size) abort();
    return 0;
}
