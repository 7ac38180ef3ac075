// Helpers of the warehouse tests: the task configs they use, the CPU reference vectorised by
// envs/reference_vec.ts with the GPU buffers' layouts, random states and actions, and return statistics.
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
  type WarehouseLocalStepResult,
  warehouseObsOf,
  warehouseObsReference,
  warehouseResetReference,
  warehouseScanCells,
  warehouseStepReference,
  type WarehouseStepResult,
} from "../../../envs/warehouse/reference.ts";
import {
  type ReferenceStepResult,
  ReferenceVec,
  type SingleEnvReference,
} from "../../../envs/reference_vec.ts";

/** 2 × 2 learners, ring variant A (oldest item first). */
export const W4 = parseWarehouseTask("warehouse-4")!;
/** 2 × 2 learners, ring variant B (closest item first). */
export const W4B = parseWarehouseTask("warehouse-4-closest")!;
/** 5 × 5 learners. */
export const W25 = parseWarehouseTask("warehouse-25")!;
/** 10 × 10 learners. */
export const W100 = parseWarehouseTask("warehouse-100")!;

/** The GS reference as the hooks of a {@linkcode ReferenceVec} (its step auto-resets). */
function gsReference(
  cfg: WarehouseConfig,
  seed: number,
): SingleEnvReference<WarehouseState, GsStep> {
  return {
    numAgents: cfg.learningPerSide ** 2,
    obsDim: WAREHOUSE_OBS,
    reset: (env) => warehouseResetReference(cfg, { seed, env }, 0),
    step(env, state, actions) {
      const r = warehouseStepReference(cfg, state, actions, { seed, env });
      return { ...r, terminated: false, finalObs: r.truncated ? r.obs : undefined };
    },
    observe: (state) => warehouseObsReference(cfg, state),
    episodeStep: (state) => state.step,
  };
}

type GsStep = WarehouseStepResult & ReferenceStepResult<WarehouseState>;

/**
 * The GS reference over numEnvs envs, with the GPU buffers' layouts (`terminated` stays 0:
 * warehouse episodes end only by the time limit), plus dset and influence of the last step.
 */
export class RefGs extends ReferenceVec<WarehouseState, Float32Array, GsStep> {
  readonly cfg: WarehouseConfig;
  readonly seed: number;
  readonly dset: Float32Array;
  readonly influence: Uint32Array;

  constructor(cfg: WarehouseConfig, numEnvs: number, seed: number) {
    super(gsReference(cfg, seed), { numEnvs, obsType: Float32Array });
    this.cfg = cfg;
    this.seed = seed;
    this.dset = new Float32Array(this.numAgents * numEnvs * WAREHOUSE_OBS);
    this.influence = new Uint32Array(this.numAgents * numEnvs * WAREHOUSE_SOURCES);
  }

  /** Replaces the states (obs not rewritten, like `WarehouseEnv.writeStates`). */
  override setStates(states: readonly WarehouseState[]): void {
    this.states = structuredClone(states) as WarehouseState[];
  }

  /** Agent-major actions [numAgents, numEnvs]. */
  override step(actions: ArrayLike<number>): void {
    super.step(actions);
    const n = this.numEnvs;
    this.last.forEach((r, e) => {
      r!.dset.forEach((o, a) => this.dset.set(o, (a * n + e) * WAREHOUSE_OBS));
      r!.influence.forEach((cls, a) => this.influence.set(cls, (a * n + e) * WAREHOUSE_SOURCES));
    });
  }
}

/**
 * The LS reference over [numAgents, numEnvs] lanes, with the GPU buffers' layouts: a
 * {@linkcode ReferenceVec} over the lanes (single-agent envs, lane = agent · numEnvs + env) whose
 * per-env flags are those of the lanes of agent 0, as the GPU writes them.
 */
export class RefLs {
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
  readonly #lanes: ReferenceVec<WarehouseLocalState, Float32Array, LsStep, ArrayLike<number>>;

  constructor(cfg: WarehouseConfig, numEnvs: number, seed: number) {
    this.cfg = cfg;
    this.numEnvs = numEnvs;
    this.numAgents = cfg.learningPerSide ** 2;
    this.seed = seed;
    const keys = (lane: number) => ({
      seed,
      env: lane % numEnvs,
      agent: Math.floor(lane / numEnvs),
    });
    this.#lanes = new ReferenceVec({
      numAgents: 1,
      obsDim: WAREHOUSE_OBS,
      reset: (lane) => warehouseLocalResetReference(cfg, keys(lane), 0),
      step(lane, state, actions, influence) {
        const inf = Array.from({ length: 4 }, (_, k) => influence[lane * 4 + k]);
        const r = warehouseLocalStepReference(cfg, state, actions[0], inf, keys(lane));
        return {
          ...r,
          rewards: [r.reward],
          terminated: false,
          finalObs: r.truncated ? [r.obs] : undefined,
        };
      },
      observe: (s) => [warehouseObsOf(s.pos, s.items)],
      episodeStep: (s) => s.step,
    }, { numEnvs: this.numAgents * numEnvs, obsType: Float32Array });
    const v = this.#lanes;
    this.obs = v.obs;
    this.terminalObs = v.terminalObs;
    this.reward = v.reward;
    this.terminated = v.terminated.subarray(0, numEnvs);
    this.truncated = v.truncated.subarray(0, numEnvs);
    this.episodeStep = v.episodeStep.subarray(0, numEnvs);
  }

  /** The lanes' states, lane = agent · numEnvs + env. */
  get lanes(): WarehouseLocalState[] {
    return this.#lanes.states;
  }

  /** Replaces the lanes (obs not rewritten, like `WarehouseLocalEnv.writeStates`). */
  setStates(lanes: WarehouseLocalState[]): void {
    this.#lanes.states = structuredClone(lanes);
  }

  /** Actions [numAgents, numEnvs], influence [numAgents, numEnvs, 4]. */
  step(actions: ArrayLike<number>, influence: ArrayLike<number>): void {
    this.#lanes.step(actions, influence);
  }
}

type LsStep = WarehouseLocalStepResult & ReferenceStepResult<WarehouseLocalState>;

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
