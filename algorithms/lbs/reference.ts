/**
 * CPU reference of LBS's learning-tick batch (docs/algorithms/lbs.md §2), written from the spec in float64: every
 * learner scores the whole pool with its own networks (the DQN TD definition of docs/algorithms/idqn.md §2,
 * through algorithms/idqn/reference.ts), p2 ∝ g = max(min(|δ|, clip), 1e-8), B draws with
 * replacement by inverse CDF over the items in pool order with the shared counter-based RNG
 * (purpose `sample`, stream (learner, draw), step = the sampler's call count), weights 1/(K·p2)
 * times the item's p1 weight.
 *
 * @module
 */
import { RNG_PURPOSE, rngU32, rngUnit } from "../../engine/rng.ts";
import type { IdqnConfig } from "../idqn/config.ts";
import type { QNetworkSpec } from "../idqn/network.ts";
import { qNetworkForwardReference } from "../idqn/reference.ts";

/** The pool: K transitions (host arrays, item-major). */
export interface LbsPool {
  obs: ArrayLike<number>;
  nextObs: ArrayLike<number>;
  action: ArrayLike<number>;
  reward: ArrayLike<number>;
  done: ArrayLike<number>;
}

/** |δ| [numLearners, K] of every learner on the whole pool, with parameters [numLearners, stride]. */
export function lbsPoolTdReference(o: {
  spec: QNetworkSpec;
  config: Readonly<IdqnConfig>;
  numLearners: number;
  pool: LbsPool;
  params: ArrayLike<number>;
  target: ArrayLike<number>;
}): Float64Array {
  const { spec, config: c, numLearners: M, pool } = o;
  const K = pool.action.length, nA = spec.numActions;
  const tile = (x: ArrayLike<number>) => {
    const out = new Float64Array(M * x.length);
    for (let i = 0; i < M; i++) out.set(Array.from(x), i * x.length);
    return out;
  };
  const net = (p: ArrayLike<number>, x: ArrayLike<number>) =>
    qNetworkForwardReference({ spec, numLearners: M, batch: K, params: p, x: tile(x) });
  const q = net(o.params, pool.obs), qt = net(o.target, pool.nextObs);
  const qo = c.double ? net(o.params, pool.nextObs) : qt;
  const out = new Float64Array(M * K);
  for (let i = 0; i < M; i++) {
    for (let k = 0; k < K; k++) {
      const r = (i * K + k) * nA;
      let best = 0;
      for (let j = 1; j < nA; j++) if (qo[r + j] > qo[r + best]) best = j;
      const done = c.bootstrapOnTerminal ? 0 : pool.done[k];
      const y = pool.reward[k] + c.gamma * (1 - done) * qt[r + best];
      out[i * K + k] = Math.abs(q[r + pool.action[k]] - y);
    }
  }
  return out;
}

/** p2 draws of every learner over its pool scores. */
export interface LbsDraws {
  /** Pool items [numLearners, B]. */
  indices: Uint32Array;
  /** 1/(K·p2) of each draw [numLearners, B]. */
  weights: Float64Array;
  /** p2 [numLearners, K]. */
  p: Float64Array;
  /** Draws whose target u·Σg lies within 1e-5·Σg of a CDF step (f32 may choose the neighbour). */
  ambiguous: boolean[];
}

/**
 * Resamples B items per learner from p2 ∝ max(min(|δ|, clip), eps) with replacement.
 *
 * @param o Scores [numLearners, K] (a constant score gives uniform p2), B, clip (Infinity for
 *   none), eps, the p2 seed and the sampler's call count.
 * @returns Indices, weights, p2 and the ambiguity flags.
 */
export function lbsResampleReference(o: {
  absTd: ArrayLike<number>;
  numLearners: number;
  batch: number;
  clip: number;
  eps: number;
  seed: number;
  step: number;
}): LbsDraws {
  const { numLearners: M, batch: B } = o;
  const K = o.absTd.length / M;
  const indices = new Uint32Array(M * B), weights = new Float64Array(M * B);
  const p = new Float64Array(M * K), ambiguous: boolean[] = [];
  for (let i = 0; i < M; i++) {
    const g = Array.from(
      { length: K },
      (_, k) => Math.max(Math.min(Math.abs(o.absTd[i * K + k]), o.clip), o.eps),
    );
    const total = g.reduce((s, v) => s + v, 0);
    g.forEach((v, k) => (p[i * K + k] = v / total));
    for (let b = 0; b < B; b++) {
      const target = rngUnit(rngU32(o.seed, RNG_PURPOSE.sample, i, b, o.step, 0)) * total;
      let acc = 0, k = 0, near = false;
      for (; k < K; k++) {
        acc += g[k];
        if (Math.abs(acc - target) <= 1e-5 * total) near = true;
        if (acc > target) break;
      }
      k = Math.min(k, K - 1);
      indices[i * B + b] = k;
      weights[i * B + b] = 1 / (K * p[i * K + k]);
      ambiguous.push(near);
    }
  }
  return { indices, weights, p, ambiguous };
}
