/**
 * Traffic grid task parameters and GPU state layout (spec `docs/envs/traffic.md` Part B): default rules,
 * the spec and registry-name parse of `traffic-<N²>` tasks, packing of the CPU reference's states
 * (`envs/traffic/reference.ts`) into the GPU words and back, and text pictures. Used by the global
 * simulator (`envs/traffic/env.ts`) and the local simulators (`envs/traffic/local.ts`).
 *
 * Layout: a lane segment is 44 u32 cells (lane cells 0..39 from the entrance, then the 4 junction-box
 * cells), 0 = empty and speed + 1 at a vehicle front; a junction record is 8 u32 words.
 *
 * @module
 */
import type { EnvSpec } from "../env.ts";
import {
  TRAFFIC_LANE,
  TRAFFIC_OBS_DIM,
  type TrafficConfig,
  type TrafficGsState,
  type TrafficJunction,
  type Vehicle,
} from "./reference.ts";

/** Cells per lane segment (lane + junction box) and words per junction record. */
export const TRAFFIC_SEGMENT = TRAFFIC_LANE.cells + TRAFFIC_LANE.box;
/**
 * Words per junction record: dir, yellow, timer, episode step, episode, global step, 2 unused by
 * the state (the global simulator keeps the action of the current step in word 6 between its
 * motion and observe dispatches; packing writes 0 there and unpacking ignores it).
 */
export const TRAFFIC_JUNCTION_WORDS = 8;

/** Default rules (spec B10); `gridSize` comes from the task name. */
export const TRAFFIC_DEFAULTS: Readonly<Omit<TrafficConfig, "gridSize">> = Object.freeze({
  maxSteps: 300,
  pSlow: 0.1,
  pArrive: 0.1,
  persistSignals: false,
});

/** Packed GPU state of the global simulator. */
export interface TrafficGsWords {
  /** [numEnvs, 4N², 44]: 0 empty, speed + 1 at a vehicle front. */
  cells: Uint32Array;
  /** [numEnvs, 4N²]. */
  backlog: Uint32Array;
  /** [numEnvs, N², 8]. */
  junctions: Uint32Array;
}

/** Packs reference states into the GPU layout. */
export function packTrafficGs(
  cfg: TrafficConfig,
  states: readonly TrafficGsState[],
): TrafficGsWords {
  const A = cfg.gridSize * cfg.gridSize, L = 4 * A;
  const cells = new Uint32Array(states.length * L * TRAFFIC_SEGMENT);
  const backlog = new Uint32Array(states.length * L);
  const junctions = new Uint32Array(states.length * A * TRAFFIC_JUNCTION_WORDS);
  states.forEach((s, e) => {
    s.lanes.forEach((lane, l) => packLane(lane, segment(cells, e * L + l)));
    backlog.set(s.backlog, e * L);
    s.junctions.forEach((j, k) => packJunction(j, record(junctions, e * A + k)));
  });
  return { cells, backlog, junctions };
}

/** Unpacks GPU words into reference states. */
export function unpackTrafficGs(cfg: TrafficConfig, words: TrafficGsWords): TrafficGsState[] {
  const A = cfg.gridSize * cfg.gridSize, L = 4 * A;
  const n = words.backlog.length / L;
  return Array.from({ length: n }, (_, e) => ({
    junctions: Array.from(
      { length: A },
      (_, k) => unpackJunction(record(words.junctions, e * A + k)),
    ),
    lanes: Array.from(
      { length: L },
      (_, l) => unpackLane(segment(words.cells, e * L + l)),
    ),
    backlog: Array.from(words.backlog.subarray(e * L, (e + 1) * L)),
  }));
}

/** The 44 cells of lane segment `index` in a cells array (a view). */
export function segment(cells: Uint32Array, index: number): Uint32Array {
  return cells.subarray(index * TRAFFIC_SEGMENT, (index + 1) * TRAFFIC_SEGMENT);
}

/** The 8 words of junction record `index` in a junctions array (a view). */
export function record(words: Uint32Array, index: number): Uint32Array {
  return words.subarray(index * TRAFFIC_JUNCTION_WORDS, (index + 1) * TRAFFIC_JUNCTION_WORDS);
}

/** Writes a lane's vehicles into a segment's 44 cells (which must be zero). */
export function packLane(lane: readonly Vehicle[], cells: Uint32Array): void {
  for (const v of lane) cells[v.pos] = v.speed + 1;
}

/** Reads a lane's vehicles (front-most first) from a segment's 44 cells. */
export function unpackLane(cells: Uint32Array): Vehicle[] {
  const out: Vehicle[] = [];
  for (let p = TRAFFIC_SEGMENT - 1; p >= 0; p--) {
    const c = cells[p];
    if (c !== 0) out.push({ pos: p, speed: c - 1 });
  }
  return out;
}

/** Writes a junction's 8-word record. */
export function packJunction(j: TrafficJunction, words: Uint32Array): void {
  words.set([j.signal.dir, j.signal.yellow, j.signal.timer, j.t, j.episode, j.globalStep, 0, 0]);
}

/** Reads a junction's 8-word record. */
export function unpackJunction(words: Uint32Array): TrafficJunction {
  return {
    signal: { dir: words[0], yellow: words[1], timer: words[2] },
    t: words[3],
    episode: words[4],
    globalStep: words[5],
  };
}

/** A text picture of one intersection's 4 lanes: `.` empty, digits = speed, `|` stop line. */
export function renderJunction(lanes: readonly (readonly Vehicle[])[], label: string): string {
  const names = ["W", "S", "E", "N"];
  return [
    label,
    ...lanes.map((lane, a) => {
      const row = new Array<string>(TRAFFIC_SEGMENT).fill(".");
      for (const v of lane) row[v.pos] = String(v.speed);
      return `  ${names[a]} ${row.slice(0, TRAFFIC_LANE.cells).join("")}|${
        row.slice(TRAFFIC_LANE.cells).join("")
      }`;
    }),
  ].join("\n");
}

/** Throws when a config or env count is outside what the kernels handle. */
export function checkTrafficConfig(spec: EnvSpec, numEnvs: number): void {
  const name = spec.name, cfg = spec.config as unknown as TrafficConfig;
  if (!Number.isInteger(cfg.gridSize) || cfg.gridSize < 1 || cfg.gridSize > 32) {
    throw new RangeError(
      `Cannot build traffic env "${name}": grid size is ${cfg.gridSize}, want 1..32`,
    );
  }
  if (!Number.isInteger(cfg.maxSteps) || cfg.maxSteps < 1) {
    throw new RangeError(`Cannot build traffic env "${name}": maxSteps is ${cfg.maxSteps}`);
  }
  for (const [key, p] of [["pSlow", cfg.pSlow], ["pArrive", cfg.pArrive]] as const) {
    if (!(p >= 0 && p <= 1)) {
      throw new RangeError(`Cannot build traffic env "${name}": ${key} is ${p}, want [0, 1]`);
    }
  }
  if (!Number.isInteger(numEnvs) || numEnvs < 1) {
    throw new RangeError(`Cannot build traffic env "${name}": numEnvs is ${numEnvs}`);
  }
}

/**
 * The spec of a traffic task with `gridSize` intersections per side: default rules (spec B10)
 * unless `options` overrides them, name `traffic-<N²>` unless `options.name` is given.
 */
export function trafficSpec(
  gridSize: number,
  options: Partial<Omit<TrafficConfig, "gridSize">> & { name?: string } = {},
): EnvSpec {
  const { name = `traffic-${gridSize * gridSize}`, ...overrides } = options;
  const config: TrafficConfig = { ...TRAFFIC_DEFAULTS, ...overrides, gridSize };
  return Object.freeze({
    name,
    family: "traffic",
    numAgents: gridSize * gridSize,
    obsShape: [TRAFFIC_OBS_DIM],
    obsDType: "f32",
    numActions: 2,
    maxSteps: config.maxSteps,
    config: Object.freeze({ ...config }),
  });
}

/** Grid side for a task name `traffic-<agents>` (agents a square), or null. */
export function parseTrafficAgents(name: string, prefix: string): number | null {
  const m = new RegExp(`^${prefix}-(\\d+)$`).exec(name);
  if (!m) return null;
  const side = Math.round(Math.sqrt(Number(m[1])));
  return side >= 1 && side * side === Number(m[1]) ? side : null;
}
