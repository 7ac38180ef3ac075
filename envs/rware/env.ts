/**
 * Multi-Robot Warehouse on the GPU (`rware-*-v2`, spec `docs/envs/rware.md`): the task
 * registry, the packed state layout, golden-state import and {@linkcode RwareEnv}, which steps
 * `numEnvs` warehouses with all robots in two dispatches (`shaders/envs/rware/env.wgsl`: the
 * step of every env with auto-reset, then the observations of every agent). Task parameters and
 * the layout are in `envs/rware/layout.ts`; the independent CPU reference is
 * `envs/rware/reference.ts`.
 *
 * ```ts ignore
 * const spec = RWARE.parseTask("rware-tiny-4ag")!;
 * const env = await RWARE.create(engine, spec, { numEnvs: 1024, seed: 1 });
 * env.encodeReset(enc);       // obs [4, 1024, 71] f32
 * env.encodeStep(enc);        // reads actions [4, 1024] u32
 * ```
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import { compileKernel, defineKernel, type Dispatch } from "../../engine/kernel.ts";
import { readTensor } from "../../engine/readback.ts";
import { RNG_PURPOSE } from "../../engine/rng.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { EnvDef, EnvSpec, VecEnvOptions } from "../env.ts";
import { envsPerSeed } from "../env.ts";
import { createEnvBuffers, RESET_BINDINGS, resetBuffers } from "../buffers.ts";
import {
  parseRwareTask,
  RWARE_MAX_AGENTS,
  type RwareConfig,
  type RwareLayout,
  rwareLayout,
  rwareObsDim,
  rwareSpec,
  type RwareState,
} from "./layout.ts";
import {
  checkEnvFamily,
  checkNumEnvs,
  type PackedStateParts,
  packedStateParts,
  VecEnvBase,
} from "../vec_env_base.ts";

/** Limits of the kernel's private arrays (see `shaders/envs/rware/env.wgsl`). */
export const RWARE_KERNEL_LIMITS = Object.freeze({
  agents: RWARE_MAX_AGENTS,
  queue: 38,
  shelves: 255,
  cells: 512,
  sensorRange: 2,
});
/** Words of the per-env state header: steps, inactiveSteps, episode, totalSteps. */
const HEADER = 4;
const REWARD_CODE = { individual: 0, global: 1, two_stage: 2 } as const;

/** u32 words of one env's GPU state. */
export function rwareStateStride(cfg: RwareConfig, layout: RwareLayout): number {
  return HEADER + 5 * cfg.numAgents + cfg.requestQueueSize + layout.rows * layout.cols;
}

/**
 * Packs states into the GPU layout (header, agents, queue, shelf grid; see the WGSL header).
 *
 * @param cfg Task parameters.
 * @param layout The task's layout.
 * @param states One state per env.
 * @returns [numEnvs, stride] u32 words.
 */
export function packRwareStates(
  cfg: RwareConfig,
  layout: RwareLayout,
  states: readonly RwareState[],
): Uint32Array {
  const stride = rwareStateStride(cfg, layout);
  const out = new Uint32Array(states.length * stride);
  states.forEach((s, e) => {
    if (
      s.agents.length !== cfg.numAgents || s.requestQueue.length !== cfg.requestQueueSize ||
      s.shelves.length !== layout.shelfHome.length
    ) {
      throw new TypeError(
        `Cannot pack RWARE state ${e}: ${s.agents.length} agents, ${s.requestQueue.length} requests, ${s.shelves.length} shelves; task has ${cfg.numAgents}, ${cfg.requestQueueSize}, ${layout.shelfHome.length}`,
      );
    }
    const base = e * stride;
    out.set([s.steps, s.inactiveSteps, s.episode, s.totalSteps], base);
    s.agents.forEach((a, i) =>
      out.set([a.x, a.y, a.dir, a.carried, a.hasDelivered ? 1 : 0], base + HEADER + 5 * i)
    );
    const qb = base + HEADER + 5 * cfg.numAgents;
    out.set(s.requestQueue, qb);
    const gb = qb + cfg.requestQueueSize;
    s.shelves.forEach(({ x, y }, k) => {
      const cell = gb + y * layout.cols + x;
      if (out[cell] !== 0) {
        throw new TypeError(
          `Cannot pack RWARE state ${e}: shelves ${out[cell]} and ${k + 1} share cell (${x}, ${y})`,
        );
      }
      out[cell] = k + 1;
    });
  });
  return out;
}

/**
 * Unpacks GPU state words into states.
 *
 * @param cfg Task parameters.
 * @param layout The task's layout.
 * @param words [numEnvs, stride] u32 words, as read from {@linkcode RwareEnv.state}.
 * @returns One state per env.
 */
export function unpackRwareStates(
  cfg: RwareConfig,
  layout: RwareLayout,
  words: Uint32Array,
): RwareState[] {
  const stride = rwareStateStride(cfg, layout);
  const out: RwareState[] = [];
  for (let base = 0; base + stride <= words.length; base += stride) {
    const agents = [];
    for (let i = 0; i < cfg.numAgents; i++) {
      const o = base + HEADER + 5 * i;
      agents.push({
        x: words[o],
        y: words[o + 1],
        dir: words[o + 2],
        carried: words[o + 3],
        hasDelivered: words[o + 4] !== 0,
      });
    }
    const qb = base + HEADER + 5 * cfg.numAgents;
    const gb = qb + cfg.requestQueueSize;
    const shelves = layout.shelfHome.map(() => ({ x: -1, y: -1 }));
    for (let c = 0; c < layout.rows * layout.cols; c++) {
      const id = words[gb + c];
      if (id !== 0) shelves[id - 1] = { x: c % layout.cols, y: Math.floor(c / layout.cols) };
    }
    out.push({
      steps: words[base],
      inactiveSteps: words[base + 1],
      episode: words[base + 2],
      totalSteps: words[base + 3],
      agents,
      shelves,
      requestQueue: Array.from(words.subarray(qb, gb)),
    });
  }
  return out;
}

/** The static buffer of the kernel: home shelf id per cell, then goals (x, y). */
export function rwareWarehouseWords(layout: RwareLayout): Uint32Array {
  const out = new Uint32Array(layout.home.length + 2 * layout.goals.length);
  out.set(layout.home);
  layout.goals.forEach((g, k) => out.set([g.x, g.y], layout.home.length + 2 * k));
  return out;
}

const SHADER = "envs/rware/env.wgsl";
const INCLUDES = ["common/_index.wgsl", "common/_rng.wgsl", "envs/common/_episode.wgsl"] as const;
const PARAMS = {
  numEnvs: "u32",
  rows: "u32",
  cols: "u32",
  numAgents: "u32",
  numShelves: "u32",
  queueSize: "u32",
  numGoals: "u32",
  sensorRange: "u32",
  maxSteps: "u32",
  maxInactivitySteps: "u32",
  rewardType: "u32",
  seed: "u32",
  envsPerSeed: "u32",
  resetPurpose: "u32",
  stepPurpose: "u32",
} as const;

/** Resets every env to episode 0 of its stream; one thread per env. */
export const rwareReset = defineKernel({
  name: "rware.reset",
  shader: SHADER,
  entryPoint: "reset",
  includes: INCLUDES,
  bindings: { state: "write", warehouse: "read", ...RESET_BINDINGS },
  params: PARAMS,
  threads: (p) => p.numEnvs,
});

/**
 * Phase 1 of a step: one step of every env with auto-reset (state, injected, terminalObs, reward,
 * terminated, truncated); one thread per env.
 */
export const rwareStep = defineKernel({
  name: "rware.step",
  shader: SHADER,
  entryPoint: "step",
  includes: INCLUDES,
  bindings: {
    state: "write",
    warehouse: "read",
    actions: "read",
    injected: "write",
    terminalObs: "write",
    reward: "write",
    terminated: "write",
    truncated: "write",
  },
  params: PARAMS,
  threads: (p) => p.numEnvs,
});

/**
 * Phase 2 of a step: the observation of every agent and episodeStep from the new state; one
 * thread per (agent, env). Binds `state` writable (as `step` does) but only reads it.
 */
export const rwareObserve = defineKernel({
  name: "rware.observe",
  shader: SHADER,
  entryPoint: "observe",
  includes: INCLUDES,
  bindings: { state: "write", warehouse: "read", obs: "write", episodeStep: "write" },
  params: PARAMS,
  threads: (p) => p.numAgents * p.numEnvs,
});

/** The GPU RWARE env: buffers of {@linkcode EnvBuffers} plus the packed `state`. */
export class RwareEnv extends VecEnvBase<RwareState> {
  readonly config: RwareConfig;
  readonly layout: RwareLayout;
  /** [numEnvs, stride] u32: packed states (layout in `shaders/envs/rware/env.wgsl`). */
  readonly state: Tensor<"u32">;
  /**
   * [numEnvs, numGoals] u32: shelf ids for the k-th delivery of the next step (0 = draw); the
   * step clears it.
   */
  readonly injected: Tensor<"u32">;

  /** Use {@linkcode createRwareEnv}. */
  constructor(
    engine: Engine,
    spec: EnvSpec,
    parts: PackedStateParts<RwareEnv["buffers"], Dispatch<typeof PARAMS>> & {
      config: RwareConfig;
      layout: RwareLayout;
      injected: Tensor<"u32">;
      /** Phase 2 of a step (`rware.observe`), encoded after `step`. */
      observe: Dispatch<typeof PARAMS>;
    },
  ) {
    super(engine, spec, {
      ...packedStateParts("RWARE", parts),
      step: [parts.step, parts.observe],
    });
    this.config = parts.config;
    this.layout = parts.layout;
    this.state = parts.state;
    this.injected = parts.injected;
  }

  /** Packs with {@linkcode packRwareStates}. */
  protected packStates(states: readonly RwareState[]): { state: Uint32Array } {
    return { state: packRwareStates(this.config, this.layout, states) };
  }

  /**
   * Queues the request refills of the next step (replays): per env, the new shelf ids of its
   * deliveries in goal order; envs with fewer entries draw the rest.
   *
   * @param refills One list per env (at most numGoals ids each).
   */
  writeInjected(refills: readonly (readonly number[])[]): void {
    const goals = this.layout.goals.length;
    if (refills.length !== this.numEnvs || refills.some((r) => r.length > goals)) {
      throw new RangeError(
        `Cannot inject RWARE refills: got ${refills.length} lists for ${this.numEnvs} envs, each at most ${goals} long`,
      );
    }
    const words = new Uint32Array(this.numEnvs * goals);
    refills.forEach((r, e) => words.set(r, e * goals));
    this.engine.write(this.injected, words);
  }

  /**
   * Decodes words read from {@linkcode RwareEnv.state} (read them with `engine/readback.ts`).
   *
   * @param words The state tensor's contents.
   * @returns One state per env.
   */
  decodeStates(words: Uint32Array): RwareState[] {
    return unpackRwareStates(this.config, this.layout, words);
  }

  /**
   * A text picture of env `envIndex` (reads the GPU state once): `G` goal, `#` shelf, `R` a
   * requested shelf, an arrow an agent by heading (lower case when carrying a shelf).
   */
  protected async renderEnv(envIndex: number): Promise<string> {
    const [s] = this.decodeStates(await readTensor(this.engine, this.state)).slice(envIndex);
    const { rows, cols, goals } = this.layout;
    const grid = Array.from({ length: rows }, () => new Array<string>(cols).fill("."));
    for (const g of goals) grid[g.y][g.x] = "G";
    const requested = new Set(s.requestQueue);
    s.shelves.forEach((c, k) => grid[c.y][c.x] = requested.has(k + 1) ? "R" : "#");
    const arrows = ["^", "v", "<", ">"], carrying = ["A", "V", "{", "}"];
    for (const a of s.agents) grid[a.y][a.x] = a.carried ? carrying[a.dir] : arrows[a.dir];
    return [`step ${s.steps} episode ${s.episode}`, ...grid.map((r) => r.join(""))].join("\n");
  }
}

/**
 * Builds an RWARE env: buffers (labelled `rware.*`), pipelines and bind groups, once.
 *
 * @param engine Engine that owns the device.
 * @param spec Spec of an RWARE task (from {@linkcode RWARE}.parseTask or `rwareSpec`).
 * @param options `numEnvs` and the `seed` of resets and refills.
 * @returns The env; call `encodeReset` before the first step.
 */
export async function createRwareEnv(
  engine: Engine,
  spec: EnvSpec,
  options: VecEnvOptions,
): Promise<RwareEnv> {
  checkEnvFamily(spec, { families: ["rware"], title: "RWARE" });
  const cfg = spec.config as unknown as RwareConfig;
  const layout = rwareLayout(cfg);
  const L = RWARE_KERNEL_LIMITS, S = layout.shelfHome.length, cells = layout.rows * layout.cols;
  const fail = (what: string) => new RangeError(`Cannot build RWARE env "${spec.name}": ${what}`);
  if (cfg.numAgents < 1 || cfg.numAgents > L.agents || cfg.numAgents > cells) {
    throw fail(`${cfg.numAgents} agents, kernel holds 1..${L.agents}`);
  }
  if (cfg.requestQueueSize > L.queue || cfg.requestQueueSize >= S) {
    throw fail(
      `request queue of ${cfg.requestQueueSize} with ${S} shelves, needs fewer than the shelves and at most ${L.queue}`,
    );
  }
  if (S > L.shelves || cells > L.cells || cfg.sensorRange > L.sensorRange) {
    throw fail(
      `${S} shelves, ${cells} cells, sensor range ${cfg.sensorRange}; kernel holds ${L.shelves}, ${L.cells}, ${L.sensorRange}`,
    );
  }
  checkNumEnvs(spec, { numEnvs: options.numEnvs, title: "RWARE" });
  const n = options.numEnvs, A = cfg.numAgents, dim = rwareObsDim(cfg);
  const buffers = createEnvBuffers(engine, {
    numAgents: A,
    numEnvs: n,
    obsShape: [dim],
    obsDType: "f32",
    label: "rware",
  });
  const state = engine.tensor({
    dtype: "u32",
    shape: [n, rwareStateStride(cfg, layout)],
    label: "rware.state",
  });
  const injected = engine.tensor({
    dtype: "u32",
    shape: [n, layout.goals.length],
    label: "rware.injected",
  });
  const warehouseWords = rwareWarehouseWords(layout);
  const warehouse = engine.tensor({
    dtype: "u32",
    shape: [warehouseWords.length],
    label: "rware.warehouse",
    data: warehouseWords,
  });
  const params = {
    numEnvs: n,
    rows: layout.rows,
    cols: layout.cols,
    numAgents: A,
    numShelves: S,
    queueSize: cfg.requestQueueSize,
    numGoals: layout.goals.length,
    sensorRange: cfg.sensorRange,
    maxSteps: cfg.maxSteps,
    maxInactivitySteps: cfg.maxInactivitySteps,
    rewardType: REWARD_CODE[cfg.rewardType],
    seed: options.seed >>> 0,
    envsPerSeed: envsPerSeed(options),
    resetPurpose: RNG_PURPOSE.envReset,
    stepPurpose: RNG_PURPOSE.envStep,
  };
  const [kr, ks, ko] = await Promise.all([
    compileKernel(engine, rwareReset),
    compileKernel(engine, rwareStep),
    compileKernel(engine, rwareObserve),
  ]);
  const reset = kr.bind({ ...resetBuffers(buffers), state, warehouse }, params, "rware.reset");
  const { actions, terminalObs, reward, terminated, truncated, obs, episodeStep } = buffers;
  const step = ks.bind(
    { state, warehouse, actions, injected, terminalObs, reward, terminated, truncated },
    params,
    "rware.step",
  );
  const observe = ko.bind({ state, warehouse, obs, episodeStep }, params, "rware.observe");
  return new RwareEnv(engine, spec, {
    config: cfg,
    layout,
    options,
    buffers,
    state,
    injected,
    reset,
    step,
    observe,
  });
}

/** Example tasks: SEAC's three, the golden tasks and the other sizes. */
const TASKS = [
  "rware-tiny-2ag",
  "rware-tiny-4ag",
  "rware-small-4ag",
  "rware-tiny-2ag-hard",
  "rware-medium-6ag",
  "rware-large-8ag-easy",
] as const;

/** The RWARE family: registry parse of `rware-*` names and the GPU env builder. */
export const RWARE: EnvDef = Object.freeze({
  family: "rware",
  tasks: TASKS,
  parseTask(name: string): EnvSpec | null {
    const cfg = parseRwareTask(name);
    return cfg ? rwareSpec(cfg, name.replace(/-v[12]$/, "")) : null;
  },
  create: createRwareEnv,
});
