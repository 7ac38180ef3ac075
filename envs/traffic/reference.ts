/**
 * Independent CPU reference of the traffic grid (spec `docs/envs/traffic.md`, Part B),
 * written from the spec with vehicle lists (not cells): the global simulator
 * ({@linkcode TrafficGlobalReference}) and the local simulators ({@linkcode TrafficLocalReference}).
 *
 * Rules, per step: (1) signals take the actions (Flow's keep/switch with 3 yellow steps, spec A5);
 * (2) Nagel–Schreckenberg motion on every lane and its junction box, red and yellow stop at the
 * stop line; (3) entries: each lane has a backlog fed by Bernoulli(pArrive) at the grid boundary and
 * by the vehicle leaving the upstream box inside the grid; one vehicle enters when the first 4 cells
 * are free (front at cell 1, speed limited by the leader); (4) observations, rewards, time limit,
 * auto-reset (clear, signals, one arrival step). The influence source of a lane at a step is "a
 * vehicle entered it"; the local simulator replays them (or draws them from a predictor).
 *
 * Random draws (bit-identical with the GPU via `engine/rng.ts`): slowdown of the vehicle with old
 * front p on lane l of env e at global step g: `rngU32(seed, envStep, e, l, g, 1 + p)`; boundary
 * arrival: `rngU32(seed, envStep, e, l, g, 0)`; arrival of the reset step of episode q:
 * `rngU32(seed, envReset, e, l, q, 0)`. Lane id l = 4·junction + approach (W, S, E, N).
 *
 * @module
 */
import { RNG_PURPOSE, rngU32, rngUnit } from "../../engine/rng.ts";

/** Rules and sizes of one traffic task. */
export interface TrafficConfig {
  /** Intersections per side (N; N² agents). */
  gridSize: number;
  /** Episode length [steps]. */
  maxSteps: number;
  /** Random slowdown probability per vehicle and step. */
  pSlow: number;
  /** Arrival probability per boundary entry lane and step. */
  pArrive: number;
  /** Keep the signal state across resets (Flow's behaviour) instead of N–S green. */
  persistSignals: boolean;
}

/** Cells per lane (2.5 m each), junction box cells, top speed and jam spacing. */
export const TRAFFIC_LANE = Object.freeze({ cells: 40, box: 4, vmax: 4, spacing: 3 });
/** Observation length: 4 approaches × 9 bins + 4 signal states. */
export const TRAFFIC_OBS_DIM = 40;

/** A vehicle: front cell in its lane segment (0..39 lane, 40..43 box) and speed [cells/step]. */
export interface Vehicle {
  pos: number;
  speed: number;
}

/** Signal: direction with right of way (0 N–S, 1 E–W), yellow flag and yellow timer. */
export interface TrafficSignal {
  dir: number;
  yellow: number;
  timer: number;
}

/** One intersection's signal and counters (the counters are equal across an env). */
export interface TrafficJunction {
  signal: TrafficSignal;
  /** Steps in the current episode. */
  t: number;
  episode: number;
  /** Steps since the first reset (RNG counter). */
  globalStep: number;
}

/** Global simulator state of one env. */
export interface TrafficGsState {
  junctions: TrafficJunction[];
  /** Per lane id, vehicles ordered front-most first. */
  lanes: Vehicle[][];
  /** Per lane id, vehicles waiting to enter. */
  backlog: number[];
}

/** Local simulator state of one region (one intersection of one env). */
export interface TrafficLsState {
  junction: TrafficJunction;
  /** Per approach (W, S, E, N), vehicles ordered front-most first. */
  lanes: Vehicle[][];
}

const SEGMENT = TRAFFIC_LANE.cells + TRAFFIC_LANE.box;
const STOP = TRAFFIC_LANE.cells - 1;
const f32 = Math.fround;

/** Applies an action (0 keep, anything else switch) to a signal (spec A5). */
export function trafficSignalReference(s: TrafficSignal, action: number): TrafficSignal {
  if (s.yellow) {
    const timer = s.timer + 1;
    return { dir: s.dir, yellow: timer >= 3 ? 0 : 1, timer };
  }
  if (action !== 0) return { dir: s.dir === 0 ? 1 : 0, yellow: 1, timer: 0 };
  return { ...s };
}

/** Whether approach a (0 W, 1 S, 2 E, 3 N) may cross its stop line under signal s. */
function greenFor(s: TrafficSignal, approach: number): boolean {
  if (s.yellow) return false;
  const eastWest = approach === 0 || approach === 2;
  return eastWest ? s.dir === 1 : s.dir === 0;
}

/**
 * Moves a lane's vehicles one step (synchronous: every gap uses the old positions); `green` says
 * whether they may cross the stop line, `slow(p)` says
 * whether the vehicle whose old front is p slows down at random.
 *
 * @returns The remaining vehicles (front-most first) and whether one left past the box.
 */
export function trafficMotionReference(
  vehicles: readonly Vehicle[],
  rule: { green: boolean; slow: (pos: number) => boolean },
): { vehicles: Vehicle[]; exited: boolean } {
  const { green, slow } = rule;
  const out: Vehicle[] = [];
  let exited = false;
  vehicles.forEach((veh, i) => {
    let speed = Math.min(veh.speed + 1, TRAFFIC_LANE.vmax);
    if (i > 0) {
      const gap = vehicles[i - 1].pos - veh.pos - TRAFFIC_LANE.spacing;
      speed = Math.min(speed, Math.max(gap, 0));
    }
    if (veh.pos < TRAFFIC_LANE.cells && !green) speed = Math.min(speed, STOP - veh.pos);
    if (slow(veh.pos)) speed = Math.max(speed - 1, 0);
    const pos = veh.pos + speed;
    if (pos >= SEGMENT) exited = true;
    else out.push({ pos, speed });
  });
  return { vehicles: out, exited };
}

/** Entry rule: front at cell 1 when no front is in cells 0..3; returns whether it entered. */
export function trafficEnterReference(vehicles: Vehicle[]): boolean {
  const last = vehicles[vehicles.length - 1];
  if (last && last.pos <= TRAFFIC_LANE.spacing) return false;
  const leaderGap = last ? last.pos - 1 - TRAFFIC_LANE.spacing : Infinity;
  vehicles.push({ pos: 1, speed: Math.min(TRAFFIC_LANE.vmax, leaderGap) });
  return true;
}

/** Observation (40 values) and reward of an intersection from its 4 lanes and its signal. */
export function trafficObserveReference(
  lanes: readonly (readonly Vehicle[])[],
  signal: TrafficSignal,
): { obs: number[]; reward: number; entranceBits: number[] } {
  const obs = new Array<number>(TRAFFIC_OBS_DIM).fill(0);
  const entranceBits = [0, 0, 0, 0];
  let count = 0, speeds = 0;
  lanes.forEach((lane, a) => {
    for (const veh of lane) {
      if (veh.pos >= TRAFFIC_LANE.cells) continue;
      const bin = Math.floor((STOP - veh.pos) / 4);
      if (bin < 9) obs[a * 9 + bin] = 1;
      else entranceBits[a] = 1;
      count++;
      speeds += veh.speed;
    }
  });
  // [E–W green, E–W yellow, N–S yellow, N–S green]; the yellow shown is the previous green's.
  const hot = signal.yellow ? (signal.dir === 1 ? 2 : 1) : (signal.dir === 0 ? 3 : 0);
  obs[36 + hot] = 1;
  const reward = count === 0 ? 0 : f32(speeds / (TRAFFIC_LANE.vmax * count));
  return { obs, reward, entranceBits };
}

/** Lane id feeding approach `a` of junction `k` (null at the boundary). Row 0 is the south row. */
export function trafficUpstreamLane(n: number, k: number, a: number): number | null {
  const row = Math.floor(k / n), col = k % n;
  const [dr, dc] = [[0, -1], [-1, 0], [0, 1], [1, 0]][a]; // W comes from the west, S from the south …
  const r = row + dr, c = col + dc;
  if (r < 0 || r >= n || c < 0 || c >= n) return null;
  return (r * n + c) * 4 + a;
}

/** Outputs of one step of every env (agent-major arrays, like the GPU buffers). */
export interface TrafficStepOutput {
  /** [A][n][40]: observation after the step (of the new episode where one started). */
  obs: number[][][];
  /** [A][n][40]: final observation where the episode ended, else untouched (null). */
  terminalObs: (number[] | null)[][];
  reward: number[][];
  terminated: number[];
  truncated: number[];
  episodeStep: number[];
  /** [A][n][4]: a vehicle entered approach W, S, E, N at this step (before any reset). */
  sources: number[][][];
  /** [A][n][4]: entries of the reset step (0 where no reset). */
  resetSources: number[][][];
}

function emptyOutput(agents: number, numEnvs: number): TrafficStepOutput {
  const grid = <T>(f: () => T) =>
    Array.from({ length: agents }, () => Array.from({ length: numEnvs }, f));
  return {
    obs: grid(() => new Array<number>(TRAFFIC_OBS_DIM).fill(0)),
    terminalObs: grid(() => null),
    reward: grid(() => 0),
    terminated: new Array<number>(numEnvs).fill(0),
    truncated: new Array<number>(numEnvs).fill(0),
    episodeStep: new Array<number>(numEnvs).fill(0),
    sources: grid(() => [0, 0, 0, 0]),
    resetSources: grid(() => [0, 0, 0, 0]),
  };
}

const FRESH_SIGNAL: TrafficSignal = Object.freeze({ dir: 0, yellow: 0, timer: 0 });

/** The signal an episode starts with: fresh or persisted, then one step without action. */
function signalAfterReset(cfg: TrafficConfig, s: TrafficSignal): TrafficSignal {
  return trafficSignalReference(cfg.persistSignals ? s : FRESH_SIGNAL, 0);
}

/** The global simulator, `numEnvs` envs stepped in lock-step. */
export class TrafficGlobalReference {
  readonly cfg: TrafficConfig;
  readonly numEnvs: number;
  readonly seed: number;
  states: TrafficGsState[] = [];

  constructor(cfg: TrafficConfig, numEnvs: number, seed: number) {
    this.cfg = cfg;
    this.numEnvs = numEnvs;
    this.seed = seed >>> 0;
  }

  get numAgents(): number {
    return this.cfg.gridSize * this.cfg.gridSize;
  }

  /** Episode 0 of every env; returns the outputs (reward 0, flags 0). */
  reset(): TrafficStepOutput {
    const out = emptyOutput(this.numAgents, this.numEnvs);
    this.states = [];
    for (let e = 0; e < this.numEnvs; e++) {
      const s: TrafficGsState = {
        junctions: Array.from({ length: this.numAgents }, () => ({
          signal: { ...FRESH_SIGNAL },
          t: 0,
          episode: 0,
          globalStep: 0,
        })),
        lanes: [],
        backlog: [],
      };
      this.states.push(s);
      this.#startEpisode(e, 0, out);
    }
    return out;
  }

  /** One step of every env; `actions[agent][env]`. */
  step(actions: readonly (readonly number[])[]): TrafficStepOutput {
    const out = emptyOutput(this.numAgents, this.numEnvs);
    const cfg = this.cfg, n = cfg.gridSize, A = this.numAgents;
    for (let e = 0; e < this.numEnvs; e++) {
      const s = this.states[e];
      const g = s.junctions[0].globalStep;
      for (let k = 0; k < A; k++) {
        s.junctions[k].signal = trafficSignalReference(s.junctions[k].signal, actions[k][e]);
      }
      const exited = s.lanes.map((lane, l) => {
        const green = greenFor(s.junctions[l >> 2].signal, l & 3);
        const slow = (p: number) =>
          rngUnit(rngU32(this.seed, RNG_PURPOSE.envStep, e, l, g, 1 + p)) < f32(cfg.pSlow);
        const moved = trafficMotionReference(lane, { green, slow });
        s.lanes[l] = moved.vehicles;
        return moved.exited;
      });
      for (let l = 0; l < 4 * A; l++) {
        const up = trafficUpstreamLane(n, l >> 2, l & 3);
        const arrival = up === null
          ? rngUnit(rngU32(this.seed, RNG_PURPOSE.envStep, e, l, g, 0)) < f32(cfg.pArrive)
          : exited[up];
        if (arrival) s.backlog[l]++;
        if (s.backlog[l] > 0 && trafficEnterReference(s.lanes[l])) {
          s.backlog[l]--;
          out.sources[l >> 2][e][l & 3] = 1;
        }
      }
      const t = s.junctions[0].t + 1;
      for (let k = 0; k < A; k++) {
        const j = s.junctions[k];
        j.t = t;
        j.globalStep = g + 1;
        const o = trafficObserveReference(s.lanes.slice(4 * k, 4 * k + 4), j.signal);
        out.obs[k][e] = o.obs;
        out.reward[k][e] = o.reward;
      }
      const done = t >= cfg.maxSteps;
      out.truncated[e] = done ? 1 : 0;
      out.episodeStep[e] = done ? 0 : t;
      if (done) {
        for (let k = 0; k < A; k++) out.terminalObs[k][e] = out.obs[k][e];
        this.#startEpisode(e, s.junctions[0].episode + 1, out);
      }
    }
    return out;
  }

  /** Clears env e, sets its signals and runs the reset's arrival step (spec B7). */
  #startEpisode(e: number, episode: number, out: TrafficStepOutput): void {
    const s = this.states[e], cfg = this.cfg, A = this.numAgents;
    s.lanes = Array.from({ length: 4 * A }, () => []);
    s.backlog = new Array<number>(4 * A).fill(0);
    for (const j of s.junctions) {
      j.signal = signalAfterReset(cfg, j.signal);
      j.t = 0;
      j.episode = episode;
    }
    for (let l = 0; l < 4 * A; l++) {
      if (trafficUpstreamLane(cfg.gridSize, l >> 2, l & 3) !== null) continue;
      const h = rngU32(this.seed, RNG_PURPOSE.envReset, e, l, episode, 0);
      if (rngUnit(h) < f32(cfg.pArrive) && trafficEnterReference(s.lanes[l])) {
        out.resetSources[l >> 2][e][l & 3] = 1;
      }
    }
    for (let k = 0; k < A; k++) {
      out.obs[k][e] =
        trafficObserveReference(s.lanes.slice(4 * k, 4 * k + 4), s.junctions[k].signal)
          .obs;
    }
  }
}

/**
 * The local simulators: region (agent k, env e) is intersection k alone; vehicles enter only where
 * the caller's sources say so (dropped if the entrance is occupied). Slowdown draws use the GS's
 * keys (env e, lane 4k + approach), so replaying a GS rollout's sources reproduces it exactly.
 */
export class TrafficLocalReference {
  readonly cfg: TrafficConfig;
  readonly numAgents: number;
  readonly numEnvs: number;
  readonly seed: number;
  /** [agent][env]. */
  regions: TrafficLsState[][] = [];

  constructor(cfg: TrafficConfig, numAgents: number, numEnvs: number, seed: number) {
    this.cfg = cfg;
    this.numAgents = numAgents;
    this.numEnvs = numEnvs;
    this.seed = seed >>> 0;
  }

  /** Episode 0 of every region; `resetSources[agent][env][approach]` enter at once. */
  reset(resetSources: readonly (readonly (readonly number[])[])[]): TrafficStepOutput {
    const out = emptyOutput(this.numAgents, this.numEnvs);
    this.regions = Array.from(
      { length: this.numAgents },
      (_, k) =>
        Array.from({ length: this.numEnvs }, (_, e) => {
          const r: TrafficLsState = {
            junction: { signal: { ...FRESH_SIGNAL }, t: 0, episode: 0, globalStep: 0 },
            lanes: [],
          };
          out.obs[k][e] = this.#startEpisode(r, 0, resetSources[k][e]);
          return r;
        }),
    );
    return out;
  }

  /**
   * One step of every region: `actions[agent][env]`, `sources[agent][env][approach]` (entries after
   * motion), `resetSources` (entries of the reset step where an episode ends).
   */
  step(
    actions: readonly (readonly number[])[],
    sources: readonly (readonly (readonly number[])[])[],
    resetSources: readonly (readonly (readonly number[])[])[],
  ): TrafficStepOutput {
    const out = emptyOutput(this.numAgents, this.numEnvs);
    this.regions.forEach((row, k) =>
      row.forEach((r, e) => {
        const j = r.junction, g = j.globalStep;
        j.signal = trafficSignalReference(j.signal, actions[k][e]);
        r.lanes = r.lanes.map((lane, a) => {
          const l = 4 * k + a;
          const slow = (p: number) =>
            rngUnit(rngU32(this.seed, RNG_PURPOSE.envStep, e, l, g, 1 + p)) < f32(this.cfg.pSlow);
          const moved =
            trafficMotionReference(lane, { green: greenFor(j.signal, a), slow }).vehicles;
          if (sources[k][e][a]) trafficEnterReference(moved);
          return moved;
        });
        j.t++;
        j.globalStep = g + 1;
        const o = trafficObserveReference(r.lanes, j.signal);
        out.obs[k][e] = o.obs;
        out.reward[k][e] = o.reward;
        const done = j.t >= this.cfg.maxSteps;
        if (k === 0) {
          out.truncated[e] = done ? 1 : 0;
          out.episodeStep[e] = done ? 0 : j.t;
        }
        if (done) {
          out.terminalObs[k][e] = o.obs;
          out.obs[k][e] = this.#startEpisode(r, j.episode + 1, resetSources[k][e]);
        }
      })
    );
    return out;
  }

  #startEpisode(r: TrafficLsState, episode: number, enter: readonly number[]): number[] {
    r.lanes = [[], [], [], []];
    r.junction.signal = signalAfterReset(this.cfg, r.junction.signal);
    r.junction.t = 0;
    r.junction.episode = episode;
    r.lanes.forEach((lane, a) => {
      if (enter[a]) trafficEnterReference(lane);
    });
    return trafficObserveReference(r.lanes, r.junction.signal).obs;
  }
}

/**
 * Influence sources drawn from predictor probabilities like the local simulator's sampler:
 * `probs[agent][env][approach]`, region step counters `globalStep[agent][env]`; returns
 * `{ sources, resetSources }` (draw 0 and 1 of stream (seed, influence, env, 4·agent + approach)).
 */
export function trafficSampleSourcesReference(
  seed: number,
  input: {
    probs: readonly (readonly (readonly number[])[])[];
    globalStep: readonly (readonly number[])[];
  },
): { sources: number[][][]; resetSources: number[][][] } {
  const { probs, globalStep } = input;
  const draw = (k: number, e: number, a: number, d: number) =>
    rngUnit(rngU32(seed, RNG_PURPOSE.influence, e, 4 * k + a, globalStep[k][e], d)) <
        f32(probs[k][e][a])
      ? 1
      : 0;
  const bits = (d: number) =>
    probs.map((row, k) => row.map((p, e) => p.map((_, a) => draw(k, e, a, d))));
  return { sources: bits(0), resetSources: bits(1) };
}
