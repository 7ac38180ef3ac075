// Multi-Robot Warehouse: CPU reference vs the golden files of the Python env, the movement cases
// of the reference's tests, GPU kernel vs CPU reference (golden states, random states, resets,
// rollouts with auto-reset, injected refills), registry parse and layouts.
import { createRwareEnv, RWARE, type RwareEnv } from "../../../envs/rware/env.ts";
import {
  parseRwareTask,
  RWARE_ACTION,
  RWARE_DIR,
  type RwareConfig,
  type RwareLayout,
  rwareLayout,
  rwareLayoutFromString,
  rwareLayoutRows,
  rwareSpec,
  type RwareState,
  rwareStateToGolden,
} from "../../../envs/rware/layout.ts";
import {
  RwareReferenceVec,
  rwareResetReference,
  type RwareStepOptions,
  rwareStepReference,
} from "../../../envs/rware/reference.ts";
import { listGolden, loadGolden } from "../../../envs/golden.ts";
import { replayRwareGoldenCpu, replayRwareGoldenGpu } from "../../../envs/rware/golden_replay.ts";
import type { Engine } from "../../../engine/device.ts";
import { HostRng, RNG_PURPOSE } from "../../../engine/rng.ts";
import { assertAllClose, assertExact, gpuTest } from "../../_testing.ts";
import {
  agentMajor,
  assertEndedRows,
  assertEq,
  assertGoldenCoverage,
  assertNoMismatch,
  assertSameOutputs,
  biasedActions,
  type EnvPair,
  readEnv,
  replayGoldenCpu,
  resetWithStates,
  rolloutPair,
  stepEnv,
} from "../_env_testing.ts";

const GOLDEN_FILES = await listGolden("rware-");
const { noop: N, forward: F, left: L, right: R, toggleLoad: T } = RWARE_ACTION;
const { up: UP, down: DOWN, left: LEFT, right: RIGHT } = RWARE_DIR;

Deno.test({
  name: "rwareStepReference() replays every step of every RWARE golden file",
  ignore: GOLDEN_FILES.length === 0,
  async fn() {
    // Header maps, reset states and observations, every step with its recorded refills; flagged
    // tie steps accept either winner (R1). Product replay: envs/rware/golden_replay.ts.
    const { steps, stats, summary } = await replayGoldenCpu(GOLDEN_FILES, replayRwareGoldenCpu);
    const deliveries = stats.deliveries, ends = stats["episode ends"];
    console.log(
      `replayed ${steps} golden RWARE steps (${deliveries} deliveries, ${
        stats["tie steps"]
      } tie steps, ${ends} episode ends)${summary}`,
    );
    assertGoldenCoverage(
      steps >= 1000 && deliveries >= 10 && ends >= 1,
      `too little golden RWARE data: ${steps} steps, ${deliveries} deliveries`,
    );
  },
});

// ---------------------------------------------------------------------------------------------
// Movement rules (the cases of the reference's tests/test_movement.py and §6.2).

/** A tiny-warehouse state with the given agents [x, y, dir, carried?] (shelves at home). */
function scene(agents: number[][], queue = [1, 2]): { cfg: RwareConfig; s: RwareState } {
  const cfg: RwareConfig = {
    ...parseRwareTask("rware-tiny-2ag")!,
    numAgents: agents.length,
    requestQueueSize: queue.length,
  };
  const layout = rwareLayout(cfg);
  const s: RwareState = {
    steps: 0,
    inactiveSteps: 0,
    episode: 0,
    totalSteps: 0,
    agents: agents.map(([x, y, dir, carried]) => ({
      x,
      y,
      dir,
      carried: carried ?? 0,
      hasDelivered: false,
    })),
    shelves: layout.shelfHome.map((h) => ({ ...h })),
    requestQueue: queue,
  };
  s.agents.forEach((a) => {
    if (a.carried) s.shelves[a.carried - 1] = { x: a.x, y: a.y };
  });
  return { cfg, s };
}

/** Steps a scene; returns the agents' cells and the effective actions. */
function move(
  agents: number[][],
  actions: number[],
  tieBreak?: RwareStepOptions["tieBreak"],
): { at: number[][]; eff: number[] } {
  const { cfg, s } = scene(agents);
  const r = rwareStepReference(cfg, rwareLayout(cfg), s, actions, { tieBreak });
  return { at: r.state.agents.map((a) => [a.x, a.y]), eff: r.effectiveActions };
}

Deno.test("rwareStepReference() resolves the movement cases of the reference's tests", () => {
  // Head-on swap: nobody moves.
  assertEq(move([[3, 0, RIGHT], [4, 0, LEFT]], [F, F]).at, [[3, 0], [4, 0]], "swap");
  // A swapping pair blocks whoever queues behind it.
  assertEq(
    move([[3, 0, RIGHT], [4, 0, LEFT], [2, 0, RIGHT]], [F, F, F]).at,
    [[3, 0], [4, 0], [2, 0]],
    "queued into a swap",
  );
  // A chain of followers all move.
  assertEq(
    move([[3, 0, RIGHT], [4, 0, RIGHT], [5, 0, RIGHT]], [F, F, F]).at,
    [[4, 0], [5, 0], [6, 0]],
    "chain",
  );
  // A 4-cycle rotates; an agent queued into it stays.
  const ring = [[3, 0, RIGHT], [4, 0, DOWN], [4, 1, LEFT], [3, 1, UP]];
  assertEq(move(ring, [F, F, F, F]).at, [[4, 0], [4, 1], [3, 1], [3, 0]], "4-cycle");
  assertEq(
    move([...ring, [2, 0, RIGHT]], [F, F, F, F, F]).at,
    [[4, 0], [4, 1], [3, 1], [3, 0], [2, 0]],
    "queued into a 4-cycle",
  );
  // A stationary agent (self-loop) blocks the queue; a wall-clamped FORWARD is one too, and
  // stays FORWARD.
  assertEq(move([[3, 0, RIGHT], [4, 0, UP]], [F, T]).at, [[3, 0], [4, 0]], "blocked by a stayer");
  const wall = move([[9, 0, RIGHT], [8, 0, RIGHT]], [F, F]);
  assertEq([wall.at, wall.eff], [[[9, 0], [8, 0]], [F, N]], "blocked by a wall-facing agent");
  // A loaded agent cannot enter a standing shelf, an unloaded one drives under it.
  const shelfCell = move([[0, 1, RIGHT, 7], [3, 1, LEFT]], [F, F]);
  assertEq([shelfCell.at, shelfCell.eff], [[[0, 1], [2, 1]], [N, F]], "standing shelf");
  // An unloaded agent behind a loaded agent that was cancelled stays too.
  assertEq(
    move([[3, 3, LEFT, 1], [4, 3, LEFT]], [F, F]).at,
    [[3, 3], [4, 3]],
    "behind a cancelled loaded agent",
  );
  // A loaded agent may follow a loaded agent that leaves.
  assertEq(
    move([[3, 1, RIGHT, 1], [4, 1, RIGHT, 2]], [F, F]).at,
    [[4, 1], [5, 1]],
    "loaded follows loaded",
  );
  // Converging chains: the longest wins; equal lengths go to the lowest id (or the highest).
  assertEq(
    move([[3, 1, UP], [2, 0, RIGHT], [1, 0, RIGHT]], [F, F, F]).at,
    [[3, 1], [3, 0], [2, 0]],
    "longest chain wins",
  );
  assertEq(move([[3, 1, UP], [2, 0, RIGHT]], [F, F]).at, [[3, 0], [2, 0]], "tie: lowest id");
  assertEq(
    move([[3, 1, UP], [2, 0, RIGHT]], [F, F], "highest").at,
    [[3, 1], [3, 0]],
    "tie: highest id",
  );
  // Turning never fails and never moves.
  assertEq(
    rwareStepReference(
      scene([[0, 0, UP]]).cfg,
      rwareLayout(scene([[0, 0, UP]]).cfg),
      scene([[0, 0, UP]]).s,
      [R],
    ).state.agents[0].dir,
    RIGHT,
    "turn right",
  );
  assertEq(move([[0, 0, UP]], [L]).at, [[0, 0]], "turn left stays");
});

Deno.test("rwareStepReference() picks up, drops only off highways, and delivers requests", () => {
  const { cfg, s } = scene([[1, 1, DOWN], [4, 9, DOWN]], [1, 2]);
  const layout = rwareLayout(cfg);
  // Agent 0 picks up shelf 1 on its home; agent 1 on a highway has nothing to pick.
  let r = rwareStepReference(cfg, layout, s, [T, T]);
  assertEq(r.state.agents.map((a) => a.carried), [1, 0], "pick up");
  // Dropping on a highway does nothing; off the highway it leaves the shelf there.
  const carrying = scene([[0, 1, DOWN, 3], [2, 2, DOWN, 1]], [1, 2]);
  r = rwareStepReference(carrying.cfg, layout, carrying.s, [T, T]);
  assertEq(r.state.agents.map((a) => a.carried), [3, 0], "drop");
  assertEq(r.state.shelves[0], { x: 2, y: 2 }, "dropped shelf stays");
  // Standing on a goal with a requested shelf delivers it (no action needed), refills the slot
  // with a shelf that was not requested, rewards the carrier and resets the inactivity count.
  const goal = scene([[4, 10, DOWN, 2], [5, 10, DOWN, 5]], [7, 2]);
  goal.s.inactiveSteps = 9;
  r = rwareStepReference(goal.cfg, layout, goal.s, [N, N], { seed: 3, env: 1 });
  assertEq([r.rewards, r.state.inactiveSteps], [[1, 0], 0], "delivery reward");
  assertEq(r.replacements.map(([slot, old]) => [slot, old]), [[1, 2]], "refilled slot");
  const fresh = r.state.requestQueue[1];
  if (fresh === 2 || fresh === 7 || fresh < 1 || fresh > 32) throw new Error(`refill ${fresh}`);
  // Global rewards go to everyone; two-stage gives 0.5 now and 0.5 at the next drop.
  const global = rwareStepReference({ ...goal.cfg, rewardType: "global" }, layout, goal.s, [N, N]);
  assertEq(global.rewards, [1, 1], "global reward");
  const two = rwareStepReference({ ...goal.cfg, rewardType: "two_stage" }, layout, goal.s, [N, N]);
  assertEq([two.rewards, two.state.agents[0].hasDelivered], [[0.5, 0], true], "two-stage");
  // The episode ends (terminated, not truncated) at maxSteps.
  goal.s.steps = 499;
  r = rwareStepReference(goal.cfg, layout, goal.s, [N, N]);
  assertEq([r.terminated, r.truncated], [true, false], "time limit");
});

Deno.test("rwareResetReference() spawns agents on distinct cells and distinct requests", () => {
  const cfg = parseRwareTask("rware-tiny-19ag-hard")!;
  const layout = rwareLayout(cfg);
  const dirs = new Set<number>();
  for (let e = 0; e < 30; e++) {
    const s = rwareResetReference(cfg, layout, { seed: 5, env: e, episode: e % 3 });
    const cells = new Set(s.agents.map((a) => a.y * layout.cols + a.x));
    if (cells.size !== cfg.numAgents) throw new Error(`env ${e}: agents share a cell`);
    if (new Set(s.requestQueue).size !== cfg.requestQueueSize) {
      throw new Error(`env ${e}: repeated requests ${s.requestQueue}`);
    }
    if (s.requestQueue.some((id) => id < 1 || id > layout.shelfHome.length)) {
      throw new Error(`env ${e}: bad request ${s.requestQueue}`);
    }
    s.agents.forEach((a) => dirs.add(a.dir));
    assertEq(rwareStateToGolden(layout, s).shelves_moved, [], `env ${e} shelves at home`);
  }
  assertEq([...dirs].sort(), [0, 1, 2, 3], "directions drawn");
  const a = rwareResetReference(cfg, layout, { seed: 5, env: 2, episode: 0 });
  const b = rwareResetReference(cfg, layout, { seed: 5, env: 2, episode: 1 });
  if (JSON.stringify(a) === JSON.stringify(b)) throw new Error("episodes 0 and 1 are equal");
});

Deno.test("RWARE.parseTask() parses the reference's task names with its parameters", () => {
  const tiny2 = RWARE.parseTask("rware-tiny-2ag")!;
  assertEq(
    [tiny2.numAgents, tiny2.obsShape, tiny2.obsDType, tiny2.numActions, tiny2.maxSteps],
    [2, [71], "f32", 5, 500],
    "rware-tiny-2ag spec",
  );
  assertEq(tiny2.config, {
    shelfColumns: 3,
    shelfRows: 1,
    columnHeight: 8,
    numAgents: 2,
    requestQueueSize: 2,
    maxSteps: 500,
    maxInactivitySteps: 0,
    sensorRange: 1,
    rewardType: "individual",
  }, "rware-tiny-2ag config");
  const queue = (name: string) => (RWARE.parseTask(name)!.config.requestQueueSize);
  assertEq(
    [
      queue("rware-small-4ag-v2"),
      queue("rware-tiny-4ag-hard"),
      queue("rware-tiny-2ag-hard"),
      queue("rware-tiny-1ag-hard"),
      queue("rware-tiny-3ag-hard-v1"),
      queue("rware-medium-6ag-easy"),
    ],
    [4, 2, 1, 0, 1, 12],
    "request queue sizes",
  );
  assertEq(
    RWARE.parseTask("rware-small-4ag-v2")!.name,
    "rware-small-4ag",
    "version suffix dropped",
  );
  const sizes = ["tiny", "small", "medium", "large"].map((s) => {
    const l = rwareLayout(parseRwareTask(`rware-${s}-2ag`)!);
    return [l.rows, l.cols, l.shelfHome.length, l.goals.map((g) => [g.x, g.y])];
  });
  assertEq(sizes, [
    [11, 10, 32, [[4, 10], [5, 10]]],
    [20, 10, 80, [[4, 19], [5, 19]]],
    [20, 16, 144, [[7, 19], [8, 19]]],
    [29, 16, 224, [[7, 28], [8, 28]]],
  ], "layouts");
  for (const bad of ["rware-tiny-0ag", "rware-tiny-20ag", "rware-huge-2ag", "rware-tiny-2ag-v3"]) {
    if (RWARE.parseTask(bad) !== null) throw new Error(`"${bad}" parsed`);
  }
  for (const t of RWARE.tasks) if (!RWARE.parseTask(t)) throw new Error(`task "${t}" fails`);
  assertEq(rwareSpec(parseRwareTask("rware-large-8ag-easy")!).name, "rware-large-8ag-easy", "name");
});

Deno.test("rwareLayout() reads the reference's map strings", () => {
  // The registered layouts drawn as maps give the same layouts.
  for (const size of ["tiny", "small", "medium"]) {
    const cfg = parseRwareTask(`rware-${size}-2ag`)!;
    const want = rwareLayout(cfg);
    const map = rwareLayoutRows(want).map((r) => r.replace(/X/g, "x").split("").join(" "));
    const got = rwareLayout({ ...cfg, shelfColumns: 1, layout: `\n  ${map.join("\n")}\n` });
    assertEq(got, want, `${size} as a map`);
  }
  // Goals and shelves row-major; upper case accepted.
  const l = rwareLayoutFromString("xG.\n.X.\ng..");
  assertEq(
    [l.rows, l.cols, l.shelfHome, l.goals, Array.from(l.home)],
    [3, 3, [{ x: 0, y: 0 }, { x: 1, y: 1 }], [{ x: 1, y: 0 }, { x: 0, y: 2 }], [
      1,
      0,
      0,
      0,
      2,
      0,
      0,
      0,
      0,
    ]],
    "small map",
  );
  const cfg = { ...parseRwareTask("rware-tiny-2ag")!, layout: "x.g\n..." };
  assertEq(rwareSpec(cfg).name, "rware-layout-2x3-2ag-2req-individual", "name of a map config");
  for (
    const [map, want] of [["x.\n.", /not rectangular/], ["x.o\ng..", /character "o"/], [
      "x..",
      /no goal/,
    ]] as const
  ) {
    let message = "";
    try {
      rwareLayoutFromString(map);
    } catch (e) {
      message = (e as Error).message;
    }
    if (!want.test(message)) throw new Error(`map ${JSON.stringify(map)}: "${message}"`);
  }
});

// ---------------------------------------------------------------------------------------------
// GPU kernel vs CPU reference.

type GpuResult = Awaited<ReturnType<typeof readPair>>;

function readPair(engine: Engine, env: RwareEnv) {
  return readEnv(engine, env, { injected: env.injected });
}

/**
 * The reference vec cannot take injected refills: `step` steps it only when none are given
 * (tests with refills compare with `rwareStepReference()`).
 */
interface Pair extends EnvPair<RwareReferenceVec, GpuResult> {
  step(actions: Uint32Array, refills?: number[][]): void;
}

async function makePair(
  engine: Engine,
  cfg: RwareConfig,
  options: { numEnvs: number; seed: number; states?: RwareState[] },
): Promise<Pair> {
  const env = await createRwareEnv(engine, rwareSpec(cfg), options);
  const ref = new RwareReferenceVec(cfg, options);
  ref.reset();
  resetWithStates(engine, env, ref, options.states);
  return {
    ref,
    read: () => readPair(engine, env),
    step(actions, refills) {
      if (refills) env.writeInjected(refills);
      stepEnv(engine, env, actions);
      if (!refills) ref.step(actions);
    },
  };
}

/** Compares everything the GPU env holds with the reference vec. */
function assertSame(got: GpuResult, ref: RwareReferenceVec, what: string): void {
  const n = ref.numEnvs;
  for (let e = 0; e < n; e++) assertEq(got.states[e], ref.states[e], `${what} env ${e} state`);
  assertSameOutputs(got, ref, what);
  assertEndedRows(got.terminalObs, ref.terminalObs, ref.terminated, ref.cfg.numAgents, what);
}

/** Agent-major random actions, FORWARD with probability `pForward`. */
function randomActions(rng: HostRng, cfg: RwareConfig, numEnvs: number, pForward = 0.5) {
  return biasedActions(rng, cfg.numAgents * numEnvs, { numActions: 5, favoured: F, p: pForward });
}

/**
 * A random valid state: agents on distinct cells (some on goals), about half carrying a shelf
 * (the one under them, or one taken from its home), requests that often include a carried
 * shelf on a goal, random counters.
 */
function randomState(cfg: RwareConfig, layout: RwareLayout, rng: HostRng): RwareState {
  const W = layout.cols, cells = layout.rows * W;
  const s = rwareResetReference(cfg, layout, { seed: rng.u32(), env: 0, episode: 0 });
  const taken = new Set<number>();
  // Half of the states crowd the agents into a small window (chains, swaps, cycles, ties).
  const crowd = rng.unit() < 0.5;
  const wx = rng.below(W - 2), wy = rng.below(layout.rows - 2);
  const side = Math.min(3 + Math.floor(cfg.numAgents / 4), W - wx, layout.rows - wy);
  for (const a of s.agents) {
    let c = rng.below(cells);
    if (crowd && taken.size < side * side) {
      do c = (wy + rng.below(side)) * W + wx + rng.below(side); while (taken.has(c));
    } else if (rng.unit() < 0.3) {
      const g = layout.goals[rng.below(layout.goals.length)];
      c = g.y * W + g.x;
    }
    while (taken.has(c)) c = rng.below(cells);
    taken.add(c);
    a.x = c % W;
    a.y = Math.floor(c / W);
    a.dir = rng.below(4);
    a.hasDelivered = cfg.rewardType === "two_stage" && rng.unit() < 0.5;
  }
  const shelfAt = (x: number, y: number) => s.shelves.findIndex((p) => p.x === x && p.y === y) + 1;
  for (const a of s.agents) {
    if (rng.unit() < 0.5) continue;
    const under = shelfAt(a.x, a.y);
    if (under) {
      a.carried = under;
      continue;
    }
    const free = s.shelves.map((_, k) => k + 1).filter((id) => {
      const p = s.shelves[id - 1], h = layout.shelfHome[id - 1];
      return p.x === h.x && p.y === h.y && !s.agents.some((b) => b.x === p.x && b.y === p.y);
    });
    a.carried = free[rng.below(free.length)];
    s.shelves[a.carried - 1] = { x: a.x, y: a.y };
  }
  for (const a of s.agents) {
    const onGoal = layout.goals.some((g) => g.x === a.x && g.y === a.y);
    if (onGoal && a.carried && rng.unit() < 0.7 && !s.requestQueue.includes(a.carried)) {
      s.requestQueue[rng.below(s.requestQueue.length)] = a.carried;
    }
  }
  s.steps = rng.below(cfg.maxSteps);
  s.inactiveSteps = rng.below(40);
  s.episode = rng.below(5);
  s.totalSteps = s.steps + rng.below(1000);
  return s;
}

/** Configs for the random tests: the golden tasks, dense warehouses, other rewards. */
function testConfigs(): RwareConfig[] {
  const base = (name: string) => parseRwareTask(name)!;
  return [
    base("rware-tiny-2ag"),
    base("rware-tiny-4ag"),
    { ...base("rware-tiny-19ag"), maxSteps: 60 },
    { ...base("rware-small-10ag-easy"), rewardType: "global", maxInactivitySteps: 30 },
    { ...base("rware-medium-8ag"), rewardType: "two_stage" },
    base("rware-large-3ag-hard"),
  ];
}

gpuTest(
  "rwareStep() equals the golden files and the reference on golden states",
  async (engine) => {
    let total = 0;
    for (const path of GOLDEN_FILES) {
      // Every step state of a file is one env, refills injected, one dispatch (product replay).
      const r = await replayRwareGoldenGpu(engine, await loadGolden(path));
      assertNoMismatch(r, path);
      const { cfg, layout, read } = r;
      assertExact(
        read.extra.injected,
        new Uint32Array(read.extra.injected.length),
        "injected cleared",
      );
      // Envs whose episode ended start the next episode of their own stream.
      r.states.forEach((_, e) => {
        if (!read.terminated[e]) return;
        const reset = rwareResetReference(cfg, layout, {
          seed: r.seed,
          env: e,
          episode: 1,
          totalSteps: 1,
        });
        assertEq(read.states[e], reset, `${path} env ${e} auto-reset state`);
        assertEq(read.episodeStep[e], 0, `${path} env ${e} episodeStep`);
      });
      total += r.states.length;
    }
    assertGoldenCoverage(total >= 1000, `only ${total} golden steps`);
  },
);

/** Counts what a step exercised: cancelled FORWARDs, rotating cycles, ties, deliveries. */
function coverage(
  cfg: RwareConfig,
  layout: RwareLayout,
  before: RwareState,
  actions: number[],
  tally: Record<string, number>,
): void {
  const low = rwareStepReference(cfg, layout, before, actions);
  const high = rwareStepReference(cfg, layout, before, actions, { tieBreak: "highest" });
  if (JSON.stringify(low.state) !== JSON.stringify(high.state)) tally.ties++;
  tally.cancelled += actions.filter((a, i) => a === F && low.effectiveActions[i] === N).length;
  tally.deliveries += low.replacements.length;
  const at = (x: number, y: number) => before.agents.findIndex((a) => a.x === x && a.y === y);
  const moved = low.state.agents.map((a, i) =>
    a.x !== before.agents[i].x || a.y !== before.agents[i].y
  );
  const chain = low.state.agents.map((a, i) => (moved[i] ? at(a.x, a.y) : -1));
  for (let i = 0; i < chain.length; i++) {
    let cur = chain[i], hops = 1;
    while (cur >= 0 && cur !== i && hops <= chain.length) [cur, hops] = [chain[cur], hops + 1];
    if (cur === i && hops >= 3) tally.cycleMembers++;
  }
}

gpuTest("rwareStep() equals the reference on random states of six configs", async (engine) => {
  const rng = new HostRng(21, RNG_PURPOSE.test);
  const tally = { ties: 0, cancelled: 0, deliveries: 0, cycleMembers: 0 };
  for (const cfg of testConfigs()) {
    const layout = rwareLayout(cfg);
    const numEnvs = 150;
    const states = Array.from({ length: numEnvs }, () => randomState(cfg, layout, rng));
    const pair = await makePair(engine, cfg, { numEnvs, seed: 9, states });
    const actions = randomActions(rng, cfg, numEnvs, 0.7);
    pair.step(actions);
    assertSame(await pair.read(), pair.ref, `${rwareSpec(cfg).name} random states`);
    states.forEach((s, e) => {
      const acts = s.agents.map((_, i) => actions[i * numEnvs + e]);
      coverage(cfg, layout, s, acts, tally);
    });
  }
  console.log(`random states exercised ${JSON.stringify(tally)}`);
  if (tally.ties < 10 || tally.cancelled < 100 || tally.deliveries < 20 || tally.cycleMembers < 3) {
    throw new Error(`random states miss cases: ${JSON.stringify(tally)}`);
  }
});

/** Movement scenes on the tiny warehouse: agents [x, y, dir, carried] and their actions. */
const SCENES: [string, number[][], number[]][] = [
  ["swap", [[3, 0, RIGHT], [4, 0, LEFT]], [F, F]],
  ["queued into a swap", [[3, 0, RIGHT], [4, 0, LEFT], [2, 0, RIGHT]], [F, F, F]],
  ["chain", [[3, 0, RIGHT], [4, 0, RIGHT], [5, 0, RIGHT]], [F, F, F]],
  ["4-cycle and a queue", [[3, 0, RIGHT], [4, 0, DOWN], [4, 1, LEFT], [3, 1, UP], [2, 0, RIGHT]], [
    F,
    F,
    F,
    F,
    F,
  ]],
  ["loaded 4-cycle", [[3, 3, RIGHT, 1], [4, 3, DOWN, 2], [4, 4, LEFT, 7], [3, 4, UP, 8]], [
    F,
    F,
    F,
    F,
  ]],
  [
    "6-cycle",
    [[3, 0, RIGHT], [4, 0, RIGHT], [5, 0, DOWN], [5, 1, LEFT], [4, 1, LEFT], [3, 1, UP]],
    [
      F,
      F,
      F,
      F,
      F,
      F,
    ],
  ],
  ["wall", [[9, 0, RIGHT], [8, 0, RIGHT]], [F, F]],
  ["standing shelf", [[0, 1, RIGHT, 7], [3, 1, LEFT]], [F, F]],
  ["behind a cancelled loaded agent", [[3, 3, LEFT, 1], [4, 3, LEFT]], [F, F]],
  ["loaded follows loaded", [[3, 1, RIGHT, 1], [4, 1, RIGHT, 2]], [F, F]],
  ["longest chain", [[3, 1, UP], [2, 0, RIGHT], [1, 0, RIGHT]], [F, F, F]],
  ["tie", [[3, 1, UP], [2, 0, RIGHT], [4, 0, LEFT]], [F, F, F]],
  ["toggle and turns", [[1, 1, UP], [0, 1, RIGHT, 9], [2, 2, DOWN, 6]], [T, R, T]],
];
const PARKED = [[0, 10, UP], [9, 10, UP], [0, 9, UP], [9, 9, UP], [0, 8, UP], [9, 8, UP]];

gpuTest("rwareStep() resolves the movement scenes like the reference", async (engine) => {
  const A = 6;
  const built = SCENES.map(([, agents, acts]) => {
    const { cfg, s } = scene([...agents, ...PARKED.slice(0, A - agents.length)], [9, 2]);
    return { cfg, s, acts: [...acts, ...new Array(A - acts.length).fill(N)] };
  });
  const cfg = built[0].cfg, n = built.length;
  const pair = await makePair(engine, cfg, { numEnvs: n, seed: 3, states: built.map((b) => b.s) });
  const actions = agentMajor(built.map((b) => b.acts), A);
  pair.step(actions);
  assertSame(await pair.read(), pair.ref, "movement scenes");
  const rotated = pair.ref.states[4].shelves;
  assertEq([rotated[0], rotated[1], rotated[6], rotated[7]], [
    { x: 4, y: 3 },
    { x: 4, y: 4 },
    { x: 3, y: 4 },
    { x: 3, y: 3 },
  ], "loaded 4-cycle moves its shelves");
});

gpuTest("rwareReset() equals rwareResetReference() for every env", async (engine) => {
  for (
    const cfg of [parseRwareTask("rware-small-19ag-easy")!, parseRwareTask("rware-large-4ag")!]
  ) {
    const pair = await makePair(engine, cfg, { numEnvs: 37, seed: 123 });
    assertSame(await pair.read(), pair.ref, `${rwareSpec(cfg).name} reset`);
  }
});

gpuTest("rwareStep() rollouts with auto-reset equal the reference step by step", async (engine) => {
  const rng = new HostRng(5, RNG_PURPOSE.test);
  const configs: RwareConfig[] = [
    { ...parseRwareTask("rware-tiny-4ag")!, maxSteps: 25 },
    { ...parseRwareTask("rware-tiny-12ag-hard")!, maxSteps: 40 },
  ];
  let ends = 0;
  for (const cfg of configs) {
    const numEnvs = 21;
    const pair = await makePair(engine, cfg, { numEnvs, seed: 77 });
    const done = await rolloutPair(
      pair,
      60,
      () => randomActions(rng, cfg, numEnvs, 0.45),
      (got, t) => {
        assertSame(got, pair.ref, `${rwareSpec(cfg).name} t ${t}`);
      },
    );
    ends += done.terminated;
  }
  if (ends < 50) throw new Error(`only ${ends} episode ends`);
});

gpuTest(
  "rwareStep() uses injected refills in delivery order, draws the rest, clears them",
  async (engine) => {
    const cfg = parseRwareTask("rware-tiny-2ag")!;
    const layout = rwareLayout(cfg);
    // Both agents on the goals with requested shelves: two deliveries per step.
    const { s } = scene([[4, 10, UP, 11], [5, 10, UP, 12]], [11, 12]);
    const pair = await makePair(engine, cfg, { numEnvs: 3, seed: 4, states: [s, s, s] });
    pair.step(new Uint32Array(6), [[30, 31], [29], []]);
    const got = await pair.read();
    assertEq(got.states.map((x) => x.requestQueue), [
      [30, 31],
      rwareStepReference(cfg, layout, s, [N, N], { seed: 4, env: 1, replacements: [29] }).state
        .requestQueue,
      rwareStepReference(cfg, layout, s, [N, N], { seed: 4, env: 2 }).state.requestQueue,
    ], "refills");
    assertExact(got.reward, [1, 1, 1, 1, 1, 1], "rewards");
    assertExact(got.injected, new Uint32Array(6), "injected cleared");
    assertAllClose(got.episodeStep, [1, 1, 1], {}, "episodeStep");
  },
);
