/*
 * The weight image's field offsets (docs/image-format.md §3, §4), for the reader's files (image.c, image_views.c):
 * not part of the public interface (image.h).
 */
#ifndef TP_IMAGE_FIELDS_H
#define TP_IMAGE_FIELDS_H
#include "image.h"
#include "numerics.h"

/* header field offsets (§3) */
enum {
    H_MAGIC = 0x00,
    H_VERSION = 0x04,
    H_HEADER_SIZE = 0x08,
    H_CRC = 0x0C,
    H_FINGERPRINT = 0x10,
    H_DIM = 0x30,
    H_SHARED = 0x4C,
    H_LAYER_FROM = 0x50,
    H_LAYER_TO = 0x54,
    H_FLAGS = 0x58,
    H_VOCAB_FROM = 0x5C,
    H_VOCAB_TO = 0x60,
    H_QUANT_BITS = 0x64,
    H_GROUP = 0x68,
    H_COUNT = 0x6C,
    H_TABLE = 0x70,
    H_SIZE = 0x74,
    H_BUILD_ID = 0x78,
    H_KV_FORMAT = 0x80,
    H_TOK_MTL = 0x84,     /* version 3, tokenizer flag: max_token_length */
    H_TOK_BYTES = 0x88,   /* version 3, tokenizer flag: bytes of tokenizer.bytes */
    H_STORY_BYTES = 0x8C, /* version 3, story flag: bytes of story.defaults (§4c) */
    H_RESERVED = 0x90     /* version 1: reserved from H_BUILD_ID; version 2: from H_KV_FORMAT */
};
/* table entry offsets (§4) */
enum {
    E_NAME = 0x00,
    E_DTYPE = 0x20,
    E_RANK = 0x22,
    E_SHAPE = 0x24,
    E_OFFSET = 0x30,
    E_BYTES = 0x34,
    E_CRC = 0x38,
    E_RESERVED = 0x3C
};
#define LAYER_TENSORS 16 /* a layer's table entries (§4) */
enum { DT_F32 = 1, DT_F16 = 2, DT_I8 = 3, DT_I4X2 = 4, DT_U8 = 5, DT_U32 = 6 };
#define FLAG_EMBEDDING 1u
#define FLAG_CLASSIFIER 2u
#define FLAG_TOKENIZER 4u
#define FLAG_STORY 8u

static inline uint32_t hdr(const uint8_t *b, int at) { return tp_load_u32(b + at); }

/* table entry k of an image whose header was read */
static inline const uint8_t *entry(const tp_image *img, int k) {
    return img->base + TP_IMAGE_HEADER_BYTES + (size_t)k * TP_IMAGE_ENTRY_BYTES;
}

#endif
