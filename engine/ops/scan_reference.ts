/**
 * CPU reference of prefix sums per segment (float64 accumulation; u32 results wrap mod 2^32).
 *
 * @module
 */

/** Options of {@linkcode scanReference}. */
export interface ScanRefOptions {
  numSegments: number;
  n: number;
  exclusive: boolean;
  /** Wrap sums modulo 2^32 (u32 scans). */
  wrapU32?: boolean;
}

/** y[s, i] = Σ_{j < i} x[s, j] (exclusive) or Σ_{j ≤ i} x[s, j] (inclusive). */
export function scanReference(x: ArrayLike<number>, o: ScanRefOptions): Float64Array {
  const y = new Float64Array(o.numSegments * o.n);
  for (let s = 0; s < o.numSegments; s++) {
    let acc = 0;
    for (let i = 0; i < o.n; i++) {
      const k = s * o.n + i;
      const next = o.wrapU32 ? (acc + x[k]) % 2 ** 32 : acc + x[k];
      y[k] = o.exclusive ? acc : next;
      acc = next;
    }
  }
  return y;
}

/** Σ_{j ≤ i} |x[s, j]|: the scale of rounding error of an f32 prefix sum at each position. */
export function absScanReference(
  x: ArrayLike<number>,
  numSegments: number,
  n: number,
): Float64Array {
  return scanReference(Array.from(x as ArrayLike<number>, Math.abs), {
    numSegments,
    n,
    exclusive: false,
  });
}
