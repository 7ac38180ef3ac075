/**
 * Block replication: `dst[b] = src[b mod srcBlocks]` over `[blocks, stride]` f32 tensors, one
 * dispatch (seed batching: a shared-parameter network of each seed repeated for each agent).
 * CPU reference: {@linkcode replicateBlocksReference}.
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel } from "../kernel.ts";
import type { Tensor } from "../tensor.ts";

/** dst[b, i] = src[b mod srcBlocks, i]. */
export const replicateKernel = defineKernel({
  name: "replicate.blocks",
  shader: "engine/ops/replicate.wgsl",
  entryPoint: "replicate",
  includes: ["common/_index.wgsl"],
  bindings: { src: "read", dst: "write" },
  params: { numBlocks: "u32", srcBlocks: "u32", stride: "u32" },
  threads: (p) => p.numBlocks * p.stride,
});

/**
 * The CPU reference of {@linkcode createReplicateBlocks}.
 *
 * @example Two source blocks of 2 values into 3 blocks
 * ```ts
 * import { replicateBlocksReference } from "./replicate.ts";
 *
 * console.log([...replicateBlocksReference(Float32Array.of(1, 2, 3, 4), 3, 2)]); // [1, 2, 3, 4, 1, 2]
 * ```
 *
 * @param src `[srcBlocks, stride]` values.
 * @param numBlocks Blocks of the result.
 * @param stride Values per block.
 * @returns `[numBlocks, stride]` values.
 */
export function replicateBlocksReference(
  src: Float32Array,
  numBlocks: number,
  stride: number,
): Float32Array {
  const srcBlocks = src.length / stride;
  const out = new Float32Array(numBlocks * stride);
  for (let b = 0; b < numBlocks; b++) {
    out.set(src.subarray((b % srcBlocks) * stride, (b % srcBlocks + 1) * stride), b * stride);
  }
  return out;
}

/**
 * Binds a replication of `src`'s blocks into `dst`.
 *
 * @param engine Engine that owns the device.
 * @param o Source `[srcBlocks, stride]` and destination `[numBlocks, stride]` f32 tensors.
 * @returns The recorded operation.
 */
export async function createReplicateBlocks(
  engine: Engine,
  o: { src: Tensor; dst: Tensor; stride: number; label: string },
): Promise<{ encode(enc: Encoder): void }> {
  const { src, dst, stride, label } = o;
  const srcBlocks = src.size / stride, numBlocks = dst.size / stride;
  if (!Number.isInteger(srcBlocks) || !Number.isInteger(numBlocks) || srcBlocks < 1) {
    throw new RangeError(
      `Cannot build "${label}": ${src.size} and ${dst.size} values are not whole blocks of ${stride}`,
    );
  }
  const k = await compileKernel(engine, replicateKernel);
  const d = k.bind({ src, dst }, { numBlocks, srcBlocks, stride }, label);
  return { encode: (enc) => d.encode(enc) };
}
