#include "tokenizer_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *pieces;   /* the bytes, back to back */
static uint32_t *offsets; /* host order while sorting; written little-endian below */

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* (piece bytes unsigned, a proper prefix first), then id */
static int by_piece(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    size_t lx = offsets[x + 1] - offsets[x], ly = offsets[y + 1] - offsets[y], n = lx < ly ? lx : ly;
    int c = n ? memcmp(pieces + offsets[x], pieces + offsets[y], n) : 0;
    if (c) return c;
    if (lx != ly) return lx < ly ? -1 : 1;
    return x < y ? -1 : x > y;
}

int tp_tokenizer_file(const char *path, uint32_t vocab, tp_tokenizer *t, char *why, size_t why_size) {
    FILE *f = fopen(path, "rb");
    int32_t max_len = 0;
    if (!f || fread(&max_len, 4, 1, f) != 1 || max_len < 1)
        return snprintf(why, why_size, "%s: not a llama2.c tokenizer file", path), f ? fclose(f) : 0, -1;
    long at = ftell(f);
    fseek(f, 0, SEEK_END);
    size_t size = (size_t)ftell(f);
    fseek(f, at, SEEK_SET);
    uint8_t *scores = malloc(4u * vocab), *off = malloc(4u * (vocab + 1u)), *sorted = malloc(4u * vocab);
    uint32_t *ids = malloc(4u * vocab);
    offsets = malloc(4u * (vocab + 1u)), pieces = malloc(size);
    if (!scores || !off || !sorted || !ids || !offsets || !pieces)
        return snprintf(why, why_size, "out of memory"), fclose(f), -1;
    offsets[0] = 0;
    for (uint32_t i = 0; i < vocab; i++) {
        float score;
        int32_t len;
        if (fread(&score, 4, 1, f) != 1 || fread(&len, 4, 1, f) != 1 || len < 0 || len > max_len ||
            (size_t)offsets[i] + (size_t)len > size || fread(pieces + offsets[i], 1, (size_t)len, f) != (size_t)len)
            return snprintf(why, why_size, "%s: token %u is cut short or too long", path, i), fclose(f), -1;
        uint32_t bits;
        memcpy(&bits, &score, 4);
        put32(scores + 4u * i, bits);
        offsets[i + 1] = offsets[i] + (uint32_t)len;
        ids[i] = i;
    }
    fclose(f);
    qsort(ids, vocab, sizeof ids[0], by_piece);
    for (uint32_t i = 0; i <= vocab; i++) put32(off + 4u * i, offsets[i]);
    for (uint32_t i = 0; i < vocab; i++) put32(sorted + 4u * i, ids[i]);
    free(ids);
    tp_status s = tp_tokenizer_init(t, vocab, (uint32_t)max_len, scores, off, pieces, offsets[vocab], sorted);
    if (s != TP_OK) return snprintf(why, why_size, "%s: %s", path, tp_status_name(s)), -1;
    return 0;
}
