/**
 * The actor and critic MLPs of the SEAC family: {@linkcode createMlp} with the engine's fastest
 * dense variant for the adapter (`variant: "fastest"`; engine/nn/linear.ts's `DENSE_VARIANTS`).
 * Every variant computes the same maths on the same parameter layout.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import { createMlp, type Mlp, type MlpOptions } from "../../engine/nn/mlp.ts";

/** A bound actor or critic network. */
export type SeacMlp = Pick<Mlp, "y" | "dy" | "paramCount" | "forward" | "backward">;

/**
 * Builds an MLP bound to `o.x` and the Net's buffers with the adapter's fastest dense layers.
 *
 * @param engine Engine that owns the device.
 * @param o The options of {@linkcode createMlp} (`variant` is set to "fastest").
 * @returns A {@linkcode SeacMlp}.
 */
export async function createSeacMlp(engine: Engine, o: MlpOptions): Promise<SeacMlp> {
  return await createMlp(engine, { ...o, variant: "fastest" });
}
