/*
 * libFuzzer target: the image verifier, the board bring-up and the stage (src/image.c, src/board.c,
 * src/stage.c). The input is an image. It is opened as a board boots (tp_board_open: every check, then the
 * board's limits) and, when that refuses it, on purpose with header and table checks only — so unchecked
 * tensor bytes (NaN, ±Inf, huge scales) still reach the stage: an image the board's limits accept gets its
 * stage from tp_board_stages and runs embed, forward and classify, which must end in a status, never out of
 * bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/board.h"

/* tp_board_stages' memory: one arena, kept in *ctx to be freed; none past 64 MiB (a header asks for any size). */
static void *arena_alloc(void *ctx, size_t bytes) {
    void **arena = ctx;
    if (bytes > (64u << 20) || posix_memalign(arena, 16, bytes ? bytes : 16) != 0) *arena = NULL;
    return *arena;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 20) return 0;
    tp_image img;
    if (tp_board_open(&img, data, size) != TP_OK &&
        (tp_image_open(&img, data, size, 0) != TP_OK || tp_server_fits(&img) != TP_OK))
        return 0;
    void *arena = NULL;
    tp_stage st;
    int streams = 1;
    if (tp_board_stages(&img, &st, &streams, arena_alloc, &arena) == TP_OK && streams == 1) {
        const tp_config *c = &img.config;
        float *x = calloc((size_t)c->dim, sizeof *x);
        if (img.has_embedding) tp_stage_embed(&st, 0, x);
        else
            for (int i = 0; i < c->dim; i++) x[i] = (float)(i % 7) - 3.0f;
        uint32_t hashes[TP_SERVE_MAX_STAGE_LAYERS];
        for (int pos = 0; pos < 2 && pos < c->seq_len; pos++) tp_stage_forward(&st, x, pos, hashes);
        if (img.has_classifier) {
            float *logits = malloc((size_t)(img.vocab_to - img.vocab_from) * sizeof *logits + 1);
            tp_stage_classify(&st, x, logits);
            free(logits);
        }
        free(x);
    }
    free(arena);
    return 0;
}
