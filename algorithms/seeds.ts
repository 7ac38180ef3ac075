/**
 * Seed batching (docs/statistics.md §8): S seeds trained in the same dispatches. Two layouts
 * fold the seed axis into the axes a pipeline already batches over:
 *
 * - env axis, seed-major: envs `[k·n, (k+1)·n)` are seed k's (`VecEnvOptions.seeds`), so every
 *   `[…, numEnvs, …]` tensor is `[…, S, n, …]`;
 * - parameter-block axis, seed-minor: block `a·S + k` is seed k's agent a, so a network batched
 *   over blocks reads, on the agent-major `[numAgents, S·n, …]` observations, exactly seed k's
 *   rows of agent a in block `a·S + k` (shared-parameter variants: block k is seed k's network).
 *
 * Either way a tensor is `[outer, S, inner]` elements ({@linkcode SeedLayout}); this module slices
 * a seed out of such a tensor (host or GPU) and joins seeds into one.
 *
 * @module
 */
import type { Encoder } from "../engine/encoder.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { VecEnv } from "../envs/env.ts";
import { envStateTensors, type SeedLayout } from "./trainer.ts";

export type { SeedLayout } from "./trainer.ts";

/** A host array of any element type a tensor holds. */
type HostArray = Float32Array | Uint32Array | Int32Array | Uint8Array;

/**
 * The layout of a batched tensor whose axis `axis` holds S seeds seed-major (the env axis: seed
 * k's entries `[k·n, (k+1)·n)`).
 *
 * @example A [numAgents, S·numEnvs] reward tensor of 3 agents, 4 seeds × 8 envs
 * ```ts
 * import { seedMajor } from "./seeds.ts";
 *
 * console.log(seedMajor([3, 32], 1, 4)); // { outer: 3, inner: 8 }
 * ```
 *
 * @param shape The batched tensor's shape.
 * @param axis The axis of size S·n.
 * @param seeds S.
 * @returns `{ outer, inner }`.
 */
export function seedMajor(shape: readonly number[], axis: number, seeds: number): SeedLayout {
  const n = shape[axis] / seeds;
  if (!Number.isInteger(n)) {
    throw new RangeError(
      `seedMajor: axis ${axis} of [${shape}] does not split into ${seeds} seeds`,
    );
  }
  const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
  return { outer: prod(shape.slice(0, axis)), inner: n * prod(shape.slice(axis + 1)) };
}

/**
 * The layout of a batched tensor whose first axis is parameter blocks in seed-minor order
 * (block `a·S + k`: seed k's block a) with `blocksPerSeed` blocks per seed.
 *
 * @example Adam moments [2 agents × 4 seeds, 100 parameters]
 * ```ts
 * import { seedMinorBlocks } from "./seeds.ts";
 *
 * console.log(seedMinorBlocks([8, 100], 2)); // { outer: 2, inner: 100 }
 * ```
 *
 * @param shape The batched tensor's shape, blocks first.
 * @param blocksPerSeed Blocks of one seed.
 * @returns `{ outer, inner }`.
 */
export function seedMinorBlocks(shape: readonly number[], blocksPerSeed: number): SeedLayout {
  return { outer: blocksPerSeed, inner: shape.slice(1).reduce((a, b) => a * b, 1) };
}

function checkLayout(size: number, layout: SeedLayout, seeds: number, what: string): void {
  if (layout !== "shared" && layout.outer * seeds * layout.inner !== size) {
    throw new RangeError(
      `${what}: ${size} elements do not hold [${layout.outer}, ${seeds}, ${layout.inner}]`,
    );
  }
}

/**
 * Seed k's part of a batched host array (a copy; "shared" arrays are copied whole).
 *
 * @example Seed 1 of two seeds in [2 agents, 2 seeds, 3 values]
 * ```ts
 * import { sliceSeed } from "./seeds.ts";
 *
 * const all = Float32Array.from({ length: 12 }, (_, i) => i);
 * console.log([...sliceSeed(all, { outer: 2, inner: 3 }, 2, 1)]); // [3, 4, 5, 9, 10, 11]
 * ```
 *
 * @param data The batched array.
 * @param layout Its {@linkcode SeedLayout}.
 * @param seeds S.
 * @param k The seed index.
 * @returns Seed k's array, as a run of seed k alone holds it.
 */
export function sliceSeed<A extends HostArray>(
  data: A,
  layout: SeedLayout,
  seeds: number,
  k: number,
): A {
  checkLayout(data.length, layout, seeds, "sliceSeed");
  if (layout === "shared") return data.slice() as A;
  const { outer, inner } = layout;
  const out = new (data.constructor as new (n: number) => A)(outer * inner);
  for (let o = 0; o < outer; o++) {
    out.set(data.subarray((o * seeds + k) * inner, (o * seeds + k + 1) * inner), o * inner);
  }
  return out;
}

/**
 * Joins each seed's array into the batched array (inverse of {@linkcode sliceSeed}); "shared"
 * arrays must be equal in every seed.
 *
 * @example Two seeds' [2 agents, 1 value] into [2 agents, 2 seeds, 1 value]
 * ```ts
 * import { joinSeeds } from "./seeds.ts";
 *
 * const parts = [Float32Array.of(1, 2), Float32Array.of(3, 4)];
 * console.log([...joinSeeds(parts, { outer: 2, inner: 1 })]); // [1, 3, 2, 4]
 * ```
 *
 * @param parts Seed 0's, seed 1's, … arrays.
 * @param layout The batched tensor's {@linkcode SeedLayout}.
 * @returns The batched array.
 */
export function joinSeeds<A extends HostArray>(parts: readonly A[], layout: SeedLayout): A {
  const seeds = parts.length;
  if (layout === "shared") {
    const first = parts[0];
    parts.forEach((p, k) => {
      if (p.length !== first.length || p.some((v, i) => v !== first[i])) {
        throw new RangeError(`joinSeeds: seed ${k} differs from seed 0 in a shared tensor`);
      }
    });
    return first.slice() as A;
  }
  const { outer, inner } = layout;
  const out = new (parts[0].constructor as new (n: number) => A)(outer * seeds * inner);
  parts.forEach((p, k) => {
    checkLayout(p.length * seeds, layout, seeds, `joinSeeds (seed ${k})`);
    for (let o = 0; o < outer; o++) {
      out.set(p.subarray(o * inner, (o + 1) * inner), (o * seeds + k) * inner);
    }
  });
  return out;
}

/**
 * Records the copy of seed k's part of a batched tensor into a one-seed tensor (`outer` buffer
 * copies, no dispatch, no read): e.g. seed k's weights into a one-seed trainer that evaluates it.
 *
 * @param enc The encoder.
 * @param src The batched tensor.
 * @param dst The one-seed tensor (`outer · inner` elements of the same type).
 * @param layout `src`'s {@linkcode SeedLayout}.
 * @param seeds S.
 * @param k The seed index.
 */
export function encodeCopySeed(
  enc: Encoder,
  src: Tensor,
  dst: Tensor,
  layout: SeedLayout,
  seeds: number,
  k: number,
): void {
  checkLayout(src.size, layout, seeds, `copy of seed ${k} from "${src.label}"`);
  if (layout === "shared") {
    enc.copy(src, dst);
    return;
  }
  const { outer, inner } = layout;
  if (dst.size !== outer * inner || dst.dtype !== src.dtype) {
    throw new RangeError(
      `Cannot copy seed ${k} of "${src.label}" into "${dst.label}": needs ${
        outer * inner
      } ${src.dtype} elements, has ${dst.size} ${dst.dtype}`,
    );
  }
  const bytes = src.byteLength / src.size;
  if ((inner * bytes) % 4 !== 0) {
    throw new RangeError(
      `Cannot copy seed ${k} of "${src.label}": runs of ${inner} elements are not 4-byte aligned`,
    );
  }
  for (let o = 0; o < outer; o++) {
    enc.raw.copyBufferToBuffer(
      src.buffer,
      src.offset + (o * seeds + k) * inner * bytes,
      dst.buffer,
      dst.offset + o * inner * bytes,
      inner * bytes,
    );
  }
}

/**
 * Interleaves per-seed parameter blocks into the seed-minor block order (block `a·S + k` is seed
 * k's block a): the initial parameters of a batch from each seed's own initialisation.
 *
 * @example Two seeds of 2 blocks of 1 parameter
 * ```ts
 * import { interleaveBlocks } from "./seeds.ts";
 *
 * console.log([...interleaveBlocks([Float32Array.of(1, 2), Float32Array.of(3, 4)], 1)]); // [1, 3, 2, 4]
 * ```
 *
 * @param perSeed Each seed's `[blocks, stride]` parameters.
 * @param stride Parameters per block.
 * @returns `[blocks · S, stride]` parameters.
 */
export function interleaveBlocks(perSeed: readonly Float32Array[], stride: number): Float32Array {
  return joinSeeds(perSeed, { outer: perSeed[0].length / stride, inner: stride });
}

/**
 * The layouts of the env's entries of `stateTensors()` (as {@linkcode envStateTensors} keys them)
 * in an env holding `seeds` seeds: the observations' env axis is axis 1 (`[numAgents, numEnvs,
 * …]`), every other state tensor's is its first axis of size numEnvs.
 *
 * @param env The batched env.
 * @param seeds S.
 * @param prefix Key prefix, as in `envStateTensors`.
 * @returns Layouts by key.
 */
export function envSeedLayouts(
  env: VecEnv,
  seeds: number,
  prefix = "env",
): Record<string, SeedLayout> {
  const out: Record<string, SeedLayout> = {};
  for (const [key, t] of Object.entries(envStateTensors(env, prefix))) {
    const axis = t === env.buffers.obs ? 1 : t.shape.indexOf(env.numEnvs);
    if (axis < 0 || t.shape[axis] !== env.numEnvs) {
      throw new TypeError(`envSeedLayouts: "${key}" [${t.shape}] has no env axis`);
    }
    out[key] = seedMajor(t.shape, axis, seeds);
  }
  return out;
}
