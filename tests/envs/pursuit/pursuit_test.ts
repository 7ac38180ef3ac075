// Pursuit: CPU reference vs the golden files of the Python env, GPU kernels vs the CPU reference
// (golden states with injected evader moves, random states of several configs, resets, rollouts
// with auto-reset), registry parse, map, reset rules and the reference's return statistics.
import {
  createPursuitEnv,
  packPursuitStates,
  parsePursuitTask,
  PURSUIT,
  PURSUIT_DEFAULTS,
  type PursuitConfig,
  pursuitConfigFromGolden,
  type PursuitEnv,
  type PursuitGoldenState,
  pursuitObstacles,
  pursuitRewardTable,
  pursuitSpec,
  type PursuitState,
  pursuitTagMax,
  unpackPursuitStates,
} from "../../../envs/pursuit/env.ts";
import {
  pursuitMapReference,
  PursuitReferenceVec,
  pursuitResetReference,
  pursuitStepReference,
} from "../../../envs/pursuit/reference.ts";
import { listGolden, loadGolden } from "../../../envs/golden.ts";
import {
  replayPursuitGoldenCpu,
  replayPursuitGoldenGpu,
} from "../../../envs/pursuit/golden_replay.ts";
import type { Engine } from "../../../engine/device.ts";
import { HostRng, RNG_PURPOSE } from "../../../engine/rng.ts";
import { assertAllClose, assertExact, gpuTest } from "../../_testing.ts";
import {
  assertEq,
  assertGoldenCoverage,
  assertNoMismatch,
  assertSameOutputs,
  biasedActions,
  GOLDEN_FIXTURE_SET,
  readStepOutputs,
  replayGoldenCpu,
  resetWithStates,
  rolloutPair,
  stepEnv,
} from "../_env_testing.ts";

const GOLDEN_FILES = await listGolden("pursuit");

/** Checks §4's placement rules on a state right after a reset. */
function assertResetRules(cfg: PursuitConfig, s: PursuitState, what: string): void {
  const map = pursuitMapReference(cfg);
  assertEq(
    [s.frames, s.pursuers.length, s.evaders.length],
    [0, cfg.numPursuers, cfg.numEvaders],
    what,
  );
  assertEq(s.evaders.map((v) => v.id), [...Array(cfg.numEvaders).keys()], `${what} evader ids`);
  for (const group of [s.pursuers, s.evaders]) {
    group.forEach((c, i) => {
      if (map[c.x]?.[c.y] !== false) throw new Error(`${what}: agent ${i} on (${c.x}, ${c.y})`);
      for (let j = 0; j < i; j++) {
        if (Math.abs(group[j].x - c.x) + Math.abs(group[j].y - c.y) <= 1) {
          throw new Error(`${what}: agents ${j} and ${i} of one kind touch at (${c.x}, ${c.y})`);
        }
      }
    });
  }
}

Deno.test({
  name: "pursuitStepReference() replays every step of every Pursuit golden file",
  ignore: GOLDEN_FILES.length === 0,
  async fn() {
    // Rewards bit for bit: the float64 sum in sub-step order reproduces the reference (spec §7.3).
    const { steps, stats, summary } = await replayGoldenCpu(
      GOLDEN_FILES,
      (file) => replayPursuitGoldenCpu(file, { atol: 0 }),
    );
    console.log(
      `replayed ${steps} golden Pursuit steps (${stats.captures} captures, ${stats.truncations} truncations)${summary}`,
    );
    assertGoldenCoverage(
      steps >= 260 && stats.captures >= 17 && stats.truncations >= 1,
      `golden coverage too low: ${steps} steps, ${stats.captures} captures`,
    );
  },
});

// ---------------------------------------------------------------------------------------------
// GPU vs reference.

type GpuRead = Awaited<ReturnType<typeof readPair>>;

function readPair(engine: Engine, env: PursuitEnv) {
  return readStepOutputs(engine, env.buffers, { state: env.state });
}

/** A GPU env and a reference vec over the same envs, stepped with the same actions. */
async function makePair(
  engine: Engine,
  cfg: PursuitConfig,
  options: { numEnvs: number; seed: number; states?: PursuitState[] },
) {
  const env: PursuitEnv = await createPursuitEnv(engine, pursuitSpec(cfg, "pursuit-test"), options);
  const ref = new PursuitReferenceVec(cfg, options);
  resetWithStates(engine, env, ref, options.states);
  return {
    env,
    ref,
    step(actions: Uint32Array, evaderActions?: Uint32Array) {
      stepEnv(engine, env, actions, (e) => {
        if (evaderActions) {
          env.writeEvaderActions(evaderActions);
          env.encodeStepInjected(e);
        } else {
          env.encodeStep(e);
        }
      });
      ref.step(actions, evaderActions);
    },
    read: (): Promise<GpuRead> => readPair(engine, env),
  };
}

function assertSame(got: GpuRead, ref: PursuitReferenceVec, what: string): void {
  assertExact(got.state, packPursuitStates(ref.cfg, ref.states), `${what} state`);
  assertSameOutputs(got, ref, what);
  assertExact(got.terminalObs, ref.terminalObs, `${what} terminalObs`);
}

function randomActions(rng: HostRng, cfg: PursuitConfig, numEnvs: number, stay = 0): Uint32Array {
  return biasedActions(rng, cfg.numPursuers * numEnvs, { numActions: 5, favoured: 4, p: stay });
}

/**
 * A random state: agents on open cells, some evaders caught, and a few evaders with pursuers on
 * (most of) their neighbours, so that captures happen; frames near the horizon now and then.
 */
function randomState(cfg: PursuitConfig, rng: HostRng, e: number): PursuitState {
  const map = pursuitMapReference(cfg);
  const open = (): { x: number; y: number } => {
    for (;;) {
      const x = rng.below(cfg.xSize), y = rng.below(cfg.ySize);
      if (!map[x][y]) return { x, y };
    }
  };
  const evaders = Array.from({ length: cfg.numEvaders }, (_, id) => ({ id, ...open() }))
    .filter(() => rng.unit() < 0.8);
  const pursuers = Array.from({ length: cfg.numPursuers }, open);
  let i = 0;
  for (const v of evaders.slice(0, 3)) {
    for (const [dx, dy] of [[-1, 0], [1, 0], [0, 1], [0, -1]]) {
      const x = v.x + dx, y = v.y + dy;
      const free = x >= 0 && y >= 0 && x < cfg.xSize && y < cfg.ySize && !map[x][y];
      if (free && i < cfg.numPursuers && rng.unit() < 0.9) pursuers[i++] = { x, y };
    }
    if (!cfg.surround && i < cfg.numPursuers) pursuers[i++] = { x: v.x, y: v.y };
  }
  const frames = rng.unit() < 0.2 ? cfg.maxCycles - 1 : rng.below(cfg.maxCycles);
  return { frames, episode: e % 5, cycles: frames + rng.below(1000), pursuers, evaders };
}

const RANDOM_CONFIGS: [string, PursuitConfig][] = [
  ["pursuit", PURSUIT_DEFAULTS],
  ["n_catch 2", { ...PURSUIT_DEFAULTS, surround: false, numCatch: 2 }],
  ["9x7 4p 5e frozen", {
    ...PURSUIT_DEFAULTS,
    xSize: 9,
    ySize: 7,
    numPursuers: 4,
    numEvaders: 5,
    obsRange: 5,
    freezeEvaders: true,
    maxCycles: 20,
  }],
  ["12x20 16p 64e", { ...PURSUIT_DEFAULTS, xSize: 12, ySize: 20, numPursuers: 16, numEvaders: 64 }],
];

gpuTest(
  "pursuitStep() equals the reference and the golden files on every golden state",
  async (engine) => {
    let total = 0;
    for (const path of GOLDEN_FILES) {
      // All step states of a file in one dispatch, evader moves injected (product replay).
      const r = await replayPursuitGoldenGpu(engine, await loadGolden(path));
      assertNoMismatch(r, path);
      const ref = new PursuitReferenceVec(r.cfg, { numEnvs: r.states.length, seed: r.seed });
      ref.setStates([...r.states]);
      ref.step(r.actions, r.evaderActions);
      assertSame({ ...r.read, state: r.read.words } as unknown as GpuRead, ref, path);
      total += r.states.length;
    }
    assertGoldenCoverage(total >= 260, `only ${total} golden states`);
  },
);

gpuTest("pursuitStep() equals the reference on random states of four configs", async (engine) => {
  const rng = new HostRng(5, RNG_PURPOSE.test);
  let caught = 0;
  for (const [name, cfg] of RANDOM_CONFIGS) {
    const numEnvs = 53;
    const states = Array.from({ length: numEnvs }, (_, e) => randomState(cfg, rng, e));
    const pair = await makePair(engine, cfg, { numEnvs, seed: 3, states });
    await rolloutPair(pair, 3, () => randomActions(rng, cfg, numEnvs, 0.6), (got, k) => {
      assertSame(got, pair.ref, `${name} step ${k}`);
      caught += pair.ref.last.reduce((s, r) => s + (r?.caught.length ?? 0), 0);
    });
  }
  if (caught < 50) throw new Error(`only ${caught} captures in the random states`);
});

gpuTest(
  "pursuitStep() ends episodes by capture and by the horizon, truncation first (Q8)",
  async (engine) => {
    // One evader in the corner (0, 0) needs pursuers on (1, 0) and (0, 1) (spec §6.1); they stay.
    const cfg = { ...PURSUIT_DEFAULTS, maxCycles: 50 };
    const corner = (frames: number, ring: number): PursuitState => ({
      frames,
      episode: 0,
      cycles: frames,
      pursuers: Array.from(
        { length: 8 },
        (_, i) => (i < ring ? [{ x: 1, y: 0 }, { x: 0, y: 1 }][i] : { x: 15, y: 15 }),
      ),
      evaders: [{ id: 4, x: 0, y: 0 }],
    });
    const states = [corner(10, 2), corner(49, 2), corner(49, 1), corner(10, 1)];
    const pair = await makePair(engine, cfg, { numEnvs: 4, seed: 5, states });
    pair.step(new Uint32Array(8 * 4).fill(4));
    const got = await pair.read();
    assertSame(got, pair.ref, "corner states");
    assertEq([...got.terminated], [1, 0, 0, 0], "terminated");
    assertEq([...got.truncated], [0, 1, 1, 0], "truncated");
    const r = (i: number, e: number) => got.reward[i * 4 + e];
    // Catchers get catch_reward once; the tag term counts the evader next to each catcher.
    assertEq(
      [r(0, 0), r(1, 0), r(2, 0)].map((v) => v.toFixed(4)),
      ["4.9100", "4.9100", "-0.1000"],
      "rewards",
    );
    assertEq(got.episodeStep[0], 0, "episodeStep after the reset");
  },
);

gpuTest("pursuitReset() equals pursuitResetReference() for every env", async (engine) => {
  for (const [name, cfg] of RANDOM_CONFIGS) {
    const pair = await makePair(engine, cfg, { numEnvs: 37, seed: 1234 });
    assertSame(await pair.read(), pair.ref, `${name} reset`);
  }
});

gpuTest(
  "pursuitStep() rollouts with auto-reset equal the reference step by step",
  async (engine) => {
    const rng = new HostRng(9, RNG_PURPOSE.test);
    const runs: [string, PursuitConfig, number][] = [
      ["pursuit-max-cycles-12", parsePursuitTask("pursuit-max-cycles-12")!, 40],
      ["6x5 5p 2e n_catch 1", {
        ...PURSUIT_DEFAULTS,
        xSize: 6,
        ySize: 5,
        numPursuers: 5,
        numEvaders: 2,
        surround: false,
        numCatch: 1,
        maxCycles: 30,
      }, 40],
      ["4x4 6p 1e", {
        ...PURSUIT_DEFAULTS,
        xSize: 4,
        ySize: 4,
        numPursuers: 6,
        numEvaders: 1,
        obsRange: 3,
        maxCycles: 25,
      }, 40],
    ];
    let terms = 0, truncs = 0;
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
      terms += done.terminated;
      truncs += done.truncated;
      console.log(`${name}: ${terms} terminations, ${truncs} truncations so far`);
    }
    if (terms < 5 || truncs < 20) {
      throw new Error(
        `only ${terms} terminations, ${truncs} truncations`,
      );
    }
  },
);

// ---------------------------------------------------------------------------------------------
// Registry, map, state layout, reset rules and statistics (CPU only).

Deno.test("PURSUIT.parseTask() parses the task names with the reference's parameters", () => {
  const spec = PURSUIT.parseTask("pursuit")!;
  assertEq(
    [spec.name, spec.family, spec.numAgents, spec.obsShape, spec.obsDType, spec.numActions],
    ["pursuit", "pursuit", 8, [7, 7, 3], "u8", 5],
    "pursuit spec",
  );
  assertEq(spec.maxSteps, 500, "max cycles");
  assertEq(spec.config, { ...PURSUIT_DEFAULTS }, "pursuit config");
  assertEq(
    [PURSUIT_DEFAULTS.numEvaders, PURSUIT_DEFAULTS.xSize, PURSUIT_DEFAULTS.ySize],
    [30, 16, 16],
    "sizes",
  );
  assertEq(
    [PURSUIT_DEFAULTS.surround, PURSUIT_DEFAULTS.numCatch, PURSUIT_DEFAULTS.sharedReward],
    [true, 2, false],
    "capture and reward mode",
  );
  assertEq(
    [PURSUIT_DEFAULTS.tagReward, PURSUIT_DEFAULTS.catchReward, PURSUIT_DEFAULTS.urgencyReward],
    [0.01, 5, -0.1],
    "reward constants",
  );
  const short = PURSUIT.parseTask("pursuit-max-cycles-60")!;
  assertEq([short.name, short.maxSteps], ["pursuit-max-cycles-60", 60], "max-cycles override");
  assertEq(PURSUIT.parseTask("pursuit-v5")?.name, "pursuit", "version suffix");
  for (const bad of ["Pursuit", "pursuit-max-cycles-0", "pursuit-max-cycles-", "rware-tiny-2ag"]) {
    assertEq(PURSUIT.parseTask(bad), null, `parse of "${bad}"`);
  }
  for (const t of PURSUIT.tasks) if (!PURSUIT.parseTask(t)) throw new Error(`task ${t} unparsed`);
});

Deno.test({
  name: "golden headers parse to the registry's configs and maps",
  ignore: GOLDEN_FILES.length === 0,
  async fn() {
    for (const path of GOLDEN_FILES) {
      const file = await loadGolden<PursuitGoldenState>(path);
      const cfg = pursuitConfigFromGolden(file.header);
      // A header that names a registered task has its config (other files build from theirs).
      const registered = PURSUIT.parseTask(file.header.env);
      if (registered || GOLDEN_FIXTURE_SET) assertEq(cfg, registered?.config, `${path} config`);
      const rows = (file.header.static as { map_rows: string[] }).map_rows;
      const map = pursuitMapReference(cfg), gpuMap = pursuitObstacles(cfg);
      rows.forEach((row, y) =>
        [...row].forEach((ch, x) => {
          assertEq(map[x][y], ch === "#", `${path} map (${x}, ${y})`);
          assertEq(gpuMap[x * cfg.ySize + y], ch === "#" ? 1 : 0, `${path} GPU map (${x}, ${y})`);
        })
      );
    }
  },
});

Deno.test("pursuitStepReference() keeps frozen evaders still and shares rewards on request", () => {
  const rng = new HostRng(12, RNG_PURPOSE.test);
  const frozen = { ...PURSUIT_DEFAULTS, freezeEvaders: true };
  const shared = { ...PURSUIT_DEFAULTS, sharedReward: true };
  for (let e = 0; e < 20; e++) {
    const s = randomState(PURSUIT_DEFAULTS, rng, e);
    const acts = Array.from(randomActions(rng, PURSUIT_DEFAULTS, 1));
    const f = pursuitStepReference(frozen, s, acts, () => 0);
    const kept = s.evaders.filter((v) => !f.caught.includes(v.id));
    assertEq(f.state.evaders, kept, `frozen evaders ${e}`);
    const own = pursuitStepReference(PURSUIT_DEFAULTS, s, acts, (id) => id % 5);
    const team = pursuitStepReference(shared, s, acts, (id) => id % 5);
    const mean = own.rewards.reduce((a, b) => a + b, 0) / own.rewards.length;
    assertAllClose(team.rewards, own.rewards.map(() => mean), { atol: 1e-12, rtol: 0 }, "shared");
  }
});

Deno.test("createPursuitEnv() rejects configs the kernels cannot run", async () => {
  const engine = null as unknown as Engine; // rejected before the engine is used
  const bad: [Partial<PursuitConfig>, string][] = [
    [{ sharedReward: true }, "sharedReward"],
    [{ numPursuers: 17 }, "17 pursuers"],
    [{ numEvaders: 65 }, "65 evaders"],
    [{ obsRange: 6 }, "obsRange 6"],
    [{ constraintWindow: 0.5 }, "constraintWindow"],
  ];
  for (const [change, words] of bad) {
    const spec = pursuitSpec({ ...PURSUIT_DEFAULTS, ...change });
    const err = await createPursuitEnv(engine, spec, { numEnvs: 4, seed: 1 }).then(
      () => null,
      (e: Error) => e,
    );
    if (!err?.message.includes(words)) throw new Error(`${words}: got ${err?.message}`);
  }
});

Deno.test("pursuitRewardTable() holds the closed form of spec §7.3 at every entry", () => {
  for (const cfg of [PURSUIT_DEFAULTS, { ...PURSUIT_DEFAULTS, numPursuers: 3, numEvaders: 4 }]) {
    const N = cfg.numPursuers, side = pursuitTagMax(cfg) + 1, table = pursuitRewardTable(cfg);
    assertEq(table.length, N * side * side * 2, "table size");
    const want = new Float64Array(table.length);
    for (let i = 0; i < N; i++) {
      for (let tOld = 0; tOld < side; tOld++) {
        for (let tNew = 0; tNew < side; tNew++) {
          for (let c = 0; c < 2; c++) {
            want[((i * side + tOld) * side + tNew) * 2 + c] =
              (cfg.tagReward / N) * (i * tOld + (N - i) * tNew) + cfg.catchReward * c +
              cfg.urgencyReward;
          }
        }
      }
    }
    assertAllClose(table, want, { atol: 1e-6, rtol: 1e-6 }, `reward table of ${N} pursuers`);
  }
});

Deno.test("packPursuitStates() and unpackPursuitStates() round-trip states", () => {
  const rng = new HostRng(3, RNG_PURPOSE.test);
  for (const [name, cfg] of RANDOM_CONFIGS) {
    const states = Array.from({ length: 9 }, (_, e) => randomState(cfg, rng, e));
    assertEq(unpackPursuitStates(cfg, packPursuitStates(cfg, states)), states, name);
  }
});

Deno.test("pursuitResetReference() follows the placement rules of the reference", () => {
  for (const [name, cfg] of RANDOM_CONFIGS) {
    for (let env = 0; env < 20; env++) {
      const at = { seed: 7, env, episode: env % 3, cycles: 5 };
      const s = pursuitResetReference(cfg, at);
      assertResetRules(cfg, s, `${name} env ${env}`);
      assertEq(s, pursuitResetReference(cfg, at), `${name} determinism`);
    }
  }
  const a = pursuitResetReference(PURSUIT_DEFAULTS, { seed: 1, env: 0, episode: 0, cycles: 0 });
  const b = pursuitResetReference(PURSUIT_DEFAULTS, { seed: 1, env: 0, episode: 1, cycles: 0 });
  if (JSON.stringify(a.pursuers) === JSON.stringify(b.pursuers)) {
    throw new Error("episodes 0 and 1 spawn alike");
  }
});

Deno.test("PursuitReferenceVec random-policy returns match the reference's statistics", () => {
  // Spec §12: uniform-random pursuers, 20 episodes: mean per-pursuer return −46.2 (sd 1.5),
  // 0.5 evaders caught per episode, every episode truncated at 500 cycles.
  const cfg = PURSUIT_DEFAULTS, numEnvs = 20, N = cfg.numPursuers;
  const vec = new PursuitReferenceVec(cfg, { numEnvs, seed: 2024 });
  const rng = new HostRng(4, RNG_PURPOSE.test);
  const returns = new Float64Array(N * numEnvs);
  let caught = 0, truncs = 0;
  for (let t = 0; t < cfg.maxCycles; t++) {
    vec.step(randomActions(rng, cfg, numEnvs));
    vec.reward.forEach((r, k) => (returns[k] += r));
    caught += vec.last.reduce((s, r) => s + (r?.caught.length ?? 0), 0);
    truncs += vec.truncated.reduce((a, b) => a + b, 0);
  }
  const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
  console.log(`mean return ${mean.toFixed(2)}, ${caught / numEnvs} caught per episode`);
  if (truncs !== numEnvs) throw new Error(`${truncs} truncations, want ${numEnvs}`);
  if (Math.abs(mean + 46.2) > 1.5) throw new Error(`mean return ${mean}, reference −46.2`);
  if (caught / numEnvs > 3) throw new Error(`${caught / numEnvs} captures per episode`);
});
