/*
 * libFuzzer target: the sampler (src/sampler.c). The input is f32 temperature, f32 topp, u64 seed, then the
 * logits (any bit patterns: NaN, ±Inf, subnormals). Parameters tp_sampler_params_ok accepts must give a token
 * in [0, n) or TP_E_NONFINITE; nothing may read outside the logits or the index buffers.
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/sampler.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
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
