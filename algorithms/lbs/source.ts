/**
 * The LBS minibatch source (docs/algorithms/lbs.md §2) for the IDQN pipeline: p1 draws from every agent's ring,
 * pooled in agent order (K = M·B), every learner's |δ| on the whole pool, p2 resampling with
 * replacement and the loss weights 1/(K·p2) (× the p1 IS weight under PER); see algorithms/lbs/mod.ts.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { compileKernel, defineKernel } from "../../engine/kernel.ts";
import { createFill } from "../../engine/ops/elementwise.ts";
import { createQLoss, createTdTarget } from "../../engine/ops/losses.ts";
import { createReduce } from "../../engine/ops/reduce.ts";
import {
  createLbsSampler,
  createPerSampler,
  createUniformSampler,
  type Sampler,
} from "../../engine/replay/sampling.ts";
import type { ReplayBatch } from "../../engine/replay/buffer.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { BatchSource, BatchTensors, IdqnParts } from "../idqn/mod.ts";
import { idqnReplicate, idqnTileSeeds } from "../idqn/batch.ts";
import { createQNetwork } from "../idqn/network.ts";
import type { StageMetrics } from "../idqn/stages.ts";

const SHADER = "algorithms/lbs/source.wgsl";
const INCLUDES = ["common/_index.wgsl"] as const;
const PARAMS = {
  numAgents: "u32",
  batch: "u32",
  obsDim: "u32",
  usePoolWeight: "u32",
  seeds: "u32",
} as const;

/** XORed into the run seed for the p2 draws. */
export const P2_SEED_SALT = 0x5bd1e995;

/** Learner j's |δ| on its own p1 draws. */
export const lbsOwnTd = defineKernel({
  name: "lbs.ownTd",
  shader: SHADER,
  entryPoint: "ownTd",
  includes: INCLUDES,
  bindings: { absTd: "read", ownAbsTd: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch,
});

/** Each learner's resampled rows from the pool: obs, next obs and action. */
export const lbsPickRows = defineKernel({
  name: "lbs.pickRows",
  shader: SHADER,
  entryPoint: "pickRows",
  includes: INCLUDES,
  bindings: {
    pick: "read",
    poolObs: "read",
    poolNext: "read",
    poolAction: "read",
    outObs: "write",
    outNext: "write",
    outAction: "write",
  },
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch * p.obsDim,
});

/** Reward, done and loss weight of each learner's resampled rows (see {@linkcode lbsPickRows}). */
export const lbsPickScalars = defineKernel({
  name: "lbs.pickScalars",
  shader: SHADER,
  entryPoint: "pickScalars",
  includes: INCLUDES,
  bindings: {
    pick: "read",
    pickWeight: "read",
    poolWeight: "read",
    poolReward: "read",
    poolDone: "read",
    outReward: "write",
    outDone: "write",
    outWeight: "write",
  },
  params: PARAMS,
  threads: (p) => p.numAgents * p.batch,
});

/** Pool |δ| sums, pool sizes and foreign draws per learner. */
export const lbsMetrics = defineKernel({
  name: "lbs.metrics",
  shader: SHADER,
  entryPoint: "metrics",
  includes: INCLUDES,
  bindings: { pick: "read", poolSum: "read", acc: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents,
});

/** Options of {@linkcode createLbsSource}. */
export interface LbsSourceOptions {
  p2: "td" | "uniform";
  /** Clip of |δ| in p2; 0 for none. */
  priorityClip: number;
  label: string;
}

/** A bound LBS source (tests read its intermediate tensors). */
export interface LbsSource extends BatchSource {
  /** p1 draws: slots [numAgents, B] (and IS weights under PER). */
  readonly p1: Sampler;
  /** The pool: the p1 rows [numAgents, B, …] = [K, …]. */
  readonly pool: ReplayBatch;
  /** |δ| of every learner on the pool [numAgents, K] (td mode). */
  readonly poolAbsTd: Tensor<"f32"> | null;
  /** p2 draws: pool items [numAgents, B] and weights 1/(K·p). */
  readonly p2: Sampler;
  readonly metrics: StageMetrics;
}

/**
 * Builds the LBS minibatch source for an IDQN trainer's parts (one network and ring per agent).
 *
 * @param parts The trainer's networks, replay and config.
 * @param o p2 mode, clip and label.
 * @returns An {@linkcode LbsSource}: `batch` holds [numAgents, B] rows for the learner.
 */
export async function createLbsSource(parts: IdqnParts, o: LbsSourceOptions): Promise<LbsSource> {
  const { engine, replay, spec, config: c, label } = { ...parts, label: o.label };
  // Seed batching: M = N·S learners and rings (a·S + k: seed k's agent a), one pool of K = N·B
  // items per seed; with one seed M = N.
  const S = parts.seeds, N = replay.config.numAgents;
  const M = N * S, B = c.batchSize, K = N * B;
  const D = replay.config.obsDim;
  if (parts.numLearners !== M || replay.layout.numRings !== M) {
    throw new TypeError(
      `Cannot build "${label}": LBS needs one network and one ring per agent, got ${parts.numLearners} networks and ${replay.layout.numRings} rings for ${N} agents × ${S} seeds`,
    );
  }
  const p1 = c.prioritized
    ? await createPerSampler(engine, {
      tree: replayTree(replay, label),
      batch: B,
      beta: c.beta,
      seed: parts.seed,
      seeds: S,
      label: `${label}.p1`,
    })
    : await createUniformSampler(engine, {
      ...replay.fillLayout,
      numRings: M,
      batch: B,
      seed: parts.seed,
      seeds: S,
      label: `${label}.p1`,
    });
  const pool = replay.bindGather(p1.indices, B, `${label}.pool`);
  const steps: { encode(enc: Encoder): void }[] = [p1Step(p1), pool];
  let poolAbsTd: Tensor<"f32"> | null = null;
  let score: Tensor<"f32">;
  const poolSum = engine.tensor({ dtype: "f32", shape: [M], label: `${label}.poolSum` });
  if (o.p2 === "td") {
    // Every learner scores the whole pool: replicate the pool rows per learner.
    // Every learner scores its seed's pool: a plain replicate with one seed.
    const rep = await compileKernel(engine, S > 1 ? idqnTileSeeds : idqnReplicate);
    const tile = <T extends "f32" | "u32">(
      src: Tensor<T>,
      dtype: T,
      inner: number[],
      name: string,
    ) => {
      const dst = engine.tensor({ dtype, shape: [M, K, ...inner], label: `${label}.tile.${name}` });
      const p = S > 1
        ? { n: src.size / M, copies: M, seeds: S, blocks: N }
        : { n: src.size, copies: M, seeds: 1, blocks: 1 };
      steps.push(rep.bind({ src, dst }, p, `${label}.tile.${name}`));
      return dst;
    };
    const x = tile(pool.obs, "f32", [D], "obs");
    const xNext = tile(pool.nextObs, "f32", [D], "nextObs");
    const action = tile(pool.action, "u32", [], "action");
    const reward = tile(pool.reward, "f32", [], "reward");
    let done: Tensor = tile(pool.done, "f32", [], "done");
    const q = await createQNetwork(engine, {
      net: parts.net,
      x,
      batch: K,
      spec,
      label: `${label}.q`,
    });
    const targetNext = await createQNetwork(engine, {
      net: parts.target,
      x: xNext,
      batch: K,
      spec,
      label: `${label}.targetNext`,
    });
    const qNext = c.double
      ? await createQNetwork(engine, {
        net: parts.net,
        x: xNext,
        batch: K,
        spec,
        label: `${label}.qNext`,
      })
      : null;
    if (c.bootstrapOnTerminal) done = await zeros(engine, [M, K], `${label}.noDone`);
    const td = await createTdTarget(engine, {
      qNext: targetNext.q,
      qNextOnline: qNext?.q,
      reward,
      done,
      numAgents: M,
      batch: K,
      numActions: spec.numActions,
      gamma: c.gamma,
      label: `${label}.td`,
    });
    const loss = await createQLoss(engine, {
      kind: c.loss === "mse" ? "mse" : "huber",
      q: q.q,
      action,
      target: td.y,
      numAgents: M,
      batch: K,
      numActions: spec.numActions,
      label: `${label}.score`,
    });
    const sum = await createReduce(engine, {
      x: loss.absDelta,
      numSegments: M,
      n: K,
      op: "sum",
      label: `${label}.poolSum`,
    });
    steps.push(
      { encode: (enc) => q.forward(enc) },
      { encode: (enc) => targetNext.forward(enc) },
      { encode: (enc) => qNext?.forward(enc) },
      { encode: (enc) => td.forward(enc) },
      { encode: (enc) => loss.forward(enc) },
      sum,
      { encode: (enc) => enc.copy(sum.out, poolSum) },
    );
    poolAbsTd = loss.absDelta;
    score = loss.absDelta;
    if (c.prioritized) {
      const own = engine.tensor({ dtype: "f32", shape: [M, B], label: `${label}.ownAbsTd` });
      const k = await compileKernel(engine, lbsOwnTd);
      steps.push(k.bind({ absTd: loss.absDelta, ownAbsTd: own }, pp(), `${label}.ownTd`));
      steps.push(
        await replayTree(replay, label).bindPriorityUpdate(p1.indices, own, {
          batch: B,
          alpha: c.alpha,
          eps: c.priorityEps,
          label: `${label}.priority`,
        }),
      );
    }
  } else {
    // Uniform p2: constant masses give p = 1/K and weights exactly 1.
    score = await ones(engine, [M, K], `${label}.uniform`);
  }
  const p2 = await createLbsSampler(engine, {
    td: score,
    numRings: M,
    poolSize: K,
    batch: B,
    clip: o.p2 === "td" && o.priorityClip > 0 ? o.priorityClip : undefined,
    eps: 1e-8,
    // Seed k draws with (seed + k) ⊕ P2_SEED_SALT, as a one-seed run of seed + k.
    seed: parts.seed,
    seeds: S,
    salt: P2_SEED_SALT,
    label: `${label}.p2`,
  });
  steps.push(p1Step(p2));
  const rows = [M, B];
  const batch: BatchTensors = {
    obs: engine.tensor({ dtype: "f32", shape: [...rows, D], label: `${label}.batch.obs` }),
    nextObs: engine.tensor({ dtype: "f32", shape: [...rows, D], label: `${label}.batch.nextObs` }),
    action: engine.tensor({ dtype: "u32", shape: rows, label: `${label}.batch.action` }),
    reward: engine.tensor({ dtype: "f32", shape: rows, label: `${label}.batch.reward` }),
    done: engine.tensor({ dtype: "f32", shape: rows, label: `${label}.batch.done` }),
    weight: engine.tensor({ dtype: "f32", shape: rows, label: `${label}.batch.weight` }),
  };
  const [kPick, kScalars, kMetrics] = await Promise.all([
    compileKernel(engine, lbsPickRows),
    compileKernel(engine, lbsPickScalars),
    compileKernel(engine, lbsMetrics),
  ]);
  steps.push(kPick.bind(
    {
      pick: p2.indices,
      poolObs: pool.obs,
      poolNext: pool.nextObs,
      poolAction: pool.action,
      outObs: batch.obs,
      outNext: batch.nextObs,
      outAction: batch.action,
    },
    pp(),
    `${label}.pick`,
  ));
  steps.push(kScalars.bind(
    {
      pick: p2.indices,
      pickWeight: p2.weights!,
      poolWeight: p1.weights ?? p2.weights!,
      poolReward: pool.reward,
      poolDone: pool.done,
      outReward: batch.reward,
      outDone: batch.done,
      outWeight: batch.weight!,
    },
    pp(p1.weights ? 1 : 0),
    `${label}.pickScalars`,
  ));
  const acc = engine.tensor({ dtype: "f32", shape: [M, 4], label: `${label}.metrics` });
  steps.push(kMetrics.bind({ pick: p2.indices, poolSum, acc }, pp(), `${label}.metrics`));
  const decodeSeed = (v: Float32Array, k: number) => {
    let td = 0, items = 0, foreign = 0, drawn = 0;
    for (let a = 0; a < N; a++) {
      const i = a * S + k;
      td += v[4 * i];
      items += v[4 * i + 1];
      foreign += v[4 * i + 2];
      drawn += v[4 * i + 3];
    }
    return {
      poolMeanAbsTd: o.p2 === "td" && items > 0 ? td / items : NaN,
      foreignFraction: drawn > 0 ? foreign / drawn : NaN,
    };
  };
  const metrics: StageMetrics = {
    accumulators: acc,
    decode: (v) => decodeSeed(v, 0),
    decodeSeeds: (v) => Array.from({ length: S }, (_, k) => decodeSeed(v, k)),
  };
  return {
    batch,
    size: B,
    p1,
    pool,
    poolAbsTd,
    p2,
    metrics,
    encode(enc) {
      for (const s of steps) s.encode(enc);
    },
  };

  function pp(usePoolWeight = 0) {
    return { numAgents: M, batch: B, obsDim: D, usePoolWeight, seeds: S };
  }
}

function p1Step(s: Sampler): { encode(enc: Encoder): void } {
  return { encode: (enc) => s.sample(enc) };
}

function replayTree(replay: IdqnParts["replay"], label: string) {
  if (!replay.tree) {
    throw new TypeError(`Cannot build "${label}": PER p1 needs a prioritized replay`);
  }
  return replay.tree;
}

async function constant(engine: Engine, shape: number[], label: string, value: number) {
  const t = engine.tensor({ dtype: "f32", shape, label });
  const fill = await createFill(engine, t, value);
  const enc = engine.encoder(label);
  fill.encode(enc);
  engine.submit(enc);
  return t;
}

function zeros(engine: Engine, shape: number[], label: string): Promise<Tensor<"f32">> {
  return constant(engine, shape, label, 0) as Promise<Tensor<"f32">>;
}

function ones(engine: Engine, shape: number[], label: string): Promise<Tensor<"f32">> {
  return constant(engine, shape, label, 1) as Promise<Tensor<"f32">>;
}
