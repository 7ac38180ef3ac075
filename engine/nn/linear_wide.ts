/**
 * Dense layer for CPU adapters (llvmpipe): the maths and parameter layout of
 * {@linkcode createLinear}, computed by kernels that give each thread an 8 × 8 block of outputs
 * (16 operand loads per 64 multiply-adds, against 8 per 16 in the 4 × 4 `blocked` variant; a CPU
 * adapter gathers every per-lane load, so loads set the speed). Backward starts from the gradient
 * w.r.t. the pre-activation (`dz`), and writes `dx` already multiplied by the derivative of the
 * activation that produced `x` (`inputActivation`), so in a chain each layer's backward input
 * dispatch writes the next one's `dz`: one forward and one or two backward dispatches per layer,
 * no activation-gradient pass. Kernels in `shaders/engine/nn/linear_wide.wgsl`.
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../kernel.ts";
import { assertShape, type Tensor } from "../tensor.ts";
import {
  type Activation,
  ACTIVATION_CODE,
  type LinearOptions,
  linearParamCount,
} from "./linear.ts";

const SHADER = "engine/nn/linear_wide.wgsl";
const INCLUDES = ["common/_index.wgsl", "common/_activation.wgsl"] as const;
const PARAMS = {
  numAgents: "u32",
  batch: "u32",
  inDim: "u32",
  outDim: "u32",
  stride: "u32",
  wOff: "u32",
  bOff: "u32",
  accumulate: "u32",
} as const;
/** Outputs per thread along each axis (BLOCK in linear_wide.wgsl). */
export const LINEAR_WIDE_BLOCK = 8;
const blocks = (n: number) => Math.ceil(n / LINEAR_WIDE_BLOCK);

/** y = act(x Wᵀ + b); one thread per 8 rows × 8 outputs. */
export const linearWideForward = defineKernel({
  name: "linearWide.forward",
  shader: SHADER,
  entryPoint: "forwardWide",
  includes: INCLUDES,
  bindings: { x: "read", w: "read", y: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * blocks(p.batch) * blocks(p.outDim),
});

/** dx = (dz W) ⊙ act_in'(x) (ACT = the input's activation); one thread per 8 rows × 8 inputs. */
export const linearWideBackwardInput = defineKernel({
  name: "linearWide.backwardInput",
  shader: SHADER,
  entryPoint: "backwardInputWide",
  includes: INCLUDES,
  bindings: { x: "read", w: "read", dzIn: "read", dx: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * blocks(p.batch) * blocks(p.inDim),
});

/** dW = dzᵀ x and db = Σ_b dz; one thread per 8 outputs × 8 columns. */
export const linearWideBackwardWeight = defineKernel({
  name: "linearWide.backwardWeight",
  shader: SHADER,
  entryPoint: "backwardWeightWide",
  includes: INCLUDES,
  bindings: { x: "read", dzIn: "read", dw: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * blocks(p.outDim) * blocks(p.inDim + 1),
});

/** Options of {@linkcode createLinearWide}: those of {@linkcode createLinear} (`variant` ignored). */
export interface LinearWideOptions extends LinearOptions {
  /**
   * Activation of the layer that produced `x`: `dx` is then the gradient w.r.t. that layer's
   * pre-activation, ready to be its `dz`. Default "identity" (`dx` = ∂L/∂x).
   */
  inputActivation?: Activation;
}

/** A bound wide-block dense layer: owns its output `y` and the gradient `dz` flowing into it. */
export interface LinearWide {
  /** Output y = act(z) [numAgents, batch, outDim]. */
  readonly y: Tensor<"f32">;
  /**
   * Gradient w.r.t. the pre-activation z = x Wᵀ + b [numAgents, batch, outDim] (w.r.t. `y` for an
   * identity layer); written by the consumer before `backward`.
   */
  readonly dz: Tensor<"f32">;
  readonly paramCount: number;
  /** Writes `y`. */
  forward(enc: Encoder): void;
  /** Reads `dz`, writes (or adds, with `accumulate`) the weight gradients and `dx`. */
  backward(enc: Encoder): void;
}

/**
 * Builds a wide-block dense layer bound to its input and the network's parameter buffers. Results
 * equal {@linkcode createLinear}'s up to f32 rounding, given dz = dy ⊙ act'(y).
 *
 * @param engine Engine that owns the device.
 * @param o Parameters, input, sizes, activations and label of the layer.
 * @returns A {@linkcode LinearWide} whose `forward` writes `y` and `backward` the gradients.
 */
export async function createLinearWide(
  engine: Engine,
  o: LinearWideOptions,
): Promise<LinearWide> {
  for (const [name, v] of [["batch", o.batch], ["inDim", o.inDim], ["outDim", o.outDim]] as const) {
    if (!(Number.isInteger(v) && v >= 1)) {
      throw new RangeError(`Cannot build "${o.label}": ${name} is ${v}, must be an integer >= 1`);
    }
  }
  assertShape(o.x, [o.net.numAgents, o.batch, o.inDim], { op: o.label, name: "x" });
  if (o.dx) assertShape(o.dx, o.x.shape, { op: o.label, name: "dx" });
  if (o.offset + linearParamCount(o.inDim, o.outDim) > o.net.stride) {
    throw new RangeError(
      `Cannot build "${o.label}": parameters overrun the agent block of ${o.net.stride}`,
    );
  }
  const shape = [o.net.numAgents, o.batch, o.outDim];
  const y = engine.tensor({ dtype: "f32", shape, label: `${o.label}.y` });
  const dz = engine.tensor({ dtype: "f32", shape, label: `${o.label}.dz` });
  const p = {
    numAgents: o.net.numAgents,
    batch: o.batch,
    inDim: o.inDim,
    outDim: o.outDim,
    stride: o.net.stride,
    wOff: o.offset,
    bOff: o.offset + o.inDim * o.outDim,
    accumulate: o.accumulate ? 1 : 0,
  };
  const [kf, ki, kw] = await Promise.all([
    compileKernel(engine, linearWideForward, { ACT: ACTIVATION_CODE[o.activation] }),
    compileKernel(engine, linearWideBackwardInput, {
      ACT: ACTIVATION_CODE[o.inputActivation ?? "identity"],
    }),
    compileKernel(engine, linearWideBackwardWeight),
  ]);
  const fwd = kf.bind({ x: o.x, w: o.net.params, y }, p, `${o.label}.forward`);
  const backward: Dispatch<typeof PARAMS>[] = [
    kw.bind({ x: o.x, dzIn: dz, dw: o.net.grads }, p, `${o.label}.backwardWeight`),
  ];
  if (o.dx) {
    backward.push(
      ki.bind({ x: o.x, w: o.net.params, dzIn: dz, dx: o.dx }, p, `${o.label}.backwardInput`),
    );
  }
  return {
    y,
    dz,
    paramCount: linearParamCount(o.inDim, o.outDim),
    forward(enc) {
      fwd.encode(enc);
    },
    backward(enc) {
      for (const d of backward) d.encode(enc);
    },
  };
}
