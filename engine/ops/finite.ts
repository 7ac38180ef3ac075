/**
 * Non-finite detection on the GPU: counts the NaN and ±Inf values of named f32 tensors (a
 * network's parameters and gradients, optimiser moments, loss accumulators), one counter per
 * tensor, so a run can stop at its next log point naming the first broken group instead of
 * training on garbage.
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../kernel.ts";
import type { Tensor } from "../tensor.ts";

/** counts[group] += the number of NaN or ±Inf values among x[0 .. n). */
export const nonFiniteCount = defineKernel({
  name: "finite.count",
  shader: "engine/ops/finite.wgsl",
  entryPoint: "count",
  includes: ["common/_index.wgsl"],
  bindings: { x: "read", counts: "write" },
  params: { n: "u32", group: "u32" },
  threads: (p) => p.n,
});

/** One tensor's non-finite values. */
export interface NonFinite {
  readonly name: string;
  readonly count: number;
}

/** A bound check over a fixed set of tensors. */
export interface FiniteCheck {
  /** The checked tensors' names, in counter order. */
  readonly names: readonly string[];
  /** [names.length] u32 counters, zeroed and filled by `encode`. */
  readonly counts: Tensor<"u32">;
  /** Records zeroing the counters and counting every tensor. */
  encode(enc: Encoder): void;
  /** The tensors with non-finite values, in the order given, from a host copy of `counts`. */
  decode(counts: Uint32Array): NonFinite[];
}

/**
 * Builds a check of the f32 tensors among `tensors` (others are skipped): one dispatch per
 * tensor, counting into one u32 per tensor.
 *
 * @example Find the tensor that went non-finite
 * ```ts
 * import { createEngine, readTensor } from "../../mod.ts";
 * import { createFiniteCheck } from "./finite.ts";
 *
 * const engine = await createEngine();
 * const params = engine.tensor({ dtype: "f32", shape: [3], label: "example.params" });
 * const grads = engine.tensor({ dtype: "f32", shape: [3], label: "example.grads" });
 * engine.write(params, [1, 2, 3]);
 * engine.write(grads, [0, NaN, Infinity]);
 * const check = await createFiniteCheck(engine, { params, grads }, "example");
 * const enc = engine.encoder("example");
 * check.encode(enc);
 * engine.submit(enc);
 * console.log(check.decode(await readTensor(engine, check.counts))); // [{ name: "grads", count: 2 }]
 * engine.destroy();
 * ```
 *
 * @param engine Engine that owns the device.
 * @param tensors Tensors by name (a trainer's `stateTensors()`, say).
 * @param label Label prefix of the counters.
 * @returns A {@linkcode FiniteCheck}.
 */
export async function createFiniteCheck(
  engine: Engine,
  tensors: Readonly<Record<string, Tensor>>,
  label: string,
): Promise<FiniteCheck> {
  const entries = Object.entries(tensors).filter(([, t]) => t.dtype === "f32" && t.size > 0);
  const names = entries.map(([n]) => n);
  const counts = engine.tensor({
    dtype: "u32",
    shape: [Math.max(1, names.length)],
    label: `${label}.nonFinite`,
  }) as Tensor<"u32">;
  const kernel = await compileKernel(engine, nonFiniteCount);
  const dispatches: Dispatch<typeof nonFiniteCount.params>[] = entries.map(([name, x], group) =>
    kernel.bind({ x, counts }, { n: x.size, group }, `${label}.nonFinite.${name}`)
  );
  return {
    names,
    counts,
    encode(enc) {
      enc.clear(counts);
      for (const d of dispatches) d.encode(enc);
    },
    decode(values) {
      return names.flatMap((name, g) => (values[g] > 0 ? [{ name, count: values[g] }] : []));
    },
  };
}
