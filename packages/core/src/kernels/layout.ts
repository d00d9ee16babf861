/**
 * The data layouts the WebAssembly kernels read (kernels.wat), written from the JS engines' arrays once at
 * creation. Padding rows and columns are zeros; their results are dropped.
 */

/** Rows per interleaved matmul block (4 accumulators × 4 lanes). */
export const ROWS_PER_BLOCK = 16;
/** Positions per key block of the attention scores. */
export const POSITIONS_PER_BLOCK = 4;

/** Floats of a (d, n) matrix interleaved by 16 rows: d rounded up to 16, times n. */
export function interleavedLength(n: number, d: number): number {
  return Math.ceil(d / ROWS_PER_BLOCK) * ROWS_PER_BLOCK * n;
}

/**
 * Writes W (d, n), row-major at `w[wOff …]`, into `dst[dOff …]` as blocks of 16 rows: block b, column j,
 * row r of the block at `((b · n + j) · 16 + r)`. Rows past d are zeros (their results are dropped).
 */
export function interleave16(
  dst: Float32Array,
  dOff: number,
  w: Float32Array,
  wOff: number,
  n: number,
  d: number,
): void {
  const blocks = Math.ceil(d / ROWS_PER_BLOCK);
  for (let b = 0; b < blocks; b++) {
    const base = dOff + b * n * ROWS_PER_BLOCK;
    const rows = Math.min(ROWS_PER_BLOCK, d - b * ROWS_PER_BLOCK);
    for (let r = 0; r < rows; r++) {
      const src = wOff + (b * ROWS_PER_BLOCK + r) * n;
      for (let j = 0; j < n; j++) dst[base + j * ROWS_PER_BLOCK + r] = w[src + j]!;
    }
    for (let r = rows; r < ROWS_PER_BLOCK; r++) {
      for (let j = 0; j < n; j++) dst[base + j * ROWS_PER_BLOCK + r] = 0;
    }
  }
}

/**
 * Index of key element i of position t in a key region of `hs`-long keys stored in blocks of 4
 * positions: block ⌊t/4⌋ is `[i][4 positions]`.
 */
export function keyIndex(t: number, i: number, hs: number): number {
  return (t >> 2) * hs * POSITIONS_PER_BLOCK + i * POSITIONS_PER_BLOCK + (t & 3);
}

/** Columns of a quantized matrix in the wasm layout: cols rounded up to 4 (zeros past cols). */
export const cols4 = (cols: number) => Math.ceil(cols / 4) * 4;

/** A quantized matrix (rows, cols) as the JS kernels hold it: one int8 per weight, fp32 scales. */
export interface QuantRows {
  readonly rows: number;
  readonly cols: number;
  readonly groups: number;
  /** (rows, cols) */
  readonly q: Int8Array;
  /** (rows, groups) */
  readonly s: Float32Array;
}

/**
 * Writes a quantized matrix in the layout of the wasm `qmatmul`: blocks of 4 rows; in a block, 16-byte
 * chunks of 4 columns (columns j, j+1 of rows 0–3 as pairs, then j+2, j+3), `cols4(cols)` columns
 * (zeros past cols) → `dstQ[qOff …]`, `ceil(rows/4) · cols4 · 4` bytes; scales as `[block][group][4 rows]`
 * → `dstS[sOff …]`. Rows past `rows` are zeros.
 */
export function interleaveQuant(
  dstQ: Int8Array,
  qOff: number,
  dstS: Float32Array,
  sOff: number,
  m: QuantRows,
): void {
  const { rows, cols, groups, q, s } = m;
  const n4 = cols4(cols);
  const blocks = Math.ceil(rows / 4);
  dstQ.fill(0, qOff, qOff + blocks * n4 * 4);
  dstS.fill(0, sOff, sOff + blocks * groups * 4);
  for (let row = 0; row < rows; row++) {
    const b = row >> 2;
    const r = row & 3;
    const base = qOff + b * n4 * 4;
    for (let j = 0; j < cols; j++) {
      dstQ[base + (j >> 2) * 16 + ((j & 3) >> 1) * 8 + r * 2 + (j & 1)] = q[row * cols + j]!;
    }
    for (let g = 0; g < groups; g++) dstS[sOff + (b * groups + g) * 4 + r] = s[row * groups + g]!;
  }
}
