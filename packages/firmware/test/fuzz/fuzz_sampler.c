/*
 * libFuzzer target: the sampler (src/sampler.c). Byte 0 picks the mode (low bit).
 *
 * Mode 0, tp_sample: f32 temperature, f32 topp, u64 seed, then the logits (any bit patterns: NaN, ±Inf,
 * subnormals). Parameters tp_sampler_params_ok accepts must give a token in [0, n) or TP_E_NONFINITE; nothing
 * may read outside the logits or the index buffers.
 *
 * Mode 1, a classifier slice (tp_slice_*, the way serve.c's slice_round calls them): f32 temperature, f32 topp
 * (the START's, so only ones tp_sampler_params_ok accepts go on), f32 max, u16 histogram bucket (0xffff: all),
 * u16 draw bucket, u8 flags (bits 0-1: the max is the slice's own, the wire's, or the larger of them), u8 cap
 * (histogram buckets, 1 + cap % 400), u8 L, then L bytes of a LEB128 draw target, then the slice's logits (at
 * least one). The max, the buckets and the target come from the host: arbitrary. Checked: scale leaves finite
 * values, argmax is the first largest, the histogram's top and count are in range and its encoding fits the
 * sizes serve.c assumes, the LEB128 of a big integer reads back, and a draw's row is inside the slice.
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/sampler.h"

static int sample_mode(const uint8_t *data, size_t size) {
    if (size < 16 + 4 || size > 16 + 4 * 4096) return 0;
    float temperature, topp;
    uint64_t seed;
    memcpy(&temperature, data, 4), memcpy(&topp, data + 4, 4), memcpy(&seed, data + 8, 8);
    int n = (int)((size - 16) / 4);
    float *logits = malloc((size_t)n * 4); /* exact sizes: any overread is an ASan error */
    int32_t *index = malloc((size_t)n * 4), *scratch = malloc((size_t)n * 4);
    memcpy(logits, data + 16, (size_t)n * 4);
    if (tp_sampler_params_ok(temperature, topp)) {
        tp_sampler s;
        tp_sampler_init(&s, temperature, topp, seed, index, scratch);
        for (int k = 0; k < 3; k++) { /* a few draws: the RNG and the probabilities the first one leaves */
            int t = -1;
            tp_status st = tp_sample(&s, logits, n, &t);
            if (st == TP_E_NONFINITE) break;
            if (st != TP_OK || t < 0 || t >= n) abort();
        }
    }
    free(logits), free(index), free(scratch);
    return 0;
}

/* the LEB128 of v must read back as v, in exactly the bytes written */
static void leb_round_trip(const tp_big *v) {
    uint8_t *buf = malloc(64); /* 448 bits: at most 64 bytes of 7 bits */
    size_t k = tp_leb_big(buf, v), used = 0;
    tp_big back;
    if (k > 64 || tp_leb_read(buf, k, &back, &used) != TP_OK || used != k || memcmp(&back, v, sizeof back)) abort();
    free(buf);
}

static int slice_mode(const uint8_t *data, size_t size) {
    const size_t head = 4 + 4 + 4 + 2 + 2 + 1 + 1 + 1;
    if (size < head) return 0;
    float temperature, topp, wire_max;
    memcpy(&temperature, data, 4), memcpy(&topp, data + 4, 4), memcpy(&wire_max, data + 8, 4);
    int below = data[12] | data[13] << 8, bucket = data[14] | data[15] << 8;
    int flags = data[16], cap = 1 + data[17] % 400;
    size_t lebs = data[18];
    if (size < head + lebs + 4 || size > head + lebs + 4 * 4096) return 0;
    if (!tp_sampler_params_ok(temperature, topp)) return 0; /* serve.c refuses such a START */
    const uint8_t *leb = data + head;
    int n = (int)((size - head - lebs) / 4);
    float *y = malloc((size_t)n * 4); /* exact sizes: any overread is an ASan error */
    memcpy(y, leb + lebs, (size_t)n * 4);
    if (tp_slice_scale(y, n, temperature) == TP_OK) {
        for (int i = 0; i < n; i++)
            if (y[i] != y[i] || y[i] - y[i] != 0.0f) abort(); /* NaN or ±Inf let through */
        int a = tp_slice_argmax(y, n);
        if (a < 0 || a >= n) abort();
        for (int i = 0; i < n; i++)
            if (y[i] > y[a] || (i < a && y[i] == y[a])) abort();
        float max = (flags & 3) == 0 ? y[a] : (flags & 3) == 1 ? wire_max : wire_max > y[a] ? wire_max : y[a];

        uint64_t *sums = malloc((TP_BUCKET_TOP + 1) * sizeof *sums), *masses = malloc((size_t)cap * sizeof *masses);
        uint16_t top = 0xffff;
        int count = -1;
        tp_big rest;
        tp_slice_histogram(y, n, max, topp, below == 0xffff ? TP_BUCKET_TOP + 1 : below, sums, &top, masses, cap,
                           &count, &rest);
        if (count < 0 || count > cap || top > TP_BUCKET_TOP) abort();
        if (count > 0 && below != 0xffff && top >= below) abort();
        size_t room = 64 + 10 * (size_t)count, k; /* what serve.c's HISTOGRAM payload holds */
        uint8_t *out = malloc(room);
        k = tp_leb_big(out, &rest);
        for (int j = 0; j < count; j++) k += tp_leb_u64(out + k, masses[j]);
        if (k > room) abort();
        free(out), free(sums), free(masses);
        leb_round_trip(&rest);

        tp_big target;
        size_t used;
        if (tp_leb_read(leb, lebs, &target, &used) == TP_OK && used == lebs) { /* as serve.c: one integer */
            leb_round_trip(&target);
            int row = tp_slice_draw(y, n, max, bucket, &target);
            if (row < 0 || row >= n) abort();
        }
    }
    free(y);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    return data[0] & 1 ? slice_mode(data + 1, size - 1) : sample_mode(data + 1, size - 1);
}
