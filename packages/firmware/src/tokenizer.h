/*
 * llama2.c's tokenizer (run.c's encode, decode and safe_printf rules) on the first board, read in place from
 * the weight image's tokenizer section (docs/image-format.md §4b): no allocation and no work buffer. Bit-exact
 * with @tinypipe/core's Tokenizer (packages/core/src/tokenizer), which is the specification here.
 *
 * Lookups are binary searches over `sorted`, a permutation of the ids that the host computes once: ids
 * ordered by their piece's bytes (unsigned, a proper prefix first), equal pieces by id — so a search finds
 * a string's lowest id, the id the TS tokenizer's map holds. A merge candidate (two pieces side by side)
 * is compared as two spans, never copied.
 */
#ifndef TP_TOKENIZER_H
#define TP_TOKENIZER_H
#include <stddef.h>
#include <stdint.h>

#include "tp_status.h"

#define TP_TOKEN_BOS 1
#define TP_TOKEN_EOS 2
#define TP_TOKEN_BYTE0 3                  /* byte fallback: byte b is token b + 3 (<0x00>..<0xFF>) */
#define TP_TOKENIZER_MAX_PIECE (1u << 16) /* the longest max_token_length the TS reader accepts */

/* The out capacity that always suffices for encoding `len` text bytes: BOS, the dummy prefix, one token a
 * byte before any merge, EOS. */
#define TP_TOKENIZER_ENCODE_CAP(len) ((size_t)(len) + 3u)

typedef struct tp_tokenizer_s {
    uint32_t vocab, max_token_length;
    const uint8_t *scores;  /* f32 little-endian [vocab]: merge scores */
    const uint8_t *offsets; /* u32 little-endian [vocab + 1]: piece i is bytes[offsets[i], offsets[i + 1]) */
    const uint8_t *bytes;   /* the pieces back to back, offsets[vocab] bytes */
    const uint8_t *sorted;  /* u32 little-endian [vocab]: the ids by (piece, id) ascending */
    int32_t space;          /* the id of " " (the dummy prefix); -1 when the vocabulary has none */
} tp_tokenizer;

/*
 * Checks and wraps the four arrays (the image's tokenizer.* tensors; unaligned is fine). TP_E_BAD_TABLE when
 * vocab is 0, max_token_length is 0 or above TP_TOKENIZER_MAX_PIECE, offsets do not start at 0, decrease, or
 * end elsewhere than bytes_len, a piece is longer than max_token_length, or `sorted` is not strictly
 * increasing by (piece, id) with every id < vocab (which also makes it a permutation). O(vocab) comparisons.
 */
tp_status tp_tokenizer_init(tp_tokenizer *t, uint32_t vocab, uint32_t max_token_length, const uint8_t *scores,
                            const uint8_t *offsets, const uint8_t *bytes, size_t bytes_len, const uint8_t *sorted);

/* Piece `id` (id < vocab): its bytes in place, its length in *len. */
const uint8_t *tp_tokenizer_piece(const tp_tokenizer *t, uint32_t id, size_t *len);

/* The lowest id whose piece is exactly a[0..alen) followed by b[0..blen); -1 when none. */
int32_t tp_tokenizer_lookup(const tp_tokenizer *t, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/*
 * llama2.c's encode of text[0..len), which ends early at a NUL byte as a C string does: BOS when `bos`,
 * the " " token when the text is not empty, each UTF-8 code point looked up (a code point is a lead byte
 * and up to 3 continuation bytes; a stray continuation byte stands alone), an unknown one as byte tokens
 * (byte + 3), then the adjacent pair whose concatenation is a token with the best score is merged (the
 * first such pair on ties, scores compared as binary32 with `>` from -1e10) until none is, then EOS when
 * `eos`. Ids into out[0..*n).
 * TP_E_NO_MEMORY when out (cap) is too small — TP_TOKENIZER_ENCODE_CAP(len) always suffices; TP_E_BAD_TABLE
 * when the vocabulary lacks a token encode needs (BOS, EOS, " ", a byte-fallback token): the TS tokenizer's
 * TOKENIZER_BAD_FILE. *n is 0 after an error.
 */
tp_status tp_tokenizer_encode(const tp_tokenizer *t, const char *text, size_t len, int bos, int eos, int32_t *out,
                              size_t cap, size_t *n);

/*
 * llama2.c's decode(prev, token): the piece of `token` without its leading space when prev is BOS, and a
 * piece starting "<0x" with one or two hex digits as that one byte. *piece points into the tokenizer (or a
 * constant byte table). TP_E_ARG when token is not in [0, vocab).
 */
tp_status tp_tokenizer_decode(const tp_tokenizer *t, int32_t prev, int32_t token, const uint8_t **piece, size_t *len);

/* run.c's safe_printf rule: how many of the piece's bytes to print — 0 for a single byte that is neither
 * printable ASCII nor whitespace (C locale), else len. */
size_t tp_tokenizer_printable(const uint8_t *piece, size_t len);

#endif
