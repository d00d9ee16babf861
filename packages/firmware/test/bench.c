/*
 * tp-bench IMAGE STEPS: greedy decoding from BOS on one whole-model image, in-process, one thread.
 * Prints "tok/s X" (timed from the second position, like llama2.c) and "bytes/token B" (image bytes
 * read per token: every tensor but the embedding and the RoPE table, plus one embedding row).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../src/board.h"

static void *arena_alloc(void *ctx, size_t bytes) {
    (void)ctx;
    return malloc(bytes);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 2;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = malloc((size_t)size);
    if (!bytes || fread(bytes, 1, (size_t)size, f) != (size_t)size) return 2;
    fclose(f);
    tp_image img;
    tp_stage st;
    int streams = 1;
    tp_status s = tp_board_open(&img, bytes, (size_t)size);
    if (s != TP_OK || !img.has_embedding || !img.has_classifier) {
        fprintf(stderr, "need a whole-model image this build runs (%s)\n", tp_status_name(s));
        return 1;
    }
    float *x = malloc((size_t)img.config.dim * sizeof(float));
    float *logits = malloc((size_t)img.config.vocab_size * sizeof(float));
    if (!x || !logits || tp_board_stages(&img, &st, &streams, arena_alloc, NULL) != TP_OK) return 1;
    int steps = atoi(argv[2]), token = 1;
    double start = 0;
    for (int pos = 0; pos < steps && pos < img.config.seq_len; pos++) {
        if (pos == 1) start = now();
        tp_stage_embed(&st, token, x);
        tp_stage_forward(&st, x, pos, NULL);
        tp_stage_classify(&st, x, logits);
        int best = 0;
        for (int i = 1; i < img.config.vocab_size; i++)
            if (logits[i] > logits[best]) best = i;
        token = best;
    }
    double secs = now() - start;
    /* bytes streamed per token: the whole image minus the embedding and RoPE tables, plus one row */
    tp_qmat e = tp_image_embedding(&img);
    size_t emb = (size_t)e.rows * (img.quant == TP_Q4 ? (size_t)e.cols / 2 : (size_t)e.cols) +
                 (size_t)e.rows * (size_t)((e.cols + e.group - 1) / e.group) * 2;
    size_t rope = 2 * (size_t)img.config.seq_len * (size_t)(img.config.dim / img.config.n_heads / 2) * 4;
    size_t per_token = (size_t)size - rope + emb / (size_t)e.rows - (img.t_classifier < 0 ? 0 : emb);
    printf("tok/s %.2f\nbytes/token %zu\n", (steps - 1) / secs, per_token);
    return 0;
}
