/**
 * The update of independent PPO (docs/algorithms/dials.md §6), batched over agents: per update, `epochs` shuffles
 * of the rollout's sequences, and per minibatch two gathers (network inputs, loss inputs),
 * advantage normalisation, the actor-critic forward over the minibatch (GRU from each sequence's
 * stored state, reset inside the sequence after episode ends), the clipped PPO loss and its
 * gradient, backward through the network, and one Adam step with the scheduled learning rate.
 * Kernels in `shaders/algorithms/ppo/learner.wgsl`.
 *
 * With a one-block network (`net.numAgents` 1) shared by a rollout of N agents, the update is the
 * reference's GS baseline with one policy object (docs/algorithms/dials.md §8.6): agent 0's whole update
 * (its own shuffles, minibatches and Adam, whose moments are its own) is applied to the shared
 * parameters, then agent 1's from the result, and so on.
 *
 * Seed batching (docs/statistics.md §8): with a rollout of `seeds` seeds, the network has one
 * block per (agent, seed), seed-minor (block a·seeds + k), and every kernel runs over the blocks
 * as over agents: the rollout storage `[T, N, seeds·E, …]` is `[T, N·seeds, E, …]`, so block
 * a·seeds + k reads exactly seed k's envs of agent a; shuffles are keyed by seed k's own seed and
 * agent a, and the loss metrics are summed per seed (`[seeds, 5]`), agents in order, as a lone run.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../../engine/kernel.ts";
import { type Adam, createAdam } from "../../engine/nn/adam.ts";
import type { Net } from "../../engine/nn/net.ts";
import { RNG_PURPOSE } from "../../engine/rng.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { createTrunkLearner, type TrunkLearner, type TrunkSpec } from "./policy.ts";
import type { PpoRollout } from "./rollout.ts";

const SHADER = "algorithms/ppo/learner.wgsl";
const INCLUDES = ["common/_index.wgsl", "common/_rng.wgsl", "common/_categorical.wgsl"] as const;
const PARAMS = {
  numAgents: "u32",
  numEnvs: "u32",
  obsDim: "u32",
  numActions: "u32",
  hidden: "u32",
  seqLen: "u32",
  steps: "u32",
  epochs: "u32",
  seqPerBatch: "u32",
  epoch: "u32",
  mb: "u32",
  advance: "u32",
  seed: "u32",
  purpose: "u32",
  valueCoef: "f32",
  entropyCoef: "f32",
  storeAgents: "u32",
  agent0: "u32",
  seeds: "u32",
} as const;
type Params = typeof PARAMS;
/** Loss fields accumulated per minibatch: policy loss, value loss, entropy, clip fraction. */
export const PPO_FIELDS = 4;
const batchRows = (p: { numAgents: number; seqLen: number; seqPerBatch: number }) =>
  p.numAgents * p.seqLen * p.seqPerBatch;

/** One permutation of the S sequences per (parameter block, epoch). */
export const ppoShuffle = defineKernel({
  name: "ppo.update.shuffle",
  shader: SHADER,
  entryPoint: "shuffle",
  includes: INCLUDES,
  bindings: { counterIn: "read", perm: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.epochs,
});

/**
 * Copies the network inputs of minibatch `mb` of epoch `epoch` out of the rollout storage: obs,
 * reset flags and (GRU) each sequence's initial hidden state.
 */
export const ppoGatherNet = defineKernel({
  name: "ppo.update.gatherNet",
  shader: SHADER,
  entryPoint: "gatherNet",
  includes: INCLUDES,
  bindings: {
    permIn: "read",
    obsStore: "read",
    doneStore: "read",
    hStore: "read",
    mbObs: "write",
    mbReset: "write",
    mbH0: "write",
  },
  params: PARAMS,
  threads: batchRows,
});

/**
 * Copies the loss inputs of minibatch `mb` of epoch `epoch` out of the rollout storage: actions
 * and the rows (old log-prob, advantage, return, old value).
 */
export const ppoGatherLoss = defineKernel({
  name: "ppo.update.gatherLoss",
  shader: SHADER,
  entryPoint: "gatherLoss",
  includes: INCLUDES,
  bindings: {
    permIn: "read",
    actStore: "read",
    logpStore: "read",
    advStore: "read",
    retStore: "read",
    valStore: "read",
    mbAct: "write",
    mbRow: "write",
  },
  params: PARAMS,
  threads: batchRows,
});

/** Per-agent mean and unbiased std of the minibatch advantages. */
export const ppoAdvStats = defineKernel({
  name: "ppo.update.advStats",
  shader: SHADER,
  entryPoint: "advStats",
  includes: INCLUDES,
  bindings: { mbRowIn: "read", advStat: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents,
});

/** PPO loss terms per row and their gradient w.r.t. the head (logits and value). */
export const ppoLoss = defineKernel({
  name: "ppo.update.loss",
  shader: SHADER,
  entryPoint: "loss",
  includes: INCLUDES,
  bindings: {
    head: "read",
    mbActIn: "read",
    mbRowIn: "read",
    advStatIn: "read",
    clipSched: "read",
    dHead: "write",
    terms: "write",
  },
  params: PARAMS,
  threads: batchRows,
});

/** Adds the minibatch's mean loss terms into each seed's metrics accumulator. */
export const ppoAccumulate = defineKernel({
  name: "ppo.update.accumulate",
  shader: SHADER,
  entryPoint: "accumulate",
  includes: INCLUDES,
  bindings: { termsIn: "read", acc: "write", counter: "write" },
  params: PARAMS,
  threads: (p) => p.seeds * (PPO_FIELDS + 1),
});

/** Copies the accumulators to `out` and zeroes them. */
export const ppoSummarise = defineKernel({
  name: "ppo.update.summarise",
  shader: SHADER,
  entryPoint: "summarise",
  includes: INCLUDES,
  bindings: { acc: "write", out: "write" },
  params: PARAMS,
  threads: (p) => p.seeds * (PPO_FIELDS + 1),
});

/** Update settings (docs/algorithms/dials.md §6). */
export interface PpoLearnerOptions {
  /**
   * The network: one block per rollout agent (independent PPO, all agents' minibatches in one
   * batched pass), or one block shared by every agent (the agents' updates run in turn on it).
   */
  net: Net;
  spec: TrunkSpec;
  rollout: PpoRollout;
  numActions: number;
  epochs: number;
  /** Minibatches per epoch (S sequences split evenly). */
  numMinibatches: number;
  valueCoef: number;
  entropyCoef: number;
  adamEps: number;
  seed: number;
  label: string;
}

/** A bound PPO update. */
export interface PpoLearner {
  /** The first agent's Adam (independent PPO: the only one, batched over agents). */
  readonly adam: Adam;
  /** One Adam per learner: `[adam]` for independent PPO; one per agent on a shared network. */
  readonly adams: readonly Adam[];
  /**
   * Agents whose minibatch losses one minibatch step of a seed's metrics sums (the agent count, or
   * 1 when shared).
   */
  readonly agentsPerStep: number;
  readonly trunk: TrunkLearner;
  /**
   * [seeds, 5] f32 running sums per seed: policy loss, value loss, entropy, clip fraction,
   * minibatch steps.
   */
  readonly metricsAcc: Tensor<"f32">;
  /** [seeds, 5] f32, written by `encodeSummarise`. */
  readonly metricsOut: Tensor<"f32">;
  /** Minibatch buffers (tests). */
  readonly minibatch: Record<string, Tensor>;
  /** Records one full update (schedule, shuffles, epochs × minibatches). */
  encodeUpdate(enc: Encoder): void;
  encodeSummarise(enc: Encoder): void;
}

/**
 * Builds the update: minibatch buffers, network learner, Adam (lr from the rollout's schedule),
 * kernels and one bound pair of gathers per (epoch, minibatch), once.
 *
 * @param engine Engine that owns the device.
 * @param o Network, rollout and hyper-parameters.
 * @returns A {@linkcode PpoLearner}.
 */
export async function createPpoLearner(
  engine: Engine,
  o: PpoLearnerOptions,
): Promise<PpoLearner> {
  // Seeds batched: the storage [T, NA, seeds·E, …] is [T, NA·seeds, E, …], block a·seeds + k
  // (seed k's agent a) reading exactly seed k's envs of agent a, as a lone run's agent a.
  const r = o.rollout, seeds = r.seeds;
  const E = r.numEnvs / seeds, L = r.seqLen, D = r.obsDim;
  const H = r.hidden, K = o.numActions;
  // N: blocks per batched pass (the network's); NS: blocks of the rollout storage.
  const N = o.net.numAgents, NS = r.numAgents * seeds;
  if (N !== NS && !(N === 1 && seeds === 1)) {
    throw new TypeError(
      `Cannot build "${o.label}": the net has ${N} parameter blocks, needs ${NS} (one per agent and seed) or 1 (shared, one seed)`,
    );
  }
  const shared = N !== NS;
  const S = (r.steps / L) * E;
  if (
    !(Number.isInteger(o.numMinibatches) && o.numMinibatches >= 1 && S % o.numMinibatches === 0)
  ) {
    throw new RangeError(
      `Cannot build "${o.label}": ${S} sequences per agent do not split into ${o.numMinibatches} minibatches`,
    );
  }
  const Bs = S / o.numMinibatches, R = L * Bs;
  const f32 = (shape: number[], name: string) =>
    engine.tensor({ dtype: "f32", shape, label: `${o.label}.${name}` });
  const perm = engine.tensor({ dtype: "u32", shape: [N, o.epochs, S], label: `${o.label}.perm` });
  const mbObs = f32([N, L, Bs, D], "mbObs");
  const mbAct = engine.tensor({ dtype: "u32", shape: [N, R], label: `${o.label}.mbAct` });
  const mbRow = f32([N, R, 4], "mbRow");
  const mbReset = f32([N, L, Bs], "mbReset");
  const mbH0 = f32([N, Bs, Math.max(H, 1)], "mbH0");
  const advStat = f32([N, 2], "advStat");
  const terms = f32([N, R, PPO_FIELDS], "terms");
  const metricsAcc = f32([seeds, PPO_FIELDS + 1], "metricsAcc");
  const metricsOut = f32([seeds, PPO_FIELDS + 1], "metricsOut");
  const trunk = await createTrunkLearner(engine, {
    net: o.net,
    spec: o.spec,
    x: o.spec.kind === "gru" ? mbObs : mbObs.reshape([N, R, D]),
    h0: H > 0 ? mbH0 : undefined,
    resetMask: H > 0 ? mbReset : undefined,
    steps: o.spec.kind === "gru" ? L : 1,
    batch: o.spec.kind === "gru" ? Bs : R,
    label: `${o.label}.net`,
  });
  // Shared network: every agent has its own Adam (moments, step count) on the one block, as the
  // reference's one optimiser per Agent over the same policy. The learning-rate schedule depends
  // only on the rollout's common step counter, so every agent's entry of lrSched is the same and
  // agent 0's is the shared Adams' scale.
  const adams: Adam[] = [];
  for (let i = 0; i < (shared ? NS : 1); i++) {
    adams.push(
      await createAdam(engine, {
        net: o.net,
        lr: 1,
        eps: o.adamEps,
        lrScale: shared ? r.lrSched.view(0, [1], `${r.lrSched.label}.shared`) : r.lrSched,
        label: shared ? `${o.label}.agent${i}` : o.label,
      }),
    );
  }
  const adam = adams[0];
  const base = {
    numAgents: N,
    numEnvs: E,
    obsDim: D,
    numActions: K,
    hidden: H,
    seqLen: L,
    steps: r.steps,
    epochs: o.epochs,
    seqPerBatch: Bs,
    epoch: 0,
    mb: 0,
    advance: 0,
    seed: o.seed >>> 0,
    purpose: RNG_PURPOSE.shuffle,
    valueCoef: o.valueCoef,
    entropyCoef: o.entropyCoef,
    storeAgents: NS,
    agent0: 0,
    seeds,
  };
  const [kShuf, kGatherNet, kGatherLoss, kStats, kLoss, kAcc, kSum] = await Promise.all([
    compileKernel(engine, ppoShuffle),
    compileKernel(engine, ppoGatherNet),
    compileKernel(engine, ppoGatherLoss),
    compileKernel(engine, ppoAdvStats),
    compileKernel(engine, ppoLoss),
    compileKernel(engine, ppoAccumulate),
    compileKernel(engine, ppoSummarise),
  ]);
  const netT = { permIn: perm, obsStore: r.obsStore, doneStore: r.doneStore, hStore: r.hStore };
  const lossT = {
    permIn: perm,
    actStore: r.actStore,
    logpStore: r.logpStore,
    advStore: r.advStore,
    retStore: r.retStore,
    valStore: r.valStore,
  };
  /** The dispatches that read one agent's (or, independent, every agent's) rollout rows. */
  interface AgentPass {
    shuffle: Dispatch<Params>;
    /** Two gathers per (epoch, minibatch). */
    gathers: Dispatch<Params>[][];
    loss: Dispatch<Params>;
    adam: Adam;
  }
  const passes: AgentPass[] = adams.map((adamI, i) => {
    const pa = { ...base, agent0: i };
    const tag = shared ? `.agent${i}` : "";
    // Two gathers per minibatch (one would bind 14 storage buffers, over the 10 a browser allows).
    const gathers: Dispatch<Params>[][] = [];
    for (let ep = 0; ep < o.epochs; ep++) {
      for (let mb = 0; mb < o.numMinibatches; mb++) {
        const p = { ...pa, epoch: ep, mb };
        const at = `${tag}.${ep}.${mb}`;
        gathers.push([
          kGatherNet.bind({ ...netT, mbObs, mbReset, mbH0 }, p, `${o.label}.gatherNet${at}`),
          kGatherLoss.bind({ ...lossT, mbAct, mbRow }, p, `${o.label}.gatherLoss${at}`),
        ]);
      }
    }
    const loss = kLoss.bind(
      {
        head: trunk.out,
        mbActIn: mbAct,
        mbRowIn: mbRow,
        advStatIn: advStat,
        clipSched: r.clipSched,
        dHead: trunk.dOut,
        terms,
      },
      pa,
      `${o.label}.loss${tag}`,
    );
    const shuffle = kShuf.bind({ counterIn: r.counter, perm }, pa, `${o.label}.shuffle${tag}`);
    return { shuffle, gathers, loss, adam: adamI };
  });
  const stats = kStats.bind({ mbRowIn: mbRow, advStat }, base, `${o.label}.advStats`);
  const accT = { termsIn: terms, acc: metricsAcc, counter: r.counter };
  const acc = kAcc.bind(accT, base, `${o.label}.accumulate`);
  const accLast = kAcc.bind(accT, { ...base, advance: 1 }, `${o.label}.accumulateLast`);
  const summarise = kSum.bind({ acc: metricsAcc, out: metricsOut }, base, `${o.label}.summarise`);
  return {
    adam,
    adams,
    agentsPerStep: N / seeds,
    trunk,
    metricsAcc,
    metricsOut,
    minibatch: { mbObs, mbAct, mbRow, mbReset, mbH0, advStat, terms, perm },
    encodeUpdate(enc) {
      r.encodeSchedule(enc);
      // Independent: one pass over all agents at once. Shared: agent 0's whole update, then
      // agent 1's on the parameters it left, … (the reference's `for agent in agents: update()`).
      passes.forEach((pass, a) => {
        pass.shuffle.encode(enc);
        pass.gathers.forEach((g, i) => {
          for (const d of g) d.encode(enc);
          stats.encode(enc);
          trunk.forward(enc);
          pass.loss.encode(enc);
          trunk.backward(enc);
          pass.adam.step(enc);
          const last = a === passes.length - 1 && i === pass.gathers.length - 1;
          (last ? accLast : acc).encode(enc);
        });
      });
    },
    encodeSummarise(enc) {
      summarise.encode(enc);
    },
  };
}
