/**
 * Traffic-light grid on the GPU (DIALS, spec `docs/envs/traffic.md` Part B): the family's
 * {@linkcode EnvDef} ({@linkcode TRAFFIC}, tasks `traffic-{4,25,49,100}`) and the global simulator
 * {@linkcode TrafficEnv}: N × N signalised intersections, every one a learning agent, stepped for
 * `numEnvs` envs in two dispatches (`shaders/envs/traffic/env.wgsl`; a reset is two as well) with
 * auto-reset.
 *
 * Observation per agent: 40 f32 values (bins 0..8 of the W, S, E, N lanes, then the signal one-hot
 * [E–W green, E–W yellow, N–S yellow, N–S green]); action 0 keep, 1 switch; reward the mean
 * normalised speed on the 4 incoming lanes. Besides the {@linkcode EnvBuffers} the env writes the
 * influence sources of every agent (`sources`, [A, n, 4] u32: a vehicle entered W, S, E, N at this
 * step; `resetSources`: entries of the auto-reset step), which the local simulator
 * (`envs/traffic/local.ts`) replays, and `createTrafficInfluenceRecorder`
 * (`envs/traffic/influence.ts`) turns into AIP datasets. CPU reference: `envs/traffic/reference.ts`;
 * layout and registry parse: `envs/traffic/state.ts`.
 *
 * Deviation from spec B3/B4 (stated): corridors are cut at every lane entrance. A vehicle leaving a
 * junction box joins the next lane's entry backlog and enters with the boundary entry rule of B4.3
 * (front at cell 1 when cells 0..3 are free, speed limited by the leader) in the same step. So an
 * intersection's lanes depend on the rest of the grid only through these entry events — exactly the
 * 4 influence sources — which makes local-simulator replay exact; the cost is no spillback from a
 * full lane into the upstream box, and an entry capacity of 1/3 vehicle per step per lane (demand is
 * 0.1).
 *
 * ```ts ignore
 * const spec = TRAFFIC.parseTask("traffic-25")!;
 * const env = await TRAFFIC.create(engine, spec, { numEnvs: 1024, seed: 1 });
 * env.encodeReset(enc);       // obs [25, 1024, 40] f32
 * env.encodeStep(enc);        // reads actions [25, 1024] u32
 * ```
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import { compileKernel, defineKernel, type Dispatch } from "../../engine/kernel.ts";
import { readTensors } from "../../engine/readback.ts";
import { RNG_PURPOSE } from "../../engine/rng.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { EnvDef, EnvSpec, VecEnvOptions } from "../env.ts";
import { envsPerSeed } from "../env.ts";
import { createEnvBuffers, resetBuffers, type TypedEnvBuffers } from "../buffers.ts";
import { TRAFFIC_OBS_DIM, type TrafficConfig, type TrafficGsState } from "./reference.ts";
import {
  checkTrafficConfig,
  packTrafficGs,
  parseTrafficAgents,
  renderJunction,
  TRAFFIC_JUNCTION_WORDS,
  TRAFFIC_SEGMENT,
  type TrafficGsWords,
  trafficSpec,
  unpackTrafficGs,
} from "./state.ts";
import { checkEnvFamily, VecEnvBase } from "../vec_env_base.ts";

export type { TrafficConfig } from "./reference.ts";

const SHADER = "envs/traffic/env.wgsl";
const INCLUDES = [
  "common/_index.wgsl",
  "common/_rng.wgsl",
  "envs/traffic/_lane.wgsl",
  "envs/common/_episode.wgsl",
] as const;
const PARAMS = {
  numEnvs: "u32",
  gridSize: "u32",
  maxSteps: "u32",
  persistSignals: "u32",
  pSlow: "f32",
  pArrive: "f32",
  seed: "u32",
  stepPurpose: "u32",
  resetPurpose: "u32",
  envsPerSeed: "u32",
} as const;

/**
 * Phase 1 of a step: signals (private copy), motion, exits into the downstream lanes' backlogs,
 * the action into the junction record, and the env's flags (terminated, truncated, episodeStep);
 * one thread per (env, lane).
 */
export const trafficMotion = defineKernel({
  name: "traffic.motion",
  shader: SHADER,
  entryPoint: "motion",
  includes: INCLUDES,
  bindings: {
    cells: "write",
    backlog: "write",
    junctions: "write",
    actions: "read",
    terminated: "write",
    truncated: "write",
    episodeStep: "write",
  },
  params: PARAMS,
  threads: (p) => p.numEnvs * 4 * p.gridSize * p.gridSize,
});

const STATE_BINDINGS = {
  cells: "write",
  backlog: "write",
  junctions: "write",
  sources: "write",
  resetSources: "write",
} as const;

/** Phase 2: signals, entries, obs, reward, auto-reset; one thread per (env, junction). */
export const trafficObserve = defineKernel({
  name: "traffic.observe",
  shader: SHADER,
  entryPoint: "observe",
  includes: INCLUDES,
  bindings: {
    ...STATE_BINDINGS,
    obs: "write",
    reward: "write",
    terminalObs: "write",
  },
  params: PARAMS,
  threads: (p) => p.numEnvs * p.gridSize * p.gridSize,
});

/**
 * Resets every env to episode 0 of its stream (state, obs, reward, sources, resetSources); one
 * thread per (env, junction).
 */
export const trafficReset = defineKernel({
  name: "traffic.reset",
  shader: SHADER,
  entryPoint: "reset",
  includes: INCLUDES,
  bindings: { ...STATE_BINDINGS, obs: "write", reward: "write" },
  params: PARAMS,
  threads: (p) => p.numEnvs * p.gridSize * p.gridSize,
});

/**
 * Phase 2 of a reset: the env's flags (terminated, truncated, episodeStep = 0); one thread per
 * env.
 */
export const trafficResetFlags = defineKernel({
  name: "traffic.resetFlags",
  shader: SHADER,
  entryPoint: "resetFlags",
  includes: INCLUDES,
  bindings: { terminated: "write", truncated: "write", episodeStep: "write" },
  params: PARAMS,
  threads: (p) => p.numEnvs,
});

const SIGNAL_NAMES = ["N-S green", "E-W green"];

/** The state tensors of a {@linkcode TrafficEnv}, by checkpoint name. */
type TrafficGsTensors = {
  cells: Tensor<"u32">;
  backlog: Tensor<"u32">;
  junctions: Tensor<"u32">;
};

/** The GPU global simulator: {@linkcode EnvBuffers}, packed state and the influence sources. */
export class TrafficEnv
  extends VecEnvBase<TrafficGsState, TypedEnvBuffers<"f32">, TrafficGsTensors> {
  readonly config: TrafficConfig;
  /** [numEnvs, 4N², 44] u32 lane cells. */
  readonly cells: Tensor<"u32">;
  /** [numEnvs, 4N²] u32 vehicles waiting to enter each lane. */
  readonly backlog: Tensor<"u32">;
  /** [numEnvs, N², 8] u32 junction records. */
  readonly junctions: Tensor<"u32">;
  /** [A, numEnvs, 4] u32: a vehicle entered approach W, S, E, N at the last step (pre-reset). */
  readonly sources: Tensor<"u32">;
  /** [A, numEnvs, 4] u32: entries of the last auto-reset (or reset) step; 0 elsewhere. */
  readonly resetSources: Tensor<"u32">;

  /** Use {@linkcode createTrafficEnv}. */
  constructor(
    engine: Engine,
    spec: EnvSpec,
    parts:
      & Pick<
        TrafficEnv,
        | "config"
        | "numEnvs"
        | "seed"
        | "buffers"
        | "cells"
        | "backlog"
        | "junctions"
        | "sources"
        | "resetSources"
      >
      & {
        motion: Dispatch<typeof PARAMS>;
        observe: Dispatch<typeof PARAMS>;
        reset: Dispatch<typeof PARAMS>;
        resetFlags: Dispatch<typeof PARAMS>;
      },
  ) {
    const { cells, backlog, junctions } = parts;
    super(engine, spec, {
      title: "traffic",
      numEnvs: parts.numEnvs,
      seed: parts.seed,
      buffers: parts.buffers,
      state: { cells, backlog, junctions },
      reset: [parts.reset, parts.resetFlags],
      step: [parts.motion, parts.observe],
    });
    this.config = parts.config;
    this.cells = cells;
    this.backlog = backlog;
    this.junctions = junctions;
    this.sources = parts.sources;
    this.resetSources = parts.resetSources;
  }

  /** Packs reference states with {@linkcode packTrafficGs}: cells, backlog, junctions. */
  protected packStates(states: readonly TrafficGsState[]): TrafficGsWords {
    return packTrafficGs(this.config, states);
  }

  /** Reads the GPU state back as reference states (one read; tests and evaluation only). */
  async readStates(): Promise<TrafficGsState[]> {
    const [cells, backlog, junctions] = await readTensors(
      this.engine,
      [
        this.cells,
        this.backlog,
        this.junctions,
      ] as const,
    );
    return unpackTrafficGs(this.config, { cells, backlog, junctions });
  }

  /**
   * A text picture of env `envIndex` (one read of the GPU state): per intersection its signal and
   * its 4 incoming lanes (speed digits at vehicle fronts, `|` the stop line, then the box).
   *
   * @param envIndex Which env.
   * @returns The picture.
   */
  protected async renderEnv(envIndex: number): Promise<string> {
    const s = (await this.readStates())[envIndex];
    const n = this.config.gridSize;
    const j0 = s.junctions[0];
    const lines = [`step ${j0.t} episode ${j0.episode} (grid ${n}x${n}, row 0 = south)`];
    s.junctions.forEach((j, k) => {
      const sig = j.signal.yellow
        ? `yellow, then ${SIGNAL_NAMES[j.signal.dir]}`
        : SIGNAL_NAMES[j.signal.dir];
      lines.push(
        renderJunction(
          s.lanes.slice(4 * k, 4 * k + 4),
          `junction ${k} (row ${Math.floor(k / n)}, col ${k % n}): ${sig}`,
        ),
      );
    });
    return lines.join("\n");
  }
}

/**
 * Builds the traffic global simulator: buffers (labelled `traffic.*`), pipelines and bind groups.
 *
 * @param engine Engine that owns the device.
 * @param spec Spec of a traffic task (from {@linkcode TRAFFIC}.parseTask or {@linkcode trafficSpec}).
 * @param options `numEnvs` and the `seed` of every random stream.
 * @returns The env; call `encodeReset` before the first step.
 */
export async function createTrafficEnv(
  engine: Engine,
  spec: EnvSpec,
  options: VecEnvOptions,
): Promise<TrafficEnv> {
  checkEnvFamily(spec, { families: ["traffic"], title: "traffic" });
  const cfg = spec.config as unknown as TrafficConfig;
  checkTrafficConfig(spec, options.numEnvs);
  const n = options.numEnvs, N = cfg.gridSize, A = N * N;
  const t = <D extends "u32" | "f32">(dtype: D, shape: number[], name: string) =>
    engine.tensor({ dtype, shape, label: `traffic.${name}` });
  const buffers = createEnvBuffers(engine, {
    numAgents: A,
    numEnvs: n,
    obsShape: [TRAFFIC_OBS_DIM],
    obsDType: "f32",
    label: "traffic",
  });
  const state = {
    cells: t("u32", [n, 4 * A, TRAFFIC_SEGMENT], "state.cells"),
    backlog: t("u32", [n, 4 * A], "state.backlog"),
    junctions: t("u32", [n, A, TRAFFIC_JUNCTION_WORDS], "state.junctions"),
    sources: t("u32", [A, n, 4], "sources"),
    resetSources: t("u32", [A, n, 4], "resetSources"),
  };
  const params = {
    numEnvs: n,
    gridSize: N,
    maxSteps: cfg.maxSteps,
    persistSignals: cfg.persistSignals ? 1 : 0,
    pSlow: cfg.pSlow,
    pArrive: cfg.pArrive,
    seed: options.seed >>> 0,
    stepPurpose: RNG_PURPOSE.envStep,
    resetPurpose: RNG_PURPOSE.envReset,
    envsPerSeed: envsPerSeed(options),
  };
  const [km, ko, kr, kf] = await Promise.all([
    compileKernel(engine, trafficMotion),
    compileKernel(engine, trafficObserve),
    compileKernel(engine, trafficReset),
    compileKernel(engine, trafficResetFlags),
  ]);
  const stateOut = {
    cells: state.cells,
    backlog: state.backlog,
    junctions: state.junctions,
    sources: state.sources,
    resetSources: state.resetSources,
  };
  const motion = km.bind(
    {
      cells: state.cells,
      backlog: state.backlog,
      junctions: state.junctions,
      actions: buffers.actions,
      terminated: buffers.terminated,
      truncated: buffers.truncated,
      episodeStep: buffers.episodeStep,
    },
    params,
    "traffic.motion",
  );
  const observe = ko.bind(
    {
      ...stateOut,
      obs: buffers.obs,
      reward: buffers.reward,
      terminalObs: buffers.terminalObs,
    },
    params,
    "traffic.observe",
  );
  const { obs, reward, terminated, truncated, episodeStep } = resetBuffers(buffers);
  const reset = kr.bind({ ...stateOut, obs, reward }, params, "traffic.reset");
  const resetFlags = kf.bind(
    { terminated, truncated, episodeStep },
    params,
    "traffic.resetFlags",
  );
  return new TrafficEnv(engine, spec, {
    config: cfg,
    numEnvs: n,
    seed: options.seed >>> 0,
    buffers,
    ...state,
    motion,
    observe,
    reset,
    resetFlags,
  });
}

/** The DIALS scenario sizes: 2×2, 5×5, 7×7 and 10×10 grids. */
const TASKS = ["traffic-4", "traffic-25", "traffic-49", "traffic-100"] as const;

/** The traffic family: registry parse of `traffic-<N²>` names and the GPU global simulator. */
export const TRAFFIC: EnvDef = Object.freeze({
  family: "traffic",
  tasks: TASKS,
  parseTask(name: string): EnvSpec | null {
    const side = parseTrafficAgents(name, "traffic");
    return side === null ? null : trafficSpec(side);
  },
  create: createTrafficEnv,
});
