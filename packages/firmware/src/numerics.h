/*
 * The scalar numerics of docs/numerics.md: our exp (no libm), binary16 widening and narrowing (the fp16 KV
 * cache), the spec's rounding, the per-layer hash, rmsnorm and softmax. Bit-exact with packages/core/src/numerics
 * and src/quant.
 * Build with -ffp-contract=off and without -ffast-math.
 */
#ifndef TP_NUMERICS_H
#define TP_NUMERICS_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* e^x in binary32 (docs/numerics.md §5). */
float tp_expf(float x);

/* binary16 bits -> the equal binary32 value. */
float tp_fp16_to_fp32(uint16_t h);

/* binary32 -> binary16 bits, round to nearest, ties to even (docs/numerics.md §2): too large -> ±Inf, below half
 * the smallest subnormal -> ±0, subnormals rounded too, NaN stays NaN (quiet, top payload bits kept). */
uint16_t tp_fp32_to_fp16(float x);

/* The same value, inline for the kernels' per-group scales: a normal half (every scale the quantizer
 * writes but 0) is widened with integer operations — sign to bit 31, exponent and mantissa shifted up by 13
 * and the exponent rebiased by 127 − 15 = 112 — and only zero, subnormals, ±Inf and NaN take the call. */
static inline float tp_fp16_widen(uint16_t h) {
    uint32_t e5 = h & 0x7C00u;
    if (e5 == 0 || e5 == 0x7C00u) return tp_fp16_to_fp32(h);
    uint32_t b = ((uint32_t)(h & 0x8000u) << 16) | ((((uint32_t)h & 0x7FFFu) << 13) + 0x38000000u);
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

/* round half away from zero as trunc(fl(t +- 0.5)) (docs/numerics.md §3). */
int32_t tp_round_half_away(float t);

/* FNV-1a 32 over n bytes, continuing from h (start with TP_FNV_OFFSET). */
#define TP_FNV_OFFSET 0x811C9DC5u
uint32_t tp_fnv1a32(const uint8_t *bytes, size_t n, uint32_t h);

/* FNV-1a of the little-endian bytes of x[0..n). */
uint32_t tp_hash_activations(const float *x, int n);

/* o = weight * (x / sqrt(mean(x^2) + 1e-5)), llama2.c's order; o may alias x. */
void tp_rmsnorm(float *o, const float *x, const float *weight, int n);

/* softmax over x[0..n) in place with tp_expf. */
void tp_softmax(float *x, int n);

/* Little-endian loads (images are little-endian; these also work on big-endian hosts). */
uint16_t tp_load_u16(const uint8_t *p);
uint32_t tp_load_u32(const uint8_t *p);
float tp_load_f32(const uint8_t *p);

#endif
