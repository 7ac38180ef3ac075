/**
 * CPU reference of the dueling combine (float64), written from Q = V + A − mean_a(A).
 *
 * @module
 */

/** Sizes and inputs of one reference call: v [rows], adv [rows, numActions]. */
export interface DuelingRefArgs {
  numAgents: number;
  batch: number;
  numActions: number;
  v: ArrayLike<number>;
  adv: ArrayLike<number>;
}

/** Q[r, k] = V[r] + A[r, k] − (1/n) Σ_j A[r, j]. */
export function duelingForwardReference(r: DuelingRefArgs): Float64Array {
  const n = r.numActions, rows = r.numAgents * r.batch;
  const q = new Float64Array(rows * n);
  for (let row = 0; row < rows; row++) {
    let mean = 0;
    for (let j = 0; j < n; j++) mean += r.adv[row * n + j] / n;
    for (let k = 0; k < n; k++) q[row * n + k] = r.v[row] + r.adv[row * n + k] - mean;
  }
  return q;
}

/**
 * Gradients of Σ dQ ⊙ Q: ∂Q[k]/∂V = 1, ∂Q[k]/∂A[j] = [j = k] − 1/n, summed against dQ.
 */
export function duelingBackwardReference(
  r: Omit<DuelingRefArgs, "v" | "adv"> & { dq: ArrayLike<number> },
): { dv: Float64Array; dAdv: Float64Array } {
  const n = r.numActions, rows = r.numAgents * r.batch;
  const dv = new Float64Array(rows), dAdv = new Float64Array(rows * n);
  for (let row = 0; row < rows; row++) {
    for (let k = 0; k < n; k++) {
      const g = r.dq[row * n + k];
      dv[row] += g;
      for (let j = 0; j < n; j++) dAdv[row * n + j] += g * ((j === k ? 1 : 0) - 1 / n);
    }
  }
  return { dv, dAdv };
}
