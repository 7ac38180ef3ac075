/**
 * The IDQN-family {@linkcode Trainer}: builds env, networks, replay, batch source, learner,
 * ε-greedy acting and statistics once, then records iterations
 * (act → env step → statistics → store → share at fragment ends → learn every `stepsPerUpdate`
 * env steps → target sync) with no host reads; metrics are summarised and read once per interval.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { createUnpackU8 } from "../../engine/ops/elementwise.ts";
import { createNet, type Net } from "../../engine/nn/net.ts";
import { readTensors } from "../../engine/readback.ts";
import { createReplay, type Replay } from "../../engine/replay/buffer.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { VecEnv } from "../../envs/env.ts";
import { findTask } from "../../envs/registry.ts";
import { createEpisodeStats, type EpisodeStats } from "../episode_stats.ts";
import type { BatchSource, IdqnParts, IdqnTrainerOptions, ShareStage } from "./mod.ts";
import { createEpsilonGreedy, type EpsilonGreedy } from "./act.ts";
import {
  createReplayBatchSource,
  createSameRbBatchSource,
  createSeqlBatchSource,
} from "./batch.ts";
import { checkIdqnConfig, type IdqnConfig, type IdqnVariant, networkSpec } from "./config.ts";
import { createLearner, type Learner } from "./learner.ts";
import { createQNetwork, qNetworkInit, qNetworkParamCount } from "./network.ts";
import {
  envStateTensors,
  episodeMetrics,
  type Metrics,
  recordIterations,
  restoredCounters,
  type RunConfig,
  type Trainer,
} from "../trainer.ts";
import type { StageMetrics } from "./stage_metrics.ts";

/** Iterations recorded per submit (bounds the size of one command buffer). */
const ITERATIONS_PER_SUBMIT = 16;

/** Creates tensors through `engine` while recording them (for checkpoints). */
function recordingEngine(engine: Engine, into: Tensor[]): Engine {
  return new Proxy(engine, {
    get(target, prop) {
      if (prop === "tensor") {
        return (options: Parameters<Engine["tensor"]>[0]) => {
          const t = target.tensor(options);
          into.push(t);
          return t;
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** What the trainer is made of (tests and stage builders read these). */
export interface IdqnTrainerParts extends IdqnParts {
  readonly variant: IdqnVariant;
  readonly source: BatchSource;
  readonly learner: Learner;
  readonly policy: EpsilonGreedy;
  readonly stats: EpisodeStats;
  readonly share: ShareStage | null;
}

/** A stage's GPU metrics and the snapshot they are copied into before the read. */
export interface StageMetricsRead {
  readonly metrics: StageMetrics;
  readonly snapshot: Tensor<"f32">;
}

/** The built IDQN-family pipeline. */
export class IdqnTrainer implements Trainer {
  readonly env: VecEnv;
  readonly stepsPerIteration: number;
  readonly parts: IdqnTrainerParts;
  readonly #engine: Engine;
  readonly #tensors: Record<string, Tensor>;
  readonly #act: (enc: Encoder, greedy: boolean) => void;
  readonly #insert: { encode(enc: Encoder): void };
  readonly #fragment: number;
  #iterations = 0;
  #pending = 0;
  #lastSync = 0;
  #updates = 0;

  constructor(o: {
    engine: Engine;
    parts: IdqnTrainerParts;
    tensors: Record<string, Tensor>;
    act: (enc: Encoder, greedy: boolean) => void;
    insert: { encode(enc: Encoder): void };
    fragment: number;
  }) {
    this.#engine = o.engine;
    this.parts = o.parts;
    this.env = o.parts.env;
    this.stepsPerIteration = o.parts.numEnvs;
    this.#tensors = o.tensors;
    this.#act = o.act;
    this.#insert = o.insert;
    this.#fragment = o.fragment;
  }

  get envSteps(): number {
    return this.#iterations * this.stepsPerIteration;
  }

  /** Gradient steps so far (host counter). */
  get updates(): number {
    return this.#updates;
  }

  encodeAct(enc: Encoder, options: { greedy: boolean }): void {
    this.#act(enc, options.greedy);
  }

  /** Records one iteration; learning and target syncs are scheduled from host counters only. */
  #encodeIteration(enc: Encoder): void {
    const { config: c, learner, share, stats } = this.parts;
    this.#act(enc, false);
    this.env.encodeStep(enc);
    stats.track(enc);
    this.#insert.encode(enc);
    this.#iterations++;
    if (share && this.#iterations % this.#fragment === 0) share.encode(enc);
    const steps = this.envSteps;
    if (steps <= c.learningStarts) return;
    this.#pending += this.stepsPerIteration;
    while (this.#pending >= c.stepsPerUpdate) {
      this.#pending -= c.stepsPerUpdate;
      learner.learn(enc);
      this.parts.policy.accumulate(enc);
      this.#updates++;
      if (c.tau >= 1 && steps - this.#lastSync >= c.targetEvery) {
        learner.syncTarget(enc);
        this.#lastSync = steps;
      }
    }
  }

  run(iterations: number): void {
    recordIterations(this.#engine, iterations, {
      what: `"${this.parts.variant}"`,
      label: `${this.parts.variant}.run`,
      perSubmit: ITERATIONS_PER_SUBMIT,
      encodeIteration: (enc) => this.#encodeIteration(enc),
    });
  }

  /**
   * Summarises and reads the interval's metrics with one readback; a stage's accumulators
   * (`stage`: SUPER, LBS) are snapshotted, zeroed and read in the same readback.
   */
  async readMetrics(stage?: StageMetricsRead): Promise<Metrics> {
    const { stats, policy, numLearners } = this.parts;
    const enc = this.#engine.encoder(`${this.parts.variant}.metrics`);
    stats.summarise(enc);
    policy.summarise(enc);
    if (stage) {
      enc.copy(stage.metrics.accumulators, stage.snapshot);
      enc.clear(stage.metrics.accumulators);
    }
    this.#engine.submit(enc);
    const [s, m, extra] = await readTensors(
      this.#engine,
      [stats.out, policy.out, stage?.snapshot ?? policy.out] as const,
    );
    const e = stats.decode(s);
    let loss = 0, td = 0;
    for (let l = 0; l < numLearners; l++) {
      loss += m[2 * l] / numLearners;
      td += m[2 * l + 1] / numLearners;
    }
    const scalars = {
      loss,
      meanAbsTd: td,
      epsilon: m[2 * numLearners],
      updates: m[2 * numLearners + 1],
      ...(stage ? stage.metrics.decode(extra) : {}),
    };
    return episodeMetrics(e, { envSteps: this.envSteps, scalars });
  }

  /** Every tensor the build created (keyed by label) and the env's state (`env.*`). */
  stateTensors(): Record<string, Tensor> {
    return { ...this.#tensors, ...envStateTensors(this.env) };
  }

  hostState(): Record<string, number> {
    return {
      iterations: this.#iterations,
      pendingSteps: this.#pending,
      lastSync: this.#lastSync,
      updates: this.#updates,
    };
  }

  restoreHostState(state: Record<string, number>): void {
    const c = restoredCounters(state, {
      names: ["iterations", "pendingSteps", "lastSync", "updates"],
      what: `"${this.parts.variant}"`,
    });
    this.#iterations = c.iterations;
    this.#pending = c.pendingSteps;
    this.#lastSync = c.lastSync;
    this.#updates = c.updates;
  }
}

/**
 * Builds an IDQN-family trainer (one of the variants) for `run`, with optional custom batch
 * source and share stage (SUPER, LBS).
 *
 * @param engine Engine that owns the device.
 * @param variant Which variant ({@linkcode IdqnVariant}).
 * @param run Run settings (seed, numEnvs, task).
 * @param algo Validated hyper-parameters.
 * @param options Custom stages and replay options.
 * @returns The {@linkcode IdqnTrainer}, reset and ready to `run`.
 */
export async function createIdqnTrainer(
  engine: Engine,
  variant: IdqnVariant,
  run: RunConfig,
  algo: Readonly<IdqnConfig>,
  options: IdqnTrainerOptions = {},
): Promise<IdqnTrainer> {
  const label = options.label ?? variant;
  const problems = checkIdqnConfig(variant, run, algo);
  const { def, spec: envSpec } = findTask(run.env);
  const N = envSpec.numAgents, E = run.numEnvs;
  if (algo.conv.length > 0 && envSpec.obsShape.length !== 3) {
    problems.push(
      `"algo.conv" needs image observations [H, W, C], "${run.env}" has [${envSpec.obsShape}] (set conv: [])`,
    );
  }
  if (variant === "seql" && algo.batchSize % N !== 0) {
    problems.push(`"algo.batchSize" ${algo.batchSize} must be divisible by ${N} agents for seql`);
  }
  if (problems.length > 0) {
    throw new RangeError(`Cannot build "${variant}": ${problems.join("; ")}`);
  }
  const created: Tensor[] = [];
  const rec = recordingEngine(engine, created);
  // The env's own state is listed by stateTensors() through envStateTensors(), so not recorded.
  const env = await def.create(engine, envSpec, { numEnvs: E, seed: run.seed });
  const b = env.buffers;
  const shared = variant === "ps";
  const numLearners = variant === "ps" ? 1 : N;
  const spec = networkSpec(algo, envSpec.obsShape, envSpec.numActions);
  const obsDim = spec.obsShape.reduce((x, y) => x * y, 1);
  const stride = qNetworkParamCount(spec);
  const init = qNetworkInit(spec, { numAgents: numLearners, seed: run.seed });
  const net: Net = createNet(rec, { numAgents: numLearners, stride, label: `${label}.net`, init });
  const target: Net = createNet(rec, {
    numAgents: numLearners,
    stride,
    label: `${label}.target`,
    init,
  });
  const replay: Replay = await createReplay(rec, {
    numAgents: N,
    numEnvs: E,
    capacity: algo.bufferSize,
    obsDim,
    obsDType: envSpec.obsDType,
    shared,
    prioritized: algo.prioritized,
    crossInsert: options.replay?.crossInsert,
    relayFragment: options.replay?.relayFragment,
    label: `${label}.replay`,
  });
  const insert = await replay.bindInsert({
    obs: b.obs,
    terminalObs: b.terminalObs,
    actions: b.actions,
    rewards: b.reward,
    terminated: b.terminated,
    truncated: b.truncated,
  }, {
    arrivalPriority: algo.arrivalPriority,
    alpha: algo.alpha,
    truncationIsTerminal: algo.truncationIsTerminal,
  });
  const parts0: IdqnParts = {
    engine: rec,
    env,
    config: algo,
    spec,
    net,
    target,
    replay,
    numLearners,
    numEnvs: E,
    seed: run.seed,
  };
  const rows = variant === "ps" ? N * algo.batchSize : algo.batchSize;
  const source = options.batchSource
    ? await options.batchSource(parts0)
    : variant === "idqn-same-rb"
    ? await createSameRbBatchSource(rec, {
      replay,
      batch: rows,
      seed: run.seed,
      label: `${label}.batch`,
    })
    : variant === "seql"
    ? await createSeqlBatchSource(rec, {
      replay,
      batch: rows,
      lambda: algo.lambda,
      seed: run.seed,
      label: `${label}.batch`,
    })
    : await createReplayBatchSource(rec, {
      replay,
      numLearners,
      batch: rows,
      prioritized: algo.prioritized,
      beta: algo.beta,
      alpha: algo.alpha,
      priorityEps: algo.priorityEps,
      seed: run.seed,
      label: `${label}.batch`,
    });
  const learner = await createLearner(rec, {
    net,
    target,
    spec,
    source,
    config: algo,
    label: `${label}.learn`,
  });
  // Acting: Q on the env's current obs (u8 grids converted to f32 first).
  const actRows = (N * E) / numLearners;
  let obsF32: Tensor = b.obs;
  let unpack: { encode(enc: Encoder): void } | null = null;
  if (b.obs.dtype === "u8") {
    obsF32 = rec.tensor({ dtype: "f32", shape: [N, E, obsDim], label: `${label}.act.obs` });
    unpack = await createUnpackU8(rec, { packed: b.obs, out: obsF32 });
  }
  const actQ = await createQNetwork(rec, {
    net,
    x: obsF32.reshape([numLearners, actRows, obsDim]),
    batch: actRows,
    spec,
    label: `${label}.act.q`,
  });
  const policy = await createEpsilonGreedy(rec, {
    q: actQ.q,
    actions: b.actions,
    numAgents: N,
    numEnvs: E,
    numActions: envSpec.numActions,
    schedule: {
      kind: algo.epsilonSchedule === "multiplicative" ? "multiplicative" : "linear",
      start: algo.epsilonStart,
      end: algo.epsilonEnd,
      steps: algo.epsilonSteps,
      randomSteps: algo.randomSteps,
    },
    seed: run.seed,
    numLearners,
    batch: source.size,
    loss: learner.loss.loss,
    absTd: learner.loss.absDelta,
    label: `${label}.policy`,
  });
  const stats = await createEpisodeStats(rec, {
    env: b,
    numAgents: N,
    numEnvs: E,
    label: `${label}.stats`,
  });
  const share = options.shareStage ? await options.shareStage(parts0) : null;
  const tensors: Record<string, Tensor> = {};
  for (const t of created) {
    let key = t.label, k = 1;
    while (Object.hasOwn(tensors, key)) key = `${t.label}#${k++}`;
    tensors[key] = t;
  }
  const enc = engine.encoder(`${label}.reset`);
  env.encodeReset(enc);
  insert.encode(enc);
  engine.submit(enc);
  return new IdqnTrainer({
    engine,
    parts: { ...parts0, variant, source, learner, policy, stats, share },
    tensors,
    act(e, greedy) {
      unpack?.encode(e);
      actQ.forward(e);
      policy.act(e, greedy);
    },
    insert,
    fragment: options.replay?.relayFragment ?? 1,
  });
}
