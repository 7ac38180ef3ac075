// Warehouse commissioning vs the original DIALS global simulator: the CPU reference and the GPU
// GS replay every step of the DIALS golden file with its recorded draws (product replay,
// envs/warehouse/golden_replay.ts); the GPU's injected-draw step equals the reference given the
// same draws from random states (both ring variants, both kernel modes); header parsing
// (envs/warehouse/golden.ts).
import { createWarehouseEnv, type WarehouseInjectedDraws } from "../../../envs/warehouse/env.ts";
import {
  replayWarehouseGoldenCpu,
  replayWarehouseGoldenGpu,
} from "../../../envs/warehouse/golden_replay.ts";
import { warehouseConfigFromGolden } from "../../../envs/warehouse/golden.ts";
import {
  type WarehouseConfig,
  warehouseShelfCount,
  warehouseSpec,
} from "../../../envs/warehouse/layout.ts";
import { type WarehouseDraws, warehouseStepReference } from "../../../envs/warehouse/reference.ts";
import { type GoldenHeader, listGolden, loadGolden } from "../../../envs/golden.ts";
import { HostRng, RNG_PURPOSE } from "../../../engine/rng.ts";
import { assertExact, gpuTest } from "../../_testing.ts";
import {
  agentColumn,
  agentRow,
  assertEq,
  assertGoldenCoverage,
  assertNoMismatch,
  readEnv,
  replayGoldenCpu,
  resetEnv,
  stepEnv,
} from "../_env_testing.ts";
import {
  randomWarehouseActions,
  randomWarehouseState,
  W25,
  W4,
  W4B,
} from "./_warehouse_testing.ts";

const GOLDEN_FILES = await listGolden("dials-warehouse");

/** The reference's view of injected draws. */
function drawsOf(d: WarehouseInjectedDraws): WarehouseDraws {
  return { spawn: (i) => d.spawn[i], random: (id) => d.random[id] };
}

Deno.test({
  name: "warehouseStepReference() replays every step of the DIALS golden file with its draws",
  ignore: GOLDEN_FILES.length === 0,
  async fn() {
    const { steps, stats, summary } = await replayGoldenCpu(
      GOLDEN_FILES,
      replayWarehouseGoldenCpu,
    );
    console.log(`replayed ${steps} golden warehouse steps ${JSON.stringify(stats)}${summary}`);
    assertGoldenCoverage(
      steps >= 200 && stats.collected >= 20 && stats["random moves"] >= 500 &&
        stats["removed items"] >= 100 && stats["episode ends"] >= 2,
      `too little golden warehouse data: ${steps} steps, ${JSON.stringify(stats)}`,
    );
  },
});

gpuTest(
  "warehouseStep() replays every step of the DIALS golden file with its draws",
  async (engine) => {
    let total = 0;
    for (const path of GOLDEN_FILES) {
      // All step states of the file in one dispatch, draws injected (product replay).
      const r = await replayWarehouseGoldenGpu(engine, await loadGolden(path));
      assertNoMismatch(r, path);
      // Every env, those that auto-reset included, equals the reference given the same draws.
      const n = r.states.length, A = r.cfg.learningPerSide ** 2;
      r.states.forEach((s, e) => {
        const actions = agentColumn(r.actions, e, n, A);
        const keys = { seed: r.seed, env: e };
        const want = warehouseStepReference(r.cfg, s, actions, keys, {
          draws: drawsOf(r.draws[e]),
        });
        assertEq(r.read.states[e], want.state, `${path} env ${e} state`);
      });
      total += n;
    }
    assertGoldenCoverage(total >= 200, `only ${total} golden warehouse states`);
  },
);

for (const serial of [false, true]) {
  const kind = serial ? "one thread per env" : "one workgroup per env";
  gpuTest(
    `warehouseStep() with injected draws equals the reference given them (K=4 A and B, K=7, ${kind})`,
    async (engine) => {
      let random = 0, spawned = 0;
      const cases: [WarehouseConfig, number, number][] = [[W4, 13, 5], [W4B, 11, 6], [W25, 3, 7]];
      for (const [cfg, numEnvs, seed] of cases) {
        const K = cfg.robotsPerSide, A = cfg.learningPerSide ** 2;
        const env = await createWarehouseEnv(engine, warehouseSpec(cfg), { numEnvs, seed, serial });
        resetEnv(engine, env);
        const rng = new HostRng(seed + 200, RNG_PURPOSE.test);
        // Half of the states nearly empty, so that many ring robots act randomly.
        const states = Array.from({ length: numEnvs }, (_, e) => {
          const s = randomWarehouseState(cfg, rng);
          return e % 2 ? { ...s, items: s.items.filter(() => rng.unit() < 0.05) } : s;
        });
        const draws = states.map(() => ({
          random: Array.from({ length: K * K }, () => rng.below(4)),
          spawn: Array.from({ length: warehouseShelfCount(cfg) }, () => rng.unit() < 0.3),
        }));
        const actions = randomWarehouseActions(rng, A * numEnvs);
        env.writeStates(states);
        env.writeInjected(draws);
        stepEnv(engine, env, actions, (enc) => env.encodeStepInjected(enc));
        const got = await readEnv(engine, env, {
          dset: env.buffers.dset,
          influence: env.buffers.influence,
        });
        states.forEach((s, e) => {
          const what = `K=${K} ${cfg.scripted} env ${e}`;
          const keys = { seed, env: e };
          const want = warehouseStepReference(cfg, s, agentColumn(actions, e, numEnvs, A), keys, {
            draws: drawsOf(draws[e]),
          });
          assertEq(got.states[e], want.state, `${what} state`);
          assertExact(agentColumn(got.reward, e, numEnvs, A), want.rewards, `${what} reward`);
          assertEq(got.truncated[e], want.truncated ? 1 : 0, `${what} truncated`);
          const obs = want.truncated ? got.terminalObs : got.obs;
          for (let a = 0; a < A; a++) {
            assertExact(agentRow(obs, a, e, numEnvs, 37), want.obs[a], `${what} obs ${a}`);
            assertExact(agentRow(got.dset, a, e, numEnvs, 37), want.dset[a], `${what} dset ${a}`);
            assertExact(
              agentRow(got.influence, a, e, numEnvs, 4),
              want.influence[a],
              `${what} influence ${a}`,
            );
          }
          random += want.randomRobots.length;
          spawned += want.final.items.filter((it) => it.age === 0).length;
        });
      }
      // The injected random actions and spawns were exercised.
      if (random < 20 || spawned < 100) {
        throw new Error(`${random} random moves, ${spawned} spawns`);
      }
    },
  );
}

Deno.test("warehouseConfigFromGolden() reads the DIALS header and names what it cannot build", () => {
  const header = (config: Record<string, unknown>, commit = "27d4f10"): GoldenHeader => ({
    kind: "header",
    format: "peers-golden/1",
    env: "test",
    family: "dials-warehouse",
    seed: 0,
    n_agents: 4,
    n_actions: 4,
    n_steps: 0,
    source: { commit },
    config: {
      n_rows: 17,
      n_columns: 17,
      n_robots_row: 4,
      n_robots_column: 4,
      prob_item_appears: 0.02,
      n_steps_episode: 100,
      learning_robot_ids: [5, 6, 9, 10],
      ...config,
    },
  });
  assertEq(warehouseConfigFromGolden(header({})), W4, "paper-era commit: variant A");
  assertEq(
    warehouseConfigFromGolden(header({}, "d08e915065355379bd6b37ac64840548160f9028")),
    W4B,
    "HEAD: variant B",
  );
  assertEq(
    warehouseConfigFromGolden(header({ heuristic: "closest", n_steps_episode: 30 }, "abc1234")),
    { ...W4B, maxSteps: 30 },
    "explicit heuristic and episode length",
  );
  const k7 = { n_rows: 29, n_columns: 29, n_robots_row: 7, n_robots_column: 7 };
  const ids = [1, 2, 3, 4, 5].flatMap((i) => [1, 2, 3, 4, 5].map((j) => 7 * i + j));
  assertEq(
    warehouseConfigFromGolden(header({ ...k7, learning_robot_ids: ids, prob_item_appears: 0.05 })),
    { ...W25, probItem: 0.05 },
    "7 × 7 robots",
  );
  const bad: [Record<string, unknown>, string, RegExp][] = [
    [{ n_robots_column: 5 }, "27d4f10", /only square layouts/],
    [{ n_rows: 18 }, "27d4f10", /grid 18 × 17, 4 robots per side need 17/],
    [{ learning_robot_ids: [5] }, "27d4f10", /only the interior block \[5,6,9,10\]/],
    [{ distance_between_shelves: 3 }, "27d4f10", /distance_between_shelves is 3/],
    [{}, "0000000", /source commit "0000000" is not one we know; set config.heuristic/],
    [{ prob_item_appears: undefined }, "27d4f10", /header config has no "prob_item_appears"/],
  ];
  for (const [config, commit, want] of bad) {
    const h = header(config, commit);
    for (const [k, v] of Object.entries(config)) {
      if (v === undefined) delete (h.config as Record<string, unknown>)[k];
    }
    let message = "";
    try {
      warehouseConfigFromGolden(h);
    } catch (e) {
      message = (e as Error).message;
    }
    if (!want.test(message)) throw new Error(`${JSON.stringify(config)}: "${message}"`);
  }
});
