/**
 * Multi-layer perceptron: a chain of dense layers over one {@linkcode Net} block, batched over
 * agents. Build one instance per batch size (acting, learning) on the same Net; build another on a
 * second Net for a target network. The layers' kernel variant comes from the engine's table
 * (`chooseDenseVariant` in engine/nn/linear.ts): per-layer {@linkcode createLinear} layers (the
 * `dy` contract), or with `variant: "fastest"` on a CPU adapter and a linear output layer a chain
 * of {@linkcode createLinearWide} layers (the `dz` contract: each backward-input dispatch writes
 * the layer below's pre-activation gradient). All variants share one parameter layout.
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { linearInit, type ParamInit, type ParamTensor } from "../init.ts";
import type { Tensor } from "../tensor.ts";
import {
  type Activation,
  chooseDenseVariant,
  createLinear,
  type DenseVariant,
  linearParamCount,
} from "./linear.ts";
import { createLinearWide } from "./linear_wide.ts";
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

/**
 * Parameters of one agent's MLP.
 *
 * @example Size and initialise a parameter block holding an MLP
 * ```ts
 * import { initNetParams, mlpInit, mlpParamCount } from "../../mod.ts";
 *
 * const spec = { sizes: [4, 16, 2], hidden: "relu", output: "identity" } as const;
 * console.log(mlpParamCount(spec)); // (4·16 + 16) + (16·2 + 2) = 114
 * const host = initNetParams({
 *   numAgents: 2,
 *   stride: mlpParamCount(spec),
 *   seed: 1,
 *   tensors: mlpInit(spec, 0), // PyTorch's nn.Linear default for every layer
 * });
 * console.log(host.length); // 228
 * ```
 */
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
 *
 * @example Size and initialise a parameter block holding an MLP
 * ```ts
 * import { initNetParams, mlpInit, mlpParamCount } from "../../mod.ts";
 *
 * const spec = { sizes: [4, 16, 2], hidden: "relu", output: "identity" } as const;
 * console.log(mlpParamCount(spec)); // (4·16 + 16) + (16·2 + 2) = 114
 * const host = initNetParams({
 *   numAgents: 2,
 *   stride: mlpParamCount(spec),
 *   seed: 1,
 *   tensors: mlpInit(spec, 0), // PyTorch's nn.Linear default for every layer
 * });
 * console.log(host.length); // 228
 * ```
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
  /**
   * Force a dense variant for every layer (tests, benches), or "fastest" to let the engine pick
   * the adapter's fastest chain, which may round differently from the default. Default: the
   * adapter's per-layer default (see `DENSE_VARIANTS` in engine/nn/linear.ts).
   */
  variant?: DenseVariant | "fastest";
}

/** One layer of an {@linkcode Mlp}, whichever variant computes it. */
export interface MlpLayer {
  /** Output [numAgents, batch, outDim]. */
  readonly y: Tensor<"f32">;
  readonly paramCount: number;
  forward(enc: Encoder): void;
  backward(enc: Encoder): void;
}

/** A bound MLP. */
export interface Mlp {
  readonly layers: readonly MlpLayer[];
  /** The dense variant of every layer. */
  readonly variant: DenseVariant;
  /** Output [numAgents, batch, outDim]. */
  readonly y: Tensor<"f32">;
  /** Gradient w.r.t. the output; written by a loss before `backward`. */
  readonly dy: Tensor<"f32">;
  readonly paramCount: number;
  forward(enc: Encoder): void;
  backward(enc: Encoder): void;
}

/**
 * Builds an MLP bound to `o.x` and the Net's buffers, with the dense variant that
 * {@linkcode chooseDenseVariant} picks for the engine's adapter (or `o.variant`).
 *
 * @param engine Engine that owns the device.
 * @param o Parameters, input, layer sizes, batch and label of the network.
 * @returns An {@linkcode Mlp} whose `forward` writes `y` and `backward` reads `dy`.
 *
 * @example Three agents' MLPs in one dispatch: forward, a gradient, backward, Adam
 * ```ts
 * import {
 *   createAdam,
 *   createEngine,
 *   createMlp,
 *   createNet,
 *   initNetParams,
 *   mlpInit,
 *   mlpParamCount,
 *   readTensor,
 * } from "../../mod.ts";
 *
 * const engine = await createEngine();
 * const spec = { sizes: [4, 16, 2], hidden: "tanh", output: "identity" } as const;
 * const [numAgents, batch] = [3, 8];
 * const stride = mlpParamCount(spec);
 * const init = initNetParams({ numAgents, stride, seed: 1, tensors: mlpInit(spec, 0) });
 * const net = createNet(engine, { numAgents, stride, label: "example.q", init });
 * const x = engine.tensor({ dtype: "f32", shape: [numAgents, batch, 4], label: "example.x" });
 * engine.write(x, Array.from({ length: numAgents * batch * 4 }, (_, i) => Math.sin(i)));
 * const mlp = await createMlp(engine, { net, offset: 0, spec, x, batch, label: "example.mlp" });
 * const adam = await createAdam(engine, { net, lr: 1e-3, label: "example" });
 * const enc = engine.encoder("example.step");
 * mlp.forward(enc); // y = MLP_a(x_a) for every agent a
 * engine.submit(enc);
 * engine.write(mlp.dy, new Float32Array(numAgents * batch * 2).fill(1)); // dL/dy of L = Σ y
 * const learn = engine.encoder("example.learn");
 * mlp.backward(learn); // writes net.grads
 * adam.step(learn); // updates net.params in place
 * engine.submit(learn);
 * console.log((await readTensor(engine, mlp.y)).length); // 48 = 3 agents × 8 rows × 2 outputs
 * engine.destroy();
 * ```
 */
export async function createMlp(engine: Engine, o: MlpOptions): Promise<Mlp> {
  const { sizes } = o.spec;
  if (sizes.length < 2) {
    throw new RangeError(`Cannot build "${o.label}": sizes [${sizes}] need >= 2 entries`);
  }
  const variant = chooseDenseVariant(engine, {
    output: o.spec.output,
    chain: true,
    variant: o.variant,
  });
  if (variant === "wide" && o.spec.output !== "identity") {
    // The wide chain's dy is the top layer's dz, which equals ∂L/∂y only for a linear output.
    throw new TypeError(
      `Cannot build "${o.label}": variant "wide" needs an identity output, spec has "${o.spec.output}"`,
    );
  }
  const layers: MlpLayer[] = [];
  let x = o.x, dx = o.dx, off = o.offset, dy: Tensor<"f32"> | undefined;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const common = {
      net: o.net,
      offset: off,
      x,
      dx,
      batch: o.batch,
      inDim: sizes[l],
      outDim: sizes[l + 1],
      activation: l + 2 === sizes.length ? o.spec.output : o.spec.hidden,
      label: `${o.label}.l${l}`,
      accumulate: o.accumulate,
    };
    if (variant === "wide") {
      const layer = await createLinearWide(engine, {
        ...common,
        inputActivation: l === 0 ? "identity" : o.spec.hidden,
      });
      layers.push(layer);
      dx = dy = layer.dz;
    } else {
      const layer = await createLinear(engine, { ...common, variant });
      layers.push(layer);
      dx = dy = layer.dy;
    }
    const top = layers[layers.length - 1];
    off += top.paramCount;
    x = top.y;
  }
  const top = layers[layers.length - 1];
  return {
    layers,
    variant,
    y: top.y,
    dy: dy!,
    paramCount: off - o.offset,
    forward(enc) {
      for (const l of layers) l.forward(enc);
    },
    backward(enc) {
      for (let l = layers.length - 1; l >= 0; l--) layers[l].backward(enc);
    },
  };
}
