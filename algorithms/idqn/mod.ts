/**
 * The IDQN family on the GPU (docs/algorithms/idqn.md): independent DQN/DDQN with one Q-network per agent batched
 * in one dispatch, parameter sharing (`ps`), "IDQN same RB" (`idqn-same-rb`), SEQL and IQL. The
 * whole loop — ε-greedy act, env step, store, (share), sample, learn, target sync, statistics —
 * is recorded without host reads; metrics are read once per log interval.
 *
 * Seams for the experience-sharing variants built on this pipeline (SUPER, LBS):
 * - {@linkcode createQNetwork} evaluates an agent's Q on arbitrary rows (a second instance on the
 *   same Net);
 * - a {@linkcode BatchSource} replaces the default minibatch (replay sampling, uniform or PER);
 * - a {@linkcode ShareStage} runs after each store at fragment boundaries (SUPER's relay).
 * Pass them to {@linkcode createIdqnTrainer} through {@linkcode IdqnTrainerOptions}.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import type { Net } from "../../engine/nn/net.ts";
import type { Replay } from "../../engine/replay/buffer.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { VecEnv } from "../../envs/env.ts";
import { IDQN_DEFAULTS, type IdqnConfig, SEQL_DEFAULTS } from "./config.ts";
import { checkIdqnConfig, type IdqnVariant } from "./config.ts";
import { createIdqnTrainer } from "./trainer.ts";
import type { AlgorithmDef } from "../trainer.ts";
import type { QNetworkSpec } from "./network.ts";

export {
  createQNetwork,
  type QNetwork,
  qNetworkInit,
  type QNetworkOptions,
  qNetworkParamCount,
  qNetworkParams,
  type QNetworkSpec,
} from "./network.ts";
export {
  checkIdqnConfig,
  IDQN_DEFAULTS,
  type IdqnConfig,
  type IdqnVariant,
  networkSpec,
  SEQL_DEFAULTS,
} from "./config.ts";
export { createIdqnTrainer, IdqnTrainer, type IdqnTrainerParts } from "./trainer.ts";

/** Minibatch tensors one learning step reads; rows of learner a are `[a, b, …]`. */
export interface BatchTensors {
  /** [numLearners, batch, obsDim] f32 (u8 observations already converted). */
  readonly obs: Tensor<"f32">;
  /** [numLearners, batch, obsDim] f32. */
  readonly nextObs: Tensor<"f32">;
  /** [numLearners, batch] u32. */
  readonly action: Tensor<"u32">;
  /** [numLearners, batch] f32. */
  readonly reward: Tensor<"f32">;
  /** [numLearners, batch] f32: 1 = no bootstrap. */
  readonly done: Tensor<"f32">;
  /** [numLearners, batch] f32 per-sample loss weights (PER IS, LBS, SEQL λ); null = ones. */
  readonly weight: Tensor<"f32"> | null;
}

/**
 * Where a learner's minibatch comes from. `numLearners` is the Q-network's `numAgents` (1 with
 * parameter sharing). `encode` is recorded right before each learning step; `afterLearn` right
 * after it with the learner's |δ| [numLearners, batch] (e.g. PER priority updates; bind once per
 * distinct tensor, the same tensor is passed every time).
 */
export interface BatchSource {
  readonly batch: BatchTensors;
  /** Rows per learner. */
  readonly size: number;
  encode(enc: Encoder): void;
  afterLearn?(enc: Encoder, absTd: Tensor<"f32">): void;
}

/** A stage recorded after each store at fragment boundaries (SUPER's relay between buffers). */
export interface ShareStage {
  encode(enc: Encoder): void;
}

/** What a custom stage builder gets: the trainer's parts, built before the stage. */
export interface IdqnParts {
  /** Engine to build stages with (records their tensors for checkpoints). */
  readonly engine: Engine;
  readonly env: VecEnv;
  readonly config: Readonly<IdqnConfig>;
  readonly spec: QNetworkSpec;
  /** Online Q-networks [numLearners, stride]. */
  readonly net: Net;
  /** Target Q-networks, same shape. */
  readonly target: Net;
  readonly replay: Replay;
  /** Learners (1 with parameter sharing, else numAgents). */
  readonly numLearners: number;
  /** Envs stepped together: each iteration (one store) adds numEnvs env steps. */
  readonly numEnvs: number;
  /** Seed of every random stream. */
  readonly seed: number;
}

/** Options of {@linkcode createIdqnTrainer} beyond the config. */
export interface IdqnTrainerOptions {
  /** Builds the minibatch source (default: replay sampling, uniform or PER per the config). */
  batchSource?(parts: IdqnParts): Promise<BatchSource>;
  /** Builds a share stage, recorded after the store that completes each fragment. */
  shareStage?(parts: IdqnParts): Promise<ShareStage>;
  /** Replay options the stage needs (cross-agent insertion staging, relay fragment). */
  replay?: { crossInsert?: boolean; relayFragment?: number };
  /** Label prefix of every buffer (default the variant name). */
  label?: string;
}

function define(
  name: IdqnVariant,
  source: string,
  defaults: Readonly<IdqnConfig>,
): AlgorithmDef<IdqnConfig> {
  const def: AlgorithmDef<IdqnConfig> = {
    name,
    source,
    defaults,
    check: (run, algo) => checkIdqnConfig(name, run, algo),
    create: (engine, run, algo) => createIdqnTrainer(engine, name, run, algo),
  };
  return Object.freeze(def);
}

const RLLIB = "RLlib 2.0 DDQN as configured by mgerstgrasser/super (docs/algorithms/idqn.md §4.1)";

/** Independent DQN/DDQN: one network and one replay per agent (docs/algorithms/idqn.md §4.1). */
export const IDQN: AlgorithmDef<IdqnConfig> = define("idqn", RLLIB, IDQN_DEFAULTS);

/** Parameter-sharing DQN: one network and one replay for all agents (docs/algorithms/idqn.md §4.2). */
export const PS_DQN: AlgorithmDef<IdqnConfig> = define(
  "ps",
  `${RLLIB}; parameter sharing (docs/algorithms/idqn.md §4.2)`,
  IDQN_DEFAULTS,
);

/** "IDQN same RB": own networks; every learner draws uniformly from all agents' data (docs/algorithms/idqn.md §4.3). */
export const IDQN_SAME_RB: AlgorithmDef<IdqnConfig> = define(
  "idqn-same-rb",
  "LBS paper baseline (seed 000), docs/algorithms/idqn.md §4.3",
  Object.freeze({ ...IDQN_DEFAULTS, prioritized: false }),
);

/** SEQL: equal shares of every agent's buffer, foreign rows weighted by λ (docs/algorithms/idqn.md §4.4). */
export const SEQL: AlgorithmDef<IdqnConfig> = define(
  "seql",
  "uoe-agents/seac seql/ (SEAC paper App. D), docs/algorithms/idqn.md §4.4",
  SEQL_DEFAULTS,
);

/** IQL as in the SEAC repository: independent MLP Q-learners, uniform replay (docs/algorithms/idqn.md §4.4). */
export const IQL: AlgorithmDef<IdqnConfig> = define(
  "iql",
  "uoe-agents/seac seql/iql.py (SEAC paper App. D), docs/algorithms/idqn.md §4.4",
  SEQL_DEFAULTS,
);

/** Every IDQN-family algorithm by config name (spread into the registry). */
export const IDQN_ALGORITHMS = Object.freeze({
  idqn: IDQN,
  ps: PS_DQN,
  "idqn-same-rb": IDQN_SAME_RB,
  seql: SEQL,
  iql: IQL,
});
