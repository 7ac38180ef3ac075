/**
 * Deterministic per-agent mean of `[numAgents, count]` values (one workgroup per agent, strided
 * sums then a fixed binary tree: no float atomics, same result on every run), plus the shape
 * checks the loss ops share.
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel } from "../kernel.ts";
import { assertShape, type Tensor } from "../tensor.ts";

/** Threads per workgroup of {@linkcode agentMeanKernel} (a power of two). */
export const MEAN_WORKGROUP_SIZE = 256;

/** out[a] = coef·Σ_{i < count} values[a, i], one workgroup per agent. */
export const agentMeanKernel = defineKernel({
  name: "agentMean.reduce",
  shader: "engine/ops/agent_mean.wgsl",
  entryPoint: "reduce",
  includes: ["common/_index.wgsl"],
  bindings: { values: "read", out: "write" },
  params: { numAgents: "u32", count: "u32", coef: "f32" },
  workgroups: (p) => [p.numAgents, 1, 1],
  workgroupSize: MEAN_WORKGROUP_SIZE,
});

/**
 * Throws a RangeError unless every size is an integer ≥ 1.
 *
 * @param label Label of the op being built (named in the error).
 * @param sizes Sizes by name.
 */
export function assertSizes(label: string, sizes: Record<string, number>): void {
  for (const [name, v] of Object.entries(sizes)) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`Cannot build "${label}": ${name} is ${v}, needs an integer >= 1`);
    }
  }
}

/** Options of {@linkcode createAgentMean}. */
export interface AgentMeanOptions {
  /** Values to reduce: [numAgents, count] (any shape with that many f32 elements). */
  values: Tensor;
  numAgents: number;
  /** Items per agent. */
  count: number;
  /** out[a] = scale·(1/count)·Σ values[a, :]. Default 1. */
  scale?: number;
  /** Label of `out`; the dispatch is labelled `<label>.reduce`. */
  label: string;
}

/** A bound per-agent mean: owns `out [numAgents]`. */
export interface AgentMean {
  readonly out: Tensor<"f32">;
  /** Writes `out`. */
  forward(enc: Encoder): void;
}

/**
 * Builds the deterministic per-agent mean of `options.values`.
 *
 * @param engine Engine that owns the device.
 * @param options Input, sizes, scale and the label of the output.
 * @returns An {@linkcode AgentMean} whose `forward(enc)` writes `out`.
 */
export async function createAgentMean(
  engine: Engine,
  options: AgentMeanOptions,
): Promise<AgentMean> {
  const { numAgents, count, label } = options;
  assertSizes(label, { numAgents, count });
  assertShape(options.values, [numAgents, count], { op: label, name: "values", dtype: "f32" });
  const out = engine.tensor({ dtype: "f32", shape: [numAgents], label });
  const k = await compileKernel(engine, agentMeanKernel);
  const d = k.bind(
    { values: options.values, out },
    { numAgents, count, coef: (options.scale ?? 1) / count },
    `${label}.reduce`,
  );
  return { out, forward: (enc) => d.encode(enc) };
}
