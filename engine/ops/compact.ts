/**
 * Stream compaction per segment: from 0/1 flags `[numSegments, n]`, the kept row indices in order
 * (a stable partition: kept first, then the rest), the kept count per segment, the total, and
 * indirect-dispatch arguments so the next kernel runs over exactly the kept rows, all on the GPU.
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel } from "../kernel.ts";
import { assertShape, type Tensor } from "../tensor.ts";
import { createScan } from "./scan.ts";

const SHADER = "engine/ops/compact.wgsl";
const INCLUDES = ["common/_index.wgsl"] as const;
const PARAMS = { numSegments: "u32", n: "u32", group: "u32", seeds: "u32" } as const;
/** Workgroup size of {@linkcode compactGather} (its indirect args must count groups of this). */
export const GATHER_WORKGROUP_SIZE = 64;

/** Scatters row indices by their exclusive-scan position; writes indices, counts and args. */
export const compactScatter = defineKernel({
  name: "compact.scatter",
  shader: SHADER,
  entryPoint: "scatter",
  includes: INCLUDES,
  bindings: { flags: "read", pos: "read", indices: "write", counts: "write", args: "write" },
  params: PARAMS,
  threads: (p) => p.numSegments * p.n,
});

/** One thread: total kept count and the total and per-segment-grid indirect args. */
export const compactTotals = defineKernel({
  name: "compact.totals",
  shader: SHADER,
  entryPoint: "totals",
  includes: INCLUDES,
  bindings: { countsIn: "read", total: "write", args: "write" },
  params: PARAMS,
  workgroups: () => [1, 1, 1],
  workgroupSize: null,
});

/** gathered[s, j] = values[s, indices[s, j]] for j < counts[s]; dispatched indirectly. */
export const compactGather = defineKernel({
  name: "compact.gather",
  shader: SHADER,
  entryPoint: "gather",
  includes: INCLUDES,
  bindings: { countsIn: "read", indicesIn: "read", values: "read", gathered: "write" },
  params: PARAMS,
  workgroups: (p) => [Math.ceil(p.n / GATHER_WORKGROUP_SIZE), p.numSegments, 1],
  workgroupSize: GATHER_WORKGROUP_SIZE,
});

/** Options of {@linkcode createCompact}. */
export interface CompactOptions {
  /** Keep flags [numSegments, n], u32, each 0 or 1 (other values give undefined results). */
  flags: Tensor;
  numSegments: number;
  n: number;
  /** Workgroup size of the kernel the args are for (default 64). */
  group?: number;
  /**
   * Seeds batched over the segments (default 1; segment `b·seeds + k` is seed k's segment b):
   * `total` and the total and grid rows of `args` are kept per seed, in seed-minor order, so each
   * seed's slice is what a one-seed compaction holds.
   */
  seeds?: number;
  label: string;
}

/** A bound compaction and the buffers it writes. */
export interface Compact {
  readonly numSegments: number;
  readonly n: number;
  readonly group: number;
  /** Seeds batched over the segments (1: one seed). */
  readonly seeds: number;
  /** [numSegments, n]: kept row indices in order, then the dropped ones in order. */
  readonly indices: Tensor<"u32">;
  /** [numSegments]: kept rows per segment. */
  readonly counts: Tensor<"u32">;
  /** [seeds] (one seed: [1]): kept rows over all segments (of each seed). */
  readonly total: Tensor<"u32">;
  /**
   * [numSegments + 2·seeds, 3] indirect args (INDIRECT usage): row s = (ceil(counts[s] / group),
   * 1, 1); row numSegments + k = (ceil(total[k] / group), 1, 1); row numSegments + seeds + k =
   * (ceil(max counts / group), numSegments / seeds, 1) over seed k's segments, a grid whose y is
   * the segment (one seed: rows numSegments and numSegments + 1).
   */
  readonly args: Tensor<"u32">;
  /** Element offset into `args` of segment `s`'s row (for `Dispatch.encodeIndirect`). */
  segmentArgs(s: number): number;
  /** Element offset of the total row (seed 0's). */
  readonly totalArgs: number;
  /** Element offset of the (max count, numSegments) grid row (seed 0's). */
  readonly gridArgs: number;
  /** Records the scan, the scatter and the totals. */
  encode(enc: Encoder): void;
}

/**
 * Builds compaction of `flags` (exclusive scan, scatter, totals), labelled `<label>.*`.
 *
 * @param engine Engine that owns the device.
 * @param o Flags, sizes, consumer workgroup size and label.
 * @returns A {@linkcode Compact} owning indices, counts, total and args.
 */
export async function createCompact(engine: Engine, o: CompactOptions): Promise<Compact> {
  const { numSegments, n } = o;
  const group = o.group ?? 64;
  const seeds = o.seeds ?? 1;
  if (!(Number.isInteger(seeds) && seeds >= 1 && numSegments % seeds === 0)) {
    throw new RangeError(
      `Cannot build "${o.label}": seeds must be an integer >= 1 that divides ${numSegments} segments, got ${seeds}`,
    );
  }
  if (!(Number.isInteger(group) && group >= 1)) {
    throw new RangeError(`Cannot build "${o.label}": group must be an integer >= 1, got ${group}`);
  }
  if (numSegments > 65535) {
    throw new RangeError(
      `Cannot build "${o.label}": ${numSegments} segments exceed 65535 grid rows`,
    );
  }
  assertShape(o.flags, [numSegments, n], { op: o.label, name: "flags", dtype: "u32" });
  const shape = [numSegments, n];
  const pos = engine.tensor({ dtype: "u32", shape, label: `${o.label}.pos` });
  const indices = engine.tensor({ dtype: "u32", shape, label: `${o.label}.indices` });
  const counts = engine.tensor({ dtype: "u32", shape: [numSegments], label: `${o.label}.counts` });
  const total = engine.tensor({ dtype: "u32", shape: [seeds], label: `${o.label}.total` });
  const args = engine.tensor({
    dtype: "u32",
    shape: [numSegments + 2 * seeds, 3],
    label: `${o.label}.args`,
    usage: GPUBufferUsage.INDIRECT,
  });
  const [scan, kScatter, kTotals] = await Promise.all([
    createScan(engine, {
      x: o.flags,
      y: pos,
      numSegments,
      n,
      exclusive: true,
      label: `${o.label}.scan`,
    }),
    compileKernel(engine, compactScatter),
    compileKernel(engine, compactTotals),
  ]);
  const p = { numSegments, n, group, seeds };
  const scatter = kScatter.bind(
    { flags: o.flags, pos, indices, counts, args },
    p,
    `${o.label}.scatter`,
  );
  const totals = kTotals.bind({ countsIn: counts, total, args }, p, `${o.label}.totals`);
  return {
    numSegments,
    n,
    group,
    seeds,
    indices,
    counts,
    total,
    args,
    segmentArgs: (s) => 3 * s,
    totalArgs: 3 * numSegments,
    gridArgs: 3 * (numSegments + seeds),
    encode(enc) {
      scan.encode(enc);
      scatter.encode(enc);
      totals.encode(enc);
    },
  };
}

/** A bound gather over the kept rows of a {@linkcode Compact}. */
export interface Gather {
  /** Records the gather as one indirect dispatch over (max count, numSegments). */
  encode(enc: Encoder): void;
}

/**
 * Builds `gathered[s, j] = values[s, indices[s, j]]` for j < counts[s] (4-byte dtypes), dispatched
 * indirectly from the compaction's grid args; rows j ≥ counts[s] of `gathered` are not written.
 *
 * @param engine Engine that owns the device.
 * @param o The compaction (built with group = GATHER_WORKGROUP_SIZE), values, output and label.
 * @returns A {@linkcode Gather}.
 */
export async function createGather(
  engine: Engine,
  o: { compact: Compact; values: Tensor; gathered: Tensor; label: string },
): Promise<Gather> {
  const c = o.compact;
  if (c.seeds !== 1) {
    throw new RangeError(
      `Cannot build "${o.label}": the compaction batches ${c.seeds} seeds, gather needs one`,
    );
  }
  if (c.group !== GATHER_WORKGROUP_SIZE) {
    throw new RangeError(
      `Cannot build "${o.label}": compaction counts groups of ${c.group}, gather needs ${GATHER_WORKGROUP_SIZE}`,
    );
  }
  for (const [name, t] of [["values", o.values], ["gathered", o.gathered]] as const) {
    assertShape(t, [c.numSegments, c.n], { op: o.label, name, dtype: ["f32", "u32", "i32"] });
  }
  const k = await compileKernel(engine, compactGather);
  const d = k.bind(
    { countsIn: c.counts, indicesIn: c.indices, values: o.values, gathered: o.gathered },
    { numSegments: c.numSegments, n: c.n, group: c.group, seeds: 1 },
    o.label,
  );
  return { encode: (enc) => d.encodeIndirect(enc, c.args, c.gridArgs) };
}
