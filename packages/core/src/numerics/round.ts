/**
 * binary32 → integer rounding of the spec (docs/numerics.md §3): round half away from zero, computed as
 * `trunc(t ± 0.5)` with the addition in binary32 — exactly what C's `(int32_t)(t + 0.5f)` does, so both
 * sides agree even where the binary32 addition itself rounds.
 */
export function roundHalfAway(t: number): number {
  // `| 0` truncates toward zero like C's conversion (callers stay far inside the int32 range)
  return Math.fround(t + (t < 0 ? -0.5 : 0.5)) | 0;
}
