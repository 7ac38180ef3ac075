/**
 * SUPER — selective multi-agent prioritized experience relay (docs/algorithms/super.md) on the IDQN pipeline.
 * After the store that completes each rollout fragment, every agent scores its fragment's rows
 * with its own online and target networks (the training TD definition: double-Q, dueling, γ,
 * terminal mask), selects rows by the quantile, Gaussian or stochastic rule, and the selected
 * rows are appended to every other agent's replay ring, with the arrival priority, before that
 * iteration's learning step — all on the GPU. Rows shared, rows scored and Σ|δ| per agent
 * accumulate on the GPU and are read at log points.
 *
 * The fragment is F = max(1, round(stepsPerUpdate / numEnvs)) stores (Pursuit, one env: 4 env
 * steps). Arrival priority is the config's `arrivalPriority` (1.0 in Pursuit: RLlib without
 * worker-side prioritization); worker-side |δ| + ε priorities (Battle, Adv.-Pursuit) and team
 * filters are not implemented.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { compileKernel } from "../../engine/kernel.ts";
import { createFill } from "../../engine/ops/elementwise.ts";
import { createQLoss, createTdTarget } from "../../engine/ops/losses.ts";
import type { ReplayBatch } from "../../engine/replay/buffer.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { IdqnParts, ShareStage } from "../idqn/mod.ts";
import { checkIdqnConfig, IDQN_DEFAULTS, type IdqnConfig } from "../idqn/config.ts";
import { createQNetwork } from "../idqn/network.ts";
import { createIdqnTrainer, IDQN_EVAL_PROTOCOL } from "../idqn/mod.ts";
import { StageTrainer } from "../idqn/stage_metrics.ts";
import type { StageMetrics } from "../idqn/stages.ts";
import {
  createSuperSelect,
  type GaussianScale,
  type StochasticNormaliser,
  superFragmentSlots,
  type SuperMode,
  type SuperSelect,
  superSnapshot,
} from "./select.ts";
import type { AlgorithmDef, RunConfig, Trainer } from "../trainer.ts";

/** SUPER hyper-parameters: the DDQN learner's plus the relay's (docs/algorithms/super.md §3.4). */
export interface SuperConfig extends IdqnConfig {
  /** Selection rule: "quantile", "gaussian" or "stochastic". */
  mode: string;
  /** Target fraction of each fragment shared, β ∈ [0, 1]. */
  bandwidth: number;
  /**
   * Sliding window of |δ| per agent (quantile, Gaussian; stochastic with `stochasticNormaliser`
   * "window") [transitions].
   */
  window: number;
  /** Gaussian threshold μ + c·v ("variance", released code) or μ + c·σ ("std", paper text). */
  gaussianScale: string;
  /**
   * Stochastic rule's normaliser (mode "stochastic" only): with a = |δ| and priority a^α, row k is
   * shared with probability p_k = min(1, β·a_k^α / mean(a^α)), the mean over the current fragment
   * ("batch", the released code) or over the sender's window of the last `window` |δ| including
   * this fragment ("window", the paper's text, docs/algorithms/super.md §3.3). A zero normaliser gives p_k = 0.
   */
  stochasticNormaliser: string;
  /** Stochastic rule's priority exponent α > 0 (mode "stochastic" only; 1 = released code). */
  stochasticAlpha: number;
}

/** SUPER on Pursuit: RLlib DDQN (docs/algorithms/idqn.md §4.1) with quantile relay, β = 0.1, window 1500. */
export const SUPER_DEFAULTS: Readonly<SuperConfig> = Object.freeze({
  ...IDQN_DEFAULTS,
  mode: "quantile",
  bandwidth: 0.1,
  window: 1500,
  gaussianScale: "variance",
  stochasticNormaliser: "batch",
  stochasticAlpha: 1,
});

/** Stores per relay for a config: F = max(1, round(stepsPerUpdate / numEnvs)). */
export function superFragment(c: Readonly<IdqnConfig>, numEnvs: number): number {
  return Math.max(1, Math.round(c.stepsPerUpdate / numEnvs));
}

/** Checks the relay settings (and the learner's); problems as `"algo.x" message`. */
export function checkSuperConfig(run: RunConfig | null, c: SuperConfig): string[] {
  const out = checkIdqnConfig("idqn", run, c);
  if (!["quantile", "gaussian", "stochastic"].includes(c.mode)) {
    out.push(`"algo.mode" must be "quantile", "gaussian" or "stochastic", got "${c.mode}"`);
  }
  if (!(c.bandwidth >= 0 && c.bandwidth <= 1)) {
    out.push(`"algo.bandwidth" must be in [0, 1], got ${c.bandwidth}`);
  }
  if (!(Number.isInteger(c.window) && c.window >= 1)) {
    out.push(`"algo.window" must be an integer >= 1, got ${c.window}`);
  }
  if (c.gaussianScale !== "variance" && c.gaussianScale !== "std") {
    out.push(`"algo.gaussianScale" must be "variance" or "std", got "${c.gaussianScale}"`);
  }
  if (c.stochasticNormaliser !== "batch" && c.stochasticNormaliser !== "window") {
    out.push(
      `"algo.stochasticNormaliser" must be "batch" or "window", got "${c.stochasticNormaliser}"`,
    );
  }
  if (!(Number.isFinite(c.stochasticAlpha) && c.stochasticAlpha > 0)) {
    out.push(`"algo.stochasticAlpha" must be a finite number > 0, got ${c.stochasticAlpha}`);
  }
  if (run) {
    const F = superFragment(c, run.numEnvs);
    if ((F - 1) * run.numEnvs >= c.bufferSize) {
      out.push(
        `"algo.bufferSize" ${c.bufferSize} must exceed a fragment of ${F * run.numEnvs} rows`,
      );
    }
  }
  return out;
}

/** A bound SUPER relay stage. */
export interface SuperStage extends ShareStage {
  readonly select: SuperSelect;
  /** [numAgents, n] u32: ring slots of the fragment's rows (valid during `encode`). */
  readonly slots: Tensor<"u32">;
  /** The fragment's rows [numAgents, n, …] gathered from the rings. */
  readonly fragment: ReplayBatch;
  /** |δ| of the fragment's rows [numAgents, n] under each sender's networks. */
  readonly absTd: Tensor<"f32">;
  readonly metrics: StageMetrics;
}

/**
 * Builds the relay for an IDQN trainer's parts (per-agent networks and rings with cross-insert
 * staging for `fragment` stores).
 *
 * @param parts The trainer's networks, replay and config.
 * @param options The relay's settings and the fragment length F.
 * @returns A {@linkcode SuperStage}; record `encode` after the store that completes a fragment.
 */
export async function createSuperStage(
  parts: IdqnParts,
  options: {
    mode: SuperMode;
    bandwidth: number;
    window: number;
    gaussianScale: GaussianScale;
    stochasticNormaliser?: StochasticNormaliser;
    stochasticAlpha?: number;
    fragment: number;
    label: string;
  },
): Promise<SuperStage> {
  const { engine, replay, spec, config: c, numEnvs: E } = parts;
  const { fragment: F, label } = options;
  // Seed batching: A = N·S networks and rings (a·S + k: seed k's agent a); every kernel of the
  // stage is per ring, and the relay stays within a seed (engine/replay). One seed: A = N.
  const S = parts.seeds, N = replay.config.numAgents;
  const A = N * S, n = F * E;
  if (parts.numLearners !== A || replay.layout.numRings !== A) {
    throw new TypeError(
      `Cannot build "${label}": SUPER needs one network and one ring per agent, got ${parts.numLearners} networks and ${replay.layout.numRings} rings for ${N} agents × ${S} seeds`,
    );
  }
  if (replay.layout.relayFragment !== F || replay.layout.maxIncoming === 0) {
    throw new TypeError(
      `Cannot build "${label}": the replay relays every ${replay.layout.relayFragment} stores (cross-insert ${
        replay.layout.maxIncoming > 0
      }), SUPER needs ${F} with cross-insert`,
    );
  }
  const slots = engine.tensor({ dtype: "u32", shape: [A, n], label: `${label}.slots` });
  const start = engine.tensor({ dtype: "u32", shape: [A], label: `${label}.start` });
  const sp = {
    numAgents: A,
    numEnvs: E,
    fragment: F,
    n,
    capacity: replay.config.capacity,
    mode: 0,
    c: 0,
    useStd: 0,
    beta: 0,
    seed: 0,
    purpose: 0,
    alpha: 1,
    normaliser: 0,
    seeds: S,
  };
  const [kSlots, kSnap] = await Promise.all([
    compileKernel(engine, superFragmentSlots),
    compileKernel(engine, superSnapshot),
  ]);
  const slotsD = kSlots.bind(
    { countersIn: replay.counters, startIn: start, slots },
    sp,
    `${label}.slots`,
  );
  const snap = kSnap.bind(
    { countersIn: replay.counters, startOut: start },
    sp,
    `${label}.snapshot`,
  );
  // Score: δ = Q(s, a) − y with the sender's own online and target networks.
  const rows = replay.bindGather(slots, n, `${label}.fragment`);
  const q = await createQNetwork(engine, {
    net: parts.net,
    x: rows.obs,
    batch: n,
    spec,
    label: `${label}.q`,
  });
  const targetNext = await createQNetwork(engine, {
    net: parts.target,
    x: rows.nextObs,
    batch: n,
    spec,
    label: `${label}.targetNext`,
  });
  const qNext = c.double
    ? await createQNetwork(engine, {
      net: parts.net,
      x: rows.nextObs,
      batch: n,
      spec,
      label: `${label}.qNext`,
    })
    : null;
  let done: Tensor = rows.done;
  if (c.bootstrapOnTerminal) {
    done = engine.tensor({ dtype: "f32", shape: [A, n], label: `${label}.noDone` });
    const zero = await createFill(engine, done, 0);
    const enc = engine.encoder(`${label}.noDone`);
    zero.encode(enc);
    engine.submit(enc);
  }
  const td = await createTdTarget(engine, {
    qNext: targetNext.q,
    qNextOnline: qNext?.q,
    reward: rows.reward,
    done,
    numAgents: A,
    batch: n,
    numActions: spec.numActions,
    gamma: c.gamma,
    label: `${label}.td`,
  });
  const loss = await createQLoss(engine, {
    kind: c.loss === "mse" ? "mse" : "huber",
    q: q.q,
    action: rows.action,
    target: td.y,
    numAgents: A,
    batch: n,
    numActions: spec.numActions,
    label: `${label}.score`,
  });
  const select = await createSuperSelect(engine, {
    absTd: loss.absDelta,
    numAgents: A,
    n,
    mode: options.mode,
    bandwidth: options.bandwidth,
    window: options.window,
    gaussianScale: options.gaussianScale,
    stochasticNormaliser: options.stochasticNormaliser,
    stochasticAlpha: options.stochasticAlpha,
    seed: parts.seed,
    seeds: S,
    label: `${label}.select`,
  });
  const cross = await replay.bindCrossInsert(
    { indices: select.compact.indices, counts: select.compact.counts },
    { arrivalPriority: c.arrivalPriority, alpha: c.prioritized ? c.alpha : 1 },
  );
  const decodeSeed = (v: Float32Array, k: number) => {
    let shared = 0, seen = 0, td = 0;
    const out: Record<string, number> = {};
    for (let a = 0; a < N; a++) {
      const i = a * S + k;
      shared += v[3 * i];
      seen += v[3 * i + 1];
      td += v[3 * i + 2];
      out[`rowsShared.${a}`] = v[3 * i];
    }
    out.rowsShared = shared;
    out.sharedFraction = seen > 0 ? shared / seen : NaN;
    out.fragmentMeanAbsTd = seen > 0 ? td / seen : NaN;
    return out;
  };
  const metrics: StageMetrics = {
    accumulators: select.metrics,
    decode: (v) => decodeSeed(v, 0),
    decodeSeeds: (v) => Array.from({ length: S }, (_, k) => decodeSeed(v, k)),
  };
  return {
    select,
    slots,
    fragment: rows,
    absTd: loss.absDelta,
    metrics,
    /** The SHARE phase of the IDQN loop, after the store that completes a fragment. */
    encode(enc: Encoder) {
      // GATHER the fragment's rows from each agent's ring.
      slotsD.encode(enc);
      rows.encode(enc);
      // SCORE: |δ| = |y − Q_i(o, a)| with the training TD definition (double-Q target net).
      q.forward(enc);
      targetNext.forward(enc);
      qNext?.forward(enc);
      td.forward(enc);
      loss.forward(enc);
      // SELECT rows by the quantile, Gaussian or stochastic rule (select.ts).
      select.encode(enc);
      // RELAY the selected rows into every other agent's ring, at the arrival priority.
      cross.encode(enc);
      snap.encode(enc);
      select.advance(enc);
    },
  };
}

async function createSuper(
  engine: Engine,
  run: RunConfig,
  algo: SuperConfig,
  seeds = 1,
): Promise<Trainer> {
  const problems = checkSuperConfig(run, algo);
  if (problems.length > 0) throw new RangeError(`Cannot build "super": ${problems.join("; ")}`);
  const F = superFragment(algo, run.numEnvs);
  let stage: SuperStage | null = null;
  const inner = await createIdqnTrainer(engine, "idqn", run, algo, {
    label: "super",
    seeds,
    replay: { crossInsert: true, relayFragment: F },
    async shareStage(parts) {
      stage = await createSuperStage(parts, {
        mode: algo.mode as SuperMode,
        bandwidth: algo.bandwidth,
        window: algo.window,
        gaussianScale: algo.gaussianScale as GaussianScale,
        stochasticNormaliser: algo.stochasticNormaliser as StochasticNormaliser,
        stochasticAlpha: algo.stochasticAlpha,
        fragment: F,
        label: "super.relay",
      });
      return stage;
    },
  });
  return new StageTrainer(engine, inner, stage!.metrics);
}

/** SUPER: DDQN with selective relay of high-|δ| transitions (Gerstgrasser et al., NeurIPS 2023). */
export const SUPER: AlgorithmDef<SuperConfig> = Object.freeze<AlgorithmDef<SuperConfig>>({
  name: "super",
  source:
    "Gerstgrasser et al. 2023 (NeurIPS), mgerstgrasser/super suPERDQN (docs/algorithms/super.md)",
  defaults: SUPER_DEFAULTS,
  check: checkSuperConfig,
  evalProtocol: () => IDQN_EVAL_PROTOCOL,
  create: (engine, run, algo) => createSuper(engine, run, algo),
  createSeeds: createSuper,
});
