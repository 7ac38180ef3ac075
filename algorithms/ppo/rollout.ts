/**
 * Acting and on-policy rollout storage of independent PPO (docs/algorithms/dials.md §6), batched over agents:
 * every agent samples from its own actor-critic on its env lanes, the rollout of T steps is kept on
 * the GPU (with the GRU state at each sequence start), and GAE runs as a backward scan per
 * (agent, env). Kernels in `shaders/algorithms/ppo/rollout.wgsl`. Also used without training
 * (data collection and evaluation on the GS): `encodeActStep` acts and steps without storing.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../../engine/kernel.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { VecEnv } from "../../envs/env.ts";
import type { TrunkActor } from "./policy.ts";

const SHADER = "algorithms/ppo/rollout.wgsl";
const INCLUDES = ["common/_index.wgsl", "common/_rng.wgsl", "common/_categorical.wgsl"] as const;
const PARAMS = {
  numAgents: "u32",
  numEnvs: "u32",
  obsDim: "u32",
  numActions: "u32",
  hidden: "u32",
  seqLen: "u32",
  slot: "u32",
  sample: "u32",
  greedy: "u32",
  store: "u32",
  which: "u32",
  seed: "u32",
  purpose: "u32",
  steps: "u32",
  horizon: "u32",
  gamma: "f32",
  lambda: "f32",
  totalSteps: "f32",
  lr0: "f32",
  lrEnd: "f32",
  clip0: "f32",
  clipEnd: "f32",
  envsPerSeed: "u32",
  seeds: "u32",
  seedMix: "u32",
} as const;
type Params = typeof PARAMS;
const rows = (p: { numAgents: number; numEnvs: number }) => p.numAgents * p.numEnvs;

/**
 * Stores slot `slot` (obs, value) and samples actions (the GRU state is stored by
 * {@linkcode ppoStoreState}).
 */
export const ppoAct = defineKernel({
  name: "ppo.rollout.act",
  shader: SHADER,
  entryPoint: "act",
  includes: INCLUDES,
  bindings: {
    obs: "read",
    head: "read",
    counterIn: "read",
    actions: "write",
    obsStore: "write",
    valStore: "write",
    actStore: "write",
    logpStore: "write",
  },
  params: PARAMS,
  threads: rows,
});

/** GRU policies, at a sequence start (`slot` % seqLen = 0): hStore[slot / seqLen] = hIn. */
export const ppoStoreState = defineKernel({
  name: "ppo.rollout.storeState",
  shader: SHADER,
  entryPoint: "storeState",
  includes: INCLUDES,
  bindings: { hIn: "read", hStore: "write" },
  params: PARAMS,
  threads: (p) => rows(p) * p.hidden,
});

/** After an env step: stores reward and done, commits the GRU state (zeroed at episode ends). */
export const ppoRecord = defineKernel({
  name: "ppo.rollout.record",
  shader: SHADER,
  entryPoint: "record",
  includes: INCLUDES,
  bindings: {
    reward: "read",
    terminated: "read",
    truncated: "read",
    hNext: "read",
    rewStore: "write",
    doneStore: "write",
    h: "write",
    counter: "write",
  },
  params: PARAMS,
  threads: (p) => rows(p) * Math.max(p.hidden, 1),
});

/** GAE(γ, λ) with done cuts and segment boundaries every `horizon` steps; returns = A + V. */
export const ppoGae = defineKernel({
  name: "ppo.rollout.gae",
  shader: SHADER,
  entryPoint: "gae",
  includes: INCLUDES,
  bindings: {
    rewIn: "read",
    doneIn: "read",
    valIn: "read",
    advStore: "write",
    retStore: "write",
  },
  params: PARAMS,
  threads: rows,
});

/** Linear learning-rate and clip schedules from the lane-step counter, per parameter block. */
export const ppoSchedule = defineKernel({
  name: "ppo.rollout.schedule",
  shader: SHADER,
  entryPoint: "schedule",
  includes: INCLUDES,
  bindings: { counterIn: "read", lrSched: "write", clipSched: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.seeds,
});

/** Rollout settings. */
export interface PpoRolloutOptions {
  env: VecEnv;
  /** The actor bound to `env.buffers.obs` (f32 observations). */
  actor: TrunkActor;
  numActions: number;
  /** Steps per env per rollout T. */
  steps: number;
  /** BPTT sequence length L (divides T; 1 for MLP policies). */
  seqLen: number;
  /** GAE horizon: advantages do not flow across multiples of it (divides T). */
  horizon: number;
  gamma: number;
  lambda: number;
  seed: number;
  /** RNG purpose of the action draws. */
  purpose: number;
  /** Schedules: lr and clip go linearly from `lr0`/`clip0` to the end values over `totalSteps`. */
  schedule: { totalSteps: number; lr0: number; lrEnd: number; clip0: number; clipEnd: number };
  label: string;
  /**
   * Seeds batched in `env` (default 1; docs/statistics.md §8): envs `[k·n, (k+1)·n)` are seed
   * `seed + k`'s, whose action draws are keyed as a lone run's; the actor's parameter blocks are
   * seed-minor (block a·seeds + k: seed k's agent a), and the schedules have one entry per block.
   */
  seeds?: number;
  /** XORed into each seed's action-draw seed (`(seed + k) ^ seedMix`). Default 0. */
  seedMix?: number;
}

/** A bound rollout. */
export interface PpoRollout {
  readonly numAgents: number;
  /** Envs of the storage (all seeds: seeds · envs per seed). */
  readonly numEnvs: number;
  /** Seeds batched (algorithms/seeds.ts). */
  readonly seeds: number;
  readonly steps: number;
  readonly seqLen: number;
  readonly obsDim: number;
  readonly hidden: number;
  /** [4] u32: lane steps (training), updates, acting steps outside training, spare. */
  readonly counter: Tensor<"u32">;
  readonly obsStore: Tensor<"f32">;
  readonly actStore: Tensor<"u32">;
  readonly logpStore: Tensor<"f32">;
  readonly valStore: Tensor<"f32">;
  readonly rewStore: Tensor<"f32">;
  readonly doneStore: Tensor<"f32">;
  readonly hStore: Tensor<"f32">;
  readonly advStore: Tensor<"f32">;
  readonly retStore: Tensor<"f32">;
  /** [numAgents · seeds] f32 learning rate and clip ε per parameter block, by `encodeSchedule`. */
  readonly lrSched: Tensor<"f32">;
  readonly clipSched: Tensor<"f32">;
  /**
   * Records T steps (act, with the GRU state stored every seqLen steps; env step; record;
   * `afterStep` after each), bootstrap and GAE.
   */
  encodeCollect(enc: Encoder, afterStep?: (enc: Encoder) => void): void;
  /** Records the actor's forward and action choice on the current obs (no storage). */
  encodeAct(enc: Encoder, greedy: boolean): void;
  /** Records act, env step and state commit without storage (counter 2 keys the draws). */
  encodeActStep(enc: Encoder, greedy: boolean): void;
  /**
   * Records the state commit after an env step acted by `encodeAct` (the last part of
   * `encodeActStep`: GRU state carried or zeroed at episode ends, counter 2 advanced).
   */
  encodeActCommit(enc: Encoder): void;
  /** Records the schedule kernel (before an update). */
  encodeSchedule(enc: Encoder): void;
  /** Records zeroing of the actor's GRU state (fresh episodes after an env reset). */
  encodeResetState(enc: Encoder): void;
}

/**
 * Builds the rollout storage and its dispatches (one per slot), once.
 *
 * @param engine Engine that owns the device.
 * @param o Env, actor, sizes, discounting, RNG key, schedules and label.
 * @returns A {@linkcode PpoRollout}.
 */
export async function createPpoRollout(
  engine: Engine,
  o: PpoRolloutOptions,
): Promise<PpoRollout> {
  const env = o.env, N = env.spec.numAgents, E = env.numEnvs, T = o.steps, L = o.seqLen;
  const D = env.spec.obsShape.reduce((a, b) => a * b, 1);
  const H = o.actor.h ? o.actor.h.shape[2] : 0;
  const seeds = o.seeds ?? 1;
  if (!(Number.isInteger(seeds) && seeds >= 1 && E % seeds === 0)) {
    throw new RangeError(`Cannot build "${o.label}": ${seeds} seeds do not split ${E} envs`);
  }
  if (!(Number.isInteger(T) && T >= 1 && L >= 1 && T % L === 0 && T % o.horizon === 0)) {
    throw new RangeError(
      `Cannot build "${o.label}": steps ${T} must be a multiple of seqLen ${L} and horizon ${o.horizon}`,
    );
  }
  if (env.buffers.obs.dtype !== "f32") {
    throw new TypeError(`Cannot build "${o.label}": env obs are ${env.buffers.obs.dtype}, not f32`);
  }
  const f32 = (shape: number[], name: string) =>
    engine.tensor({ dtype: "f32", shape, label: `${o.label}.${name}` });
  const u32 = (shape: number[], name: string) =>
    engine.tensor({ dtype: "u32", shape, label: `${o.label}.${name}` });
  const counter = u32([4], "counter");
  const obsStore = f32([T, N, E, D], "obsStore");
  const actStore = u32([T, N, E], "actStore");
  const logpStore = f32([T, N, E], "logpStore");
  const valStore = f32([T + 1, N, E], "valStore");
  const rewStore = f32([T, N, E], "rewStore");
  const doneStore = f32([T, E], "doneStore");
  const hStore = f32([T / L, N, E, Math.max(H, 1)], "hStore");
  const advStore = f32([T, N, E], "advStore");
  const retStore = f32([T, N, E], "retStore");
  const lrSched = f32([N * seeds], "lrSched");
  const clipSched = f32([N * seeds], "clipSched");
  const hNext = o.actor.hNext ?? f32([1], "hNextNone");
  const hState = o.actor.h ?? f32([1], "hStateNone");
  const base = {
    numAgents: N,
    numEnvs: E,
    obsDim: D,
    numActions: o.numActions,
    hidden: H,
    seqLen: L,
    slot: 0,
    sample: 1,
    greedy: 0,
    store: 1,
    which: 0,
    seed: o.seed >>> 0,
    purpose: o.purpose,
    steps: T,
    horizon: o.horizon,
    gamma: o.gamma,
    lambda: o.lambda,
    totalSteps: o.schedule.totalSteps,
    lr0: o.schedule.lr0,
    lrEnd: o.schedule.lrEnd,
    clip0: o.schedule.clip0,
    clipEnd: o.schedule.clipEnd,
    envsPerSeed: E / seeds,
    seeds,
    seedMix: (o.seedMix ?? 0) >>> 0,
  };
  const [ka, kr, kg, ks, kh] = await Promise.all([
    compileKernel(engine, ppoAct),
    compileKernel(engine, ppoRecord),
    compileKernel(engine, ppoGae),
    compileKernel(engine, ppoSchedule),
    o.actor.h ? compileKernel(engine, ppoStoreState) : null,
  ]);
  const b = env.buffers;
  const actT = {
    obs: b.obs,
    head: o.actor.out,
    counterIn: counter,
    actions: b.actions,
    obsStore,
    valStore,
    actStore,
    logpStore,
  };
  const recT = {
    reward: b.reward,
    terminated: b.terminated,
    truncated: b.truncated,
    hNext,
    rewStore,
    doneStore,
    h: hState,
    counter,
  };
  const acts: Dispatch<Params>[] = [], records: Dispatch<Params>[] = [];
  // states[s]: the GRU state fed into slot s, stored where a BPTT sequence starts (GRU only).
  const states: (Dispatch<Params> | null)[] = [];
  for (let s = 0; s < T; s++) {
    acts.push(ka.bind(actT, { ...base, slot: s }, `${o.label}.act.${s}`));
    records.push(kr.bind(recT, { ...base, slot: s }, `${o.label}.record.${s}`));
    states.push(
      kh && o.actor.h && s % L === 0
        ? kh.bind(
          { hIn: o.actor.hIn ?? o.actor.h, hStore },
          { ...base, slot: s },
          `${o.label}.storeState.${s}`,
        )
        : null,
    );
  }
  const boot = ka.bind(actT, { ...base, slot: T, sample: 0 }, `${o.label}.bootstrap`);
  const evalActs = [0, 1].map((g) =>
    ka.bind(actT, { ...base, store: 0, which: 2, greedy: g }, `${o.label}.evalAct.${g}`)
  );
  const evalRecord = kr.bind(recT, { ...base, store: 0, which: 2 }, `${o.label}.evalRecord`);
  const gae = kg.bind(
    { rewIn: rewStore, doneIn: doneStore, valIn: valStore, advStore, retStore },
    base,
    `${o.label}.gae`,
  );
  const schedule = ks.bind({ counterIn: counter, lrSched, clipSched }, base, `${o.label}.schedule`);
  return {
    numAgents: N,
    numEnvs: E,
    seeds,
    steps: T,
    seqLen: L,
    obsDim: D,
    hidden: H,
    counter,
    obsStore,
    actStore,
    logpStore,
    valStore,
    rewStore,
    doneStore,
    hStore,
    advStore,
    retStore,
    lrSched,
    clipSched,
    encodeCollect(enc, afterStep) {
      for (let s = 0; s < T; s++) {
        o.actor.forward(enc);
        states[s]?.encode(enc);
        acts[s].encode(enc);
        env.encodeStep(enc);
        records[s].encode(enc);
        afterStep?.(enc);
      }
      o.actor.forward(enc);
      boot.encode(enc);
      gae.encode(enc);
    },
    encodeAct(enc, greedy) {
      o.actor.forward(enc);
      evalActs[greedy ? 1 : 0].encode(enc);
    },
    encodeActStep(enc, greedy) {
      o.actor.forward(enc);
      evalActs[greedy ? 1 : 0].encode(enc);
      env.encodeStep(enc);
      evalRecord.encode(enc);
    },
    encodeActCommit(enc) {
      evalRecord.encode(enc);
    },
    encodeSchedule(enc) {
      schedule.encode(enc);
    },
    encodeResetState(enc) {
      if (o.actor.encodeReset) o.actor.encodeReset(enc);
      else if (o.actor.h) enc.clear(o.actor.h);
    },
  };
}
