/**
 * CPU reference (float64) of one IDQN-family learning step, written from docs/algorithms/idqn.md §2 and composed
 * from the engine's per-op CPU references (which follow PyTorch, not the WGSL): the Q-network
 * forward and backward, the (double) DQN target, the weighted Huber/MSE loss on the chosen action,
 * per-agent global-norm clipping and Adam, and the target update. Also the ε-greedy decision.
 *
 * @module
 */
import { type AdamRefState, adamStepReference } from "../../engine/nn/adam_reference.ts";
import {
  conv2dBackwardReference,
  conv2dForwardReference,
} from "../../engine/nn/conv2d_reference.ts";
import {
  duelingBackwardReference,
  duelingForwardReference,
} from "../../engine/nn/dueling_reference.ts";
import {
  flattenBackwardReference,
  flattenForwardReference,
} from "../../engine/nn/flatten_reference.ts";
import type { Activation } from "../../engine/nn/linear.ts";
import {
  linearBackwardReference,
  linearForwardReference,
} from "../../engine/nn/linear_reference.ts";
import {
  argmaxLowest,
  qLossReference,
  tdTargetReference,
} from "../../engine/ops/losses_reference.ts";
import { rngBelow, rngU32, rngUnit } from "../../engine/rng.ts";
import type { IdqnConfig } from "./config.ts";
import { qNetworkParamCount, type QNetworkSpec } from "./network.ts";

/** Sizes of one reference network call. */
export interface QRefArgs {
  spec: QNetworkSpec;
  /** Parameter sets (learners). */
  numLearners: number;
  batch: number;
  /** [numLearners, stride]. */
  params: ArrayLike<number>;
  /** [numLearners, batch, obsDim]. */
  x: ArrayLike<number>;
}

type Layer =
  | { kind: "conv"; h: number; w: number; cin: number; cout: number; offset: number }
  | { kind: "flatten"; h: number; w: number; c: number }
  | { kind: "dense"; inDim: number; outDim: number; act: Activation; offset: number };

/** The torso as a layer list (PyTorch order), and the head's dense layers, with offsets. */
function layers(spec: QNetworkSpec): { torso: Layer[]; head: Layer[] } {
  const torso: Layer[] = [], head: Layer[] = [];
  let off = 0;
  const dense = (list: Layer[], inDim: number, outDim: number, act: Activation) => {
    list.push({ kind: "dense", inDim, outDim, act, offset: off });
    off += inDim * outDim + outDim;
    return outDim;
  };
  let f: number;
  if (spec.conv.length > 0) {
    let [h, w, c] = spec.obsShape;
    for (const cout of spec.conv) {
      torso.push({ kind: "conv", h, w, cin: c, cout, offset: off });
      off += cout * c * spec.kernel ** 2 + cout;
      h -= spec.kernel - 1;
      w -= spec.kernel - 1;
      c = cout;
    }
    torso.push({ kind: "flatten", h, w, c });
    f = h * w * c;
  } else {
    f = spec.obsShape.reduce((a, b) => a * b, 1);
  }
  for (const d of spec.dense) f = dense(torso, f, d, "relu");
  if (spec.embed > 0) f = dense(torso, f, spec.embed, "identity");
  const z = f;
  if (spec.dueling) {
    dense(head, dense(head, z, spec.headHidden, "relu"), spec.numActions, "identity");
    dense(head, dense(head, z, spec.headHidden, "relu"), 1, "identity");
  } else {
    const h = spec.headHidden > 0 ? dense(head, z, spec.headHidden, "relu") : z;
    dense(head, h, spec.numActions, "identity");
  }
  if (off !== qNetworkParamCount(spec)) {
    throw new RangeError(
      `Cannot build the Q reference: ${off} parameters, the network has ${
        qNetworkParamCount(spec)
      }`,
    );
  }
  return { torso, head };
}

function layerForward(l: Layer, r: QRefArgs, x: ArrayLike<number>, stride: number) {
  const base = { numAgents: r.numLearners, batch: r.batch };
  if (l.kind === "conv") {
    return conv2dForwardReference({
      ...base,
      h: l.h,
      w: l.w,
      cin: l.cin,
      cout: l.cout,
      k: r.spec.kernel,
      stride,
      offset: l.offset,
      activation: "relu",
      x,
      weights: r.params,
    });
  }
  if (l.kind === "flatten") {
    return flattenForwardReference({ ...base, height: l.h, width: l.w, channels: l.c, x });
  }
  return linearForwardReference({
    ...base,
    inDim: l.inDim,
    outDim: l.outDim,
    stride,
    offset: l.offset,
    activation: l.act,
    x,
    w: r.params,
  });
}

function layerBackward(
  l: Layer,
  r: QRefArgs,
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  stride: number,
): { dx: Float64Array; dw: Float64Array | null } {
  const base = { numAgents: r.numLearners, batch: r.batch };
  if (l.kind === "conv") {
    return conv2dBackwardReference({
      ...base,
      h: l.h,
      w: l.w,
      cin: l.cin,
      cout: l.cout,
      k: r.spec.kernel,
      stride,
      offset: l.offset,
      activation: "relu",
      x,
      weights: r.params,
      dy,
    });
  }
  if (l.kind === "flatten") {
    const dx = flattenBackwardReference({ ...base, height: l.h, width: l.w, channels: l.c, dy });
    return { dx, dw: null };
  }
  return linearBackwardReference({
    ...base,
    inDim: l.inDim,
    outDim: l.outDim,
    stride,
    offset: l.offset,
    activation: l.act,
    x,
    w: r.params,
    dy,
  });
}

/** Q-values [numLearners, batch, numActions] of the reference network. */
export function qNetworkForwardReference(r: QRefArgs): Float64Array {
  return forwardAll(r).q;
}

function forwardAll(r: QRefArgs) {
  const stride = qNetworkParamCount(r.spec);
  const { torso, head } = layers(r.spec);
  const inputs: ArrayLike<number>[] = [];
  let x: ArrayLike<number> = r.x;
  for (const l of torso) {
    inputs.push(x);
    x = layerForward(l, r, x, stride);
  }
  const z = x;
  if (!r.spec.dueling) {
    const headIn: ArrayLike<number>[] = [];
    for (const l of head) {
      headIn.push(x);
      x = layerForward(l, r, x, stride);
    }
    return { q: Float64Array.from(x), inputs, z, headIn, stride, torso, head };
  }
  const [ah, ao, vh, vo] = head;
  const a1 = layerForward(ah, r, z, stride), adv = layerForward(ao, r, a1, stride);
  const v1 = layerForward(vh, r, z, stride), v = layerForward(vo, r, v1, stride);
  const q = duelingForwardReference({
    numAgents: r.numLearners,
    batch: r.batch,
    numActions: r.spec.numActions,
    v,
    adv,
  });
  return { q, inputs, z, headIn: [z, a1, z, v1], stride, torso, head };
}

/** Gradient of Σ dQ ⊙ Q w.r.t. the parameters [numLearners, stride]. */
export function qNetworkBackwardReference(r: QRefArgs & { dQ: ArrayLike<number> }): Float64Array {
  const f = forwardAll(r);
  const grads = new Float64Array(r.numLearners * f.stride);
  const add = (dw: Float64Array | null) => dw?.forEach((g, i) => (grads[i] += g));
  let dz: Float64Array;
  if (!r.spec.dueling) {
    let dy: ArrayLike<number> = r.dQ;
    for (let k = f.head.length - 1; k >= 0; k--) {
      const g = layerBackward(f.head[k], r, f.headIn[k], dy, f.stride);
      add(g.dw);
      dy = g.dx;
    }
    dz = Float64Array.from(dy);
  } else {
    const [ah, ao, vh, vo] = f.head;
    const d = duelingBackwardReference({
      numAgents: r.numLearners,
      batch: r.batch,
      numActions: r.spec.numActions,
      dq: r.dQ,
    });
    const gao = layerBackward(ao, r, f.headIn[1], d.dAdv, f.stride);
    const gah = layerBackward(ah, r, f.headIn[0], gao.dx, f.stride);
    const gvo = layerBackward(vo, r, f.headIn[3], d.dv, f.stride);
    const gvh = layerBackward(vh, r, f.headIn[2], gvo.dx, f.stride);
    for (const g of [gao, gah, gvo, gvh]) add(g.dw);
    dz = gah.dx.map((v, i) => v + gvh.dx[i]);
  }
  let dy: ArrayLike<number> = dz;
  for (let k = f.torso.length - 1; k >= 0; k--) {
    const g = layerBackward(f.torso[k], r, f.inputs[k], dy, f.stride);
    add(g.dw);
    dy = g.dx;
  }
  return grads;
}

/** One minibatch, host copies of the {@linkcode BatchTensors} ([numLearners, batch, …]). */
export interface IdqnRefBatch {
  obs: ArrayLike<number>;
  nextObs: ArrayLike<number>;
  action: ArrayLike<number>;
  reward: ArrayLike<number>;
  done: ArrayLike<number>;
  /** Per-sample loss weights; ones when absent. */
  weight?: ArrayLike<number>;
}

/** Result of {@linkcode idqnLearnReference}. */
export interface IdqnRefStep {
  /** Per-learner loss before the step [numLearners]. */
  loss: Float64Array;
  /** |δ| [numLearners, batch]. */
  absTd: Float64Array;
  /** Unclipped gradients [numLearners, stride]. */
  grads: Float64Array;
  /** Target parameters after the step (Polyak when τ < 1, else unchanged). */
  target: Float64Array;
}

/**
 * One learning step: Q(s) with θ, y = r + γ(1 − d)·Q_θ⁻(s', a*) (a* from θ for double DQN, from
 * θ⁻ otherwise; d = 0 when bootstrapping through terminals), L_l = (1/B) Σ_b w ℓ(Q(s, a) − y),
 * gradients, then Adam with clipping in place on `adam` and the Polyak target update.
 *
 * @param o Architecture, config, sizes, the Adam state (holds θ, updated in place), θ⁻ and the batch.
 * @returns Loss, |δ|, gradients and the new target parameters.
 */
export function idqnLearnReference(o: {
  spec: QNetworkSpec;
  config: Readonly<IdqnConfig>;
  numLearners: number;
  batch: number;
  adam: AdamRefState;
  target: ArrayLike<number>;
  data: IdqnRefBatch;
}): IdqnRefStep {
  const { spec, config: c, numLearners: L, batch: B, adam, data } = o;
  const params = Float64Array.from(adam.params);
  const net = (p: ArrayLike<number>, x: ArrayLike<number>) =>
    qNetworkForwardReference({ spec, numLearners: L, batch: B, params: p, x });
  const q = net(params, data.obs);
  const qNext = net(o.target, data.nextObs);
  const qNextOnline = c.double ? net(params, data.nextObs) : undefined;
  const done = c.bootstrapOnTerminal ? new Float64Array(L * B) : data.done;
  const y = tdTargetReference({
    numAgents: L,
    batch: B,
    numActions: spec.numActions,
    gamma: c.gamma,
    qNext,
    qNextOnline,
    reward: data.reward,
    done,
  });
  const l = qLossReference({
    kind: c.loss === "mse" ? "mse" : "huber",
    numAgents: L,
    batch: B,
    numActions: spec.numActions,
    q,
    action: data.action,
    target: y,
    weights: data.weight,
    scale: 1,
  });
  const grads = qNetworkBackwardReference({
    spec,
    numLearners: L,
    batch: B,
    params,
    x: data.obs,
    dQ: l.dQ,
  });
  adamStepReference(adam, {
    grads,
    hyper: { lr: c.lr, beta1: 0.9, beta2: 0.999, eps: c.adamEps, maxNorm: c.maxGradNorm },
  });
  const target = Float64Array.from(o.target);
  if (c.tau < 1) {
    for (let i = 0; i < target.length; i++) {
      target[i] = c.tau * adam.params[i] + (1 - c.tau) * target[i];
    }
  }
  return { loss: l.loss, absTd: l.absDelta, grads, target };
}

/**
 * The ε-greedy action of row (agent a, env e) at iteration `step` with exploration rate `eps`:
 * explore when rngUnit(rngU32(seed, purpose, e, a, step, 0)) < ε (then a uniform action from
 * draw 1), else the first maximal Q.
 */
export function epsilonGreedyReference(o: {
  q: ArrayLike<number>;
  row: number;
  numActions: number;
  agent: number;
  env: number;
  step: number;
  eps: number;
  seed: number;
  purpose: number;
}): number {
  const h0 = rngU32(o.seed, o.purpose, o.env, o.agent, o.step, 0);
  if (rngUnit(h0) < o.eps) {
    return rngBelow(rngU32(o.seed, o.purpose, o.env, o.agent, o.step, 1), o.numActions);
  }
  return argmaxLowest(o.q, o.row * o.numActions, o.numActions);
}
