#include "numerics.h"

#include <math.h>
#include <string.h>

static float from_bits(uint32_t b) {
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static uint32_t to_bits(float f) {
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

uint16_t tp_load_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

uint32_t tp_load_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

float tp_load_f32(const uint8_t *p) { return from_bits(tp_load_u32(p)); }

int32_t tp_round_half_away(float t) {
    float u = t < 0.0f ? t - 0.5f : t + 0.5f; /* one binary32 addition, as the spec says */
    return (int32_t)u;                        /* C conversion truncates toward zero */
}

/* 2^k for -126 <= k <= 127, from the exponent bits */
static float pow2(int k) { return from_bits((uint32_t)(k + 127) << 23); }

float tp_expf(float x) {
    static const float overflow = 88.72283935546875f;    /* 0x42B17218 */
    static const float underflow = -103.97208404541016f; /* 0xC2CFF1B5 */
    static const float log2e = 1.4426950408889634f;      /* 0x3FB8AA3B */
    static const float ln2_hi = 0.693145751953125f;      /* 0x3F317200 */
    static const float ln2_lo = 1.428606765330187e-6f;   /* 0x35BFBE8E */
    /* Horner coefficients c6..c1 of e^r's Taylor polynomial, each rounded to binary32 */
    static const float c[6] = {1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f};

    if (x != x) return x; /* NaN */
    if (x > overflow) return from_bits(0x7F800000u);
    if (x < underflow) return 0.0f;

    float t = x * log2e;
    int32_t k = tp_round_half_away(t);
    float kf = (float)k;
    float r = (x - kf * ln2_hi) - kf * ln2_lo;

    float p = c[0];
    for (int i = 1; i < 6; i++) p = p * r + c[i];
    p = p * r + 1.0f;

    if (k > 127) return (p * pow2(127)) * pow2(k - 127);
    if (k < -126) return (p * pow2(k + 126)) * pow2(-126);
    return p * pow2(k);
}

float tp_fp16_to_fp32(uint16_t h) {
    uint32_t e5 = h & 0x7C00u;
    if (e5 != 0 && e5 != 0x7C00u) /* normal half (the common case): rebias the exponent by 112 */
        return from_bits(((uint32_t)(h & 0x8000u) << 16) | ((((uint32_t)h & 0x7FFFu) << 13) + 0x38000000u));
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t mant = h & 0x3FFu;
    if (exp == 0x1F) return from_bits(sign | 0x7F800000u | (mant << 13)); /* inf, NaN */
    if (exp != 0) return from_bits(sign | ((exp + 112) << 23) | (mant << 13));
    if (mant == 0) return from_bits(sign);
    uint32_t e = 113; /* subnormal half: normalise */
    while ((mant & 0x400u) == 0) {
        mant <<= 1;
        e--;
    }
    return from_bits(sign | (e << 23) | ((mant & 0x3FFu) << 13));
}

uint16_t tp_fp32_to_fp16(float x) {
    uint32_t b = to_bits(x);
    uint32_t sign = (b >> 16) & 0x8000u, exp = (b >> 23) & 0xFFu, mant = b & 0x7FFFFFu;
    if (exp == 0xFF) return (uint16_t)(sign | 0x7C00u | (mant ? 0x200u | (mant >> 13) : 0)); /* Inf, NaN */
    int e = (int)exp - 127 + 15;                                                             /* rebias */
    if (e >= 0x1F) return (uint16_t)(sign | 0x7C00u);                                        /* too large: Inf */
    if (e <= 0) { /* a subnormal half (or zero): shift the whole significand right, then round */
        if (e < -10) return (uint16_t)sign; /* below half the smallest subnormal */
        uint32_t sig = mant | 0x800000u, shift = (uint32_t)(14 - e);
        uint32_t h = sig >> shift, rem = sig & ((1u << shift) - 1u), half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (h & 1u))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (mant >> 13), rem = mant & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++; /* a carry into the exponent is still right */
    return (uint16_t)(sign | h);
}

uint32_t tp_fnv1a32(const uint8_t *bytes, size_t n, uint32_t h) {
    for (size_t i = 0; i < n; i++) h = (h ^ bytes[i]) * 0x01000193u;
    return h;
}

uint32_t tp_hash_activations(const float *x, int n) {
    uint32_t h = TP_FNV_OFFSET;
    for (int i = 0; i < n; i++) {
        uint32_t b = to_bits(x[i]);
        uint8_t le[4] = {(uint8_t)b, (uint8_t)(b >> 8), (uint8_t)(b >> 16), (uint8_t)(b >> 24)};
        h = tp_fnv1a32(le, 4, h);
    }
    return h;
}

void tp_rmsnorm(float *o, const float *x, const float *weight, int n) {
    float ss = 0.0f;
    for (int j = 0; j < n; j++) ss += x[j] * x[j];
    ss /= (float)n;
    ss += 1e-5f;
    ss = 1.0f / sqrtf(ss);
    for (int j = 0; j < n; j++) o[j] = weight[j] * (ss * x[j]);
}

void tp_softmax(float *x, int n) {
    float max = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > max) max = x[i];
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        x[i] = tp_expf(x[i] - max);
        sum += x[i];
    }
    for (int i = 0; i < n; i++) x[i] /= sum;
}
