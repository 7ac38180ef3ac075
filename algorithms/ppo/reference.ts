/**
 * Plain-TS references of independent PPO (docs/algorithms/dials.md §6), written from the maths in float64: GAE
 * with done cuts and segment boundaries, and the clipped PPO loss of one agent's minibatch with its
 * analytic gradient w.r.t. the logits and values (checked against finite differences).
 *
 * @module
 */
import { entropyReference, logSoftmaxReference } from "../../engine/ops/policy_reference.ts";

/** GAE inputs for one (agent, env) stream of T steps. */
export interface GaeInput {
  /** r_t, t < T. */
  rewards: ArrayLike<number>;
  /** V_t, t ≤ T (V_T bootstraps). */
  values: ArrayLike<number>;
  /** 1 where step t ended the episode. */
  dones: ArrayLike<number>;
  gamma: number;
  lambda: number;
  /** Advantages do not carry across t + 1 ≡ 0 (mod horizon). */
  horizon: number;
}

/** Generalised advantage estimates and returns (A + V) of one stream. */
export function gaeReference(x: GaeInput): { adv: number[]; ret: number[] } {
  const T = x.rewards.length;
  const adv = new Array<number>(T).fill(0);
  for (let t = T - 1; t >= 0; t--) {
    const cont = 1 - x.dones[t];
    const next = (t + 1) % x.horizon === 0 || t + 1 === T ? 0 : adv[t + 1];
    const delta = x.rewards[t] + x.gamma * x.values[t + 1] * cont - x.values[t];
    adv[t] = delta + x.gamma * x.lambda * cont * next;
  }
  return { adv, ret: adv.map((a, t) => a + x.values[t]) };
}

/** One agent's minibatch for the PPO loss. */
export interface PpoLossInput {
  /** [rows][K] logits. */
  logits: number[][];
  /** [rows] critic values. */
  values: number[];
  actions: number[];
  oldLogp: number[];
  /** Raw (unnormalised) advantages. */
  adv: number[];
  returns: number[];
  oldValues: number[];
  clip: number;
  valueCoef: number;
  entropyCoef: number;
}

/** Loss, mean terms and gradients of one agent's minibatch. */
export interface PpoLossOutput {
  loss: number;
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  clipFraction: number;
  /** ∂loss/∂logits [rows][K]. */
  dLogits: number[][];
  /** ∂loss/∂values [rows]. */
  dValues: number[];
}

/** Normalised advantages (A − mean) / (std + 1e-8), std unbiased (n − 1) as torch's `std()`. */
export function normaliseAdvantages(adv: readonly number[]): number[] {
  const n = adv.length;
  const mean = adv.reduce((s, v) => s + v, 0) / n;
  const varU = n > 1 ? adv.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1) : 0;
  const std = Math.sqrt(varU);
  return adv.map((v) => (v - mean) / (std + 1e-8));
}

/**
 * L = mean_r[−min(ρÂ, clip(ρ, 1 ± ε)Â)] + c_v·mean_r[max((V − R)², (V_old + clip(V − V_old, ±ε) −
 * R)²)] − β·mean_r[H], ρ = exp(log π(a) − log π_old(a)), Â per-minibatch normalised.
 */
export function ppoLossReference(x: PpoLossInput): PpoLossOutput {
  const R = x.actions.length, eps = x.clip;
  const advN = normaliseAdvantages(x.adv);
  let pl = 0, vl = 0, ent = 0, cf = 0;
  const dLogits: number[][] = [], dValues: number[] = [];
  for (let r = 0; r < R; r++) {
    const row = { rows: 1, k: x.logits[r].length, logits: x.logits[r] };
    const lp = Array.from(logSoftmaxReference(row));
    const p = lp.map(Math.exp);
    const H = entropyReference(row)[0];
    const a = x.actions[r], A = advN[r];
    const ratio = Math.exp(lp[a] - x.oldLogp[r]);
    const rc = Math.min(Math.max(ratio, 1 - eps), 1 + eps);
    const s1 = ratio * A, s2 = rc * A;
    pl += -Math.min(s1, s2);
    const inside = ratio >= 1 - eps && ratio <= 1 + eps;
    cf += inside ? 0 : 1;
    // ∂(−min)/∂log π(a): −Â ρ through the unclipped branch; the clipped branch is flat outside.
    const gLogp = s1 <= s2 || inside ? -A * ratio : 0;
    const v = x.values[r], vo = x.oldValues[r], ret = x.returns[r];
    const vc = vo + Math.min(Math.max(v - vo, -eps), eps);
    const lu = (v - ret) ** 2, lc = (vc - ret) ** 2;
    vl += Math.max(lu, lc);
    const gv = lu >= lc ? 2 * (v - ret) : Math.abs(v - vo) < eps ? 2 * (vc - ret) : 0;
    ent += H;
    // ∂H/∂l_j = −p_j (log p_j + H); the loss has −β H.
    dLogits.push(
      p.map((pj, j) => (gLogp * ((j === a ? 1 : 0) - pj) + x.entropyCoef * pj * (lp[j] + H)) / R),
    );
    dValues.push((x.valueCoef * gv) / R);
  }
  pl /= R;
  vl /= R;
  ent /= R;
  return {
    loss: pl + x.valueCoef * vl - x.entropyCoef * ent,
    policyLoss: pl,
    valueLoss: vl,
    entropy: ent,
    clipFraction: cf / R,
    dLogits,
    dValues,
  };
}
