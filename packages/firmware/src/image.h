/*
 * Weight images (docs/image-format.md), read in place from (memory-mapped) flash: no allocation, no copy.
 * tp_image_open validates in the spec's order and refuses a bad image with a tp_status.
 */
#ifndef TP_IMAGE_H
#define TP_IMAGE_H
#include <stddef.h>
#include <stdint.h>

#include "kernels.h"
#include "tp_status.h"

#define TP_IMAGE_MAGIC 0x4D495054u /* "TPIM" */
#define TP_IMAGE_VERSION 3u        /* the newest version read: 2 adds build_id at 0x78, 3 kv_format at 0x80 */
#define TP_IMAGE_VERSION_MIN 1u    /* version 1 (no build id; 0x78.. reserved) is read too */
#define TP_IMAGE_BUILD_ID_BYTES 8u
#define TP_IMAGE_HEADER_BYTES 256u
#define TP_IMAGE_ENTRY_BYTES 64u

/* The KV cache format (docs/numerics.md §6b): the image header's kv_format, HELLO caps bits 3–4. */
typedef enum { TP_KV_FP32 = 0, TP_KV_FP16 = 1, TP_KV_INT8 = 2 } tp_kv_format;
#define TP_KV_FORMATS 3

typedef struct {
    int dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len, shared_classifier;
} tp_config;

typedef struct {
    const uint8_t *base; /* the image bytes */
    size_t size;
    uint8_t fingerprint[32];
    uint32_t version;                          /* TP_IMAGE_VERSION_MIN..TP_IMAGE_VERSION */
    uint8_t build_id[TP_IMAGE_BUILD_ID_BYTES]; /* the build that stamped it; all zero: none (and version 1) */
    tp_kv_format kv_format;                    /* how a stage stores its KV cache; versions 1 and 2: fp32 */
    tp_config config;
    int layer_from, layer_to; /* [from, to) */
    int has_embedding;
    int has_classifier, vocab_from, vocab_to;
    tp_quant quant;
    int group;
    int tensor_count;
    /* table indices (computed from the header; -1 when absent) */
    int t_embedding, t_rope, t_layers, t_rms_final, t_classifier;
    /* the tokenizer section (flags bit 2, version 3; §4b): its header fields and first table index (-1: none) */
    int has_tokenizer, t_tokenizer;
    uint32_t tokenizer_max_token_length, tokenizer_bytes;
    /* the story defaults (flags bit 3, version 3; §4c): story.defaults' bytes and table index (-1: none) */
    int has_story, t_story;
    uint32_t story_bytes;
    /* when set by tp_image_open: the index of the failing tensor, for messages */
    int failed_tensor;
} tp_image;

/*
 * Parses and verifies `bytes`. With check_tensors, every tensor CRC and padding byte is checked too
 * (boot-time verification); without, header, table and sizes only.
 */
tp_status tp_image_open(tp_image *img, const uint8_t *bytes, size_t size, int check_tensors);

/* The image_size field of a header not yet verified (§3, u32 at 0x74): the bytes the image says it
 * occupies. Reads that field only; `header` must hold TP_IMAGE_HEADER_BYTES. */
uint32_t tp_image_declared_size(const uint8_t *header);

/* The image's tokenizer (docs/image-format.md §4b) wrapped in place, checked as tp_tokenizer_init checks it
 * (tp_image_open with check_tensors has run that check too): TP_E_ARG when the image holds none. */
struct tp_tokenizer_s;
tp_status tp_image_tokenizer(const tp_image *img, struct tp_tokenizer_s *t);

/* Board 0's story defaults (docs/image-format.md §4c), what a standalone ring's driver tells when nobody types. */
#define TP_STORY_RECORD_BYTES 24u
#define TP_STORY_PROMPT_MAX 255u  /* bytes: a console line of board 0 */
#define TP_STORY_PARALLEL_MAX 16u /* TP_SERVE_MAX_STREAMS */
typedef struct {
    float temperature, topp; /* finite >= 0; [0, 1] */
    uint64_t seed;
    int steps;                            /* 1 .. seq_len */
    int parallel;                         /* 1 .. TP_STORY_PARALLEL_MAX */
    char prompt[TP_STORY_PROMPT_MAX + 1]; /* UTF-8, NUL-terminated (the record holds no NUL) */
} tp_story_defaults;

/* The image's story defaults, read and checked against §4c's rules (tp_image_open with check_tensors has run that
 * check too): TP_E_ARG when the image holds none, TP_E_BAD_TABLE when the record breaks a rule. */
tp_status tp_image_story(const tp_image *img, tp_story_defaults *out);

/* Table entry k: name (NUL-terminated, <= 31 chars), data pointer and byte length. */
const char *tp_image_tensor_name(const tp_image *img, int k);
const uint8_t *tp_image_tensor(const tp_image *img, int k);

/* Quantized matrix views. */
tp_qmat tp_image_embedding(const tp_image *img);
tp_qmat tp_image_classifier(const tp_image *img);
/* Layer `l` (model index) matrix `which`: 0 wq, 1 wk, 2 wv, 3 wo, 4 w1, 5 w3, 6 w2 (table order). */
tp_qmat tp_image_layer_matrix(const tp_image *img, int l, int which);
const float *tp_image_layer_norm(const tp_image *img, int l, int ffn);
const float *tp_image_rope(const tp_image *img, int sin);
const float *tp_image_rms_final(const tp_image *img);

/* The weights a forward reads first — its first layer's, or (a classifier-only stage) rms_final and the
 * classifier — and in *bytes what follows them to the image's end (a forward reads front to back, §4):
 * where a board preloads its cache while it waits for its next input. */
const uint8_t *tp_image_first_weights(const tp_image *img, size_t *bytes);

#endif
