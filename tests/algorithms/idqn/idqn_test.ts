import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { assertAdamStepClose, assertPresetsValidate } from "./_idqn_testing.ts";
import type { Engine } from "../../../engine/device.ts";
import { adamReferenceState } from "../../../engine/nn/adam_reference.ts";
import { createNet } from "../../../engine/nn/net.ts";
import { readTensors } from "../../../engine/readback.ts";
import { RNG_PURPOSE } from "../../../engine/rng.ts";
import type { Tensor } from "../../../engine/tensor.ts";
import { parseYaml } from "../../../app/config.ts";
import { listPresets } from "../../../app/presets.ts";
import {
  createIdqnTrainer,
  createQNetwork,
  IDQN_ALGORITHMS,
  IDQN_DEFAULTS,
  type IdqnConfig,
  type IdqnTrainer,
  type IdqnVariant,
  qNetworkInit,
  qNetworkParamCount,
  type QNetworkSpec,
  SEQL_DEFAULTS,
} from "../../../algorithms/idqn/mod.ts";
import { createEpsilonGreedy, epsilonAt } from "../../../algorithms/idqn/act.ts";
import { type PooledBatchSource, seqlWeights } from "../../../algorithms/idqn/batch.ts";
import {
  epsilonGreedyReference,
  idqnLearnReference,
  qNetworkBackwardReference,
  qNetworkForwardReference,
} from "../../../algorithms/idqn/reference.ts";
import {
  AGENT_COUNTS,
  assertAllClose,
  assertExact,
  dot,
  finiteDiff,
  gpuTest,
  seeded,
} from "../../_testing.ts";

const CNN: QNetworkSpec = {
  obsShape: [5, 4, 3],
  numActions: 5,
  conv: [4, 3],
  kernel: 2,
  dense: [7],
  embed: 6,
  headHidden: 5,
  dueling: true,
  headInit: "xavierZero",
};
const MLP: QNetworkSpec = {
  obsShape: [11],
  numActions: 4,
  conv: [],
  kernel: 2,
  dense: [9, 6],
  embed: 0,
  headHidden: 0,
  dueling: false,
  headInit: "torchDefault",
};
const MLP_HIDDEN_HEAD: QNetworkSpec = { ...MLP, dense: [8], embed: 5, headHidden: 6 };

Deno.test("qNetworkBackwardReference() matches central finite differences in float64", () => {
  for (const spec of [CNN, MLP, MLP_HIDDEN_HEAD]) {
    const L = 2, B = 3, obsDim = spec.obsShape.reduce((a, b) => a * b, 1);
    const params = Float64Array.from(qNetworkInit(spec, { numAgents: L, seed: 3 }));
    const rng = seeded(11);
    const x = rng.f32(L * B * obsDim, 0, 2);
    const dQ = rng.f32(L * B * spec.numActions);
    const f = (p: Float64Array) =>
      dot(qNetworkForwardReference({ spec, numLearners: L, batch: B, params: p, x }), dQ);
    const got = qNetworkBackwardReference({ spec, numLearners: L, batch: B, params, x, dQ });
    const stride = qNetworkParamCount(spec);
    const only = Array.from({ length: 60 }, (_, k) => Math.floor((k * L * stride) / 60));
    const want = finiteDiff(f, params, 1e-6, only);
    assertAllClose(
      only.map((i) => got[i]),
      only.map((i) => want[i]),
      { atol: 1e-6, rtol: 1e-5 },
      `grads of ${spec.conv.length ? "cnn" : "mlp"}`,
    );
  }
});

Deno.test("seqlWeights() gives own and foreign rows separate means", () => {
  const N = 3, B = 6, lambda = 0.5;
  const w = seqlWeights(N, B, lambda);
  for (let i = 0; i < N; i++) {
    const row = w.subarray(i * B, (i + 1) * B);
    // (1/B) Σ_own w = 1 and (1/B) Σ_foreign w = λ: each part is a mean with its own divisor.
    const own = row.filter((_, k) => Math.floor(k / (B / N)) === i).reduce((a, b) => a + b, 0);
    const foreign = row.reduce((a, b) => a + b, 0) - own;
    assertAllClose([own / B, foreign / B], [1, lambda], { atol: 1e-6 });
  }
});

Deno.test("epsilonAt() follows the linear and multiplicative schedules", () => {
  const lin = { kind: "linear", start: 0.1, end: 0.001, steps: 1000, randomSteps: 0 } as const;
  assertAllClose([0, 500, 1000, 5000].map((t) => epsilonAt(lin, t)), [0.1, 0.0505, 0.001, 0.001]);
  const mul = { kind: "multiplicative", start: 1, end: 0.01, steps: 100, randomSteps: 10 } as const;
  assertAllClose([5, 50, 100, 200].map((t) => epsilonAt(mul, t)), [1, 0.1, 0.01, 0.01], {
    atol: 1e-12,
  });
});

gpuTest(
  "createQNetwork() forward and backward match the reference for 1, 3 and 8 learners",
  async (engine) => {
    for (const spec of [CNN, MLP_HIDDEN_HEAD]) {
      for (const L of AGENT_COUNTS) {
        const B = 5, obsDim = spec.obsShape.reduce((a, b) => a * b, 1);
        const stride = qNetworkParamCount(spec);
        const init = qNetworkInit(spec, { numAgents: L, seed: 7 + L });
        const net = createNet(engine, { numAgents: L, stride, label: "t.net", init });
        const rng = seeded(L);
        const xs = rng.f32(L * B * obsDim, 0, 2), dQ = rng.f32(L * B * spec.numActions);
        const x = engine.tensor({ dtype: "f32", shape: [L, B, obsDim], label: "t.x", data: xs });
        const q = await createQNetwork(engine, { net, x, batch: B, spec, label: "t.q" });
        engine.write(q.dQ, dQ);
        const enc = engine.encoder();
        q.forward(enc);
        q.backward(enc);
        engine.submit(enc);
        const [gq, gg] = await readTensors(engine, [q.q, net.grads] as const);
        const args = { spec, numLearners: L, batch: B, params: init, x: xs };
        const what = `${spec.conv.length ? "cnn" : "mlp"} L=${L}`;
        assertAllClose(gq, qNetworkForwardReference(args), { atol: 1e-5, rtol: 1e-4 }, `q ${what}`);
        assertAllClose(gg, qNetworkBackwardReference({ ...args, dQ }), {
          atol: 1e-5,
          rtol: 1e-4,
        }, `grads ${what}`);
      }
    }
  },
);

gpuTest("ε-greedy acting matches the reference exactly", async (engine) => {
  const N = 3, E = 37, K = 5, steps = 4;
  const rng = seeded(5);
  const qs = rng.f32(N * E * K);
  const q = engine.tensor({ dtype: "f32", shape: [N * E, K], label: "t.q", data: qs });
  const actions = engine.tensor({ dtype: "u32", shape: [N, E], label: "t.actions" });
  const loss = engine.tensor({ dtype: "f32", shape: [N], label: "t.loss" });
  const absTd = engine.tensor({ dtype: "f32", shape: [N, 2], label: "t.td" });
  const schedule = { kind: "linear", start: 0.9, end: 0.1, steps: 400, randomSteps: 0 } as const;
  const policy = await createEpsilonGreedy(engine, {
    q,
    actions,
    numAgents: N,
    numEnvs: E,
    numActions: K,
    schedule,
    seed: 9,
    numLearners: N,
    batch: 2,
    loss,
    absTd,
    label: "t.policy",
  });
  for (let s = 0; s < steps; s++) {
    const enc = engine.encoder();
    policy.act(enc, s === steps - 1);
    engine.submit(enc);
    const got = await readTensors(engine, [actions] as const);
    const greedy = s === steps - 1;
    const eps = greedy ? 0 : Math.fround(epsilonAt(schedule, s * E));
    const want = Array.from({ length: N * E }, (_, r) =>
      epsilonGreedyReference({
        q: qs,
        row: r,
        numActions: K,
        agent: Math.floor(r / E),
        env: r % E,
        step: s,
        eps,
        seed: 9,
        purpose: RNG_PURPOSE.explore,
      }));
    assertExact(got[0], want, `actions at step ${s}`);
    if (!greedy) assert(want.some((a, r) => a !== argmax(qs, r, K)), "some rows explore");
  }
});

function argmax(q: ArrayLike<number>, r: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (q[r * k + j] > q[r * k + best]) best = j;
  return best;
}

/** Small sizes for learning-step tests; the first update lands on iteration 4. */
function smallConfig(base: Readonly<IdqnConfig>, numEnvs: number): IdqnConfig {
  return {
    ...base,
    lr: 1e-3,
    maxGradNorm: 0.05,
    batchSize: 6,
    bufferSize: 40,
    stepsPerUpdate: numEnvs,
    learningStarts: 3 * numEnvs,
    targetEvery: 1,
    epsilonStart: 1,
    epsilonEnd: 1,
    randomSteps: 0,
  };
}

const LBF_TASK = "Foraging-5x5-2p-1f";
const SMALL_MLP = { conv: [], dense: [8], embed: 0, headHidden: 0, dueling: false };

interface StepCase {
  variant: IdqnVariant;
  env: string;
  config: Partial<IdqnConfig>;
  base: Readonly<IdqnConfig>;
}

const STEP_CASES: StepCase[] = [
  {
    variant: "idqn",
    env: "pursuit",
    base: IDQN_DEFAULTS,
    config: { conv: [3, 4], dense: [6], embed: 5, headHidden: 4 }, // PER, double, dueling, Huber
  },
  {
    variant: "ps",
    env: LBF_TASK,
    base: IDQN_DEFAULTS,
    config: { ...SMALL_MLP, prioritized: false, double: true },
  },
  {
    variant: "idqn-same-rb",
    env: LBF_TASK,
    base: IDQN_DEFAULTS,
    config: {
      ...SMALL_MLP,
      prioritized: false,
      double: false,
      headHidden: 5,
      headInit: "xavierZero",
    },
  },
  { variant: "seql", env: LBF_TASK, base: SEQL_DEFAULTS, config: { dense: [8, 8], lambda: 0.7 } },
  { variant: "iql", env: LBF_TASK, base: SEQL_DEFAULTS, config: { dense: [8, 8] } },
];

for (const c of STEP_CASES) {
  gpuTest(`one ${c.variant} learning step equals the CPU reference update`, async (engine) => {
    const E = 3;
    const algo = { ...smallConfig(c.base, E), ...c.config };
    const tr = await createIdqnTrainer(engine, c.variant, {
      seed: 4,
      numEnvs: E,
      totalSteps: 1000,
      env: c.env,
    }, algo);
    const { net, target, source, learner, spec, numLearners: L } = tr.parts;
    // One update first, so that PER priorities differ and Adam has moments.
    tr.run(4);
    assertEquals(tr.updates, 1);
    const [p0, t0, m0, v0, n0] = await readTensors(
      engine,
      [
        net.params,
        target.params,
        learner.adam.m,
        learner.adam.v,
        learner.adam.count,
      ] as const,
    );
    tr.run(1);
    assertEquals(tr.updates, 2);
    const b = source.batch;
    const read: Tensor[] = [b.obs, b.nextObs, b.action, b.reward, b.done, net.params, net.grads];
    read.push(target.params, learner.loss.loss, learner.loss.absDelta);
    if (b.weight) read.push(b.weight);
    const got = await readTensors(engine, read);
    const [obs, nextObs, action, reward, done, p1, grads, t1, loss, absTd] = got;
    const weight = b.weight ? got[10] as Float32Array : undefined;
    const adam = adamReferenceState(p0, { numAgents: L, stride: net.stride });
    adam.m.set(m0);
    adam.v.set(v0);
    adam.count = [...n0];
    const ref = idqnLearnReference({
      spec,
      config: algo,
      numLearners: L,
      batch: source.size,
      adam,
      target: t0,
      data: { obs, nextObs, action, reward, done, weight },
    });
    if (c.variant === "idqn-same-rb") {
      // Every learner's rows are pool rows; the pool holds every agent's draws.
      const src = source as PooledBatchSource;
      const [pick, pool] = await readTensors(engine, [src.pick.indices, src.pool.obs] as const);
      const d = spec.obsShape[0];
      const want = Array.from(pick).flatMap((p) => Array.from(pool.subarray(p * d, (p + 1) * d)));
      assertExact(obs, want, "learner rows are the picked pool rows");
      const B = source.size;
      assert(
        Array.from(pick).some((p, i) => Math.floor(p / B) !== Math.floor(i / B)),
        "learners draw other agents' rows",
      );
    }
    if (c.variant === "seql") {
      // The same pooled rows for every learner.
      const n = source.size * spec.obsShape[0];
      assertExact(obs.subarray(n, 2 * n), obs.subarray(0, n), "seql rows are shared");
    }
    if (weight && c.variant === "idqn") assert(weight.some((w) => w < 1), "PER weights vary");
    assert((done as Float32Array).some((d) => d === 0), "the batch has bootstrapped rows");
    // f32 sums over ≤ a few hundred terms: relative 1e-4 plus an absolute floor of the scale.
    const gmax = Math.max(...ref.grads.map(Math.abs));
    assertAllClose(loss, ref.loss, { atol: 1e-6, rtol: 1e-4 }, "loss");
    assertAllClose(absTd, ref.absTd, { atol: 1e-5, rtol: 1e-4 }, "|δ|");
    assertAllClose(grads, ref.grads, { atol: 1e-4 * gmax, rtol: 1e-3 }, "grads");
    assertAdamStepClose(p1, ref, adam.params, algo.lr);
    if (algo.tau < 1) {
      assertAllClose(t1, ref.target, { atol: 1e-6, rtol: 1e-5 }, "Polyak target params");
    } else {
      // targetEvery = 1: a hard copy after every update.
      assertExact(t1, p1, "hard target copy");
      assert(t1.some((v, i) => v !== t0[i]), "the target moved");
    }
    if (algo.prioritized) {
      const tree = tr.parts.replay.tree!;
      const [sum, idx] = await readTensors(
        engine,
        [
          tree.sum,
          (source as unknown as { sampler: { indices: Tensor } }).sampler.indices,
        ] as const,
      );
      const per = idx.length / tree.numRings;
      for (let k = 0; k < idx.length; k++) {
        const ring = Math.floor(k / per);
        const leaf = sum[ring * 2 * tree.leafCount + tree.leafCount + idx[k]];
        const want = Math.pow(ref.absTd[k] + algo.priorityEps, algo.alpha);
        assertAllClose([leaf], [want], { atol: 1e-6, rtol: 1e-4 }, `priority of draw ${k}`);
      }
    }
  });
}

gpuTest("IDQN run() records no readbacks between log points", async (engine) => {
  const E = 4;
  const algo = { ...smallConfig(IDQN_DEFAULTS, E), ...SMALL_MLP, bufferSize: 200 };
  const tr = await createIdqnTrainer(engine, "idqn", {
    seed: 2,
    numEnvs: E,
    totalSteps: 1000,
    env: LBF_TASK,
  }, algo);
  const reads = engine.stats.reads;
  tr.run(40);
  assertEquals(engine.stats.reads, reads, "no reads inside run()");
  assert(tr.updates > 30);
  const m = await tr.readMetrics();
  assertEquals(engine.stats.reads, reads + 1, "one read per log point");
  assertEquals(m.envSteps, 160);
  assertEquals(m.scalars.updates, tr.updates);
  assert(Number.isFinite(m.scalars.loss) && m.scalars.loss > 0);
  assert(m.episodes > 0 && Number.isFinite(m.meanLength));
});

Deno.test("IDQN-family presets state source and expectation and validate against the defaults", async () => {
  const presets = (await listPresets()).filter((p) => /^(idqn|ps|seql|iql)_/.test(p.name));
  assert(presets.length >= 8, `found ${presets.length} presets`);
  for (const p of presets) {
    const raw = await parseYaml(p.text, p.name) as { algo: { name: string } };
    const def = IDQN_ALGORITHMS[raw.algo.name as IdqnVariant];
    assert(def, `${p.name}: algo.name "${raw.algo.name}"`);
    await assertPresetsValidate<IdqnConfig>([p], {
      name: raw.algo.name,
      defaults: def.defaults,
      check: def.check!,
    });
  }
});

/** Mean return of the greedy policy over `steps` env steps of every env (no learning, no store). */
async function greedyReturn(engine: Engine, tr: IdqnTrainer, steps: number): Promise<number> {
  await tr.readMetrics(); // flushes the training interval
  const enc = engine.encoder("t.greedy");
  for (let i = 0; i < steps; i++) {
    tr.encodeAct(enc, { greedy: true });
    tr.env.encodeStep(enc);
    tr.parts.stats.track(enc);
  }
  engine.submit(enc);
  return (await tr.readMetrics()).meanReturn;
}

// Learning smoke test: LBF 5×5, 2 players, 1 food (50-step episodes; uniform random play returns
// about 0.3 per agent, an untrained greedy network 0–0.05 because it stalls). Each variant trains
// for 32,000 env steps (64 envs, ~3,900 gradient steps, MLP 32-32, ε 1 → 0.05 over 6,000 steps);
// the greedy policy is evaluated over 150 steps of all 64 envs (~200 episodes) before and after.
// Thresholds: the trained greedy return is at least 0.06 higher and at least twice the untrained
// one, and the training return of the last 50 iterations (ε = 0.05) beats that of the first 50
// (ε ≈ 1, i.e. random play) by at least 0.04. Values measured on llvmpipe (seed 1) are in the
// report. No timing assertions.
const SMOKE_ITERATIONS = 500;
for (const variant of ["idqn", "ps", "idqn-same-rb", "seql", "iql"] as const) {
  gpuTest(`${variant} improves the greedy return on a small LBF task`, async (engine) => {
    const E = 64;
    const base = variant === "seql" || variant === "iql" ? SEQL_DEFAULTS : IDQN_DEFAULTS;
    const algo: IdqnConfig = {
      ...base,
      conv: [],
      dense: [32, 32],
      embed: 0,
      headHidden: 0,
      dueling: false,
      headInit: "torchDefault",
      prioritized: false,
      lr: 1e-3,
      gamma: 0.95,
      batchSize: variant === "ps" ? 32 : 64,
      bufferSize: 20_000,
      stepsPerUpdate: 8,
      learningStarts: 640,
      targetEvery: 640,
      tau: 1,
      epsilonSchedule: "linear",
      epsilonStart: 1,
      epsilonEnd: 0.05,
      epsilonSteps: 6000,
      randomSteps: 0,
    };
    const tr = await createIdqnTrainer(engine, variant, {
      seed: 1,
      numEnvs: E,
      totalSteps: E * SMOKE_ITERATIONS,
      env: LBF_TASK,
    }, algo);
    const before = await greedyReturn(engine, tr, 150);
    const curve: number[] = [];
    for (let k = 0; k < SMOKE_ITERATIONS / 50; k++) {
      tr.run(50);
      curve.push((await tr.readMetrics()).meanReturn);
    }
    const after = await greedyReturn(engine, tr, 150);
    console.log(
      `${variant}: greedy return ${before.toFixed(3)} → ${after.toFixed(3)}; training curve ${
        curve.map((r) => r.toFixed(3)).join(" ")
      }`,
    );
    assert(after >= before + 0.06 && after >= 2 * before, `greedy ${before} → ${after}`);
    const [first, last] = [curve[0], curve[curve.length - 1]];
    assert(last >= first + 0.04, `training return ${first} → ${last}`);
  });
}

gpuTest("IDQN resumes bit for bit from stateTensors() and hostState()", async (engine) => {
  const E = 3;
  const algo = { ...smallConfig(IDQN_DEFAULTS, E), ...SMALL_MLP, targetEvery: 2 * E };
  const run = { seed: 6, numEnvs: E, totalSteps: 1000, env: LBF_TASK };
  const a = await createIdqnTrainer(engine, "idqn", run, algo);
  a.run(7);
  const named = (t: IdqnTrainer) => ({
    ...t.stateTensors(),
    ...Object.fromEntries(
      Object.entries(t.env.stateTensors!()).map(([k, v]) => [`env.${k}`, v]),
    ),
  });
  const src = named(a);
  const keys = Object.keys(src);
  const values = await readTensors(engine, keys.map((k) => src[k]));
  const b = await createIdqnTrainer(engine, "idqn", run, algo);
  const dst = named(b);
  assertEquals(Object.keys(dst).sort(), [...keys].sort());
  keys.forEach((k, i) => engine.write(dst[k], values[i]));
  b.restoreHostState(a.hostState());
  a.run(5);
  b.run(5);
  assertEquals(b.envSteps, a.envSteps);
  const [pa, pb, ra, rb] = await readTensors(
    engine,
    [
      a.parts.net.params,
      b.parts.net.params,
      a.parts.replay.counters,
      b.parts.replay.counters,
    ] as const,
  );
  assertExact(pb, pa, "params after resuming");
  assertExact(rb, ra, "replay counters after resuming");
});
