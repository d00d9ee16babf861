/*
 * Optimized quantized matmul: bit-exact with kernels/ansi because the integer group dots are exact in any
 * order and width, and the binary32 steps are §4's in group order (docs/numerics.md §4, §4a).
 *
 * The activation vector is shared by every row, so it is prepared once per call, in chunks of at most
 * TP_OPT_CHUNK columns (whole groups): widened to int16 and, for q4, permuted within each group so that
 * the group's even columns come first and its odd columns after (x[0], x[2], …, x[1], x[3], …) — the
 * order in which a row's packed nibbles unpack without a shuffle (all low nibbles, then all high ones).
 *
 * Why int16 is exact (docs/numerics.md §4a): weights are in [−8, 7] (q4; −8 only in a crafted image) or
 * [−128, 127] (q8), activations in [−127, 127] (§3 clamps). A group dot here is Σ int16 · int16 into an
 * int32: each product is at most 128 · 128 = 16,384 in magnitude, so a multiply-add that sums two of them
 * into an int32 lane (SSE2 pmaddwd) is exact, and so is the int32 sum of at most 1,024 of them (< 2^31).
 * A pure int16 accumulator would also be exact for up to 32 q4 products: every partial sum, in any order,
 * is a sum of at most 32 terms of magnitude ≤ 8 · 127 = 1,016, so ≤ 32,512 ≤ 32,767 — the bound the S3's
 * 16-bit SIMD can use later; it needs the ±127 clamp (32 · 8 · 128 = 32,768 would not fit), and it does
 * not hold for q8 (three products can exceed 32,767).
 *
 * On x86-64 (SSE2 is in the base ISA: no -march flag) the default group of 32 takes intrinsics: four
 * groups at a time, their int32 lanes reduced together, the four scales widened and multiplied as packed
 * binary32 lanes (each lane rounds exactly as the scalar multiply), then the four terms added to the row's
 * sum one at a time, in group order. Elsewhere (the ESP32-S3, rv32; or with TP_PORTABLE_KERNELS) the same
 * arithmetic is portable C99, one group at a time, each fp16 scale widened inline (tp_fp16_widen).
 *
 * Rows are swept once per chunk; a row's partial sum waits in out[] between chunks (a binary32 store and
 * load: the same value), so the accumulation stays one left-to-right pass over the groups. The chunk
 * buffer is 1 KiB of stack, small enough for the ESP32-S3 tasks (ports/esp-idf README, "Stack").
 */
#include "../../kernels.h"
#include "../../numerics.h"

#if defined(__SSE2__) && !defined(TP_PORTABLE_KERNELS)
#define TP_SSE2 1
#include <emmintrin.h>
#endif

#ifndef TP_OPT_CHUNK
#define TP_OPT_CHUNK 512 /* int16 activations per chunk: 1 KiB of stack */
#endif

#ifdef TP_SSE2
/* x86-64 (SSE2 is part of the base ISA, no -march flag): a 32-column group's products summed pairwise
 * (pmaddwd) into four int32 lanes, not yet added up. */

/* q4: the 16 bytes go into the high byte of 16 int16 lanes (bytes 0–7, then 8–15); an arithmetic shift
 * right by 12 sign-extends the high nibble, a shift left by 4 first the low one. The lanes then hold the
 * low nibbles of bytes 0–15 (columns 0, 2, …, 30), then the high ones (columns 1, 3, …, 31): the order of
 * the permuted x. */
static inline __m128i lanes_q4(const uint8_t *w, const int16_t *x) {
    const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)w), z = _mm_setzero_si128();
    const __m128i b0 = _mm_unpacklo_epi8(z, b), b1 = _mm_unpackhi_epi8(z, b);
    const __m128i *xv = (const __m128i *)(const void *)x;
    __m128i s = _mm_madd_epi16(_mm_srai_epi16(_mm_slli_epi16(b0, 4), 12), _mm_loadu_si128(xv));
    s = _mm_add_epi32(s, _mm_madd_epi16(_mm_srai_epi16(_mm_slli_epi16(b1, 4), 12), _mm_loadu_si128(xv + 1)));
    s = _mm_add_epi32(s, _mm_madd_epi16(_mm_srai_epi16(b0, 12), _mm_loadu_si128(xv + 2)));
    return _mm_add_epi32(s, _mm_madd_epi16(_mm_srai_epi16(b1, 12), _mm_loadu_si128(xv + 3)));
}

/* q8: each int8 into the high byte of an int16 lane, then shifted down arithmetically (sign-extended). */
static inline __m128i lanes_q8(const int8_t *w, const int16_t *x) {
    const __m128i *wv = (const __m128i *)(const void *)w, *xv = (const __m128i *)(const void *)x;
    const __m128i b0 = _mm_loadu_si128(wv), b1 = _mm_loadu_si128(wv + 1), z = _mm_setzero_si128();
    __m128i s = _mm_madd_epi16(_mm_srai_epi16(_mm_unpacklo_epi8(z, b0), 8), _mm_loadu_si128(xv));
    s = _mm_add_epi32(s, _mm_madd_epi16(_mm_srai_epi16(_mm_unpackhi_epi8(z, b0), 8), _mm_loadu_si128(xv + 1)));
    s = _mm_add_epi32(s, _mm_madd_epi16(_mm_srai_epi16(_mm_unpacklo_epi8(z, b1), 8), _mm_loadu_si128(xv + 2)));
    return _mm_add_epi32(s, _mm_madd_epi16(_mm_srai_epi16(_mm_unpackhi_epi8(z, b1), 8), _mm_loadu_si128(xv + 3)));
}

/* The four lanes of a added up. */
static inline int32_t sum4(__m128i a) {
    a = _mm_add_epi32(a, _mm_shuffle_epi32(a, 0x4E));
    return _mm_cvtsi128_si32(_mm_add_epi32(a, _mm_shuffle_epi32(a, 0xB1)));
}

/* The four lanes of a, b, c, d added up: (Σa, Σb, Σc, Σd). */
static inline __m128i reduce4(__m128i a, __m128i b, __m128i c, __m128i d) {
    const __m128i ab = _mm_add_epi32(_mm_unpacklo_epi32(a, b), _mm_unpackhi_epi32(a, b));
    const __m128i cd = _mm_add_epi32(_mm_unpacklo_epi32(c, d), _mm_unpackhi_epi32(c, d));
    return _mm_add_epi32(_mm_unpacklo_epi64(ab, cd), _mm_unpackhi_epi64(ab, cd));
}

/* Four groups' binary32 step, in the spec's order: per lane fl(sw · sx), then fl(fp32(dot) · that) —
 * packed SSE multiplies round each lane exactly as mulss does, and cvtdq2ps is exact below 2^24 — then
 * the four terms added to acc one at a time, in group order. Scales that are not normal binary16 (0,
 * subnormal, Inf, NaN) take the scalar step. */
static inline float accumulate4(float acc, __m128i dots, const uint8_t *scales, const float *xs) {
    const __m128i h = _mm_unpacklo_epi16(_mm_loadl_epi64((const __m128i *)(const void *)scales), _mm_setzero_si128());
    const __m128i e5 = _mm_and_si128(h, _mm_set1_epi32(0x7C00));
    const __m128i odd =
        _mm_or_si128(_mm_cmpeq_epi32(e5, _mm_setzero_si128()), _mm_cmpeq_epi32(e5, _mm_set1_epi32(0x7C00)));
    float t[4];
    if (_mm_movemask_epi8(odd) == 0) {
        const __m128i bits = _mm_or_si128(
            _mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x8000)), 16),
            _mm_add_epi32(_mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x7FFF)), 13), _mm_set1_epi32(0x38000000)));
        const __m128 scale = _mm_mul_ps(_mm_castsi128_ps(bits), _mm_loadu_ps(xs));
        _mm_storeu_ps(t, _mm_mul_ps(_mm_cvtepi32_ps(dots), scale));
    } else {
        int32_t d[4];
        _mm_storeu_si128((__m128i *)(void *)d, dots);
        for (int k = 0; k < 4; k++) {
            float scale = tp_fp16_to_fp32((uint16_t)(scales[2 * k] | (scales[2 * k + 1] << 8))) * xs[k];
            t[k] = (float)d[k] * scale;
        }
    }
    acc = acc + t[0];
    acc = acc + t[1];
    acc = acc + t[2];
    return acc + t[3];
}
#endif

/* q8: Σ w[j] · x[j] over n columns; the int16 operands make it a 16-bit multiply-add loop. */
static int32_t dot_q8(const int8_t *w, const int16_t *x, int n) {
    int32_t s = 0;
    for (int j = 0; j < n; j++) s += (int16_t)w[j] * x[j];
    return s;
}

/* q4: a group of n (even) columns packed in n/2 bytes, element 2k in the low nibble of byte k and 2k + 1
 * in its high nibble; x holds the group's even columns, then its odd ones (see above): the low nibbles
 * against the even columns, then the high ones. Sign extension of a nibble v is (v ^ 8) − 8. */
static int32_t dot_q4(const uint8_t *w, const int16_t *x, int n) {
    int32_t s = 0;
    const int h = n / 2;
    for (int k = 0; k < h; k++) s += (int16_t)(((w[k] & 0xF) ^ 8) - 8) * x[k];
    for (int k = 0; k < h; k++) s += (int16_t)(((w[k] >> 4) ^ 8) - 8) * x[h + k];
    return s;
}

/* A group's binary16 scale, read little-endian and widened without a call. */
static inline float scale_at(const uint8_t *scales, int g) {
    return tp_fp16_widen((uint16_t)(scales[2 * g] | (scales[2 * g + 1] << 8)));
}

void tp_qmatmul_opt(float *out, const int8_t *xq, const float *xs, const tp_qmat *w, int r0, int r1) {
    const int group = w->group, cols = w->cols;
    /* q4 groups or rows that start mid-byte, and groups wider than a chunk: the reference path */
    if (group > TP_OPT_CHUNK || (w->quant == TP_Q4 && ((group & 1) || (cols & 1)))) {
        tp_qmatmul_ansi(out, xq, xs, w, r0, r1);
        return;
    }
    const int groups = (cols + group - 1) / group;
    const int per = TP_OPT_CHUNK / group; /* groups per chunk */
    int16_t x16[TP_OPT_CHUNK];
    for (int g0 = 0; g0 < groups; g0 += per) {
        const int g1 = g0 + per < groups ? g0 + per : groups;
        const int c0 = g0 * group, c1 = g1 * group < cols ? g1 * group : cols;
        if (w->quant == TP_Q8) {
            for (int j = c0; j < c1; j++) x16[j - c0] = xq[j];
        } else {
            for (int start = c0; start < c1; start += group) {
                const int len = start + group < c1 ? group : c1 - start, h = len / 2;
                int16_t *d = x16 + (start - c0);
                for (int k = 0; k < h; k++) {
                    d[k] = xq[start + 2 * k];
                    d[h + k] = xq[start + 2 * k + 1];
                }
            }
        }
        for (int i = r0; i < r1; i++) {
            const size_t row = (size_t)i * (size_t)cols;
            const uint8_t *scales = w->scales + 2 * (size_t)i * (size_t)groups;
            float acc = g0 == 0 ? 0.0f : out[i - r0];
            int g = g0;
#ifdef TP_SSE2
            if (group == 32) { /* the default group: four whole groups at a time */
                const int16_t *x = x16 - c0;
                if (w->quant == TP_Q8) {
                    const int8_t *data = (const int8_t *)w->data + row;
                    for (; g + 4 <= g1 && (g + 4) * 32 <= cols; g += 4) {
                        const int c = 32 * g;
                        const __m128i dots =
                            reduce4(lanes_q8(data + c, x + c), lanes_q8(data + c + 32, x + c + 32),
                                    lanes_q8(data + c + 64, x + c + 64), lanes_q8(data + c + 96, x + c + 96));
                        acc = accumulate4(acc, dots, scales + 2 * g, xs + g);
                    }
                    for (; g < g1 && (g + 1) * 32 <= cols; g++) /* whole groups left over */
                        acc = tp_accumulate_group(acc, sum4(lanes_q8(data + 32 * g, x + 32 * g)), scale_at(scales, g),
                                                  xs[g]);
                } else {
                    const uint8_t *data = w->data + row / 2;
                    for (; g + 4 <= g1 && (g + 4) * 32 <= cols; g += 4) {
                        const int c = 32 * g;
                        const __m128i dots =
                            reduce4(lanes_q4(data + c / 2, x + c), lanes_q4(data + c / 2 + 16, x + c + 32),
                                    lanes_q4(data + c / 2 + 32, x + c + 64), lanes_q4(data + c / 2 + 48, x + c + 96));
                        acc = accumulate4(acc, dots, scales + 2 * g, xs + g);
                    }
                    for (; g < g1 && (g + 1) * 32 <= cols; g++)
                        acc = tp_accumulate_group(acc, sum4(lanes_q4(data + 16 * g, x + 32 * g)), scale_at(scales, g),
                                                  xs[g]);
                }
            }
#endif
            int start = g * group;
            if (w->quant == TP_Q8) {
                const int8_t *data = (const int8_t *)w->data + row;
                for (; g < g1; g++, start += group) {
                    const int len = start + group < cols ? group : cols - start;
                    acc = tp_accumulate_group(acc, dot_q8(data + start, x16 + (start - c0), len), scale_at(scales, g),
                                              xs[g]);
                }
            } else {
                const uint8_t *data = w->data + row / 2; /* cols is even: every row starts on a byte */
                for (; g < g1; g++, start += group) {
                    const int len = start + group < cols ? group : cols - start;
                    acc = tp_accumulate_group(acc, dot_q4(data + start / 2, x16 + (start - c0), len),
                                              scale_at(scales, g), xs[g]);
                }
            }
            out[i - r0] = acc;
        }
    }
}
