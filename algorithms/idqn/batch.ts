/**
 * Minibatch sources of the IDQN family ({@linkcode BatchSource}): the default one samples the
 * replay (uniform with replacement, or PER with IS weights and priority updates after learning);
 * SEQL's draws an equal share from every agent's buffer and gives all learners the same rows,
 * the foreign part weighted by λ with its own mean (docs/algorithms/idqn.md §4.4); "IDQN same RB" pools every
 * agent's draws and lets each learner draw uniformly from the pool (docs/algorithms/idqn.md §4.3).
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../../engine/kernel.ts";
import {
  createPerSampler,
  createUniformSampler,
  type Sampler,
} from "../../engine/replay/sampling.ts";
import type { Replay, ReplayBatch } from "../../engine/replay/buffer.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { interleaveBlocks } from "../seeds.ts";
import type { BatchSource, BatchTensors } from "./stages.ts";

/** dst [copies, n] = src [n] repeated (32-bit words). */
export const idqnReplicate = defineKernel({
  name: "idqn.replicate",
  shader: "algorithms/idqn/batch.wgsl",
  entryPoint: "replicate",
  includes: ["common/_index.wgsl"],
  bindings: { src: "read", dst: "write" },
  params: { n: "u32", copies: "u32", seeds: "u32", blocks: "u32" },
  threads: (p) => p.n * p.copies,
});

/**
 * dst [copies, blocks, n] = for learner l, the `blocks` blocks of its seed l mod seeds out of src
 * [blocks·seeds, n] (seed-minor; 32-bit words): every learner gets its own seed's pool.
 */
export const idqnTileSeeds = defineKernel({
  name: "idqn.tileSeeds",
  shader: "algorithms/idqn/batch.wgsl",
  entryPoint: "tileSeeds",
  includes: ["common/_index.wgsl"],
  bindings: { src: "read", dst: "write" },
  params: { n: "u32", copies: "u32", seeds: "u32", blocks: "u32" },
  threads: (p) => p.copies * p.blocks * p.n,
});

const POOL_PARAMS = {
  numLearners: "u32",
  batch: "u32",
  obsDim: "u32",
  poolRows: "u32",
  seeds: "u32",
} as const;

/**
 * out[l, b] = pool[pick[l, b]] for obs, next obs and action (reward and done:
 * {@linkcode idqnPickScalars}; two kernels keep each within 8 storage buffers).
 */
export const idqnPickRows = defineKernel({
  name: "idqn.pickRows",
  shader: "algorithms/idqn/batch_pool.wgsl",
  entryPoint: "pickRows",
  includes: ["common/_index.wgsl"],
  bindings: {
    pick: "read",
    poolObs: "read",
    poolNext: "read",
    poolAction: "read",
    outObs: "write",
    outNext: "write",
    outAction: "write",
  },
  params: POOL_PARAMS,
  threads: (p) => p.numLearners * p.batch * p.obsDim,
});

/** out[l, b] = pool[pick[l, b]] for reward and done (split from {@linkcode idqnPickRows}). */
export const idqnPickScalars = defineKernel({
  name: "idqn.pickScalars",
  shader: "algorithms/idqn/batch_pool.wgsl",
  entryPoint: "pickScalars",
  includes: ["common/_index.wgsl"],
  bindings: {
    pick: "read",
    poolReward: "read",
    poolDone: "read",
    outReward: "write",
    outDone: "write",
  },
  params: POOL_PARAMS,
  threads: (p) => p.numLearners * p.batch,
});

/** XORed into the run seed for the draws from the pool (independent of the ring draws). */
export const POOL_SEED_SALT = 0x27d4eb2f;

/** Options of {@linkcode createReplayBatchSource}. */
export interface ReplayBatchOptions {
  replay: Replay;
  /** Learners reading the batch (the Q-network's numAgents). */
  numLearners: number;
  /** Rows per learner. */
  batch: number;
  /** PER sampling with IS weights and priority updates (needs a prioritized replay). */
  prioritized: boolean;
  /** PER β, α and ε (ignored without PER). */
  beta: number;
  alpha: number;
  priorityEps: number;
  seed: number;
  /** Seeds batched over the rings and learners (default 1; ring `b·seeds + k`: seed k's). */
  seeds?: number;
  label: string;
}

/** A replay source and its sampler (tests read the drawn slots). */
export interface ReplayBatchSource extends BatchSource {
  readonly sampler: Sampler;
}

/**
 * Builds the default minibatch source: per ring, draws (uniform or PER) and a gather into f32
 * rows. Rings map to learners one to one; a single shared ring feeding several learners
 * ("IDQN same RB") draws numLearners × batch rows and learner l reads rows [l·batch, (l+1)·batch).
 *
 * @param engine Engine that owns the device.
 * @param o Replay, sizes, sampling mode and label.
 * @returns A {@linkcode ReplayBatchSource}.
 */
export async function createReplayBatchSource(
  engine: Engine,
  o: ReplayBatchOptions,
): Promise<ReplayBatchSource> {
  const { replay, numLearners, batch, label } = o;
  const rings = replay.layout.numRings;
  if (!(rings === numLearners || rings === 1)) {
    throw new TypeError(
      `Cannot build "${label}": ${rings} replay rings cannot feed ${numLearners} learners`,
    );
  }
  const perRing = (numLearners * batch) / rings;
  let sampler: Sampler;
  if (o.prioritized) {
    if (!replay.tree) {
      throw new TypeError(`Cannot build "${label}": PER sampling needs a prioritized replay`);
    }
    sampler = await createPerSampler(engine, {
      tree: replay.tree,
      batch: perRing,
      beta: o.beta,
      seed: o.seed,
      seeds: o.seeds,
      label: `${label}.per`,
    });
  } else {
    sampler = await createUniformSampler(engine, {
      ...replay.fillLayout,
      numRings: rings,
      batch: perRing,
      seed: o.seed,
      seeds: o.seeds,
      label: `${label}.uniform`,
    });
  }
  const g = replay.bindGather(sampler.indices, perRing, `${label}.gather`);
  const obsDim = replay.config.obsDim;
  const rows = [numLearners, batch];
  const tensors: BatchTensors = {
    obs: g.obs.reshape([...rows, obsDim]),
    nextObs: g.nextObs.reshape([...rows, obsDim]),
    action: g.action.reshape(rows),
    reward: g.reward.reshape(rows),
    done: g.done.reshape(rows),
    weight: sampler.weights ? sampler.weights.reshape(rows) : null,
  };
  let update: { encode(enc: Encoder): void } | null = null;
  let td: Tensor<"f32"> | null = null;
  if (o.prioritized) {
    td = engine.tensor({ dtype: "f32", shape: [rings, perRing], label: `${label}.absTd` });
    update = await replay.tree!.bindPriorityUpdate(sampler.indices, td, {
      batch: perRing,
      alpha: o.alpha,
      eps: o.priorityEps,
      label: `${label}.priority`,
    });
  }
  return {
    batch: tensors,
    size: batch,
    sampler,
    encode(enc) {
      sampler.sample(enc);
      g.encode(enc);
    },
    afterLearn: update
      ? (enc, absTd) => {
        enc.copy(absTd, td!);
        update!.encode(enc);
      }
      : undefined,
  };
}

/** Options of {@linkcode createSeqlBatchSource}. */
export interface SeqlBatchOptions {
  /** Per-agent rings (not shared). */
  replay: Replay;
  /** Total rows per learner B; each buffer contributes B / numAgents. */
  batch: number;
  /** Weight λ of the other agents' rows. */
  lambda: number;
  seed: number;
  /** Seeds batched over rings and learners (default 1; ring `a·seeds + k`: seed k's agent a). */
  seeds?: number;
  label: string;
}

/**
 * SEQL weights for learner i over the pooled rows (rows of agent j at [j·share, (j+1)·share)):
 * L_i = mean_own ℓ + λ·mean_foreign ℓ written as (1/B) Σ w ℓ, so w = B/share on own rows and
 * λ·B/(B − share) on foreign rows (0 weight on foreign rows with one agent).
 */
export function seqlWeights(numAgents: number, batch: number, lambda: number): Float32Array {
  const share = batch / numAgents;
  const w = new Float32Array(numAgents * batch);
  for (let i = 0; i < numAgents; i++) {
    for (let k = 0; k < batch; k++) {
      const own = Math.floor(k / share) === i;
      w[i * batch + k] = own ? batch / share : lambda * batch / (batch - share);
    }
  }
  return w;
}

/**
 * Builds SEQL's source: B / N uniform draws with replacement from each agent's ring, pooled in
 * agent order, the same pool for every learner, with {@linkcode seqlWeights}.
 *
 * @param engine Engine that owns the device.
 * @param o Replay (per-agent rings), batch, λ, seed and label.
 * @returns A {@linkcode ReplayBatchSource} whose sampler draws [numAgents, B / numAgents] slots.
 */
export async function createSeqlBatchSource(
  engine: Engine,
  o: SeqlBatchOptions,
): Promise<ReplayBatchSource> {
  const { replay, batch, label } = o;
  const S = o.seeds ?? 1;
  const n = replay.config.numAgents, rings = replay.layout.numRings;
  if (rings !== n * S || batch % n !== 0) {
    throw new RangeError(
      `Cannot build "${label}": SEQL needs one ring per agent and a batch divisible by ${n} agents, got ${rings} rings for ${S} seeds and batch ${batch}`,
    );
  }
  const share = batch / n;
  const sampler = await createUniformSampler(engine, {
    ...replay.fillLayout,
    numRings: rings,
    batch: share,
    seed: o.seed,
    seeds: S,
    label: `${label}.uniform`,
  });
  const g = replay.bindGather(sampler.indices, share, `${label}.gather`);
  const obsDim = replay.config.obsDim;
  // Every learner gets its seed's pooled draws (a plain replicate with one seed).
  const k = await compileKernel(engine, S > 1 ? idqnTileSeeds : idqnReplicate);
  const copies: Dispatch<{ n: "u32"; copies: "u32"; seeds: "u32"; blocks: "u32" }>[] = [];
  const tile = <D extends "f32" | "u32">(
    src: Tensor<D>,
    dtype: D,
    inner: number[],
    name: string,
  ) => {
    const dst = engine.tensor({
      dtype,
      shape: [n * S, batch, ...inner],
      label: `${label}.${name}`,
    });
    const p = S > 1
      ? { n: src.size / rings, copies: n * S, seeds: S, blocks: n }
      : { n: src.size, copies: n, seeds: 1, blocks: 1 };
    copies.push(k.bind({ src, dst }, p, `${label}.${name}.replicate`));
    return dst;
  };
  const w = seqlWeights(n, batch, o.lambda);
  const weight = engine.tensor({
    dtype: "f32",
    shape: [n * S, batch],
    label: `${label}.weight`,
    // Learner a·S + k (seed k's agent a) has agent a's weights.
    data: S > 1 ? interleaveBlocks(Array.from({ length: S }, () => w), batch) : w,
  });
  return {
    batch: {
      obs: tile(g.obs, "f32", [obsDim], "obs"),
      nextObs: tile(g.nextObs, "f32", [obsDim], "nextObs"),
      action: tile(g.action, "u32", [], "action"),
      reward: tile(g.reward, "f32", [], "reward"),
      done: tile(g.done, "f32", [], "done"),
      weight,
    },
    size: batch,
    sampler,
    encode(enc) {
      sampler.sample(enc);
      g.encode(enc);
      for (const c of copies) c.encode(enc);
    },
  };
}

/** A pooled source: the ring draws (`sampler`) and each learner's pool rows (`pick`). */
export interface PooledBatchSource extends ReplayBatchSource {
  /** Pool rows drawn per learner [numLearners, batch] (pool row j·batch + b = ring j's draw b). */
  readonly pick: Sampler;
  /** The pooled ring draws [numAgents, batch, …]. */
  readonly pool: ReplayBatch;
}

/**
 * Builds the "IDQN same RB" source (docs/algorithms/idqn.md §4.3 PROPOSAL, the LBS kernels' pattern with both
 * distributions uniform): every agent draws `batch` rows uniformly from its own ring, the N draws
 * are pooled in agent order (K = N·batch), and every learner draws `batch` pool rows uniformly
 * with replacement, unit weights. Per-agent rings keep every binding within the device limit.
 *
 * @param engine Engine that owns the device.
 * @param o Replay (per-agent rings), rows per learner, seed and label.
 * @returns A {@linkcode PooledBatchSource}.
 */
export async function createSameRbBatchSource(
  engine: Engine,
  o: { replay: Replay; batch: number; seed: number; seeds?: number; label: string },
): Promise<PooledBatchSource> {
  const { replay, batch, label } = o;
  const S = o.seeds ?? 1;
  const n = replay.config.numAgents, rings = replay.layout.numRings, obsDim = replay.config.obsDim;
  if (rings !== n * S) {
    throw new TypeError(
      `Cannot build "${label}": the pooled source needs one ring per agent, got ${rings} for ${n} agents × ${S} seeds`,
    );
  }
  // Seed batching: rings and learners a·S + k are seed k's agent a; each seed pools its own rings.
  const L = n * S;
  const sampler = await createUniformSampler(engine, {
    ...replay.fillLayout,
    numRings: L,
    batch,
    seed: o.seed,
    seeds: S,
    label: `${label}.uniform`,
  });
  const pool = replay.bindGather(sampler.indices, batch, `${label}.pool`);
  const poolRows = n * batch;
  // A fill layout over the pool: every learner's "ring" is the whole pool, no excluded window.
  const counters = engine.tensor({
    dtype: "u32",
    shape: [L, 4],
    label: `${label}.poolFill`,
    data: Array.from({ length: L }, () => [0, poolRows, 0, 0]).flat(),
  });
  // Seed k's pool draws use (seed + k) ⊕ POOL_SEED_SALT, as a one-seed run of seed + k.
  const pick = await createUniformSampler(engine, {
    counters,
    stride: 4,
    fillField: 1,
    windowField: 2,
    numRings: L,
    batch,
    seed: o.seed,
    seeds: S,
    salt: POOL_SEED_SALT,
    label: `${label}.pick`,
  });
  const rows = [L, batch];
  const out = {
    obs: engine.tensor({ dtype: "f32", shape: [...rows, obsDim], label: `${label}.obs` }),
    nextObs: engine.tensor({ dtype: "f32", shape: [...rows, obsDim], label: `${label}.nextObs` }),
    action: engine.tensor({ dtype: "u32", shape: rows, label: `${label}.action` }),
    reward: engine.tensor({ dtype: "f32", shape: rows, label: `${label}.reward` }),
    done: engine.tensor({ dtype: "f32", shape: rows, label: `${label}.done` }),
  };
  const [kRows, kScalars] = await Promise.all([
    compileKernel(engine, idqnPickRows),
    compileKernel(engine, idqnPickScalars),
  ]);
  const pp = { numLearners: L, batch, obsDim, poolRows, seeds: S };
  const gather = [
    kRows.bind(
      {
        pick: pick.indices,
        poolObs: pool.obs,
        poolNext: pool.nextObs,
        poolAction: pool.action,
        outObs: out.obs,
        outNext: out.nextObs,
        outAction: out.action,
      },
      pp,
      `${label}.pickRows`,
    ),
    kScalars.bind(
      {
        pick: pick.indices,
        poolReward: pool.reward,
        poolDone: pool.done,
        outReward: out.reward,
        outDone: out.done,
      },
      pp,
      `${label}.pickScalars`,
    ),
  ];
  return {
    batch: { ...out, weight: null },
    size: batch,
    sampler,
    pick,
    pool,
    encode(enc) {
      sampler.sample(enc);
      pool.encode(enc);
      pick.sample(enc);
      for (const g of gather) g.encode(enc);
    },
  };
}
