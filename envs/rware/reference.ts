/**
 * CPU reference of RWARE (spec `docs/envs/rware.md`), written from the spec with plain
 * data structures (cell maps, an explicit move graph with union–find components), independent of
 * the WGSL kernel. Resets and request refills draw from the counter-based RNG (`engine/rng.ts`)
 * with the same keys as the kernel, so both can be compared bit for bit; refills can also be
 * injected (golden replays).
 *
 * Draw keys (seed = the env's seed, a = env index):
 * - reset of episode k: agent i's cell `rngU32(seed, envReset, a, i, k, 0)` → the r-th free cell
 *   in row-major order, r < H·W − i; its direction draw 1 → r < 4; request slot j
 *   `rngU32(seed, envReset, a, n + j, k, 0)` → the r-th shelf id not yet requested, r < S − j.
 * - refill at goal g in a step: `rngU32(seed, envStep, a, g, totalSteps, 0)` → the r-th shelf id
 *   not in the queue, r < S − Q (`totalSteps` before the step).
 *
 * @module
 */
import { RNG_PURPOSE, rngBelow, rngU32 } from "../../engine/rng.ts";
import {
  cloneRwareState,
  RWARE_ACTION,
  RWARE_DIR,
  type RwareConfig,
  type RwareLayout,
  rwareLayout,
  rwareObsDim,
  type RwareState,
} from "./layout.ts";
import { ReferenceVec, type SingleEnvReference } from "../reference_vec.ts";

/** Options of {@linkcode rwareStepReference}. */
export interface RwareStepOptions {
  /** Seed and env index of the in-step draws (default 0, 0). */
  readonly seed?: number;
  readonly env?: number;
  /**
   * New shelf ids for this step's deliveries in goal order, used instead of drawing (missing
   * entries and 0 are drawn).
   */
  readonly replacements?: readonly number[];
  /** Winner among equally long chains into one cell (§6.2 R1): lowest (default) or highest id. */
  readonly tieBreak?: "lowest" | "highest";
}

/** What one step returns. */
export interface RwareStepResult {
  /** State after the step (no reset, even when the episode ended). */
  readonly state: RwareState;
  readonly rewards: number[];
  readonly terminated: boolean;
  /** Always false: time-outs are reported as terminated (R5). */
  readonly truncated: boolean;
  /** Actions after the carrying restriction and the conflict resolution. */
  readonly effectiveActions: number[];
  /** [slot, delivered shelf id, new shelf id] per delivery, in goal order. */
  readonly replacements: number[][];
  /** Observations of the state after the step, per agent. */
  readonly obs: number[][];
}

const DELTA: Readonly<Record<number, readonly [number, number]>> = {
  [RWARE_DIR.up]: [0, -1],
  [RWARE_DIR.down]: [0, 1],
  [RWARE_DIR.left]: [-1, 0],
  [RWARE_DIR.right]: [1, 0],
};
/** Clockwise turn (RIGHT): UP → RIGHT → DOWN → LEFT → UP. */
const CLOCKWISE: Readonly<Record<number, number>> = {
  [RWARE_DIR.up]: RWARE_DIR.right,
  [RWARE_DIR.right]: RWARE_DIR.down,
  [RWARE_DIR.down]: RWARE_DIR.left,
  [RWARE_DIR.left]: RWARE_DIR.up,
};
const COUNTER_CLOCKWISE: Readonly<Record<number, number>> = Object.fromEntries(
  Object.entries(CLOCKWISE).map(([from, to]) => [to, Number(from)]),
);

/**
 * Resets one env (§4 with the counter-based draws of the module doc).
 *
 * @param cfg Task parameters.
 * @param layout The task's layout.
 * @param key `seed`, `env` index, `episode` index, and `totalSteps` to carry over (default 0).
 * @returns The new state: shelves at home, nobody carrying, counters 0.
 */
export function rwareResetReference(
  cfg: RwareConfig,
  layout: RwareLayout,
  key: { seed: number; env: number; episode: number; totalSteps?: number },
): RwareState {
  const cells = layout.rows * layout.cols, n = cfg.numAgents;
  const draw = (b: number, d: number) =>
    rngU32(key.seed >>> 0, RNG_PURPOSE.envReset, key.env, b, key.episode, d);
  const taken = new Set<number>();
  const agents = [];
  for (let i = 0; i < n; i++) {
    const free = [];
    for (let c = 0; c < cells; c++) if (!taken.has(c)) free.push(c);
    const cell = free[rngBelow(draw(i, 0), free.length)];
    taken.add(cell);
    agents.push({
      x: cell % layout.cols,
      y: Math.floor(cell / layout.cols),
      dir: rngBelow(draw(i, 1), 4),
      carried: 0,
      hasDelivered: false,
    });
  }
  const queue: number[] = [];
  for (let j = 0; j < cfg.requestQueueSize; j++) {
    const candidates = layout.shelfHome.map((_, k) => k + 1).filter((id) => !queue.includes(id));
    queue.push(candidates[rngBelow(draw(n + j, 0), candidates.length)]);
  }
  return {
    steps: 0,
    inactiveSteps: 0,
    episode: key.episode,
    totalSteps: key.totalSteps ?? 0,
    agents,
    shelves: layout.shelfHome.map(({ x, y }) => ({ x, y })),
    requestQueue: queue,
  };
}

/** Disjoint sets over cell keys (weakly connected components of the move graph). */
class UnionFind {
  readonly #parent = new Map<number, number>();
  find(x: number): number {
    let p = this.#parent.get(x) ?? x;
    if (p !== x) {
      p = this.find(p);
      this.#parent.set(x, p);
    }
    return p;
  }
  union(a: number, b: number): void {
    const ra = this.find(a), rb = this.find(b);
    if (ra !== rb) this.#parent.set(ra, rb);
  }
}

/**
 * §6.2: which agents may carry out their action. Nodes are cell keys, agent i has the edge
 * `start[i] → target[i]`.
 */
function committedAgents(
  start: readonly number[],
  target: readonly number[],
  tieBreak: "lowest" | "highest",
): boolean[] {
  const n = start.length;
  const agentAt = new Map<number, number>();
  start.forEach((c, i) => agentAt.set(c, i));
  const uf = new UnionFind();
  for (let i = 0; i < n; i++) uf.union(start[i], target[i]);
  const components = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = uf.find(start[i]);
    if (!components.has(r)) components.set(r, []);
    components.get(r)!.push(i);
  }
  const committed = new Array<boolean>(n).fill(false);
  for (const members of components.values()) {
    // Walk the edges from any agent: a functional graph's component ends in a cycle or a sink.
    const seen: number[] = [];
    let cell = start[members[0]];
    while (agentAt.has(cell) && !seen.includes(cell)) {
      seen.push(cell);
      cell = target[agentAt.get(cell)!];
    }
    if (agentAt.has(cell)) {
      const cycle = seen.slice(seen.indexOf(cell)); // cells whose agents form the cycle
      if (cycle.length !== 2) { for (const c of cycle) committed[agentAt.get(c)!] = true; }
      continue;
    }
    // A tree of chains into the free sink `cell`: commit one longest chain.
    const chainLength = new Map<number, number>();
    const lengthOf = (i: number): number => {
      const known = chainLength.get(i);
      if (known !== undefined) return known;
      let best = 0;
      for (const j of members) {
        if (j !== i && target[j] === start[i] && start[j] !== target[j]) {
          best = Math.max(best, lengthOf(j));
        }
      }
      chainLength.set(i, best + 1);
      return best + 1;
    };
    let cur = cell;
    for (;;) {
      const preds = members.filter((j) => target[j] === cur && start[j] !== cur);
      if (preds.length === 0) break;
      const longest = Math.max(...preds.map(lengthOf));
      const tied = preds.filter((j) => lengthOf(j) === longest);
      const winner = tieBreak === "lowest" ? Math.min(...tied) : Math.max(...tied);
      committed[winner] = true;
      cur = start[winner];
    }
  }
  return committed;
}

/**
 * One step of one env (§6): carrying restriction, move-graph conflicts, execution in agent order,
 * deliveries with refills, counters and the done flag. Actions outside 0..4 count as NOOP.
 *
 * @param cfg Task parameters.
 * @param layout The task's layout.
 * @param state State before the step (not modified).
 * @param actions One action per agent.
 * @param options Draw key, injected refills and the tie-break.
 * @returns The state after the step and what the step reports.
 */
export function rwareStepReference(
  cfg: RwareConfig,
  layout: RwareLayout,
  state: RwareState,
  actions: readonly number[],
  options: RwareStepOptions = {},
): RwareStepResult {
  const s = cloneRwareState(state);
  const n = cfg.numAgents, W = layout.cols, H = layout.rows;
  if (actions.length !== n) {
    throw new TypeError(`Cannot step RWARE: got ${actions.length} actions for ${n} agents`);
  }
  const cellOf = (x: number, y: number) => y * W + x;
  const agentAt = new Map<number, number>();
  s.agents.forEach((a, i) => agentAt.set(cellOf(a.x, a.y), i));
  const shelfAt = new Map<number, number>();
  s.shelves.forEach((p, k) => shelfAt.set(cellOf(p.x, p.y), k + 1));

  // §6.1 targets and the carrying restriction.
  const act = actions.map((a) => (Number.isInteger(a) && a >= 0 && a <= 4 ? a : RWARE_ACTION.noop));
  const start: number[] = [], target: number[] = [];
  s.agents.forEach((a, i) => {
    const here = cellOf(a.x, a.y);
    let there = here;
    if (act[i] === RWARE_ACTION.forward) {
      const [dx, dy] = DELTA[a.dir];
      there = cellOf(
        Math.min(Math.max(a.x + dx, 0), W - 1),
        Math.min(Math.max(a.y + dy, 0), H - 1),
      );
    }
    if (a.carried && there !== here && shelfAt.has(there)) {
      const other = agentAt.get(there);
      if (!(other !== undefined && s.agents[other].carried)) {
        act[i] = RWARE_ACTION.noop;
        there = here;
      }
    }
    start.push(here);
    target.push(there);
  });

  // §6.2 conflicts: agents that may not act are FORWARDs turned into NOOP.
  const committed = committedAgents(start, target, options.tieBreak ?? "lowest");
  committed.forEach((ok, i) => {
    if (ok) return;
    if (act[i] !== RWARE_ACTION.forward) {
      throw new Error(`RWARE reference: agent ${i} failed with action ${act[i]}, not FORWARD`);
    }
    act[i] = RWARE_ACTION.noop;
  });

  // §6.3 execution in agent order, on the layers from before the step.
  const rewards = new Array<number>(n).fill(0);
  s.agents.forEach((a, i) => {
    const here = cellOf(a.x, a.y);
    switch (act[i]) {
      case RWARE_ACTION.forward:
        a.x = target[i] % W;
        a.y = Math.floor(target[i] / W);
        if (a.carried) s.shelves[a.carried - 1] = { x: a.x, y: a.y };
        break;
      case RWARE_ACTION.left:
        a.dir = COUNTER_CLOCKWISE[a.dir];
        break;
      case RWARE_ACTION.right:
        a.dir = CLOCKWISE[a.dir];
        break;
      case RWARE_ACTION.toggleLoad:
        if (!a.carried) {
          a.carried = shelfAt.get(here) ?? 0;
        } else if (layout.home[here] !== 0) {
          a.carried = 0;
          if (a.hasDelivered && cfg.rewardType === "two_stage") rewards[i] += 0.5;
          a.hasDelivered = false;
        }
        break;
    }
  });

  // §6.4 deliveries, on the rebuilt layers.
  agentAt.clear();
  s.agents.forEach((a, i) => agentAt.set(cellOf(a.x, a.y), i));
  shelfAt.clear();
  s.shelves.forEach((p, k) => shelfAt.set(cellOf(p.x, p.y), k + 1));
  const replacements: number[][] = [];
  layout.goals.forEach((goal, g) => {
    const shelf = shelfAt.get(cellOf(goal.x, goal.y));
    if (shelf === undefined) return;
    const slot = s.requestQueue.indexOf(shelf);
    if (slot < 0) return;
    const candidates = layout.shelfHome.map((_, k) => k + 1)
      .filter((id) => !s.requestQueue.includes(id));
    let next: number;
    const injected = options.replacements?.[replacements.length];
    if (injected !== undefined && injected !== 0) {
      next = injected;
      if (!candidates.includes(next)) {
        throw new RangeError(
          `Cannot inject refill ${replacements.length}: shelf ${next} is requested or does not exist, candidates are ${candidates.length} shelves`,
        );
      }
    } else {
      const h = rngU32(
        (options.seed ?? 0) >>> 0,
        RNG_PURPOSE.envStep,
        options.env ?? 0,
        g,
        s.totalSteps,
        0,
      );
      next = candidates[rngBelow(h, candidates.length)];
    }
    s.requestQueue[slot] = next;
    replacements.push([slot, shelf, next]);
    const carrier = agentAt.get(cellOf(goal.x, goal.y));
    if (carrier === undefined) throw new Error(`RWARE reference: shelf ${shelf} on a goal alone`);
    if (cfg.rewardType === "global") { for (let i = 0; i < n; i++) rewards[i] += 1; }
    else if (cfg.rewardType === "individual") rewards[carrier] += 1;
    else {
      rewards[carrier] += 0.5;
      s.agents[carrier].hasDelivered = true;
    }
  });

  // §6.5 counters and the end of the episode.
  s.inactiveSteps = replacements.length > 0 ? 0 : s.inactiveSteps + 1;
  s.steps += 1;
  s.totalSteps += 1;
  const done = (cfg.maxInactivitySteps > 0 && s.inactiveSteps >= cfg.maxInactivitySteps) ||
    (cfg.maxSteps > 0 && s.steps >= cfg.maxSteps);
  return {
    state: s,
    rewards,
    terminated: done,
    truncated: false,
    effectiveActions: act,
    replacements,
    obs: rwareObsReference(cfg, layout, s),
  };
}

/**
 * Observations (§7) of every agent: own x, y, carrying, direction one-hot, highway flag, then per
 * sensor cell (row-major, dy outer) agent flag, its direction one-hot (UP when empty), shelf
 * flag, requested flag; cells off the map read as empty.
 *
 * @param cfg Task parameters.
 * @param layout The task's layout.
 * @param s The state.
 * @returns One array of {@linkcode rwareObsDim} values per agent.
 */
export function rwareObsReference(
  cfg: RwareConfig,
  layout: RwareLayout,
  s: RwareState,
): number[][] {
  const W = layout.cols, H = layout.rows, r = cfg.sensorRange;
  const agentAt = new Map<number, number>();
  s.agents.forEach((a, i) => agentAt.set(a.y * W + a.x, i));
  const shelfAt = new Map<number, number>();
  s.shelves.forEach((p, k) => shelfAt.set(p.y * W + p.x, k + 1));
  const requested = new Set(s.requestQueue);
  const oneHot = (dir: number) => [0, 1, 2, 3].map((d) => (d === dir ? 1 : 0));
  return s.agents.map((a) => {
    const o = [a.x, a.y, a.carried ? 1 : 0, ...oneHot(a.dir), layout.home[a.y * W + a.x] ? 0 : 1];
    for (let dy = -r; dy <= r; dy++) {
      for (let dx = -r; dx <= r; dx++) {
        const x = a.x + dx, y = a.y + dy;
        const inside = x >= 0 && y >= 0 && x < W && y < H;
        const other = inside ? agentAt.get(y * W + x) : undefined;
        const shelf = inside ? shelfAt.get(y * W + x) : undefined;
        o.push(other === undefined ? 0 : 1);
        o.push(...oneHot(other === undefined ? RWARE_DIR.up : s.agents[other].dir));
        o.push(shelf === undefined ? 0 : 1, shelf !== undefined && requested.has(shelf) ? 1 : 0);
      }
    }
    if (o.length !== rwareObsDim(cfg)) throw new Error(`RWARE reference: obs has ${o.length}`);
    return o;
  });
}

/**
 * The RWARE reference as the hooks of a {@linkcode ReferenceVec}: reset of episode 0, auto-reset
 * (episode + 1, the env's total step count kept) and observations; refills are drawn.
 *
 * @param cfg Task parameters.
 * @param layout The task's layout.
 * @param seed Seed of every env's stream.
 * @returns The single-env hooks.
 */
export function rwareReference(
  cfg: RwareConfig,
  layout: RwareLayout,
  seed: number,
): SingleEnvReference<RwareState, RwareStepResult> {
  return {
    numAgents: cfg.numAgents,
    obsDim: rwareObsDim(cfg),
    reset: (env) => rwareResetReference(cfg, layout, { seed, env, episode: 0 }),
    next: (env, ended) =>
      rwareResetReference(cfg, layout, {
        seed,
        env,
        episode: ended.episode + 1,
        totalSteps: ended.totalSteps,
      }),
    step: (env, state, actions) => rwareStepReference(cfg, layout, state, actions, { seed, env }),
    observe: (state) => rwareObsReference(cfg, layout, state),
    episodeStep: (state) => state.steps,
    clone: cloneRwareState,
  };
}

/**
 * `numEnvs` reference envs with auto-reset, in the GPU's buffer layouts (for rollouts compared
 * with the kernel): an env whose episode ended is reset (episode + 1) after its final
 * observation is copied into `terminalObs`.
 */
export class RwareReferenceVec extends ReferenceVec<RwareState, Float32Array, RwareStepResult> {
  readonly cfg: RwareConfig;
  readonly layout: RwareLayout;
  readonly seed: number;

  /**
   * Resets every env to episode 0.
   *
   * @param cfg Task parameters.
   * @param options Number of envs and the seed.
   */
  constructor(cfg: RwareConfig, options: { numEnvs: number; seed: number }) {
    const layout = rwareLayout(cfg);
    super(rwareReference(cfg, layout, options.seed >>> 0), {
      numEnvs: options.numEnvs,
      obsType: Float32Array,
    });
    this.cfg = cfg;
    this.layout = layout;
    this.seed = options.seed >>> 0;
  }
}
