// LBF options (docs/envs/lbf.md §2.1): the step limit and what it reports (`maxEpisodeSteps`,
// `timeLimit`), the v0 food-level rule (`foodLevels`); GPU kernel vs CPU reference exactly on
// random states and on rollouts with auto-reset, the rules on the CPU reference, and the registry.
import { LBF } from "../../../envs/lbf/env.ts";
import { type LbfConfig, type LbfState, parseLbfTask } from "../../../envs/lbf/state.ts";
import {
  LBF_ACTIONS,
  LbfReferenceVec,
  lbfResetReference,
  lbfStepReference,
} from "../../../envs/lbf/reference.ts";
import { findTask } from "../../../envs/registry.ts";
import { HostRng, RNG_PURPOSE } from "../../../engine/rng.ts";
import { gpuTest } from "../../_testing.ts";
import { assertEq, rolloutPair } from "../_env_testing.ts";
import { assertSame, makePair, randomActions, randomState, task } from "./_lbf_testing.ts";

const LIMITS = [1, 7, 25] as const;
const MODES = ["truncate", "terminate"] as const;
const RULES = ["v0", "v3"] as const;
/** Tasks the option combinations cycle through: 2 to 9 players, coop and not, partial view. */
const TASKS = [
  "Foraging-10x10-3p-3f",
  "Foraging-1s-7x7-4p-3f",
  "Foraging-8x8-2p-2f-coop",
  "Foraging-5x5-9p-9f",
  "Foraging-2s-8x8-3p-2f",
  "Foraging-6x6-5p-2f",
] as const;

/** Every (limit, mode, rule) combination, each with a task of {@linkcode TASKS}. */
function combinations(): [string, LbfConfig][] {
  const out: [string, LbfConfig][] = [];
  for (const maxEpisodeSteps of LIMITS) {
    for (const timeLimit of MODES) {
      for (const foodLevels of RULES) {
        const name = TASKS[out.length % TASKS.length];
        const cfg = task(name, { maxEpisodeSteps, timeLimit, foodLevels });
        out.push([`${name} ${maxEpisodeSteps} ${timeLimit} ${foodLevels}`, cfg]);
      }
    }
  }
  return out;
}

function fail(msg: string): never {
  throw new Error(msg);
}

gpuTest("lbfStep() with options equals the reference on random states", async (engine) => {
  const rng = new HostRng(31, RNG_PURPOSE.test);
  let truncations = 0, terminations = 0;
  for (const [name, cfg] of combinations()) {
    const numEnvs = 29;
    // Half of the envs one or two steps before the limit, so that the limit is reached.
    const states = Array.from({ length: numEnvs }, (_, e) => {
      const s = randomState(cfg, rng, e);
      const near = Math.max(0, cfg.maxEpisodeSteps - 1 - rng.below(2));
      return rng.unit() < 0.5 ? { ...s, step: near } : s;
    });
    const pair = await makePair(engine, cfg, { numEnvs, seed: 5, states });
    const ends = await rolloutPair(
      pair,
      3,
      () => randomActions(rng, cfg, numEnvs, 0.5),
      (got, k) => {
        assertSame(got, pair.ref, `${name} step ${k}`);
      },
    );
    if (cfg.timeLimit === "terminate" && ends.truncated > 0) fail(`${name}: truncated`);
    if (cfg.timeLimit === "truncate") truncations += ends.truncated;
    terminations += ends.terminated;
  }
  console.log(`${truncations} truncations, ${terminations} terminations`);
  if (truncations < 50 || terminations < 50) fail(`${truncations} truncations, ${terminations}`);
});

gpuTest("lbfStep() rollouts with options and auto-reset equal the reference", async (engine) => {
  const rng = new HostRng(43, RNG_PURPOSE.test);
  for (const [name, cfg] of combinations()) {
    const numEnvs = 13, steps = 2 * cfg.maxEpisodeSteps + 5;
    const pair = await makePair(engine, cfg, { numEnvs, seed: 19 });
    const ends = await rolloutPair(
      pair,
      steps,
      () => randomActions(rng, cfg, numEnvs),
      (got, t) => {
        assertSame(got, pair.ref, `${name} t ${t}`);
      },
    );
    // Every env ends at least two episodes; time-outs are truncations only when asked for.
    const total = ends.terminated + ends.truncated;
    if (total < 2 * numEnvs) fail(`${name}: ${JSON.stringify(ends)} episode ends`);
    if ((cfg.timeLimit === "truncate") !== (ends.truncated > 0)) {
      fail(`${name}: ${JSON.stringify(ends)} episode ends`);
    }
  }
});

/** A state one step before `limit`: player 0 (level 2) east of food (level 2), a second food. */
function beforeLimit(cfg: LbfConfig, foods: number): LbfState {
  const food = [{ row: 2, col: 2, level: 2 }, { row: 5, col: 5, level: 1 }].slice(0, foods);
  return {
    step: cfg.maxEpisodeSteps - 1,
    episode: 3,
    players: [{ row: 2, col: 3, level: 2 }, { row: 7, col: 0, level: 1 }],
    food,
    foodSpawned: food.reduce((s, f) => s + f.level, 0),
    scores: [0, 0],
  };
}

/** (load, foods left) → the flags each mode must report at the limit. */
const LIMIT_CASES: [string, number, number, Record<string, [boolean, boolean]>][] = [
  ["food left", LBF_ACTIONS.none, 1, { truncate: [false, true], terminate: [true, false] }],
  ["last food eaten", LBF_ACTIONS.load, 1, { truncate: [true, false], terminate: [true, false] }],
  ["food eaten, one left", LBF_ACTIONS.load, 2, {
    truncate: [false, true],
    terminate: [true, false],
  }],
];

Deno.test("lbfStepReference() reports the time limit as timeLimit says", () => {
  for (const mode of MODES) {
    const cfg = task("Foraging-8x8-2p-2f", { maxEpisodeSteps: 7, timeLimit: mode });
    for (const [what, action, foods, flags] of LIMIT_CASES) {
      const s = beforeLimit(cfg, foods);
      const at = lbfStepReference(cfg, s, [action, LBF_ACTIONS.none]);
      assertEq([at.terminated, at.truncated], flags[mode], `${mode} ${what} at the limit`);
      // One step earlier nothing ends unless the last food is eaten.
      const early = lbfStepReference(cfg, { ...s, step: s.step - 1 }, [action, LBF_ACTIONS.none]);
      const cleared = foods === 1 && action === LBF_ACTIONS.load;
      assertEq([early.terminated, early.truncated], [cleared, false], `${mode} ${what} before`);
    }
  }
});

gpuTest("lbfStep() reports the time limit as timeLimit says", async (engine) => {
  for (const mode of MODES) {
    const cfg = task("Foraging-8x8-2p-2f", { maxEpisodeSteps: 7, timeLimit: mode });
    const states = LIMIT_CASES.map(([, , foods]) => beforeLimit(cfg, foods));
    const pair = await makePair(engine, cfg, { numEnvs: states.length, seed: 2, states });
    const n = states.length, actions = new Uint32Array(2 * n);
    LIMIT_CASES.forEach(([, action], e) => actions[e] = action);
    pair.step(actions);
    const got = await pair.read();
    assertSame(got, pair.ref, `${mode} limit cases`);
    LIMIT_CASES.forEach(([what, , , flags], e) => {
      const want = flags[mode].map(Number);
      assertEq([got.terminated[e], got.truncated[e]], want, `${mode} ${what} (GPU)`);
      assertEq([got.episodeStep[e], got.states[e].episode], [0, 4], `${mode} ${what} reset`);
    });
  }
});

Deno.test("LbfReferenceVec ends truncated episodes after maxEpisodeSteps and resets them", () => {
  const cfg = task("Foraging-12x12-2p-1f", { maxEpisodeSteps: 25, timeLimit: "truncate" });
  const vec = new LbfReferenceVec(cfg, { numEnvs: 4, seed: 3 });
  const none = new Uint32Array(2 * 4); // nobody loads: every episode runs into the limit
  for (let t = 1; t <= 50; t++) {
    vec.step(none);
    const end = t % 25 === 0;
    assertEq([...vec.truncated], [1, 1, 1, 1].map((x) => (end ? x : 0)), `truncated at ${t}`);
    assertEq([...vec.terminated], [0, 0, 0, 0], `terminated at ${t}`);
    assertEq([...vec.episodeStep], new Array(4).fill(end ? 0 : t % 25), `episodeStep at ${t}`);
  }
  assertEq(vec.states.map((s) => s.episode), [2, 2, 2, 2], "episodes after 50 steps");
});

Deno.test("lbfResetReference() with foodLevels v0 follows lbforaging v0's food levels", () => {
  const configs = [
    task("Foraging-10x10-4p-3f"),
    task("Foraging-8x8-2p-2f"),
    task("Foraging-15x15-3p-4f-coop"),
    task("Foraging-5x5-9p-9f"),
  ];
  for (const v3 of configs) {
    const v0 = { ...v3, foodLevels: "v0" as const };
    let prev0: LbfState | null = null, prev3: LbfState | null = null;
    let aboveV3Cap = 0, atTop = 0;
    const seen = new Set<number>();
    for (let episode = 0; episode < 300; episode++) {
      const a = lbfResetReference(v0, { seed: 8, env: 2, episode, previous: prev0 });
      const b = lbfResetReference(v3, { seed: 8, env: 2, episode, previous: prev3 });
      const where = `${v3.numPlayers}p coop ${v3.forceCoop} episode ${episode}`;
      // Same draws for everything but the levels: the same players and food cells.
      assertEq(a.players, b.players, `${where} players`);
      assertEq(a.food.map((f) => [f.row, f.col]), b.food.map((f) => [f.row, f.col]), where);
      const levels = a.players.map((p) => p.level).sort((x, y) => x - y);
      const cap = levels.reduce((s, l) => s + l, 0);
      const cap3 = levels.slice(0, 3).reduce((s, l) => s + l, 0);
      for (const f of a.food) {
        seen.add(f.level);
        if (v3.forceCoop && f.level !== cap) fail(`${where}: coop level ${f.level}, cap ${cap}`);
        if (!v3.forceCoop && (f.level < 1 || f.level > Math.max(1, cap - 1))) {
          fail(`${where}: level ${f.level} outside [1, ${cap - 1}]`);
        }
        if (f.level > cap3) aboveV3Cap++;
        if (f.level === cap - 1) atTop++;
      }
      assertEq(a.foodSpawned, a.food.reduce((s, f) => s + f.level, 0), `${where} food_spawned`);
      prev0 = a;
      prev3 = b;
    }
    if (!v3.forceCoop && atTop === 0) fail(`${v3.numPlayers}p: no food at level cap − 1`);
    if (v3.numPlayers > 3 && aboveV3Cap === 0) {
      fail(`${v3.numPlayers}p: no level above the three lowest players' sum`);
    }
    if (!v3.forceCoop && seen.size < 2) fail(`${v3.numPlayers}p: levels seen ${[...seen]}`);
  }
});

Deno.test("LBF.parseTask() and findTask() take the LBF options with checked values", () => {
  const name = "Foraging-8x8-2p-2f-coop";
  const plain = LBF.parseTask(name)!;
  const defaults = { maxEpisodeSteps: 50, timeLimit: "terminate", foodLevels: "v3" };
  assertEq(LBF.parseTask(name, defaults), plain, "defaults given explicitly");
  assertEq(findTask(name).spec, plain, "findTask without options");
  assertEq(findTask({ name }).spec, plain, "findTask of a map without options");
  assertEq(Object.keys(LBF.options!), Object.keys(defaults), "option names");
  for (const [k, v] of Object.entries(defaults)) assertEq(LBF.options![k].default, v, k);
  const seac = { maxEpisodeSteps: 25, timeLimit: "truncate", foodLevels: "v0" } as const;
  const spec = findTask({ name: `${name}-v3`, ...seac }).spec;
  assertEq([spec.name, spec.maxSteps], [name, 25], "spec of the SEAC setting");
  const cfg = spec.config as unknown as LbfConfig;
  assertEq([cfg.maxEpisodeSteps, cfg.timeLimit, cfg.foodLevels], [25, "truncate", "v0"], "config");
  assertEq(findTask(name, seac).spec, spec, "options as the second argument");
  assertEq(findTask({ name, maxEpisodeSteps: 3 }, seac).spec, spec, "the second argument wins");
  assertEq(parseLbfTask("Foraging-8x8-2p-2f-v2", seac), null, "unknown name with options");
  const throws = (fn: () => unknown, cls: new (...a: never[]) => Error, includes: string) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof cls) || !(e as Error).message.includes(includes)) {
        fail(`threw ${(e as Error).name}: ${(e as Error).message}, want ${cls.name} "${includes}"`);
      }
      return;
    }
    fail(`did not throw ${cls.name} "${includes}"`);
  };
  throws(() => findTask(name, { timeLimit: "cut" }), RangeError, `"timeLimit" must be "truncate"`);
  throws(() => findTask(name, { maxEpisodeSteps: 0 }), RangeError, "between 1 and");
  throws(() => findTask(name, { maxEpisodeSteps: 2.5 }), RangeError, "got 2.5");
  throws(() => findTask(name, { foodLevels: 0 }), TypeError, `"foodLevels" must be "v0" or "v3"`);
  throws(() => LBF.parseTask(name, { sight: 2 }), TypeError, `unknown key "sight"`);
  throws(() => findTask("pursuit", { maxEpisodeSteps: 25 }), TypeError, "(allowed: none)");
  throws(() => findTask("no-such-task", seac), TypeError, "Cannot find environment");
});
