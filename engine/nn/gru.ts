/**
 * GRU layer batched over an agent axis (PyTorch semantics, gate order r, z, n), with a sequence
 * forward that saves its gates, backward through time, and a fused single step for acting.
 * Weights follow PyTorch (`weight_ih [3H, inDim]`, `weight_hh [3H, H]`, `bias_ih [3H]`,
 * `bias_hh [3H]`, in that order) inside a per-agent flat parameter buffer (see {@linkcode Net}).
 *
 * Reset masks follow the recurrent-policy convention: where `reset[a, t, b]` is set, the hidden
 * state is zeroed before step t (h_{t−1} := 0 for that row), and backward cuts the gradient there.
 *
 * The sequence forward is recorded as one input-projection dispatch plus one dispatch per time
 * step (backward: one per step, one for dL/dh0, then weights and inputs). Backward keeps dL/dh_t
 * after the gate gradients in the forward's work buffer, so no kernel binds more than 8 storage
 * buffers (the WebGPU minimum). Each step needs the
 * whole previous hidden row, which spans workgroups; a single looping kernel would need one
 * workgroup per (agent, row) with barriers, which caps parallelism at numAgents·batch workgroups.
 * Per-step dispatches (each with its own uniform holding t) are built once at setup and cost a few
 * microseconds each to record.
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel, type Dispatch, type ParamValues } from "../kernel.ts";
import { assertShape, type Tensor } from "../tensor.ts";
import type { Net } from "./net.ts";

const SHADER = "engine/nn/gru.wgsl";
const INCLUDES = ["common/_index.wgsl"] as const;
const PARAMS = {
  numAgents: "u32",
  steps: "u32",
  batch: "u32",
  inDim: "u32",
  hidden: "u32",
  stride: "u32",
  wOff: "u32",
  t: "i32",
  accumulate: "u32",
} as const;
type GruParams = typeof PARAMS;

/** gi = x W_ihᵀ + b_ih for every (agent, t, row), one thread per gate pre-activation. */
export const gruForwardInput = defineKernel({
  name: "gru.forwardInput",
  shader: SHADER,
  entryPoint: "forwardInput",
  includes: INCLUDES,
  bindings: { x: "read", w: "read", gi: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.steps * p.batch * 3 * p.hidden,
});

/** One recurrent step t (params.t): writes hs[t], the saved gates and, at the last step, hLast. */
export const gruForwardStep = defineKernel({
  name: "gru.forwardStep",
  shader: SHADER,
  entryPoint: "forwardStep",
  includes: INCLUDES,
  bindings: {
    w: "read",
    reset: "read",
    h0: "read",
    giIn: "read",
    hs: "write",
    gates: "write",
    hLast: "write",
  },
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch * p.hidden,
});

/** Fused acting step (steps = 1): hOut = GRU(x, hIn), no saved gates. */
export const gruActStep = defineKernel({
  name: "gru.actStep",
  shader: SHADER,
  entryPoint: "actStep",
  includes: INCLUDES,
  bindings: { x: "read", w: "read", reset: "read", hIn: "read", hOut: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch * p.hidden,
});

/** Backward of step t (params.t ≥ 0) writing dG[t] and dhTot[t] (both in the work buffer `dG`). */
export const gruBackwardStep = defineKernel({
  name: "gru.backwardStep",
  shader: SHADER,
  entryPoint: "backwardStep",
  includes: INCLUDES,
  bindings: {
    w: "read",
    reset: "read",
    h0: "read",
    hsIn: "read",
    gatesIn: "read",
    dy: "read",
    dhLast: "read",
    dG: "write",
  },
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch * p.hidden,
});

/** dL/dh0 from step 0's dG and dhTot (read from the work buffer), after backward step 0. */
export const gruBackwardState = defineKernel({
  name: "gru.backwardState",
  shader: SHADER,
  entryPoint: "backwardState",
  includes: INCLUDES,
  bindings: { w: "read", reset: "read", gatesIn: "read", dGIn: "read", dh0: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch * p.hidden,
});

/** Weight and bias gradients summed over steps and rows, one thread per parameter. */
export const gruBackwardWeight = defineKernel({
  name: "gru.backwardWeight",
  shader: SHADER,
  entryPoint: "backwardWeight",
  includes: INCLUDES,
  bindings: {
    x: "read",
    reset: "read",
    h0: "read",
    hsIn: "read",
    gatesIn: "read",
    dGIn: "read",
    dw: "write",
  },
  params: PARAMS,
  threads: (p) => p.numAgents * gruParamCount(p.inDim, p.hidden),
});

/** dx = dG W_ih, one thread per input element. */
export const gruBackwardInput = defineKernel({
  name: "gru.backwardInput",
  shader: SHADER,
  entryPoint: "backwardInput",
  includes: INCLUDES,
  bindings: { w: "read", dGIn: "read", dx: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.steps * p.batch * p.inDim,
});

/**
 * Parameters one GRU layer needs per agent: 3H·inDim + 3H·H + 6H.
 *
 * @example Parameters of a GRU per agent, in PyTorch's layout (W_ih, W_hh, b_ih, b_hh)
 * ```ts
 * import { gruParamCount } from "../../mod.ts";
 *
 * console.log(gruParamCount(37, 64)); // 3·64·37 + 3·64·64 + 2·3·64 = 19,776
 * ```
 */
export function gruParamCount(inDim: number, hidden: number): number {
  return 3 * hidden * (inDim + hidden + 2);
}

/** Options of {@linkcode createGru}. */
export interface GruOptions {
  net: Net;
  /** Offset of this layer's weights inside each agent's parameter block. */
  offset: number;
  /** Input [numAgents, steps, batch, inDim] (time-major within an agent). */
  x: Tensor;
  /** Where backward writes dL/dx (omit for a first layer); same shape as x. */
  dx?: Tensor;
  /** Initial hidden state [numAgents, batch, hidden]; omitted: the layer owns a zero one. */
  h0?: Tensor;
  /** Reset mask [numAgents, steps, batch], u32 or f32 0/1: set → h_{t−1} := 0 before step t. */
  resetMask?: Tensor;
  /** Sequence length T. */
  steps: number;
  batch: number;
  inDim: number;
  hidden: number;
  label: string;
  /** Add into the gradient buffer instead of overwriting it. */
  accumulate?: boolean;
}

/** A bound GRU layer over sequences: owns its outputs, saved gates and gradient buffers. */
export interface Gru {
  /** Hidden states h_t for t = 1 … T: [numAgents, steps, batch, hidden]. */
  readonly hs: Tensor<"f32">;
  /** Final hidden state h_T: [numAgents, batch, hidden]. */
  readonly hLast: Tensor<"f32">;
  /** Initial state in use (the given h0, or the layer's zero one). */
  readonly h0: Tensor;
  /** dL/dh_t for every t, read by backward: [numAgents, steps, batch, hidden]. */
  readonly dy: Tensor<"f32">;
  /** Extra dL/dh_T added at the last step (zero unless written): [numAgents, batch, hidden]. */
  readonly dhLast: Tensor<"f32">;
  /** dL/dh0, written by backward (zero where the first step resets): [numAgents, batch, hidden]. */
  readonly dh0: Tensor<"f32">;
  /** Saved gates (r, z, n, W_hn h + b_hn): [numAgents, steps, batch, 4·hidden]. */
  readonly gates: Tensor<"f32">;
  readonly paramCount: number;
  /** Encodes the sequence forward: 1 + steps dispatches. */
  forward(enc: Encoder): void;
  /** Reads `dy`, `dhLast` and the saved forward; writes weight grads, `dh0` and (if bound) dx. */
  backward(enc: Encoder): void;
}

/** Options of {@linkcode createGruStep}. */
export interface GruStepOptions {
  net: Net;
  offset: number;
  /** Input [numAgents, batch, inDim]. */
  x: Tensor;
  /** Hidden state read by the step [numAgents, batch, hidden]. */
  h: Tensor;
  /** Reset mask [numAgents, batch], u32 or f32 0/1: set → h := 0 before the step. */
  resetMask?: Tensor;
  batch: number;
  inDim: number;
  hidden: number;
  label: string;
}

/** A bound acting step: `forward` writes `hNext`; `commit` copies it into the state `h`. */
export interface GruStep {
  /** h' [numAgents, batch, hidden]. */
  readonly hNext: Tensor<"f32">;
  readonly paramCount: number;
  /** Encodes one fused GRU step (one dispatch). */
  forward(enc: Encoder): void;
  /** Encodes a copy hNext → h, so the next `forward` continues from h'. */
  commit(enc: Encoder): void;
}

interface Dims {
  net: Net;
  offset: number;
  steps: number;
  batch: number;
  inDim: number;
  hidden: number;
  label: string;
}

function checkSizes(d: Dims): void {
  for (
    const [name, v] of Object.entries({
      steps: d.steps,
      batch: d.batch,
      inDim: d.inDim,
      hidden: d.hidden,
    })
  ) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`Cannot build "${d.label}": ${name} is ${v}, must be an integer >= 1`);
    }
  }
  if (!Number.isInteger(d.offset) || d.offset < 0) {
    throw new RangeError(
      `Cannot build "${d.label}": offset is ${d.offset}, must be an integer >= 0`,
    );
  }
  if (d.offset + gruParamCount(d.inDim, d.hidden) > d.net.stride) {
    throw new RangeError(
      `Cannot build "${d.label}": ${
        gruParamCount(d.inDim, d.hidden)
      } parameters at offset ${d.offset} overrun the agent block of ${d.net.stride}`,
    );
  }
}

function paramsOf(d: Dims & { accumulate: number }): ParamValues<GruParams> {
  const { steps, batch, inDim, hidden, offset: wOff, accumulate } = d;
  return {
    numAgents: d.net.numAgents,
    steps,
    batch,
    inDim,
    hidden,
    stride: d.net.stride,
    wOff,
    t: 0,
    accumulate,
  };
}

function maskConstants(label: string, mask: Tensor | undefined): { MASK_F32: number } {
  if (mask && mask.dtype !== "u32" && mask.dtype !== "f32") {
    throw new TypeError(`Cannot build "${label}": resetMask is ${mask.dtype}, needs u32 or f32`);
  }
  return { MASK_F32: mask?.dtype === "f32" ? 1 : 0 };
}

/**
 * Builds a GRU layer over sequences bound to its input and the network's parameter buffers:
 * buffers, pipelines and all per-step bind groups, labelled `<label>.*`.
 *
 * @param engine Engine that owns the device.
 * @param o Network, offset, tensors and sizes.
 * @returns A {@linkcode Gru} whose `forward(enc)` and `backward(enc)` encode without awaiting.
 *
 * @example A GRU over sequences with episode resets (PyTorch's gate order), per agent
 * ```ts
 * import { createEngine, createGru, createNet, gruParamCount } from "../../mod.ts";
 *
 * const engine = await createEngine();
 * const [numAgents, steps, batch, inDim, hidden] = [2, 5, 3, 4, 8];
 * const net = createNet(engine, {
 *   numAgents,
 *   stride: gruParamCount(inDim, hidden),
 *   label: "example.net",
 * });
 * const x = engine.tensor({
 *   dtype: "f32",
 *   shape: [numAgents, steps, batch, inDim],
 *   label: "example.x",
 * });
 * const gru = await createGru(engine, {
 *   net,
 *   offset: 0,
 *   x,
 *   steps,
 *   batch,
 *   inDim,
 *   hidden,
 *   label: "example.gru",
 * });
 * const enc = engine.encoder("example");
 * gru.forward(enc); // hs [numAgents, steps, batch, hidden]; backward is BPTT through all steps
 * engine.submit(enc);
 * console.log(gru.hs.shape, gru.hLast.shape);
 * engine.destroy();
 * ```
 */
export async function createGru(engine: Engine, o: GruOptions): Promise<Gru> {
  checkSizes(o);
  const A = o.net.numAgents, T = o.steps, B = o.batch, H = o.hidden;
  assertShape(o.x, [A, T, B, o.inDim], { op: o.label, name: "x", dtype: "f32" });
  if (o.dx) assertShape(o.dx, [A, T, B, o.inDim], { op: o.label, name: "dx", dtype: "f32" });
  if (o.h0) assertShape(o.h0, [A, B, H], { op: o.label, name: "h0", dtype: "f32" });
  if (o.resetMask) {
    assertShape(o.resetMask, [A, T, B], { op: o.label, name: "resetMask", dtype: ["u32", "f32"] });
  }
  const constants = maskConstants(o.label, o.resetMask);

  const seq = [A, T, B, H], state = [A, B, H];
  const f32 = (shape: number[], part: string) =>
    engine.tensor({ dtype: "f32", shape, label: `${o.label}.${part}` });
  const hs = f32(seq, "hs");
  const hLast = f32(state, "hLast");
  const dy = f32(seq, "dy");
  const dhLast = f32(state, "dhLast");
  const dh0 = f32(state, "dh0");
  const gates = f32([A, T, B, 4 * H], "gates");
  // Input-side gate pre-activations [A, T, B, 3H] in forward; in backward their gradients, then
  // dL/dh_t [A, T, B, H] (never both live).
  const work = f32([A * T * B * 4 * H], "work");
  const h0 = o.h0 ?? f32(state, "h0");
  const reset = o.resetMask ??
    engine.tensor({ dtype: "u32", shape: [A, T, B], label: `${o.label}.reset` });

  const [kIn, kStep, kBack, kState, kW, kX] = await Promise.all([
    compileKernel(engine, gruForwardInput),
    compileKernel(engine, gruForwardStep, constants),
    compileKernel(engine, gruBackwardStep, constants),
    compileKernel(engine, gruBackwardState, constants),
    compileKernel(engine, gruBackwardWeight, constants),
    compileKernel(engine, gruBackwardInput),
  ]);
  const base = paramsOf({ ...o, accumulate: o.accumulate ? 1 : 0 });
  const w = o.net.params;
  const fwdIn = kIn.bind({ x: o.x, w, gi: work }, base, `${o.label}.forwardInput`);
  const fwdSteps: Dispatch<GruParams>[] = [];
  for (let t = 0; t < T; t++) {
    fwdSteps.push(kStep.bind(
      { w, reset, h0, giIn: work, hs, gates, hLast },
      { ...base, t },
      `${o.label}.forwardStep.${t}`,
    ));
  }
  const bwdSteps: Dispatch<GruParams>[] = [];
  for (let t = T - 1; t >= 0; t--) {
    bwdSteps.push(kBack.bind(
      { w, reset, h0, hsIn: hs, gatesIn: gates, dy, dhLast, dG: work },
      { ...base, t },
      `${o.label}.backwardStep.${t}`,
    ));
  }
  bwdSteps.push(kState.bind(
    { w, reset, gatesIn: gates, dGIn: work, dh0 },
    base,
    `${o.label}.backwardState`,
  ));
  const bwdW = kW.bind(
    { x: o.x, reset, h0, hsIn: hs, gatesIn: gates, dGIn: work, dw: o.net.grads },
    base,
    `${o.label}.backwardWeight`,
  );
  const bwdX = o.dx ? kX.bind({ w, dGIn: work, dx: o.dx }, base, `${o.label}.backwardInput`) : null;
  return {
    hs,
    hLast,
    h0,
    dy,
    dhLast,
    dh0,
    gates,
    paramCount: gruParamCount(o.inDim, H),
    forward(enc) {
      fwdIn.encode(enc);
      for (const d of fwdSteps) d.encode(enc);
    },
    backward(enc) {
      for (const d of bwdSteps) d.encode(enc);
      bwdW.encode(enc);
      bwdX?.encode(enc);
    },
  };
}

/**
 * Builds the fused single GRU step used for acting (one dispatch, no saved gates).
 *
 * @param engine Engine that owns the device.
 * @param o Network, offset, input, state and sizes.
 * @returns A {@linkcode GruStep}: `forward(enc)` writes `hNext`, `commit(enc)` copies it into `h`.
 */
export async function createGruStep(engine: Engine, o: GruStepOptions): Promise<GruStep> {
  checkSizes({ ...o, steps: 1 });
  const A = o.net.numAgents, B = o.batch, H = o.hidden;
  assertShape(o.x, [A, B, o.inDim], { op: o.label, name: "x", dtype: "f32" });
  assertShape(o.h, [A, B, H], { op: o.label, name: "h", dtype: "f32" });
  if (o.resetMask) {
    assertShape(o.resetMask, [A, B], { op: o.label, name: "resetMask", dtype: ["u32", "f32"] });
  }
  const constants = maskConstants(o.label, o.resetMask);
  const hNext = engine.tensor({ dtype: "f32", shape: [A, B, H], label: `${o.label}.hNext` });
  const reset = o.resetMask ??
    engine.tensor({ dtype: "u32", shape: [A, B], label: `${o.label}.reset` });
  const k = await compileKernel(engine, gruActStep, constants);
  const d = k.bind(
    { x: o.x, w: o.net.params, reset, hIn: o.h, hOut: hNext },
    paramsOf({ ...o, steps: 1, accumulate: 0 }),
    `${o.label}.actStep`,
  );
  return {
    hNext,
    paramCount: gruParamCount(o.inDim, H),
    forward(enc) {
      d.encode(enc);
    },
    commit(enc) {
      enc.copy(hNext, o.h);
    },
  };
}
