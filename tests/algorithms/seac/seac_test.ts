// SEAC / IAC / SNAC: GPU losses and gradients vs the float64 CPU reference, reference gradients vs
// finite differences, n-step returns, λ = 0 ≡ IAC bit for bit, the no-readback loop, a learning
// smoke test and the presets.
import {
  buildSeacParts,
  checkSeacConfig,
  createSeacTrainer,
  SEAC_DEFAULTS,
  type SeacConfig,
} from "../../../algorithms/seac/mod.ts";
import type { SeacSharing } from "../../../algorithms/seac/learner.ts";
import {
  actorLogitsReference,
  actorLogProbsReference,
  mlpSize,
  nStepReturnsReference,
  seacLossReference,
  type SeacReferenceInput,
} from "../../../algorithms/seac/reference.ts";
import type { Engine } from "../../../engine/device.ts";
import { readTensors } from "../../../engine/readback.ts";
import { RNG_PURPOSE, rngCategoricalLogits } from "../../../engine/rng.ts";
import { LBF } from "../../../envs/lbf/env.ts";
import { RWARE } from "../../../envs/rware/env.ts";
import { findTask } from "../../../envs/registry.ts";
import { parseYaml } from "../../../app/config.ts";
import type { RunConfig } from "../../../algorithms/trainer.ts";
import { assertAllClose, assertExact, finiteDiff, gpuTest, seeded } from "../../_testing.ts";

const TASK3 = "Foraging-10x10-3p-3f";
/** Updates before the checked one: 9 · 5 steps, so the next rollout crosses step 50 (LBF's limit). */
const WARM_ITERATIONS = 9;

async function lbf(engine: Engine, task: string, numEnvs: number, seed = 1) {
  const spec = LBF.parseTask(task)!;
  return await LBF.create(engine, spec, { numEnvs, seed });
}

function assertTrue(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}

Deno.test("seacLossReference() gradients match central finite differences in float64", () => {
  const N = 3, E = 2, T = 3, D = 5, K = 4;
  const actorSizes = [D, 6, 6, K], criticSizes = [D, 6, 6, 1];
  const stride = mlpSize(actorSizes) + mlpSize(criticSizes);
  const r = seeded(11);
  const rollout = {
    obs: r.f32((T + 1) * N * E * D),
    actions: r.u32(T * N * E, K),
    behLogp: Float32Array.from(r.f32(T * N * E, -2.5, -0.5)),
    returns: r.f32(T * N * E),
    rewards: r.f32(T * N * E, 0, 1),
    masks: Float32Array.from([1, 1, 1, 0, 1, 1, 0, 1]),
    badMasks: Float32Array.from([1, 1, 1, 1, 1, 1, 1, 0]),
  };
  const cases: [SeacSharing, "collectorReturn" | "learnerBootstrap"][] = [
    ["seac", "collectorReturn"],
    ["seac", "learnerBootstrap"],
    ["iac", "collectorReturn"],
    ["snac", "collectorReturn"],
  ];
  for (const [sharing, foreignTarget] of cases) {
    const L = sharing === "snac" ? 1 : N;
    const params = Float64Array.from(r.f32(L * stride, -0.6, 0.6));
    const input: SeacReferenceInput = {
      params,
      actorSizes,
      criticSizes,
      rollout,
      numAgents: N,
      numEnvs: E,
      nSteps: T,
      sharing,
      foreignTarget,
      lambda: 0.7,
      gamma: 0.9,
      entropyCoef: 0.05,
      valueCoef: 0.5,
    };
    const got = seacLossReference(input);
    const total = (p: Float64Array) =>
      seacLossReference({ ...input, params: p, detached: params }).loss.reduce((s, v) => s + v, 0);
    const only = [...Array(L * stride).keys()].filter((i) => i % 5 === 0);
    const fd = finiteDiff(total, params, 1e-6, only);
    assertAllClose(
      only.map((i) => got.grads[i]),
      only.map((i) => fd[i]),
      { atol: 1e-7, rtol: 1e-5 },
      `${sharing}/${foreignTarget} grads`,
    );
    assertTrue(only.some((i) => Math.abs(fd[i]) > 1e-3), "finite differences are not all ~0");
  }
});

/** Collects one rollout after one update, then records the loss of the next; reads everything. */
async function lossOnGpu(
  engine: Engine,
  sharing: SeacSharing,
  algo: SeacConfig,
  task: string,
  numEnvs: number,
) {
  const env = await lbf(engine, task, numEnvs, 4);
  const parts = await buildSeacParts(engine, env, {
    sharing,
    seed: 9,
    algo,
    label: `t.${sharing}`,
  });
  const { rollout, learner, stats, net } = parts;
  // WARM_ITERATIONS updates first, so the checked rollout contains episode ends.
  let enc = engine.encoder("t.first");
  for (let i = 0; i < WARM_ITERATIONS; i++) {
    rollout.encodeCollect(enc, (e) => stats.track(e));
    learner.encodeLoss(enc);
    learner.encodeStep(enc);
  }
  engine.submit(enc);
  enc = engine.encoder("t.second");
  rollout.encodeCollect(enc, (e) => stats.track(e));
  learner.encodeLoss(enc);
  engine.submit(enc);
  const s = rollout.storage;
  const [obs, values, actions, logp, rewards, masks, badMasks, returns, params, grads, sums] =
    await readTensors(
      engine,
      [
        s.obs,
        s.values,
        s.actions,
        s.logp,
        s.rewards,
        s.masks,
        s.badMasks,
        s.returns,
        net.params,
        net.grads,
        learner.sums,
      ] as const,
    );
  return {
    env,
    rollout: { obs, actions, behLogp: logp, returns, rewards, masks, badMasks },
    values,
    params,
    grads,
    sums,
  };
}

gpuTest(
  "SEAC, IAC and SNAC losses and gradients for 3 and 8 agents match the CPU reference",
  async (engine) => {
    const T = 5, hidden = 16;
    const cases: [SeacSharing, "collectorReturn" | "learnerBootstrap", string, number][] = [
      ["seac", "collectorReturn", TASK3, 7],
      ["seac", "learnerBootstrap", TASK3, 7],
      ["iac", "collectorReturn", TASK3, 7],
      ["snac", "collectorReturn", TASK3, 7],
      ["seac", "collectorReturn", "Foraging-8x8-8p-2f", 3],
    ];
    for (const [sharing, foreignTarget, task, E] of cases) {
      const algo = { ...SEAC_DEFAULTS, hidden, foreignTarget, lambda: 0.8 };
      const got = await lossOnGpu(engine, sharing, algo, task, E);
      const spec = got.env.spec, D = spec.obsShape[0], K = spec.numActions, N = spec.numAgents;
      const actorSizes = [D, hidden, hidden, K], criticSizes = [D, hidden, hidden, 1];
      const stride = mlpSize(actorSizes) + mlpSize(criticSizes);
      const what = `${sharing}/${foreignTarget}/${N} agents`;
      // n-step returns of the stored rollout.
      const wantReturns = nStepReturnsReference({
        rewards: got.rollout.rewards,
        masks: got.rollout.masks,
        badMasks: got.rollout.badMasks,
        values: got.values,
        numAgents: N,
        numEnvs: E,
        nSteps: T,
        gamma: algo.gamma,
      });
      assertAllClose(
        got.rollout.returns,
        wantReturns,
        { atol: 1e-5, rtol: 1e-5 },
        `${what} returns`,
      );
      assertTrue(got.rollout.masks.slice(E).some((m) => m === 0), `${what}: no episode ended`);
      // Behaviour log-probs and sampled actions of the checked collection (counter WARM_ITERATIONS).
      const L = sharing === "snac" ? 1 : N;
      const logpWant: number[] = [], actWant: number[] = [];
      for (let t = 0; t < T; t++) {
        for (let k = 0; k < N; k++) {
          for (let e = 0; e < E; e++) {
            const i = (t * N + k) * E + e, x = got.rollout.obs.slice(i * D, (i + 1) * D);
            const base = (L === 1 ? 0 : k) * stride;
            logpWant.push(
              actorLogProbsReference(got.params, base, actorSizes, x)[got.rollout.actions[i]],
            );
            const logits = actorLogitsReference(got.params, base, actorSizes, x);
            actWant.push(
              rngCategoricalLogits(9, RNG_PURPOSE.action, e, k, WARM_ITERATIONS * T + t, logits),
            );
          }
        }
      }
      assertAllClose(got.rollout.behLogp, logpWant, { atol: 2e-5, rtol: 1e-4 }, `${what} logp`);
      assertExact(got.rollout.actions, actWant, `${what} actions`);
      // Losses and gradients of every learner.
      const ref = seacLossReference({
        params: got.params,
        actorSizes,
        criticSizes,
        rollout: got.rollout,
        numAgents: N,
        numEnvs: E,
        nSteps: T,
        sharing,
        foreignTarget,
        lambda: algo.lambda,
        gamma: algo.gamma,
        entropyCoef: algo.entropyCoef,
        valueCoef: algo.valueCoef,
      });
      // Sums over up to N·T·E = 120 rows per parameter in f32.
      assertAllClose(got.grads, ref.grads, { atol: 2e-5, rtol: 2e-3 }, `${what} grads`);
      const sums = [...Array(L).keys()].flatMap((
        l,
      ) => [ref.policy[l], ref.value[l], ref.entropy[l], ref.ratio[l]]);
      assertAllClose(got.sums, sums, { atol: 1e-4, rtol: 1e-3 }, `${what} loss sums`);
    }
  },
);

gpuTest("SEAC with λ = 0 reproduces IAC bit for bit", async (engine) => {
  const algo = { ...SEAC_DEFAULTS, hidden: 16, lambda: 0 };
  const read = async (sharing: SeacSharing) => {
    const env = await lbf(engine, TASK3, 5, 2);
    const tr = await createSeacTrainer(engine, env, { sharing, seed: 3, algo });
    tr.run(3);
    const [params, m, v] = await readTensors(
      engine,
      [tr.parts.net.params, tr.parts.learner.adam.m, tr.parts.learner.adam.v] as const,
    );
    return { params, m, v };
  };
  const seac = await read("seac"), iac = await read("iac");
  assertExact(seac.params, iac.params, "params");
  assertExact(seac.m, iac.m, "adam.m");
  assertExact(seac.v, iac.v, "adam.v");
  // The update did something: SEAC with λ = 1 differs.
  const env = await lbf(engine, TASK3, 5, 2);
  const tr = await createSeacTrainer(engine, env, {
    sharing: "seac",
    seed: 3,
    algo: { ...algo, lambda: 1 },
  });
  tr.run(3);
  const [p1] = await readTensors(engine, [tr.parts.net.params] as const);
  assertTrue(p1.some((x, i) => x !== iac.params[i]), "λ = 1 gave the same parameters as λ = 0");
});

gpuTest("SEAC run() records iterations with no readback between log points", async (engine) => {
  const env = await lbf(engine, "Foraging-8x8-2p-2f-coop", 4, 1);
  const tr = await createSeacTrainer(engine, env, {
    sharing: "seac",
    seed: 1,
    algo: { ...SEAC_DEFAULTS, hidden: 16, iterationsPerSubmit: 4 },
  });
  const reads = engine.stats.reads;
  tr.run(10);
  assertTrue(engine.stats.reads === reads, `run() read ${engine.stats.reads - reads} times`);
  const m = await tr.readMetrics();
  assertTrue(engine.stats.reads === reads + 1, "readMetrics() is not exactly one read");
  assertTrue(m.envSteps === 10 * 4 * 5, `envSteps ${m.envSteps}`);
  assertTrue(m.scalars.updates === 10, `updates ${m.scalars.updates}`);
  for (const k of ["policyLoss", "valueLoss", "entropy", "gradNorm", "foreignIsRatioMean"]) {
    assertTrue(Number.isFinite(m.scalars[k]), `${k} is ${m.scalars[k]}`);
  }
  // Ratios of an untrained pair centre on 1 (docs/algorithms/seac.md §2, paper Fig. 6).
  const rho = m.scalars.foreignIsRatioMean;
  assertTrue(Math.abs(rho - 1) < 0.2, `foreignIsRatioMean ${rho}`);
});

gpuTest("nStepReturns() matches the reference with done and truncation masks", async (engine) => {
  const E = 37, T = 5, N = 2;
  const env = await lbf(engine, "Foraging-8x8-2p-2f-coop", E, 1);
  const parts = await buildSeacParts(engine, env, {
    sharing: "iac",
    seed: 1,
    algo: { ...SEAC_DEFAULTS, hidden: 8 },
    label: "t.returns",
  });
  const s = parts.rollout.storage;
  const r = seeded(21);
  const rewards = r.f32(T * N * E, 0, 1), values = r.f32((T + 1) * N * E);
  const masks = Float32Array.from(r.u32((T + 1) * E, 4), (u) => (u === 0 ? 0 : 1));
  const badMasks = Float32Array.from(r.u32((T + 1) * E, 5), (u) => (u === 0 ? 0 : 1));
  engine.write(s.rewards, rewards);
  engine.write(s.values, values);
  engine.write(s.masks, masks);
  engine.write(s.badMasks, badMasks);
  const enc = engine.encoder("t.returns");
  parts.rollout.encodeReturns(enc);
  engine.submit(enc);
  const [got] = await readTensors(engine, [s.returns] as const);
  const want = nStepReturnsReference({
    rewards,
    masks,
    badMasks,
    values,
    numAgents: N,
    numEnvs: E,
    nSteps: T,
    gamma: SEAC_DEFAULTS.gamma,
  });
  assertTrue(badMasks.some((b) => b === 0) && masks.some((m) => m === 0), "masks are all 1");
  assertAllClose(got, want, { atol: 1e-5, rtol: 1e-5 }, "returns");
});

gpuTest("SEAC stateTensors() and hostState() resume a run identically", async (engine) => {
  const algo = { ...SEAC_DEFAULTS, hidden: 16, iterationsPerSubmit: 2 };
  const make = async () =>
    createSeacTrainer(engine, await lbf(engine, "Foraging-8x8-2p-2f-coop", 3, 5), {
      sharing: "seac",
      seed: 5,
      algo,
    });
  const a = await make();
  a.run(7); // 35 steps before, 25 after: the 50-step episodes end after the resume
  const state = a.stateTensors();
  const keys = Object.keys(state);
  const saved = await readTensors(engine, keys.map((k) => state[k]));
  const b = await make();
  const restored = b.stateTensors();
  assertTrue(
    keys.join() === Object.keys(restored).join(),
    `keys differ: ${keys} vs ${Object.keys(restored)}`,
  );
  keys.forEach((k, i) => engine.write(restored[k], saved[i] as ArrayLike<number>));
  b.restoreHostState(a.hostState());
  a.run(5);
  b.run(5);
  const [pa, pb] = await readTensors(engine, [a.parts.net.params, b.parts.net.params] as const);
  assertExact(pb, pa, "params after resume");
  const [ma, mb] = [await a.readMetrics(), await b.readMetrics()];
  assertTrue(
    JSON.stringify(ma) === JSON.stringify(mb),
    `metrics differ: ${JSON.stringify([ma, mb])}`,
  );
  assertTrue(ma.episodes > 0, "no episode finished across the resume");
});

gpuTest("SEAC encodeAct() picks each agent's most probable action when greedy", async (engine) => {
  const hidden = 16;
  const env = await lbf(engine, TASK3, 9, 3);
  const tr = await createSeacTrainer(engine, env, {
    sharing: "seac",
    seed: 2,
    algo: { ...SEAC_DEFAULTS, hidden },
  });
  tr.run(1);
  const enc = engine.encoder("t.act");
  tr.encodeAct(enc, { greedy: true });
  engine.submit(enc);
  const [obs, actions, params] = await readTensors(
    engine,
    [env.buffers.obs, env.buffers.actions, tr.parts.net.params] as const,
  );
  const N = env.spec.numAgents, E = 9, D = env.spec.obsShape[0], K = env.spec.numActions;
  const actorSizes = [D, hidden, hidden, K];
  const stride = tr.parts.net.stride;
  const want = [];
  for (let k = 0; k < N; k++) {
    for (let e = 0; e < E; e++) {
      const i = k * E + e;
      const z = actorLogitsReference(params, k * stride, actorSizes, obs.slice(i * D, (i + 1) * D));
      want.push(z.indexOf(Math.max(...z)));
    }
  }
  assertExact(actions, want, "greedy actions");
});

// Learning smoke test. Task: Foraging-5x5-2p-1f (2 players, 1 food, 50-step episodes), 32 envs,
// 300 updates (48,000 env steps), hidden 32 and lr 3e-3 (10× the paper's, to learn within the
// test budget). Measured (seed 1, llvmpipe): mean return per agent 0.145 over the first 50 updates,
// 0.31 over the last 50 (chance ≈ 0.21), episodes shortening from 39.7 to 27.3 steps. Threshold:
// the last interval's mean return exceeds the first's by 0.08 and chance (0.25), and episodes
// get shorter.
gpuTest("SEAC learns Foraging-5x5-2p-1f: mean return rises above chance", async (engine) => {
  const env = await lbf(engine, "Foraging-5x5-2p-1f", 32, 1);
  const tr = await createSeacTrainer(engine, env, {
    sharing: "seac",
    seed: 1,
    algo: { ...SEAC_DEFAULTS, lr: 3e-3, hidden: 32 },
  });
  const log = [];
  for (let i = 0; i < 6; i++) {
    tr.run(50);
    log.push(await tr.readMetrics());
  }
  const first = log[0], last = log[log.length - 1];
  const line = log.map((m) =>
    `${m.envSteps}: ${m.meanReturn.toFixed(3)} (${m.meanLength.toFixed(1)})`
  )
    .join(", ");
  assertTrue(
    last.meanReturn >= first.meanReturn + 0.08 && last.meanReturn >= 0.25,
    `mean return did not rise: ${line}`,
  );
  assertTrue(last.meanLength < first.meanLength, `episodes did not shorten: ${line}`);
});

Deno.test("SEAC, IAC and SNAC presets cover every Table 1 task with valid fields", async () => {
  const tasks = [
    "rware-tiny-2ag",
    "rware-tiny-2ag-hard",
    "rware-tiny-4ag",
    "rware-small-4ag",
    "Foraging-8x8-2p-2f-coop",
    "Foraging-10x10-3p-3f",
    "Foraging-12x12-2p-1f",
    "Foraging-15x15-3p-4f",
  ];
  const dir = new URL("../../../app/presets/", import.meta.url);
  const seen = new Set<string>();
  for await (const f of Deno.readDir(dir)) {
    const m = /^(seac|iac|snac)_.*\.yaml$/.exec(f.name);
    if (!m) continue;
    const text = await Deno.readTextFile(new URL(f.name, dir));
    const cfg = await parseYaml(text, f.name) as Record<string, Record<string, unknown>>;
    const algo = cfg.algo;
    assertTrue(algo.name === m[1], `${f.name}: algo.name is ${algo.name}`);
    const fields: Record<string, unknown> = { ...SEAC_DEFAULTS };
    for (const [k, v] of Object.entries(algo)) {
      if (k === "name") continue;
      assertTrue(k in SEAC_DEFAULTS, `${f.name}: unknown key algo.${k}`);
      assertTrue(typeof v === typeof fields[k], `${f.name}: algo.${k} is ${typeof v}`);
      fields[k] = v;
    }
    const run = cfg as unknown as RunConfig;
    const problems = checkSeacConfig(run, fields as unknown as SeacConfig);
    assertTrue(problems.length === 0, `${f.name}: ${problems.join("; ")}`);
    const { def, spec } = findTask(cfg.env as unknown as RunConfig["env"]);
    const env = spec.name;
    assertTrue(def === LBF || def === RWARE, `${f.name}: task ${env} is not LBF or RWARE`);
    if (f.name.includes("_lbf_")) {
      // The SEAC code's LBF setting: 25-step episodes, time-outs truncate, v0 food levels.
      const c = spec.config;
      assertTrue(
        c.maxEpisodeSteps === 25 && c.timeLimit === "truncate" && c.foodLevels === "v0",
        `${f.name}: LBF options ${JSON.stringify(cfg.env)}`,
      );
    }
    assertTrue(/^# .*\n# Source: /.test(text) && /# Expected/.test(text), `${f.name}: no header`);
    seen.add(`${m[1]} ${env}`);
  }
  for (const t of tasks) {
    for (const a of ["seac", "iac", "snac"]) {
      assertTrue(seen.has(`${a} ${t}`), `no ${a} preset for ${t}`);
    }
  }
});
