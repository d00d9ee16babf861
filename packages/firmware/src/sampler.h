/*
 * llama2.c's sampler (run.c: sample_argmax, sample_mult, sample_topp and the xorshift64* RNG), in binary32
 * like run.c, with the softmax's exp being tp_expf (docs/numerics.md) — so a board samples exactly what
 * @tinypipe/core's Sampler with `exp: 'spec'` samples for the same seed.
 */
#ifndef TP_SAMPLER_H
#define TP_SAMPLER_H
#include <stddef.h>
#include <stdint.h>

#include "tp_status.h"

typedef struct {
    float temperature, topp;
    uint64_t state; /* xorshift64* */
    /* (n) candidate indices and the merge sort's scratch, caller-provided */
    int32_t *index, *scratch;
} tp_sampler;

void tp_sampler_init(tp_sampler *s, float temperature, float topp, uint64_t seed, int32_t *index, int32_t *scratch);

/* 1 when the START message's parameters are ones tp_sample is defined for: temperature finite and >= 0, topp in
 * [0, 1] (docs/numerics.md §10a; the host's validateSamplerOptions is the same rule). */
int tp_sampler_params_ok(float temperature, float topp);

/* The next token from logits (n) into *token; like run.c it overwrites logits with probabilities when
 * temperature > 0. TP_E_NONFINITE (*token and the RNG untouched) when a logit, or a logit / temperature, is
 * NaN or ±Inf. */
tp_status tp_sample(tp_sampler *s, float *logits, int n, int *token);

/*
 * The sliced sampler's slice side (docs/numerics.md §10b, docs/protocol.md §5.3; @tinypipe/core's
 * SliceSampling): a board holding classifier rows [from, from + n) of a split classifier.
 */
#define TP_BUCKET_TOP 0x3F8 /* the bucket of e = 1 (bits >> 20) */
#define TP_BIG_WORDS 14     /* 448 bits: exact sums (182 bits) times a binary32's significand, shifted */
typedef struct {
    uint32_t w[TP_BIG_WORDS]; /* little-endian words */
} tp_big;

/* logits → y = logits / temperature in place (temperature 0: unchanged); TP_E_NONFINITE when a logit or a
 * quotient is NaN or ±Inf. */
tp_status tp_slice_scale(float *y, int n, float temperature);
/* The first index of the largest y. */
int tp_slice_argmax(const float *y, int n);
/* The histogram below bucket `below` (TP_BUCKET_TOP + 1: all): bucket masses from *top down, in bucket units,
 * into masses (at most cap; *count written), and the exact mass of the buckets below them (units 2^-149) into
 * *rest. `sums` is (TP_BUCKET_TOP + 1) scratch. */
void tp_slice_histogram(const float *y, int n, float max, float topp, int below, uint64_t *sums, uint16_t *top,
                        uint64_t *masses, int cap, int *count, tp_big *rest);
/* The first row (0-based in the slice) of bucket >= bucket whose running exact mass × 2^24 exceeds target
 * (units 2^-173); the slice's last such row when none does, 0 when it has none. */
int tp_slice_draw(const float *y, int n, float max, int bucket, const tp_big *target);

/* Unsigned LEB128 (7 bits a byte, low first): writers return the bytes written; the reader TP_E_MALFORMED
 * when the integer runs past `n`, has a redundant zero byte or does not fit a tp_big. */
size_t tp_leb_u64(uint8_t *out, uint64_t v);
size_t tp_leb_big(uint8_t *out, const tp_big *v);
tp_status tp_leb_read(const uint8_t *p, size_t n, tp_big *v, size_t *used);

#endif
