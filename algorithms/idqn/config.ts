/**
 * Hyper-parameters of the IDQN family and their defaults per variant (docs/algorithms/idqn.md §4): the RLlib DDQN
 * Pursuit preset for `idqn`, `ps` and `idqn-same-rb`, the SEAC repository's IQL/SEQL for `iql`
 * and `seql`. Units in brackets; env steps are summed over envs.
 *
 * @module
 */
import type { QNetworkSpec } from "./network.ts";
import type { RunConfig } from "../trainer.ts";

/** The variants: what each learner trains on (docs/algorithms/idqn.md §1). */
export type IdqnVariant = "idqn" | "ps" | "idqn-same-rb" | "seql" | "iql";

/** IDQN hyper-parameters (keys are the YAML `algo.*` names). */
export interface IdqnConfig {
  /** Adam step size. */
  lr: number;
  /** Adam denominator guard. */
  adamEps: number;
  /** Per-agent global-norm gradient clip; 0 disables. */
  maxGradNorm: number;
  /** Discount in [0, 1). */
  gamma: number;
  /** Rows per learner and gradient step (ps: per agent, the learner gets numAgents × this). */
  batchSize: number;
  /** Slots per replay ring [transitions] (one ring per agent; ps: the team's single ring). */
  bufferSize: number;
  /** Prioritized replay (PER) instead of uniform sampling with replacement (not idqn-same-rb, seql). */
  prioritized: boolean;
  /** PER exponent α. */
  alpha: number;
  /** PER importance exponent β (constant). */
  beta: number;
  /** PER ε added to |δ|. */
  priorityEps: number;
  /** Insertion priority of new transitions (before ^α); RLlib's Pursuit quirk is 1. */
  arrivalPriority: number;
  /** Double-DQN targets. */
  double: boolean;
  /** Dueling head. */
  dueling: boolean;
  /** "huber" (δ = 1) or "mse". */
  loss: string;
  /** Conv channels of the torso for image observations (k×k, stride 1); [] for an MLP. */
  conv: number[];
  /** Conv kernel size. */
  kernel: number;
  /** Dense ReLU layers of the torso. */
  dense: number[];
  /** Linear embedding without activation after the torso (RLlib: 256); 0 for none. */
  embed: number;
  /** Hidden ReLU width of the Q head / each dueling stream; 0 for none. */
  headHidden: number;
  /** Head init: "xavierZero" (RLlib) or "torchDefault". */
  headInit: string;
  /** Env steps per gradient step [steps] (RLlib rollout fragment 4; SEQL 1). */
  stepsPerUpdate: number;
  /** Env steps before learning starts [steps]. */
  learningStarts: number;
  /** Env steps between hard target copies [steps] (used when tau = 1). */
  targetEvery: number;
  /** Polyak τ after every gradient step when < 1 (SEQL 0.05); 1 = hard copies. */
  tau: number;
  /** "linear" or "multiplicative" ε schedule over env steps. */
  epsilonSchedule: string;
  epsilonStart: number;
  epsilonEnd: number;
  /** Env steps over which ε goes from start to end [steps]. */
  epsilonSteps: number;
  /** Env steps of uniformly random joint actions before ε-greedy (SEQL warm-up) [steps]. */
  randomSteps: number;
  /** Bootstrap through terminal states (the SEAC code's quirk); false masks with done. */
  bootstrapOnTerminal: boolean;
  /** Store done = 1 at the time limit too (RLlib); false bootstraps on truncation. */
  truncationIsTerminal: boolean;
  /** SEQL weight λ of the other agents' rows. */
  lambda: number;
}

/** RLlib DDQN on Pursuit (docs/algorithms/idqn.md §4.1): the defaults of `idqn`, `ps` and `idqn-same-rb`. */
export const IDQN_DEFAULTS: Readonly<IdqnConfig> = Object.freeze({
  lr: 1.6e-4,
  adamEps: 1e-8,
  maxGradNorm: 40,
  gamma: 0.99,
  batchSize: 32,
  bufferSize: 120_000,
  prioritized: true,
  alpha: 0.6,
  beta: 0.4,
  priorityEps: 1e-6,
  arrivalPriority: 1,
  double: true,
  dueling: true,
  loss: "huber",
  conv: [32, 64, 64],
  kernel: 2,
  dense: [64],
  embed: 256,
  headHidden: 256,
  headInit: "xavierZero",
  stepsPerUpdate: 4,
  learningStarts: 1000,
  targetEvery: 1000,
  tau: 1,
  epsilonSchedule: "linear",
  epsilonStart: 0.1,
  epsilonEnd: 0.001,
  epsilonSteps: 100_000,
  randomSteps: 0,
  bootstrapOnTerminal: false,
  truncationIsTerminal: true,
  lambda: 1,
});

/** SEAC repository IQL/SEQL (docs/algorithms/idqn.md §4.4): the defaults of `iql` and `seql`. */
export const SEQL_DEFAULTS: Readonly<IdqnConfig> = Object.freeze({
  ...IDQN_DEFAULTS,
  lr: 1e-4,
  maxGradNorm: 0.5,
  batchSize: 128,
  bufferSize: 1_000_000,
  prioritized: false,
  double: false,
  dueling: false,
  loss: "mse",
  conv: [],
  dense: [128, 128],
  embed: 0,
  headHidden: 0,
  headInit: "torchDefault",
  stepsPerUpdate: 1,
  learningStarts: 5000,
  tau: 0.05,
  epsilonSchedule: "multiplicative",
  epsilonStart: 1,
  epsilonEnd: 0.01,
  epsilonSteps: 3_000_000,
  randomSteps: 5000,
  bootstrapOnTerminal: true,
  lambda: 1,
});

const INTEGER_FIELDS = [
  "batchSize",
  "bufferSize",
  "kernel",
  "embed",
  "headHidden",
  "stepsPerUpdate",
  "learningStarts",
  "targetEvery",
  "epsilonSteps",
  "randomSteps",
] as const;

/**
 * Semantic checks of a config (after type validation): ranges, enumerations, and variant rules.
 *
 * @param variant The algorithm name.
 * @param run Run settings (numEnvs and the task are not needed here).
 * @param c The algorithm section.
 * @returns Problems as "algo.path: message" (empty when valid).
 */
export function checkIdqnConfig(
  variant: IdqnVariant,
  _run: RunConfig | null,
  c: IdqnConfig,
): string[] {
  const out: string[] = [];
  const bad = (k: string, msg: string) => out.push(`"algo.${k}" ${msg}`);
  for (const k of INTEGER_FIELDS) {
    const min = k === "batchSize" || k === "bufferSize" || k === "kernel" ||
        k === "stepsPerUpdate" || k === "targetEvery" || k === "epsilonSteps"
      ? 1
      : 0;
    if (!(Number.isInteger(c[k]) && c[k] >= min)) {
      bad(k, `must be an integer >= ${min}, got ${c[k]}`);
    }
  }
  for (const k of ["conv", "dense"] as const) {
    if (!c[k].every((v) => Number.isInteger(v) && v >= 1)) {
      bad(k, `must be a list of integers >= 1, got [${c[k]}]`);
    }
  }
  if (!(c.lr > 0)) bad("lr", `must be > 0, got ${c.lr}`);
  if (!(c.adamEps > 0)) bad("adamEps", `must be > 0, got ${c.adamEps}`);
  if (!(c.maxGradNorm >= 0)) bad("maxGradNorm", `must be >= 0 (0 disables), got ${c.maxGradNorm}`);
  if (!(c.gamma >= 0 && c.gamma < 1)) bad("gamma", `must be in [0, 1), got ${c.gamma}`);
  if (!(c.alpha >= 0)) bad("alpha", `must be >= 0, got ${c.alpha}`);
  if (!(c.beta >= 0)) bad("beta", `must be >= 0, got ${c.beta}`);
  if (!(c.priorityEps > 0)) bad("priorityEps", `must be > 0, got ${c.priorityEps}`);
  if (!(c.arrivalPriority > 0)) bad("arrivalPriority", `must be > 0, got ${c.arrivalPriority}`);
  if (!(c.tau > 0 && c.tau <= 1)) bad("tau", `must be in (0, 1], got ${c.tau}`);
  if (!(c.lambda >= 0)) bad("lambda", `must be >= 0, got ${c.lambda}`);
  if (c.loss !== "huber" && c.loss !== "mse") {
    bad("loss", `must be "huber" or "mse", got "${c.loss}"`);
  }
  if (c.headInit !== "xavierZero" && c.headInit !== "torchDefault") {
    bad("headInit", `must be "xavierZero" or "torchDefault", got "${c.headInit}"`);
  }
  if (c.epsilonSchedule !== "linear" && c.epsilonSchedule !== "multiplicative") {
    bad("epsilonSchedule", `must be "linear" or "multiplicative", got "${c.epsilonSchedule}"`);
  }
  for (const k of ["epsilonStart", "epsilonEnd"] as const) {
    if (!(c[k] >= 0 && c[k] <= 1)) bad(k, `must be in [0, 1], got ${c[k]}`);
  }
  if (c.epsilonSchedule === "multiplicative" && !(c.epsilonStart > 0 && c.epsilonEnd > 0)) {
    bad("epsilonEnd", "must be > 0 (and epsilonStart > 0) for a multiplicative schedule");
  }
  if (c.dueling && c.headHidden === 0) bad("headHidden", "must be >= 1 with a dueling head");
  if ((variant === "seql" || variant === "idqn-same-rb") && c.prioritized) {
    bad("prioritized", `must be false for ${variant} (uniform draws from every agent's buffer)`);
  }
  return out;
}

/** The network architecture a config gives for a task's observations. */
export function networkSpec(
  c: Readonly<IdqnConfig>,
  obsShape: readonly number[],
  numActions: number,
): QNetworkSpec {
  return {
    obsShape: c.conv.length > 0 ? obsShape : [obsShape.reduce((a, b) => a * b, 1)],
    numActions,
    conv: c.conv,
    kernel: c.kernel,
    dense: c.dense,
    embed: c.embed,
    headHidden: c.headHidden,
    dueling: c.dueling,
    headInit: c.headInit === "torchDefault" ? "torchDefault" : "xavierZero",
  };
}
