/*
 * The scalar numerics of docs/numerics.md: our exp (no libm), binary16 widening, the spec's rounding,
 * the per-layer hash, rmsnorm and softmax. Bit-exact with packages/core/src/numerics and src/quant.
 * Build with -ffp-contract=off and without -ffast-math.
 */
#ifndef TP_NUMERICS_H
#define TP_NUMERICS_H
#include <stddef.h>
#include <stdint.h>

/* e^x in binary32 (docs/numerics.md §5). */
float tp_expf(float x);

/* binary16 bits -> the equal binary32 value. */
float tp_fp16_to_fp32(uint16_t h);

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
