/**
 * Prefix sums (inclusive or exclusive, u32 or f32) per segment of `x [numSegments, n]`, for any n:
 * a per-workgroup block scan, a recursive exclusive scan of the block sums, and an add-back.
 * The order of additions is fixed, so f32 results are deterministic.
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../kernel.ts";
import type { Tensor } from "../tensor.ts";

const SHADER = "engine/ops/scan.wgsl";
const PARAMS = { numSegments: "u32", n: "u32", numBlocks: "u32", exclusive: "u32" } as const;
/** Threads per scan workgroup. */
export const SCAN_WORKGROUP_SIZE = 256;
/** Elements each thread scans serially (the ITEMS override). */
export const SCAN_ITEMS = 4;
/** Elements one workgroup scans. */
export const SCAN_BLOCK: number = SCAN_WORKGROUP_SIZE * SCAN_ITEMS;
/** Workgroups per grid dimension every WebGPU device supports. */
const MAX_GROUPS = 65535;

/** Splits a flat workgroup count into an (x, y) grid within {@linkcode MAX_GROUPS} per dimension. */
export function gridOf(groups: number): number[] {
  return groups <= MAX_GROUPS ? [groups, 1, 1] : [MAX_GROUPS, Math.ceil(groups / MAX_GROUPS), 1];
}

/** Scans each block of SCAN_BLOCK elements; writes y and the block totals. */
export const scanBlocks = defineKernel({
  name: "scan.blocks",
  shader: SHADER,
  entryPoint: "scanBlocks",
  includes: ["common/_index.wgsl"],
  bindings: { x: "read", y: "write", blockSums: "write" },
  params: PARAMS,
  workgroups: (p) => gridOf(p.numSegments * p.numBlocks),
  workgroupSize: SCAN_WORKGROUP_SIZE,
  constants: { ITEMS: SCAN_ITEMS },
});

/** y[s, i] += offsets[s, i / SCAN_BLOCK]; one thread per element. */
export const scanAddOffsets = defineKernel({
  name: "scan.addOffsets",
  shader: SHADER,
  entryPoint: "addOffsets",
  includes: ["common/_index.wgsl"],
  bindings: { y: "write", offsets: "read" },
  params: PARAMS,
  threads: (p) => p.numSegments * p.n,
  workgroupSize: SCAN_WORKGROUP_SIZE,
  constants: { ITEMS: SCAN_ITEMS },
});

/** Options of {@linkcode createScan}. */
export interface ScanOptions {
  /** Input [numSegments, n], u32 or f32. */
  x: Tensor;
  /** Output, same shape and dtype as x (must not be x). */
  y: Tensor;
  numSegments: number;
  n: number;
  /** Exclusive (y[0] = 0) rather than inclusive. */
  exclusive: boolean;
  label: string;
}

/** A bound scan. */
export interface Scan {
  /** Records every level of the scan. */
  encode(enc: Encoder): void;
  /** Number of dispatches recorded per encode. */
  readonly dispatches: number;
}

/**
 * Builds a prefix sum over each segment of `x`, with the block-sum buffers of every level.
 *
 * @param engine Engine that owns the device.
 * @param o Input, output, sizes, mode and label.
 * @returns A {@linkcode Scan} whose `encode` writes `y` (and nothing the caller owns besides).
 */
export async function createScan(engine: Engine, o: ScanOptions): Promise<Scan> {
  const { numSegments, n, x, y } = o;
  if (!(Number.isInteger(numSegments) && numSegments >= 1 && Number.isInteger(n) && n >= 1)) {
    throw new RangeError(
      `Cannot build "${o.label}": numSegments ${numSegments} and n ${n} must be integers >= 1`,
    );
  }
  if (x.dtype !== "u32" && x.dtype !== "f32") {
    throw new TypeError(
      `Cannot build "${o.label}": x "${x.label}" is ${x.dtype}, needs u32 or f32`,
    );
  }
  if (x.size !== numSegments * n || y.size !== x.size || y.dtype !== x.dtype) {
    throw new TypeError(
      `Cannot build "${o.label}": x ${x.dtype} [${x.shape.join(", ")}] and y ${y.dtype} [${
        y.shape.join(", ")
      }] must both be ${x.dtype} [${numSegments}, ${n}]`,
    );
  }
  if (x.buffer === y.buffer) {
    throw new TypeError(`Cannot build "${o.label}": y must not share a buffer with x`);
  }
  const constants = { FLOAT: x.dtype === "f32" ? 1 : 0 };
  const [kScan, kAdd] = await Promise.all([
    compileKernel(engine, scanBlocks, constants),
    compileKernel(engine, scanAddOffsets, constants),
  ]);
  const steps: Dispatch<typeof PARAMS>[] = [];
  const build = (input: Tensor, output: Tensor, len: number, exclusive: boolean, level: number) => {
    const numBlocks = Math.ceil(len / SCAN_BLOCK);
    const p = { numSegments, n: len, numBlocks, exclusive: exclusive ? 1 : 0 };
    const sums = engine.tensor({
      dtype: x.dtype,
      shape: [numSegments, numBlocks],
      label: `${o.label}.sums${level}`,
    });
    steps.push(
      kScan.bind({ x: input, y: output, blockSums: sums }, p, `${o.label}.blocks${level}`),
    );
    if (numBlocks === 1) return;
    const offsets = engine.tensor({
      dtype: x.dtype,
      shape: [numSegments, numBlocks],
      label: `${o.label}.offsets${level}`,
    });
    build(sums, offsets, numBlocks, true, level + 1);
    steps.push(kAdd.bind({ y: output, offsets }, p, `${o.label}.add${level}`));
  };
  build(x, y, n, o.exclusive, 0);
  return {
    dispatches: steps.length,
    encode(enc) {
      for (const s of steps) s.encode(enc);
    },
  };
}
