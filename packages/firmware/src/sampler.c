#include "sampler.h"

#include <float.h>
#include <string.h>

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

/* ---- the sliced sampler's slice side (docs/numerics.md §10b) ---- */

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static int bucket_of(float e) { return (int)(f32_bits(e) >> 20); }

/* e in units of 2^-149 is sig << shift: a 24-bit integer shifted by at most 126 */
static void units149(float e, uint32_t *sig, int *shift) {
    uint32_t b = f32_bits(e), exp = (b >> 23) & 0xff, mant = b & 0x7fffff;
    *sig = exp ? (mant | 0x800000u) : mant;
    *shift = exp ? (int)exp - 1 : 0;
}

static void big_zero(tp_big *a) { memset(a, 0, sizeof *a); }

/* a += v << shift (v < 2^64); bits past the last word are dropped (callers keep inside it) */
static void big_add_shifted(tp_big *a, uint64_t v, int shift) {
    int w = shift / 32, r = shift % 32;
    uint32_t lo = (uint32_t)v, hi = (uint32_t)(v >> 32);
    uint32_t parts[3] = {lo << r, r ? (hi << r) | (lo >> (32 - r)) : hi, r ? hi >> (32 - r) : 0};
    uint64_t carry = 0;
    for (int i = w; i < TP_BIG_WORDS; i++) {
        uint64_t t = (uint64_t)a->w[i] + (i - w < 3 ? parts[i - w] : 0) + carry;
        a->w[i] = (uint32_t)t, carry = t >> 32;
        if (i - w >= 2 && !carry) break;
    }
}

static void big_mul_u32(tp_big *a, uint32_t m) {
    uint64_t carry = 0;
    for (int i = 0; i < TP_BIG_WORDS; i++) {
        uint64_t t = (uint64_t)a->w[i] * m + carry;
        a->w[i] = (uint32_t)t, carry = t >> 32;
    }
}

static void big_shl(tp_big *a, int n) {
    int w = n / 32, r = n % 32;
    for (int i = TP_BIG_WORDS - 1; i >= 0; i--) {
        uint32_t hi = i - w >= 0 ? a->w[i - w] : 0, lo = i - w - 1 >= 0 ? a->w[i - w - 1] : 0;
        a->w[i] = r ? (hi << r) | (lo >> (32 - r)) : hi;
    }
}

static int big_cmp(const tp_big *a, const tp_big *b) {
    for (int i = TP_BIG_WORDS - 1; i >= 0; i--)
        if (a->w[i] != b->w[i]) return a->w[i] > b->w[i] ? 1 : -1;
    return 0;
}

tp_status tp_slice_scale(float *y, int n, float temperature) {
    if (!finite(y, n)) return TP_E_NONFINITE;
    if (temperature == 0.0f) return TP_OK;
    for (int i = 0; i < n; i++) y[i] /= temperature;
    return finite(y, n) ? TP_OK : TP_E_NONFINITE;
}

int tp_slice_argmax(const float *y, int n) { return argmax(y, n); }

void tp_slice_histogram(const float *y, int n, float max, float topp, int below, uint64_t *sums, uint16_t *top,
                        uint64_t *masses, int cap, int *count, tp_big *rest) {
    memset(sums, 0, (TP_BUCKET_TOP + 1) * sizeof *sums);
    int hi = -1;
    for (int i = 0; i < n; i++) {
        float e = tp_expf(y[i] - max);
        int k = bucket_of(e);
        if (k >= below || k > TP_BUCKET_TOP) continue;
        uint32_t sig;
        int shift;
        units149(e, &sig, &shift);
        sums[k] += sig; /* in the bucket's unit, 2^(max(exponent, 1) - 1) × 2^-149 */
        if (k > hi) hi = k;
    }
    *count = 0;
    big_zero(rest);
    if (hi < 0) {
        *top = 0;
        return;
    }
    *top = (uint16_t)hi;
    tp_big total, above, need, lhs;
    big_zero(&total);
    for (int k = 0; k <= hi; k++) big_add_shifted(&total, sums[k], k >> 3 > 1 ? (k >> 3) - 1 : 0);
    /* the slice's own nucleus: the first bucket (from the top) where above << 149 > total · topp */
    uint32_t tsig;
    int tshift;
    units149(topp, &tsig, &tshift);
    need = total;
    big_mul_u32(&need, tsig);
    big_zero(&above);
    int own = -1;
    for (int k = hi; k >= 0 && *count < cap; k--) {
        masses[(*count)++] = sums[k];
        big_add_shifted(&above, sums[k], k >> 3 > 1 ? (k >> 3) - 1 : 0);
        lhs = above;
        big_shl(&lhs, 149 - tshift); /* above · 2^149 > total · tsig · 2^tshift */
        if (own < 0 && big_cmp(&lhs, &need) > 0) own = k;
        if (own >= 0 && k <= own - 8) break;
    }
    /* rest = total - above, by adding the buckets not sent */
    for (int k = hi - *count; k >= 0; k--) big_add_shifted(rest, sums[k], k >> 3 > 1 ? (k >> 3) - 1 : 0);
}

int tp_slice_draw(const float *y, int n, float max, int bucket, const tp_big *target) {
    tp_big run, t;
    big_zero(&run);
    int last = -1;
    for (int i = 0; i < n; i++) {
        float e = tp_expf(y[i] - max);
        if (bucket_of(e) < bucket) continue;
        uint32_t sig;
        int shift;
        units149(e, &sig, &shift);
        big_add_shifted(&run, sig, shift);
        last = i;
        t = run;
        big_shl(&t, 24);
        if (big_cmp(&t, target) > 0) return i;
    }
    return last < 0 ? 0 : last;
}

size_t tp_leb_u64(uint8_t *out, uint64_t v) {
    size_t k = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        out[k++] = v ? (uint8_t)(b | 0x80) : b;
    } while (v);
    return k;
}

size_t tp_leb_big(uint8_t *out, const tp_big *v) {
    tp_big a = *v;
    size_t k = 0;
    for (;;) {
        uint8_t b = a.w[0] & 0x7f;
        for (int i = 0; i < TP_BIG_WORDS; i++) /* a >>= 7 */
            a.w[i] = (a.w[i] >> 7) | (i + 1 < TP_BIG_WORDS ? a.w[i + 1] << 25 : 0);
        int more = 0;
        for (int i = 0; i < TP_BIG_WORDS; i++) more |= a.w[i] != 0;
        out[k++] = more ? (uint8_t)(b | 0x80) : b;
        if (!more) return k;
    }
}

tp_status tp_leb_read(const uint8_t *p, size_t n, tp_big *v, size_t *used) {
    big_zero(v);
    for (size_t i = 0; i < n; i++) {
        int shift = (int)(7 * i);
        if (shift >= 32 * TP_BIG_WORDS) return TP_E_MALFORMED;
        uint32_t bits = p[i] & 0x7f;
        if (shift + 7 > 32 * TP_BIG_WORDS && (bits >> (32 * TP_BIG_WORDS - shift))) return TP_E_MALFORMED;
        big_add_shifted(v, bits, shift);
        if (!(p[i] & 0x80)) {
            if (p[i] == 0 && i > 0) return TP_E_MALFORMED;
            *used = i + 1;
            return TP_OK;
        }
    }
    return TP_E_MALFORMED;
}
