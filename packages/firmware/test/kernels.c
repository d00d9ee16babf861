/*
 * tp-kernels SEED SHAPE...: the optimized quantized matmul against the ANSI reference, byte for byte.
 * SHAPE is q4:ROWS:COLS:GROUP or q8:ROWS:COLS:GROUP. For each shape, three draws of random weights (the
 * full int4 / int8 range, -8 and -128 included, as a crafted image may hold), random binary16 scales
 * (normal, subnormal, ±0, and one ±Inf), activations over their whole spec range [-127, 127] (with runs at
 * ±127 and the worst-sign patterns that maximise |dot|) and random binary32 activation scales; every
 * matrix is multiplied whole and over a random row range [r0, r1). Prints one line per shape:
 *   q4:ROWS:COLS:GROUP ok HASH       (HASH: FNV-1a of every output byte, equal for both kernels)
 *   q4:ROWS:COLS:GROUP MISMATCH row R ansi 0x... opt 0x...
 * and exits 1 when any shape mismatched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/kernels.h"
#include "../src/numerics.h"

static uint32_t rng_state;
static uint32_t rnd(void) { /* xorshift32 */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static uint16_t random_half(void) {
    uint32_t r = rnd() % 64;
    uint16_t sign = (uint16_t)((rnd() & 1) << 15);
    if (r == 0) return sign;                                  /* ±0 */
    if (r == 1) return (uint16_t)(sign | 0x7C00u);            /* ±Inf */
    if (r < 6) return (uint16_t)(sign | (1 + rnd() % 0x3FF)); /* subnormal */
    return (uint16_t)(sign | (0x1C00u + rnd() % 0x2400u));    /* normal, 2^-8 .. 2^0 */
}

static int run_shape(const char *spec) {
    int rows, cols, group, bits;
    if (sscanf(spec, "q%d:%d:%d:%d", &bits, &rows, &cols, &group) != 4 || (bits != 4 && bits != 8) || rows < 1 ||
        cols < 1 || group < 1 || group > 1024) {
        fprintf(stderr, "bad shape %s (q4|q8:ROWS:COLS:GROUP)\n", spec);
        return 2;
    }
    int groups = (cols + group - 1) / group;
    size_t n = (size_t)rows * (size_t)cols, data_bytes = bits == 4 ? (n + 1) / 2 : n;
    uint8_t *data = malloc(data_bytes), *scales = malloc(2 * (size_t)rows * (size_t)groups);
    int8_t *xq = malloc((size_t)cols);
    float *xs = malloc((size_t)groups * sizeof(float));
    float *a = malloc((size_t)rows * sizeof(float)), *b = malloc((size_t)rows * sizeof(float));
    if (!data || !scales || !xq || !xs || !a || !b) return 2;
    tp_qmat w = {data, scales, rows, cols, group, bits == 4 ? TP_Q4 : TP_Q8};
    uint32_t hash = TP_FNV_OFFSET;
    int status = 0;
    for (int draw = 0; draw < 3 && !status; draw++) {
        for (size_t i = 0; i < data_bytes; i++) data[i] = (uint8_t)rnd();
        if (draw == 2) /* the extremes: every weight -8 / -128 (x below at ±127 gives the largest |dot|) */
            memset(data, bits == 4 ? 0x88 : 0x80, data_bytes);
        for (size_t i = 0; i < 2 * (size_t)rows * (size_t)groups; i += 2) {
            uint16_t h = random_half();
            scales[i] = (uint8_t)h;
            scales[i + 1] = (uint8_t)(h >> 8);
        }
        for (int j = 0; j < cols; j++) {
            int v = (int)(rnd() % 255) - 127;
            if (draw == 1 && j % 7 < 3) v = 127;
            if (draw == 2) v = -127;
            xq[j] = (int8_t)v;
        }
        for (int g = 0; g < groups; g++) xs[g] = (float)(rnd() % 100000) * 1e-7f;
        int r0 = (int)(rnd() % (uint32_t)rows), r1 = r0 + 1 + (int)(rnd() % (uint32_t)(rows - r0));
        const int ranges[2][2] = {{0, rows}, {r0, r1}};
        for (int k = 0; k < 2 && !status; k++) {
            int lo = ranges[k][0], hi = ranges[k][1];
            memset(a, 0xA5, (size_t)rows * sizeof(float));
            memset(b, 0x5A, (size_t)rows * sizeof(float));
            tp_qmatmul_ansi(a, xq, xs, &w, lo, hi);
            tp_qmatmul_opt(b, xq, xs, &w, lo, hi);
            for (int i = 0; i < hi - lo; i++)
                if (bits_of(a[i]) != bits_of(b[i])) {
                    printf("%s MISMATCH draw %d rows [%d, %d) row %d ansi 0x%08lx opt 0x%08lx\n", spec, draw, lo, hi,
                           lo + i, (unsigned long)bits_of(a[i]), (unsigned long)bits_of(b[i]));
                    status = 1;
                    break;
                }
            hash = tp_fnv1a32((const uint8_t *)b, (size_t)(hi - lo) * sizeof(float), hash);
        }
    }
    if (!status) printf("%s ok %08lx\n", spec, (unsigned long)hash);
    free(data), free(scales), free(xq), free(xs), free(a), free(b);
    return status;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: tp-kernels SEED q4|q8:ROWS:COLS:GROUP...\n");
        return 2;
    }
    rng_state = (uint32_t)strtoul(argv[1], NULL, 10) | 1u;
    int status = 0;
    for (int i = 2; i < argc; i++) {
        int s = run_shape(argv[i]);
        if (s > status) status = s;
    }
    fflush(stdout);
    return status;
}
