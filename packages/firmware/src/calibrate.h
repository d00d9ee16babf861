/*
 * A board's self-benchmark (CALIBRATE, docs/protocol.md §5.1): the figures the partitioner's cost model
 * otherwise takes from datasheets, measured where the firmware runs —
 *   read     the image it serves, front to back through its mmap, every byte once: flash MB/s
 *   kernels  the compiled matmul (kernels.h) on a q4 and a q8 matrix in RAM, group 32: MAC/s
 *   first    the first weights a forward reads (tp_image_first_weights): cold — after the port's cache
 *            invalidate, when it has one — and right after the port's cache preload, when it has one
 * Each measurement stops at its time budget and reports how much it did. No allocation: the matrix lives in
 * the caller's tp_calib_scratch (the server lends its activation buffers: a board computes or calibrates).
 */
#ifndef TP_CALIBRATE_H
#define TP_CALIBRATE_H
#include <stddef.h>
#include <stdint.h>

#include "link/messages.h"
#include "stage.h"

#define TP_CALIB_ROWS 16
#define TP_CALIB_COLS 256 /* 8 groups of 32 a row: a row's own overhead as in a dim-sized matmul */
#define TP_CALIB_GROUP 32
#define TP_CALIB_MAX_BUDGET_MS 2000
/* first weights measured when the port has no preload (the profiles' preloadBytes) */
#define TP_CALIB_FIRST_BYTES 32768

typedef struct {
    uint8_t weights[TP_CALIB_ROWS * TP_CALIB_COLS];                       /* q8: a byte a weight; q4: the first half */
    uint8_t scales[TP_CALIB_ROWS * (TP_CALIB_COLS / TP_CALIB_GROUP) * 2]; /* (rows, groups) binary16 */
    int8_t xq[TP_CALIB_COLS];                                             /* (cols) quantized input */
    float xs[TP_CALIB_COLS / TP_CALIB_GROUP];                             /* (groups) its scales */
    float out[TP_CALIB_ROWS];                                             /* (rows) */
} tp_calib_scratch;

/* What a port tells and offers calibrate; every field is optional (0 / NULL: none). */
typedef struct {
    /* brings `bytes` at `at` into the data cache and returns when they are there (ESP-IDF: the ROM's preload) */
    void (*preload)(void *port, const uint8_t *at, size_t bytes);
    /* drops `bytes` at `at` from the data cache, so that the next read goes to flash */
    void (*invalidate)(void *port, const uint8_t *at, size_t bytes);
    size_t preload_bytes; /* what the port preloads while it waits: the size of the first-weights figure */
    uint16_t cpu_mhz;
    uint32_t line_baud;
    uint8_t cores;    /* cores the stage's matmul runs on (0: one) */
    uint8_t host;     /* nonzero: a simulated board, measuring the host it runs on */
    const char *name; /* what runs the firmware, ASCII, e.g. "esp-idf v5.3.1 esp32s3" */
} tp_calib_hooks;

typedef struct {
    void *port;
    uint32_t (*now_us)(void *port);       /* a wrapping µs clock (required) */
    int (*pump)(void *port, int wait_ms); /* optional: run between measurements (1 ms), so the link stays alive */
    const tp_calib_hooks *hooks;          /* may be NULL */
    const tp_image *img;                  /* NULL: no image — the read and first-weights figures stay 0 */
    tp_matmul_fn matmul;                  /* what a forward uses (the stage's); NULL: tp_qmatmul */
    tp_calib_scratch *scratch;
} tp_calib_env;

/* Measures into r, each measurement for at most budget_ms (capped at TP_CALIB_MAX_BUDGET_MS; 0: a probe —
 * only the description, nothing measured). Nonzero when the pump asked to stop. */
int tp_calibrate(tp_calibration *r, const tp_calib_env *env, uint16_t budget_ms, uint16_t board);

/* Sum mod 2^32 of the little-endian u32 words of bytes (the tail zero-padded), reading each byte once. */
uint32_t tp_calib_sum(const uint8_t *bytes, size_t n);

#endif
