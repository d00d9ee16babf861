/*
 * A llama2.c tokenizer.bin (the file run.c reads) as src/tokenizer.h's arrays, for a simulated board whose
 * image holds no tokenizer section: `tinypipe-board --ring --driver --tokenizer PATH`. Allocated once, at
 * boot; the sorted index is computed here as @tinypipe/core's tokenizerSection computes it.
 */
#ifndef TP_POSIX_TOKENIZER_FILE_H
#define TP_POSIX_TOKENIZER_FILE_H

#include <stdint.h>

#include "../../src/tokenizer.h"

/* Reads `vocab` tokens from path into *t: 0, or -1 with why. */
int tp_tokenizer_file(const char *path, uint32_t vocab, tp_tokenizer *t, char *why, size_t why_size);

#endif
