#include "kv_cache.h"

#include "kernels.h"
#include "numerics.h"

static uint64_t mul_sat(uint64_t a, uint64_t b) { return a != 0 && b > UINT64_MAX / a ? UINT64_MAX : a * b; }

uint64_t tp_kv_row_bytes(tp_kv_format format, int kv_dim, int head_size) {
    const uint64_t n = (uint64_t)kv_dim;
    switch (format) {
    case TP_KV_FP16: return 2 * n;
    case TP_KV_INT8: return n + 4 * (n / (uint64_t)head_size); /* kv_dim / head_size = n_kv_heads */
    default: return 4 * n;
    }
}

uint64_t tp_kv_cache_bytes(tp_kv_format format, uint64_t rows, int kv_dim, int head_size) {
    return mul_sat(rows, tp_kv_row_bytes(format, kv_dim, head_size));
}

void tp_kv_cache_init(tp_kv_cache *c, tp_kv_format format, uint64_t rows, int kv_dim, int head_size, void *mem) {
    c->format = format;
    c->kv_dim = kv_dim, c->head_size = head_size;
    c->f32 = NULL, c->f16 = NULL, c->scale = NULL, c->q = NULL;
    switch (format) {
    case TP_KV_FP16: c->f16 = (uint16_t *)mem; break;
    case TP_KV_INT8: /* the scales first, so they stay float-aligned; then the int8 values */
        c->scale = (float *)mem;
        c->q = (int8_t *)(c->scale + (size_t)rows * (size_t)(kv_dim / head_size));
        break;
    default: c->f32 = (float *)mem;
    }
}

float *tp_kv_cache_slot(const tp_kv_cache *c, size_t row, float *scratch) {
    return c->format == TP_KV_FP32 ? c->f32 + row * (size_t)c->kv_dim : scratch;
}

tp_status tp_kv_cache_store(tp_kv_cache *c, size_t row, const float *x) {
    const int n = c->kv_dim;
    if (c->format == TP_KV_FP16) {
        uint16_t *h = c->f16 + row * (size_t)n;
        for (int i = 0; i < n; i++) h[i] = tp_fp32_to_fp16(x[i]);
    } else if (c->format == TP_KV_INT8) {
        /* §3's activation quantization with group = head_size: one scale per kv head */
        const size_t heads = (size_t)(n / c->head_size);
        return tp_quantize_vector(x, n, c->head_size, c->q + row * (size_t)n, c->scale + row * heads);
    } /* fp32: x is the cache row already (tp_kv_cache_slot) */
    return TP_OK;
}

const float *tp_kv_cache_read(const tp_kv_cache *c, size_t row, int kvh, float *scratch) {
    const size_t at = row * (size_t)c->kv_dim + (size_t)kvh * (size_t)c->head_size;
    const int hs = c->head_size;
    if (c->format == TP_KV_FP16) {
        for (int i = 0; i < hs; i++) scratch[i] = tp_fp16_widen(c->f16[at + i]);
    } else if (c->format == TP_KV_INT8) {
        const float s = c->scale[row * (size_t)(c->kv_dim / hs) + (size_t)kvh];
        for (int i = 0; i < hs; i++) scratch[i] = (float)c->q[at + i] * s;
    } else {
        return c->f32 + at;
    }
    return scratch;
}
