/**
 * Sampling on the GPU over per-ring data (a ring is one agent's replay buffer, or the single shared
 * buffer): PER sum/min trees with path updates, proportional (PER) and uniform draws with
 * replacement, draws without replacement (exponential race = Gumbel-top-k), and LBS resampling of a
 * pooled batch. Randomness is `rngU32(seed, RNG_PURPOSE.sample, ring, item, clock, 0)` where
 * `clock` is a per-sampler GPU counter advanced after every call, so the host never writes a step.
 *
 * Sum tree design: a heap per ring (leaves at `leafCount + slot`, `leafCount` = capacity rounded up
 * to a power of two). Changes are path updates — leaf writes, then one dispatch (a workgroup per
 * ring, a storage barrier between levels) that recomputes the ancestors of every changed slot
 * bottom-up from their children. Work is O(changed · log L) instead of a full O(L) rebuild in
 * 2 dispatches instead of log L, and every node is always `left + right` of its children, so the
 * tree equals a full level-by-level rebuild bit for bit (deterministic, no atomics). Duplicate
 * slots in one update: the last occurrence in batch order wins (earlier ones skip their write).
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../kernel.ts";
import { RNG_PURPOSE } from "../rng.ts";
import { assertShape, type Tensor } from "../tensor.ts";

const SHADER = "engine/replay/sampling.wgsl";
const INCLUDES = ["common/_index.wgsl", "common/_rng.wgsl"] as const;
const PARAMS = {
  numRings: "u32",
  count: "u32",
  size: "u32",
  level: "u32",
  alpha: "f32",
  eps: "f32",
  beta: "f32",
  clip: "f32",
  seed: "u32",
  purpose: "u32",
  stride: "u32",
  fillField: "u32",
  windowField: "u32",
  seeds: "u32",
  salt: "u32",
} as const;
type SamplingParams = { [K in keyof typeof PARAMS]: number };

/** Value stored in empty leaves of the min tree (no Inf in WGSL). */
export const EMPTY_MIN = 3.0e38;
/** Largest k of {@linkcode createTopK}. */
export const MAX_TOP_K = 32;
/** Marks "no slot" in index lists (changed-slot lists, missing top-k entries). */
export const NO_SLOT = 0xffffffff;

const perRing = (p: SamplingParams) => p.numRings * p.count;

/** PER leaf update: leaf = (|δ| + ε)^α at `slots`; last duplicate wins. */
export const treeSetLeaves = defineKernel({
  name: "sampling.treeSetLeaves",
  shader: SHADER,
  entryPoint: "treeSetLeaves",
  includes: INCLUDES,
  bindings: { slots: "read", values: "read", sum: "write", minTree: "write" },
  params: PARAMS,
  threads: perRing,
});

/**
 * Recomputes the ancestors (levels 1..`level`) of the slots in `slots [numRings, count]`
 * (entries ≥ leafCount, e.g. NO_SLOT, skipped): one workgroup per ring, a barrier per level.
 */
export const treeUpdatePaths = defineKernel({
  name: "sampling.treeUpdatePaths",
  shader: SHADER,
  entryPoint: "treeUpdatePaths",
  includes: INCLUDES,
  bindings: { slots: "read", sum: "write", minTree: "write" },
  params: PARAMS,
  workgroups: (p) => [p.numRings, 1, 1],
});

/** Proportional draws with replacement and normalised IS weights. */
export const perSample = defineKernel({
  name: "sampling.perSample",
  shader: SHADER,
  entryPoint: "perSample",
  includes: INCLUDES,
  bindings: { sumIn: "read", minIn: "read", clock: "read", indices: "write", weights: "write" },
  params: PARAMS,
  threads: perRing,
});

/** Uniform draws with replacement from the filled slots minus an excluded window. */
export const uniformSample = defineKernel({
  name: "sampling.uniformSample",
  shader: SHADER,
  entryPoint: "uniformSample",
  includes: INCLUDES,
  bindings: { counters: "read", clock: "read", indices: "write" },
  params: PARAMS,
  threads: perRing,
});

/** k draws without replacement in proportion to weights (one thread per ring). */
export const topK = defineKernel({
  name: "sampling.topK",
  shader: SHADER,
  entryPoint: "topK",
  includes: INCLUDES,
  bindings: { score: "read", clock: "read", indices: "write" },
  params: PARAMS,
  threads: (p) => p.numRings,
});

/** LBS masses g = max(min(|td|, clip), eps) and their inclusive prefix sums. */
export const lbsPrefix = defineKernel({
  name: "sampling.lbsPrefix",
  shader: SHADER,
  entryPoint: "lbsPrefix",
  includes: INCLUDES,
  bindings: { score: "read", mass: "write", cdf: "write" },
  params: PARAMS,
  threads: (p) => p.numRings,
});

/** LBS draws with replacement by inverse CDF; weights 1/(K·p). */
export const lbsDraw = defineKernel({
  name: "sampling.lbsDraw",
  shader: SHADER,
  entryPoint: "lbsDraw",
  includes: INCLUDES,
  bindings: { massIn: "read", cdfIn: "read", clock: "read", indices: "write", weights: "write" },
  params: PARAMS,
  threads: perRing,
});

/** Advances a sampler's clock by one. */
export const clockTick = defineKernel({
  name: "sampling.tick",
  shader: SHADER,
  entryPoint: "tick",
  includes: INCLUDES,
  bindings: { clockOut: "write" },
  params: PARAMS,
  threads: () => 1,
});

function params(update: Partial<SamplingParams>): SamplingParams {
  return {
    numRings: 0,
    count: 0,
    size: 0,
    level: 0,
    alpha: 1,
    eps: 0,
    beta: 0,
    clip: EMPTY_MIN,
    seed: 0,
    purpose: RNG_PURPOSE.sample,
    stride: 0,
    fillField: 0,
    windowField: 0,
    seeds: 1,
    salt: 0,
    ...update,
  };
}

/**
 * Seed batching of a sampler (algorithms/seeds.ts): with `seeds` S > 1, ring `b·S + k` draws as
 * ring b of a one-seed sampler seeded `(seed + k) ⊕ salt`; S = 1, salt 0 (the defaults): the
 * draws of `seed` itself.
 */
export interface SamplerSeeds {
  /** Seeds batched over the rings (default 1; must divide the number of rings). */
  seeds?: number;
  /** XORed into each seed's run seed (default 0). */
  salt?: number;
}

function seedParams(
  o: { seed: number } & SamplerSeeds,
  numRings: number,
  label: string,
): Pick<SamplingParams, "seed" | "seeds" | "salt"> {
  const seeds = o.seeds ?? 1;
  if (!(Number.isInteger(seeds) && seeds >= 1 && numRings % seeds === 0)) {
    throw new RangeError(
      `Cannot build "${label}": seeds is ${seeds}, needs an integer >= 1 that divides ${numRings} rings`,
    );
  }
  return { seed: o.seed >>> 0, seeds, salt: (o.salt ?? 0) >>> 0 };
}

/** Something that records work into an encoder. */
export interface Encodable {
  encode(enc: Encoder): void;
}

/** A GPU counter that seeds each call's draws; `tick` advances it after the call. */
interface Clock {
  readonly clock: Tensor<"u32">;
  readonly tick: Dispatch<typeof PARAMS>;
}

async function createClock(engine: Engine, label: string): Promise<Clock> {
  const clock = engine.tensor({ dtype: "u32", shape: [1], label: `${label}.clock` });
  const k = await compileKernel(engine, clockTick);
  return { clock, tick: k.bind({ clockOut: clock }, params({}), `${label}.tick`) };
}

/** Options of {@linkcode createSumTree}. */
export interface SumTreeOptions {
  /** Number of independent trees (rings). */
  numRings: number;
  /** Slots per ring; rounded up to a power of two (at least 2). */
  capacity: number;
  label: string;
}

/** Per-ring PER sum and min trees `[numRings, 2·leafCount]` (heap layout, node 1 = root). */
export interface SumTree {
  readonly numRings: number;
  readonly leafCount: number;
  /** log2(leafCount): the number of levels above the leaves. */
  readonly depth: number;
  readonly sum: Tensor<"f32">;
  readonly minTree: Tensor<"f32">;
  readonly label: string;
  /**
   * Binds a path update for the slots listed in `slots [numRings, m]` (NO_SLOT entries skipped):
   * `encode` recomputes their ancestors after the leaves were written.
   */
  bindPathUpdate(slots: Tensor<"u32">, m: number, label?: string): Promise<Encodable>;
  /**
   * Binds a PER priority update: leaf = (|td| + eps)^alpha at `indices [numRings, batch]`
   * (last duplicate wins), then the path update.
   */
  bindPriorityUpdate(
    indices: Tensor<"u32">,
    td: Tensor<"f32">,
    options: { batch: number; alpha: number; eps: number; label?: string },
  ): Promise<Encodable>;
}

/** Allocates empty sum trees (sums 0, minima {@linkcode EMPTY_MIN}). */
export function createSumTree(engine: Engine, options: SumTreeOptions): SumTree {
  const { numRings, capacity, label } = options;
  if (!(numRings >= 1 && capacity >= 1)) {
    throw new RangeError(
      `Cannot build "${label}": numRings ${numRings} and capacity ${capacity} must be >= 1`,
    );
  }
  let leafCount = 2;
  while (leafCount < capacity) leafCount *= 2;
  const depth = Math.log2(leafCount);
  const shape = [numRings, 2 * leafCount];
  const sum = engine.tensor({ dtype: "f32", shape, label: `${label}.sum` });
  const minTree = engine.tensor({
    dtype: "f32",
    shape,
    label: `${label}.min`,
    data: new Float32Array(numRings * 2 * leafCount).fill(EMPTY_MIN),
  });
  const base = { numRings, size: leafCount };
  async function bindPathUpdate(slots: Tensor<"u32">, m: number, l = `${label}.path`) {
    assertShape(slots, [numRings, m], { op: l, name: "slots" });
    const k = await compileKernel(engine, treeUpdatePaths);
    const d = k.bind({ slots, sum, minTree }, params({ ...base, count: m, level: depth }), l);
    return { encode: (enc: Encoder) => d.encode(enc) };
  }
  return {
    numRings,
    leafCount,
    depth,
    sum,
    minTree,
    label,
    bindPathUpdate,
    async bindPriorityUpdate(indices, td, o) {
      const l = o.label ?? `${label}.priority`;
      assertShape(indices, [numRings, o.batch], { op: l, name: "indices" });
      assertShape(td, [numRings, o.batch], { op: l, name: "td" });
      const k = await compileKernel(engine, treeSetLeaves);
      const set = k.bind(
        { slots: indices, values: td, sum, minTree },
        params({ ...base, count: o.batch, alpha: o.alpha, eps: o.eps }),
        `${l}.leaves`,
      );
      const path = await bindPathUpdate(indices, o.batch, `${l}.path`);
      return {
        encode(enc: Encoder) {
          set.encode(enc);
          path.encode(enc);
        },
      };
    },
  };
}

/** A bound sampler: `sample(enc)` records the draws and advances its clock. */
export interface Sampler {
  /** Drawn indices `[numRings, batch]` (slots, pool items, or NO_SLOT for missing top-k). */
  readonly indices: Tensor<"u32">;
  /** Importance weights `[numRings, batch]` (PER, LBS); absent for uniform and top-k. */
  readonly weights?: Tensor<"f32">;
  /** `[1]` u32: calls so far (the RNG step of the next call). */
  readonly clock: Tensor<"u32">;
  sample(enc: Encoder): void;
}

function sampler(
  indices: Tensor<"u32">,
  weights: Tensor<"f32"> | undefined,
  c: Clock,
  dispatches: Dispatch<typeof PARAMS>[],
): Sampler {
  return {
    indices,
    weights,
    clock: c.clock,
    sample(enc) {
      for (const d of dispatches) d.encode(enc);
      c.tick.encode(enc);
    },
  };
}

/**
 * Builds a PER sampler: `batch` slots per ring in proportion to the tree's leaves, with IS
 * weights (N·P(i))^−β normalised by (N·P_min)^−β.
 */
export async function createPerSampler(
  engine: Engine,
  options:
    & { tree: SumTree; batch: number; beta: number; seed: number; label: string }
    & SamplerSeeds,
): Promise<Sampler> {
  const { tree, batch, label } = options;
  const shape = [tree.numRings, batch];
  const indices = engine.tensor({ dtype: "u32", shape, label: `${label}.indices` });
  const weights = engine.tensor({ dtype: "f32", shape, label: `${label}.weights` });
  const c = await createClock(engine, label);
  const k = await compileKernel(engine, perSample);
  const d = k.bind(
    { sumIn: tree.sum, minIn: tree.minTree, clock: c.clock, indices, weights },
    params({
      numRings: tree.numRings,
      count: batch,
      size: tree.leafCount,
      level: tree.depth,
      beta: options.beta,
      ...seedParams(options, tree.numRings, label),
    }),
    `${label}.sample`,
  );
  return sampler(indices, weights, c, [d]);
}

/** Where a uniform sampler reads each ring's fill and excluded window (all u32 fields). */
export interface FillLayout {
  /** `[numRings, stride]` u32 on the GPU. */
  counters: Tensor<"u32">;
  stride: number;
  /** Field holding the number of filled slots. */
  fillField: number;
  /** Field holding the excluded window's start; its length is the next field. */
  windowField: number;
}

/**
 * Builds a uniform sampler with replacement: per ring, `batch` slots uniform over the filled slots
 * except the excluded window (k ∈ [0, fill − count), slot = (start + count + k) mod fill).
 *
 * @example A replay ring per agent on the GPU, and a uniform minibatch drawn from it
 * ```ts
 * import { createEngine, createReplay, createUniformSampler } from "../../mod.ts";
 *
 * const engine = await createEngine();
 * const replay = await createReplay(engine, {
 *   numAgents: 2,
 *   numEnvs: 4,
 *   capacity: 64,
 *   obsDim: 6,
 *   obsDType: "f32",
 *   label: "example.replay",
 * });
 * const sampler = await createUniformSampler(engine, {
 *   ...replay.fillLayout,
 *   numRings: 2,
 *   batch: 8,
 *   seed: 1,
 *   label: "example.sample",
 * });
 * const batch = replay.bindGather(sampler.indices, 8);
 * const enc = engine.encoder("example");
 * sampler.sample(enc); // 8 slot indices per ring among the filled ones
 * batch.encode(enc); // gathers obs, actions, rewards, … of those slots
 * engine.submit(enc);
 * engine.destroy();
 * ```
 */
export async function createUniformSampler(
  engine: Engine,
  options: FillLayout & SamplerSeeds & {
    numRings: number;
    batch: number;
    seed: number;
    label: string;
  },
): Promise<Sampler> {
  const { numRings, batch, label } = options;
  assertShape(options.counters, [numRings, options.stride], { op: label, name: "counters" });
  const indices = engine.tensor({ dtype: "u32", shape: [numRings, batch], label: `${label}.idx` });
  const c = await createClock(engine, label);
  const k = await compileKernel(engine, uniformSample);
  const d = k.bind(
    { counters: options.counters, clock: c.clock, indices },
    params({
      numRings,
      count: batch,
      ...seedParams(options, numRings, label),
      stride: options.stride,
      fillField: options.fillField,
      windowField: options.windowField,
    }),
    `${label}.sample`,
  );
  return sampler(indices, undefined, c, [d]);
}

/**
 * Builds a sampler without replacement: per ring, `k` of the `n` items of `weights [numRings, n]`
 * (weights ≥ 0, zero never drawn), ordered by key; NO_SLOT where fewer than k are positive.
 */
export async function createTopK(
  engine: Engine,
  options: {
    weights: Tensor<"f32">;
    numRings: number;
    n: number;
    k: number;
    seed: number;
    label: string;
  } & SamplerSeeds,
): Promise<Sampler> {
  const { numRings, n, k, label } = options;
  if (!(k >= 1 && k <= MAX_TOP_K)) {
    throw new RangeError(`Cannot build "${label}": k is ${k}, must be in [1, ${MAX_TOP_K}]`);
  }
  assertShape(options.weights, [numRings, n], { op: label, name: "weights" });
  const indices = engine.tensor({ dtype: "u32", shape: [numRings, k], label: `${label}.idx` });
  const c = await createClock(engine, label);
  const kernel = await compileKernel(engine, topK);
  const d = kernel.bind(
    { score: options.weights, clock: c.clock, indices },
    params({ numRings, count: k, size: n, ...seedParams(options, numRings, label) }),
    `${label}.sample`,
  );
  return sampler(indices, undefined, c, [d]);
}

/**
 * Builds the LBS resampler: per learner, `batch` items of the pool of K = `poolSize` with
 * p ∝ g = max(min(|td|, clip), eps) over `td [numRings, K]`, with replacement; weights 1/(K·p).
 * `clip` defaults to none (Huber loss: pass 1), `eps` to 1e-8 (docs/algorithms/lbs.md §2.3).
 */
export async function createLbsSampler(
  engine: Engine,
  options: {
    td: Tensor<"f32">;
    numRings: number;
    poolSize: number;
    batch: number;
    clip?: number;
    eps?: number;
    seed: number;
    label: string;
  } & SamplerSeeds,
): Promise<Sampler> {
  const { numRings, poolSize, batch, label } = options;
  assertShape(options.td, [numRings, poolSize], { op: label, name: "td" });
  const eps = options.eps ?? 1e-8;
  if (!(eps > 0)) throw new RangeError(`Cannot build "${label}": eps is ${eps}, must be > 0`);
  const shape = [numRings, poolSize];
  const mass = engine.tensor({ dtype: "f32", shape, label: `${label}.mass` });
  const cdf = engine.tensor({ dtype: "f32", shape, label: `${label}.cdf` });
  const indices = engine.tensor({ dtype: "u32", shape: [numRings, batch], label: `${label}.idx` });
  const weights = engine.tensor({ dtype: "f32", shape: [numRings, batch], label: `${label}.w` });
  const c = await createClock(engine, label);
  const [kp, kd] = await Promise.all([
    compileKernel(engine, lbsPrefix),
    compileKernel(engine, lbsDraw),
  ]);
  const p = params({
    numRings,
    count: batch,
    size: poolSize,
    clip: options.clip ?? EMPTY_MIN,
    eps,
    ...seedParams(options, numRings, label),
  });
  const prefix = kp.bind({ score: options.td, mass, cdf }, p, `${label}.prefix`);
  const draw = kd.bind(
    { massIn: mass, cdfIn: cdf, clock: c.clock, indices, weights },
    p,
    `${label}.draw`,
  );
  return sampler(indices, weights, c, [prefix, draw]);
}
