/**
 * On-policy rollout of the SEAC family (docs/algorithms/seac.md §1, §4): every agent acts from its own actor (or
 * the shared one) on the env's current obs, the rollout is stored on the GPU in step slots
 * `[T + 1, numAgents, numEnvs, …]` with the behaviour log-probs and value predictions of acting
 * time, and each (agent, env) gets its n-step returns from a backward scan. Kernels in
 * `shaders/algorithms/seac/rollout.wgsl`.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../../engine/kernel.ts";
import { RNG_PURPOSE } from "../../engine/rng.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { VecEnv } from "../../envs/env.ts";
import type { SeacMlp } from "./net.ts";

const SHADER = "algorithms/seac/rollout.wgsl";
const INCLUDES = ["common/_index.wgsl", "common/_rng.wgsl", "common/_categorical.wgsl"] as const;
const PARAMS = {
  numAgents: "u32",
  numEnvs: "u32",
  obsDim: "u32",
  numActions: "u32",
  nSteps: "u32",
  slot: "u32",
  sample: "u32",
  greedy: "u32",
  store: "u32",
  seed: "u32",
  envsPerSeed: "u32",
  purpose: "u32",
  which: "u32",
  gamma: "f32",
} as const;
type Params = typeof PARAMS;
const rows = (p: { numAgents: number; numEnvs: number }) => p.numAgents * p.numEnvs;

/**
 * Stores obs/value of slot `slot` and samples (or argmaxes) actions from the actor's logits, with
 * their log-probs (the actions themselves are stored by {@linkcode seacRecord}).
 */
export const seacAct = defineKernel({
  name: "seac.rollout.act",
  shader: SHADER,
  entryPoint: "act",
  includes: INCLUDES,
  bindings: {
    obs: "read",
    logits: "read",
    value: "read",
    counterIn: "read",
    actions: "write",
    obsStore: "write",
    valueStore: "write",
    logpStore: "write",
  },
  params: PARAMS,
  threads: rows,
});

/**
 * After the env step of slot `slot`: stores its actions (which the env step only reads) and reward,
 * and the masks of slot `slot` + 1.
 */
export const seacRecord = defineKernel({
  name: "seac.rollout.record",
  shader: SHADER,
  entryPoint: "record",
  includes: INCLUDES,
  bindings: {
    actionsIn: "read",
    reward: "read",
    terminated: "read",
    truncated: "read",
    actStore: "write",
    rewardStore: "write",
    maskStore: "write",
    badStore: "write",
  },
  params: PARAMS,
  threads: rows,
});

/** n-step returns per (agent, env) by a backward scan over the rollout. */
export const seacReturns = defineKernel({
  name: "seac.rollout.returns",
  shader: SHADER,
  entryPoint: "nStepReturns",
  includes: INCLUDES,
  bindings: { valueIn: "read", rewardIn: "read", maskIn: "read", badIn: "read", returns: "write" },
  params: PARAMS,
  threads: rows,
});

/** {@linkcode seacReturns}, and counter[which] += 1 in the same dispatch. */
export const seacReturnsAdvance = defineKernel({
  name: "seac.rollout.returnsAdvance",
  shader: SHADER,
  entryPoint: "returnsAdvance",
  includes: INCLUDES,
  bindings: {
    valueIn: "read",
    rewardIn: "read",
    maskIn: "read",
    badIn: "read",
    returns: "write",
    counter: "write",
  },
  params: PARAMS,
  threads: rows,
});

/** counter[which] += 1. */
export const seacAdvance = defineKernel({
  name: "seac.rollout.advance",
  shader: SHADER,
  entryPoint: "advance",
  includes: INCLUDES,
  bindings: { counter: "write" },
  params: PARAMS,
  threads: () => 1,
});

/** The rollout buffers (all agent-major inside a step slot). */
export interface RolloutStorage {
  /** [T + 1, N, E, D] observations at acting time. */
  readonly obs: Tensor<"f32">;
  /** [T + 1, N, E] value predictions at acting time (slot T: the bootstrap value). */
  readonly values: Tensor<"f32">;
  /** [T, N, E] actions taken. */
  readonly actions: Tensor<"u32">;
  /** [T, N, E] behaviour log-probabilities of the actions taken. */
  readonly logp: Tensor<"f32">;
  /** [T, N, E] rewards. */
  readonly rewards: Tensor<"f32">;
  /** [T + 1, E] m_t = 1 − done after step t − 1 (slot 0 unused). */
  readonly masks: Tensor<"f32">;
  /** [T + 1, E] b_t = 0 where step t − 1 was truncated by the time limit without terminating. */
  readonly badMasks: Tensor<"f32">;
  /** [T, N, E] n-step returns of each agent with its own critic. */
  readonly returns: Tensor<"f32">;
}

/** Options of {@linkcode createSeacRollout}. */
export interface SeacRolloutOptions {
  env: VecEnv;
  /** Actor bound to `env.buffers.obs` (batch numEnvs per agent, or all rows for a shared net). */
  actor: SeacMlp;
  /** Critic bound to `env.buffers.obs`. */
  critic: SeacMlp;
  nSteps: number;
  gamma: number;
  seed: number;
  /** Seeds batched in the env (`VecEnvOptions.seeds`); default 1. */
  seeds?: number;
  label: string;
}

/** A bound rollout. */
export interface SeacRollout {
  readonly storage: RolloutStorage;
  /** [2] u32: training iterations done, evaluation steps done (RNG step counters). */
  readonly counter: Tensor<"u32">;
  /** Records step slot `t`'s acting: actor and critic forward on o_t, a_t ~ π(·|o_t), V(o_t). */
  encodeActStep(enc: Encoder, t: number): void;
  /** Records storing slot `t` after the env step: o_t, a_t, log π(a_t|o_t), r_t and the masks. */
  encodeStore(enc: Encoder, t: number): void;
  /** Records V(o_T) and the n-step returns of the stored rollout, fused with the counter advance. */
  encodeBootstrap(enc: Encoder): void;
  /**
   * Records T acting steps (act, env step, store, `afterStep`), then the bootstrap and returns:
   * the collection phases of one iteration in order.
   */
  encodeCollect(enc: Encoder, afterStep?: (enc: Encoder) => void): void;
  /** Records only the n-step returns of the stored rollout (part of `encodeCollect`). */
  encodeReturns(enc: Encoder): void;
  /** Records action selection into `env.buffers.actions` without storing (evaluation). */
  encodeAct(enc: Encoder, greedy: boolean): void;
}

/**
 * Builds the rollout storage and its dispatches (one bound act and record dispatch per step slot).
 *
 * @param engine Engine that owns the device.
 * @param o Env, acting networks, n-step length, γ, seed and label.
 * @returns A {@linkcode SeacRollout}.
 */
export async function createSeacRollout(
  engine: Engine,
  o: SeacRolloutOptions,
): Promise<SeacRollout> {
  const { env, actor, critic, nSteps: T, label } = o;
  const spec = env.spec;
  if (spec.obsDType !== "f32" || spec.obsShape.length !== 1) {
    throw new TypeError(
      `Cannot build "${label}": needs flat f32 observations, "${spec.name}" has ${spec.obsDType} [${
        spec.obsShape.join(", ")
      }]`,
    );
  }
  if (!(Number.isInteger(T) && T >= 1)) {
    throw new RangeError(`Cannot build "${label}": nSteps is ${T}, needs an integer >= 1`);
  }
  const N = spec.numAgents, E = env.numEnvs, D = spec.obsShape[0], K = spec.numActions;
  const t = (dtype: "f32" | "u32", shape: number[], name: string) =>
    engine.tensor({ dtype, shape, label: `${label}.${name}` });
  const storage: RolloutStorage = {
    obs: t("f32", [T + 1, N, E, D], "obs") as Tensor<"f32">,
    values: t("f32", [T + 1, N, E], "values") as Tensor<"f32">,
    actions: t("u32", [T, N, E], "actions") as Tensor<"u32">,
    logp: t("f32", [T, N, E], "logp") as Tensor<"f32">,
    rewards: t("f32", [T, N, E], "rewards") as Tensor<"f32">,
    masks: t("f32", [T + 1, E], "masks") as Tensor<"f32">,
    badMasks: t("f32", [T + 1, E], "badMasks") as Tensor<"f32">,
    returns: t("f32", [T, N, E], "returns") as Tensor<"f32">,
  };
  const counter = t("u32", [2], "counter") as Tensor<"u32">;
  const base = {
    numAgents: N,
    numEnvs: E,
    obsDim: D,
    numActions: K,
    nSteps: T,
    slot: 0,
    sample: 1,
    greedy: 0,
    store: 1,
    seed: o.seed >>> 0,
    envsPerSeed: E / (o.seeds ?? 1),
    purpose: RNG_PURPOSE.action,
    which: 0,
    gamma: o.gamma,
  };
  const [ka, kr, ks, kv, kra] = await Promise.all([
    compileKernel(engine, seacAct),
    compileKernel(engine, seacRecord),
    compileKernel(engine, seacReturns),
    compileKernel(engine, seacAdvance),
    compileKernel(engine, seacReturnsAdvance),
  ]);
  const b = env.buffers;
  const actTensors = {
    obs: b.obs,
    logits: actor.y,
    value: critic.y,
    counterIn: counter,
    actions: b.actions,
    obsStore: storage.obs,
    valueStore: storage.values,
    logpStore: storage.logp,
  };
  const recordTensors = {
    actionsIn: b.actions,
    reward: b.reward,
    terminated: b.terminated,
    truncated: b.truncated,
    actStore: storage.actions,
    rewardStore: storage.rewards,
    maskStore: storage.masks,
    badStore: storage.badMasks,
  };
  // Slot s acts (slot T stores the bootstrap value only); record[s] follows the env step of slot s.
  const act: Dispatch<Params>[] = [], record: Dispatch<Params>[] = [];
  for (let slot = 0; slot <= T; slot++) {
    act.push(ka.bind(actTensors, { ...base, slot, sample: slot < T ? 1 : 0 }, `${label}.act`));
    if (slot < T) record.push(kr.bind(recordTensors, { ...base, slot }, `${label}.record`));
  }
  const returnsTensors = {
    valueIn: storage.values,
    rewardIn: storage.rewards,
    maskIn: storage.masks,
    badIn: storage.badMasks,
    returns: storage.returns,
  };
  const returns = ks.bind(returnsTensors, base, `${label}.returns`);
  const returnsAdvance = kra.bind({ ...returnsTensors, counter }, base, `${label}.returnsAdvance`);
  const evalSample = ka.bind(actTensors, { ...base, store: 0, which: 1 }, `${label}.actEval`);
  const evalGreedy = ka.bind(
    actTensors,
    { ...base, store: 0, greedy: 1, which: 1 },
    `${label}.actGreedy`,
  );
  const advanceEval = kv.bind({ counter }, { ...base, which: 1 }, `${label}.advanceEval`);

  const checkSlot = (t: number) => {
    if (!(Number.isInteger(t) && t >= 0 && t < T)) {
      throw new RangeError(`Cannot record "${label}" slot ${t}: needs an integer in [0, ${T})`);
    }
  };
  const rollout: SeacRollout = {
    storage,
    counter,
    encodeActStep(enc, t) {
      checkSlot(t);
      actor.forward(enc);
      critic.forward(enc);
      act[t].encode(enc);
    },
    encodeStore(enc, t) {
      checkSlot(t);
      record[t].encode(enc);
    },
    encodeBootstrap(enc) {
      critic.forward(enc);
      act[T].encode(enc);
      returnsAdvance.encode(enc);
    },
    encodeCollect(enc, afterStep) {
      for (let t = 0; t < T; t++) {
        rollout.encodeActStep(enc, t);
        env.encodeStep(enc);
        rollout.encodeStore(enc, t);
        afterStep?.(enc);
      }
      rollout.encodeBootstrap(enc);
    },
    encodeReturns: (enc) => returns.encode(enc),
    encodeAct(enc, greedy) {
      actor.forward(enc);
      (greedy ? evalGreedy : evalSample).encode(enc);
      advanceEval.encode(enc);
    },
  };
  return rollout;
}
