/**
 * Hyper-parameters of independent PPO and DIALS (docs/algorithms/dials.md §2–§7) with the warehouse settings as
 * defaults (traffic presets override the domain-specific ones), and their semantic checks.
 *
 * @module
 */
import type { RunConfig } from "../trainer.ts";

/** PPO, AIP and outer-loop settings. Units in brackets; "steps" are per agent. */
export interface DialsConfig {
  /** Policy trunk: "gru" (warehouse), "mlp" (traffic) or "auto" (by env family). */
  policy: string;
  /** Steps per env lane per PPO update T [steps]; T·numEnvs = transitions per update. */
  rolloutSteps: number;
  /** BPTT sequence length (1 for MLP policies) [steps]. */
  seqLen: number;
  /** GAE horizon (rollout_steps of the reference) [steps]. */
  gaeHorizon: number;
  epochs: number;
  /** Minibatches per epoch. */
  numMinibatches: number;
  gamma: number;
  lambda: number;
  /** Initial Adam step size, decayed linearly to `lrEnd` over `totalSteps`. */
  lr: number;
  lrEnd: number;
  /** Initial PPO clip ε (also the value clip), decayed linearly to `clipEnd`. */
  clip: number;
  clipEnd: number;
  valueCoef: number;
  entropyCoef: number;
  adamEps: number;
  /** Trunk widths: GRU/first layer, second layer. */
  hidden: number;
  hidden2: number;
  /** AIP retraining period F [agent steps]; ≥ totalSteps trains once at step 0. */
  influenceTrainFreq: number;
  /** Train the AIPs (false: untrained-DIALS, the initial random AIPs are used throughout). */
  trainAips: boolean;
  /** Samples per agent in each AIP dataset. */
  datasetSize: number;
  /** Epochs, minibatch size [sequences or samples], Adam step size and width of the AIP. */
  aipEpochs: number;
  aipBatch: number;
  aipLr: number;
  aipHidden: number;
  /** Fraction of the dataset's sequences held out for the AIP test loss. */
  aipTestFraction: number;
  /** GS envs used for AIP data collection and evaluation. */
  gsEnvs: number;
  /** Evaluation period [agent steps] and length [episodes per GS env]. */
  evalFreq: number;
  evalEpisodes: number;
  /** PPO iterations recorded per command buffer. */
  iterationsPerSubmit: number;
  /**
   * Policies of the GS baseline `ppo_gs` (docs/algorithms/dials.md §8.6): "independent" (one network and Adam per
   * agent, the paper's independent learners) or "shared" (the reference code: one network used by
   * every agent, the GRU state chained through the agents each step, each agent's Adam applied
   * to it in turn). DIALS and untrained-DIALS accept only "independent".
   */
  gsPolicy: string;
}

/** The values of {@linkcode DialsConfig.gsPolicy}. */
export const GS_POLICIES = ["independent", "shared"] as const;

/**
 * Defaults: warehouse (docs/algorithms/dials.md §4, §6; F = 4M, dataset 10 000). The AIP schedule (300 epochs, Adam
 * 1e-4) is the one of every reference commit during the paper's experiments (INFLUENCEorg/DIALS
 * `configs/warehouse/distributed.yaml`, 01c8be2 … 72bc651, 2022-05; docs/algorithms/dials.md §8.7).
 */
export const DIALS_DEFAULTS: Readonly<DialsConfig> = Object.freeze({
  policy: "auto",
  rolloutSteps: 8,
  seqLen: 8,
  gaeHorizon: 8,
  epochs: 3,
  numMinibatches: 4,
  gamma: 0.99,
  lambda: 0.95,
  lr: 2.5e-4,
  lrEnd: 1e-10,
  clip: 0.1,
  clipEnd: 1e-5,
  valueCoef: 1,
  entropyCoef: 0.01,
  adamEps: 1e-8,
  hidden: 256,
  hidden2: 128,
  influenceTrainFreq: 4_000_000,
  trainAips: true,
  datasetSize: 10_000,
  aipEpochs: 300,
  aipBatch: 32,
  aipLr: 1e-4,
  aipHidden: 64,
  aipTestFraction: 0.1,
  gsEnvs: 100,
  evalFreq: 100_000,
  evalEpisodes: 1,
  iterationsPerSubmit: 16,
  gsPolicy: "independent",
});

/** Semantic checks ("path: message"). */
export function checkDialsConfig(run: RunConfig, c: DialsConfig): string[] {
  const out: string[] = [];
  const int = (name: keyof DialsConfig, min: number) => {
    const v = c[name] as number;
    if (!(Number.isInteger(v) && v >= min)) {
      out.push(`algo.${name}: ${v} is not an integer >= ${min}`);
    }
  };
  for (
    const k of [
      "rolloutSteps",
      "seqLen",
      "gaeHorizon",
      "epochs",
      "numMinibatches",
      "hidden",
      "hidden2",
      "influenceTrainFreq",
      "datasetSize",
      "aipEpochs",
      "aipBatch",
      "aipHidden",
      "gsEnvs",
      "evalFreq",
      "evalEpisodes",
      "iterationsPerSubmit",
    ] as const
  ) int(k, 1);
  if (!["auto", "gru", "mlp"].includes(c.policy)) {
    out.push(`algo.policy: "${c.policy}" is not one of auto, gru, mlp`);
  }
  if (c.rolloutSteps % c.seqLen !== 0) {
    out.push(`algo.seqLen: ${c.seqLen} does not divide rolloutSteps ${c.rolloutSteps}`);
  }
  if (c.rolloutSteps % c.gaeHorizon !== 0) {
    out.push(`algo.gaeHorizon: ${c.gaeHorizon} does not divide rolloutSteps ${c.rolloutSteps}`);
  }
  const seqs = (c.rolloutSteps / c.seqLen) * run.numEnvs;
  if (Number.isInteger(seqs) && seqs % c.numMinibatches !== 0) {
    out.push(`algo.numMinibatches: ${c.numMinibatches} does not divide ${seqs} sequences`);
  }
  if (!(c.gamma >= 0 && c.gamma < 1)) out.push(`algo.gamma: ${c.gamma} is not in [0, 1)`);
  if (!(c.lambda >= 0 && c.lambda <= 1)) out.push(`algo.lambda: ${c.lambda} is not in [0, 1]`);
  for (const k of ["lr", "aipLr", "adamEps", "clip"] as const) {
    if (!(c[k] > 0)) out.push(`algo.${k}: ${c[k]} is not > 0`);
  }
  for (const k of ["lrEnd", "clipEnd", "valueCoef", "entropyCoef"] as const) {
    if (!(c[k] >= 0)) out.push(`algo.${k}: ${c[k]} is not >= 0`);
  }
  if (!(c.aipTestFraction > 0 && c.aipTestFraction < 1)) {
    out.push(`algo.aipTestFraction: ${c.aipTestFraction} is not in (0, 1)`);
  }
  if (!(GS_POLICIES as readonly string[]).includes(c.gsPolicy)) {
    out.push(`algo.gsPolicy: "${c.gsPolicy}" is not one of ${GS_POLICIES.join(", ")}`);
  }
  return out;
}

/**
 * The checks of {@linkcode checkDialsConfig} for DIALS and untrained-DIALS, which train in the
 * local simulators: there `gsPolicy` must stay "independent" (it configures `ppo_gs` only).
 */
export function checkDialsOnlyConfig(run: RunConfig, c: DialsConfig): string[] {
  const out = checkDialsConfig(run, c);
  if (c.gsPolicy === "shared") {
    out.push(`algo.gsPolicy: "shared" applies to the GS baseline ppo_gs only, not DIALS`);
  }
  return out;
}

/** The policy trunk for an env family ("auto": GRU for the warehouse, MLP otherwise). */
export function policyKind(c: DialsConfig, family: string): "gru" | "mlp" {
  if (c.policy === "gru" || c.policy === "mlp") return c.policy;
  return family === "warehouse" ? "gru" : "mlp";
}
