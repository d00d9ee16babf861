/*
 * The stage runner: one board's slice of the model (docs/numerics.md §10) on the fp32 residual stream,
 * with weights read in place from the image and every buffer — KV cache included, in the image's KV format —
 * carved from one caller-provided arena. No allocation.
 */
#ifndef TP_STAGE_H
#define TP_STAGE_H
#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "kv_cache.h"

/* A layer's weight matrices by name, numbered in the table order of docs/image-format.md §4 (the `which` of
 * tp_image_layer_matrix). */
typedef enum { TP_W_Q, TP_W_K, TP_W_V, TP_W_O, TP_W_1, TP_W_3, TP_W_2, TP_W_COUNT } tp_weight;

/* One layer's weights, read in place from the image once per layer and forward, shapes (rows, cols). */
typedef struct {
    const float *rms_att; /* (dim) */
    tp_qmat wq;           /* (dim, dim) */
    tp_qmat wk;           /* (kv_dim, dim) */
    tp_qmat wv;           /* (kv_dim, dim) */
    tp_qmat wo;           /* (dim, dim) */
    const float *rms_ffn; /* (dim) */
    tp_qmat w1;           /* (hidden_dim, dim) */
    tp_qmat w3;           /* (hidden_dim, dim) */
    tp_qmat w2;           /* (dim, hidden_dim) */
} tp_layer_weights;

/* A quantized matmul over rows [r0, r1) (tp_qmatmul's signature). Ports may install a parallel one. */
typedef void (*tp_matmul_fn)(float *out, const int8_t *xq, const float *xs, const tp_qmat *w, int r0, int r1);

typedef struct {
    const tp_image *img;
    /* the matmul to use (tp_stage_init sets the build's kernel; the ESP-IDF port splits rows over both cores) */
    tp_matmul_fn matmul;
    /* run state, shapes in comments (all inside the arena) */
    float *xb;          /* (dim) */
    float *xb2;         /* (dim) */
    float *q;           /* (dim) */
    float *hb;          /* (hidden_dim) */
    float *hb2;         /* (hidden_dim) */
    float *att;         /* (seq_len) */
    int8_t *xq;         /* (max(dim, hidden_dim)) quantized activations */
    float *xs;          /* (ceil(max(dim, hidden_dim) / group)) their scales */
    float *kv_new;      /* fp16/int8: (2, kv_dim) this position's k and v before they are stored; fp32: none */
    float *kv_head;     /* fp16/int8: (head_size) one kv head's read-back row; fp32: none */
    tp_kv_cache keys;   /* (layers in stage, seq_len, kv_dim) in the image's KV format (kv_cache.h) */
    tp_kv_cache values; /* (layers in stage, seq_len, kv_dim) */
} tp_stage;

/* Bytes of arena a stage of this image needs, computed in 64 bits; SIZE_MAX when it does not fit a size_t. Most
 * of it is the KV cache, sized by the image's kv_format (docs/numerics.md §6b). */
size_t tp_stage_arena_bytes(const tp_image *img);

tp_status tp_stage_init(tp_stage *st, const tp_image *img, void *arena, size_t arena_bytes);

/* x (dim) = the dequantized embedding of `token`. TP_E_ARG when out of range or not held; TP_E_NONFINITE when
 * the row is not finite (docs/numerics.md §3a). */
tp_status tp_stage_embed(const tp_stage *st, int token, float *x);

/* Runs this stage's layers on x (dim) at pos, in place; hashes (layers in stage) may be NULL. TP_E_NONFINITE
 * when a matmul input or the result holds NaN or ±Inf (§3a): x and this position's KV rows are then garbage. */
tp_status tp_stage_forward(tp_stage *st, float *x, int pos, uint32_t *hashes);

/* logits (vocab_to - vocab_from) of this stage's classifier rows; x is not changed. TP_E_NONFINITE as above. */
tp_status tp_stage_classify(tp_stage *st, const float *x, float *logits);

#endif
