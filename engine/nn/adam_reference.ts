/**
 * CPU reference of Adam with per-agent global-norm clipping (float64), written from the maths
 * (PyTorch `clip_grad_norm_` followed by `torch.optim.Adam`), not from the WGSL.
 *
 * @module
 */

/** Hyper-parameters of one reference step. */
export interface AdamRefHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Clip threshold c; 0 disables clipping. */
  maxNorm: number;
}

/** Optimiser state of `numAgents` agents with `stride` parameters each (float64). */
export interface AdamRefState {
  numAgents: number;
  stride: number;
  params: Float64Array;
  m: Float64Array;
  v: Float64Array;
  /** Steps taken per agent. */
  count: number[];
}

/** A fresh state holding a float64 copy of `params` [numAgents, stride]. */
export function adamReferenceState(
  params: ArrayLike<number>,
  sizes: { numAgents: number; stride: number },
): AdamRefState {
  const { numAgents, stride } = sizes;
  const n = numAgents * stride;
  if (params.length !== n) {
    throw new TypeError(`Cannot build Adam reference state: ${params.length} params, needs ${n}`);
  }
  return {
    numAgents,
    stride,
    params: Float64Array.from(params),
    m: new Float64Array(n),
    v: new Float64Array(n),
    count: new Array(numAgents).fill(0),
  };
}

/** ‖g_a‖₂ of each agent's block of `grads` [numAgents, stride]. */
export function globalNormReference(
  grads: ArrayLike<number>,
  sizes: { numAgents: number; stride: number },
): Float64Array {
  const { numAgents, stride } = sizes;
  const out = new Float64Array(numAgents);
  for (let a = 0; a < numAgents; a++) {
    let s = 0;
    for (let i = 0; i < stride; i++) s += grads[a * stride + i] ** 2;
    out[a] = Math.sqrt(s);
  }
  return out;
}

/**
 * One step in place: per agent, g ← g·min(1, c / (‖g‖ + 1e-6)) when c > 0, then Adam with bias
 * correction; agents with `mask[a] == 0` are left untouched.
 *
 * @param state Updated in place.
 * @param options Gradients, hyper-parameters, optional mask and per-agent lr multipliers.
 * @returns The per-agent gradient norms before clipping.
 */
export function adamStepReference(
  state: AdamRefState,
  options: {
    grads: ArrayLike<number>;
    hyper: AdamRefHyper;
    mask?: ArrayLike<number>;
    lrScale?: ArrayLike<number>;
  },
): Float64Array {
  const { numAgents, stride } = state;
  const { grads, hyper } = options;
  const norms = globalNormReference(grads, state);
  for (let a = 0; a < numAgents; a++) {
    if (options.mask && options.mask[a] === 0) continue;
    const clip = hyper.maxNorm > 0 ? Math.min(1, hyper.maxNorm / (norms[a] + 1e-6)) : 1;
    const t = ++state.count[a];
    const lr = hyper.lr * (options.lrScale ? options.lrScale[a] : 1);
    const bc1 = 1 - hyper.beta1 ** t, bc2 = 1 - hyper.beta2 ** t;
    for (let i = a * stride; i < (a + 1) * stride; i++) {
      const g = grads[i] * clip;
      state.m[i] = hyper.beta1 * state.m[i] + (1 - hyper.beta1) * g;
      state.v[i] = hyper.beta2 * state.v[i] + (1 - hyper.beta2) * g * g;
      const mHat = state.m[i] / bc1, vHat = state.v[i] / bc2;
      state.params[i] -= lr * mHat / (Math.sqrt(vHat) + hyper.eps);
    }
  }
  return norms;
}
