/**
 * Pursuit task parameters, registry parse, golden import, packed GPU state layout and the
 * host-computed obstacle map and reward table.
 *
 * @module
 */
import type { EnvSpec } from "../env.ts";
import type { GoldenHeader } from "../golden.ts";

/** Parameters of a Pursuit task (the reference's constructor arguments, renamed). */
export interface PursuitConfig {
  readonly xSize: number;
  readonly ySize: number;
  readonly numPursuers: number;
  readonly numEvaders: number;
  /** Side of the square observation window (odd). */
  readonly obsRange: number;
  /** Pursuers needed on an evader's cell; used only when `surround` is false. */
  readonly numCatch: number;
  /** Capture by occupying every open 4-neighbour of the evader (true) or by `numCatch` (false). */
  readonly surround: boolean;
  readonly freezeEvaders: boolean;
  readonly tagReward: number;
  readonly catchReward: number;
  readonly urgencyReward: number;
  /** Fraction of the map used for spawning (only 1 is supported by the GPU env). */
  readonly constraintWindow: number;
  /** Truncation horizon [cycles]. */
  readonly maxCycles: number;
  /** Team-mean rewards (the reference's default); the GPU env supports only false. */
  readonly sharedReward: boolean;
}

/** Our reference configuration (spec §1): the library defaults with `shared_reward=False`. */
export const PURSUIT_DEFAULTS: Readonly<PursuitConfig> = Object.freeze({
  xSize: 16,
  ySize: 16,
  numPursuers: 8,
  numEvaders: 30,
  obsRange: 7,
  numCatch: 2,
  surround: true,
  freezeEvaders: false,
  tagReward: 0.01,
  catchReward: 5.0,
  urgencyReward: -0.1,
  constraintWindow: 1.0,
  maxCycles: 500,
  sharedReward: false,
});

/** A cell (x, y). */
export interface PursuitCell {
  x: number;
  y: number;
}

/** An alive evader: its spawn index (`id`, kept for the episode) and cell. */
export interface PursuitEvader extends PursuitCell {
  id: number;
}

/** The full state of one env. */
export interface PursuitState {
  /** Completed cycles of this episode. */
  frames: number;
  /** Episode index of this env's reset stream (the RNG step of its next reset is one more). */
  episode: number;
  /** Cycles this env has played in all episodes (the RNG step of its in-step draws). */
  cycles: number;
  /** Pursuer cells in agent order. */
  pursuers: PursuitCell[];
  /** Alive evaders by ascending id. */
  evaders: PursuitEvader[];
}

/** State as the golden files write it. */
export interface PursuitGoldenState {
  frames: number;
  pursuers: number[][];
  /** [id, x, y] of alive evaders, ascending id. */
  evaders: number[][];
}

/** Largest pursuer count the kernel holds. */
export const PURSUIT_MAX_PURSUERS = 16;
/** Largest evader count the kernel holds. */
export const PURSUIT_MAX_EVADERS = 64;
/** Words of the per-env state header: frames, episode, cycles. */
const HEADER = 3;

const TASK_RE = /^pursuit(?:-max-cycles-(\d+))?(?:-v[45])?$/;

/**
 * The config of a task name: `pursuit` (spec §1), optionally `pursuit-max-cycles-{n}` (golden
 * file `pursuit-max-cycles-60`) and a `-v4`/`-v5` suffix; null for any other name.
 *
 * @param name Task name.
 * @returns The task's parameters or null.
 */
export function parsePursuitTask(name: string): PursuitConfig | null {
  const m = TASK_RE.exec(name);
  if (!m) return null;
  const maxCycles = m[1] === undefined ? PURSUIT_DEFAULTS.maxCycles : Number(m[1]);
  if (maxCycles < 1) return null;
  return { ...PURSUIT_DEFAULTS, maxCycles };
}

/**
 * The {@linkcode EnvSpec} of a config: obs `[obsRange, obsRange, 3]` u8 (every channel is a
 * 0/1 flag or a count of at most max(numPursuers, numEvaders) ≤ 64), 5 actions.
 *
 * @param cfg Task parameters.
 * @param name Registry name.
 * @returns The spec; its `config` is `cfg`.
 */
export function pursuitSpec(cfg: PursuitConfig, name = "pursuit"): EnvSpec {
  return Object.freeze({
    name,
    family: "pursuit",
    numAgents: cfg.numPursuers,
    obsShape: Object.freeze([cfg.obsRange, cfg.obsRange, 3]),
    obsDType: "u8",
    numActions: 5,
    maxSteps: cfg.maxCycles,
    config: Object.freeze({ ...cfg }),
  });
}

/**
 * The config a golden file was recorded with (its header's `config`).
 *
 * @param header Header line of a Pursuit golden file.
 * @returns The task parameters.
 */
export function pursuitConfigFromGolden(header: GoldenHeader): PursuitConfig {
  const c = header.config as Record<string, number | boolean>;
  return {
    xSize: c.x_size as number,
    ySize: c.y_size as number,
    numPursuers: c.n_pursuers as number,
    numEvaders: c.n_evaders as number,
    obsRange: c.obs_range as number,
    numCatch: c.n_catch as number,
    surround: Boolean(c.surround),
    freezeEvaders: Boolean(c.freeze_evaders),
    tagReward: c.tag_reward as number,
    catchReward: c.catch_reward as number,
    urgencyReward: c.urgency_reward as number,
    constraintWindow: c.constraint_window as number,
    maxCycles: c.max_cycles as number,
    sharedReward: Boolean(c.shared_reward),
  };
}

/**
 * Converts a golden state into a {@linkcode PursuitState}.
 *
 * @param g State object of a golden line.
 * @param counters Episode and cycle counters to give the state (default 0, and `frames` cycles).
 * @returns The state.
 */
export function pursuitStateFromGolden(
  g: PursuitGoldenState,
  counters: { episode?: number; cycles?: number } = {},
): PursuitState {
  return {
    frames: g.frames,
    episode: counters.episode ?? 0,
    cycles: counters.cycles ?? g.frames,
    pursuers: g.pursuers.map(([x, y]) => ({ x, y })),
    evaders: g.evaders.map(([id, x, y]) => ({ id, x, y })),
  };
}

/**
 * The obstacle map of the reference's `rectangle_map` (spec §3): cell (x, y) is an obstacle iff
 * 0.3 < x/xSize < 0.7 and 0.2 < y/ySize < 0.8 (float64, strict).
 *
 * @param cfg Task parameters.
 * @returns [xSize·ySize] u32, index x·ySize + y, 1 = obstacle.
 */
export function pursuitObstacles(cfg: PursuitConfig): Uint32Array {
  const out = new Uint32Array(cfg.xSize * cfg.ySize);
  for (let x = 0; x < cfg.xSize; x++) {
    for (let y = 0; y < cfg.ySize; y++) {
      const fx = x / cfg.xSize, fy = y / cfg.ySize;
      out[x * cfg.ySize + y] = fx > 0.3 && fx < 0.7 && fy > 0.2 && fy < 0.8 ? 1 : 0;
    }
  }
  return out;
}

/** Largest tag count a pursuer can have: an evader counts at most twice (corner, spec §7.1). */
export function pursuitTagMax(cfg: PursuitConfig): number {
  return 2 * cfg.numEvaders;
}

/**
 * The reward table: entry ((i·(M+1) + tOld)·(M+1) + tNew)·2 + caught (M = tag max) is the f32
 * nearest to pursuer i's parallel-API reward (spec §7.3) when its tag count is tOld on its cell
 * before the cycle and tNew after its move: the float64 sum over sub-steps k = 0 … N−1 of
 * tag·T/N (T = tOld while k < i, else tNew), the last sub-step adding catch·caught, then urgency.
 *
 * @param cfg Task parameters (`sharedReward` must be false).
 * @returns [numPursuers, M + 1, M + 1, 2] f32.
 */
export function pursuitRewardTable(cfg: PursuitConfig): Float32Array {
  const N = cfg.numPursuers, side = pursuitTagMax(cfg) + 1;
  const out = new Float32Array(N * side * side * 2);
  for (let i = 0; i < N; i++) {
    for (let tOld = 0; tOld < side; tOld++) {
      for (let tNew = 0; tNew < side; tNew++) {
        for (let caught = 0; caught < 2; caught++) {
          let r = 0;
          for (let k = 0; k < N; k++) {
            let v = (cfg.tagReward * (k < i ? tOld : tNew)) / N;
            if (k === N - 1) v = v + cfg.catchReward * caught + cfg.urgencyReward;
            r += v;
          }
          out[((i * side + tOld) * side + tNew) * 2 + caught] = r;
        }
      }
    }
  }
  return out;
}

/** u32 words of one env's GPU state. */
export function pursuitStateStride(cfg: PursuitConfig): number {
  return HEADER + 2 * cfg.numPursuers + 3 * cfg.numEvaders;
}

/**
 * Packs states into the GPU layout (see `shaders/envs/pursuit/env.wgsl`).
 *
 * @param cfg Task parameters.
 * @param states One state per env.
 * @returns [numEnvs, stride] u32 words.
 */
export function packPursuitStates(
  cfg: PursuitConfig,
  states: readonly PursuitState[],
): Uint32Array {
  const stride = pursuitStateStride(cfg);
  const out = new Uint32Array(states.length * stride);
  states.forEach((s, e) => {
    if (s.pursuers.length !== cfg.numPursuers || s.evaders.length > cfg.numEvaders) {
      throw new TypeError(
        `Cannot pack Pursuit state ${e}: ${s.pursuers.length} pursuers and ${s.evaders.length} evaders, task has ${cfg.numPursuers} and at most ${cfg.numEvaders}`,
      );
    }
    const base = e * stride;
    out.set([s.frames, s.episode, s.cycles], base);
    s.pursuers.forEach((p, i) => out.set([p.x, p.y], base + HEADER + 2 * i));
    const eb = base + HEADER + 2 * cfg.numPursuers;
    for (const v of s.evaders) {
      if (!(v.id >= 0 && v.id < cfg.numEvaders)) {
        throw new RangeError(`Cannot pack Pursuit state ${e}: evader id ${v.id} is out of range`);
      }
      out.set([v.x, v.y, 1], eb + 3 * v.id);
    }
  });
  return out;
}

/**
 * Unpacks GPU state words into states (caught evaders dropped).
 *
 * @param cfg Task parameters.
 * @param words [numEnvs, stride] u32 words, as read from {@linkcode PursuitEnv.state}.
 * @returns One state per env.
 */
export function unpackPursuitStates(cfg: PursuitConfig, words: Uint32Array): PursuitState[] {
  const stride = pursuitStateStride(cfg);
  const out: PursuitState[] = [];
  for (let base = 0; base + stride <= words.length; base += stride) {
    const pursuers: PursuitCell[] = [];
    for (let i = 0; i < cfg.numPursuers; i++) {
      pursuers.push({ x: words[base + HEADER + 2 * i], y: words[base + HEADER + 2 * i + 1] });
    }
    const evaders: PursuitEvader[] = [];
    const eb = base + HEADER + 2 * cfg.numPursuers;
    for (let id = 0; id < cfg.numEvaders; id++) {
      const o = eb + 3 * id;
      if (words[o + 2] === 1) evaders.push({ id, x: words[o], y: words[o + 1] });
    }
    out.push({
      frames: words[base],
      episode: words[base + 1],
      cycles: words[base + 2],
      pursuers,
      evaders,
    });
  }
  return out;
}
