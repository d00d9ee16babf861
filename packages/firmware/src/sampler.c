#include "sampler.h"

#include <float.h>

#include "numerics.h"

void tp_sampler_init(tp_sampler *s, float temperature, float topp, uint64_t seed, int32_t *index, int32_t *scratch) {
    s->temperature = temperature, s->topp = topp, s->state = seed, s->index = index, s->scratch = scratch;
}

/* run.c random_u32: xorshift64*, the high 32 bits of state × 0x2545F4914F6CDD1D */
static uint32_t random_u32(uint64_t *state) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (uint32_t)((*state * 0x2545F4914F6CDD1Dull) >> 32);
}

static float random_f32(uint64_t *state) { return (float)(random_u32(state) >> 8) / 16777216.0f; }

static int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static void softmax(float *x, int n) {
    float max = x[0], sum = 0.0f;
    for (int i = 1; i < n; i++)
        if (x[i] > max) max = x[i];
    for (int i = 0; i < n; i++) {
        x[i] = tp_expf(x[i] - max);
        sum += x[i];
    }
    for (int i = 0; i < n; i++) x[i] /= sum;
}

/* indices [lo, hi) sorted by descending probability, equal ones keeping index order (a stable merge
 * sort: glibc's qsort, which run.c calls, is a merge sort here — see core's sampler) */
static void sort_desc(int32_t *a, int32_t *tmp, int lo, int hi, const float *p) {
    if (hi - lo < 2) return;
    int mid = lo + (hi - lo) / 2;
    sort_desc(a, tmp, lo, mid, p);
    sort_desc(a, tmp, mid, hi, p);
    int i = lo, j = mid, k = lo;
    while (i < mid && j < hi) tmp[k++] = p[a[j]] > p[a[i]] ? a[j++] : a[i++];
    while (i < mid) tmp[k++] = a[i++];
    while (j < hi) tmp[k++] = a[j++];
    for (k = lo; k < hi; k++) a[k] = tmp[k];
}

int tp_sampler_params_ok(float temperature, float topp) {
    return temperature >= 0.0f && temperature <= FLT_MAX && topp >= 0.0f && topp <= 1.0f; /* NaN fails both */
}

static int finite(const float *x, int n) {
    for (int i = 0; i < n; i++)
        if (!(x[i] <= FLT_MAX && x[i] >= -FLT_MAX)) return 0;
    return 1;
}

/* run.c's sample on logits / temperature (finite, temperature > 0): sample_mult or sample_topp */
static int sample_scaled(tp_sampler *s, float *logits, int n) {
    softmax(logits, n);
    float coin = random_f32(&s->state);
    if (s->topp <= 0.0f || s->topp >= 1.0f) { /* sample_mult */
        float cdf = 0.0f;
        for (int i = 0; i < n; i++) {
            cdf += logits[i];
            if (coin < cdf) return i;
        }
        return n - 1;
    }
    /* sample_topp: the smallest set of most likely tokens whose mass exceeds topp */
    float cutoff = (1.0f - s->topp) / (float)(n - 1);
    int n0 = 0;
    for (int i = 0; i < n; i++)
        if (logits[i] >= cutoff) s->index[n0++] = i;
    if (n0 == 0) /* no token reaches the cutoff (a near-uniform distribution, or n == 1): every token is a
                    candidate — the cutoff only prunes, top-p itself is defined on the whole vocabulary */
        for (int i = 0; i < n; i++) s->index[n0++] = i;
    sort_desc(s->index, s->scratch, 0, n0, logits);
    float cumulative = 0.0f;
    int last = n0 - 1;
    for (int i = 0; i < n0; i++) {
        cumulative += logits[s->index[i]];
        if (cumulative > s->topp) {
            last = i;
            break;
        }
    }
    float r = coin * cumulative, cdf = 0.0f;
    for (int i = 0; i <= last; i++) {
        cdf += logits[s->index[i]];
        if (r < cdf) return s->index[i];
    }
    return s->index[last];
}

tp_status tp_sample(tp_sampler *s, float *logits, int n, int *token) {
    /* docs/numerics.md §10a: non-finite logits, or logits / temperature overflowing (a tiny temperature), end
       the request before the RNG moves */
    if (!finite(logits, n)) return TP_E_NONFINITE;
    if (s->temperature == 0.0f) {
        *token = argmax(logits, n);
        return TP_OK;
    }
    for (int i = 0; i < n; i++) logits[i] /= s->temperature;
    if (!finite(logits, n)) return TP_E_NONFINITE;
    *token = sample_scaled(s, logits, n);
    return TP_OK;
}
