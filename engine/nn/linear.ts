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
import { assertShape, type Tensor } from "../tensor.ts";
import type { Net } from "./net.ts";

const SHADER = "engine/nn/linear.wgsl";
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

const FORWARD = { x: "read", w: "read", y: "write" } as const;
const BACKWARD_INPUT = { w: "read", yIn: "read", dy: "read", dx: "write" } as const;
const BACKWARD_WEIGHT = { x: "read", yIn: "read", dy: "read", dw: "write" } as const;
const BACKWARD_INPUT_DZ = { w: "read", dzIn: "read", dx: "write" } as const;
const BACKWARD_WEIGHT_DZ = { x: "read", dzIn: "read", dw: "write" } as const;
/** Outputs per thread along each axis in the blocked kernels (BLOCK in linear.wgsl). */
const BLOCK = 4;
/** Side of the square workgroup tile of the tiled kernels (the TILE override). */
const TILE = 16;

function ceilDiv(n: number, d: number): number {
  return Math.ceil(n / d);
}

/** y = act(x Wᵀ + b), one thread per output element. */
export const linearForward = defineKernel({
  name: "linear.forward",
  shader: SHADER,
  entryPoint: "forward",
  includes: INCLUDES,
  bindings: FORWARD,
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch * p.outDim,
});

/** dx = (dy ⊙ act'(y)) W, one thread per input element. */
export const linearBackwardInput = defineKernel({
  name: "linear.backwardInput",
  shader: SHADER,
  entryPoint: "backwardInput",
  includes: INCLUDES,
  bindings: BACKWARD_INPUT,
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch * p.inDim,
});

/** dW = (dy ⊙ act'(y))ᵀ x and db = Σ_b dy ⊙ act'(y), one thread per weight (bias last). */
export const linearBackwardWeight = defineKernel({
  name: "linear.backwardWeight",
  shader: SHADER,
  entryPoint: "backwardWeight",
  includes: INCLUDES,
  bindings: BACKWARD_WEIGHT,
  params: PARAMS,
  threads: (p) => p.numAgents * p.outDim * (p.inDim + 1),
});

/** dz = dy ⊙ act'(y), one thread per element (feeds the blocked and tiled backward kernels). */
export const linearActivationGrad = defineKernel({
  name: "linear.activationGrad",
  shader: SHADER,
  entryPoint: "activationGrad",
  includes: INCLUDES,
  bindings: { yIn: "read", dy: "read", dz: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch * p.outDim,
});

/** Forward, one thread per 4 rows × 4 outputs in registers, no barriers (CPU adapters). */
export const linearForwardBlocked = defineKernel({
  name: "linear.forwardBlocked",
  shader: SHADER,
  entryPoint: "forwardBlocked",
  includes: INCLUDES,
  bindings: FORWARD,
  params: PARAMS,
  threads: (p) => p.numAgents * ceilDiv(p.batch, BLOCK) * ceilDiv(p.outDim, BLOCK),
});

/** dx = dz W from a precomputed dz, one thread per 4 rows × 4 inputs in registers (CPU adapters). */
export const linearBackwardInputBlocked = defineKernel({
  name: "linear.backwardInputBlocked",
  shader: SHADER,
  entryPoint: "backwardInputBlocked",
  includes: INCLUDES,
  bindings: BACKWARD_INPUT_DZ,
  params: PARAMS,
  threads: (p) => p.numAgents * ceilDiv(p.batch, BLOCK) * ceilDiv(p.inDim, BLOCK),
});

/** dW = dzᵀ x and db = Σ_b dz, one thread per 4 outputs × 4 columns (CPU adapters). */
export const linearBackwardWeightBlocked = defineKernel({
  name: "linear.backwardWeightBlocked",
  shader: SHADER,
  entryPoint: "backwardWeightBlocked",
  includes: INCLUDES,
  bindings: BACKWARD_WEIGHT_DZ,
  params: PARAMS,
  threads: (p) => p.numAgents * ceilDiv(p.outDim, BLOCK) * ceilDiv(p.inDim + 1, BLOCK),
});

/** Forward, one 16 × 16 workgroup per output tile staged through workgroup memory (GPUs). */
export const linearForwardTiled = defineKernel({
  name: "linear.forwardTiled",
  shader: SHADER,
  entryPoint: "forwardTiled",
  includes: INCLUDES,
  bindings: FORWARD,
  params: PARAMS,
  workgroupSize: null,
  constants: { TILE },
  workgroups: (p) => [ceilDiv(p.outDim, TILE), ceilDiv(p.batch, TILE), p.numAgents],
});

/** dx = dz W from a precomputed dz, one 16 × 16 workgroup per dx tile (GPUs). */
export const linearBackwardInputTiled = defineKernel({
  name: "linear.backwardInputTiled",
  shader: SHADER,
  entryPoint: "backwardInputTiled",
  includes: INCLUDES,
  bindings: BACKWARD_INPUT_DZ,
  params: PARAMS,
  workgroupSize: null,
  constants: { TILE },
  workgroups: (p) => [ceilDiv(p.inDim, TILE), ceilDiv(p.batch, TILE), p.numAgents],
});

/** dW = dzᵀ x and db = Σ_b dz, one 16 × 16 workgroup per tile of [outDim, inDim + 1] (GPUs). */
export const linearBackwardWeightTiled = defineKernel({
  name: "linear.backwardWeightTiled",
  shader: SHADER,
  entryPoint: "backwardWeightTiled",
  includes: INCLUDES,
  bindings: BACKWARD_WEIGHT_DZ,
  params: PARAMS,
  workgroupSize: null,
  constants: { TILE },
  workgroups: (p) => [ceilDiv(p.inDim + 1, TILE), ceilDiv(p.outDim, TILE), p.numAgents],
});

/**
 * Kernel variant of the dense layer: `naive` (one thread per output), `blocked` (register blocks,
 * no barriers; fastest on CPU adapters) or `tiled` (workgroup-memory tiles; for real GPUs).
 */
export type LinearVariant = "naive" | "blocked" | "tiled";

/** The forward and backward kernels of each {@linkcode LinearVariant}. */
export const LINEAR_KERNELS = {
  naive: {
    forward: linearForward,
    backwardInput: linearBackwardInput,
    backwardWeight: linearBackwardWeight,
  },
  blocked: {
    forward: linearForwardBlocked,
    backwardInput: linearBackwardInputBlocked,
    backwardWeight: linearBackwardWeightBlocked,
  },
  tiled: {
    forward: linearForwardTiled,
    backwardInput: linearBackwardInputTiled,
    backwardWeight: linearBackwardWeightTiled,
  },
} as const satisfies Record<LinearVariant, Record<string, unknown>>;

/**
 * Every dense-layer variant: the three of {@linkcode LinearVariant} and `wide` (8 × 8 register
 * blocks, engine/nn/linear_wide.ts), which only whole chains use (engine/nn/mlp.ts).
 */
export type DenseVariant = LinearVariant | "wide";

/** What a dense variant reads in backward and where the engine uses it. */
export interface DenseVariantInfo {
  /**
   * The gradient a layer's backward reads: `dy` (w.r.t. its output; the layer applies act'(y)) or
   * `dz` (w.r.t. its pre-activation; the layer above's backward input applied act'), so a `dz`
   * chain's top gradient is ∂L/∂y only for a linear output layer.
   */
  readonly backward: "dy" | "dz";
  /** Adapter kinds that build it when nothing is forced (`fastest` for whole chains only). */
  readonly chosenOn: { readonly cpu?: "default" | "fastest"; readonly gpu?: "default" | "fastest" };
}

/**
 * The dense-layer variants and which one each adapter kind builds: the one table the engine's
 * layer constructors consult ({@linkcode chooseDenseVariant}); algorithms never branch on the
 * adapter. `default` is what {@linkcode createLinear} and `createMlp` build; `fastest` is what a
 * chain built with `variant: "fastest"` gets when its output layer is linear, equal to the
 * default up to f32 rounding.
 */
export const DENSE_VARIANTS = {
  naive: { backward: "dy", chosenOn: {} },
  blocked: { backward: "dy", chosenOn: { cpu: "default" } },
  tiled: { backward: "dy", chosenOn: { gpu: "default" } },
  wide: { backward: "dz", chosenOn: { cpu: "fastest" } },
} as const satisfies Record<DenseVariant, DenseVariantInfo>;

/** What {@linkcode chooseDenseVariant} needs to know about the layer or chain being built. */
export interface DenseShape {
  /** Activation of the (last) layer; the `dz` contract needs "identity" at the top of a chain. */
  output: Activation;
  /** A whole chain (`createMlp`), which may use a `dz` variant; default false (one layer). */
  chain?: boolean;
  /**
   * A forced variant (tests, benches), or "fastest" to allow a `dz` variant for a chain. Default:
   * the adapter's `default` variant.
   */
  variant?: DenseVariant | "fastest";
}

/**
 * Chooses the dense-layer variant for `engine`'s adapter from {@linkcode DENSE_VARIANTS}.
 *
 * @param engine Engine whose adapter decides (`engine.isCpu`).
 * @param shape The layer or chain being built, and any forced variant.
 * @returns The variant; a forced one as given, else the adapter's `fastest` (chains with a
 * linear output that ask for it) or `default`.
 */
export function chooseDenseVariant(engine: Engine, shape: DenseShape): DenseVariant {
  if (shape.variant !== undefined && shape.variant !== "fastest") return shape.variant;
  const kind = engine.isCpu ? "cpu" : "gpu";
  const pick = (role: "default" | "fastest") =>
    (Object.keys(DENSE_VARIANTS) as DenseVariant[]).find((v) => {
      const on: DenseVariantInfo["chosenOn"] = DENSE_VARIANTS[v].chosenOn;
      return on[kind] === role;
    });
  const fastest = shape.variant === "fastest" && shape.chain ? pick("fastest") : undefined;
  // A `dz` chain's top gradient is ∂L/∂y only for a linear output layer.
  const usable = fastest !== undefined &&
    (DENSE_VARIANTS[fastest].backward === "dy" || shape.output === "identity");
  return (usable ? fastest : pick("default")) ?? "naive";
}

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
  /** Force a kernel variant (tests, benches); default from {@linkcode chooseDenseVariant}. */
  variant?: LinearVariant;
}

/** A bound dense layer: owns its output `y` and the gradient `dy` flowing into it. */
export interface Linear {
  readonly y: Tensor<"f32">;
  readonly dy: Tensor<"f32">;
  readonly paramCount: number;
  /** The kernel variant in use. */
  readonly variant: LinearVariant;
  forward(enc: Encoder): void;
  /** Reads `dy`, writes the weight gradients and (if bound) `dx`. */
  backward(enc: Encoder): void;
}

/**
 * Builds a dense layer bound to its input and the network's parameter buffers. The kernel variant
 * comes from {@linkcode chooseDenseVariant} unless `o.variant` forces one; the blocked and tiled
 * variants with a non-identity activation also own `<label>.dz` (dy ⊙ act'(y), written in backward).
 *
 * @param engine Engine that owns the device.
 * @param o Parameters, input, sizes, activation and label of the layer.
 * @returns A {@linkcode Linear} whose `forward` writes `y` and `backward` writes the gradients.
 *
 * @example One dense layer, y = relu(x·Wᵀ + b), per agent
 * ```ts
 * import { createEngine, createLinear, createNet, readTensor } from "../../mod.ts";
 *
 * const engine = await createEngine();
 * const [numAgents, batch, inDim, outDim] = [2, 5, 3, 4];
 * const net = createNet(engine, {
 *   numAgents,
 *   stride: outDim * inDim + outDim, // W [outDim, inDim], then b
 *   label: "example.net",
 *   init: new Float32Array(numAgents * (outDim * inDim + outDim)).fill(0.1),
 * });
 * const x = engine.tensor({ dtype: "f32", shape: [numAgents, batch, inDim], label: "example.x" });
 * engine.write(x, new Float32Array(numAgents * batch * inDim).fill(1));
 * const layer = await createLinear(engine, {
 *   net,
 *   offset: 0,
 *   x,
 *   batch,
 *   inDim,
 *   outDim,
 *   activation: "relu",
 *   label: "example.linear",
 * });
 * const enc = engine.encoder("example");
 * layer.forward(enc);
 * engine.submit(enc);
 * console.log(await readTensor(engine, layer.y)); // every entry 0.1·3 + 0.1 = 0.4
 * engine.destroy();
 * ```
 */
export async function createLinear(engine: Engine, o: LinearOptions): Promise<Linear> {
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
  const variant =
    (o.variant ?? chooseDenseVariant(engine, { output: o.activation })) as LinearVariant;
  if (!Object.hasOwn(LINEAR_KERNELS, variant)) {
    throw new TypeError(`Cannot build "${o.label}": unknown variant "${variant}"`);
  }
  const kf = await compileKernel(engine, LINEAR_KERNELS[variant].forward, constants);
  const fwd = kf.bind({ x: o.x, w: o.net.params, y }, p, `${o.label}.forward`);
  const backward: Dispatch<typeof PARAMS>[] = [];
  if (variant === "naive") {
    const [ki, kw] = await Promise.all([
      compileKernel(engine, linearBackwardInput, constants),
      compileKernel(engine, linearBackwardWeight, constants),
    ]);
    backward.push(kw.bind({ x: o.x, yIn: y, dy, dw: o.net.grads }, p, `${o.label}.backwardWeight`));
    if (o.dx) {
      backward.push(
        ki.bind({ w: o.net.params, yIn: y, dy, dx: o.dx }, p, `${o.label}.backwardInput`),
      );
    }
  } else {
    // dz = dy ⊙ act'(y) once, instead of once per (row, column block) inside the matmuls.
    const kernels = LINEAR_KERNELS[variant];
    let dzIn: Tensor = dy;
    if (o.activation !== "identity") {
      const dz = engine.tensor({ dtype: "f32", shape, label: `${o.label}.dz` });
      const kg = await compileKernel(engine, linearActivationGrad, constants);
      backward.push(kg.bind({ yIn: y, dy, dz }, p, `${o.label}.activationGrad`));
      dzIn = dz;
    }
    const [ki, kw] = await Promise.all([
      compileKernel(engine, kernels.backwardInput),
      compileKernel(engine, kernels.backwardWeight),
    ]);
    backward.push(kw.bind({ x: o.x, dzIn, dw: o.net.grads }, p, `${o.label}.backwardWeight`));
    if (o.dx) {
      backward.push(ki.bind({ w: o.net.params, dzIn, dx: o.dx }, p, `${o.label}.backwardInput`));
    }
  }
  return {
    y,
    dy,
    paramCount: linearParamCount(o.inDim, o.outDim),
    variant,
    forward(enc) {
      fwd.encode(enc);
    },
    backward(enc) {
      for (const d of backward) d.encode(enc);
    },
  };
}
