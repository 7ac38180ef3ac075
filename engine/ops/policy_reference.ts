/**
 * CPU reference (float64) of the categorical and classification ops on logits, written from the
 * maths (`specs/algorithms/README.md` §3), not from the WGSL. Rows are `[rows, k]` row-major; every
 * backward returns d(Σ_i g_i·out_i)/d logits for an upstream gradient `g` shaped like the output.
 *
 * @module
 */

/** Logits of `rows` rows of `k` values (plus labels or targets where an op needs them). */
export interface LogitsRefArgs {
  rows: number;
  k: number;
  logits: ArrayLike<number>;
}

/** log softmax of every row: z_j − log Σ_k e^{z_k}, computed around the row maximum. */
export function logSoftmaxReference(r: LogitsRefArgs): Float64Array {
  const out = new Float64Array(r.rows * r.k);
  for (let i = 0; i < r.rows; i++) {
    let m = -Infinity;
    for (let j = 0; j < r.k; j++) m = Math.max(m, r.logits[i * r.k + j]);
    let s = 0;
    for (let j = 0; j < r.k; j++) s += Math.exp(r.logits[i * r.k + j] - m);
    const lse = m + Math.log(s);
    for (let j = 0; j < r.k; j++) out[i * r.k + j] = r.logits[i * r.k + j] - lse;
  }
  return out;
}

/** softmax of every row. */
export function softmaxReference(r: LogitsRefArgs): Float64Array {
  return logSoftmaxReference(r).map(Math.exp);
}

/** Σ_j of the row, for each row. */
function rowSums(v: ArrayLike<number>, rows: number, k: number): Float64Array {
  const s = new Float64Array(rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) s[i] += v[i * k + j];
  return s;
}

/** dz_j = p_j (g_j − Σ_k p_k g_k). */
export function softmaxBackwardReference(
  r: LogitsRefArgs & { g: ArrayLike<number> },
): Float64Array {
  const p = softmaxReference(r);
  const pg = rowSums(p.map((v, i) => v * r.g[i]), r.rows, r.k);
  return p.map((v, i) => v * (r.g[i] - pg[Math.floor(i / r.k)]));
}

/** dz_j = g_j − p_j Σ_k g_k. */
export function logSoftmaxBackwardReference(
  r: LogitsRefArgs & { g: ArrayLike<number> },
): Float64Array {
  const p = softmaxReference(r);
  const gs = rowSums(r.g, r.rows, r.k);
  return p.map((v, i) => r.g[i] - v * gs[Math.floor(i / r.k)]);
}

/** log π(a) per row for integer actions `actions [rows]`. */
export function logProbReference(r: LogitsRefArgs & { actions: ArrayLike<number> }): Float64Array {
  const lp = logSoftmaxReference(r);
  return Float64Array.from({ length: r.rows }, (_, i) => lp[i * r.k + r.actions[i]]);
}

/** dz_j = g (1[j = a] − p_j). */
export function logProbBackwardReference(
  r: LogitsRefArgs & { actions: ArrayLike<number>; g: ArrayLike<number> },
): Float64Array {
  const p = softmaxReference(r);
  return p.map((v, idx) => {
    const i = Math.floor(idx / r.k), j = idx % r.k;
    return r.g[i] * ((j === r.actions[i] ? 1 : 0) - v);
  });
}

/** H = −Σ p log p per row. */
export function entropyReference(r: LogitsRefArgs): Float64Array {
  const lp = logSoftmaxReference(r);
  return rowSums(lp.map((v) => -Math.exp(v) * v), r.rows, r.k);
}

/** dH/dz_j = −p_j (log p_j + H), times g. */
export function entropyBackwardReference(
  r: LogitsRefArgs & { g: ArrayLike<number> },
): Float64Array {
  const lp = logSoftmaxReference(r);
  const h = entropyReference(r);
  return lp.map((v, idx) => {
    const i = Math.floor(idx / r.k);
    return -r.g[i] * Math.exp(v) * (v + h[i]);
  });
}

/** Softmax cross-entropy against integer labels: −log p[label] per row. */
export function crossEntropyReference(
  r: LogitsRefArgs & { labels: ArrayLike<number> },
): Float64Array {
  return logProbReference({ ...r, actions: r.labels }).map((v) => -v);
}

/** dz_j = g (p_j − 1[j = label]). */
export function crossEntropyBackwardReference(
  r: LogitsRefArgs & { labels: ArrayLike<number>; g: ArrayLike<number> },
): Float64Array {
  return logProbBackwardReference({ ...r, actions: r.labels }).map((v) => -v);
}

/** Softmax cross-entropy against target probabilities: −Σ_j t_j log p_j per row. */
export function softCrossEntropyReference(
  r: LogitsRefArgs & { targets: ArrayLike<number> },
): Float64Array {
  const lp = logSoftmaxReference(r);
  return rowSums(lp.map((v, i) => -r.targets[i] * v), r.rows, r.k);
}

/** dz_j = g (p_j Σ_k t_k − t_j). */
export function softCrossEntropyBackwardReference(
  r: LogitsRefArgs & { targets: ArrayLike<number>; g: ArrayLike<number> },
): Float64Array {
  const p = softmaxReference(r);
  const ts = rowSums(r.targets, r.rows, r.k);
  return p.map((v, idx) => {
    const i = Math.floor(idx / r.k);
    return r.g[i] * (v * ts[i] - r.targets[idx]);
  });
}

/** Binary cross-entropy with logits, elementwise: −y log σ(x) − (1 − y) log(1 − σ(x)). */
export function bceReference(r: LogitsRefArgs & { targets: ArrayLike<number> }): Float64Array {
  return Float64Array.from({ length: r.rows * r.k }, (_, i) => {
    const x = r.logits[i], y = r.targets[i];
    // log σ(x) = −log(1 + e^{−x}) and log(1 − σ(x)) = −x − log(1 + e^{−x}), via log1p on e^{−|x|}.
    const softplusNeg = Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    return y * softplusNeg + (1 - y) * (x + softplusNeg);
  });
}

/** d/dx = g (σ(x) − y). */
export function bceBackwardReference(
  r: LogitsRefArgs & { targets: ArrayLike<number>; g: ArrayLike<number> },
): Float64Array {
  return Float64Array.from(
    { length: r.rows * r.k },
    (_, i) => r.g[i] * (1 / (1 + Math.exp(-r.logits[i])) - r.targets[i]),
  );
}

/** mean[a] = scale·(1/count)·Σ_i values[a·count + i]. */
export function agentMeanReference(
  values: ArrayLike<number>,
  numAgents: number,
  count: number,
  scale = 1,
): Float64Array {
  const out = new Float64Array(numAgents);
  for (let a = 0; a < numAgents; a++) {
    let s = 0;
    for (let i = 0; i < count; i++) s += values[a * count + i];
    out[a] = (scale * s) / count;
  }
  return out;
}
