/**
 * 2-D convolution (k×k, stride 1, no padding) batched over an agent axis, with explicit backward
 * kernels. Activations are NHWC as the envs emit them; weights follow PyTorch's Conv2d
 * (`W [cout, cin, k, k]`, then `bias [cout]`) inside a per-agent flat parameter buffer (see
 * {@linkcode Net}), so results equal PyTorch's after permuting NHWC → NCHW.
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../kernel.ts";
import { assertShape, type Tensor } from "../tensor.ts";
import { type Activation, ACTIVATION_CODE } from "./linear.ts";
import type { Net } from "./net.ts";

const SHADER = "engine/nn/conv2d.wgsl";
const INCLUDES = ["common/_index.wgsl", "common/_activation.wgsl"] as const;
const PARAMS = {
  numAgents: "u32",
  batch: "u32",
  height: "u32",
  width: "u32",
  cin: "u32",
  cout: "u32",
  k: "u32",
  stride: "u32",
  wOff: "u32",
  bOff: "u32",
  accumulate: "u32",
} as const;

type ConvParams = { readonly [K in keyof typeof PARAMS]: number };

function outPixels(p: ConvParams): number {
  return (p.height - p.k + 1) * (p.width - p.k + 1);
}

/** Output channels (forward, backwardWeight) or input channels (backwardInput) per thread. */
const TILE = 4;

function tiles(channels: number): number {
  return Math.ceil(channels / TILE);
}

/** dz = dy ⊙ act'(y), one thread per output element (skipped for the identity activation). */
export const conv2dGradZ = defineKernel({
  name: "conv2d.gradZ",
  shader: SHADER,
  entryPoint: "gradZ",
  includes: INCLUDES,
  bindings: { yIn: "read", dy: "read", dz: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch * outPixels(p) * p.cout,
});

/**
 * y[a, n, oy, ox, co] = act(b[co] + Σ x[a, n, oy + ky, ox + kx, ci]·W[co, ci, ky, kx]),
 * one thread per pixel and 4 output channels. Shapes: x [numAgents, batch, height, width, cin],
 * y [numAgents, batch, height − k + 1, width − k + 1, cout].
 */
export const conv2dForward = defineKernel({
  name: "conv2d.forward",
  shader: SHADER,
  entryPoint: "forward",
  includes: INCLUDES,
  bindings: { x: "read", w: "read", y: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch * outPixels(p) * tiles(p.cout),
});

/**
 * dx = transposed convolution of dz with W (gather form), one thread per input pixel and 4
 * input channels. Reads dz [numAgents, batch, outH, outW, cout]; writes dx like x.
 */
export const conv2dBackwardInput = defineKernel({
  name: "conv2d.backwardInput",
  shader: SHADER,
  entryPoint: "backwardInput",
  includes: INCLUDES,
  bindings: { w: "read", dzIn: "read", dx: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch * p.height * p.width * tiles(p.cin),
});

/**
 * dW[co, ci, ky, kx] = Σ_{n, oy, ox} dz[n, oy, ox, co]·x[n, oy + ky, ox + kx, ci] and
 * db[co] = Σ dz, one thread per (4 output channels, tap or bias). Writes (or adds into) the
 * net's grads.
 */
export const conv2dBackwardWeight = defineKernel({
  name: "conv2d.backwardWeight",
  shader: SHADER,
  entryPoint: "backwardWeight",
  includes: INCLUDES,
  bindings: { x: "read", dzIn: "read", dw: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * tiles(p.cout) * (p.cin * p.k * p.k + 1),
});

/**
 * Parameters one conv layer needs per agent: `W [cout, cin, k, k]` then `bias [cout]`.
 *
 * @example Parameters of a k×k convolution per agent: weights cout·k·k·cin, then cout biases
 * ```ts
 * import { conv2dParamCount } from "../../mod.ts";
 *
 * console.log(conv2dParamCount(3, 32, 2)); // 32·2·2·3 + 32 = 416
 * ```
 */
export function conv2dParamCount(cin: number, cout: number, k: number): number {
  return cout * cin * k * k + cout;
}

/** Options of {@linkcode createConv2d}. */
export interface Conv2dOptions {
  net: Net;
  /** Offset of this layer's weights inside each agent's parameter block; bias follows. */
  offset: number;
  /** Input [numAgents(data), batch, h, w, cin] (NHWC). */
  x: Tensor;
  /** Where backward writes the gradient w.r.t. x (omit for a first layer). */
  dx?: Tensor;
  batch: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  /** Kernel size (k×k, stride 1, no padding). */
  k: number;
  activation: Activation;
  label: string;
  /** Add into the gradient buffer instead of overwriting it. */
  accumulate?: boolean;
}

/** A bound conv layer: owns its output `y` and the gradient `dy` flowing into it. */
export interface Conv2d {
  /** Output [numAgents, batch, outH, outW, cout] (NHWC). */
  readonly y: Tensor<"f32">;
  /** Gradient w.r.t. `y`, same shape; written by the next layer's backward. */
  readonly dy: Tensor<"f32">;
  readonly outH: number;
  readonly outW: number;
  readonly paramCount: number;
  forward(enc: Encoder): void;
  /**
   * Reads `dy` (and `y`), writes dz = dy ⊙ act'(y) into `<label>.dz` (not for the identity),
   * then the weight gradients and (if bound) `dx`.
   */
  backward(enc: Encoder): void;
}

/**
 * Builds a conv layer bound to its input and the network's parameter buffers: allocates `y`, `dy`
 * and (unless the activation is the identity) `dz`, labelled `<label>.y` etc., compiles the
 * kernels and binds them once.
 *
 * @param engine Engine that owns the device.
 * @param o Net and offset, input (and optional input-gradient) tensor, sizes and activation.
 * @returns A {@linkcode Conv2d}: `forward` encodes one dispatch; `backward` encodes gradZ (not
 * for the identity), backwardWeight and, when `dx` is bound, backwardInput.
 *
 * @example A 2×2 convolution over 7×7×3 images (NHWC, stride 1, no padding), per agent
 * ```ts
 * import { conv2dParamCount, createConv2d, createEngine, createNet } from "../../mod.ts";
 *
 * const engine = await createEngine();
 * const [numAgents, batch] = [2, 4];
 * const stride = conv2dParamCount(3, 8, 2);
 * const net = createNet(engine, { numAgents, stride, label: "example.net" });
 * const x = engine.tensor({ dtype: "f32", shape: [numAgents, batch, 7, 7, 3], label: "example.x" });
 * const conv = await createConv2d(engine, {
 *   net,
 *   offset: 0,
 *   x,
 *   batch,
 *   h: 7,
 *   w: 7,
 *   cin: 3,
 *   cout: 8,
 *   k: 2,
 *   activation: "relu",
 *   label: "example.conv",
 * });
 * console.log(conv.outH, conv.outW, conv.y.shape); // 6 6 [2, 4, 6, 6, 8]
 * const enc = engine.encoder("example");
 * conv.forward(enc);
 * engine.submit(enc);
 * engine.destroy();
 * ```
 */
export async function createConv2d(engine: Engine, o: Conv2dOptions): Promise<Conv2d> {
  const sizes = { batch: o.batch, h: o.h, w: o.w, cin: o.cin, cout: o.cout, k: o.k };
  for (const [name, v] of Object.entries(sizes)) {
    if (!(Number.isInteger(v) && v >= 1)) {
      throw new RangeError(`Cannot build "${o.label}": ${name} is ${v}, must be an integer >= 1`);
    }
  }
  if (o.k > o.h || o.k > o.w) {
    throw new RangeError(
      `Cannot build "${o.label}": kernel ${o.k}×${o.k} does not fit input ${o.h}×${o.w}`,
    );
  }
  const want = [o.net.numAgents, o.batch, o.h, o.w, o.cin];
  assertShape(o.x, want, { op: o.label, name: "x" });
  if (o.dx) assertShape(o.dx, o.x.shape, { op: o.label, name: "dx" });
  const paramCount = conv2dParamCount(o.cin, o.cout, o.k);
  if (!(Number.isInteger(o.offset) && o.offset >= 0) || o.offset + paramCount > o.net.stride) {
    throw new RangeError(
      `Cannot build "${o.label}": parameters [${o.offset}, ${
        o.offset + paramCount
      }) overrun the agent block of ${o.net.stride}`,
    );
  }
  const outH = o.h - o.k + 1, outW = o.w - o.k + 1;
  const shape = [o.net.numAgents, o.batch, outH, outW, o.cout];
  const y = engine.tensor({ dtype: "f32", shape, label: `${o.label}.y` });
  const dy = engine.tensor({ dtype: "f32", shape, label: `${o.label}.dy` });
  const constants = { ACT: ACTIVATION_CODE[o.activation] };
  const p: ConvParams = {
    numAgents: o.net.numAgents,
    batch: o.batch,
    height: o.h,
    width: o.w,
    cin: o.cin,
    cout: o.cout,
    k: o.k,
    stride: o.net.stride,
    wOff: o.offset,
    bOff: o.offset + o.cout * o.cin * o.k * o.k,
    accumulate: o.accumulate ? 1 : 0,
  };
  const [kf, ki, kw, kz] = await Promise.all([
    compileKernel(engine, conv2dForward, constants),
    compileKernel(engine, conv2dBackwardInput, constants),
    compileKernel(engine, conv2dBackwardWeight, constants),
    compileKernel(engine, conv2dGradZ, constants),
  ]);
  // dz = dy ⊙ act'(y) is computed once per backward; for the identity it is dy itself.
  const dz = o.activation === "identity"
    ? null
    : engine.tensor({ dtype: "f32", shape, label: `${o.label}.dz` });
  const fwd = kf.bind({ x: o.x, w: o.net.params, y }, p, `${o.label}.forward`);
  const gradZ = dz ? kz.bind({ yIn: y, dy, dz }, p, `${o.label}.gradZ`) : null;
  const dzIn = dz ?? dy;
  const bwdW = kw.bind({ x: o.x, dzIn, dw: o.net.grads }, p, `${o.label}.backwardWeight`);
  const bwdX: Dispatch<typeof PARAMS> | null = o.dx
    ? ki.bind({ w: o.net.params, dzIn, dx: o.dx }, p, `${o.label}.backwardInput`)
    : null;
  return {
    y,
    dy,
    outH,
    outW,
    paramCount,
    forward(enc) {
      fwd.encode(enc);
    },
    backward(enc) {
      gradZ?.encode(enc);
      bwdW.encode(enc);
      bwdX?.encode(enc);
    },
  };
}
