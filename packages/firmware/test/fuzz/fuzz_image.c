/*
 * libFuzzer target: the image verifier and the stage (src/image.c, src/stage.c). The input is an image. It is
 * opened with every check (boot) and, when that refuses it, with header and table checks only — so unchecked
 * tensor bytes (NaN, ±Inf, huge scales) still reach the stage: an image the board's limits accept gets an
 * arena and runs embed, forward and classify, which must end in a status, never out of bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/serve.h"
#include "../../src/stage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 20) return 0;
    tp_image img;
    tp_status s = tp_image_open(&img, data, size, 1);
    if (s != TP_OK && tp_image_open(&img, data, size, 0) != TP_OK) return 0;
    if (tp_server_fits(&img) != TP_OK) return 0;
    size_t need = tp_stage_arena_bytes(&img);
    if (need == SIZE_MAX || need > (64u << 20)) return 0;
    void *arena = NULL;
    if (posix_memalign(&arena, 16, need ? need : 16) != 0) return 0;
    tp_stage st;
    if (tp_stage_init(&st, &img, arena, need) == TP_OK) {
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
