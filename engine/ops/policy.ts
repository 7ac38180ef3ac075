/**
 * Categorical-distribution ops on logits `[numAgents, batch, numActions]`, batched over agents,
 * with explicit backward: softmax, log-softmax, log π(a) of given actions and entropy. Rows are
 * max-subtracted in f32. Scalar outputs are also reduced to a per-agent mean `[numAgents]`
 * (deterministic, see engine/ops/agent_mean.ts). The classification losses on the same shader are
 * in engine/ops/cross_entropy.ts.
 *
 * ```ts ignore
 * const logp = await createLogProb(engine, { logits: actor.y, actions, gradient: "upstream", … });
 * const ent = await createEntropy(engine, { logits: actor.y, scale: -0.01, dLogits: actor.dy,
 *   accumulate: true, … });
 * // write −A/B into logp.dOut, then: logp.backward(enc) (= actor.dy), ent.backward(enc) (+=)
 * ```
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { type Access, compileKernel, defineKernel, type KernelDef } from "../kernel.ts";
import { assertShape, type Tensor } from "../tensor.ts";
import { assertSizes, createAgentMean } from "./agent_mean.ts";

const PARAMS = {
  numAgents: "u32",
  batch: "u32",
  numActions: "u32",
  upstream: "u32",
  coef: "f32",
  accumulate: "u32",
} as const;
type Params = typeof PARAMS;
/** A kernel of `policy.wgsl`. */
export type PolicyKernel = KernelDef<Record<string, Access>, Params>;

/** Declares entry point `entryPoint` of policy.wgsl, one thread per row or per element. */
export function policyKernel<const B extends Record<string, Access>>(
  entryPoint: string,
  bindings: B,
  perElement = false,
): KernelDef<B, Params> {
  return defineKernel({
    name: `policy.${entryPoint}`,
    shader: "engine/ops/policy.wgsl",
    entryPoint,
    includes: ["common/_index.wgsl", "common/_rng.wgsl", "common/_categorical.wgsl"],
    bindings,
    params: PARAMS,
    threads: (p) => p.numAgents * p.batch * (perElement ? p.numActions : 1),
  });
}

/** probs = softmax(logits), one thread per row. */
export const softmaxForward = policyKernel("softmaxForward", { logits: "read", probs: "write" });
/** dLogits = p ⊙ (dProbs − Σ p·dProbs), one thread per row. */
export const softmaxBackward = policyKernel(
  "softmaxBackward",
  { logits: "read", dProbs: "read", dLogits: "write" },
);
/** logProbs = log_softmax(logits), one thread per row. */
export const logSoftmaxForward = policyKernel(
  "logSoftmaxForward",
  { logits: "read", logProbs: "write" },
);
/** dLogits = dLogProbs − p Σ dLogProbs, one thread per row. */
export const logSoftmaxBackward = policyKernel(
  "logSoftmaxBackward",
  { logits: "read", dLogProbs: "read", dLogits: "write" },
);
/** out = log π(action), one thread per row. */
export const logProbForward = policyKernel(
  "logProbForward",
  { logits: "read", actions: "read", out: "write" },
);
/** dLogits = g (onehot(action) − p), one thread per row. */
export const logProbBackward = policyKernel(
  "logProbBackward",
  { logits: "read", actions: "read", dOut: "read", dLogits: "write" },
);
/** out = −Σ p log p, one thread per row. */
export const entropyForward = policyKernel("entropyForward", { logits: "read", out: "write" });
/** dLogits = −g p (log p + H), one thread per row. */
export const entropyBackward = policyKernel(
  "entropyBackward",
  { logits: "read", dOut: "read", dLogits: "write" },
);

/** Options shared by every op on logits. */
export interface LogitOpOptions {
  /** [numAgents, batch, numActions] f32. */
  logits: Tensor;
  numAgents: number;
  batch: number;
  /** Classes per row (actions, or K for BCE). */
  numActions: number;
  /**
   * Multiplies the gradient, and the per-agent `mean` of scalar ops (the value whose gradient
   * "mean" mode writes). Default 1.
   */
  scale?: number;
  /** Where backward writes d/dlogits (e.g. the policy head's `dy`); allocated when omitted. */
  dLogits?: Tensor<"f32">;
  /** Add into `dLogits` instead of overwriting it. */
  accumulate?: boolean;
  label: string;
}

/** Options of the ops with a scalar output per row (or per element for BCE). */
export interface LogitLossOptions extends LogitOpOptions {
  /**
   * "mean" (default): backward writes the gradient of `mean` = scale·mean(out) per agent.
   * "upstream": backward writes scale·Σ dOut·∂out/∂logits, with `dOut` filled by the caller.
   */
  gradient?: "mean" | "upstream";
}

/** A bound op on logits: forward writes `out`, backward reads `dOut` and writes `dLogits`. */
export interface LogitOp {
  readonly out: Tensor<"f32">;
  /** Upstream gradient w.r.t. `out` (same shape), read by backward. */
  readonly dOut: Tensor<"f32">;
  /** Gradient w.r.t. the logits [numAgents, batch, numActions]. */
  readonly dLogits: Tensor<"f32">;
  forward(enc: Encoder): void;
  backward(enc: Encoder): void;
}

/** A bound op with a scalar output per row (per element for BCE) and its per-agent mean. */
export interface LogitLoss extends LogitOp {
  /** scale·mean(out) per agent [numAgents], written by forward. */
  readonly mean: Tensor<"f32">;
}

/** How one op binds policy.wgsl (used by this module and engine/ops/cross_entropy.ts). */
export interface LogitOpSpec {
  forward: PolicyKernel;
  backward: PolicyKernel;
  /** Binding names of the output and of its gradient. */
  outName: string;
  dOutName: string;
  /** Extra read-only inputs (actions, labels, targets) and their required shapes/dtypes. */
  inputs?: Record<string, { tensor: Tensor; dtype: "f32" | "u32"; perElement: boolean }>;
  /** Output has one value per element (BCE) instead of per row. */
  perElement: boolean;
  /** Output is a scalar per row/element that gets a per-agent mean. */
  reduce: boolean;
  /** "mean" or "upstream" (ops with vector outputs are always "upstream"). */
  gradient: "mean" | "upstream";
}

/**
 * Builds an op on logits from its {@linkcode LogitOpSpec}: checks shapes, allocates `out`,
 * `dOut`, `dLogits` (unless given) and `mean`, binds both kernels once.
 *
 * @param engine Engine that owns the device.
 * @param o Inputs, sizes, scale and label; buffers are labelled `<label>.*`.
 * @param spec Kernels and shapes of the op.
 * @returns The bound op (`mean` is set when `spec.reduce`).
 */
export async function buildLogitOp(
  engine: Engine,
  o: LogitOpOptions,
  spec: LogitOpSpec,
): Promise<LogitOp & { mean?: Tensor<"f32"> }> {
  const { numAgents, batch, numActions, label } = o;
  assertSizes(label, { numAgents, batch, numActions });
  const full = [numAgents, batch, numActions], rowShape = [numAgents, batch];
  assertShape(o.logits, full, { op: label, name: "logits", dtype: "f32" });
  if (o.dLogits) assertShape(o.dLogits, full, { op: label, name: "dLogits", dtype: "f32" });
  for (const [name, x] of Object.entries(spec.inputs ?? {})) {
    assertShape(x.tensor, x.perElement ? full : rowShape, {
      op: label,
      name,
      dtype: x.dtype ?? "f32",
    });
  }
  const outShape = spec.perElement || !spec.reduce ? full : rowShape;
  const out = engine.tensor({ dtype: "f32", shape: outShape, label: `${label}.${spec.outName}` });
  const dOut = engine.tensor({ dtype: "f32", shape: outShape, label: `${label}.${spec.dOutName}` });
  const dLogits = o.dLogits ??
    engine.tensor({ dtype: "f32", shape: full, label: `${label}.dLogits` });
  const scale = o.scale ?? 1;
  const count = spec.perElement ? batch * numActions : batch;
  const upstream = spec.gradient === "upstream";
  const p = {
    numAgents,
    batch,
    numActions,
    upstream: upstream ? 1 : 0,
    coef: upstream ? scale : scale / count,
    accumulate: o.accumulate ? 1 : 0,
  };
  const inputs: Record<string, Tensor> = { logits: o.logits };
  for (const [name, x] of Object.entries(spec.inputs ?? {})) inputs[name] = x.tensor;
  const [kf, kb] = await Promise.all([
    compileKernel(engine, spec.forward),
    compileKernel(engine, spec.backward),
  ]);
  const fwd = kf.bind({ ...inputs, [spec.outName]: out }, p, `${label}.forward`);
  const bwd = kb.bind(
    { ...inputs, [spec.dOutName]: dOut, dLogits },
    p,
    `${label}.backward`,
  );
  const mean = spec.reduce
    ? await createAgentMean(engine, {
      values: out,
      numAgents,
      count,
      scale,
      label: `${label}.mean`,
    })
    : null;
  return {
    out,
    dOut,
    dLogits,
    mean: mean?.out,
    forward(enc) {
      fwd.encode(enc);
      mean?.forward(enc);
    },
    backward: (enc) => bwd.encode(enc),
  };
}

/**
 * Builds softmax: `out` = probabilities; backward maps `dOut` (dL/dprobs) to scale·dL/dlogits.
 *
 * @param engine Engine that owns the device.
 * @param options Logits, sizes, scale and label.
 * @returns A {@linkcode LogitOp}.
 */
export function createSoftmax(engine: Engine, options: LogitOpOptions): Promise<LogitOp> {
  return buildLogitOp(engine, options, {
    forward: softmaxForward,
    backward: softmaxBackward,
    outName: "probs",
    dOutName: "dProbs",
    perElement: false,
    reduce: false,
    gradient: "upstream",
  });
}

/**
 * Builds log-softmax: `out` = log-probabilities; backward maps `dOut` to scale·dL/dlogits.
 *
 * @param engine Engine that owns the device.
 * @param options Logits, sizes, scale and label.
 * @returns A {@linkcode LogitOp}.
 */
export function createLogSoftmax(engine: Engine, options: LogitOpOptions): Promise<LogitOp> {
  return buildLogitOp(engine, options, {
    forward: logSoftmaxForward,
    backward: logSoftmaxBackward,
    outName: "logProbs",
    dOutName: "dLogProbs",
    perElement: false,
    reduce: false,
    gradient: "upstream",
  });
}

/**
 * Builds the categorical log-probability of given actions: `out [numAgents, batch]` = log π(a),
 * `mean` = scale·mean log π(a) per agent.
 *
 * @param engine Engine that owns the device.
 * @param options Logits, `actions [numAgents, batch]` u32, sizes, gradient mode and label.
 * @returns A {@linkcode LogitLoss}.
 */
export async function createLogProb(
  engine: Engine,
  options: LogitLossOptions & { actions: Tensor },
): Promise<LogitLoss> {
  const op = await buildLogitOp(engine, options, {
    forward: logProbForward,
    backward: logProbBackward,
    outName: "out",
    dOutName: "dOut",
    inputs: { actions: { tensor: options.actions, dtype: "u32", perElement: false } },
    perElement: false,
    reduce: true,
    gradient: options.gradient ?? "mean",
  });
  return { ...op, mean: op.mean! };
}

/**
 * Builds the entropy −Σ p log p per row: `out [numAgents, batch]`, `mean` = scale·mean H per
 * agent (e.g. scale −0.01 for an entropy bonus in a loss).
 *
 * @param engine Engine that owns the device.
 * @param options Logits, sizes, gradient mode and label.
 * @returns A {@linkcode LogitLoss}.
 */
export async function createEntropy(
  engine: Engine,
  options: LogitLossOptions,
): Promise<LogitLoss> {
  const op = await buildLogitOp(engine, options, {
    forward: entropyForward,
    backward: entropyBackward,
    outName: "out",
    dOutName: "dOut",
    perElement: false,
    reduce: true,
    gradient: options.gradient ?? "mean",
  });
  return { ...op, mean: op.mean! };
}
