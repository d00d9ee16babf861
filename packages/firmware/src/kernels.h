/*
 * Quantized kernels behind one dispatch (like esp-nn): an ANSI C reference (kernels/ansi) and an
 * optimized variant (kernels/opt), chosen at build time with TP_KERNELS_OPT. Both are bit-exact:
 * the integer group dots are exact in any order, and the binary32 scale-and-accumulate step is the
 * same code (docs/numerics.md §4).
 */
#ifndef TP_KERNELS_H
#define TP_KERNELS_H
#include <stdint.h>

#include "tp_status.h"

typedef enum { TP_Q4 = 4, TP_Q8 = 8 } tp_quant;

/* A quantized matrix (rows, cols) straight from the image: int data and binary16 scales. */
typedef struct {
    const uint8_t *data;   /* q8: rows*cols int8; q4: rows*cols/2 bytes, low nibble first */
    const uint8_t *scales; /* (rows, ceil(cols/group)) binary16, little-endian */
    int rows, cols, group;
    tp_quant quant;
} tp_qmat;

/* Activation quantization (§3): x (n) -> q (n) int8 and s (ceil(n/group)) scales. TP_E_NONFINITE (q, s
 * undefined) when some x is NaN or ±Inf (§3a); never an undefined conversion. */
tp_status tp_quantize_vector(const float *x, int n, int group, int8_t *q, float *s);

/* out[i - r0] = row i of W times the quantized x, for rows [r0, r1) (§4). */
void tp_qmatmul_ansi(float *out, const int8_t *xq, const float *xs, const tp_qmat *w, int r0, int r1);
void tp_qmatmul_opt(float *out, const int8_t *xq, const float *xs, const tp_qmat *w, int r0, int r1);

/* The embedding row `row` of W, dequantized: x[j] = q * scale (§8). */
void tp_dequantize_row(const tp_qmat *w, int row, float *x);

/* Which one tp_qmatmul is, as a board names it (CALIBRATE's kernel field). */
enum { TP_KERNEL_ANSI = 0, TP_KERNEL_OPT = 1 };
#ifdef TP_KERNELS_OPT
#define tp_qmatmul tp_qmatmul_opt
#define TP_KERNEL TP_KERNEL_OPT
#else
#define tp_qmatmul tp_qmatmul_ansi
#define TP_KERNEL TP_KERNEL_ANSI
#endif

/* The group's contribution in spec order: acc + fl(fl(dot) * fl(sw * sx)). */
static inline float tp_accumulate_group(float acc, int32_t dot, float sw, float sx) {
    float scale = sw * sx;
    float term = (float)dot * scale;
    return acc + term;
}

#endif
