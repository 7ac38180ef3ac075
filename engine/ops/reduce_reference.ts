/**
 * CPU reference of engine/ops/reduce.ts in float64, written from the definitions.
 *
 * @module
 */
import type { ReduceOp } from "./reduce.ts";

/** Per-segment sum, mean, max (with its first index) or L2 norm of x [numSegments, n]. */
export function reduceReference(
  x: ArrayLike<number>,
  o: { numSegments: number; n: number; op: ReduceOp },
): { out: Float64Array; index: Uint32Array } {
  const out = new Float64Array(o.numSegments), index = new Uint32Array(o.numSegments);
  for (let s = 0; s < o.numSegments; s++) {
    const row = Array.prototype.slice.call(x, s * o.n, (s + 1) * o.n) as number[];
    const sum = row.reduce((a, v) => a + v, 0);
    const best = row.reduce((b, v, i) => (v > row[b] ? i : b), 0);
    switch (o.op) {
      case "sum":
        out[s] = sum;
        break;
      case "mean":
        out[s] = sum / o.n;
        break;
      case "l2norm":
        out[s] = Math.sqrt(row.reduce((a, v) => a + v * v, 0));
        break;
      default:
        out[s] = row[best];
        index[s] = best;
    }
  }
  return { out, index };
}

/** (mean, variance with divisor n) of the first min(count[a], capacity) values of each window. */
export function windowMomentsReference(
  window: ArrayLike<number>,
  count: ArrayLike<number>,
  numAgents: number,
  capacity: number,
): Float64Array {
  const out = new Float64Array(2 * numAgents);
  for (let a = 0; a < numAgents; a++) {
    const m = Math.min(count[a], capacity);
    if (m === 0) continue;
    let mean = 0;
    for (let i = 0; i < m; i++) mean += window[a * capacity + i];
    mean /= m;
    let v = 0;
    for (let i = 0; i < m; i++) v += (window[a * capacity + i] - mean) ** 2;
    out[2 * a] = mean;
    out[2 * a + 1] = v / m;
  }
  return out;
}
