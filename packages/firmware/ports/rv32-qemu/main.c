/*
 * Bare-metal RISC-V (rv32imafc, ilp32f: a 32-bit MCU ISA with a single-precision FPU, ESP32-P4 class)
 * run under qemu-system-riscv32 -machine virt with semihosting for file I/O and printf (picolibc).
 *
 *   prog STEPS IMAGE [IMAGE ...]     stages in pipeline order (the first holds the embedding)
 *
 * Greedy decoding from BOS; one line per position: "pos token hash hash ..." (one FNV-1a hash per layer,
 * across all stages) — the TS tests compare it with the TS QuantEngine. All memory is static.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/board.h"

#define MAX_STAGES 8
#define POOL_BYTES (12u << 20)

static uint8_t pool[POOL_BYTES] __attribute__((aligned(16)));
static size_t used;

static void *take(size_t n) {
    n = (n + 15u) & ~(size_t)15u;
    if (used + n > POOL_BYTES) return NULL;
    void *p = pool + used;
    used += n;
    return p;
}

/* tp_board_alloc_fn over the pool */
static void *pool_alloc(void *ctx, size_t n) {
    (void)ctx;
    return take(n);
}

int main(int argc, char **argv) {
    static tp_image images[MAX_STAGES];
    static tp_stage stages[MAX_STAGES];
    if (argc < 3 || argc - 2 > MAX_STAGES) {
        printf("usage: prog STEPS IMAGE [IMAGE ...]\n");
        return 2;
    }
    int steps = atoi(argv[1]), n = argc - 2;
    for (int i = 0; i < n; i++) {
        FILE *f = fopen(argv[2 + i], "rb");
        if (!f) {
            printf("cannot open %s\n", argv[2 + i]);
            return 2;
        }
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *bytes = take((size_t)size);
        if (!bytes || fread(bytes, 1, (size_t)size, f) != (size_t)size) {
            printf("cannot read %s\n", argv[2 + i]);
            return 2;
        }
        fclose(f);
        int one = 1; /* a stage per image, its KV cache from the pool */
        tp_status s = tp_board_init(&images[i], bytes, (size_t)size, &stages[i], &one, pool_alloc, NULL);
        if (s != TP_OK) {
            printf("%s: %s\n", argv[2 + i], tp_status_name(s));
            return 1;
        }
    }
    const tp_config *c = &images[0].config;
    float *x = take((size_t)c->dim * sizeof(float));
    float *logits = take((size_t)c->vocab_size * sizeof(float));
    uint32_t *hashes = take((size_t)c->n_layers * sizeof(uint32_t));
    if (!x || !logits || !hashes) return 1;
    int token = 1;
    for (int pos = 0; pos < steps && pos < c->seq_len; pos++) {
        tp_stage_embed(&stages[0], token, x);
        int h = 0;
        for (int i = 0; i < n; i++) {
            tp_stage_forward(&stages[i], x, pos, hashes + h);
            h += images[i].layer_to - images[i].layer_from;
        }
        for (int i = 0; i < n; i++)
            if (images[i].has_classifier) tp_stage_classify(&stages[i], x, logits + images[i].vocab_from);
        int best = 0;
        for (int v = 1; v < c->vocab_size; v++)
            if (logits[v] > logits[best]) best = v;
        token = best;
        printf("%d %d", pos, token);
        for (int l = 0; l < h; l++) printf(" %08lx", (unsigned long)hashes[l]);
        printf("\n");
    }
    return 0;
}
