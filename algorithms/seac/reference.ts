/**
 * Independent float64 CPU reference of the SEAC family (docs/algorithms/seac.md §1–§3), written from the maths:
 * n-step returns with done and truncation masks, and each learner's loss with its gradient
 * w.r.t. its flat parameter block (actor MLP at offset 0, critic MLP after it; dense layers laid
 * out as PyTorch's W [out, in] then b [out], ReLU on hidden layers).
 *
 * The loss is a surrogate whose detached quantities (importance ratios, advantages in the policy
 * term, bootstrapped targets) are evaluated at `detached` parameters, so that central finite
 * differences of `loss` at `params = detached` equal the analytic `grads`.
 *
 * @module
 */
import { logSoftmaxReference } from "../../engine/ops/policy_reference.ts";

/** Which data each learner trains on (as in algorithms/seac/learner.ts). */
export type SeacReferenceSharing = "seac" | "iac" | "snac";

/** A stored rollout, flat row-major arrays (agent-major inside a step slot). */
export interface SeacReferenceRollout {
  /** [T + 1, N, E, D]. */
  obs: ArrayLike<number>;
  /** [T, N, E]. */
  actions: ArrayLike<number>;
  /** [T, N, E] behaviour log-probabilities. */
  behLogp: ArrayLike<number>;
  /** [T, N, E] collector returns. */
  returns: ArrayLike<number>;
  /** [T, N, E]. */
  rewards: ArrayLike<number>;
  /** [T + 1, E]. */
  masks: ArrayLike<number>;
  /** [T + 1, E]. */
  badMasks: ArrayLike<number>;
}

/** Inputs of {@linkcode seacLossReference}. */
export interface SeacReferenceInput {
  /** [L, stride] parameters the loss is differentiated at. */
  params: ArrayLike<number>;
  /** [L, stride] parameters of the detached quantities (default: `params`). */
  detached?: ArrayLike<number>;
  /** Actor sizes [D, hidden…, K] and critic sizes [D, hidden…, 1]. */
  actorSizes: readonly number[];
  criticSizes: readonly number[];
  rollout: SeacReferenceRollout;
  numAgents: number;
  numEnvs: number;
  nSteps: number;
  sharing: SeacReferenceSharing;
  foreignTarget: "collectorReturn" | "learnerBootstrap";
  lambda: number;
  gamma: number;
  entropyCoef: number;
  valueCoef: number;
}

/** Per-learner results. */
export interface SeacReferenceOutput {
  /** [L] total loss. */
  loss: Float64Array;
  /** [L] Σ policy terms (own + λ-weighted foreign). */
  policy: Float64Array;
  /** [L] Σ w·A²/(T·E) (value loss before its coefficient). */
  value: Float64Array;
  /** [L] Σ own entropy/(T·E). */
  entropy: Float64Array;
  /** [L] Σ importance ratios over foreign samples. */
  ratio: Float64Array;
  /** [L, stride] gradient of `loss` w.r.t. `params` (valid at params = detached). */
  grads: Float64Array;
}

/** Number of parameters of an MLP with layer sizes `sizes`. */
export function mlpSize(sizes: readonly number[]): number {
  let n = 0;
  for (let l = 0; l + 1 < sizes.length; l++) n += sizes[l] * sizes[l + 1] + sizes[l + 1];
  return n;
}

/** Activations of every layer (index 0 = input); ReLU after all but the last layer. */
function mlpForward(
  p: ArrayLike<number>,
  base: number,
  sizes: readonly number[],
  x: ArrayLike<number>,
): Float64Array[] {
  const acts = [Float64Array.from(x)];
  let off = base;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const nIn = sizes[l], nOut = sizes[l + 1], inp = acts[l];
    const out = new Float64Array(nOut);
    for (let o = 0; o < nOut; o++) {
      let s = p[off + nIn * nOut + o];
      for (let i = 0; i < nIn; i++) s += p[off + o * nIn + i] * inp[i];
      out[o] = l + 2 < sizes.length ? Math.max(0, s) : s;
    }
    acts.push(out);
    off += nIn * nOut + nOut;
  }
  return acts;
}

/** Adds d(output·dy)/dparams into `g` at `base` by backpropagation through the MLP. */
function mlpBackward(
  p: ArrayLike<number>,
  base: number,
  sizes: readonly number[],
  acts: Float64Array[],
  dy: Float64Array,
  g: Float64Array,
): void {
  const offs: number[] = [];
  let off = base;
  for (let l = 0; l + 1 < sizes.length; l++) {
    offs.push(off);
    off += sizes[l] * sizes[l + 1] + sizes[l + 1];
  }
  let d = dy;
  for (let l = sizes.length - 2; l >= 0; l--) {
    const nIn = sizes[l], nOut = sizes[l + 1], o0 = offs[l];
    if (l + 2 < sizes.length) {
      // ReLU: gradient passes where the output is positive.
      d = d.map((v, o) => (acts[l + 1][o] > 0 ? v : 0));
    }
    const dIn = new Float64Array(nIn);
    for (let o = 0; o < nOut; o++) {
      g[o0 + nIn * nOut + o] += d[o];
      for (let i = 0; i < nIn; i++) {
        g[o0 + o * nIn + i] += d[o] * acts[l][i];
        dIn[i] += d[o] * p[o0 + o * nIn + i];
      }
    }
    d = dIn;
  }
}

function logSoftmax(z: Float64Array): Float64Array {
  return logSoftmaxReference({ rows: 1, k: z.length, logits: z });
}

/**
 * n-step returns per (agent, env): R_T = V̂_T; R_t = (r_t + γ m_{t+1} R_{t+1}) b_{t+1} +
 * (1 − b_{t+1}) V̂_t.
 *
 * @param o Rewards [T, N, E], masks and badMasks [T + 1, E], values [T + 1, N, E], sizes and γ.
 * @returns Returns [T, N, E].
 */
export function nStepReturnsReference(o: {
  rewards: ArrayLike<number>;
  masks: ArrayLike<number>;
  badMasks: ArrayLike<number>;
  values: ArrayLike<number>;
  numAgents: number;
  numEnvs: number;
  nSteps: number;
  gamma: number;
}): Float64Array {
  const { numAgents: N, numEnvs: E, nSteps: T, gamma } = o;
  const out = new Float64Array(T * N * E);
  for (let k = 0; k < N; k++) {
    for (let e = 0; e < E; e++) {
      let ret = o.values[(T * N + k) * E + e];
      for (let t = T - 1; t >= 0; t--) {
        const i = (t * N + k) * E + e;
        const m = o.masks[(t + 1) * E + e], b = o.badMasks[(t + 1) * E + e];
        ret = (o.rewards[i] + gamma * m * ret) * b + (1 - b) * o.values[i];
        out[i] = ret;
      }
    }
  }
  return out;
}

/**
 * Each learner's SEAC / IAC / SNAC loss and its gradient (docs/algorithms/seac.md §2, §3.1, §3.2).
 *
 * @param input Parameters, rollout, sizes, sharing mode and coefficients.
 * @returns Per-learner losses, loss parts and gradients.
 */
export function seacLossReference(input: SeacReferenceInput): SeacReferenceOutput {
  const { actorSizes, criticSizes, rollout: ro, numAgents: N, numEnvs: E, nSteps: T } = input;
  const params = input.params, det = input.detached ?? input.params;
  const D = actorSizes[0];
  const actorCount = mlpSize(actorSizes);
  const stride = actorCount + mlpSize(criticSizes);
  const L = input.sharing === "snac" ? 1 : N;
  const c = 1 / (T * E);
  const out: SeacReferenceOutput = {
    loss: new Float64Array(L),
    policy: new Float64Array(L),
    value: new Float64Array(L),
    entropy: new Float64Array(L),
    ratio: new Float64Array(L),
    grads: new Float64Array(L * stride),
  };
  const obsAt = (t: number, k: number, e: number) => {
    const i = ((t * N + k) * E + e) * D;
    return Array.prototype.slice.call(ro.obs, i, i + D) as number[];
  };
  for (let l = 0; l < L; l++) {
    const base = l * stride;
    const sources = input.sharing === "iac" ? [l] : [...Array(N).keys()];
    for (const k of sources) {
      const own = input.sharing !== "seac" || k === l;
      // Targets (constants): the collector's returns, or the learner's own n-step bootstrap.
      const target = new Float64Array(T * E);
      for (let e = 0; e < E; e++) {
        if (input.foreignTarget === "learnerBootstrap" && input.sharing === "seac") {
          const v = (t: number) =>
            mlpForward(
              det,
              base + actorCount,
              criticSizes,
              obsAt(t, k, e),
            )[criticSizes.length - 1][0];
          let ret = v(T);
          for (let t = T - 1; t >= 0; t--) {
            const m = ro.masks[(t + 1) * E + e], b = ro.badMasks[(t + 1) * E + e];
            ret = (ro.rewards[(t * N + k) * E + e] + input.gamma * m * ret) * b + (1 - b) * v(t);
            target[t * E + e] = ret;
          }
        } else {
          for (let t = 0; t < T; t++) target[t * E + e] = ro.returns[(t * N + k) * E + e];
        }
      }
      for (let t = 0; t < T; t++) {
        for (let e = 0; e < E; e++) {
          const i = (t * N + k) * E + e, x = obsAt(t, k, e), a = ro.actions[i];
          const aActs = mlpForward(params, base, actorSizes, x);
          const cActs = mlpForward(params, base + actorCount, criticSizes, x);
          const logp = logSoftmax(aActs[aActs.length - 1]);
          const v = cActs[cActs.length - 1][0];
          const logp0 = logSoftmax(mlpForward(det, base, actorSizes, x)[actorSizes.length - 1]);
          const v0 = mlpForward(det, base + actorCount, criticSizes, x)[criticSizes.length - 1][0];
          const probs = logp.map(Math.exp);
          const h = -logp.reduce((s, lp, j) => s + probs[j] * lp, 0);
          const rho = Math.exp(logp0[a]) / (Math.exp(ro.behLogp[i]) + 1e-7);
          const w = own ? 1 : input.lambda * rho;
          const y = target[t * E + e];
          const adv0 = y - v0, adv = y - v;
          const pol = -w * adv0 * logp[a] * c;
          const val = w * adv * adv * c;
          const ent = own ? h * c : 0;
          out.policy[l] += pol;
          out.value[l] += val;
          out.entropy[l] += ent;
          if (!own) out.ratio[l] += rho;
          out.loss[l] += pol + input.valueCoef * val - input.entropyCoef * ent;
          // ∂/∂logits of −w·A0·log p_a·c − entropyCoef·own·H·c, with ∂H/∂z_j = −p_j (log p_j + H).
          const dz = probs.map((p, j) =>
            -w * adv0 * c * ((j === a ? 1 : 0) - p) +
            (own ? input.entropyCoef * c * p * (logp[j] + h) : 0)
          );
          mlpBackward(params, base, actorSizes, aActs, dz, out.grads);
          const dv = Float64Array.of(input.valueCoef * w * c * 2 * (v - y));
          mlpBackward(params, base + actorCount, criticSizes, cActs, dv, out.grads);
        }
      }
    }
  }
  return out;
}

/** Log-probabilities of every action under learner `l`'s actor for one observation (tests). */
export function actorLogProbsReference(
  params: ArrayLike<number>,
  base: number,
  actorSizes: readonly number[],
  x: ArrayLike<number>,
): Float64Array {
  return logSoftmax(mlpForward(params, base, actorSizes, x)[actorSizes.length - 1]);
}

/** Logits of learner block `base`'s actor for one observation (tests). */
export function actorLogitsReference(
  params: ArrayLike<number>,
  base: number,
  actorSizes: readonly number[],
  x: ArrayLike<number>,
): Float64Array {
  return mlpForward(params, base, actorSizes, x)[actorSizes.length - 1];
}
