#include "stage.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "numerics.h"

/* 1 when no x[i] is NaN or ±Inf (docs/numerics.md §3a) */
static int all_finite(const float *x, int n) {
    for (int i = 0; i < n; i++)
        if (!(x[i] <= FLT_MAX && x[i] >= -FLT_MAX)) return 0;
    return 1;
}

static int layers_of(const tp_image *img) { return img->layer_to - img->layer_from; }

static int kv_dim(const tp_config *c) { return c->dim / c->n_heads * c->n_kv_heads; }

/* a·b and a+b in 64 bits, saturating at UINT64_MAX (header fields reach 2^31: a KV cache is up to 2^95) */
static uint64_t mul_sat(uint64_t a, uint64_t b) { return a != 0 && b > UINT64_MAX / a ? UINT64_MAX : a * b; }
static uint64_t add_sat(uint64_t a, uint64_t b) { return b > UINT64_MAX - a ? UINT64_MAX : a + b; }
static uint64_t align16(uint64_t n) { return n > UINT64_MAX - 15u ? UINT64_MAX : (n + 15u) & ~(uint64_t)15u; }

/* Where each buffer of the arena starts (bytes, each 16-aligned) and the arena's size, computed once here
 * for tp_stage_arena_bytes and tp_stage_init; in 64 bits, saturating, so a header too big for any arena
 * shows as a total of UINT64_MAX rather than wrapping. */
typedef struct {
    uint64_t xb;          /* xb, xb2, q: 3 × (dim) floats */
    uint64_t hb;          /* hb, hb2: 2 × (hidden_dim) floats */
    uint64_t att;         /* (seq_len) floats */
    uint64_t xq;          /* (max(dim, hidden_dim)) int8 */
    uint64_t xs;          /* (ceil(max(dim, hidden_dim) / group)) floats */
    uint64_t kv_new;      /* fp16/int8: (2, kv_dim) floats; fp32: 0 bytes */
    uint64_t kv_head;     /* fp16/int8: (head_size) floats; fp32: 0 bytes */
    uint64_t key_cache;   /* (layers, seq_len) rows of tp_kv_row_bytes */
    uint64_t value_cache; /* (layers, seq_len) rows of tp_kv_row_bytes */
    uint64_t total;
} arena_layout;

static arena_layout layout_of(const tp_image *img) {
    const tp_config *c = &img->config;
    const uint64_t widest = (uint64_t)(c->dim > c->hidden_dim ? c->dim : c->hidden_dim);
    const uint64_t groups = (widest + (uint64_t)img->group - 1) / (uint64_t)img->group;
    const int hs = c->dim / c->n_heads;
    const uint64_t rows = mul_sat((uint64_t)layers_of(img), (uint64_t)c->seq_len);
    const uint64_t cache = tp_kv_cache_bytes(img->kv_format, rows, kv_dim(c), hs);
    const int compact = img->kv_format != TP_KV_FP32; /* stored other than as computed: needs the two scratches */
    arena_layout a;
    a.xb = 0;
    a.hb = add_sat(a.xb, align16(3 * 4 * (uint64_t)c->dim));
    a.att = add_sat(a.hb, align16(2 * 4 * (uint64_t)c->hidden_dim));
    a.xq = add_sat(a.att, align16(4 * (uint64_t)c->seq_len));
    a.xs = add_sat(a.xq, align16(widest));
    a.kv_new = add_sat(a.xs, align16(groups * 4));
    a.kv_head = add_sat(a.kv_new, compact ? align16(2 * 4 * (uint64_t)kv_dim(c)) : 0);
    a.key_cache = add_sat(a.kv_head, compact ? align16(4 * (uint64_t)hs) : 0);
    a.value_cache = add_sat(a.key_cache, align16(cache));
    a.total = add_sat(a.value_cache, align16(cache));
    return a;
}

size_t tp_stage_arena_bytes(const tp_image *img) {
    uint64_t total = layout_of(img).total;
    /* SIZE_MAX: no arena can be that large (a 32-bit size_t, the ESP32's, would have wrapped) */
    return total >= (uint64_t)SIZE_MAX ? SIZE_MAX : (size_t)total;
}

tp_status tp_stage_init(tp_stage *st, const tp_image *img, void *arena, size_t arena_bytes) {
    const arena_layout a = layout_of(img);
    if (a.total >= (uint64_t)SIZE_MAX || arena_bytes < a.total) return TP_E_NO_MEMORY;
    const tp_config *c = &img->config;
    uint8_t *p = (uint8_t *)arena; /* every offset is below a.total, so it fits a size_t */
    memset(arena, 0, (size_t)a.total);
    st->img = img;
    st->matmul = tp_qmatmul;
    st->xb = (float *)(p + (size_t)a.xb), st->xb2 = st->xb + c->dim, st->q = st->xb2 + c->dim;
    st->hb = (float *)(p + (size_t)a.hb), st->hb2 = st->hb + c->hidden_dim;
    st->att = (float *)(p + (size_t)a.att);
    st->xq = (int8_t *)(p + (size_t)a.xq);
    st->xs = (float *)(p + (size_t)a.xs);
    st->kv_new = (float *)(p + (size_t)a.kv_new);
    st->kv_head = (float *)(p + (size_t)a.kv_head);
    const uint64_t rows = (uint64_t)layers_of(img) * (uint64_t)c->seq_len; /* fits: the caches fit the arena */
    const int hs = c->dim / c->n_heads;
    tp_kv_cache_init(&st->keys, img->kv_format, rows, kv_dim(c), hs, p + (size_t)a.key_cache);
    tp_kv_cache_init(&st->values, img->kv_format, rows, kv_dim(c), hs, p + (size_t)a.value_cache);
    return TP_OK;
}

/* Layer `l` (model index) of the image, every weight by name */
static tp_layer_weights layer_weights(const tp_image *img, int l) {
    tp_layer_weights w;
    w.rms_att = tp_image_layer_norm(img, l, 0);
    w.wq = tp_image_layer_matrix(img, l, TP_W_Q);
    w.wk = tp_image_layer_matrix(img, l, TP_W_K);
    w.wv = tp_image_layer_matrix(img, l, TP_W_V);
    w.wo = tp_image_layer_matrix(img, l, TP_W_O);
    w.rms_ffn = tp_image_layer_norm(img, l, 1);
    w.w1 = tp_image_layer_matrix(img, l, TP_W_1);
    w.w3 = tp_image_layer_matrix(img, l, TP_W_3);
    w.w2 = tp_image_layer_matrix(img, l, TP_W_2);
    return w;
}

tp_status tp_stage_embed(const tp_stage *st, int token, float *x) {
    const tp_image *img = st->img;
    if (!img->has_embedding || token < 0 || token >= img->config.vocab_size) return TP_E_ARG;
    tp_qmat e = tp_image_embedding(img);
    tp_dequantize_row(&e, token, x);
    return all_finite(x, img->config.dim) ? TP_OK : TP_E_NONFINITE; /* an Inf/NaN binary16 scale (§3a) */
}

/* W x for quantized x already in st->xq / st->xs */
static void matmul(float *out, const tp_stage *st, const tp_qmat *w) { st->matmul(out, st->xq, st->xs, w, 0, w->rows); }

/* RoPE (§7): rotate pairs of q and, below kv_dim, of k, with the table row of `pos` */
static void rope(const tp_stage *st, float *k, int pos) {
    const tp_config *c = &st->img->config;
    const int hs = c->dim / c->n_heads, kv = kv_dim(c), half = hs / 2;
    const float *cos_row = tp_image_rope(st->img, 0) + (size_t)pos * (size_t)half;
    const float *sin_row = tp_image_rope(st->img, 1) + (size_t)pos * (size_t)half;
    float *q = st->q;
    for (int i = 0; i < c->dim; i += 2) {
        float fcr = cos_row[(i % hs) / 2], fci = sin_row[(i % hs) / 2];
        float q0 = q[i], q1 = q[i + 1];
        q[i] = q0 * fcr - q1 * fci;
        q[i + 1] = q0 * fci + q1 * fcr;
        if (i < kv) {
            float k0 = k[i], k1 = k[i + 1];
            k[i] = k0 * fcr - k1 * fci;
            k[i + 1] = k0 * fci + k1 * fcr;
        }
    }
}

/* attention (§6) of st->q over positions 0..pos of cache layer `li` -> st->xb; keys and values are read
 * back element-wise from the cache's format before they are multiplied (§6b) */
static void attention(const tp_stage *st, int li, int pos) {
    const tp_config *c = &st->img->config;
    const int hs = c->dim / c->n_heads, kv_mul = c->n_heads / c->n_kv_heads;
    const size_t row0 = (size_t)li * (size_t)c->seq_len; /* the cache row of (li, position 0) */
    const float scale = sqrtf((float)hs);
    for (int h = 0; h < c->n_heads; h++) {
        const float *q = st->q + h * hs;
        const int kvh = h / kv_mul;
        for (int t = 0; t <= pos; t++) {
            const float *k = tp_kv_cache_read(&st->keys, row0 + (size_t)t, kvh, st->kv_head); /* (head_size) */
            float score = 0.0f;
            for (int i = 0; i < hs; i++) score += q[i] * k[i];
            st->att[t] = score / scale;
        }
        tp_softmax(st->att, pos + 1);
        float *out = st->xb + h * hs;
        for (int i = 0; i < hs; i++) out[i] = 0.0f;
        for (int t = 0; t <= pos; t++) {
            const float *v = tp_kv_cache_read(&st->values, row0 + (size_t)t, kvh, st->kv_head); /* (head_size) */
            const float a = st->att[t];
            for (int i = 0; i < hs; i++) out[i] += a * v[i];
        }
    }
}

tp_status tp_stage_forward(tp_stage *st, float *x, int pos, uint32_t *hashes) {
    const tp_image *img = st->img;
    const tp_config *c = &img->config;
    if (pos < 0 || pos >= c->seq_len) return TP_E_ARG;
    const int dim = c->dim, hidden = c->hidden_dim, kv = kv_dim(c), g = img->group;
    for (int li = 0; li < layers_of(img); li++) {
        const int l = img->layer_from + li;
        const size_t row = (size_t)li * (size_t)c->seq_len + (size_t)pos; /* the cache row at pos */
        float *k = tp_kv_cache_slot(&st->keys, row, st->kv_new);          /* (kv_dim) */
        float *v = tp_kv_cache_slot(&st->values, row, st->kv_new + kv);   /* (kv_dim) */
        const tp_layer_weights w = layer_weights(img, l);

        /* attention: rmsnorm, quantize once, q/k/v */
        tp_rmsnorm(st->xb, x, w.rms_att, dim);
        if (tp_quantize_vector(st->xb, dim, g, st->xq, st->xs) != TP_OK) return TP_E_NONFINITE;
        matmul(st->q, st, &w.wq);
        matmul(k, st, &w.wk);
        matmul(v, st, &w.wv);
        rope(st, k, pos);
        /* stored in the KV format; int8 refuses NaN/±Inf here (§3a), fp32/fp16 carry them into attention */
        if (tp_kv_cache_store(&st->keys, row, k) != TP_OK || tp_kv_cache_store(&st->values, row, v) != TP_OK)
            return TP_E_NONFINITE;
        attention(st, li, pos);

        /* output projection and residual */
        if (tp_quantize_vector(st->xb, dim, g, st->xq, st->xs) != TP_OK) return TP_E_NONFINITE;
        matmul(st->xb2, st, &w.wo);
        for (int i = 0; i < dim; i++) x[i] += st->xb2[i];

        /* feed-forward: rmsnorm, w1/w3, SwiGLU, w2, residual */
        tp_rmsnorm(st->xb, x, w.rms_ffn, dim);
        if (tp_quantize_vector(st->xb, dim, g, st->xq, st->xs) != TP_OK) return TP_E_NONFINITE;
        matmul(st->hb, st, &w.w1);
        matmul(st->hb2, st, &w.w3);
        for (int i = 0; i < hidden; i++) {
            float val = st->hb[i];
            val = val * (1.0f / (1.0f + tp_expf(-val)));
            st->hb[i] = val * st->hb2[i];
        }
        if (tp_quantize_vector(st->hb, hidden, g, st->xq, st->xs) != TP_OK) return TP_E_NONFINITE;
        matmul(st->xb, st, &w.w2);
        for (int i = 0; i < dim; i++) x[i] += st->xb[i];

        if (hashes) hashes[li] = tp_hash_activations(x, dim);
    }
    return all_finite(x, dim) ? TP_OK : TP_E_NONFINITE; /* what this stage passes on (§3a) */
}

tp_status tp_stage_classify(tp_stage *st, const float *x, float *logits) {
    const tp_image *img = st->img;
    if (!img->has_classifier) return TP_E_ARG;
    const int dim = img->config.dim;
    tp_rmsnorm(st->xb, x, tp_image_rms_final(img), dim);
    if (tp_quantize_vector(st->xb, dim, img->group, st->xq, st->xs) != TP_OK) return TP_E_NONFINITE;
    tp_qmat w = tp_image_classifier(img);
    matmul(logits, st, &w);
    return all_finite(logits, w.rows) ? TP_OK : TP_E_NONFINITE;
}
