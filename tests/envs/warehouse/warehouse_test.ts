// Warehouse commissioning (DIALS): CPU reference rules and statistics, GPU global simulator vs
// the CPU reference (random states, rollouts with auto-reset, both ring variants), registry
// parse, layout round trips. The local simulator, the LS-replay consistency, the baseline policy
// and the dataset recorder are in warehouse_local_test.ts.
import { createWarehouseEnv, WAREHOUSE, type WarehouseEnv } from "../../../envs/warehouse/env.ts";
import {
  packWarehouseStates,
  unpackWarehouseStates,
  type WarehouseConfig,
  warehouseShelfCount,
  warehouseSpec,
} from "../../../envs/warehouse/layout.ts";
import {
  warehouseFirstStep,
  warehouseMoveReference,
  warehousePathLength,
  warehouseScanCells,
} from "../../../envs/warehouse/reference.ts";
import { readTensors } from "../../../engine/readback.ts";
import type { Engine } from "../../../engine/device.ts";
import { HostRng, RNG_PURPOSE } from "../../../engine/rng.ts";
import { assertExact, gpuTest } from "../../_testing.ts";
import {
  assertEndedRows,
  assertEq,
  assertSameOutputs,
  readEnv,
  resetEnv,
  stepEnv,
} from "../_env_testing.ts";
import {
  randomWarehouseActions,
  randomWarehouseState,
  RefGs,
  runStatistics,
  W100,
  W25,
  W4,
  W4B,
} from "./_warehouse_testing.ts";

Deno.test("warehouse registry parses warehouse-{4,25,49,100} with the spec's grids", () => {
  const want: [string, number, number][] = [
    ["warehouse-4", 4, 4],
    ["warehouse-25", 7, 25],
    ["warehouse-49", 9, 49],
    ["warehouse-100", 12, 100],
  ];
  for (const [name, k, agents] of want) {
    const spec = WAREHOUSE.parseTask(name)!;
    assertEq(
      [spec.name, spec.family, spec.numAgents, spec.obsShape, spec.numActions, spec.maxSteps],
      [name, "warehouse", agents, [37], 4, 100],
      name,
    );
    const cfg = spec.config as unknown as WarehouseConfig;
    assertEq([cfg.robotsPerSide, cfg.scripted, cfg.probItem], [k, "oldest", 0.02], name);
  }
  assertEq(WAREHOUSE.parseTask("warehouse-4-closest")!.config.scripted, "closest", "closest");
  for (const bad of ["warehouse-5", "warehouse-4-v2", "warehouse", "Foraging-8x8-2p-2f"]) {
    assertEq(WAREHOUSE.parseTask(bad), null, bad);
  }
  assertEq(warehouseShelfCount(W4), 120, "shelf cells of the 17 × 17 grid");
  assertEq(warehouseScanCells(W4).length, 120, "scanned shelf cells");
});

Deno.test("warehouseFirstStep() walks a shortest path to every shelf cell from every cell", () => {
  const cells: { row: number; col: number }[] = [];
  for (let r = 0; r < 5; r++) {
    for (let c = 0; c < 5; c++) {
      if (!((r === 0 || r === 4) && (c === 0 || c === 4))) cells.push({ row: r, col: c });
    }
  }
  const shelves = cells.filter((c) => c.row % 4 === 0 || c.col % 4 === 0);
  assertEq([cells.length, shelves.length], [21, 12], "graph size");
  for (const from of cells) {
    for (const to of shelves) {
      if (from.row === to.row && from.col === to.col) continue;
      let pos = from, steps = 0;
      const d = warehousePathLength(from, to);
      while (pos.row !== to.row || pos.col !== to.col) {
        const next = warehouseMoveReference(pos, warehouseFirstStep(pos, to));
        if (warehousePathLength(next, to) !== warehousePathLength(pos, to) - 1) {
          throw new Error(
            `step from ${JSON.stringify(pos)} to ${JSON.stringify(to)} is not shortest`,
          );
        }
        pos = next;
        steps++;
      }
      assertEq(steps, d, `path length ${JSON.stringify(from)} → ${JSON.stringify(to)}`);
      // Spec §8: from an interior cell |Δr| + |Δc| + 1 to the inward cell t', shelf cells + 1.
      const inward = (x: number) => Math.min(3, Math.max(1, x));
      const formula = Math.abs(inward(from.row) - inward(to.row)) +
        Math.abs(inward(from.col) - inward(to.col)) + 1 +
        (from.row % 4 === 0 || from.col % 4 === 0 ? 1 : 0);
      assertEq(d, formula, `spec formula ${JSON.stringify(from)} → ${JSON.stringify(to)}`);
    }
  }
});

Deno.test("warehouse states survive packing and unpacking", () => {
  const rng = new HostRng(5, RNG_PURPOSE.test);
  for (const cfg of [W4, W4B, W25]) {
    const states = Array.from({ length: 5 }, () => randomWarehouseState(cfg, rng));
    const back = unpackWarehouseStates(cfg, packWarehouseStates(cfg, states));
    assertEq(back, states, `round trip K=${cfg.robotsPerSide}`);
  }
});

// Statistics of §12 (4 × 4 robots, 40 episodes, mean per-learner return ± s.e.).
const STATS: [string, WarehouseConfig, "random" | "oldest" | "closest", number, number][] = [
  ["random learners, ring variant B", W4B, "random", 1.51, 0.09],
  ["all robots variant B", W4B, "closest", 12.9, 0.2],
  ["all robots variant A", W4, "oldest", 13.2, 0.2],
];
for (const [what, cfg, policy, mean, se] of STATS) {
  Deno.test(`warehouse reference returns match the spec with ${what}`, () => {
    const got = runStatistics(cfg, policy, { numEnvs: 40, seed: 11 });
    console.log(
      `  ${what}: ${got.mean.toFixed(2)} ± ${
        got.se.toFixed(2)
      } (spec ${mean} ± ${se}, ${got.episodes} episodes)`,
    );
    const tol = 3 * Math.hypot(got.se, se);
    if (Math.abs(got.mean - mean) > tol) {
      throw new Error(`${what}: mean return ${got.mean}, spec ${mean} (tolerance ${tol})`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// GPU global simulator vs CPU reference.

type GsRead = Awaited<ReturnType<typeof readGs>>;

function readGs(engine: Engine, env: WarehouseEnv) {
  return readEnv(engine, env, { dset: env.buffers.dset, influence: env.buffers.influence });
}

function assertSameGs(got: GsRead, ref: RefGs, what: string, afterStep = true): void {
  for (let e = 0; e < ref.numEnvs; e++) assertEq(got.states[e], ref.states[e], `${what} env ${e}`);
  assertSameOutputs(got, ref, what);
  if (!afterStep) return;
  assertExact(got.dset, ref.dset, `${what} dset`);
  assertExact(got.influence, ref.influence, `${what} influence`);
  assertEndedRows(got.terminalObs, ref.terminalObs, ref.truncated, ref.numAgents, what);
}

async function gsRollout(
  engine: Engine,
  cfg: WarehouseConfig,
  options: { numEnvs: number; seed: number; steps: number; randomStates: boolean; serial: boolean },
): Promise<number> {
  const env = await createWarehouseEnv(engine, warehouseSpec(cfg), options);
  const ref = new RefGs(cfg, options.numEnvs, options.seed);
  resetEnv(engine, env);
  assertSameGs(await readGs(engine, env), ref, "reset", false);
  const rng = new HostRng(options.seed + 100, RNG_PURPOSE.test);
  if (options.randomStates) {
    const states = Array.from({ length: options.numEnvs }, () => randomWarehouseState(cfg, rng));
    env.writeStates(states);
    ref.setStates(states);
  }
  let resets = 0;
  for (let t = 0; t < options.steps; t++) {
    const actions = randomWarehouseActions(rng, ref.numAgents * options.numEnvs);
    stepEnv(engine, env, actions);
    ref.step(actions);
    assertSameGs(await readGs(engine, env), ref, `step ${t}`);
    resets += ref.truncated.reduce((s, x) => s + x, 0);
  }
  return resets;
}

for (const serial of [false, true]) {
  const kind = serial ? "one thread per env" : "one workgroup per env";
  for (const [variant, cfg, numEnvs, seed] of [["A", W4, 13, 3], ["B", W4B, 11, 4]] as const) {
    gpuTest(
      `warehouseStep() equals the reference from random states (K=4, ring variant ${variant}, ${kind})`,
      async (engine) => {
        const opts = { numEnvs, seed, steps: 12, randomStates: true, serial };
        const resets = await gsRollout(engine, cfg, opts);
        if (resets < 3) throw new Error(`only ${resets} auto-resets were exercised`);
      },
    );
  }

  gpuTest(
    `warehouseStep() equals the reference over a 105-step rollout with auto-reset (${kind})`,
    async (engine) => {
      const opts = { numEnvs: 5, seed: 7, steps: 105, randomStates: false, serial };
      assertEq(await gsRollout(engine, W4B, opts), 5, "every env reset once");
    },
  );

  gpuTest(
    `warehouseStep() equals the reference with 25 and 100 learners (K=7, K=12, ${kind})`,
    async (engine) => {
      const opts = { numEnvs: 3, steps: 6, randomStates: true, serial };
      await gsRollout(engine, { ...W25, scripted: "closest" }, { ...opts, seed: 9 });
      await gsRollout(engine, W25, { ...opts, seed: 10 });
      await gsRollout(engine, W100, { ...opts, numEnvs: 2, steps: 3, seed: 12 });
    },
  );
}

gpuTest("WarehouseEnv.render() draws the grid, items and robots", async (engine) => {
  const env = await createWarehouseEnv(engine, warehouseSpec(W4), { numEnvs: 2, seed: 1 });
  resetEnv(engine, env);
  const pic = await env.render(1);
  const lines = pic.split("\n");
  assertEq(lines.length, 18, "header + 17 rows");
  assertEq(
    [lines[1][0], lines[1 + 4][4], lines[1][1]],
    ["#", "#", lines[1][1] === "o" ? "o" : "+"],
    "corners and a shelf",
  );
  assertEq(lines[1 + 6][6], "A", "agent 0 at the centre of region (1, 1)");
  assertEq(lines[1 + 10][10], "D", "agent 3 at the centre of region (2, 2)");
  assertEq(lines[1 + 2][2], "r", "ring robot 0");
});

gpuTest(
  "GPU GS returns of random learners (ring variant B) match the spec's 1.51 ± 0.09",
  async (engine) => {
    const numEnvs = 40, A = 4;
    const env = await createWarehouseEnv(engine, warehouseSpec(W4B), { numEnvs, seed: 23 });
    resetEnv(engine, env);
    const rng = new HostRng(24, RNG_PURPOSE.test);
    const returns = new Float64Array(A * numEnvs);
    for (let t = 0; t < 100; t++) {
      stepEnv(engine, env, Uint32Array.from({ length: A * numEnvs }, () => rng.below(4)));
      const [reward, truncated] = await readTensors(
        engine,
        [env.buffers.reward, env.buffers.truncated] as const,
      );
      reward.forEach((x, i) => returns[i] += x);
      assertExact(
        truncated,
        new Uint32Array(numEnvs).fill(t === 99 ? 1 : 0),
        `step ${t} truncated`,
      );
    }
    const mean = returns.reduce((s, x) => s + x, 0) / returns.length;
    const se = Math.sqrt(
      returns.reduce((s, x) => s + (x - mean) ** 2, 0) / (returns.length - 1) / returns.length,
    );
    console.log(
      `  GPU random learners, ring B: ${mean.toFixed(2)} ± ${se.toFixed(2)} (40 episodes)`,
    );
    const tol = 3 * Math.hypot(se, 0.09);
    if (Math.abs(mean - 1.51) > tol) {
      throw new Error(
        `mean return ${mean}, spec 1.51 (tolerance ${tol})`,
      );
    }
  },
);
