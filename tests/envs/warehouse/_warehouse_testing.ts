// Helpers of the warehouse tests: the task configs they use, vectorised wrappers of the CPU
// reference with the GPU buffers' layouts, random states and actions, and return statistics.
import { HostRng } from "../../../engine/rng.ts";
import {
  parseWarehouseTask,
  WAREHOUSE_OBS,
  WAREHOUSE_SLOT_CELLS,
  WAREHOUSE_SOURCES,
  type WarehouseConfig,
  type WarehouseItem,
  type WarehouseLocalState,
  type WarehouseScripted,
  type WarehouseState,
} from "../../../envs/warehouse/layout.ts";
import {
  warehouseBaselineReference,
  warehouseLocalResetReference,
  warehouseLocalStepReference,
  warehouseObsOf,
  warehouseObsReference,
  warehouseResetReference,
  warehouseScanCells,
  warehouseStepReference,
} from "../../../envs/warehouse/reference.ts";

/** 2 × 2 learners, ring variant A (oldest item first). */
export const W4 = parseWarehouseTask("warehouse-4")!;
/** 2 × 2 learners, ring variant B (closest item first). */
export const W4B = parseWarehouseTask("warehouse-4-closest")!;
/** 5 × 5 learners. */
export const W25 = parseWarehouseTask("warehouse-25")!;
/** 10 × 10 learners. */
export const W100 = parseWarehouseTask("warehouse-100")!;

/**
 * The step outputs of a reference over [numAgents, numEnvs] learners, in the GPU buffers' layouts
 * (`terminated` stays 0: warehouse episodes end only by the time limit).
 */
class RefOutputs {
  readonly cfg: WarehouseConfig;
  readonly numEnvs: number;
  readonly numAgents: number;
  readonly seed: number;
  readonly obs: Float32Array;
  readonly terminalObs: Float32Array;
  readonly reward: Float32Array;
  readonly terminated: Uint32Array;
  readonly truncated: Uint32Array;
  readonly episodeStep: Uint32Array;

  constructor(cfg: WarehouseConfig, numEnvs: number, seed: number) {
    this.cfg = cfg;
    this.numEnvs = numEnvs;
    this.numAgents = cfg.learningPerSide ** 2;
    this.seed = seed;
    const L = this.numAgents * numEnvs;
    this.obs = new Float32Array(L * WAREHOUSE_OBS);
    this.terminalObs = new Float32Array(L * WAREHOUSE_OBS);
    this.reward = new Float32Array(L);
    this.terminated = new Uint32Array(numEnvs);
    this.truncated = new Uint32Array(numEnvs);
    this.episodeStep = new Uint32Array(numEnvs);
  }
}

/** The GS reference over numEnvs envs, with the GPU buffers' layouts. */
export class RefGs extends RefOutputs {
  states: WarehouseState[];
  readonly dset: Float32Array;
  readonly influence: Uint32Array;

  constructor(cfg: WarehouseConfig, numEnvs: number, seed: number) {
    super(cfg, numEnvs, seed);
    const A = this.numAgents;
    this.dset = new Float32Array(A * numEnvs * WAREHOUSE_OBS);
    this.influence = new Uint32Array(A * numEnvs * WAREHOUSE_SOURCES);
    this.states = Array.from(
      { length: numEnvs },
      (_, env) => warehouseResetReference(cfg, { seed, env }, 0),
    );
    this.states.forEach((s, e) => this.#put(this.obs, e, warehouseObsReference(cfg, s)));
  }

  #put(dst: Float32Array, e: number, rows: number[][]): void {
    rows.forEach((o, a) => dst.set(o, (a * this.numEnvs + e) * WAREHOUSE_OBS));
  }

  /** Replaces the states (obs not rewritten, like `WarehouseEnv.writeStates`). */
  setStates(states: WarehouseState[]): void {
    this.states = structuredClone(states);
  }

  /** Agent-major actions [numAgents, numEnvs]. */
  step(actions: ArrayLike<number>): void {
    const n = this.numEnvs, A = this.numAgents;
    for (let e = 0; e < n; e++) {
      const acts = Array.from({ length: A }, (_, a) => actions[a * n + e]);
      const r = warehouseStepReference(this.cfg, this.states[e], acts, { seed: this.seed, env: e });
      this.states[e] = r.state;
      this.#put(this.dset, e, r.dset);
      r.rewards.forEach((x, a) => this.reward[a * n + e] = x);
      r.influence.forEach((cls, a) => this.influence.set(cls, (a * n + e) * WAREHOUSE_SOURCES));
      this.truncated[e] = r.truncated ? 1 : 0;
      this.terminated[e] = 0;
      this.episodeStep[e] = r.state.step;
      if (r.truncated) this.#put(this.terminalObs, e, r.obs);
      this.#put(this.obs, e, warehouseObsReference(this.cfg, r.state));
    }
  }
}

/** The LS reference over [numAgents, numEnvs] lanes, with the GPU buffers' layouts. */
export class RefLs extends RefOutputs {
  lanes: WarehouseLocalState[];

  constructor(cfg: WarehouseConfig, numEnvs: number, seed: number) {
    super(cfg, numEnvs, seed);
    const L = this.numAgents * numEnvs;
    this.lanes = Array.from(
      { length: L },
      (_, l) => warehouseLocalResetReference(cfg, this.#keys(l), 0),
    );
    this.lanes.forEach((s, l) => this.obs.set(warehouseObsOf(s.pos, s.items), l * WAREHOUSE_OBS));
  }

  #keys(lane: number) {
    return { seed: this.seed, env: lane % this.numEnvs, agent: Math.floor(lane / this.numEnvs) };
  }

  setStates(lanes: WarehouseLocalState[]): void {
    this.lanes = structuredClone(lanes);
  }

  /** Actions [numAgents, numEnvs], influence [numAgents, numEnvs, 4]. */
  step(actions: ArrayLike<number>, influence: ArrayLike<number>): void {
    this.lanes.forEach((s, l) => {
      const inf = Array.from({ length: 4 }, (_, k) => influence[l * 4 + k]);
      const r = warehouseLocalStepReference(this.cfg, s, actions[l], inf, this.#keys(l));
      this.lanes[l] = r.state;
      this.reward[l] = r.reward;
      const e = l % this.numEnvs;
      this.truncated[e] = r.truncated ? 1 : 0;
      this.episodeStep[e] = r.state.step;
      if (r.truncated) this.terminalObs.set(r.obs, l * WAREHOUSE_OBS);
      this.obs.set(warehouseObsOf(r.state.pos, r.state.items), l * WAREHOUSE_OBS);
    });
  }
}

const NON_CORNER = Array.from({ length: 25 }, (_, c) => c).filter((c) =>
  !((Math.floor(c / 5) % 4 === 0) && (c % 5) % 4 === 0)
);

/** Items in creation order (oldest first, then spawn-scan order) from per-cell ages. */
function canonical(items: (WarehouseItem & { s: number })[]): WarehouseItem[] {
  items.sort((x, y) => y.age - x.age || x.s - y.s);
  return items.map(({ row, col, age }) => ({ row, col, age }));
}

/**
 * A random GS state: robots anywhere reachable, remembered targets, ~30 % of shelves holding
 * items of ages 0..40 (clusters of equal ages), half of the envs 1..3 steps before the time limit.
 */
export function randomWarehouseState(cfg: WarehouseConfig, rng: HostRng): WarehouseState {
  const k = cfg.robotsPerSide;
  const robots = Array.from({ length: k * k }, (_, id) => {
    const cell = NON_CORNER[rng.below(21)];
    return {
      row: 4 * Math.floor(id / k) + Math.floor(cell / 5),
      col: 4 * (id % k) + (cell % 5),
    };
  });
  const targets = robots.map(() => rng.unit() < 0.4 ? -1 : WAREHOUSE_SLOT_CELLS[rng.below(12)]);
  const items: (WarehouseItem & { s: number })[] = [];
  warehouseScanCells(cfg).forEach((c, s) => {
    if (rng.unit() < 0.3) items.push({ ...c, age: rng.below(8) * (1 + rng.below(5)), s });
  });
  return {
    step: rng.unit() < 0.5 ? cfg.maxSteps - 1 - rng.below(3) : rng.below(cfg.maxSteps),
    episode: rng.below(5),
    counter: 100 + rng.below(1000),
    robots,
    targets,
    items: canonical(items),
  };
}

/** A random LS lane (same rules as {@linkcode randomWarehouseState}). */
export function randomWarehouseLocalState(cfg: WarehouseConfig, rng: HostRng): WarehouseLocalState {
  const cell = NON_CORNER[rng.below(21)];
  const items: (WarehouseItem & { s: number })[] = [];
  WAREHOUSE_SLOT_CELLS.forEach((c, s) => {
    if (rng.unit() < 0.35) {
      items.push({ row: Math.floor(c / 5), col: c % 5, age: rng.below(8) * (1 + rng.below(5)), s });
    }
  });
  return {
    step: rng.unit() < 0.5 ? cfg.maxSteps - 1 - rng.below(3) : rng.below(cfg.maxSteps),
    episode: rng.below(5),
    counter: 100 + rng.below(1000),
    pos: { row: Math.floor(cell / 5), col: cell % 5 },
    items: canonical(items),
  };
}

/** n uniform actions 0..3, with 5 % invalid actions 4..6 (ignored by the rules). */
export function randomWarehouseActions(rng: HostRng, n: number): Uint32Array {
  return Uint32Array.from({ length: n }, () => rng.unit() < 0.05 ? 4 + rng.below(3) : rng.below(4));
}

/**
 * Mean and standard error of the per-learner return of one 100-step episode per env in the CPU
 * reference, learners acting uniformly at random or by a hand-coded variant.
 */
export function runStatistics(
  cfg: WarehouseConfig,
  policy: "random" | WarehouseScripted,
  options: { numEnvs: number; seed: number },
): { mean: number; se: number; episodes: number } {
  const A = cfg.learningPerSide ** 2, returns: number[] = [];
  const rng = new HostRng(options.seed, 77);
  for (let env = 0; env < options.numEnvs; env++) {
    const keys = { seed: options.seed, env };
    let s = warehouseResetReference(cfg, keys, 0);
    const targets = new Array<number>(A).fill(-1);
    const ret = new Array<number>(A).fill(0);
    for (let t = 0; t < cfg.maxSteps; t++) {
      const acts = policy === "random"
        ? Array.from({ length: A }, () => rng.below(4))
        : warehouseBaselineReference(cfg, s, policy, targets, keys);
      const r = warehouseStepReference(cfg, s, acts, keys);
      r.rewards.forEach((x, a) => ret[a] += x);
      s = r.state;
    }
    returns.push(...ret);
  }
  const mean = returns.reduce((x, y) => x + y, 0) / returns.length;
  const v = returns.reduce((x, y) => x + (y - mean) ** 2, 0) / (returns.length - 1);
  return { mean, se: Math.sqrt(v / returns.length), episodes: options.numEnvs };
}
