/**
 * Quantiles with linear interpolation (NumPy's default) of a sliding window per agent, e.g. SUPER's
 * 90th percentile of the last 1,500 |TD| values: a bitonic sort of a power-of-two padded copy (in
 * storage memory, one workgroup per agent). Only the filled part of a window counts.
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel } from "../kernel.ts";
import { assertShape, type Tensor } from "../tensor.ts";

/** Threads per quantile workgroup. */
export const QUANTILE_WORKGROUP_SIZE = 256;

/** Sorts each agent's filled window and interpolates the requested quantiles. */
export const quantileWindow = defineKernel({
  name: "quantile.window",
  shader: "engine/ops/quantile.wgsl",
  entryPoint: "windowQuantile",
  includes: ["common/_index.wgsl"],
  bindings: { window: "read", countIn: "read", qs: "read", sorted: "write", out: "write" },
  params: { numAgents: "u32", capacity: "u32", numQ: "u32", sortSize: "u32" },
  workgroups: (p) => [p.numAgents, 1, 1],
  workgroupSize: QUANTILE_WORKGROUP_SIZE,
});

/** Options of {@linkcode createWindowQuantile}. */
export interface WindowQuantileOptions {
  /** Ring buffer [numAgents, capacity] f32; slots 0 … min(count, capacity) − 1 are filled. */
  window: Tensor;
  /** [numAgents] u32: values pushed so far (may exceed capacity). */
  count: Tensor;
  numAgents: number;
  capacity: number;
  /** Quantiles in [0, 1], e.g. [0.9]. */
  qs: readonly number[];
  label: string;
}

/** A bound window quantile. */
export interface WindowQuantile {
  /** [numAgents, qs.length] f32; 0 for an empty window. */
  readonly out: Tensor<"f32">;
  /** [numAgents, sortSize] f32: each filled window ascending, padded with the largest f32. */
  readonly sorted: Tensor<"f32">;
  /** Padded length: the smallest power of two ≥ max(capacity, 2). */
  readonly sortSize: number;
  encode(enc: Encoder): void;
}

/**
 * Builds the quantiles `qs` of each agent's window: a bitonic sort of the window padded to the next
 * power of two (sortSize), then linear interpolation.
 *
 * @param engine Engine that owns the device.
 * @param o Window, counts, sizes, quantiles and label.
 * @returns A {@linkcode WindowQuantile} owning `out` and `sorted`.
 */
export async function createWindowQuantile(
  engine: Engine,
  o: WindowQuantileOptions,
): Promise<WindowQuantile> {
  const { numAgents, capacity, qs } = o;
  if (!(Number.isInteger(numAgents) && numAgents >= 1 && numAgents <= 65535)) {
    throw new RangeError(`Cannot build "${o.label}": numAgents ${numAgents} is not in [1, 65535]`);
  }
  const sortSize = Math.max(2, 2 ** Math.ceil(Math.log2(Math.max(1, capacity))));
  if (!(Number.isInteger(capacity) && capacity >= 1)) {
    throw new RangeError(`Cannot build "${o.label}": capacity ${capacity} must be an integer >= 1`);
  }
  if (qs.length === 0 || qs.some((q) => !(q >= 0 && q <= 1))) {
    throw new RangeError(
      `Cannot build "${o.label}": qs [${qs.join(", ")}] must be non-empty, in [0, 1]`,
    );
  }
  assertShape(o.window, [numAgents, capacity], { op: o.label, name: "window", dtype: "f32" });
  assertShape(o.count, [numAgents], { op: o.label, name: "count", dtype: "u32" });
  const qsT = engine.tensor({ dtype: "f32", shape: [qs.length], label: `${o.label}.qs`, data: qs });
  const out = engine.tensor({
    dtype: "f32",
    shape: [numAgents, qs.length],
    label: `${o.label}.out`,
  });
  const sorted = engine.tensor({
    dtype: "f32",
    shape: [numAgents, sortSize],
    label: `${o.label}.sorted`,
  });
  const k = await compileKernel(engine, quantileWindow);
  const d = k.bind(
    { window: o.window, countIn: o.count, qs: qsT, sorted, out },
    { numAgents, capacity, numQ: qs.length, sortSize },
    o.label,
  );
  return { out, sorted, sortSize, encode: (enc) => d.encode(enc) };
}
