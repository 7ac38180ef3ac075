/**
 * Dense layer batched over an agent axis, with explicit backward kernels.
 * Weights follow PyTorch (`W [outDim, inDim]`, y = x Wᵀ + b) inside a per-agent flat parameter
 * buffer (see {@linkcode Net}); `numAgents = 1` with all agents' rows in `batch` is parameter sharing.
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../kernel.ts";
import type { Tensor } from "../tensor.ts";
import type { Net } from "./net.ts";

const SHADER = "engine/linear.wgsl";
const INCLUDES = ["common/index.wgsl"] as const;
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

/** y = act(x Wᵀ + b), one thread per output element. */
export const linearForward = defineKernel({
  name: "linear.forward",
  shader: SHADER,
  entryPoint: "forward",
  includes: INCLUDES,
  bindings: { x: "read", w: "read", y: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch * p.outDim,
});

/** dx = (dy ⊙ act'(y)) W, one thread per input element. */
export const linearBackwardInput = defineKernel({
  name: "linear.backwardInput",
  shader: SHADER,
  entryPoint: "backwardInput",
  includes: INCLUDES,
  bindings: { w: "read", yIn: "read", dy: "read", dx: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch * p.inDim,
});

/** dW = (dy ⊙ act'(y))ᵀ x and db = Σ_b dy ⊙ act'(y), one thread per weight (bias last). */
export const linearBackwardWeight = defineKernel({
  name: "linear.backwardWeight",
  shader: SHADER,
  entryPoint: "backwardWeight",
  includes: INCLUDES,
  bindings: { x: "read", yIn: "read", dy: "read", dw: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.outDim * (p.inDim + 1),
});

/** Activation fused into the dense layer. */
export type Activation = "identity" | "relu" | "tanh";
/** Override value of each activation (the ACT constant in linear.wgsl). */
export const ACTIVATION_CODE: Readonly<Record<Activation, number>> = {
  identity: 0,
  relu: 1,
  tanh: 2,
};

/** Parameters one dense layer needs per agent. */
export function linearParamCount(inDim: number, outDim: number): number {
  return inDim * outDim + outDim;
}

/** Options of {@linkcode createLinear}. */
export interface LinearOptions {
  net: Net;
  /** Offset of this layer's weights inside each agent's parameter block; bias follows. */
  offset: number;
  /** Input [numAgents(data), batch, inDim]. */
  x: Tensor;
  /** Where backward writes the gradient w.r.t. x (omit for a first layer). */
  dx?: Tensor;
  batch: number;
  inDim: number;
  outDim: number;
  activation: Activation;
  label: string;
  /** Add into the gradient buffer instead of overwriting it. */
  accumulate?: boolean;
}

/** A bound dense layer: owns its output `y` and the gradient `dy` flowing into it. */
export interface Linear {
  readonly y: Tensor<"f32">;
  readonly dy: Tensor<"f32">;
  readonly paramCount: number;
  forward(enc: Encoder): void;
  /** Reads `dy`, writes the weight gradients and (if bound) `dx`. */
  backward(enc: Encoder): void;
}

/** Builds a dense layer bound to its input and the network's parameter buffers. */
export async function createLinear(engine: Engine, o: LinearOptions): Promise<Linear> {
  const dataAgents = o.x.size / (o.batch * o.inDim);
  if (!Number.isInteger(dataAgents) || dataAgents !== o.net.numAgents) {
    throw new TypeError(
      `Cannot build "${o.label}": x [${
        o.x.shape.join(", ")
      }] is not [${o.net.numAgents}, ${o.batch}, ${o.inDim}]`,
    );
  }
  if (o.dx && o.dx.size !== o.x.size) {
    throw new TypeError(
      `Cannot build "${o.label}": dx has ${o.dx.size} elements, x has ${o.x.size}`,
    );
  }
  if (o.offset + linearParamCount(o.inDim, o.outDim) > o.net.stride) {
    throw new RangeError(
      `Cannot build "${o.label}": parameters overrun the agent block of ${o.net.stride}`,
    );
  }
  const shape = [o.net.numAgents, o.batch, o.outDim];
  const y = engine.tensor({ dtype: "f32", shape, label: `${o.label}.y` });
  const dy = engine.tensor({ dtype: "f32", shape, label: `${o.label}.dy` });
  const constants = { ACT: ACTIVATION_CODE[o.activation] };
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
    compileKernel(engine, linearForward, constants),
    compileKernel(engine, linearBackwardInput, constants),
    compileKernel(engine, linearBackwardWeight, constants),
  ]);
  const fwd = kf.bind({ x: o.x, w: o.net.params, y }, p, `${o.label}.forward`);
  const bwdW = kw.bind({ x: o.x, yIn: y, dy, dw: o.net.grads }, p, `${o.label}.backwardWeight`);
  const bwdX: Dispatch<typeof PARAMS> | null = o.dx
    ? ki.bind({ w: o.net.params, yIn: y, dy, dx: o.dx }, p, `${o.label}.backwardInput`)
    : null;
  return {
    y,
    dy,
    paramCount: linearParamCount(o.inDim, o.outDim),
    forward(enc) {
      fwd.encode(enc);
    },
    backward(enc) {
      bwdW.encode(enc);
      bwdX?.encode(enc);
    },
  };
}
