/**
 * ε-greedy action selection on the GPU (ε from a GPU iteration counter, so the host writes nothing
 * per step) and the learning metrics of the IDQN family (loss and mean |δ| accumulated per update,
 * summarised once per log interval).
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { compileKernel, defineKernel } from "../../engine/kernel.ts";
import { RNG_PURPOSE } from "../../engine/rng.ts";
import type { Tensor } from "../../engine/tensor.ts";

const SHADER = "algorithms/idqn/act.wgsl";
const INCLUDES = ["common/_index.wgsl", "common/_rng.wgsl"] as const;
const PARAMS = {
  numAgents: "u32",
  numEnvs: "u32",
  numActions: "u32",
  seed: "u32",
  purpose: "u32",
  greedy: "u32",
  schedule: "u32",
  epsilonStart: "f32",
  epsilonEnd: "f32",
  epsilonSteps: "f32",
  randomSteps: "f32",
  numLearners: "u32",
  batch: "u32",
  envsPerSeed: "u32",
  seeds: "u32",
} as const;
type ActParams = { [K in keyof typeof PARAMS]: number };

/** actions[a, e] = ε-greedy over q[a·numEnvs + e, :] at iteration step[0]. */
export const idqnAct = defineKernel({
  name: "idqn.act",
  shader: SHADER,
  entryPoint: "act",
  includes: INCLUDES,
  bindings: { q: "read", step: "read", actions: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.numEnvs,
});

/** counter[0] += 1. */
export const idqnAdvance = defineKernel({
  name: "idqn.advance",
  shader: SHADER,
  entryPoint: "advance",
  includes: INCLUDES,
  bindings: { counter: "write" },
  params: PARAMS,
  threads: () => 1,
});

/** acc[l] += (loss[l], mean_b absTd[l, b], 1). */
export const idqnAccumulate = defineKernel({
  name: "idqn.accumulate",
  shader: SHADER,
  entryPoint: "accumulate",
  includes: INCLUDES,
  bindings: { loss: "read", absTd: "read", acc: "write" },
  params: PARAMS,
  threads: (p) => p.numLearners,
});

/** out = per-learner means of acc (then zeroed), then each seed's ε and update count. */
export const idqnSummarise = defineKernel({
  name: "idqn.summarise",
  shader: SHADER,
  entryPoint: "summarise",
  includes: INCLUDES,
  bindings: { step: "read", acc: "write", out: "write" },
  params: PARAMS,
  threads: (p) => p.numLearners + p.seeds,
});

/** ε schedule (env steps summed over envs). */
export interface EpsilonSchedule {
  kind: "linear" | "multiplicative";
  start: number;
  end: number;
  /** Env steps from start to end. */
  steps: number;
  /** Env steps of uniformly random actions first (ε = 1). */
  randomSteps: number;
}

/**
 * ε after `t` env steps (host twin of `epsilonAt` in idqn_act.wgsl): linear or geometric
 * interpolation from start to end over `steps`, constant afterwards, 1 during the warm-up.
 */
export function epsilonAt(s: EpsilonSchedule, t: number): number {
  if (t < s.randomSteps) return 1;
  const frac = Math.min(t / s.steps, 1);
  return s.kind === "linear"
    ? s.start + frac * (s.end - s.start)
    : s.start * Math.pow(s.end / s.start, frac);
}

/** Options of {@linkcode createEpsilonGreedy}. */
export interface EpsilonGreedyOptions {
  /** Q-values of the env rows: [numAgents·numEnvs, numActions] in agent-major order. */
  q: Tensor<"f32">;
  /** Where actions go: [numAgents, numEnvs] u32. */
  actions: Tensor<"u32">;
  numAgents: number;
  numEnvs: number;
  numActions: number;
  schedule: EpsilonSchedule;
  seed: number;
  /**
   * Seeds batched in the envs (default 1; algorithms/seeds.ts): envs `[k·n, (k+1)·n)` of
   * `numEnvs` = S·n draw as a run seeded `seed + k`, ε counts one seed's n envs per step, and the
   * learners are `numLearners` = blocks·S in seed-minor order.
   */
  seeds?: number;
  /** Learners (for metrics). */
  numLearners: number;
  /** Rows per learner of a learning step (for metrics). */
  batch: number;
  /** Per-learner loss [numLearners] and |δ| [numLearners, batch] of the learning step. */
  loss: Tensor<"f32">;
  absTd: Tensor<"f32">;
  label: string;
}

/** Bound ε-greedy acting and metrics. */
export interface EpsilonGreedy {
  /** [1] u32: iterations acted so far (the RNG step and the ε clock). */
  readonly counter: Tensor<"u32">;
  /** [numLearners, 3] running sums (loss, mean |δ|, updates) since the last summary. */
  readonly acc: Tensor<"f32">;
  /**
   * [numLearners + seeds, 2]: per learner (loss, |δ|); then per seed (ε, updates). Valid after
   * `summarise`.
   */
  readonly out: Tensor<"f32">;
  /** Records ε-greedy (or greedy) actions from `q`; the behaviour policy advances the counter. */
  act(enc: Encoder, greedy: boolean): void;
  /** Records one learning step's metrics. */
  accumulate(enc: Encoder): void;
  summarise(enc: Encoder): void;
}

/**
 * Builds ε-greedy action selection and the metric accumulators (labels `<label>.*`).
 *
 * @param engine Engine that owns the device.
 * @param o Q rows, action buffer, sizes, schedule, seed and the learner's loss tensors.
 * @returns An {@linkcode EpsilonGreedy}.
 */
export async function createEpsilonGreedy(
  engine: Engine,
  o: EpsilonGreedyOptions,
): Promise<EpsilonGreedy> {
  const rows = o.numAgents * o.numEnvs;
  if (o.q.size !== rows * o.numActions || o.actions.size !== rows) {
    throw new TypeError(
      `Cannot build "${o.label}": q [${o.q.shape}] and actions [${o.actions.shape}] do not fit ${o.numAgents} agents × ${o.numEnvs} envs × ${o.numActions} actions`,
    );
  }
  if (o.loss.size !== o.numLearners || o.absTd.size !== o.numLearners * o.batch) {
    throw new TypeError(
      `Cannot build "${o.label}": loss [${o.loss.shape}] / absTd [${o.absTd.shape}] are not [${o.numLearners}] / [${o.numLearners}, ${o.batch}]`,
    );
  }
  const s = o.schedule;
  if (!(s.steps > 0 && s.start >= 0 && s.end >= 0)) {
    throw new RangeError(
      `Cannot build "${o.label}": schedule ${JSON.stringify(s)} needs steps > 0 and ε >= 0`,
    );
  }
  const seeds = o.seeds ?? 1;
  if (
    !(Number.isInteger(seeds) && seeds >= 1 && o.numEnvs % seeds === 0 &&
      o.numLearners % seeds === 0)
  ) {
    throw new RangeError(
      `Cannot build "${o.label}": seeds ${seeds} must divide numEnvs ${o.numEnvs} and ${o.numLearners} learners`,
    );
  }
  const counter = engine.tensor({ dtype: "u32", shape: [1], label: `${o.label}.counter` });
  const acc = engine.tensor({ dtype: "f32", shape: [o.numLearners, 3], label: `${o.label}.acc` });
  const out = engine.tensor({
    dtype: "f32",
    shape: [o.numLearners + seeds, 2],
    label: `${o.label}.out`,
  });
  const p: ActParams = {
    numAgents: o.numAgents,
    numEnvs: o.numEnvs,
    numActions: o.numActions,
    seed: o.seed >>> 0,
    purpose: RNG_PURPOSE.explore,
    greedy: 0,
    schedule: s.kind === "linear" ? 0 : 1,
    epsilonStart: s.start,
    epsilonEnd: s.end,
    epsilonSteps: s.steps,
    randomSteps: s.randomSteps,
    numLearners: o.numLearners,
    batch: o.batch,
    envsPerSeed: o.numEnvs / seeds,
    seeds,
  };
  const [ka, kv, kc, ks] = await Promise.all([
    compileKernel(engine, idqnAct),
    compileKernel(engine, idqnAdvance),
    compileKernel(engine, idqnAccumulate),
    compileKernel(engine, idqnSummarise),
  ]);
  const actions = o.actions;
  const explore = ka.bind({ q: o.q, step: counter, actions }, p, `${o.label}.act`);
  const greedy = ka.bind(
    { q: o.q, step: counter, actions },
    { ...p, greedy: 1 },
    `${o.label}.greedy`,
  );
  const advance = kv.bind({ counter }, p, `${o.label}.advance`);
  const accumulate = kc.bind({ loss: o.loss, absTd: o.absTd, acc }, p, `${o.label}.accumulate`);
  const summarise = ks.bind({ step: counter, acc, out }, p, `${o.label}.summarise`);
  return {
    counter,
    acc,
    out,
    act(enc, isGreedy) {
      if (isGreedy) {
        greedy.encode(enc);
      } else {
        explore.encode(enc);
        advance.encode(enc);
      }
    },
    accumulate: (enc) => accumulate.encode(enc),
    summarise: (enc) => summarise.encode(enc),
  };
}

/** Options of {@linkcode createEvalPolicy}. */
export interface EvalPolicyOptions {
  /** Q-values of the eval env's rows: [numAgents·numEnvs, numActions] in agent-major order. */
  q: Tensor<"f32">;
  /** The eval env's actions [numAgents, numEnvs] u32. */
  actions: Tensor<"u32">;
  numAgents: number;
  numEnvs: number;
  numActions: number;
  /** ε of the stochastic policy (fixed; the greedy one uses 0). */
  epsilon: number;
  /** Seed of the policy's own RNG stream. */
  seed: number;
  label: string;
}

/** Bound evaluation acting: greedy or ε-greedy at a fixed ε, with its own step counter. */
export interface EvalPolicy {
  /** [1] u32: steps acted (the RNG step). */
  readonly counter: Tensor<"u32">;
  /** Records the actions and advances the counter. */
  act(enc: Encoder, greedy: boolean): void;
}

/**
 * Builds evaluation acting from Q-values: argmax (greedy), or ε-greedy at the fixed `o.epsilon`
 * (the same kernel as training with a constant schedule), drawing from its own stream.
 *
 * @param engine Engine that owns the device.
 * @param o Q rows, action buffer, sizes, ε, seed and label.
 * @returns An {@linkcode EvalPolicy}.
 */
export async function createEvalPolicy(engine: Engine, o: EvalPolicyOptions): Promise<EvalPolicy> {
  const rows = o.numAgents * o.numEnvs;
  if (o.q.size !== rows * o.numActions || o.actions.size !== rows) {
    throw new TypeError(
      `Cannot build "${o.label}": q [${o.q.shape}] and actions [${o.actions.shape}] do not fit ${o.numAgents} agents × ${o.numEnvs} envs × ${o.numActions} actions`,
    );
  }
  if (!(o.epsilon >= 0 && o.epsilon <= 1)) {
    throw new RangeError(`Cannot build "${o.label}": epsilon is ${o.epsilon}, needs [0, 1]`);
  }
  const counter = engine.tensor({ dtype: "u32", shape: [1], label: `${o.label}.counter` });
  const p: ActParams = {
    numAgents: o.numAgents,
    numEnvs: o.numEnvs,
    numActions: o.numActions,
    seed: o.seed >>> 0,
    purpose: RNG_PURPOSE.explore,
    greedy: 0,
    schedule: 0,
    epsilonStart: o.epsilon,
    epsilonEnd: o.epsilon,
    epsilonSteps: 1,
    randomSteps: 0,
    numLearners: 1,
    batch: 1,
    envsPerSeed: o.numEnvs,
    seeds: 1,
  };
  const [ka, kv] = await Promise.all([
    compileKernel(engine, idqnAct),
    compileKernel(engine, idqnAdvance),
  ]);
  const t = { q: o.q, step: counter, actions: o.actions };
  const explore = ka.bind(t, p, `${o.label}.act`);
  const greedy = ka.bind(t, { ...p, greedy: 1 }, `${o.label}.greedy`);
  const advance = kv.bind({ counter }, p, `${o.label}.advance`);
  return {
    counter,
    act(enc, isGreedy) {
      (isGreedy ? greedy : explore).encode(enc);
      advance.encode(enc);
    },
  };
}
