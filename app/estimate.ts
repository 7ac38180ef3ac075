/**
 * Wall-time estimates of a run before it starts (`deno task run --list`, and the warning when a
 * run will take more than an hour). A cost model, not a measurement of the run itself:
 *
 * - **Work.** {@linkcode costOf} counts, from the config alone (sizes from the env registry, no
 *   GPU), the env steps of one training iteration and its work in *units*: multiply-adds of the
 *   networks per iteration (acting, learning with backward ≈ 2× forward, PPO epochs, replay
 *   batches per update), times the agents (SEAC and SEQL: agents², each agent learns from every
 *   agent's data). Evaluation episodes (the family's protocol, or DIALS' own evaluation on the
 *   global simulator) count as acting-only iterations.
 * - **Per-algorithm cost.** One iteration takes `overhead + perUnit · units` seconds. `overhead`
 *   (dispatches, submits, small kernels whose cost does not grow with the work) and `perUnit` are
 *   fitted per algorithm (PPO-family policies with a GRU apart: `<algo>:gru`) from two timed
 *   probes of a representative preset, at its `numEnvs` and at 4× (app/estimate_probe.ts).
 *   {@linkcode REFERENCE_COSTS} holds that fit for the reference adapter (Mesa llvmpipe on a
 *   shared 2-core VM); another adapter scales it by one quick probe, or replaces it with its own
 *   calibration (`deno task run --list --calibrate`), both cached.
 * - **Not counted**, so the estimate is a lower bound (shown with "≥"): DIALS' influence-predictor
 *   training. Replay warm-up (`learningStarts`) is counted as learning (a small overestimate).
 *
 * Accuracy on the reference adapter (llvmpipe, 2-core VM, estimate ÷ measured wall time of
 * `deno task run`, process start and report included): out of sample (tasks and sizes other
 * than the calibration's) seac_quick 12.8 s ÷ 11.2 s, iac_rware_tiny_4ag at 100k steps 39 s ÷
 * 45 s, seac_rware_tiny_4ag at 100k steps 69 s ÷ 62 s, seac_rware_small_4ag at 60k steps 41 s ÷
 * 38 s, snac_lbf_15x15_3p_4f at 100k steps 28 s ÷ 29 s; on calibration presets iql_lbf (2,400
 * learning steps) 59 s ÷ 46 s, idqn_ddqn_pursuit (160 learning steps) 37 s ÷ 39 s,
 * ppo_gs_traffic_4 (25,600 steps) 30 s ÷ 30–55 s. That is within ±30% on a quiet machine; other
 * jobs on the same cores slow runs by up to 2× (the quick probe, cached once, does not follow
 * load that changes later). DIALS with influence-predictor training is a lower bound indeed:
 * dials_warehouse_4 at 25,600 steps, estimated ≥11 min, had logged no row after 17 min.
 *
 * @module
 */
import { findTask } from "../envs/registry.ts";
import type { ExperimentConfig } from "./config.ts";
import { type CostTable, REFERENCE_COSTS } from "./estimate_reference.ts";

export { REFERENCE_COSTS } from "./estimate_reference.ts";
export type { AlgorithmCost, CostTable } from "./estimate_reference.ts";

/** The work of one config, from its sizes. */
export interface RunCost {
  /**
   * The cost-table entry that prices it: the algorithm's name, with `:gru` for a recurrent
   * PPO-family policy (a GRU costs far more per multiply-add on a CPU adapter than dense layers).
   */
  key: string;
  /** Env steps one training iteration advances. */
  stepsPerIteration: number;
  /** Work units of one training iteration. */
  units: number;
  /** Acting-only iterations of all evaluations over the run. */
  evalIterations: number;
  /** Work units of one evaluation iteration. */
  evalUnits: number;
  /** What the model leaves out (the estimate is then a lower bound); empty when complete. */
  excluded: string[];
}

/** An estimate of a run's wall time. */
export interface Estimate {
  seconds: number;
  /** True when part of the run is not modelled (see {@linkcode RunCost.excluded}). */
  lowerBound: boolean;
  /** The run's work. */
  cost: RunCost;
}

type Algo = Readonly<Record<string, unknown>>;

function num(algo: Algo, key: string, fallback: number): number {
  const v = algo[key];
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

function list(algo: Algo, key: string): number[] {
  const v = algo[key];
  return Array.isArray(v) ? v.filter((x): x is number => typeof x === "number") : [];
}

/** Multiply-adds of a dense stack `sizes[0] → sizes[1] → …` for one sample. */
function denseMacs(sizes: readonly number[]): number {
  let n = 0;
  for (let i = 1; i < sizes.length; i++) n += sizes[i - 1] * sizes[i];
  return n;
}

/**
 * Multiply-adds of one agent's network for one sample: convolutions (stride 1, no padding) over
 * an HWC observation, then the dense layers (the first a GRU when `recurrent`), then the head.
 */
function netMacs(
  obsShape: readonly number[],
  algo: Algo,
  outputs: number,
  recurrent: boolean,
): number {
  const conv = list(algo, "conv");
  let macs = 0;
  let flat = obsShape.reduce((a, b) => a * b, 1);
  if (conv.length > 0 && obsShape.length === 3) {
    const k = num(algo, "kernel", 2);
    let [h, w, c] = obsShape;
    for (const out of conv) {
      h = Math.max(1, h - k + 1);
      w = Math.max(1, w - k + 1);
      macs += h * w * out * c * k * k;
      c = out;
    }
    flat = h * w * c;
  }
  const dense = list(algo, "dense");
  const hidden = dense.length > 0
    ? dense
    : "hidden2" in algo
    ? [num(algo, "hidden", 64), num(algo, "hidden2", 64)]
    : "hidden" in algo
    ? [num(algo, "hidden", 64), num(algo, "hidden", 64)]
    : [];
  const head = [num(algo, "embed", 0), num(algo, "headHidden", 0)].filter((x) => x > 0);
  if (recurrent && hidden.length > 0) {
    // GRU(flat → hidden[0]): three gates over input and state, then the head.
    return macs + 3 * (flat + hidden[0]) * hidden[0] + denseMacs([...hidden, ...head, outputs]);
  }
  return macs + denseMacs([flat, ...hidden, ...head, outputs]);
}

/**
 * Algorithms whose learners use every agent's data for every agent (agents² work): SEAC's and
 * SEQL's shared experience, LBS' pool of every agent's draws scored by every learner.
 */
const SHARED_EXPERIENCE = ["seac", "seql", "lbs", "idqn-same-rb"];

/**
 * The work of a config: env steps and work units per iteration, and its evaluations.
 *
 * @example The default preset's work
 * ```ts
 * import { costOf } from "./estimate.ts";
 * import { validateConfig } from "./config.ts";
 *
 * const config = validateConfig({
 *   numEnvs: 32,
 *   totalSteps: 240_000,
 *   env: "Foraging-5x5-2p-1f",
 *   algo: { name: "seac", hidden: 32 },
 * });
 * console.log(costOf(config).stepsPerIteration); // 32 envs × 5 steps = 160
 * ```
 *
 * @param config A validated config.
 * @returns Its work.
 */
export function costOf(config: ExperimentConfig): RunCost {
  const { spec } = findTask(config.env);
  const algo = config.algo as unknown as Algo;
  const name = config.algo.name;
  const agents = spec.numAgents;
  // PPO-family trunks: a GRU where the policy says so, or for the warehouse under "auto".
  const recurrent = "seqLen" in algo &&
    (algo.policy === "gru" || (algo.policy !== "mlp" && spec.family === "warehouse"));
  const critic = "nSteps" in algo || "seqLen" in algo ? 1 : 0;
  const perSample = netMacs(spec.obsShape, algo, spec.numActions + critic, recurrent);
  const shared = SHARED_EXPERIENCE.includes(name) ? agents : 1;
  const rollout = num(algo, "nSteps", num(algo, "rolloutSteps", 1));
  const stepsPerIteration = config.numEnvs * rollout;
  const excluded: string[] = [];
  let units: number;
  if (name === "random") {
    units = stepsPerIteration * agents;
  } else if ("batchSize" in algo) {
    // Replay learners: act on every step; an update of `batchSize` samples every stepsPerUpdate
    // env steps (forward online and target, backward ≈ 2 forwards).
    const updates = stepsPerIteration / Math.max(1, num(algo, "stepsPerUpdate", 1));
    units = agents * perSample *
      (stepsPerIteration + updates * num(algo, "batchSize", 32) * 4 * shared);
  } else {
    // On-policy learners: act, then forward + backward over the rollout (`epochs` times for PPO).
    const epochs = num(algo, "epochs", 1);
    units = agents * perSample * stepsPerIteration * (1 + 3 * epochs * shared);
  }
  if (name === "dials" && algo.trainAips === true) excluded.push("influence-predictor training");
  // Evaluations (DIALS' own on the global simulator has the same shape: evalEpisodes on each of
  // gsEnvs copies every evalFreq steps), each episode counted at the task's step limit.
  const e = config.eval;
  const evals = e.interval > 0
    ? Math.floor(config.totalSteps / e.interval)
    : e.intervalFraction > 0
    ? Math.round(1 / e.intervalFraction)
    : 0;
  let evalIterations = 0, evalUnits = 0;
  if (evals > 0 && e.episodes > 0) {
    const envs = Math.max(1, Math.min(e.envs, e.episodes));
    evalIterations = evals * Math.ceil(e.episodes / envs) * spec.maxSteps;
    evalUnits = envs * agents * perSample;
  }
  const key = recurrent ? `${name}:gru` : name;
  return { key, stepsPerIteration, units, evalIterations, evalUnits, excluded };
}

/** Fraction of a training iteration's fixed cost an acting-only (evaluation) iteration takes. */
export const EVAL_OVERHEAD_FRACTION = 0.25;

/**
 * Estimates a run's wall time from its work and an algorithm's fitted cost.
 *
 * @param config A validated config.
 * @param table Per-algorithm costs (default: {@linkcode REFERENCE_COSTS}).
 * @param options `speed`: how much slower than `table` this adapter is (2 = twice the time).
 * @returns The estimate, or null when `table` has no cost for the algorithm.
 */
export function estimateRun(
  config: ExperimentConfig,
  table: CostTable = REFERENCE_COSTS,
  options: { speed?: number } = {},
): Estimate | null {
  const cost = costOf(config);
  const fit = table.algorithms[cost.key] ?? table.algorithms[config.algo.name];
  if (!fit) return null;
  const iterations = Math.ceil(config.totalSteps / cost.stepsPerIteration);
  const train = iterations * (fit.overhead + fit.perUnit * cost.units);
  const evaluate = cost.evalIterations *
    (fit.overhead * EVAL_OVERHEAD_FRACTION + fit.perUnit * cost.evalUnits);
  const seconds = (fit.build + train + evaluate) * (options.speed ?? 1);
  return { seconds, lowerBound: cost.excluded.length > 0, cost };
}

/** Formats an estimate compactly: `40s`, `12min`, `3.4h`, `2.1d`, `5mo` (with "≥" for a bound). */
export function formatEstimate(estimate: Pick<Estimate, "seconds" | "lowerBound"> | null): string {
  if (!estimate) return "?";
  const s = estimate.seconds;
  const text = s < 90
    ? `${Math.max(1, Math.round(s))}s`
    : s < 5400
    ? `${Math.round(s / 60)}min`
    : s < 48 * 3600
    ? `${(s / 3600).toFixed(s < 36000 ? 1 : 0)}h`
    : s < 60 * 86400
    ? `${(s / 86400).toFixed(s < 864000 ? 1 : 0)}d`
    : `${Math.round(s / (30 * 86400))}mo`;
  return (estimate.lowerBound ? "≥" : "") + text;
}

/** Above this estimate a run start prints a warning [s]. */
export const LONG_RUN_SECONDS = 3600;
