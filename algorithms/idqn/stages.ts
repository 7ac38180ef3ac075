/**
 * The seams of the IDQN pipeline that the experience-sharing variants plug into (SUPER, LBS):
 * a {@linkcode BatchSource} replaces the default minibatch, a {@linkcode ShareStage} runs after
 * each store at fragment boundaries, and {@linkcode StageMetrics} adds a stage's GPU metrics to
 * the trainer's. Interfaces only, so every stage and the trainer import them without a cycle.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import type { Net } from "../../engine/nn/net.ts";
import type { Replay } from "../../engine/replay/buffer.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { VecEnv } from "../../envs/env.ts";
import type { IdqnConfig } from "./config.ts";
import type { QNetworkSpec } from "./network.ts";

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
  /**
   * Learner blocks of `net`: (1 with parameter sharing, else numAgents) per seed, times `seeds`
   * (block `b·seeds + k` is seed k's learner b).
   */
  readonly numLearners: number;
  /** Envs of one seed stepped together: each iteration (one store) adds numEnvs env steps. */
  readonly numEnvs: number;
  /** Seed of every random stream (seed k of a batch uses `seed + k`). */
  readonly seed: number;
  /**
   * Seeds trained in the same dispatches (algorithms/seeds.ts; 1: one seed): the env holds
   * `seeds·numEnvs` envs seed-major, nets and replay rings are blocks in seed-minor order.
   */
  readonly seeds: number;
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
  /**
   * Seeds `run.seed`, `run.seed + 1`, … trained in the same dispatches (default 1;
   * algorithms/seeds.ts); `run.numEnvs` is per seed.
   */
  seeds?: number;
}

/** Metrics a stage keeps on the GPU. */
export interface StageMetrics {
  /** Accumulators (f32), zeroed after each read. */
  readonly accumulators: Tensor<"f32">;
  /** Scalars from a host copy of the accumulators (seed 0's with several seeds). */
  decode(values: Float32Array): Record<string, number>;
  /** Each seed's scalars from a host copy of the accumulators (stages built with seeds). */
  decodeSeeds?(values: Float32Array): Record<string, number>[];
}

/** A stage's GPU metrics and the snapshot they are copied into before the read. */
export interface StageMetricsRead {
  readonly metrics: StageMetrics;
  readonly snapshot: Tensor<"f32">;
}
