/*
 * The KV cache of a stage in its image's format (docs/numerics.md §6b): one store per position (k after RoPE,
 * or v, as computed) and element-wise read-back before attention multiplies. The keys and the values are two
 * caches. Rows are numbered layer-major: row = (layer in stage) · seq_len + pos. No allocation: the memory is
 * the caller's (a slice of the stage arena, tp_kv_cache_bytes long).
 */
#ifndef TP_KV_CACHE_H
#define TP_KV_CACHE_H
#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "tp_status.h"

typedef struct {
    tp_kv_format format;
    int kv_dim, head_size;
    float *f32;    /* fp32: (rows, kv_dim) binary32 */
    uint16_t *f16; /* fp16: (rows, kv_dim) binary16 bits */
    float *scale;  /* int8: (rows, n_kv_heads) binary32 scale per kv head (§3's sx, group = head_size) */
    int8_t *q;     /* int8: (rows, kv_dim) */
} tp_kv_cache;

/* Bytes one position of one cache (k or v) takes: fp32 4·kv_dim, fp16 2·kv_dim, int8 kv_dim + 4·n_kv_heads. */
uint64_t tp_kv_row_bytes(tp_kv_format format, int kv_dim, int head_size);

/* Bytes of a cache of `rows` positions, in 64 bits, saturating at UINT64_MAX. */
uint64_t tp_kv_cache_bytes(tp_kv_format format, uint64_t rows, int kv_dim, int head_size);

/* Lays the cache out in mem (tp_kv_cache_bytes, aligned for floats). */
void tp_kv_cache_init(tp_kv_cache *c, tp_kv_format format, uint64_t rows, int kv_dim, int head_size, void *mem);

/* Where the matmul writes row `row`'s new k or v (kv_dim): the cache row itself in fp32, else `scratch`
 * (kv_dim floats), which tp_kv_cache_store then narrows or quantizes into the row. */
float *tp_kv_cache_slot(const tp_kv_cache *c, size_t row, float *scratch);

/* Stores x (kv_dim, from tp_kv_cache_slot) as row `row`. TP_E_NONFINITE when the format is int8 and x holds NaN
 * or ±Inf (§3a; the row is then garbage). fp32 and fp16 store any value (fp16: too large → ±Inf, §6b). */
tp_status tp_kv_cache_store(tp_kv_cache *c, size_t row, const float *x);

/* The read-back values (head_size) of kv head `kvh` at row `row`: the cache itself in fp32, else widened
 * (fp16) or dequantized fl(q_i · sx) (int8) into `scratch` (head_size floats). */
const float *tp_kv_cache_read(const tp_kv_cache *c, size_t row, int kvh, float *scratch);

#endif
