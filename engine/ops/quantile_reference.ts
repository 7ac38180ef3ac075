/**
 * CPU reference of engine/ops/quantile.ts in float64: NumPy's default ("linear") quantile of the
 * filled part of each window.
 *
 * @module
 */

/** NumPy `quantile(v, q)` with linear interpolation; 0 for an empty array. */
export function quantileReference(values: ArrayLike<number>, q: number): number {
  const v = Float64Array.from(values as ArrayLike<number>).sort();
  if (v.length === 0) return 0;
  const h = (v.length - 1) * q;
  const lo = Math.floor(h), hi = Math.min(lo + 1, v.length - 1);
  return v[lo] + (v[hi] - v[lo]) * (h - lo);
}

/** Quantiles [numAgents, qs.length] of the first min(count[a], capacity) values of each window. */
export function windowQuantileReference(
  window: ArrayLike<number>,
  count: ArrayLike<number>,
  o: { numAgents: number; capacity: number; qs: readonly number[] },
): Float64Array {
  const out = new Float64Array(o.numAgents * o.qs.length);
  for (let a = 0; a < o.numAgents; a++) {
    const filled = Array.prototype.slice.call(
      window,
      a * o.capacity,
      a * o.capacity + Math.min(count[a], o.capacity),
    ) as number[];
    o.qs.forEach((q, j) => out[a * o.qs.length + j] = quantileReference(filled, q));
  }
  return out;
}
