/**
 * Dueling combine of two heads, Q = V + A − mean_a(A) (Wang et al. 2016), batched over agents,
 * with its backward. V and A come from two separate layers; backward writes their gradients.
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel } from "../kernel.ts";
import { assertShape, type Tensor } from "../tensor.ts";

const SHADER = "engine/nn/dueling.wgsl";
const INCLUDES = ["common/_index.wgsl"] as const;
const PARAMS = { numAgents: "u32", batch: "u32", numActions: "u32" } as const;

/** q[a, b, k] = v[a, b] + adv[a, b, k] − mean_k adv[a, b, k], one thread per element of q. */
export const duelingForward = defineKernel({
  name: "dueling.forward",
  shader: SHADER,
  entryPoint: "forward",
  includes: INCLUDES,
  bindings: { v: "read", adv: "read", q: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch * p.numActions,
});

/** dv = Σ_k dq[k], dAdv[k] = dq[k] − mean_k dq, one thread per (agent, row). */
export const duelingBackward = defineKernel({
  name: "dueling.backward",
  shader: SHADER,
  entryPoint: "backward",
  includes: INCLUDES,
  bindings: { dq: "read", dv: "write", dAdv: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch,
});

/** Options of {@linkcode createDueling}. */
export interface DuelingOptions {
  /** State value [numAgents, batch, 1] (output of the value head). */
  v: Tensor;
  /** Advantages [numAgents, batch, numActions] (output of the advantage head). */
  adv: Tensor;
  /** Where backward writes the gradient w.r.t. v (usually the value head's `dy`). */
  dv: Tensor;
  /** Where backward writes the gradient w.r.t. adv (usually the advantage head's `dy`). */
  dAdv: Tensor;
  numAgents: number;
  batch: number;
  numActions: number;
  label: string;
}

/** A bound dueling combine: owns `q` and the gradient `dq` flowing into it. */
export interface Dueling {
  /** Q-values [numAgents, batch, numActions]. */
  readonly q: Tensor<"f32">;
  /** Gradient w.r.t. `q`, same shape. */
  readonly dq: Tensor<"f32">;
  forward(enc: Encoder): void;
  /** Reads `dq`, writes (overwrites) `dv` and `dAdv`. */
  backward(enc: Encoder): void;
}

/**
 * Builds the dueling combine of a value and an advantage head, labelled `<label>.q` / `<label>.dq`.
 *
 * @param engine Engine that owns the device.
 * @param options Head outputs, where their gradients go, and the sizes.
 * @returns A {@linkcode Dueling} whose `forward` writes `q` and `backward` writes `dv` and `dAdv`.
 */
export async function createDueling(engine: Engine, options: DuelingOptions): Promise<Dueling> {
  const o = options;
  const sizes = [o.numAgents, o.batch, o.numActions];
  if (!sizes.every((s) => Number.isInteger(s) && s >= 1)) {
    throw new RangeError(
      `Cannot build "${o.label}": sizes [${sizes.join(", ")}] must be integers >= 1`,
    );
  }
  const rowShape = [o.numAgents, o.batch];
  assertShape(o.v, rowShape, { op: o.label, name: "v" });
  assertShape(o.dv, rowShape, { op: o.label, name: "dv" });
  assertShape(o.adv, sizes, { op: o.label, name: "adv" });
  assertShape(o.dAdv, sizes, { op: o.label, name: "dAdv" });
  const shape = [o.numAgents, o.batch, o.numActions];
  const q = engine.tensor({ dtype: "f32", shape, label: `${o.label}.q` });
  const dq = engine.tensor({ dtype: "f32", shape, label: `${o.label}.dq` });
  const p = { numAgents: o.numAgents, batch: o.batch, numActions: o.numActions };
  const [kf, kb] = await Promise.all([
    compileKernel(engine, duelingForward),
    compileKernel(engine, duelingBackward),
  ]);
  const fwd = kf.bind({ v: o.v, adv: o.adv, q }, p, `${o.label}.forward`);
  const bwd = kb.bind({ dq, dv: o.dv, dAdv: o.dAdv }, p, `${o.label}.backward`);
  return {
    q,
    dq,
    forward(enc) {
      fwd.encode(enc);
    },
    backward(enc) {
      bwd.encode(enc);
    },
  };
}
