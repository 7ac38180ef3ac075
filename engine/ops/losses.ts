/**
 * Regression losses for value learning, batched over an agent axis, with explicit backward:
 * DQN / double-DQN TD targets, the chosen-action Q loss (squared error or Huber(1), optional
 * per-sample weights, |δ| per sample for priorities) and a plain value MSE. Per-agent losses are
 * reduced to `[numAgents]` by `createAgentMean` (engine/ops/agent_mean.ts), a fixed-order
 * workgroup tree (no float atomics, so results are deterministic).
 *
 * ```ts ignore
 * const td = await createTdTarget(engine, { qNext: target.y, reward, done, gamma: 0.99, … });
 * const huber = await createQLoss(engine, { kind: "huber", q: q.y, action, target: td.y, … });
 * td.forward(enc); huber.forward(enc); huber.backward(enc); // huber.dQ → q head's dy
 * ```
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel } from "../kernel.ts";
import { assertShape, type Tensor } from "../tensor.ts";
import { assertSizes, createAgentMean } from "./agent_mean.ts";
import type { RegressionKind } from "./losses_reference.ts";

export type { RegressionKind } from "./losses_reference.ts";

const SHADER = "engine/ops/losses.wgsl";
const INCLUDES = ["common/_index.wgsl"] as const;
const PARAMS = {
  numAgents: "u32",
  batch: "u32",
  numActions: "u32",
  gamma: "f32",
  weighted: "u32",
  coef: "f32",
  accumulate: "u32",
} as const;
/** Value of the `LOSS` override for each regression loss. */
export const LOSS_CODE: Readonly<Record<RegressionKind, number>> = { mse: 0, huber: 1 };

const rows = (p: { numAgents: number; batch: number }) => p.numAgents * p.batch;

/** y = r + γ(1 − done)·max_j qNext[a, b, j], one thread per sample. */
export const tdTarget = defineKernel({
  name: "losses.tdTarget",
  shader: SHADER,
  entryPoint: "tdTarget",
  includes: INCLUDES,
  bindings: { qNext: "read", reward: "read", done: "read", y: "write" },
  params: PARAMS,
  threads: rows,
});

/** y = r + γ(1 − done)·qNext[a, b, argmax_j qNextOnline] (ties → lowest j), one thread per sample. */
export const tdTargetDouble = defineKernel({
  name: "losses.tdTargetDouble",
  shader: SHADER,
  entryPoint: "tdTargetDouble",
  includes: INCLUDES,
  bindings: { qNext: "read", qNextOnline: "read", reward: "read", done: "read", y: "write" },
  params: PARAMS,
  threads: rows,
});

/** δ = q[a, b, action] − target; writes |δ| and w·ℓ(δ) per sample. */
export const qLossForward = defineKernel({
  name: "losses.qLossForward",
  shader: SHADER,
  entryPoint: "qLossForward",
  includes: INCLUDES,
  bindings: {
    q: "read",
    action: "read",
    targets: "read",
    weights: "read",
    absDelta: "write",
    terms: "write",
  },
  params: PARAMS,
  threads: rows,
});

/** dQ[a, b, :] = coef·w·ℓ'(δ) at the chosen action, zero elsewhere (= or +=). */
export const qLossBackward = defineKernel({
  name: "losses.qLossBackward",
  shader: SHADER,
  entryPoint: "qLossBackward",
  includes: INCLUDES,
  bindings: { q: "read", action: "read", targets: "read", weights: "read", dQ: "write" },
  params: PARAMS,
  threads: rows,
});

/** w·(value − target)² per sample. */
export const valueLossForward = defineKernel({
  name: "losses.valueForward",
  shader: SHADER,
  entryPoint: "valueForward",
  includes: INCLUDES,
  bindings: { value: "read", targets: "read", weights: "read", terms: "write" },
  params: PARAMS,
  threads: rows,
});

/** dValue = coef·w·2(value − target) (= or +=). */
export const valueLossBackward = defineKernel({
  name: "losses.valueBackward",
  shader: SHADER,
  entryPoint: "valueBackward",
  includes: INCLUDES,
  bindings: { value: "read", targets: "read", weights: "read", dValue: "write" },
  params: PARAMS,
  threads: rows,
});

/** Options of {@linkcode createTdTarget}. */
export interface TdTargetOptions {
  /** Target-network Q at s' [numAgents, batch, numActions]. */
  qNext: Tensor;
  /** Online-network Q at s' for double DQN (argmax source); omit for the max target. */
  qNextOnline?: Tensor;
  /** [numAgents, batch] f32. */
  reward: Tensor;
  /** [numAgents, batch] f32, 1 = terminal (no bootstrap), 0 = not. */
  done: Tensor;
  numAgents: number;
  batch: number;
  numActions: number;
  /** Discount (γⁿ for n-step targets). */
  gamma: number;
  label: string;
}

/** A bound TD-target op: owns `y [numAgents, batch]`. */
export interface TdTarget {
  readonly y: Tensor<"f32">;
  forward(enc: Encoder): void;
}

/**
 * Builds the DQN (or, with `qNextOnline`, double-DQN) TD target.
 *
 * @param engine Engine that owns the device.
 * @param o Inputs, sizes, γ and label; the output is labelled `<label>.y`.
 * @returns A {@linkcode TdTarget} whose `forward(enc)` writes `y`.
 */
export async function createTdTarget(engine: Engine, o: TdTargetOptions): Promise<TdTarget> {
  const { numAgents, batch, numActions, label } = o;
  assertSizes(label, { numAgents, batch, numActions });
  const qShape = [numAgents, batch, numActions], shape = [numAgents, batch];
  assertShape(o.qNext, qShape, { op: label, name: "qNext", dtype: "f32" });
  if (o.qNextOnline) {
    assertShape(o.qNextOnline, qShape, { op: label, name: "qNextOnline", dtype: "f32" });
  }
  assertShape(o.reward, shape, { op: label, name: "reward", dtype: "f32" });
  assertShape(o.done, shape, { op: label, name: "done", dtype: "f32" });
  const y = engine.tensor({ dtype: "f32", shape, label: `${label}.y` });
  const p = { numAgents, batch, numActions, gamma: o.gamma, weighted: 0, coef: 0, accumulate: 0 };
  const common = { qNext: o.qNext, reward: o.reward, done: o.done, y };
  const d = o.qNextOnline
    ? (await compileKernel(engine, tdTargetDouble)).bind(
      { ...common, qNextOnline: o.qNextOnline },
      p,
      `${label}.forward`,
    )
    : (await compileKernel(engine, tdTarget)).bind(common, p, `${label}.forward`);
  return { y, forward: (enc) => d.encode(enc) };
}

/** Options of {@linkcode createQLoss}. */
export interface QLossOptions {
  kind: RegressionKind;
  /** Q(s, ·) [numAgents, batch, numActions]. */
  q: Tensor;
  /** Chosen actions [numAgents, batch] u32. */
  action: Tensor;
  /** TD targets [numAgents, batch] (treated as constants). */
  target: Tensor;
  /** Per-sample weights [numAgents, batch] (PER IS weights, LBS weights); ones when omitted. */
  weights?: Tensor;
  numAgents: number;
  batch: number;
  numActions: number;
  /** Multiplies the loss and its gradient. Default 1. */
  scale?: number;
  /** Where backward writes dL/dq (e.g. the Q head's `dy`); allocated when omitted. */
  dQ?: Tensor<"f32">;
  /** Add into `dQ` instead of overwriting it. */
  accumulate?: boolean;
  label: string;
}

/** A bound chosen-action Q loss. */
export interface QLoss {
  /** L[a] = scale·(1/B) Σ_b w ℓ(δ) [numAgents]. */
  readonly loss: Tensor<"f32">;
  /** |δ| per sample [numAgents, batch] (priorities, LBS, SUPER). */
  readonly absDelta: Tensor<"f32">;
  /** dL/dq [numAgents, batch, numActions], zero except at the chosen action. */
  readonly dQ: Tensor<"f32">;
  /** Writes `absDelta` and `loss`. */
  forward(enc: Encoder): void;
  /** Writes `dQ` (independent of `forward`). */
  backward(enc: Encoder): void;
}

/**
 * Builds the chosen-action Q loss L = scale·(1/B) Σ w ℓ(q[action] − target).
 *
 * @param engine Engine that owns the device.
 * @param o Loss kind, inputs, sizes and label; buffers are labelled `<label>.*`.
 * @returns A {@linkcode QLoss}.
 */
export async function createQLoss(engine: Engine, o: QLossOptions): Promise<QLoss> {
  const { numAgents, batch, numActions, label } = o;
  assertSizes(label, { numAgents, batch, numActions });
  const qShape = [numAgents, batch, numActions], shape = [numAgents, batch];
  assertShape(o.q, qShape, { op: label, name: "q", dtype: "f32" });
  assertShape(o.action, shape, { op: label, name: "action", dtype: "u32" });
  assertShape(o.target, shape, { op: label, name: "target", dtype: "f32" });
  if (o.weights) assertShape(o.weights, shape, { op: label, name: "weights", dtype: "f32" });
  if (o.dQ) assertShape(o.dQ, qShape, { op: label, name: "dQ", dtype: "f32" });
  const absDelta = engine.tensor({ dtype: "f32", shape, label: `${label}.absDelta` });
  const terms = engine.tensor({ dtype: "f32", shape, label: `${label}.terms` });
  const dQ = o.dQ ?? engine.tensor({ dtype: "f32", shape: qShape, label: `${label}.dQ` });
  const scale = o.scale ?? 1;
  const constants = { LOSS: LOSS_CODE[o.kind] };
  const [kf, kb] = await Promise.all([
    compileKernel(engine, qLossForward, constants),
    compileKernel(engine, qLossBackward, constants),
  ]);
  // Without weights the shader never reads `weights`; the targets fill the binding.
  const inputs = { q: o.q, action: o.action, targets: o.target, weights: o.weights ?? o.target };
  const p = {
    numAgents,
    batch,
    numActions,
    gamma: 0,
    weighted: o.weights ? 1 : 0,
    coef: scale / batch,
    accumulate: o.accumulate ? 1 : 0,
  };
  const fwd = kf.bind({ ...inputs, absDelta, terms }, p, `${label}.forward`);
  const bwd = kb.bind({ ...inputs, dQ }, p, `${label}.backward`);
  const mean = await createAgentMean(engine, {
    values: terms,
    numAgents,
    count: batch,
    scale,
    label: `${label}.loss`,
  });
  return {
    loss: mean.out,
    absDelta,
    dQ,
    forward(enc) {
      fwd.encode(enc);
      mean.forward(enc);
    },
    backward: (enc) => bwd.encode(enc),
  };
}

/** Options of {@linkcode createValueLoss}. */
export interface ValueLossOptions {
  /** V(s) [numAgents, batch]. */
  value: Tensor;
  /** Returns [numAgents, batch] (treated as constants). */
  target: Tensor;
  /** Per-sample weights [numAgents, batch] (e.g. SEAC ratios); ones when omitted. */
  weights?: Tensor;
  numAgents: number;
  batch: number;
  /** Coefficient on the loss and its gradient (0.5 for A2C's value loss). Default 1. */
  scale?: number;
  /** Where backward writes dL/dvalue (e.g. the critic head's `dy`); allocated when omitted. */
  dValue?: Tensor<"f32">;
  accumulate?: boolean;
  label: string;
}

/** A bound value MSE. */
export interface ValueLoss {
  /** L[a] = scale·(1/B) Σ_b w (value − target)² [numAgents]. */
  readonly loss: Tensor<"f32">;
  /** dL/dvalue [numAgents, batch]. */
  readonly dValue: Tensor<"f32">;
  forward(enc: Encoder): void;
  backward(enc: Encoder): void;
}

/**
 * Builds the value loss L = scale·(1/B) Σ w (value − target)².
 *
 * @param engine Engine that owns the device.
 * @param o Inputs, sizes, scale and label; buffers are labelled `<label>.*`.
 * @returns A {@linkcode ValueLoss}.
 */
export async function createValueLoss(engine: Engine, o: ValueLossOptions): Promise<ValueLoss> {
  const { numAgents, batch, label } = o;
  assertSizes(label, { numAgents, batch });
  const shape = [numAgents, batch];
  assertShape(o.value, shape, { op: label, name: "value", dtype: "f32" });
  assertShape(o.target, shape, { op: label, name: "target", dtype: "f32" });
  if (o.weights) assertShape(o.weights, shape, { op: label, name: "weights", dtype: "f32" });
  if (o.dValue) assertShape(o.dValue, shape, { op: label, name: "dValue", dtype: "f32" });
  const terms = engine.tensor({ dtype: "f32", shape, label: `${label}.terms` });
  const dValue = o.dValue ?? engine.tensor({ dtype: "f32", shape, label: `${label}.dValue` });
  const scale = o.scale ?? 1;
  const [kf, kb] = await Promise.all([
    compileKernel(engine, valueLossForward),
    compileKernel(engine, valueLossBackward),
  ]);
  const inputs = { value: o.value, targets: o.target, weights: o.weights ?? o.target };
  const p = {
    numAgents,
    batch,
    numActions: 1,
    gamma: 0,
    weighted: o.weights ? 1 : 0,
    coef: scale / batch,
    accumulate: o.accumulate ? 1 : 0,
  };
  const fwd = kf.bind({ ...inputs, terms }, p, `${label}.forward`);
  const bwd = kb.bind({ ...inputs, dValue }, p, `${label}.backward`);
  const mean = await createAgentMean(engine, {
    values: terms,
    numAgents,
    count: batch,
    scale,
    label: `${label}.loss`,
  });
  return {
    loss: mean.out,
    dValue,
    forward(enc) {
      fwd.encode(enc);
      mean.forward(enc);
    },
    backward: (enc) => bwd.encode(enc),
  };
}
