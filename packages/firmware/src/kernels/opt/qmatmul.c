/*
 * Optimized quantized matmul (portable C): the group dot is a plain int8 × int8 → int32 loop that gcc -O3
 * vectorizes, with a constant trip count for the default group of 32; int4 rows are first unpacked to int8
 * per group (branch-free sign extension). Integer dots are exact, so any order gives the same int32; the
 * binary32 step is the shared tp_accumulate_group, with each group's fp16 scale widened once. On the
 * ESP32-S3 the integer group dot is where esp-nn / PIE int8 SIMD plugs in.
 */
#include "../../kernels.h"
#include "../../numerics.h"

static int32_t dot_q8(const int8_t *w, const int8_t *x, int n) {
    int32_t s = 0; /* a plain loop: exact, and gcc -O3 vectorizes it (int8 x int8 -> int32 lanes) */
    if (n == 32) { /* the default group: a constant trip count unrolls completely */
        for (int j = 0; j < 32; j++) s += w[j] * x[j];
        return s;
    }
    for (int j = 0; j < n; j++) s += w[j] * x[j];
    return s;
}

/* n values starting at an even element index (rows and groups of q4 images start even): unpack the
 * nibbles to int8 first (branch-free sign extension), then the int8 dot — both loops vectorize. */
static int32_t dot_q4(const uint8_t *w, const int8_t *x, int n) {
    if (n == 32) { /* the default group, with constant trip counts */
        int8_t u[32];
        for (int k = 0; k < 16; k++) {
            u[2 * k] = (int8_t)(((w[k] & 0xF) ^ 8) - 8);
            u[2 * k + 1] = (int8_t)(((w[k] >> 4) ^ 8) - 8);
        }
        int32_t s = 0;
        for (int j = 0; j < 32; j++) s += u[j] * x[j];
        return s;
    }
    int8_t unpacked[1024]; /* group sizes are at most 1024 (docs/image-format.md) */
    for (int k = 0; k < n / 2; k++) {
        int b = w[k];
        unpacked[2 * k] = (int8_t)(((b & 0xF) ^ 8) - 8);
        unpacked[2 * k + 1] = (int8_t)(((b >> 4) ^ 8) - 8);
    }
    if (n & 1) unpacked[n - 1] = (int8_t)(((w[n / 2] & 0xF) ^ 8) - 8);
    return dot_q8(unpacked, x, n);
}

void tp_qmatmul_opt(float *out, const int8_t *xq, const float *xs, const tp_qmat *w, int r0, int r1) {
    if (w->quant == TP_Q4 && (w->group & 1)) { /* groups would start mid-byte: take the reference path */
        tp_qmatmul_ansi(out, xq, xs, w, r0, r1);
        return;
    }
    const int groups = (w->cols + w->group - 1) / w->group;
    for (int i = r0; i < r1; i++) {
        const uint8_t *scales = w->scales + 2 * (size_t)i * (size_t)groups;
        float acc = 0.0f;
        for (int g = 0, start = 0; g < groups; g++, start += w->group) {
            int len = start + w->group < w->cols ? w->group : w->cols - start;
            int32_t dot;
            if (w->quant == TP_Q8)
                dot = dot_q8((const int8_t *)w->data + (size_t)i * (size_t)w->cols + (size_t)start, xq + start, len);
            else dot = dot_q4(w->data + ((size_t)i * (size_t)w->cols + (size_t)start) / 2, xq + start, len);
            acc = tp_accumulate_group(acc, dot, tp_fp16_to_fp32(tp_load_u16(scales + 2 * g)), xs[g]);
        }
        out[i - r0] = acc;
    }
}
