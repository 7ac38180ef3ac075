/**
 * Multi-layer perceptron: a chain of dense layers over one {@linkcode Net} block, batched over
 * agents. Build one instance per batch size (acting, learning) on the same Net; build another on a
 * second Net for a target network.
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { linearInit, type ParamInit, type ParamTensor } from "../init.ts";
import type { Tensor } from "../tensor.ts";
import { type Activation, createLinear, type Linear, linearParamCount } from "./linear.ts";
import type { Net } from "./net.ts";

/** Layer sizes and activations of an MLP. */
export interface MlpSpec {
  /** [inDim, hidden…, outDim]; at least two entries. */
  readonly sizes: readonly number[];
  /** Activation after every hidden layer. */
  readonly hidden: Activation;
  /** Activation after the last layer (usually identity). */
  readonly output: Activation;
}

/** Parameters of one agent's MLP. */
export function mlpParamCount(spec: MlpSpec): number {
  let n = 0;
  for (let l = 0; l + 1 < spec.sizes.length; l++) {
    n += linearParamCount(spec.sizes[l], spec.sizes[l + 1]);
  }
  return n;
}

/**
 * The parameter tensors of an MLP at `offset` for {@linkcode initNetParams}; `weight(l)`/`bias(l)`
 * choose each layer's initialiser (PyTorch's default when absent).
 */
export function mlpInit(
  spec: MlpSpec,
  offset: number,
  init: {
    weight?: (layer: number, last: boolean) => ParamInit;
    bias?: (layer: number, last: boolean) => ParamInit;
  } = {},
): ParamTensor[] {
  const out: ParamTensor[] = [];
  let off = offset;
  const L = spec.sizes.length - 1;
  for (let l = 0; l < L; l++) {
    const inDim = spec.sizes[l], outDim = spec.sizes[l + 1];
    out.push(...linearInit({
      offset: off,
      inDim,
      outDim,
      weight: init.weight?.(l, l === L - 1),
      bias: init.bias?.(l, l === L - 1),
    }));
    off += linearParamCount(inDim, outDim);
  }
  return out;
}

/** Options of {@linkcode createMlp}. */
export interface MlpOptions {
  net: Net;
  /** Offset of the first layer inside each agent's parameter block. */
  offset: number;
  spec: MlpSpec;
  /** Input [numAgents, batch, sizes[0]]. */
  x: Tensor;
  /** Where backward writes the gradient w.r.t. x (omit when not needed). */
  dx?: Tensor;
  batch: number;
  label: string;
  /** Add into the gradient buffer instead of overwriting it. */
  accumulate?: boolean;
}

/** A bound MLP. */
export interface Mlp {
  readonly layers: readonly Linear[];
  /** Output [numAgents, batch, outDim]. */
  readonly y: Tensor<"f32">;
  /** Gradient w.r.t. the output; written by a loss before `backward`. */
  readonly dy: Tensor<"f32">;
  readonly paramCount: number;
  forward(enc: Encoder): void;
  backward(enc: Encoder): void;
}

/** Builds an MLP bound to `x` and the Net's buffers. */
export async function createMlp(engine: Engine, o: MlpOptions): Promise<Mlp> {
  const { sizes } = o.spec;
  if (sizes.length < 2) {
    throw new RangeError(`Cannot build "${o.label}": sizes [${sizes}] need >= 2 entries`);
  }
  const layers: Linear[] = [];
  let x = o.x, dx = o.dx, off = o.offset;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const last = l + 2 === sizes.length;
    const layer = await createLinear(engine, {
      net: o.net,
      offset: off,
      x,
      dx,
      batch: o.batch,
      inDim: sizes[l],
      outDim: sizes[l + 1],
      activation: last ? o.spec.output : o.spec.hidden,
      label: `${o.label}.l${l}`,
      accumulate: o.accumulate,
    });
    layers.push(layer);
    off += layer.paramCount;
    x = layer.y;
    dx = layer.dy;
  }
  const top = layers[layers.length - 1];
  return {
    layers,
    y: top.y,
    dy: top.dy,
    paramCount: off - o.offset,
    forward(enc) {
      for (const l of layers) l.forward(enc);
    },
    backward(enc) {
      for (let l = layers.length - 1; l >= 0; l--) layers[l].backward(enc);
    },
  };
}
