/**
 * Traffic grid local simulators for DIALS (spec `docs/envs/traffic.md` B8, `docs/algorithms/dials.md` §5):
 * {@linkcode TrafficLocalEnv} steps one region per (agent, env) — that intersection's 4 incoming lanes
 * and its signal — for all `numAgents × numEnvs` regions in one dispatch, after a one-thread-per-env
 * dispatch that writes the episode flags (`shaders/envs/traffic/local.wgsl`). Vehicles enter only
 * where the caller's `sources` buffer says ([A, n, 4] u32, filled before each step from a predictor
 * or replayed from the global simulator's `sources`), with the global simulator's entry rule after
 * motion, and are dropped when the entrance is occupied. Observations, rewards and episode length
 * are the global simulator's. The AIP datasets come from `envs/traffic/influence.ts`.
 *
 * Deviation from B8 (stated): B8 inserts at cell 2 with speed 4 (1 on a lane with > 8 vehicles)
 * before motion; we insert after motion with the GS entry rule (cell 1, speed limited by the
 * leader), so that replaying a GS rollout's sources reproduces each agent's trajectory exactly.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../../engine/kernel.ts";
import { readTensors } from "../../engine/readback.ts";
import { RNG_PURPOSE } from "../../engine/rng.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { EnvDef, EnvSpec, VecEnvOptions } from "../env.ts";
import { envsPerSeed } from "../env.ts";
import {
  createEnvBuffers,
  RESET_BINDINGS,
  resetBuffers,
  type TypedEnvBuffers,
} from "../buffers.ts";
import type { TrafficEnv } from "./env.ts";
import {
  checkTrafficConfig,
  packJunction,
  packLane,
  parseTrafficAgents,
  record,
  renderJunction,
  segment,
  TRAFFIC_JUNCTION_WORDS,
  TRAFFIC_SEGMENT,
  trafficSpec,
  unpackJunction,
  unpackLane,
} from "./state.ts";
import { TRAFFIC_OBS_DIM, type TrafficConfig, type TrafficLsState } from "./reference.ts";
import { checkEnvFamily, VecEnvBase } from "../vec_env_base.ts";

const SHADER = "envs/traffic/local.wgsl";
const INCLUDES = [
  "common/_index.wgsl",
  "common/_rng.wgsl",
  "envs/traffic/_lane.wgsl",
  "envs/common/_episode.wgsl",
] as const;
const PARAMS = {
  numEnvs: "u32",
  numAgents: "u32",
  maxSteps: "u32",
  persistSignals: "u32",
  pSlow: "f32",
  seed: "u32",
  stepPurpose: "u32",
  samplePurpose: "u32",
  envsPerSeed: "u32",
  seedMix: "u32",
} as const;

/**
 * Options of the local simulators: {@linkcode VecEnvOptions} and `seedMix`, XORed into each
 * seed's draw seed (DIALS keys its local simulators by `seed ^ C`; with seeds batched, seed k's
 * envs draw with `(seed + k) ^ seedMix`, as a lone run seeded `seed + k`). Default 0.
 */
export interface TrafficLocalEnvOptions extends VecEnvOptions {
  seedMix?: number;
}

const REGION_BINDINGS = {
  cells: "write",
  junctions: "write",
  resetSources: "read",
  obs: "write",
  reward: "write",
} as const;

/**
 * First dispatch of a step: the flags (terminated, truncated, episodeStep) the step will end with,
 * from agent 0's region before it; one thread per env.
 */
export const trafficLocalFlags = defineKernel({
  name: "traffic.local.flags",
  shader: SHADER,
  entryPoint: "flags",
  includes: INCLUDES,
  bindings: {
    junctionsIn: "read",
    terminated: "write",
    truncated: "write",
    episodeStep: "write",
  },
  params: PARAMS,
  threads: (p) => p.numEnvs,
});

/**
 * Second dispatch of a step: every region with auto-reset, after {@linkcode trafficLocalFlags};
 * one thread per region.
 */
export const trafficLocalStep = defineKernel({
  name: "traffic.local.step",
  shader: SHADER,
  entryPoint: "step",
  includes: INCLUDES,
  bindings: { ...REGION_BINDINGS, actions: "read", sources: "read", terminalObs: "write" },
  params: PARAMS,
  threads: (p) => p.numEnvs * p.numAgents,
});

/** Resets every region to episode 0; one thread per region. */
export const trafficLocalReset = defineKernel({
  name: "traffic.local.reset",
  shader: SHADER,
  entryPoint: "reset",
  includes: INCLUDES,
  bindings: { ...REGION_BINDINGS, ...RESET_BINDINGS },
  params: PARAMS,
  threads: (p) => p.numEnvs * p.numAgents,
});

/** Draws `sources`/`resetSources` from predictor probabilities; one thread per (region, approach). */
export const trafficLocalSample = defineKernel({
  name: "traffic.local.sample",
  shader: SHADER,
  entryPoint: "sample",
  includes: INCLUDES,
  bindings: { probs: "read", junctionsIn: "read", sourcesOut: "write", resetSourcesOut: "write" },
  params: PARAMS,
  threads: (p) => p.numEnvs * p.numAgents * 4,
});

/** Packs local states (`[agent][env]`) into cells [A, n, 4, 44] and junctions [A, n, 8]. */
export function packTrafficLs(
  regions: readonly (readonly TrafficLsState[])[],
): { cells: Uint32Array; junctions: Uint32Array } {
  const flat = regions.flat();
  const cells = new Uint32Array(flat.length * 4 * TRAFFIC_SEGMENT);
  const junctions = new Uint32Array(flat.length * TRAFFIC_JUNCTION_WORDS);
  flat.forEach((r, i) => {
    r.lanes.forEach((lane, a) => packLane(lane, segment(cells, i * 4 + a)));
    packJunction(r.junction, record(junctions, i));
  });
  return { cells, junctions };
}

/** Unpacks local states (`[agent][env]`). */
export function unpackTrafficLs(
  numAgents: number,
  words: { cells: Uint32Array; junctions: Uint32Array },
): TrafficLsState[][] {
  const n = words.junctions.length / TRAFFIC_JUNCTION_WORDS / numAgents;
  return Array.from({ length: numAgents }, (_, k) =>
    Array.from({ length: n }, (_, e) => {
      const i = k * n + e;
      return {
        junction: unpackJunction(record(words.junctions, i)),
        lanes: [0, 1, 2, 3].map((a) => unpackLane(segment(words.cells, i * 4 + a))),
      };
    }));
}

/** The state tensors of a {@linkcode TrafficLocalEnv}, by checkpoint name. */
type TrafficLsTensors = {
  cells: Tensor<"u32">;
  junctions: Tensor<"u32">;
  sources: Tensor<"u32">;
  resetSources: Tensor<"u32">;
};

/** The GPU local simulators. */
export class TrafficLocalEnv extends VecEnvBase<
  readonly TrafficLsState[],
  TypedEnvBuffers<"f32">,
  TrafficLsTensors
> {
  readonly config: TrafficConfig;
  readonly numAgents: number;
  /** [A, numEnvs, 4] u32, written by the caller: a vehicle enters W, S, E, N at the next step. */
  readonly sources: Tensor<"u32">;
  /** [A, numEnvs, 4] u32, written by the caller: entries of a reset (and of every auto-reset). */
  readonly resetSources: Tensor<"u32">;
  /** [A, numEnvs, 4, 44] u32 lane cells. */
  readonly cells: Tensor<"u32">;
  /** [A, numEnvs, 8] u32 junction records. */
  readonly junctions: Tensor<"u32">;
  readonly #bindSampler: (probs: Tensor<"f32">) => Dispatch<typeof PARAMS>;

  /** Use {@linkcode createTrafficLocalEnv}. */
  constructor(
    engine: Engine,
    spec: EnvSpec,
    parts:
      & Pick<
        TrafficLocalEnv,
        | "config"
        | "numEnvs"
        | "seed"
        | "buffers"
        | "sources"
        | "resetSources"
        | "cells"
        | "junctions"
      >
      & {
        flags: Dispatch<typeof PARAMS>;
        step: Dispatch<typeof PARAMS>;
        reset: Dispatch<typeof PARAMS>;
        bindSampler: (probs: Tensor<"f32">) => Dispatch<typeof PARAMS>;
      },
  ) {
    const { cells, junctions, sources, resetSources } = parts;
    super(engine, spec, {
      title: "traffic local",
      numEnvs: parts.numEnvs,
      seed: parts.seed,
      buffers: parts.buffers,
      state: { cells, junctions, sources, resetSources },
      reset: [parts.reset],
      step: [parts.flags, parts.step],
    });
    this.config = parts.config;
    this.numAgents = spec.numAgents;
    this.sources = sources;
    this.resetSources = resetSources;
    this.cells = cells;
    this.junctions = junctions;
    this.#bindSampler = parts.bindSampler;
  }

  /**
   * Binds (once, at setup) the sampling of influence sources from predictor probabilities:
   * `probs` [A, numEnvs, 4] f32 (W, S, E, N). Encode the returned op after the predictor and before
   * `encodeStep`; it writes `sources` and `resetSources` (independent Bernoulli draws, RNG purpose
   * `influence`, keyed by env, lane 4·agent + approach and the region's step counter).
   *
   * @param probs Entry probabilities of the next step.
   * @returns An op whose `encode(enc)` records the draws.
   */
  bindSourceSampler(probs: Tensor<"f32">): { encode(enc: Encoder): void } {
    if (probs.size !== this.sources.size || probs.dtype !== "f32") {
      throw new TypeError(
        `Cannot bind traffic source sampler: probs "${probs.label}" is ${probs.dtype} [${probs.shape}], want f32 [${this.sources.shape}]`,
      );
    }
    const d = this.#bindSampler(probs);
    return { encode: (enc) => d.encode(enc) };
  }

  /**
   * Records a copy of a global simulator's last influence sources into `sources` and
   * `resetSources` (replay; both envs must have the same agents and envs).
   */
  encodeReplay(enc: Encoder, gs: TrafficEnv): void {
    if (gs.numEnvs !== this.numEnvs || gs.spec.numAgents !== this.numAgents) {
      throw new TypeError(
        `Cannot replay traffic sources: GS has ${gs.spec.numAgents} agents × ${gs.numEnvs} envs, LS has ${this.numAgents} × ${this.numEnvs}`,
      );
    }
    enc.copy(gs.sources, this.sources);
    enc.copy(gs.resetSources, this.resetSources);
  }

  /** `writeStates` takes local states `[agent][env]`: one list of numEnvs per agent. */
  protected override checkStateCount(regions: readonly (readonly TrafficLsState[])[]): void {
    if (regions.length !== this.numAgents || regions.some((r) => r.length !== this.numEnvs)) {
      throw new RangeError(
        `Cannot write traffic local states: want ${this.numAgents} agents × ${this.numEnvs} envs`,
      );
    }
  }

  /** Packs with {@linkcode packTrafficLs}: cells and junctions. */
  protected packStates(
    regions: readonly (readonly TrafficLsState[])[],
  ): { cells: Uint32Array; junctions: Uint32Array } {
    return packTrafficLs(regions);
  }

  /** Reads the GPU state back (`[agent][env]`; one read; tests and evaluation only). */
  async readStates(): Promise<TrafficLsState[][]> {
    const [cells, junctions] = await readTensors(
      this.engine,
      [this.cells, this.junctions] as const,
    );
    return unpackTrafficLs(this.numAgents, { cells, junctions });
  }

  /** A text picture of every agent's region in env `envIndex` (one read). */
  protected async renderEnv(envIndex: number): Promise<string> {
    const regions = await this.readStates();
    return regions.map((row, k) => {
      const j = row[envIndex].junction;
      const sig = `${j.signal.yellow ? "yellow, then " : ""}${j.signal.dir ? "E-W" : "N-S"} green`;
      return renderJunction(row[envIndex].lanes, `region ${k} step ${j.t}: ${sig}`);
    }).join("\n");
  }
}

/**
 * Builds the local simulators of a traffic task: buffers (`traffic.local.*`), pipelines, bind groups.
 *
 * @param engine Engine that owns the device.
 * @param spec A `traffic-local-*` or `traffic-*` spec (regions = its agents).
 * @param options `numEnvs` (regions per agent) and the `seed` of the slowdown draws.
 * @returns The env; fill `resetSources` (or leave zeros) and call `encodeReset` first.
 */
export async function createTrafficLocalEnv(
  engine: Engine,
  spec: EnvSpec,
  options: TrafficLocalEnvOptions,
): Promise<TrafficLocalEnv> {
  checkEnvFamily(spec, { families: ["traffic-local", "traffic"], title: "traffic local" });
  const cfg = spec.config as unknown as TrafficConfig;
  checkTrafficConfig(spec, options.numEnvs);
  const n = options.numEnvs, A = spec.numAgents;
  const t = <D extends "u32" | "f32">(dtype: D, shape: number[], name: string) =>
    engine.tensor({ dtype, shape, label: `traffic.local.${name}` });
  const buffers = createEnvBuffers(engine, {
    numAgents: A,
    numEnvs: n,
    obsShape: [TRAFFIC_OBS_DIM],
    obsDType: "f32",
    label: "traffic.local",
  });
  const sources = t("u32", [A, n, 4], "sources");
  const resetSources = t("u32", [A, n, 4], "resetSources");
  const cells = t("u32", [A, n, 4, TRAFFIC_SEGMENT], "state.cells");
  const junctions = t("u32", [A, n, TRAFFIC_JUNCTION_WORDS], "state.junctions");
  const params = {
    numEnvs: n,
    numAgents: A,
    maxSteps: cfg.maxSteps,
    persistSignals: cfg.persistSignals ? 1 : 0,
    pSlow: cfg.pSlow,
    seed: options.seed >>> 0,
    stepPurpose: RNG_PURPOSE.envStep,
    samplePurpose: RNG_PURPOSE.influence,
    envsPerSeed: envsPerSeed(options),
    seedMix: (options.seedMix ?? 0) >>> 0,
  };
  const [kf, ks, kr, kd] = await Promise.all([
    compileKernel(engine, trafficLocalFlags),
    compileKernel(engine, trafficLocalStep),
    compileKernel(engine, trafficLocalReset),
    compileKernel(engine, trafficLocalSample),
  ]);
  const region = { cells, junctions, resetSources, obs: buffers.obs, reward: buffers.reward };
  const { terminated, truncated, episodeStep } = buffers;
  const flags = kf.bind(
    { junctionsIn: junctions, terminated, truncated, episodeStep },
    params,
    "traffic.local.flags",
  );
  const step = ks.bind(
    { ...region, actions: buffers.actions, sources, terminalObs: buffers.terminalObs },
    params,
    "traffic.local.step",
  );
  const reset = kr.bind({ ...region, ...resetBuffers(buffers) }, params, "traffic.local.reset");
  const bindSampler = (probs: Tensor<"f32">) =>
    kd.bind(
      { probs, junctionsIn: junctions, sourcesOut: sources, resetSourcesOut: resetSources },
      params,
      "traffic.local.sample",
    );
  return new TrafficLocalEnv(engine, spec, {
    bindSampler,
    config: cfg,
    numEnvs: n,
    seed: (options.seed ^ (options.seedMix ?? 0)) >>> 0,
    buffers,
    sources,
    resetSources,
    cells,
    junctions,
    flags,
    step,
    reset,
  });
}

/** Local-simulator tasks, one per DIALS scenario size. */
const TASKS = [
  "traffic-local-4",
  "traffic-local-25",
  "traffic-local-49",
  "traffic-local-100",
] as const;

/** The traffic local simulators as an env family (`traffic-local-<N²>`; sources are inputs). */
export const TRAFFIC_LOCAL: EnvDef = Object.freeze({
  family: "traffic-local",
  tasks: TASKS,
  parseTask(name: string): EnvSpec | null {
    const side = parseTrafficAgents(name, "traffic-local");
    if (side === null) return null;
    return { ...trafficSpec(side, { name }), family: "traffic-local" };
  },
  create: createTrafficLocalEnv,
});
