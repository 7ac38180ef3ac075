/**
 * CPU reference (float64) of the regression losses and TD targets, written from the maths in
 * `specs/algorithms/README.md` §3 and `docs/algorithms/idqn.md` §2, not from the WGSL.
 *
 * @module
 */

/** Per-sample regression loss: squared error δ², or Huber with threshold 1. */
export type RegressionKind = "mse" | "huber";

/** ℓ(δ): δ² for "mse"; ½δ² if |δ| ≤ 1 else |δ| − ½ for "huber". */
export function regressionLoss(kind: RegressionKind, delta: number): number {
  if (kind === "mse") return delta * delta;
  const a = Math.abs(delta);
  return a <= 1 ? 0.5 * delta * delta : a - 0.5;
}

/** dℓ/dδ: 2δ for "mse"; clamp(δ, −1, 1) for "huber". */
export function regressionLossGrad(kind: RegressionKind, delta: number): number {
  if (kind === "mse") return 2 * delta;
  return Math.min(1, Math.max(-1, delta));
}

/** First index of the largest of `n` values starting at `offset` (ties → lowest index). */
export function argmaxLowest(v: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (v[offset + j] > v[offset + best]) best = j;
  return best;
}

/** Inputs of {@linkcode tdTargetReference}; arrays are agent-major. */
export interface TdTargetRefArgs {
  numAgents: number;
  batch: number;
  numActions: number;
  gamma: number;
  /** Target-network Q at s' [numAgents, batch, numActions]. */
  qNext: ArrayLike<number>;
  /** Online-network Q at s' (double DQN only) [numAgents, batch, numActions]. */
  qNextOnline?: ArrayLike<number>;
  reward: ArrayLike<number>;
  /** 1 = terminal, 0 = not. */
  done: ArrayLike<number>;
}

/**
 * y = r + γ(1 − d)·max_j Q_target(s', j), or with `qNextOnline` (double DQN)
 * y = r + γ(1 − d)·Q_target(s', argmax_j Q_online(s', j)) with ties to the lowest index.
 */
export function tdTargetReference(r: TdTargetRefArgs): Float64Array {
  const { numAgents: A, batch: B, numActions: K } = r;
  const y = new Float64Array(A * B);
  for (let i = 0; i < A * B; i++) {
    const j = r.qNextOnline
      ? argmaxLowest(r.qNextOnline, i * K, K)
      : argmaxLowest(r.qNext, i * K, K);
    y[i] = r.reward[i] + r.gamma * (1 - r.done[i]) * r.qNext[i * K + j];
  }
  return y;
}

/** Inputs of {@linkcode qLossReference}; arrays are agent-major. */
export interface QLossRefArgs {
  kind: RegressionKind;
  numAgents: number;
  batch: number;
  numActions: number;
  /** Q(s, ·) [numAgents, batch, numActions]. */
  q: ArrayLike<number>;
  action: ArrayLike<number>;
  /** [numAgents, batch]. */
  target: ArrayLike<number>;
  /** Per-sample weights [numAgents, batch]; all ones when absent. */
  weights?: ArrayLike<number>;
  /** Multiplies the loss and its gradient. */
  scale: number;
}

/** Per-agent loss L_a = scale·(1/B) Σ_b w ℓ(q[a, b, action] − target), |δ| and dL/dq. */
export function qLossReference(
  r: QLossRefArgs,
): { loss: Float64Array; absDelta: Float64Array; dQ: Float64Array } {
  const { numAgents: A, batch: B, numActions: K } = r;
  const loss = new Float64Array(A);
  const absDelta = new Float64Array(A * B);
  const dQ = new Float64Array(A * B * K);
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) {
      const i = a * B + b;
      const w = r.weights ? r.weights[i] : 1;
      const at = i * K + r.action[i];
      const delta = r.q[at] - r.target[i];
      absDelta[i] = Math.abs(delta);
      loss[a] += (r.scale / B) * w * regressionLoss(r.kind, delta);
      dQ[at] = (r.scale / B) * w * regressionLossGrad(r.kind, delta);
    }
  }
  return { loss, absDelta, dQ };
}

/** Inputs of {@linkcode valueLossReference}. */
export interface ValueLossRefArgs {
  numAgents: number;
  batch: number;
  /** V(s) [numAgents, batch]. */
  value: ArrayLike<number>;
  target: ArrayLike<number>;
  weights?: ArrayLike<number>;
  scale: number;
}

/** L_a = scale·(1/B) Σ_b w (v − R)² and dL/dv. */
export function valueLossReference(
  r: ValueLossRefArgs,
): { loss: Float64Array; dValue: Float64Array } {
  const { numAgents: A, batch: B } = r;
  const loss = new Float64Array(A);
  const dValue = new Float64Array(A * B);
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) {
      const i = a * B + b;
      const w = r.weights ? r.weights[i] : 1;
      const d = r.value[i] - r.target[i];
      loss[a] += (r.scale / B) * w * d * d;
      dValue[i] = (r.scale / B) * w * 2 * d;
    }
  }
  return { loss, dValue };
}
