/*
 * Weight-image reader and verifier: docs/image-format.md §3–§6, in the same order as
 * packages/core/src/image (so both refuse a damaged image with the same code).
 */
#include "image.h"

#include <stdio.h>
#include <string.h>

#include "crc32c.h"
#include "image_fields.h"
#include "tokenizer.h"

#define MAX_GROUP 1024u

static const char *const layer_names[LAYER_TENSORS] = {
    "rms_att",   "wq.data", "wq.scales", "wk.data",   "wk.scales", "wv.data",   "wv.scales", "wo.data",
    "wo.scales", "rms_ffn", "w1.data",   "w1.scales", "w3.data",   "w3.scales", "w2.data",   "w2.scales"};

uint32_t tp_image_declared_size(const uint8_t *header) { return hdr(header, H_SIZE); }

/* The tensor the table must hold at index k: name, dtype and 2-D shape (rank 1 when cols == 0). */
static void expected_tensor(const tp_image *img, int k, char name[32], int *dtype, uint32_t *rows, uint32_t *cols) {
    const tp_config *c = &img->config;
    int qd = img->quant == TP_Q4 ? DT_I4X2 : DT_I8;
    int layers = img->layer_to - img->layer_from;
    uint32_t kv = (uint32_t)(c->dim / c->n_heads * c->n_kv_heads);
    *cols = 0;
    if (img->has_story && k == img->tensor_count - 1) { /* §4c: the last entry */
        snprintf(name, 32, "story.defaults");
        *dtype = DT_U8;
        *rows = img->story_bytes;
        return;
    }
    int tok_from = img->tensor_count - img->has_story - 4;
    if (img->has_tokenizer && k >= tok_from) { /* §4b: the four entries before the story defaults */
        static const char *const tok_names[4] = {"scores", "offsets", "sorted", "bytes"};
        int i = k - tok_from;
        snprintf(name, 32, "tokenizer.%s", tok_names[i]);
        *dtype = i == 0 ? DT_F32 : i == 3 ? DT_U8 : DT_U32;
        *rows = i == 3 ? img->tokenizer_bytes : (uint32_t)c->vocab_size + (i == 1 ? 1u : 0u);
        return;
    }
#define MATRIX(prefix, r, cl, scales)                                                       \
    do {                                                                                    \
        snprintf(name, 32, "%s.%s", prefix, scales ? "scales" : "data");                    \
        *dtype = scales ? DT_F16 : qd;                                                      \
        *rows = (uint32_t)(r);                                                              \
        *cols = scales ? (uint32_t)(((cl) + img->group - 1) / img->group) : (uint32_t)(cl); \
    } while (0)
    int base = 0;
    if (img->has_embedding) {
        if (k < 2) {
            MATRIX("embedding", c->vocab_size, c->dim, k & 1);
            return;
        }
        base = 2;
    }
    if (layers > 0) {
        if (k < base + 2) {
            snprintf(name, 32, "rope.%s", k == base ? "cos" : "sin");
            *dtype = DT_F32;
            *rows = (uint32_t)c->seq_len;
            *cols = (uint32_t)(c->dim / c->n_heads / 2);
            return;
        }
        base += 2;
        if (k < base + LAYER_TENSORS * layers) {
            int l = img->layer_from + (k - base) / LAYER_TENSORS, t = (k - base) % LAYER_TENSORS;
            char prefix[24];
            snprintf(prefix, sizeof prefix, "layers.%d", l);
            if (t == 0 || t == 9) {
                snprintf(name, 32, "%s.%s", prefix, layer_names[t]);
                *dtype = DT_F32;
                *rows = (uint32_t)c->dim;
                return;
            }
            snprintf(prefix, sizeof prefix, "layers.%d.%.2s", l, layer_names[t]);
            int scales = t < 9 ? (t % 2 == 0) : (t % 2 == 1); /* wq..wo: data at odd t; w1..w2: at even t */
            uint32_t r = (t <= 2 || t == 7 || t == 8) ? (uint32_t)c->dim
                         : t <= 6                     ? kv
                         : t <= 13                    ? (uint32_t)c->hidden_dim
                                                      : (uint32_t)c->dim;
            uint32_t cl = t >= 14 ? (uint32_t)c->hidden_dim : (uint32_t)c->dim;
            MATRIX(prefix, r, cl, scales);
            return;
        }
        base += LAYER_TENSORS * layers;
    }
    if (k == base) {
        snprintf(name, 32, "rms_final");
        *dtype = DT_F32;
        *rows = (uint32_t)c->dim;
        return;
    }
    MATRIX("classifier", img->vocab_to - img->vocab_from, c->dim, (k - base - 1) & 1);
#undef MATRIX
}

/* Bytes of n elements, in 64 bits: n < 2^62 (two fields < 2^31), so 4·n cannot wrap. A length that does not
 * fit the table's u32 can never equal it, so such an entry is refused (as the TS reader refuses it). */
static uint64_t dtype_bytes(int dtype, uint64_t n) {
    switch (dtype) {
    case DT_F32:
    case DT_U32: return 4 * n;
    case DT_F16: return 2 * n;
    case DT_I8:
    case DT_U8: return n;
    default: return n / 2;
    }
}

static int shared_alias(const tp_image *img) {
    return img->config.shared_classifier && img->has_embedding && img->has_classifier;
}

tp_status tp_image_open(tp_image *img, const uint8_t *b, size_t size, int check_tensors) {
    memset(img, 0, sizeof *img);
    img->base = b;
    img->size = size;
    img->failed_tensor = -1;
    if (size < TP_IMAGE_HEADER_BYTES) return TP_E_TRUNCATED;
    if (hdr(b, H_MAGIC) != TP_IMAGE_MAGIC) return TP_E_BAD_MAGIC;
    uint32_t version = hdr(b, H_VERSION);
    if (version < TP_IMAGE_VERSION_MIN || version > TP_IMAGE_VERSION) return TP_E_BAD_VERSION;
    img->version = version;
    if (hdr(b, H_HEADER_SIZE) != TP_IMAGE_HEADER_BYTES) return TP_E_BAD_HEADER;
    for (int at = version == 1   ? H_BUILD_ID
                  : version == 2 ? H_KV_FORMAT
                                 : H_RESERVED;
         at < (int)TP_IMAGE_HEADER_BYTES; at++)
        if (b[at] != 0) return TP_E_BAD_HEADER;
    uint32_t kv = hdr(b, H_KV_FORMAT); /* zero in versions 1 and 2 (checked above): fp32 */
    if (kv >= TP_KV_FORMATS) return TP_E_BAD_HEADER;
    img->kv_format = (tp_kv_format)kv;

    uint32_t f[7];
    for (int i = 0; i < 7; i++) {
        f[i] = hdr(b, H_DIM + 4 * i);
        if (f[i] < 1 || f[i] > 0x7FFFFFFFu) return TP_E_BAD_HEADER;
    }
    uint32_t shared = hdr(b, H_SHARED);
    if (shared > 1) return TP_E_BAD_HEADER;
    tp_config *c = &img->config;
    c->dim = (int)f[0], c->hidden_dim = (int)f[1], c->n_layers = (int)f[2], c->n_heads = (int)f[3];
    c->n_kv_heads = (int)f[4], c->vocab_size = (int)f[5], c->seq_len = (int)f[6], c->shared_classifier = (int)shared;
    if (c->dim % c->n_heads != 0 || (c->dim / c->n_heads) % 2 != 0) return TP_E_BAD_HEADER;
    if (c->n_kv_heads > c->n_heads || c->n_heads % c->n_kv_heads != 0) return TP_E_BAD_HEADER;
    uint32_t bits = hdr(b, H_QUANT_BITS);
    if (bits != 4 && bits != 8) return TP_E_BAD_HEADER;
    img->quant = bits == 4 ? TP_Q4 : TP_Q8;
    uint32_t group = hdr(b, H_GROUP);
    if (group < 1 || group > MAX_GROUP) return TP_E_BAD_HEADER;
    img->group = (int)group;
    if (img->quant == TP_Q4 && c->hidden_dim % 2 != 0) return TP_E_BAD_HEADER;
    uint32_t flags = hdr(b, H_FLAGS);
    if (flags & ~(FLAG_EMBEDDING | FLAG_CLASSIFIER | (version >= 3 ? FLAG_TOKENIZER | FLAG_STORY : 0u)))
        return TP_E_BAD_HEADER;
    uint32_t from = hdr(b, H_LAYER_FROM), to = hdr(b, H_LAYER_TO);
    if (from > to || to > f[2]) return TP_E_BAD_RANGE;
    uint32_t v0 = hdr(b, H_VOCAB_FROM), v1 = hdr(b, H_VOCAB_TO);
    img->has_classifier = (flags & FLAG_CLASSIFIER) != 0;
    img->has_embedding = (flags & FLAG_EMBEDDING) != 0;
    if (img->has_classifier && (v0 >= v1 || v1 > f[5])) return TP_E_BAD_RANGE;
    if (!img->has_classifier && (v0 != 0 || v1 != 0)) return TP_E_BAD_HEADER;
    if (from == to && !img->has_embedding && !img->has_classifier) return TP_E_BAD_RANGE;
    img->layer_from = (int)from, img->layer_to = (int)to, img->vocab_from = (int)v0, img->vocab_to = (int)v1;
    img->has_tokenizer = (flags & FLAG_TOKENIZER) != 0;
    uint32_t mtl = hdr(b, H_TOK_MTL), tok_bytes = hdr(b, H_TOK_BYTES); /* zero before version 3 (reserved) */
    if (img->has_tokenizer ? (mtl < 1 || mtl > TP_TOKENIZER_MAX_PIECE || tok_bytes < 1) : (mtl | tok_bytes) != 0)
        return TP_E_BAD_HEADER;
    img->tokenizer_max_token_length = mtl, img->tokenizer_bytes = tok_bytes;
    img->has_story = (flags & FLAG_STORY) != 0;
    uint32_t story_bytes = hdr(b, H_STORY_BYTES); /* zero before version 3 (reserved) */
    if (img->has_story
            ? (story_bytes < TP_STORY_RECORD_BYTES || story_bytes > TP_STORY_RECORD_BYTES + TP_STORY_PROMPT_MAX)
            : story_bytes != 0)
        return TP_E_BAD_HEADER;
    img->story_bytes = story_bytes;

    /* 64-bit: up to 2^31 layers make 16·layers wrap an int; the u32 count never equals a larger value */
    uint64_t layers64 = to - from;
    uint64_t expected64 = (img->has_embedding ? 2u : 0u) + (layers64 > 0 ? 2u + LAYER_TENSORS * layers64 : 0u) +
                          (img->has_classifier ? (shared_alias(img) ? 1u : 3u) : 0u) + (img->has_tokenizer ? 4u : 0u) +
                          (img->has_story ? 1u : 0u);
    uint32_t count = hdr(b, H_COUNT);
    if ((uint64_t)count != expected64) return TP_E_BAD_HEADER;
    if (hdr(b, H_TABLE) != TP_IMAGE_HEADER_BYTES) return TP_E_BAD_HEADER;
    uint64_t table_end = TP_IMAGE_HEADER_BYTES + (uint64_t)count * TP_IMAGE_ENTRY_BYTES;
    uint32_t image_size = hdr(b, H_SIZE);
    if (image_size <= table_end) return TP_E_BAD_HEADER;
    /* from here count < 2^26 (the table ends inside a u32 image_size), so both fit an int */
    int layers = (int)layers64, expected = (int)count;
    img->tensor_count = expected;

    if (size < table_end) return TP_E_TRUNCATED;
    uint32_t crc = tp_crc32c(b, H_CRC, 0);
    crc = tp_crc32c(b + H_FINGERPRINT, (size_t)(table_end - H_FINGERPRINT), crc);
    if (crc != hdr(b, H_CRC)) return TP_E_HEADER_CRC;
    memcpy(img->fingerprint, b + H_FINGERPRINT, 32);
    memcpy(img->build_id, b + H_BUILD_ID, TP_IMAGE_BUILD_ID_BYTES); /* zero in version 1 (checked above) */

    /* the table: every entry exactly the expected tensor, in order, inside the image */
    uint64_t prev_end = table_end;
    for (int k = 0; k < expected; k++) {
        const uint8_t *e = entry(img, k);
        char name[32] = {0};
        int dtype;
        uint32_t rows, cols;
        expected_tensor(img, k, name, &dtype, &rows, &cols);
        if (memcmp(e + E_NAME, name, 32) != 0) {
            img->failed_tensor = k;
            return TP_E_BAD_TABLE;
        }
        uint32_t rank = tp_load_u16(e + E_RANK);
        uint32_t s0 = hdr(e, E_SHAPE), s1 = hdr(e, E_SHAPE + 4), s2 = hdr(e, E_SHAPE + 8);
        uint32_t off = hdr(e, E_OFFSET), len = hdr(e, E_BYTES);
        uint64_t n = cols ? (uint64_t)rows * cols : rows;
        if (tp_load_u16(e + E_DTYPE) != dtype || rank != (cols ? 2u : 1u) || s0 != rows || s1 != cols || s2 != 0 ||
            (uint64_t)len != dtype_bytes(dtype, n) || off % 16 != 0 || off < prev_end ||
            (uint64_t)off + len > image_size || hdr(e, E_RESERVED) != 0) {
            img->failed_tensor = k;
            return TP_E_BAD_TABLE;
        }
        prev_end = (uint64_t)off + len;
    }
    if (prev_end != image_size) return TP_E_BAD_TABLE;
    if (size < image_size) return TP_E_TRUNCATED;
    if (size > image_size) return TP_E_SIZE;

    /* table indices */
    int k = 0;
    img->t_embedding = img->has_embedding ? (k += 2, 0) : -1;
    img->t_rope = layers > 0 ? k : -1;
    img->t_layers = layers > 0 ? k + 2 : -1;
    if (layers > 0) k += 2 + LAYER_TENSORS * layers;
    img->t_rms_final = img->has_classifier ? k : -1;
    img->t_classifier = img->has_classifier ? (shared_alias(img) ? -1 : k + 1) : -1;
    img->t_tokenizer = img->has_tokenizer ? expected - img->has_story - 4 : -1;
    img->t_story = img->has_story ? expected - 1 : -1;

    if (check_tensors) {
        uint64_t gap = table_end;
        for (k = 0; k < expected; k++) {
            const uint8_t *e = entry(img, k);
            uint32_t off = hdr(e, E_OFFSET), len = hdr(e, E_BYTES);
            if (tp_crc32c(b + off, len, 0) != hdr(e, E_CRC)) {
                img->failed_tensor = k;
                return TP_E_TENSOR_CRC;
            }
        }
        for (k = 0; k < expected; k++) {
            const uint8_t *e = entry(img, k);
            uint32_t off = hdr(e, E_OFFSET), len = hdr(e, E_BYTES);
            for (uint64_t i = gap; i < off; i++)
                if (b[i] != 0) return TP_E_BAD_PADDING;
            gap = (uint64_t)off + len;
        }
        tp_tokenizer tok; /* the section's own rules (offsets, piece lengths, the sorted index) */
        if (img->has_tokenizer && tp_image_tokenizer(img, &tok) != TP_OK) {
            img->failed_tensor = img->t_tokenizer;
            return TP_E_BAD_TABLE;
        }
        tp_story_defaults story; /* §4c's rules */
        if (img->has_story && tp_image_story(img, &story) != TP_OK) {
            img->failed_tensor = img->t_story;
            return TP_E_BAD_TABLE;
        }
    }
    return TP_OK;
}
