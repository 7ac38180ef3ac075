// Warehouse local simulator (LS): the LS-replay consistency with the GS (CPU reference and GPU),
// the GPU LS vs its CPU reference (random lanes, random influence sources, rollouts with
// auto-reset), the GPU baseline policy vs the reference (with its mean return) and the AIP
// dataset recorder.
import { createWarehouseEnv, type WarehouseEnv } from "../../../envs/warehouse/env.ts";
import { createWarehouseLocalEnv } from "../../../envs/warehouse/local.ts";
import { createWarehouseBaseline } from "../../../envs/warehouse/baseline.ts";
import { createWarehouseDataset, planWarehouseDataset } from "../../../envs/warehouse/dataset.ts";
import { packBits, packedWords, unpackBits } from "../../../envs/bits.ts";
import {
  WAREHOUSE_OBS,
  type WarehouseConfig,
  warehouseLearningRobot,
  warehouseSpec,
} from "../../../envs/warehouse/layout.ts";
import {
  warehouseBaselineReference,
  warehouseLocalResetReference,
  warehouseLocalStepReference,
  warehouseResetReference,
  warehouseStepReference,
} from "../../../envs/warehouse/reference.ts";
import { readTensor, readTensors } from "../../../engine/readback.ts";
import type { Engine } from "../../../engine/device.ts";
import { HostRng, RNG_PURPOSE } from "../../../engine/rng.ts";
import { assertExact, gpuTest } from "../../_testing.ts";
import {
  agentRow,
  assertEndedRows,
  assertEq,
  assertSameOutputs,
  readEnv,
  resetEnv,
  stepEnv,
} from "../_env_testing.ts";
import {
  randomWarehouseActions,
  randomWarehouseLocalState,
  RefGs,
  RefLs,
  W25,
  W4,
  W4B,
} from "./_warehouse_testing.ts";

Deno.test("LS reference replays every agent's GS trajectory from the recorded influence sources", () => {
  for (const cfg of [W4B, W25]) {
    const numEnvs = 2, seed = 21, A = cfg.learningPerSide ** 2;
    const rng = new HostRng(8, RNG_PURPOSE.test);
    const gs = Array.from(
      { length: numEnvs },
      (_, env) => warehouseResetReference(cfg, { seed, env }, 0),
    );
    const ls = Array.from(
      { length: A * numEnvs },
      (_, l) =>
        warehouseLocalResetReference(cfg, {
          seed,
          env: l % numEnvs,
          agent: Math.floor(l / numEnvs),
        }, 0),
    );
    let rewarded = 0;
    for (let t = 0; t < 130; t++) {
      for (let e = 0; e < numEnvs; e++) {
        const acts = Array.from({ length: A }, () => rng.below(4));
        const g = warehouseStepReference(cfg, gs[e], acts, { seed, env: e });
        gs[e] = g.state;
        for (let a = 0; a < A; a++) {
          const l = a * numEnvs + e, keys = { seed, env: e, agent: a };
          const r = warehouseLocalStepReference(cfg, ls[l], acts[a], g.influence[a], keys);
          ls[l] = r.state;
          const what = `K=${cfg.robotsPerSide} step ${t} env ${e} agent ${a}`;
          assertEq(r.obs, g.obs[a], `${what} obs`);
          assertEq(r.reward, g.rewards[a], `${what} reward`);
          assertEq(r.truncated, g.truncated, `${what} truncated`);
          const id = warehouseLearningRobot(cfg, a), k = cfg.robotsPerSide;
          const o = { row: 4 * Math.floor(id / k), col: 4 * (id % k) };
          const p = g.state.robots[id];
          const items = g.state.items.filter((it) =>
            it.row >= o.row && it.row <= o.row + 4 && it.col >= o.col && it.col <= o.col + 4
          ).map((it) => ({ row: it.row - o.row, col: it.col - o.col, age: it.age }));
          assertEq(
            [r.state.pos, r.state.items, r.state.step, r.state.counter],
            [{ row: p.row - o.row, col: p.col - o.col }, items, g.state.step, g.state.counter],
            `${what} region state`,
          );
          if (r.reward > 0) rewarded++;
        }
      }
    }
    if (rewarded < 10) throw new Error(`only ${rewarded} rewarded steps were replayed`);
  }
});

// ---------------------------------------------------------------------------------------------
// GPU.

async function lsRollout(
  engine: Engine,
  cfg: WarehouseConfig,
  options: { numEnvs: number; seed: number; steps: number; randomStates: boolean },
): Promise<number> {
  const ls = await createWarehouseLocalEnv(engine, warehouseSpec(cfg), options);
  const ref = new RefLs(cfg, options.numEnvs, options.seed);
  resetEnv(engine, ls);
  const first = await readEnv(engine, ls);
  assertEq(first.states, ref.lanes, "reset lanes");
  assertExact(first.obs, ref.obs, "reset obs");
  const rng = new HostRng(options.seed + 50, RNG_PURPOSE.test);
  const L = ref.numAgents * options.numEnvs;
  if (options.randomStates) {
    const lanes = Array.from({ length: L }, () => randomWarehouseLocalState(cfg, rng));
    // Lanes of one env share the episode clock (flags are per env).
    lanes.forEach((s, l) => s.step = lanes[l % options.numEnvs].step);
    ls.writeStates(lanes);
    ref.setStates(lanes);
  }
  let resets = 0;
  for (let t = 0; t < options.steps; t++) {
    const actions = randomWarehouseActions(rng, L);
    const influence = Uint32Array.from(
      { length: 4 * L },
      () => rng.unit() < 0.5 ? 3 : rng.below(4),
    );
    engine.write(ls.influence, influence);
    stepEnv(engine, ls, actions);
    ref.step(actions, influence);
    const got = await readEnv(engine, ls);
    const what = `K=${cfg.robotsPerSide} step ${t}`;
    assertEq(got.states, ref.lanes, `${what} lanes`);
    // The reference's terminated flags stay 0: LS episodes end only by the time limit.
    assertSameOutputs(got, ref, what);
    assertEndedRows(got.terminalObs, ref.terminalObs, ref.truncated, ref.numAgents, what);
    resets += ref.truncated.reduce((s, x) => s + x, 0);
  }
  return resets;
}

gpuTest(
  "warehouseLocalStep() equals the reference from random lanes and influence sources",
  async (engine) => {
    const r4 = await lsRollout(engine, W4, { numEnvs: 9, seed: 2, steps: 10, randomStates: true });
    const r25 = await lsRollout(engine, W25, { numEnvs: 3, seed: 3, steps: 6, randomStates: true });
    if (r4 + r25 < 4) throw new Error(`only ${r4 + r25} auto-resets were exercised`);
  },
);

gpuTest("warehouseLocalStep() equals the reference over a 102-step rollout", async (engine) => {
  const resets = await lsRollout(engine, W4, {
    numEnvs: 5,
    seed: 4,
    steps: 102,
    randomStates: false,
  });
  assertEq(resets, 5, "every env reset once");
});

gpuTest(
  "GPU LS fed with the GPU GS's actions and influence sources reproduces every agent",
  async (engine) => {
    const numEnvs = 6, seed = 13;
    const spec = warehouseSpec(W4B);
    const gs = await createWarehouseEnv(engine, spec, { numEnvs, seed });
    const ls = await createWarehouseLocalEnv(engine, spec, { numEnvs, seed });
    const enc = engine.encoder();
    gs.encodeReset(enc);
    ls.encodeReset(enc);
    engine.submit(enc);
    const rng = new HostRng(31, RNG_PURPOSE.test);
    let rewards = 0;
    for (let t = 0; t < 103; t++) {
      engine.write(gs.buffers.actions, randomWarehouseActions(rng, spec.numAgents * numEnvs));
      const e = engine.encoder();
      gs.encodeStep(e);
      e.copy(gs.buffers.actions, ls.buffers.actions);
      e.copy(gs.buffers.influence, ls.influence);
      ls.encodeStep(e);
      engine.submit(e);
      const g = gs.buffers, l = ls.buffers;
      const [go, gr, gt, gto, lo, lr, lt, lto] = await readTensors(
        engine,
        [
          g.obs,
          g.reward,
          g.truncated,
          g.terminalObs,
          l.obs,
          l.reward,
          l.truncated,
          l.terminalObs,
        ] as const,
      );
      assertExact(lo, go, `step ${t} obs`);
      assertExact(lr, gr, `step ${t} reward`);
      assertExact(lt, gt, `step ${t} truncated`);
      assertEndedRows(lto, gto, gt, spec.numAgents, `step ${t}`);
      rewards += gr.filter((x) => x > 0).length;
    }
    if (rewards < 10) throw new Error(`only ${rewards} rewards were replayed`);
  },
);

async function baselineRun(
  engine: Engine,
  cfg: WarehouseConfig,
  variant: "oldest" | "closest",
  options: { numEnvs: number; seed: number; steps: number },
): Promise<number> {
  const env: WarehouseEnv = await createWarehouseEnv(engine, warehouseSpec(cfg), options);
  const policy = await createWarehouseBaseline(engine, env, { variant });
  const ref = new RefGs(cfg, options.numEnvs, options.seed);
  const A = ref.numAgents, n = options.numEnvs;
  const targets = Array.from({ length: n }, () => new Array<number>(A).fill(-1));
  resetEnv(engine, env);
  let total = 0;
  for (let t = 0; t < options.steps; t++) {
    const want = new Uint32Array(A * n);
    for (let e = 0; e < n; e++) {
      const keys = { seed: options.seed, env: e };
      warehouseBaselineReference(cfg, ref.states[e], variant, targets[e], keys)
        .forEach((x, a) => want[a * n + e] = x);
    }
    const e = engine.encoder();
    policy.encode(e);
    env.encodeStep(e);
    engine.submit(e);
    ref.step(want);
    const [actions, reward] = await readTensors(
      engine,
      [env.buffers.actions, env.buffers.reward] as const,
    );
    assertExact(actions, want, `${variant} step ${t} actions`);
    assertExact(reward, ref.reward, `${variant} step ${t} reward`);
    total += reward.reduce((s, x) => s + x, 0);
  }
  assertEq(env.decodeStates(await readTensor(engine, env.state)), ref.states, `${variant} states`);
  return total / (A * n) * (cfg.maxSteps / options.steps);
}

gpuTest(
  "warehouseBaselineAct() equals the reference; its mean return is near the spec's 13",
  async (engine) => {
    const a = await baselineRun(engine, W4, "oldest", { numEnvs: 8, seed: 5, steps: 100 });
    const b = await baselineRun(engine, W4B, "closest", { numEnvs: 8, seed: 6, steps: 100 });
    console.log(
      `  GPU baseline return per episode: variant A ${a.toFixed(2)}, variant B ${
        b.toFixed(2)
      } (8 episodes × 4 agents each)`,
    );
    for (const [v, x] of [["A", a], ["B", b]] as const) {
      if (!(x > 11 && x < 15.5)) {
        throw new Error(
          `variant ${v} return ${x} is far from the spec's ≈13`,
        );
      }
    }
  },
);

gpuTest(
  "WarehouseDataset records dset and influence per agent in whole-episode rows",
  async (engine) => {
    const numEnvs = 3, seed = 17, cfg = W4;
    const env = await createWarehouseEnv(engine, warehouseSpec(cfg), { numEnvs, seed });
    const data = await createWarehouseDataset(engine, env, { datasetSize: 250 });
    assertEq(data.plan, planWarehouseDataset(numEnvs, { datasetSize: 250 }), "plan");
    assertEq(data.plan, { stepsPerEnv: 100, rows: 300, sequences: 3 }, "plan sizes");
    assertEq(
      planWarehouseDataset(64),
      { stepsPerEnv: 200, rows: 12800, sequences: 128 },
      "10k plan",
    );
    const ref = new RefGs(cfg, numEnvs, seed);
    const A = ref.numAgents, S = data.plan.stepsPerEnv;
    const wantIn = new Float32Array(A * data.plan.rows * WAREHOUSE_OBS);
    const wantTg = new Uint32Array(A * data.plan.rows * 4);
    const rng = new HostRng(9, RNG_PURPOSE.test);
    resetEnv(engine, env);
    const warm = randomWarehouseActions(rng, A * numEnvs);
    // One step before the collection begins: rows must start at the step after encodeBegin.
    stepEnv(engine, env, warm, (e) => {
      env.encodeStep(e);
      data.encodeBegin(e);
    });
    ref.step(warm);
    for (let t = 0; t < S + 3; t++) {
      const actions = randomWarehouseActions(rng, A * numEnvs);
      stepEnv(engine, env, actions, (e) => {
        env.encodeStep(e);
        data.encodeRecord(e);
      });
      ref.step(actions);
      if (t >= S) continue;
      for (let a = 0; a < A; a++) {
        for (let env = 0; env < numEnvs; env++) {
          const row = a * numEnvs * S + env * S + t;
          wantIn.set(agentRow(ref.dset, a, env, numEnvs, WAREHOUSE_OBS), row * WAREHOUSE_OBS);
          wantTg.set(agentRow(ref.influence, a, env, numEnvs, 4), row * 4);
        }
      }
    }
    assertEq(data.inputs.shape, [A, data.plan.rows, packedWords(WAREHOUSE_OBS)], "inputs shape");
    const [inputs, targets] = await readTensors(engine, [data.inputs, data.targets] as const);
    assertExact(unpackBits(inputs, WAREHOUSE_OBS), wantIn, "inputs");
    assertExact(inputs, packBits(wantIn, WAREHOUSE_OBS), "packed inputs (zero padding bits)");
    assertExact(targets, wantTg, "targets");
    const offEdge = targets.filter((x) => x === 3).length / targets.length;
    if (!(offEdge > 0.3 && offEdge < 0.99)) throw new Error(`class 3 share ${offEdge}`);
  },
);

gpuTest("WarehouseLocalEnv.render() draws every agent's region", async (engine) => {
  const ls = await createWarehouseLocalEnv(engine, warehouseSpec(W4), { numEnvs: 2, seed: 1 });
  resetEnv(engine, ls);
  const lines = (await ls.render(1)).split("\n");
  assertEq(lines.length, 4 * 6, "4 regions of header + 5 rows");
  assertEq(
    [lines[0], lines[3][2], lines[1][0]],
    ["agent 0 step 0 episode 0", "R", "#"],
    "region 0",
  );
});
