/**
 * Adam with bias correction and per-agent global-norm clipping, fused over each agent's flat
 * parameter block of a {@linkcode Net}. One update encodes at most three dispatches:
 * `normPartial` (per-chunk Σ g², only when the norm is needed), `prepare` (per agent: norm, clip
 * factor, step count, bias-corrected step size) and `step` (per parameter). No float atomics: the
 * norm is a fixed-order two-stage reduction, so results are deterministic. The `flat`
 * {@linkcode AdamVariant} (for CPU adapters) computes the partial sums per thread without
 * barriers and updates several parameters per step thread.
 *
 * Learning-rate schedules: a host schedule rewrites `lr` between submits with
 * {@linkcode Adam.setHyper} (a uniform write: every step in the next submit sees the last value).
 * A schedule computed on the GPU writes the optional `lrScale` buffer [numAgents] instead; the
 * effective rate of agent a is `lr · lrScale[a]` (set `lr: 1` to give absolute rates there).
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel } from "../kernel.ts";
import { assertShape, type Tensor } from "../tensor.ts";
import type { Net } from "./net.ts";

const SHADER = "engine/nn/adam.wgsl";
const INCLUDES = ["common/_index.wgsl"] as const;
const PARAMS = {
  numAgents: "u32",
  stride: "u32",
  numChunks: "u32",
  hasNorm: "u32",
  lr: "f32",
  beta1: "f32",
  beta2: "f32",
  eps: "f32",
  oneMinusBeta1: "f32",
  oneMinusBeta2: "f32",
  logBeta1: "f32",
  logBeta2: "f32",
  maxNorm: "f32",
} as const;

/** Threads per workgroup of the norm reduction (a power of two). */
export const ADAM_NORM_WORKGROUP = 128;
/** Gradients each norm thread sums before the workgroup tree. */
export const ADAM_NORM_ITEMS = 8;
/** Parameters per partial sum of squares: `ADAM_NORM_WORKGROUP · ADAM_NORM_ITEMS`. */
export const ADAM_NORM_CHUNK = ADAM_NORM_WORKGROUP * ADAM_NORM_ITEMS;
/** Parameters per partial sum of squares of the flat variant (FLAT_ITEMS in adam.wgsl). */
export const ADAM_FLAT_CHUNK = 64;
/** Parameters per thread of the flat variant's step (STEP_ITEMS in adam.wgsl). */
export const ADAM_FLAT_STEP_ITEMS = 8;
/** Floats per agent in the coefficient buffer written by `prepare`. */
const COEF_WIDTH = 4;

/** partial[a, c] = Σ g² over chunk c of agent a; one workgroup per (chunk, agent). */
export const adamNormPartial = defineKernel({
  name: "adam.normPartial",
  shader: SHADER,
  entryPoint: "normPartial",
  includes: INCLUDES,
  bindings: { grads: "read", partial: "write" },
  params: PARAMS,
  workgroups: (p) => [p.numChunks, p.numAgents, 1],
  workgroupSize: ADAM_NORM_WORKGROUP,
  constants: { ITEMS: ADAM_NORM_ITEMS },
});

/** Per agent: norm, clip factor, step count (+1 unless masked) and bias-corrected step size. */
export const adamPrepare = defineKernel({
  name: "adam.prepare",
  shader: SHADER,
  entryPoint: "prepare",
  includes: INCLUDES,
  bindings: {
    partialIn: "read",
    mask: "read",
    lrScale: "read",
    count: "write",
    norm: "write",
    coef: "write",
  },
  params: PARAMS,
  threads: (p) => p.numAgents,
});

/** One Adam update per parameter, with the agent's clip factor applied to its gradient. */
export const adamStep = defineKernel({
  name: "adam.step",
  shader: SHADER,
  entryPoint: "step",
  includes: INCLUDES,
  bindings: { grads: "read", coefIn: "read", theta: "write", m: "write", v: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.stride,
});

/** partial[a, c] = Σ g² over chunk c (ADAM_FLAT_CHUNK parameters) of agent a; no barriers. */
export const adamNormFlat = defineKernel({
  name: "adam.normFlat",
  shader: SHADER,
  entryPoint: "normFlat",
  includes: INCLUDES,
  bindings: { grads: "read", partial: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.numChunks,
});

/** The update of {@linkcode adamStep} for ADAM_FLAT_STEP_ITEMS parameters per thread. */
export const adamStepFlat = defineKernel({
  name: "adam.stepFlat",
  shader: SHADER,
  entryPoint: "stepFlat",
  includes: INCLUDES,
  bindings: { grads: "read", coefIn: "read", theta: "write", m: "write", v: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * Math.ceil(p.stride / ADAM_FLAT_STEP_ITEMS),
});

/**
 * Kernels of the norm and the step: `tree` (workgroup tree reduction, one thread per parameter;
 * for GPUs) or `flat` (per-thread sequential chunk sums and several parameters per thread, no
 * barriers; fastest on CPU adapters). Steps are identical; norms differ by f32 summation order.
 */
export type AdamVariant = "tree" | "flat";

/**
 * The Adam variant each adapter kind builds: `default` unless told otherwise, `fastest` for
 * `variant: "fastest"` (its norms may round differently from the default's).
 */
export const ADAM_VARIANTS = {
  cpu: { default: "tree", fastest: "flat" },
  gpu: { default: "tree", fastest: "tree" },
} as const satisfies Record<"cpu" | "gpu", Record<"default" | "fastest", AdamVariant>>;

/** Adam hyper-parameters; all may be changed between submits with {@linkcode Adam.setHyper}. */
export interface AdamHyper {
  /** Step size. */
  lr: number;
  /** First-moment decay in [0, 1). Default 0.9. */
  beta1: number;
  /** Second-moment decay in [0, 1). Default 0.999. */
  beta2: number;
  /** Denominator guard. Default 1e-8 (PyTorch); SEAC uses 1e-3. */
  eps: number;
  /** Per-agent global-norm clip threshold c; 0 means no clipping. Default 0. */
  maxNorm: number;
}

/** Defaults of {@linkcode AdamHyper} other than `lr`. */
export const ADAM_DEFAULTS: Readonly<Omit<AdamHyper, "lr">> = Object.freeze({
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  maxNorm: 0,
});

/** Options of {@linkcode createAdam}. */
export interface AdamOptions extends Partial<Omit<AdamHyper, "lr">> {
  /** Network whose `params` are updated in place from its `grads`. */
  net: Net;
  lr: number;
  /** Labels are `<label>.adam.*`. */
  label: string;
  /** Per-agent u32 [numAgents]: 0 skips that agent's step (moments, params and count unchanged). */
  mask?: Tensor<"u32">;
  /** Per-agent f32 [numAgents] multiplying `lr` (learning-rate schedules computed on the GPU). */
  lrScale?: Tensor<"f32">;
  /** Compute and write the gradient norm even when `maxNorm` is 0 (for metrics). Default false. */
  trackNorm?: boolean;
  /**
   * Kernel variant (see {@linkcode AdamVariant}), or "fastest" for the adapter's fastest one from
   * {@linkcode ADAM_VARIANTS}. Default: the adapter's `default` ("tree").
   */
  variant?: AdamVariant | "fastest";
}

/** A bound Adam optimiser for one {@linkcode Net} (moments and counters owned here). */
export interface Adam {
  /** First moments [numAgents, stride]. */
  readonly m: Tensor<"f32">;
  /** Second moments [numAgents, stride]. */
  readonly v: Tensor<"f32">;
  /** Per-agent step counts [numAgents] (u32), advanced by each unmasked step. */
  readonly count: Tensor<"u32">;
  /**
   * Per-agent ‖g‖₂ before clipping [numAgents] (metrics), masked agents included; written by each
   * step when clipping or `trackNorm`, else 0. Gradients themselves are not modified.
   */
  readonly norm: Tensor<"f32">;
  /** Current hyper-parameters. */
  readonly hyper: Readonly<AdamHyper>;
  /** Records one update of every (unmasked) agent: θ ← Adam(θ, clip(grads)). */
  step(enc: Encoder): void;
  /** Changes hyper-parameters; lands before the next submit (uniform write, no await). */
  setHyper(update: Partial<AdamHyper>): void;
  /** Records zeroing of moments and step counts (a fresh optimiser state). */
  reset(enc: Encoder): void;
}

function checkHyper(label: string, h: AdamHyper): void {
  const bad = (name: string, v: number, want: string) => {
    throw new RangeError(`Cannot configure "${label}.adam": ${name} is ${v}, needs ${want}`);
  };
  if (!(Number.isFinite(h.lr) && h.lr >= 0)) bad("lr", h.lr, "a finite value >= 0");
  if (!(h.beta1 >= 0 && h.beta1 < 1)) bad("beta1", h.beta1, "a value in [0, 1)");
  if (!(h.beta2 >= 0 && h.beta2 < 1)) bad("beta2", h.beta2, "a value in [0, 1)");
  if (!(Number.isFinite(h.eps) && h.eps > 0)) bad("eps", h.eps, "a finite value > 0");
  if (!(Number.isFinite(h.maxNorm) && h.maxNorm >= 0)) {
    bad("maxNorm", h.maxNorm, "a finite value >= 0 (0 disables clipping)");
  }
}

function checkAgentVector(
  label: string,
  name: string,
  t: Tensor | undefined,
  dtype: "u32" | "f32",
  numAgents: number,
): void {
  if (t) assertShape(t, [numAgents], { op: `${label}.adam`, name, dtype });
}

/** ln β; for β = 0 a large negative stand-in, so the GPU evaluates 1 − βᵗ as 1. */
function logBeta(beta: number): number {
  return beta > 0 ? Math.log(beta) : -1e4;
}

/**
 * Builds Adam for `options.net`: moments, counters, pipelines and bind groups, labelled
 * `<label>.adam.*`.
 *
 * @param engine Engine that owns the device.
 * @param options Network, hyper-parameters, optional mask and learning-rate scale buffers.
 * @returns An {@linkcode Adam} whose `step(enc)` encodes one update of `net.params` in place.
 *
 * @example Adam with per-agent global-norm clipping, applied to every agent's block at once
 * ```ts
 * import { createAdam, createEngine, createNet, readTensor } from "../../mod.ts";
 *
 * const engine = await createEngine();
 * const net = createNet(engine, {
 *   numAgents: 2,
 *   stride: 3,
 *   label: "example.net",
 *   init: new Float32Array([1, 1, 1, 2, 2, 2]),
 * });
 * engine.write(net.grads, [1, 1, 1, -1, -1, -1]);
 * const adam = await createAdam(engine, { net, lr: 0.1, maxNorm: 1, label: "example" });
 * const enc = engine.encoder("example");
 * adam.step(enc);
 * engine.submit(enc);
 * console.log(await readTensor(engine, net.params)); // ≈ [0.9, 0.9, 0.9, 2.1, 2.1, 2.1]
 * engine.destroy();
 * ```
 */
export async function createAdam(engine: Engine, options: AdamOptions): Promise<Adam> {
  const { net, label } = options;
  const { numAgents, stride } = net;
  const hyper: AdamHyper = {
    lr: options.lr,
    beta1: options.beta1 ?? ADAM_DEFAULTS.beta1,
    beta2: options.beta2 ?? ADAM_DEFAULTS.beta2,
    eps: options.eps ?? ADAM_DEFAULTS.eps,
    maxNorm: options.maxNorm ?? ADAM_DEFAULTS.maxNorm,
  };
  checkHyper(label, hyper);
  checkAgentVector(label, "mask", options.mask, "u32", numAgents);
  checkAgentVector(label, "lrScale", options.lrScale, "f32", numAgents);
  const trackNorm = options.trackNorm ?? false;
  const shape = [numAgents, stride];
  const kind = engine.isCpu ? "cpu" : "gpu";
  const asked = options.variant ?? "default";
  const variant: string = asked === "default" || asked === "fastest"
    ? ADAM_VARIANTS[kind][asked]
    : asked;
  if (variant !== "tree" && variant !== "flat") {
    throw new TypeError(`Cannot build "${label}.adam": unknown variant "${variant}"`);
  }
  const flat = variant === "flat";
  const numChunks = Math.ceil(stride / (flat ? ADAM_FLAT_CHUNK : ADAM_NORM_CHUNK));
  const m = engine.tensor({ dtype: "f32", shape, label: `${label}.adam.m` });
  const v = engine.tensor({ dtype: "f32", shape, label: `${label}.adam.v` });
  const count = engine.tensor({ dtype: "u32", shape: [numAgents], label: `${label}.adam.count` });
  const norm = engine.tensor({ dtype: "f32", shape: [numAgents], label: `${label}.adam.norm` });
  const partial = engine.tensor({
    dtype: "f32",
    shape: [numAgents, numChunks],
    label: `${label}.adam.partial`,
  });
  const coef = engine.tensor({
    dtype: "f32",
    shape: [numAgents, COEF_WIDTH],
    label: `${label}.adam.coef`,
  });
  const mask = options.mask ?? engine.tensor({
    dtype: "u32",
    shape: [numAgents],
    label: `${label}.adam.mask`,
    data: new Uint32Array(numAgents).fill(1),
  });
  const lrScale = options.lrScale ?? engine.tensor({
    dtype: "f32",
    shape: [numAgents],
    label: `${label}.adam.lrScale`,
    data: new Float32Array(numAgents).fill(1),
  });

  const paramValues = () => ({
    numAgents,
    stride,
    numChunks,
    hasNorm: hyper.maxNorm > 0 || trackNorm ? 1 : 0,
    lr: hyper.lr,
    beta1: hyper.beta1,
    beta2: hyper.beta2,
    eps: hyper.eps,
    oneMinusBeta1: 1 - hyper.beta1,
    oneMinusBeta2: 1 - hyper.beta2,
    logBeta1: logBeta(hyper.beta1),
    logBeta2: logBeta(hyper.beta2),
    maxNorm: hyper.maxNorm,
  });
  const p = paramValues();
  const [kn, kp, ks] = await Promise.all([
    compileKernel(engine, flat ? adamNormFlat : adamNormPartial),
    compileKernel(engine, adamPrepare),
    compileKernel(engine, flat ? adamStepFlat : adamStep),
  ]);
  const normDispatch = kn.bind(
    { grads: net.grads, partial },
    p,
    `${label}.adam.${flat ? "normFlat" : "normPartial"}`,
  );
  const prepareDispatch = kp.bind(
    { partialIn: partial, mask, lrScale, count, norm, coef },
    p,
    `${label}.adam.prepare`,
  );
  const stepDispatch = ks.bind(
    { grads: net.grads, coefIn: coef, theta: net.params, m, v },
    p,
    `${label}.adam.${flat ? "stepFlat" : "step"}`,
  );
  const dispatches = [normDispatch, prepareDispatch, stepDispatch];

  return {
    m,
    v,
    count,
    norm,
    get hyper() {
      return { ...hyper };
    },
    step(enc) {
      if (hyper.maxNorm > 0 || trackNorm) normDispatch.encode(enc);
      prepareDispatch.encode(enc);
      stepDispatch.encode(enc);
    },
    setHyper(update) {
      const next = { ...hyper, ...update };
      checkHyper(label, next);
      Object.assign(hyper, next);
      const values = paramValues();
      for (const d of dispatches) d.writeParams(values);
    },
    reset(enc) {
      enc.clear(m);
      enc.clear(v);
      enc.clear(count);
    },
  };
}
