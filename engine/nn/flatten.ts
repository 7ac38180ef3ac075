/**
 * Channels-first flatten of NHWC feature maps (after a conv torso, which keeps NHWC), matching
 * PyTorch's `x.permute(0, 3, 1, 2).flatten(1)`, with its backward (the inverse permutation).
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../kernel.ts";
import { assertShape, type Tensor } from "../tensor.ts";

const SHADER = "engine/nn/flatten.wgsl";
const INCLUDES = ["common/_index.wgsl"] as const;
const PARAMS = {
  numAgents: "u32",
  batch: "u32",
  height: "u32",
  width: "u32",
  channels: "u32",
} as const;

/** y[a, b, c·H·W + h·W + w] = x[a, b, h, w, c], one thread per element of y. */
export const flattenForward = defineKernel({
  name: "flatten.forward",
  shader: SHADER,
  entryPoint: "forward",
  includes: INCLUDES,
  bindings: { x: "read", y: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch * p.height * p.width * p.channels,
});

/** dx[a, b, h, w, c] = dy[a, b, c·H·W + h·W + w], one thread per element of dx. */
export const flattenBackward = defineKernel({
  name: "flatten.backward",
  shader: SHADER,
  entryPoint: "backward",
  includes: INCLUDES,
  bindings: { dy: "read", dx: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch * p.height * p.width * p.channels,
});

/** Options of {@linkcode createFlatten}. */
export interface FlattenOptions {
  /** Input [numAgents, batch, height, width, channels] (NHWC per row). */
  x: Tensor;
  /** Where backward writes the gradient w.r.t. x (omit when x needs none). */
  dx?: Tensor;
  numAgents: number;
  batch: number;
  height: number;
  width: number;
  channels: number;
  label: string;
}

/** A bound flatten: owns its output `y` and the gradient `dy` flowing into it. */
export interface Flatten {
  /** [numAgents, batch, channels·height·width], channels-first. */
  readonly y: Tensor<"f32">;
  /** Gradient w.r.t. `y`, same shape. */
  readonly dy: Tensor<"f32">;
  /** Features per row, channels·height·width. */
  readonly features: number;
  forward(enc: Encoder): void;
  /** Reads `dy`, writes `dx` (nothing when no `dx` was given). */
  backward(enc: Encoder): void;
}

/**
 * Builds a channels-first flatten bound to `options.x`, labelled `<label>.y` / `<label>.dy`.
 *
 * @param engine Engine that owns the device.
 * @param options Input (and gradient) tensors and their sizes.
 * @returns A {@linkcode Flatten} whose `forward` writes `y` and `backward` writes `dx`.
 */
export async function createFlatten(engine: Engine, options: FlattenOptions): Promise<Flatten> {
  const o = options;
  const sizes = [o.numAgents, o.batch, o.height, o.width, o.channels];
  if (!sizes.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new RangeError(
      `Cannot build "${o.label}": sizes [${sizes.join(", ")}] must be integers >= 1`,
    );
  }
  assertShape(o.x, sizes, { op: o.label, name: "x" });
  if (o.dx) assertShape(o.dx, sizes, { op: o.label, name: "dx" });
  const features = o.height * o.width * o.channels;
  const shape = [o.numAgents, o.batch, features];
  const y = engine.tensor({ dtype: "f32", shape, label: `${o.label}.y` });
  const dy = engine.tensor({ dtype: "f32", shape, label: `${o.label}.dy` });
  const p = {
    numAgents: o.numAgents,
    batch: o.batch,
    height: o.height,
    width: o.width,
    channels: o.channels,
  };
  const [kf, kb] = await Promise.all([
    compileKernel(engine, flattenForward),
    compileKernel(engine, flattenBackward),
  ]);
  const fwd = kf.bind({ x: o.x, y }, p, `${o.label}.forward`);
  const bwd: Dispatch<typeof PARAMS> | null = o.dx
    ? kb.bind({ dy, dx: o.dx }, p, `${o.label}.backward`)
    : null;
  return {
    y,
    dy,
    features,
    forward(enc) {
      fwd.encode(enc);
    },
    backward(enc) {
      bwd?.encode(enc);
    },
  };
}
