/*
 * Bare-metal RISC-V (rv32imafc, ilp32f: a 32-bit MCU ISA with a single-precision FPU, ESP32-P4 class)
 * run under qemu-system-riscv32 -machine virt with semihosting for file I/O and printf (picolibc).
 *
 *   prog STEPS IMAGE [IMAGE ...]     stages in pipeline order (the first holds the embedding)
 *   prog --standalone STEPS TEMPERATURE TOPP SEED STORIES IMAGE [PROMPT]
 *
 * Greedy decoding from BOS; one line per position: "pos token hash hash ..." (one FNV-1a hash per layer,
 * across all stages) — the TS tests compare it with the TS QuantEngine. All memory is static.
 *
 * --standalone: a ring of one board (docs/protocol.md §4.5) — the image holds every layer and the whole
 * classifier (and the tokenizer, docs/image-format.md §4b); the standalone driver (src/standalone.c) tells
 * STORIES stories of the prompt — text with the image's tokenizer, else token ids, BOS alone when absent;
 * "_" for a space: semihosting splits arguments at spaces, QEMU its options at commas — with the board's own
 * sampler, on the console sink (stdout), as the first board of a ring does on its console. STEPS, TEMPERATURE,
 * TOPP, SEED given as "-" and PROMPT left out are the image's story defaults (docs/image-format.md §4c), if it
 * holds them (they also set the stories at once), else the built-in ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/board.h"
#include "../../src/standalone.h"
#include "../../src/standalone_tok.h"

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

static uint32_t ticks(void *port) { /* the driver's clock: none here (0), so the console gives no rate */
    (void)port;
    return 0;
}
static int no_pump(void *port, int wait_ms) { return (void)port, (void)wait_ms, 0; }
static void to_stdout(void *ctx, const uint8_t *bytes, size_t n) { (void)ctx, fwrite(bytes, 1, n, stdout); }

static uint8_t *read_file(const char *path, long *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = take((size_t)*size);
    if (bytes && fread(bytes, 1, (size_t)*size, f) != (size_t)*size) bytes = NULL;
    fclose(f);
    return bytes;
}

static int standalone(int argc, char **argv) {
    static tp_image image;
    static tp_stage stage;
    static tp_server server;
    static tp_driver driver;
    static tp_console console;
    if (argc < 7)
        return printf(
                   "usage: prog --standalone STEPS TEMPERATURE TOPP SEED STORIES IMAGE [PROMPT] (\"-\": the image's)\n"),
               2;
    long size = 0;
    uint8_t *bytes = read_file(argv[6], &size);
    int one = 1;
    tp_status st = bytes ? tp_board_init(&image, bytes, (size_t)size, &stage, &one, pool_alloc, NULL) : TP_E_TRUNCATED;
    if (st != TP_OK) return printf("%s: %s\n", argv[6], tp_status_name(st)), 1;
    size_t vocab = (size_t)image.config.vocab_size;
    float *logits = take(vocab * sizeof(float));
    server.sample_index = take(vocab * sizeof(int32_t)), server.sample_scratch = take(vocab * sizeof(int32_t));
    if (!logits || !server.sample_index || !server.sample_scratch) return printf("out of memory\n"), 1;
    server.link.now_ms = ticks, server.pump = no_pump;
    tp_server_init(&server, &stage, 1, &image, TP_OK, logits, 0, 1);
    /* the built-in defaults, the image's story defaults (docs/image-format.md §4c), then each argument but "-" */
    tp_driver_config cfg = {1.0f, 0.9f, 1, 256, 1, NULL, atoi(argv[5]), NULL, NULL, NULL};
    static tp_story_defaults story;
    if (tp_image_story(&image, &story) == TP_OK) tp_driver_use_story(&cfg, &story);
    if (strcmp(argv[1], "-") != 0) cfg.steps = atoi(argv[1]);
    if (strcmp(argv[2], "-") != 0) cfg.temperature = strtof(argv[2], NULL);
    if (strcmp(argv[3], "-") != 0) cfg.topp = strtof(argv[3], NULL);
    if (strcmp(argv[4], "-") != 0) cfg.seed = strtoull(argv[4], NULL, 10);
    if (argc > 7) cfg.prompt = argv[7];
    for (char *p = argc > 7 ? argv[7] : NULL; p && *p; p++)
        if (*p == '_') *p = ' ';
    static tp_tokenizer tokenizer;
    if (tp_image_tokenizer(&image, &tokenizer) == TP_OK) tp_driver_use_tokenizer(&cfg, &tokenizer); /* §4b */
    tp_console_init(&console, to_stdout, NULL);
    tp_driver_init(&driver, &server, &cfg, &console.sink);
    while (!tp_driver_done(&driver))
        if (tp_driver_step(&driver)) return 1;
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--standalone")) return standalone(argc - 1, argv + 1);
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
