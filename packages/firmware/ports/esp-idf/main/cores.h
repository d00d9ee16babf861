/* Both cores on one matmul: core 1 computes the upper half of its rows (rows are independent, so the
 * results are those of tp_qmatmul: docs/numerics.md §4). */
#pragma once
#include "stage.h"

/* Starts the core-1 worker; nonzero when it could not (the stages then keep tp_qmatmul). */
int cores_start(void);

/* A tp_stage matmul hook: rows [r0, mid) here, [mid, r1) on core 1. */
void cores_matmul(float *out, const int8_t *xq, const float *xs, const tp_qmat *w, int r0, int r1);
