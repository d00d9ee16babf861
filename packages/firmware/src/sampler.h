/*
 * llama2.c's sampler (run.c: sample_argmax, sample_mult, sample_topp and the xorshift64* RNG), in binary32
 * like run.c, with the softmax's exp being tp_expf (docs/numerics.md) — so a board samples exactly what
 * @tinypipe/core's Sampler with `exp: 'spec'` samples for the same seed.
 */
#ifndef TP_SAMPLER_H
#define TP_SAMPLER_H
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

#endif
