import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { adamReferenceState } from "../../../engine/nn/adam_reference.ts";
import { readTensor, readTensors } from "../../../engine/readback.ts";
import { idqnLearnReference } from "../../../algorithms/idqn/reference.ts";
import {
  checkLbsConfig,
  LBS,
  LBS_DEFAULTS,
  type LbsConfig,
  type LbsSource,
  P2_SEED_SALT,
} from "../../../algorithms/lbs/mod.ts";
import { findPreset, listPresets } from "../../../app/presets.ts";
import { parseConfig } from "../../../app/config.ts";
import { lbsPoolTdReference, lbsResampleReference } from "../../../algorithms/lbs/reference.ts";
import type { StageTrainer } from "../../../algorithms/idqn/stage_metrics.ts";
import {
  assertAdamStepClose,
  assertPresetsValidate,
  assertReturnsRiseEpisodesShorten,
} from "../idqn/_idqn_testing.ts";
import { assertAllClose, assertExact, gpuTest, seeded } from "../../_testing.ts";

Deno.test("lbsResampleReference() draws in proportion to p2 with unbiased weights", () => {
  // 12 items, |δ| spread over two decades, clip 1; 4,000 calls × 8 draws.
  const K = 12, B = 8, steps = 4000;
  const td = Float64Array.from({ length: K }, (_, k) => 0.02 * 1.5 ** k);
  const counts = new Float64Array(K);
  let wsum = 0;
  let p: Float64Array = new Float64Array(K);
  for (let s = 0; s < steps; s++) {
    const d = lbsResampleReference({
      absTd: td,
      numLearners: 1,
      batch: B,
      clip: 1,
      eps: 1e-8,
      seed: 3,
      step: s,
    });
    d.indices.forEach((k) => counts[k]++);
    d.weights.forEach((w) => (wsum += w));
    p = d.p;
  }
  const n = steps * B;
  for (let k = 0; k < K; k++) {
    const sd = Math.sqrt(p[k] * (1 - p[k]) / n);
    assert(Math.abs(counts[k] / n - p[k]) < 5 * sd, `item ${k}: ${counts[k] / n} vs p ${p[k]}`);
  }
  // E[w] = Σ p·1/(K p) = 1: the weighted mean of any per-item quantity is the pool mean.
  assert(Math.abs(wsum / n - 1) < 0.03, `mean weight ${wsum / n}`);
  assertAllClose([p[K - 1] / p[K - 2]], [1], { atol: 1e-12, rtol: 0 }); // both clipped at 1
});

/**
 * Small LBS config: MLP Q-network, one update per iteration from iteration 4 on; vanilla target
 * and p2 ∝ min(|δ|, 1) unless a case says otherwise (the defaults are the preset's double DQN and
 * unclipped p2).
 */
function smallLbs(numEnvs: number, over: Partial<LbsConfig>): LbsConfig {
  return {
    ...LBS_DEFAULTS,
    conv: [],
    dense: [8],
    embed: 0,
    headHidden: 0,
    dueling: false,
    double: false,
    priorityClip: 1,
    headInit: "torchDefault",
    lr: 1e-3,
    maxGradNorm: 0.05,
    batchSize: 6,
    bufferSize: 40,
    stepsPerUpdate: numEnvs,
    learningStarts: 3 * numEnvs,
    targetEvery: 1,
    epsilonStart: 1,
    epsilonEnd: 1,
    ...over,
  };
}

const TASK_FOR: Record<number, string> = {
  2: "Foraging-5x5-2p-1f",
  3: "Foraging-6x6-3p-1f",
  8: "Foraging-8x8-8p-2f",
};

interface StepCase {
  numAgents: number;
  config: Partial<LbsConfig>;
  what: string;
}

const STEP_CASES: StepCase[] = [
  { numAgents: 2, config: {}, what: "uniform p1, |δ| p2, Huber, vanilla target" },
  { numAgents: 3, config: { prioritized: true, double: true }, what: "PER p1, double DQN" },
  { numAgents: 8, config: { loss: "mse", priorityClip: 0 }, what: "MSE, unclipped p2" },
  { numAgents: 3, config: { p2: "uniform" }, what: "uniform p2 (IDQN same RB)" },
];

for (const c of STEP_CASES) {
  gpuTest(
    `one LBS learning step equals the CPU reference (${c.numAgents} agents, ${c.what})`,
    async (engine) => {
      const E = 3, seed = 6;
      const algo = smallLbs(E, c.config);
      const tr = await LBS.create(engine, {
        seed,
        numEnvs: E,
        totalSteps: 1000,
        env: TASK_FOR[c.numAgents],
      }, algo) as StageTrainer;
      const { net, target, learner, spec, source: s, replay } = tr.inner.parts;
      const source = s as LbsSource;
      const M = c.numAgents, B = algo.batchSize, K = M * B, D = replay.config.obsDim;
      tr.run(4);
      assertEquals(tr.inner.updates, 1);
      const [p0, t0, m0, v0, n0, clock] = await readTensors(
        engine,
        [
          net.params,
          target.params,
          learner.adam.m,
          learner.adam.v,
          learner.adam.count,
          source.p2.clock,
        ] as const,
      );
      tr.run(1);
      assertEquals(tr.inner.updates, 2);
      const pool = source.pool, b = source.batch;
      const got = await readTensors(engine, [
        pool.obs,
        pool.nextObs,
        pool.action,
        pool.reward,
        pool.done,
        source.p2.indices,
        source.p2.weights!,
        b.obs,
        b.nextObs,
        b.action,
        b.reward,
        b.done,
        b.weight!,
        net.params,
        learner.loss.absDelta,
      ]);
      const [pObs, pNext, pAction, pReward, pDone, pick, pickW] = got;
      const [bObs, bNext, bAction, bReward, bDone, bWeight, p1, absTd] = got.slice(7);
      const poolT = { obs: pObs, nextObs: pNext, action: pAction, reward: pReward, done: pDone };
      // 1. Every learner's |δ| on the whole pool, with the parameters before the step.
      let scores: ArrayLike<number>;
      if (algo.p2 === "td") {
        const gpuTd = await readTensor(engine, source.poolAbsTd!);
        const want = lbsPoolTdReference({
          spec,
          config: algo,
          numLearners: M,
          pool: poolT,
          params: p0,
          target: t0,
        });
        assertAllClose(gpuTd, want, { atol: 1e-5, rtol: 1e-4 }, "pool |δ|");
        scores = gpuTd;
      } else {
        scores = new Float64Array(M * K).fill(1);
      }
      // 2. p2 draws and weights (exact indices except in the f32 rounding band of a CDF step).
      const clip = algo.p2 === "td" && algo.priorityClip > 0 ? algo.priorityClip : Infinity;
      const d = lbsResampleReference({
        absTd: scores,
        numLearners: M,
        batch: B,
        clip,
        eps: 1e-8,
        seed: (seed ^ P2_SEED_SALT) >>> 0,
        step: clock[0],
      });
      let checked = 0;
      for (let i = 0; i < M * B; i++) {
        if (d.ambiguous[i]) continue;
        checked++;
        assertExact([pick[i]], [d.indices[i]], `p2 draw ${i}`);
        assertAllClose([pickW[i]], [d.weights[i]], { atol: 0, rtol: 2e-5 }, `p2 weight ${i}`);
      }
      assert(checked >= M * B - 1, `${M * B - checked} ambiguous draws`);
      if (algo.p2 === "uniform") {
        assertExact(pickW, new Float32Array(M * B).fill(1), "uniform weights");
      } else assert(new Set(pick).size > 1, "draws differ");
      // 3. The learner's batch: pool rows at the draws, weight = p2 weight × p1 IS weight.
      const p1w = algo.prioritized ? await readTensor(engine, source.p1.weights!) : null;
      for (let i = 0; i < M * B; i++) {
        const k = pick[i];
        assertExact(
          bObs.subarray(i * D, (i + 1) * D),
          pObs.subarray(k * D, (k + 1) * D),
          `obs ${i}`,
        );
        assertExact(
          bNext.subarray(i * D, (i + 1) * D),
          pNext.subarray(k * D, (k + 1) * D),
          `next ${i}`,
        );
        assertExact(
          [bAction[i], bReward[i], bDone[i]],
          [pAction[k], pReward[k], pDone[k]],
          `row ${i}`,
        );
        const w = Math.fround(pickW[i] * (p1w ? p1w[k] : 1));
        assertExact([bWeight[i]], [w], `weight ${i}`);
      }
      // 4. The update equals the reference learning step on that batch.
      const adam = adamReferenceState(p0, { numAgents: M, stride: net.stride });
      adam.m.set(m0);
      adam.v.set(v0);
      adam.count = [...n0];
      const ref = idqnLearnReference({
        spec,
        config: algo,
        numLearners: M,
        batch: B,
        adam,
        target: t0,
        data: {
          obs: bObs,
          nextObs: bNext,
          action: bAction,
          reward: bReward,
          done: bDone,
          weight: bWeight,
        },
      });
      assertAllClose(absTd, ref.absTd, { atol: 1e-5, rtol: 1e-4 }, "learner |δ|");
      assertAdamStepClose(p1, ref, adam.params, algo.lr);
      // 5. PER p1: ring j's priorities of its draws are learner j's own |δ| on them.
      if (algo.prioritized) {
        const tree = replay.tree!;
        const [sum, slots] = await readTensors(engine, [tree.sum, source.p1.indices] as const);
        const gpuTd = await readTensor(engine, source.poolAbsTd!);
        for (let j = 0; j < M; j++) {
          // The last draw of a duplicated slot wins.
          const last = new Map<number, number>();
          for (let bb = 0; bb < B; bb++) last.set(slots[j * B + bb], bb);
          for (const [slot, bb] of last) {
            const leaf = sum[j * 2 * tree.leafCount + tree.leafCount + slot];
            const want = Math.pow(gpuTd[j * K + j * B + bb] + algo.priorityEps, algo.alpha);
            assertAllClose(
              [leaf],
              [want],
              { atol: 1e-6, rtol: 1e-4 },
              `priority ring ${j} slot ${slot}`,
            );
          }
        }
      }
    },
  );
}

gpuTest(
  "LBS run() records no readbacks between log points and reports pool metrics",
  async (engine) => {
    const E = 4;
    const algo = smallLbs(E, { bufferSize: 200 });
    const tr = await LBS.create(
      engine,
      { seed: 2, numEnvs: E, totalSteps: 1000, env: TASK_FOR[3] },
      algo,
    );
    const reads = engine.stats.reads;
    tr.run(30);
    assertEquals(engine.stats.reads, reads, "no reads inside run()");
    const m = await tr.readMetrics();
    assertEquals(
      engine.stats.reads,
      reads + 1,
      "one read per log point (trainer and stage together)",
    );
    assert(Number.isFinite(m.scalars.poolMeanAbsTd) && m.scalars.poolMeanAbsTd > 0);
    // With 3 agents, about 2/3 of the drawn items come from the other agents' buffers.
    assert(
      m.scalars.foreignFraction > 0.4 && m.scalars.foreignFraction < 0.9,
      `${m.scalars.foreignFraction}`,
    );
    void seeded;
  },
);

Deno.test("LBS presets state source and expectation and validate against LBS's defaults", async () => {
  const presets = (await listPresets()).filter((p) => /^lbs_/.test(p.name));
  assert(presets.length >= 1, "an LBS preset exists");
  await assertPresetsValidate(presets, {
    name: "lbs",
    defaults: LBS_DEFAULTS,
    check: checkLbsConfig,
  });
});

Deno.test("LBS_DEFAULTS equal the lbs_pursuit preset's algo values (p2 ∝ |δ|, uniform p1)", async () => {
  const preset = await findPreset("lbs_pursuit");
  const { algo } = await parseConfig(preset.text, { source: preset.name });
  const { name, ...values } = algo as unknown as LbsConfig & { name: string };
  assertEquals(name, "lbs");
  assertEquals(values, { ...LBS_DEFAULTS });
  assertEquals([LBS_DEFAULTS.priorityClip, LBS_DEFAULTS.prioritized], [0, false]);
});

// Learning smoke test. Task: Foraging-5x5-2p-1f, 32 envs, MLP [64], lr 1e-3, γ 0.9 (0.99 learns
// too slowly for a CPU-adapter test), 8 learning ticks per 32 env steps, ε 1 → 0.05 over 10k
// steps, uniform p1, p2 ∝ min(|δ|, 1); 20,480 env steps in 8 intervals. Measured (seed 1,
// llvmpipe): mean return per agent 0.231, 0.237 in intervals 2–3 (ε 0.52 → 0.05), 0.293, 0.325
// in intervals 6–7 (ε 0.05); episodes shorten from 36.3/32.6 to 29.5/26.5 steps. Threshold: the
// last two intervals' mean return exceeds intervals 2–3's by 0.05, and their episodes are shorter.
gpuTest("LBS learns Foraging-5x5-2p-1f: returns rise and episodes shorten", async (engine) => {
  const E = 32;
  const algo: LbsConfig = {
    ...smallLbs(E, {}),
    dense: [64],
    lr: 1e-3,
    gamma: 0.9,
    batchSize: 32,
    bufferSize: 20000,
    stepsPerUpdate: 4,
    learningStarts: 1000,
    targetEvery: 400,
    epsilonStart: 1,
    epsilonEnd: 0.05,
    epsilonSteps: 10000,
    maxGradNorm: 10,
    double: true,
  };
  const tr = await LBS.create(engine, {
    seed: 1,
    numEnvs: E,
    totalSteps: 1e9,
    env: "Foraging-5x5-2p-1f",
  }, algo);
  await assertReturnsRiseEpisodesShorten(tr);
});
