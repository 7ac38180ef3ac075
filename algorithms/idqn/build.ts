/**
 * Builds the parts of an IDQN-family trainer once: env, online and target networks, replay,
 * batch source, learner, ε-greedy acting and episode statistics (the loop that runs them is
 * `IdqnTrainer` in `mod.ts`).
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { createUnpackU8 } from "../../engine/ops/elementwise.ts";
import { createNet, type Net } from "../../engine/nn/net.ts";
import { createReplicateBlocks } from "../../engine/ops/replicate.ts";
import { createReplay, type Replay } from "../../engine/replay/buffer.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { findTask } from "../../envs/registry.ts";
import { createEpisodeStats, type EpisodeStats } from "../episode_stats.ts";
import { envSeedLayouts, interleaveBlocks, seedMajor, seedMinorBlocks } from "../seeds.ts";
import type { BatchSource, IdqnParts, IdqnTrainerOptions, ShareStage } from "./stages.ts";
import { createEpsilonGreedy, createEvalPolicy, type EpsilonGreedy } from "./act.ts";
import {
  createReplayBatchSource,
  createSameRbBatchSource,
  createSeqlBatchSource,
} from "./batch.ts";
import { checkIdqnConfig, type IdqnConfig, type IdqnVariant, networkSpec } from "./config.ts";
import { createLearner, type Learner } from "./learner.ts";
import { createQNetwork, qNetworkInit, qNetworkParamCount } from "./network.ts";
import type { EvalActor, RunConfig, SeedLayout } from "../trainer.ts";
import type { VecEnv } from "../../envs/env.ts";

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

/** What {@linkcode buildIdqn} wires together: the parts and the recorded act and store. */
export interface IdqnBuild {
  readonly engine: Engine;
  readonly parts: IdqnTrainerParts;
  readonly tensors: Record<string, Tensor>;
  readonly act: (enc: Encoder, greedy: boolean) => void;
  readonly insert: { encode(enc: Encoder): void };
  readonly fragment: number;
  /**
   * Builds acting with the online networks on another env of the task (evaluation): greedy, or
   * ε-greedy at the schedule's final ε (`epsilonEnd`) from its own RNG stream.
   */
  readonly evalActor: (env: VecEnv, seed: number) => Promise<EvalActor>;
  /** Seeds trained in the same dispatches (1: one seed). */
  readonly seeds: number;
  /** How each tensor of `tensors` and of the env's state holds the seeds (with `seeds` > 1). */
  readonly seedLayouts: () => Record<string, SeedLayout>;
}

/**
 * The seed layout of a tensor the build created, by shape: one-element tensors are counters
 * every seed advances alike ("shared"); every other tensor has a block axis first (learners,
 * rings, or seeds) in seed-minor order. Tensors with another layout are listed in `explicit`.
 */
function blockLayout(t: Tensor, seeds: number, explicit: Map<Tensor, SeedLayout>): SeedLayout {
  const known = explicit.get(t);
  if (known) return known;
  if (t.size === 1) return "shared";
  if (t.shape.length === 0 || t.shape[0] % seeds !== 0) {
    throw new RangeError(
      `No seed layout for "${t.label}" [${t.shape}]: its first axis does not hold ${seeds} seeds`,
    );
  }
  return seedMinorBlocks(t.shape, t.shape[0] / seeds);
}

/**
 * Builds acting with `net` on `env`'s observations (u8 grids converted first): Q forward on every
 * (agent, env) row, then greedy or ε-greedy actions at fixed `epsilon` from the `seed` stream.
 */
async function buildEvalActor(
  engine: Engine,
  o: {
    env: VecEnv;
    net: Net;
    spec: ReturnType<typeof networkSpec>;
    numLearners: number;
    epsilon: number;
    seed: number;
    label: string;
  },
): Promise<EvalActor> {
  const b = o.env.buffers, N = o.env.spec.numAgents, E = o.env.numEnvs;
  const obsDim = o.spec.obsShape.reduce((x, y) => x * y, 1);
  let obsF32: Tensor = b.obs;
  let unpack: { encode(enc: Encoder): void } | null = null;
  if (b.obs.dtype === "u8") {
    obsF32 = engine.tensor({ dtype: "f32", shape: [N, E, obsDim], label: `${o.label}.obs` });
    unpack = await createUnpackU8(engine, { packed: b.obs, out: obsF32 });
  }
  const rows = (N * E) / o.numLearners;
  const q = await createQNetwork(engine, {
    net: o.net,
    x: obsF32.reshape([o.numLearners, rows, obsDim]),
    batch: rows,
    spec: o.spec,
    label: `${o.label}.q`,
  });
  const policy = await createEvalPolicy(engine, {
    q: q.q,
    actions: b.actions,
    numAgents: N,
    numEnvs: E,
    numActions: o.env.spec.numActions,
    epsilon: o.epsilon,
    seed: o.seed,
    label: `${o.label}.policy`,
  });
  return {
    encodeAct(enc, greedy) {
      unpack?.encode(enc);
      q.forward(enc);
      policy.act(enc, greedy);
    },
    stateTensors: () => ({ counter: policy.counter }),
  };
}

/**
 * Builds the parts of an IDQN-family trainer (one of the variants) for `run`, with optional custom batch
 * source and share stage (SUPER, LBS).
 *
 * @param engine Engine that owns the device.
 * @param variant Which variant ({@linkcode IdqnVariant}).
 * @param run Run settings (seed, numEnvs, task).
 * @param algo Validated hyper-parameters.
 * @param options Custom stages and replay options.
 * @returns The parts, reset, and the act and store recordings the trainer runs.
 */
export async function buildIdqn(
  engine: Engine,
  variant: IdqnVariant,
  run: RunConfig,
  algo: Readonly<IdqnConfig>,
  options: IdqnTrainerOptions = {},
): Promise<IdqnBuild> {
  const label = options.label ?? variant;
  const S = options.seeds ?? 1;
  const problems = checkIdqnConfig(variant, run, algo);
  if (!(Number.isInteger(S) && S >= 1)) problems.push(`seeds must be an integer >= 1, got ${S}`);
  const { def, spec: envSpec } = findTask(run.env);
  const N = envSpec.numAgents, E = run.numEnvs;
  if (algo.conv.length > 0 && envSpec.obsShape.length !== 3) {
    problems.push(
      `"algo.conv" needs image observations [H, W, C], "${envSpec.name}" has [${envSpec.obsShape}] (set conv: [])`,
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
  const env = await def.create(
    engine,
    envSpec,
    S > 1 ? { numEnvs: S * E, seed: run.seed, seeds: S } : { numEnvs: E, seed: run.seed },
  );
  const b = env.buffers;
  const shared = variant === "ps";
  // Learner blocks: per seed one (ps) or one per agent; block l·S + k is seed k's learner l.
  const perSeedLearners = variant === "ps" ? 1 : N;
  const numLearners = perSeedLearners * S;
  const spec = networkSpec(algo, envSpec.obsShape, envSpec.numActions);
  const obsDim = spec.obsShape.reduce((x, y) => x * y, 1);
  const stride = qNetworkParamCount(spec);
  // Each seed's own initialisation, interleaved into the seed-minor block order.
  const init = interleaveBlocks(
    Array.from(
      { length: S },
      (_, k) => qNetworkInit(spec, { numAgents: perSeedLearners, seed: run.seed + k }),
    ),
    stride,
  );
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
    seeds: S,
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
    seeds: S,
  };
  const rows = variant === "ps" ? N * algo.batchSize : algo.batchSize;
  const source = options.batchSource
    ? await options.batchSource(parts0)
    : variant === "idqn-same-rb"
    ? await createSameRbBatchSource(rec, {
      replay,
      batch: rows,
      seed: run.seed,
      seeds: S,
      label: `${label}.batch`,
    })
    : variant === "seql"
    ? await createSeqlBatchSource(rec, {
      replay,
      batch: rows,
      lambda: algo.lambda,
      seed: run.seed,
      seeds: S,
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
      seeds: S,
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
  const explicit = new Map<Tensor, SeedLayout>();
  let obsF32: Tensor = b.obs;
  let unpack: { encode(enc: Encoder): void } | null = null;
  if (b.obs.dtype === "u8") {
    obsF32 = rec.tensor({ dtype: "f32", shape: [N, S * E, obsDim], label: `${label}.act.obs` });
    explicit.set(obsF32, seedMajor(obsF32.shape, 1, S));
    unpack = await createUnpackU8(rec, { packed: b.obs, out: obsF32 });
  }
  // The obs [N, S·E] are N·S blocks of one seed's E rows (block a·S + k: seed k's agent a). With
  // parameter sharing and several seeds, seed k's network is replicated into the acting blocks
  // a·S + k first (one dispatch; a scratch net outside the checkpointed state).
  let actNet = net;
  let replicate: { encode(enc: Encoder): void } | null = null;
  if (shared && S > 1) {
    actNet = createNet(engine, { numAgents: N * S, stride, label: `${label}.act.net` });
    replicate = await createReplicateBlocks(engine, {
      src: net.params,
      dst: actNet.params,
      stride,
      label: `${label}.act.replicate`,
    });
  }
  const actBlocks = actNet.numAgents;
  const actRows = (N * S * E) / actBlocks;
  const actQ = await createQNetwork(rec, {
    net: actNet,
    x: obsF32.reshape([actBlocks, actRows, obsDim]),
    batch: actRows,
    spec,
    label: `${label}.act.q`,
  });
  const policy = await createEpsilonGreedy(rec, {
    q: actQ.q,
    actions: b.actions,
    numAgents: N,
    numEnvs: S * E,
    seeds: S,
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
    numEnvs: S * E,
    ...(S > 1 ? { seeds: S } : {}),
    label: `${label}.stats`,
  });
  for (const t of Object.values(stats.stateTensors())) explicit.set(t, seedMajor(t.shape, 1, S));
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
  return {
    engine,
    parts: { ...parts0, variant, source, learner, policy, stats, share },
    tensors,
    act(e, greedy) {
      unpack?.encode(e);
      replicate?.encode(e);
      actQ.forward(e);
      policy.act(e, greedy);
    },
    insert,
    fragment: options.replay?.relayFragment ?? 1,
    seeds: S,
    seedLayouts() {
      const out: Record<string, SeedLayout> = {};
      for (const [k, t] of Object.entries(tensors)) out[k] = blockLayout(t, S, explicit);
      return { ...out, ...envSeedLayouts(env, S) };
    },
    evalActor: (evalEnv, seed) =>
      S > 1
        ? Promise.reject(
          new TypeError(
            `Cannot evaluate "${label}" with ${S} seeds in one trainer: copy a seed's weights into a one-seed trainer (encodeCopySeed)`,
          ),
        )
        : buildEvalActor(engine, {
          env: evalEnv,
          net,
          spec,
          numLearners,
          epsilon: algo.epsilonEnd,
          seed,
          label: `${label}.eval`,
        }),
  };
}
