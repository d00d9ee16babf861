/* ANSI C reference kernels: one value at a time, exactly as docs/numerics.md reads. */
#include <float.h>

#include "../../kernels.h"
#include "../../numerics.h"

static int32_t weight_at(const tp_qmat *w, int row, int col) {
    size_t i = (size_t)row * (size_t)w->cols + (size_t)col;
    if (w->quant == TP_Q8) return (int8_t)w->data[i];
    int nibble = (w->data[i >> 1] >> ((i & 1u) * 4)) & 0xF;
    return nibble >= 8 ? nibble - 16 : nibble;
}

tp_status tp_quantize_vector(const float *x, int n, int group, int8_t *q, float *s) {
    for (int g = 0, start = 0; start < n; g++, start += group) {
        int end = start + group < n ? start + group : n;
        float a = 0.0f;
        for (int j = start; j < end; j++) {
            float v = x[j] < 0.0f ? -x[j] : x[j];
            if (!(v <= FLT_MAX)) return TP_E_NONFINITE; /* NaN or ±Inf (§3a) */
            if (v > a) a = v;
        }
        float inv = a == 0.0f ? 0.0f : 127.0f / a;
        if (a == 0.0f || inv > FLT_MAX) { /* 127/a overflows when a < ~3.7e-37: the group counts as zero (§3) */
            s[g] = 0.0f;
            for (int j = start; j < end; j++) q[j] = 0;
            continue;
        }
        s[g] = a / 127.0f;
        for (int j = start; j < end; j++) {
            int32_t v = tp_round_half_away(x[j] * inv); /* |x·inv| <= 127.5: the conversion is defined */
            q[j] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
        }
    }
    return TP_OK;
}

void tp_qmatmul_ansi(float *out, const int8_t *xq, const float *xs, const tp_qmat *w, int r0, int r1) {
    int groups = (w->cols + w->group - 1) / w->group;
    for (int i = r0; i < r1; i++) {
        float acc = 0.0f;
        for (int g = 0, start = 0; g < groups; g++, start += w->group) {
            int end = start + w->group < w->cols ? start + w->group : w->cols;
            int32_t dot = 0;
            for (int j = start; j < end; j++) dot += weight_at(w, i, j) * xq[j];
            float sw = tp_fp16_to_fp32(tp_load_u16(w->scales + 2 * ((size_t)i * (size_t)groups + (size_t)g)));
            acc = tp_accumulate_group(acc, dot, sw, xs[g]);
        }
        out[i - r0] = acc;
    }
}

void tp_dequantize_row(const tp_qmat *w, int row, float *x) {
    int groups = (w->cols + w->group - 1) / w->group;
    for (int j = 0; j < w->cols; j++) {
        float s = tp_fp16_to_fp32(tp_load_u16(w->scales + 2 * ((size_t)row * (size_t)groups + (size_t)(j / w->group))));
        x[j] = (float)weight_at(w, row, j) * s;
    }
}
