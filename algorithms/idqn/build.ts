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
import { createReplay, type Replay } from "../../engine/replay/buffer.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { findTask } from "../../envs/registry.ts";
import { createEpisodeStats, type EpisodeStats } from "../episode_stats.ts";
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
import type { EvalActor, RunConfig } from "../trainer.ts";
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
  const problems = checkIdqnConfig(variant, run, algo);
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
  return {
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
    evalActor: (evalEnv, seed) =>
      buildEvalActor(engine, {
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
