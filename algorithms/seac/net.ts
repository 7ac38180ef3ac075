/**
 * The actor and critic MLPs of the SEAC family, built from the dense layers that are fastest on
 * the engine's adapter: {@linkcode createLinearWide} (8 × 8 register blocks, each backward-input
 * dispatch writing the previous layer's pre-activation gradient) on CPU adapters when the output
 * layer is linear, {@linkcode createMlp} otherwise. Both compute the same maths on the same
 * parameter layout.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { createLinearWide, type LinearWide } from "../../engine/nn/linear_wide.ts";
import { createMlp, type MlpOptions } from "../../engine/nn/mlp.ts";
import type { Tensor } from "../../engine/tensor.ts";

/** A bound actor or critic network. */
export interface SeacMlp {
  /** Output [numAgents, batch, outDim]. */
  readonly y: Tensor<"f32">;
  /** Gradient w.r.t. the output; written by a loss before `backward`. */
  readonly dy: Tensor<"f32">;
  readonly paramCount: number;
  forward(enc: Encoder): void;
  backward(enc: Encoder): void;
}

/**
 * Builds an MLP bound to `o.x` and the Net's buffers with the adapter's fastest dense layers.
 *
 * @param engine Engine that owns the device.
 * @param o The options of {@linkcode createMlp}.
 * @returns A {@linkcode SeacMlp}.
 */
export async function createSeacMlp(engine: Engine, o: MlpOptions): Promise<SeacMlp> {
  // The wide chain's dy is the top layer's dz, which equals ∂L/∂y only for a linear output.
  if (!engine.isCpu || o.spec.output !== "identity") return await createMlp(engine, o);
  const { sizes } = o.spec;
  if (sizes.length < 2) {
    throw new RangeError(`Cannot build "${o.label}": sizes [${sizes}] need >= 2 entries`);
  }
  const layers: LinearWide[] = [];
  let x = o.x, dx = o.dx, off = o.offset;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const layer = await createLinearWide(engine, {
      net: o.net,
      offset: off,
      x,
      dx,
      batch: o.batch,
      inDim: sizes[l],
      outDim: sizes[l + 1],
      activation: l + 2 === sizes.length ? o.spec.output : o.spec.hidden,
      inputActivation: l === 0 ? "identity" : o.spec.hidden,
      label: `${o.label}.l${l}`,
      accumulate: o.accumulate,
    });
    layers.push(layer);
    off += layer.paramCount;
    x = layer.y;
    dx = layer.dz;
  }
  const top = layers[layers.length - 1];
  return {
    y: top.y,
    dy: top.dz,
    paramCount: off - o.offset,
    forward(enc) {
      for (const l of layers) l.forward(enc);
    },
    backward(enc) {
      for (let l = layers.length - 1; l >= 0; l--) layers[l].backward(enc);
    },
  };
}
