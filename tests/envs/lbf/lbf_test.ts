// Level-Based Foraging: CPU reference vs the golden files of the Python env, GPU kernel vs CPU
// reference (golden states, random states, rollouts with auto-reset, resets), registry parse and
// reset rules.
import { createLbfEnv, LBF } from "../../../envs/lbf/env.ts";
import { type LbfConfig, lbfSpec, type LbfState } from "../../../envs/lbf/state.ts";
import { LbfReferenceVec, lbfResetReference } from "../../../envs/lbf/reference.ts";
import { listGolden, loadGolden } from "../../../envs/golden.ts";
import { replayLbfGoldenCpu, replayLbfGoldenGpu } from "../../../envs/lbf/golden_replay.ts";
import { HostRng, RNG_PURPOSE } from "../../../engine/rng.ts";
import { gpuTest } from "../../_testing.ts";
import {
  assertEq,
  assertGoldenCoverage,
  assertNoMismatch,
  replayGoldenCpu,
  rolloutPair,
} from "../_env_testing.ts";
import {
  assertSame,
  type GpuResult,
  makePair,
  randomActions,
  randomState,
  task,
} from "./_lbf_testing.ts";

const GOLDEN_FILES = await listGolden("Foraging-");

Deno.test({
  name: "lbfStepReference() replays every step of every LBF golden file",
  ignore: GOLDEN_FILES.length === 0,
  async fn() {
    // States, valid actions, effective actions, rewards, flags and observations of every reset and
    // step line (product replay: envs/lbf/golden_replay.ts).
    const { steps, summary } = await replayGoldenCpu(GOLDEN_FILES, replayLbfGoldenCpu);
    console.log(`replayed ${steps} golden LBF steps${summary}`);
    assertGoldenCoverage(steps >= 400, `only ${steps} golden LBF steps found`);
  },
});

// ---------------------------------------------------------------------------------------------
// GPU kernel vs CPU reference.

const RANDOM_CONFIGS: [string, LbfConfig][] = [
  ["8x8-2p-2f-coop", task("Foraging-8x8-2p-2f-coop")],
  ["10x10-3p-3f", task("Foraging-10x10-3p-3f")],
  ["2s-8x8-3p-2f", task("Foraging-2s-8x8-3p-2f")],
  ["1s-7x7-4p-3f penalty 0.25", task("Foraging-1s-7x7-4p-3f", { penalty: 0.25 })],
  [
    "6x6-5p-2f-coop unnormalised levels 1..3",
    task("Foraging-6x6-5p-2f-coop", {
      normalizeReward: false,
      maxPlayerLevel: 3,
    }),
  ],
  ["5x5-9p-9f", task("Foraging-5x5-9p-9f")],
];

gpuTest("lbfStep() equals the reference on every golden LBF step state", async (engine) => {
  let total = 0;
  for (const path of GOLDEN_FILES) {
    // Every step state of a file is one env, one dispatch; golden rewards, flags, states and
    // observations on the GPU (product replay), then everything against the reference vec.
    const r = await replayLbfGoldenGpu(engine, await loadGolden(path));
    assertNoMismatch(r, path);
    const ref = new LbfReferenceVec(r.cfg, { numEnvs: r.states.length, seed: r.seed });
    ref.setStates([...r.states]);
    ref.step(r.actions);
    assertSame(r.read as unknown as GpuResult, ref, path);
    total += r.states.length;
  }
  assertGoldenCoverage(total >= 400, `only ${total} golden states`);
});

gpuTest("lbfStep() equals the reference on random states of six configs", async (engine) => {
  const rng = new HostRng(5, RNG_PURPOSE.test);
  let loads = 0, failedLoads = 0;
  for (const [name, cfg] of RANDOM_CONFIGS) {
    const numEnvs = 61;
    const states = Array.from({ length: numEnvs }, (_, e) => randomState(cfg, rng, e));
    const pair = await makePair(engine, cfg, { numEnvs, seed: 3, states });
    await rolloutPair(pair, 3, () => randomActions(rng, cfg, numEnvs, 0.5), (got, k) => {
      assertSame(got, pair.ref, `${name} step ${k}`);
      for (const r of pair.ref.reward) {
        if (r > 0) loads++;
        if (r < 0) failedLoads++;
      }
    });
  }
  // Enough successful loads (exact reward division) and penalised failed loads were exercised.
  console.log(`${loads} rewarded loads, ${failedLoads} penalised loads`);
  if (loads < 100 || failedLoads < 10) throw new Error(`${loads} loads, ${failedLoads} failed`);
});

gpuTest("lbfReset() equals lbfResetReference() for every env", async (engine) => {
  for (const [name, cfg] of RANDOM_CONFIGS) {
    const pair = await makePair(engine, cfg, { numEnvs: 37, seed: 1234 });
    assertSame(await pair.read(), pair.ref, `${name} reset`);
  }
});

gpuTest("LbfEnv.render() draws foods and players of the GPU state", async (engine) => {
  const cfg = task("Foraging-8x8-2p-2f-coop");
  const env = await createLbfEnv(engine, lbfSpec(cfg), { numEnvs: 3, seed: 8 });
  const state: LbfState = {
    step: 4,
    episode: 2,
    players: [{ row: 0, col: 1, level: 2 }, { row: 7, col: 7, level: 1 }],
    food: [{ row: 2, col: 3, level: 3 }, { row: 5, col: 6, level: 3 }],
    foodSpawned: 6,
    scores: [0, 0.5],
  };
  env.writeStates([state, state, state]);
  const lines = (await env.render(1)).split("\n");
  assertEq(lines[0], "step 4 episode 2", "render header");
  assertEq(
    lines.slice(1, 9),
    [
      ".A......",
      "........",
      "...3....",
      "........",
      "........",
      "......3.",
      "........",
      ".......B",
    ],
    "render grid",
  );
  assertEq(lines[10], "B (7, 7) level 1 score 0.5", "render player line");
});

gpuTest("lbfStep() rollouts with auto-reset equal the reference step by step", async (engine) => {
  const rng = new HostRng(9, RNG_PURPOSE.test);
  const runs: [string, LbfConfig, number][] = [
    ["8x8-2p-2f-coop", task("Foraging-8x8-2p-2f-coop"), 110],
    ["2s-8x8-3p-2f", task("Foraging-2s-8x8-3p-2f"), 60],
    ["5x5-9p-9f", task("Foraging-5x5-9p-9f", { maxEpisodeSteps: 7 }), 30],
  ];
  let ends = 0;
  for (const [name, cfg, steps] of runs) {
    const numEnvs = 19;
    const pair = await makePair(engine, cfg, { numEnvs, seed: 77 });
    const done = await rolloutPair(
      pair,
      steps,
      () => randomActions(rng, cfg, numEnvs),
      (got, t) => {
        assertSame(got, pair.ref, `${name} t ${t}`);
      },
    );
    ends += done.terminated;
  }
  if (ends < 50) throw new Error(`only ${ends} episode ends in the rollouts`);
});

// ---------------------------------------------------------------------------------------------
// Registry and reset rules (CPU only).

Deno.test("LBF.parseTask() parses the reference's task names with its parameters", () => {
  const cases: [string, Partial<LbfConfig>, number][] = [
    [
      "Foraging-8x8-2p-2f-coop",
      { rows: 8, numPlayers: 2, numFood: 2, sight: 8, forceCoop: true },
      12,
    ],
    [
      "Foraging-10x10-3p-3f",
      { rows: 10, numPlayers: 3, numFood: 3, sight: 10, forceCoop: false },
      18,
    ],
    ["Foraging-12x12-2p-1f", { rows: 12, numPlayers: 2, numFood: 1, sight: 12 }, 9],
    ["Foraging-15x15-3p-4f", { rows: 15, numPlayers: 3, numFood: 4, sight: 15 }, 21],
    ["Foraging-2s-8x8-3p-2f", { rows: 8, numPlayers: 3, numFood: 2, sight: 2 }, 15],
    ["Foraging-2s-8x8-2p-2f-coop-v3", { rows: 8, sight: 2, forceCoop: true }, 12],
    ["Foraging-15x15-4p-5f", { rows: 15, cols: 15, numPlayers: 4, numFood: 5 }, 27],
  ];
  for (const [name, want, obsLen] of cases) {
    const spec = LBF.parseTask(name);
    if (!spec) throw new Error(`${name} did not parse`);
    const cfg = spec.config as unknown as LbfConfig;
    for (const [k, v] of Object.entries(want)) {
      assertEq(cfg[k as keyof LbfConfig], v, `${name} ${k}`);
    }
    assertEq(
      [cfg.maxEpisodeSteps, cfg.minPlayerLevel, cfg.maxPlayerLevel, cfg.minFoodLevel, cfg.penalty],
      [50, 1, 2, 1, 0],
      `${name} fixed parameters`,
    );
    assertEq(cfg.normalizeReward, true, `${name} normalizeReward`);
    assertEq(
      [spec.family, spec.numAgents, spec.obsShape, spec.obsDType, spec.numActions, spec.maxSteps],
      ["lbf", cfg.numPlayers, [obsLen], "f32", 6, 50],
      `${name} spec`,
    );
    assertEq(spec.name, name.replace(/-v3$/, ""), `${name} spec name`);
  }
  for (const task of LBF.tasks) if (!LBF.parseTask(task)) throw new Error(`${task} did not parse`);
  const bad = [
    "Foraging-8x8-2p-2f-coop-v2",
    "Foraging-8x9-2p-2f",
    "Foraging-4x4-2p-1f",
    "Foraging-20x20-2p-1f",
    "Foraging-8x8-1p-1f",
    "Foraging-8x8-10p-1f",
    "Foraging-8x8-2p-0f",
    "Foraging-8s-8x8-2p-2f",
    "foraging-8x8-2p-2f",
    "rware-tiny-2ag",
  ];
  for (const name of bad) if (LBF.parseTask(name) !== null) throw new Error(`${name} parsed`);
});

Deno.test("lbfResetReference() follows the spawning rules of the reference", () => {
  const configs = [
    task("Foraging-8x8-2p-2f-coop"),
    task("Foraging-15x15-4p-5f"),
    task("Foraging-5x5-9p-9f"),
    task("Foraging-10x10-3p-3f"),
  ];
  for (const cfg of configs) {
    let prev: LbfState | null = null;
    const levelsSeen = new Set<number>();
    for (let episode = 0; episode < 300; episode++) {
      const s = lbfResetReference(cfg, { seed: 21, env: 4, episode, previous: prev });
      const where = `${lbfSpec(cfg).name} episode ${episode}`;
      const cells = s.players.map((p) => `${p.row},${p.col}`);
      if (new Set(cells).size !== cells.length) throw new Error(`${where}: players share a cell`);
      // A player never spawns on a cell still held by a player not yet re-placed (quirk L7).
      s.players.forEach((p, i) => {
        for (const q of prev?.players.slice(i) ?? []) {
          if (p.row === q.row && p.col === q.col) {
            throw new Error(`${where}: spawned on stale cell`);
          }
        }
        if (p.level < 1 || p.level > 2) throw new Error(`${where}: level ${p.level}`);
      });
      const cap = s.players.map((p) => p.level).sort((a, b) => a - b).slice(0, 3)
        .reduce((a, b) => a + b, 0);
      for (const f of s.food) {
        levelsSeen.add(f.level);
        const inner = f.row >= 1 && f.row <= cfg.rows - 2 && f.col >= 1 && f.col <= cfg.cols - 2;
        if (!inner) throw new Error(`${where}: food on the outer ring`);
        if (f.level < 1 || f.level > cap) throw new Error(`${where}: food level ${f.level}`);
        if (cfg.forceCoop && f.level !== cap) throw new Error(`${where}: coop food ${f.level}`);
        if (cells.includes(`${f.row},${f.col}`)) throw new Error(`${where}: player on food`);
        for (const g of s.food) {
          if (g === f) continue;
          const dr = Math.abs(f.row - g.row), dc = Math.abs(f.col - g.col);
          if (dr + dc < 3 || (dr <= 1 && dc <= 1)) throw new Error(`${where}: foods too close`);
        }
      }
      assertEq(
        s.food.map((f) => f.row * cfg.cols + f.col),
        s.food.map((f) => f.row * cfg.cols + f.col).sort((a, b) => a - b),
        `${where} row-major`,
      );
      assertEq(s.foodSpawned, s.food.reduce((a, f) => a + f.level, 0), `${where} food_spawned`);
      if (cfg.rows >= 8 && s.food.length !== cfg.numFood) {
        throw new Error(`${where}: placed ${s.food.length} of ${cfg.numFood} foods`);
      }
      assertEq([s.step, s.episode, s.scores.every((v) => v === 0)], [0, episode, true], where);
      prev = { ...s, players: s.players.map((p) => ({ ...p })) };
    }
    if (!cfg.forceCoop && levelsSeen.size < 3) {
      throw new Error(`food levels seen: ${[...levelsSeen]}`);
    }
  }
});

Deno.test("LbfReferenceVec random-policy returns match the reference's statistics", () => {
  // Spec §11 (300 episodes of the Python env, uniform actions): mean team return per episode.
  const cases: [string, number][] = [
    ["Foraging-10x10-3p-3f", 0.075],
    ["Foraging-15x15-3p-4f", 0.041],
  ];
  for (const [name, want] of cases) {
    const cfg = task(name);
    const numEnvs = 64, episodes = 20;
    const vec = new LbfReferenceVec(cfg, { numEnvs, seed: 2 });
    const rng = new HostRng(17, RNG_PURPOSE.test);
    const returns: number[] = [];
    const acc = new Float64Array(numEnvs);
    const actions = new Uint32Array(cfg.numPlayers * numEnvs);
    for (let t = 0; t < episodes * cfg.maxEpisodeSteps; t++) {
      for (let i = 0; i < actions.length; i++) actions[i] = rng.below(6);
      vec.step(actions);
      for (let e = 0; e < numEnvs; e++) {
        for (let p = 0; p < cfg.numPlayers; p++) acc[e] += vec.reward[p * numEnvs + e];
        if (vec.terminated[e]) {
          returns.push(acc[e]);
          acc[e] = 0;
        }
      }
    }
    const n = returns.length, mean = returns.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(returns.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    // Both sides are estimates (the reference's from 300 episodes): allow 3 combined standard errors.
    const tol = 3 * Math.sqrt(sd * sd / n + sd * sd / 300);
    console.log(`${name}: ${mean.toFixed(4)} ± ${(sd / Math.sqrt(n)).toFixed(4)} (${n} episodes)`);
    if (Math.abs(mean - want) > tol) {
      throw new Error(
        `${name}: mean return ${mean} over ${n} episodes, reference ${want} ± ${tol}`,
      );
    }
  }
});
