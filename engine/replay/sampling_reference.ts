/**
 * CPU references for engine/replay/sampling.ts, written from the definitions (PER, uniform, Gumbel /
 * exponential-race top-k, LBS). Arithmetic that decides an index (tree sums, prefix sums, scaled
 * uniforms, subtractions) is rounded to f32 with Math.fround in the order the definitions state,
 * so indices can be compared exactly with the GPU.
 *
 * @module
 */
import { rngBelow, rngU32, rngUnit } from "../rng.ts";

const f = Math.fround;

/** Draw for (ring, item) of one sampler call. */
function draw(seed: number, purpose: number, ring: number, item: number, step: number): number {
  return rngU32(seed, purpose, ring, item, step, 0);
}

/** Sum and min trees (heap layout, node 1 root, leaves at L + i) of leaves `[L]`; empty = 0. */
export function buildTreesReference(
  leaves: ArrayLike<number>,
  emptyMin: number,
): { sum: Float32Array; min: Float32Array } {
  const L = leaves.length;
  const sum = new Float32Array(2 * L), min = new Float32Array(2 * L);
  for (let i = 0; i < L; i++) {
    sum[L + i] = leaves[i];
    min[L + i] = leaves[i] > 0 ? leaves[i] : emptyMin;
  }
  for (let k = L - 1; k >= 1; k--) {
    sum[k] = f(sum[2 * k] + sum[2 * k + 1]);
    min[k] = Math.min(min[2 * k], min[2 * k + 1]);
  }
  return { sum, min };
}

/** PER leaf values after an update: leaf[idx] = (|td| + eps)^alpha, later draws overriding. */
export function priorityUpdateReference(
  leaves: Float64Array | Float32Array,
  idx: ArrayLike<number>,
  td: ArrayLike<number>,
  alpha: number,
  eps: number,
): void {
  for (let b = 0; b < idx.length; b++) leaves[idx[b]] = Math.pow(Math.abs(td[b]) + eps, alpha);
}

/**
 * PER draws of one ring: mass u·total, then descent (left if mass < left or right is empty).
 * Weights (N·P(i))^−β / (N·P_min)^−β, evaluated as (P(i)·N)^−β·(P_min·N)^β in float64.
 */
export function perSampleReference(
  o: {
    leaves: ArrayLike<number>;
    ring: number;
    batch: number;
    beta: number;
    seed: number;
    purpose: number;
    step: number;
    fill: number;
  },
): { indices: Uint32Array; weights: Float64Array } {
  const L = o.leaves.length;
  const { sum } = buildTreesReference(o.leaves, 3e38);
  const total = sum[1];
  let pMin = Infinity;
  for (let i = 0; i < L; i++) if (o.leaves[i] > 0) pMin = Math.min(pMin, o.leaves[i]);
  const indices = new Uint32Array(o.batch), weights = new Float64Array(o.batch);
  for (let b = 0; b < o.batch; b++) {
    let u = f(rngUnit(draw(o.seed, o.purpose, o.ring, b, o.step)) * total);
    let node = 1;
    while (node < L) {
      const left = sum[2 * node], right = sum[2 * node + 1];
      if (u < left || right <= 0) node = 2 * node;
      else {
        u = f(u - left);
        node = 2 * node + 1;
      }
    }
    const i = node - L;
    indices[b] = i;
    const P = o.leaves[i] / total, Pm = pMin / total;
    weights[b] = Math.pow(o.fill * P, -o.beta) / Math.pow(o.fill * Pm, -o.beta);
  }
  return { indices, weights };
}

/** Uniform draws of one ring over [0, fill) minus the window [start, start + count) (mod fill). */
export function uniformSampleReference(
  o: {
    fill: number;
    start: number;
    count: number;
    ring: number;
    batch: number;
    seed: number;
    purpose: number;
    step: number;
  },
): Uint32Array {
  const valid: number[] = [];
  // The valid slots in the order the definition enumerates them: from just after the window.
  for (let k = 0; k < o.fill - o.count; k++) valid.push((o.start + o.count + k) % o.fill);
  const out = new Uint32Array(o.batch);
  for (let b = 0; b < o.batch; b++) {
    const n = valid.length;
    out[b] = n ? valid[rngBelow(draw(o.seed, o.purpose, o.ring, b, o.step), n)] : 0;
  }
  return out;
}

/**
 * k items without replacement ∝ w (Gumbel-top-k): items sorted by log w + G, G = −log(−log u),
 * with u = (24-bit draw + ½)/2^24; zero weights excluded; missing entries 0xffffffff.
 */
export function topKReference(
  o: {
    weights: ArrayLike<number>;
    ring: number;
    k: number;
    seed: number;
    purpose: number;
    step: number;
  },
): { indices: Uint32Array; keys: Float64Array } {
  const items: { i: number; key: number }[] = [];
  for (let i = 0; i < o.weights.length; i++) {
    const w = o.weights[i];
    if (!(w > 0)) continue;
    const u = ((draw(o.seed, o.purpose, o.ring, i, o.step) >>> 8) + 0.5) / 16777216;
    items.push({ i, key: Math.log(w) - Math.log(-Math.log(u)) });
  }
  items.sort((a, b) => b.key - a.key || a.i - b.i);
  const indices = new Uint32Array(o.k).fill(0xffffffff), keys = new Float64Array(o.k);
  for (let j = 0; j < Math.min(o.k, items.length); j++) {
    indices[j] = items[j].i;
    keys[j] = items[j].key;
  }
  return { indices, keys };
}

/**
 * LBS resampling of one learner over a pool of K: g = max(min(|td|, clip), eps), p = g / Σg,
 * B draws i with prefix(i) > u·Σg (prefix sums in item order, f32), weights 1/(K·p).
 */
export function lbsSampleReference(
  o: {
    td: ArrayLike<number>;
    ring: number;
    batch: number;
    clip: number;
    eps: number;
    seed: number;
    purpose: number;
    step: number;
  },
): { indices: Uint32Array; weights: Float64Array; p: Float64Array } {
  const K = o.td.length;
  const g = new Float32Array(K), cdf = new Float32Array(K);
  let acc = 0;
  for (let i = 0; i < K; i++) {
    g[i] = Math.max(Math.min(Math.abs(o.td[i]), o.clip), f(o.eps));
    acc = f(acc + g[i]);
    cdf[i] = acc;
  }
  const p = Float64Array.from(g, (x) => x / acc);
  const indices = new Uint32Array(o.batch), weights = new Float64Array(o.batch);
  for (let b = 0; b < o.batch; b++) {
    const u = f(rngUnit(draw(o.seed, o.purpose, o.ring, b, o.step)) * acc);
    let i = 0;
    while (i < K - 1 && !(cdf[i] > u)) i++;
    indices[b] = i;
    weights[b] = 1 / (K * p[i]);
  }
  return { indices, weights, p };
}
