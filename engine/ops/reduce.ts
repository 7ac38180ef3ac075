/**
 * Deterministic reductions per segment of `x [numSegments, n]` f32 — sum, mean, max/argmax (ties to
 * the lowest index), L2 norm — for any n (multi-pass per-workgroup partials in a fixed tree order),
 * and two-pass mean/variance of a sliding window per agent.
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../kernel.ts";
import { assertShape, type Tensor } from "../tensor.ts";
import { gridOf } from "./scan.ts";

const SHADER = "engine/ops/reduce.wgsl";
const INCLUDES = ["common/_index.wgsl"] as const;
const PARAMS = {
  numSegments: "u32",
  n: "u32",
  numBlocks: "u32",
  first: "u32",
  finalOp: "u32",
  count: "u32",
} as const;
/** Threads per reduction workgroup. */
export const REDUCE_WORKGROUP_SIZE = 128;
/** Elements each thread folds per block (the ITEMS override). */
export const REDUCE_ITEMS = 32;
/** Elements one workgroup reduces per level. */
export const REDUCE_BLOCK: number = REDUCE_WORKGROUP_SIZE * REDUCE_ITEMS;

/** One level: partials [numSegments, numBlocks] of the input [numSegments, n]. */
export const reduceBlocks = defineKernel({
  name: "reduce.blocks",
  shader: SHADER,
  entryPoint: "reduceBlocks",
  includes: INCLUDES,
  bindings: { valIn: "read", idxIn: "read", valOut: "write", idxOut: "write" },
  params: PARAMS,
  workgroups: (p) => gridOf(p.numSegments * p.numBlocks),
  workgroupSize: REDUCE_WORKGROUP_SIZE,
  constants: { ITEMS: REDUCE_ITEMS },
});

/** Mean and variance (divisor = filled count) of each agent's window; one workgroup per agent. */
export const reduceWindowMoments = defineKernel({
  name: "reduce.windowMoments",
  shader: SHADER,
  entryPoint: "windowMoments",
  includes: INCLUDES,
  bindings: { window: "read", countIn: "read", moments: "write" },
  params: PARAMS,
  workgroups: (p) => [p.numSegments, 1, 1],
  workgroupSize: REDUCE_WORKGROUP_SIZE,
});

/** Reduction of {@linkcode createReduce}; `max` and `argmax` both give the value and its index. */
export type ReduceOp = "sum" | "mean" | "max" | "argmax" | "l2norm";

const OP_CODE: Readonly<Record<ReduceOp, number>> = {
  sum: 0,
  mean: 0,
  l2norm: 1,
  max: 2,
  argmax: 2,
};
const FINAL_CODE: Readonly<Record<ReduceOp, number>> = {
  sum: 0,
  mean: 1,
  l2norm: 2,
  max: 0,
  argmax: 0,
};

/** Options of {@linkcode createReduce}. */
export interface ReduceOptions {
  /** Input [numSegments, n] f32. */
  x: Tensor;
  numSegments: number;
  n: number;
  op: ReduceOp;
  label: string;
}

/** A bound reduction and its outputs. */
export interface Reduce {
  /** [numSegments] f32: the sum, mean, max or L2 norm of each segment. */
  readonly out: Tensor<"f32">;
  /** [numSegments] u32: index of the max (lowest on ties); only for `max` and `argmax`. */
  readonly index: Tensor<"u32"> | null;
  /** Dispatches recorded per encode (levels). */
  readonly dispatches: number;
  encode(enc: Encoder): void;
}

/**
 * Builds a reduction of each segment of `x`: ceil(log_{REDUCE_BLOCK} n) levels of workgroup
 * partials, labelled `<label>.*`.
 *
 * @param engine Engine that owns the device.
 * @param o Input, sizes, op and label.
 * @returns A {@linkcode Reduce} owning `out` (and `index` for max/argmax).
 */
export async function createReduce(engine: Engine, o: ReduceOptions): Promise<Reduce> {
  const { numSegments, n } = o;
  if (!(Number.isInteger(numSegments) && numSegments >= 1 && Number.isInteger(n) && n >= 1)) {
    throw new RangeError(
      `Cannot build "${o.label}": numSegments ${numSegments} and n ${n} must be integers >= 1`,
    );
  }
  assertShape(o.x, [numSegments, n], { op: o.label, name: "x", dtype: "f32" });
  if (!(o.op in OP_CODE)) {
    throw new TypeError(`Cannot build "${o.label}": unknown op "${o.op}"`);
  }
  const withIndex = OP_CODE[o.op] === 2;
  const k = await compileKernel(engine, reduceBlocks, { OP: OP_CODE[o.op] });
  const out = engine.tensor({ dtype: "f32", shape: [numSegments], label: `${o.label}.out` });
  const index = withIndex
    ? engine.tensor({ dtype: "u32", shape: [numSegments], label: `${o.label}.index` })
    : null;
  // Sum-type ops never touch indices; they (and argmax's first level) bind spare 1-word buffers.
  const noIndex = engine.tensor({ dtype: "u32", shape: [1], label: `${o.label}.noIndex` });
  const noIndexOut = engine.tensor({ dtype: "u32", shape: [1], label: `${o.label}.noIndexOut` });
  const steps: Dispatch<typeof PARAMS>[] = [];
  let valIn: Tensor = o.x, idxIn: Tensor = noIndex, len = n;
  for (let level = 0;; level++) {
    const numBlocks = Math.ceil(len / REDUCE_BLOCK);
    const last = numBlocks === 1;
    const valOut = last ? out : engine.tensor({
      dtype: "f32",
      shape: [numSegments, numBlocks],
      label: `${o.label}.partials${level}`,
    });
    const idxOut = !withIndex ? noIndexOut : last ? index! : engine.tensor({
      dtype: "u32",
      shape: [numSegments, numBlocks],
      label: `${o.label}.partialIndex${level}`,
    });
    const p = {
      numSegments,
      n: len,
      numBlocks,
      first: level === 0 ? 1 : 0,
      finalOp: FINAL_CODE[o.op],
      count: n,
    };
    steps.push(k.bind({ valIn, valOut, idxIn, idxOut }, p, `${o.label}.level${level}`));
    if (last) break;
    valIn = valOut, idxIn = withIndex ? idxOut : noIndex, len = numBlocks;
  }
  return {
    out,
    index,
    dispatches: steps.length,
    encode(enc) {
      for (const s of steps) s.encode(enc);
    },
  };
}

/** Options of {@linkcode createWindowMoments}. */
export interface WindowMomentsOptions {
  /** Ring buffer [numAgents, capacity] f32; slots 0 … min(count, capacity) − 1 are filled. */
  window: Tensor;
  /** [numAgents] u32: values pushed so far (may exceed capacity). */
  count: Tensor;
  numAgents: number;
  capacity: number;
  label: string;
}

/** A bound window mean/variance. */
export interface WindowMoments {
  /** [numAgents, 2] f32: (mean, variance with divisor n) of the filled part; zeros when empty. */
  readonly moments: Tensor<"f32">;
  encode(enc: Encoder): void;
}

/**
 * Builds the two-pass mean and variance of each agent's sliding window (one workgroup per agent).
 *
 * @param engine Engine that owns the device.
 * @param o Window, counts, sizes and label.
 * @returns A {@linkcode WindowMoments} owning `moments`.
 */
export async function createWindowMoments(
  engine: Engine,
  o: WindowMomentsOptions,
): Promise<WindowMoments> {
  const { numAgents, capacity } = o;
  if (numAgents < 1 || numAgents > 65535 || capacity < 1) {
    throw new RangeError(
      `Cannot build "${o.label}": numAgents ${numAgents} must be in [1, 65535] and capacity ${capacity} >= 1`,
    );
  }
  assertShape(o.window, [numAgents, capacity], { op: o.label, name: "window", dtype: "f32" });
  assertShape(o.count, [numAgents], { op: o.label, name: "count", dtype: "u32" });
  const moments = engine.tensor({
    dtype: "f32",
    shape: [numAgents, 2],
    label: `${o.label}.moments`,
  });
  const k = await compileKernel(engine, reduceWindowMoments);
  const d = k.bind(
    { window: o.window, countIn: o.count, moments },
    { numSegments: numAgents, n: capacity, numBlocks: 1, first: 1, finalOp: 0, count: capacity },
    o.label,
  );
  return { moments, encode: (enc) => d.encode(enc) };
}
