#include "calibrate.h"

#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "tp_calib_sum reads native words as the little-endian ones CALIBRATE specifies"
#endif

#define CHUNK 16384u    /* read this much between clock checks: the clock costs ~1 µs on an S3 */
#define BATCH 8u        /* matmul reps between clock checks */
#define MAX_REPS 65535u /* the first-weights reps fit a u16 */

/* Results the compiler must not drop: every figure's work ends up here. */
static volatile uint32_t sink;

uint32_t tp_calib_sum(const uint8_t *bytes, size_t n) {
    uint32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    if (((uintptr_t)bytes & 3u) == 0) { /* mapped memory has no declared type: read it a word at a time */
        const uint32_t *w = (const uint32_t *)(const void *)bytes;
        size_t words = n / 4;
        for (; i + 4 <= words; i += 4) s0 += w[i], s1 += w[i + 1], s2 += w[i + 2], s3 += w[i + 3];
        for (; i < words; i++) s0 += w[i];
        i *= 4;
    }
    for (; i < n; i++) s0 += (uint32_t)bytes[i] << (8 * (i & 3u)); /* unaligned start, or the tail */
    return s0 + s1 + s2 + s3;
}

static uint32_t elapsed(const tp_calib_env *env, uint32_t since) { return env->now_us(env->port) - since; }

/* The image front to back in CHUNKs, every byte once, until its end or the budget. */
static void measure_read(tp_calibration *r, const tp_calib_env *env, uint32_t budget_us) {
    const tp_image *img = env->img;
    uint32_t sum = 0, start = env->now_us(env->port);
    size_t at = 0;
    while (at < img->size && elapsed(env, start) < budget_us) {
        size_t n = img->size - at < CHUNK ? img->size - at : CHUNK;
        sum += tp_calib_sum(img->base + at, n); /* chunks start at multiples of 4: their sums add up */
        at += n;
    }
    r->read_us = elapsed(env, start);
    r->read_bytes = (uint32_t)at;
    r->read_sum = sum;
}

/* A rows × cols matrix of pseudo-random weights with normal scales (no denormal slows the FPU down). */
static void fill_matrix(tp_calib_scratch *m) {
    uint32_t x = 0x2545f491u;
    for (size_t i = 0; i < sizeof m->weights; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32 */
        m->weights[i] = (uint8_t)x;
    }
    for (size_t i = 0; i < sizeof m->scales; i += 2) m->scales[i] = 0x00, m->scales[i + 1] = 0x20; /* 2^-7 */
    for (int j = 0; j < TP_CALIB_COLS; j++) m->xq[j] = (int8_t)((j * 37) % 255 - 127);
    for (int g = 0; g < TP_CALIB_COLS / TP_CALIB_GROUP; g++) m->xs[g] = 0.01f;
}

/* The matmul on the scratch matrix until the budget: *us for `return` reps (one warm-up rep untimed). */
static uint32_t measure_kernel(const tp_calib_env *env, tp_quant quant, uint32_t budget_us, uint32_t *us) {
    tp_calib_scratch *m = env->scratch;
    tp_matmul_fn matmul = env->matmul ? env->matmul : tp_qmatmul;
    tp_qmat w = {m->weights, m->scales, TP_CALIB_ROWS, TP_CALIB_COLS, TP_CALIB_GROUP, quant};
    matmul(m->out, m->xq, m->xs, &w, 0, TP_CALIB_ROWS);
    uint32_t reps = 0, start = env->now_us(env->port);
    do {
        for (unsigned k = 0; k < BATCH; k++) matmul(m->out, m->xq, m->xs, &w, 0, TP_CALIB_ROWS);
        reps += BATCH;
        uint32_t bits;
        memcpy(&bits, &m->out[reps % TP_CALIB_ROWS], 4);
        sink += bits;
    } while (elapsed(env, start) < budget_us);
    *us = elapsed(env, start);
    return reps;
}

/* Reads of the first weights until the budget, each timed alone: with `preloaded`, right after the port's
 * preload (its own time in *preload_us); cold reads follow the port's invalidate when it has one. */
static uint16_t measure_first(const tp_calib_env *env, const uint8_t *at, size_t n, int preloaded, uint32_t budget_us,
                              uint32_t *us, uint32_t *preload_us) {
    const tp_calib_hooks *h = env->hooks;
    uint32_t reps = 0, start = env->now_us(env->port);
    *us = 0, *preload_us = 0;
    while (reps < MAX_REPS && elapsed(env, start) < budget_us) {
        if (h && h->invalidate) h->invalidate(env->port, at, n);
        if (preloaded && h && h->preload) {
            uint32_t p = env->now_us(env->port);
            h->preload(env->port, at, n);
            *preload_us += elapsed(env, p);
        }
        uint32_t t = env->now_us(env->port);
        sink += tp_calib_sum(at, n);
        *us += elapsed(env, t);
        reps++;
    }
    return (uint16_t)reps;
}

int tp_calibrate(tp_calibration *r, const tp_calib_env *env, uint16_t budget_ms, uint16_t board) {
    const tp_calib_hooks *h = env->hooks;
    const tp_image *img = env->img;
    memset(r, 0, sizeof *r);
    r->budget_ms = budget_ms > TP_CALIB_MAX_BUDGET_MS ? TP_CALIB_MAX_BUDGET_MS : budget_ms;
    r->board = board;
    r->kernel = TP_KERNEL;
    r->cores = h && h->cores ? h->cores : 1;
    r->flags = (uint8_t)((img ? TP_CALIB_IMAGE : 0u) | (h && h->preload ? TP_CALIB_PRELOAD : 0u) |
                         (h && h->invalidate ? TP_CALIB_INVALIDATE : 0u) | (h && h->host ? TP_CALIB_HOST : 0u));
    r->cpu_mhz = h ? h->cpu_mhz : 0;
    r->line_baud = h ? h->line_baud : 0;
    r->rows = TP_CALIB_ROWS, r->cols = TP_CALIB_COLS;
    for (size_t i = 0; h && h->name && h->name[i] && i < TP_CALIBRATION_NAME; i++) r->port[i] = h->name[i];
    const uint8_t *first = NULL;
    if (img) {
        size_t rest;
        first = tp_image_first_weights(img, &rest);
        size_t n = h && h->preload_bytes ? h->preload_bytes : TP_CALIB_FIRST_BYTES;
        r->image_bytes = (uint32_t)img->size;
        r->first_bytes = (uint32_t)(n < rest ? n : rest);
    }
    if (r->budget_ms == 0) return 0; /* a probe: the host times the exchange */
    uint32_t budget = (uint32_t)r->budget_ms * 1000u;
    /* between measurements: the link's heartbeats are answered, and a wait of 1 ms lets an RTOS's idle task
       (which its task watchdog checks) run — a measurement holds the CPU for up to its budget */
#define BETWEEN() \
    if (env->pump && env->pump(env->port, 1) != 0) return 1
    if (img) measure_read(r, env, budget);
    BETWEEN();
    fill_matrix(env->scratch);
    r->q4_reps = measure_kernel(env, TP_Q4, budget, &r->q4_us);
    BETWEEN();
    r->q8_reps = measure_kernel(env, TP_Q8, budget, &r->q8_us);
    BETWEEN();
    if (r->first_bytes > 0) {
        uint32_t unused;
        r->cold_reps = measure_first(env, first, r->first_bytes, 0, budget, &r->cold_us, &unused);
        BETWEEN();
        r->preloaded_reps = measure_first(env, first, r->first_bytes, 1, budget, &r->preloaded_us, &r->preload_us);
    }
#undef BETWEEN
    return 0;
}
