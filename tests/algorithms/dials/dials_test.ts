import {
  deepStrictEqual as assertEquals,
  ok as assert,
  rejects as assertRejects,
} from "node:assert/strict";
import type { Engine } from "../../../engine/device.ts";
import { readTensor, readTensors } from "../../../engine/readback.ts";
import {
  aipGather,
  aipMicroBatches,
  aipSample,
  type AipSpec,
  aipTestChunks,
  aipTrunk,
  createAip,
} from "../../../algorithms/dials/aip.ts";
import { compileKernel } from "../../../engine/kernel.ts";
import { RNG_PURPOSE, rngBernoulli, rngGumbel, rngU32 } from "../../../engine/rng.ts";
import type { Tensor } from "../../../engine/tensor.ts";
import { aipBceReference, aipGruCeReference } from "../../../algorithms/dials/aip_reference.ts";
import { createDialsTrainer } from "../../../algorithms/dials/mod.ts";
import { DIALS_DEFAULTS } from "../../../algorithms/dials/config.ts";
import { trunkInitParams } from "../../../algorithms/ppo/policy.ts";
import { packBits, packedWords } from "../../../envs/bits.ts";
import { AGENT_COUNTS, assertAllClose, finiteDiff, gpuTest, seeded } from "../../_testing.ts";

/** Random 0/1 inputs [rows][D] and targets [rows][S] with `classes` values. */
function dataset(seed: number, rows: number, D: number, S: number, classes: number) {
  const r = seeded(seed);
  const inputs = Array.from({ length: rows }, () => Array.from(r.u32(D, 2)));
  const targets = Array.from({ length: rows }, () => Array.from(r.u32(S, classes)));
  return { inputs, targets };
}

Deno.test("aipBceReference() gradient matches central finite differences", () => {
  const spec: AipSpec = { loss: "bce", inDim: 5, sources: 3, classes: 2, hidden: 6, seqLen: 1 };
  const p = trunkInitParams(1, aipTrunk(spec), 7);
  const { inputs, targets } = dataset(3, 11, 5, 3, 2);
  const f = (x: Float64Array) => aipBceReference({ params: x, inputs, targets, hidden: 6 }).loss;
  const { grad } = aipBceReference({ params: p, inputs, targets, hidden: 6 });
  assertAllClose(grad, finiteDiff(f, p, 1e-6), { atol: 1e-7, rtol: 1e-5 });
});

/** Uploads per-agent datasets [N, rows, ·] as the AIP expects them (inputs bit-packed). */
function upload(engine: Engine, sets: ReturnType<typeof dataset>[], D: number, S: number) {
  const rows = sets[0].inputs.length, N = sets.length;
  return {
    inputs: engine.tensor({
      dtype: "u32",
      shape: [N, rows, packedWords(D)],
      label: "t.inputs",
      data: packBits(sets.flatMap((s) => s.inputs.flat()), D),
    }),
    targets: engine.tensor({
      dtype: "u32",
      shape: [N, rows, S],
      label: "t.targets",
      data: Uint32Array.from(sets.flatMap((s) => s.targets.flat())),
    }),
  };
}

async function bceStepCase(engine: Engine, N: number, microBatches = 1) {
  const D = 37, H = 9, S = 4, rows = 30; // D over two packed words, the last one partial
  const spec: AipSpec = { loss: "bce", inDim: D, sources: S, classes: 2, hidden: H, seqLen: 1 };
  const sets = Array.from({ length: N }, (_, a) => dataset(50 + a, rows, D, S, 2));
  const aip = await createAip(engine, {
    spec,
    numAgents: N,
    ...upload(engine, sets, D, S),
    rows,
    epochs: 1,
    batch: 1000,
    lr: 1e-3,
    testFraction: 0.1,
    seed: 11,
    label: "t.aip",
    // Room for 27 / microBatches samples of N agents' widest rows (the 37 inputs) a pass.
    maxBindingBytes: microBatches > 1 ? (27 / microBatches) * 4 * N * D : undefined,
  });
  assertEquals(aip.plan, {
    sequences: 30,
    trainSeqs: 27,
    testSeqs: 3,
    testChunks: 1,
    batch: 27,
    microBatches,
    batchesPerEpoch: 1,
  });
  const init = trunkInitParams(N, aip.trunk, 11);
  const enc = engine.encoder("t");
  aip.encodeTrain(enc);
  engine.submit(enc);
  const [grads, loss] = await readTensors(engine, [aip.net.grads, aip.trainLoss] as const);
  // One minibatch holds every training sample, so the mean loss and its gradient do not depend on
  // the GPU's permutation.
  const stride = aip.net.stride;
  const wantG = new Float64Array(N * stride), wantL = new Float64Array(N);
  for (let a = 0; a < N; a++) {
    const ref = aipBceReference({
      params: init.subarray(a * stride, (a + 1) * stride),
      inputs: sets[a].inputs.slice(0, 27),
      targets: sets[a].targets.slice(0, 27),
      hidden: H,
    });
    wantG.set(ref.grad, a * stride);
    wantL[a] = ref.loss;
  }
  assertAllClose(grads, wantG, { atol: 1e-6, rtol: 1e-4 });
  assertAllClose(loss, wantL, { atol: 1e-6, rtol: 1e-4 });
}

Deno.test("aipTestChunks() covers every test sequence once, within the binding limit", () => {
  const spec: AipSpec = {
    loss: "softmax",
    inDim: 37,
    sources: 4,
    classes: 4,
    hidden: 64,
    seqLen: 100,
  };
  // 100 agents × 100 steps × 4·64 GRU work × 4 bytes = 10.24 MB a sequence: 13 fit in 128 MiB.
  const chunks = aipTestChunks(spec, 100, 40);
  assertEquals(chunks.map((c) => [c.offset, c.seqs]), [[0, 13], [13, 13], [26, 13], [39, 1]]);
  // dials_warehouse_100's minibatch of 32 sequences: 4 micro-batches of 8 (13 would fit).
  assertEquals([aipMicroBatches(spec, 100, 32), aipMicroBatches(spec, 4, 32)], [4, 1]);
  assertEquals(aipTestChunks(spec, 4, 10), [{ offset: 0, seqs: 10 }]);
  const traffic: AipSpec = {
    loss: "bce",
    inDim: 36,
    sources: 4,
    classes: 2,
    hidden: 128,
    seqLen: 1,
  };
  // dials_traffic_100: 8,000 test samples of 100 agents × 128 hidden f32 = 410 MB in one pass.
  // (The GRU spec above: 100 agents × 100 steps × a 4·64-wide work buffer = 10.24 MB a sequence.)
  const t = aipTestChunks(traffic, 100, 8000);
  assertEquals([t.length, t.reduce((n, c) => n + c.seqs, 0)], [4, 8000]);
});

gpuTest(
  "createAip() computes the test loss in chunks like one pass and like the reference",
  async (engine) => {
    const D = 37, H = 9, S = 4, rows = 110, N = 3; // 11 test samples: chunks of 4, 4 and 3
    const spec: AipSpec = { loss: "bce", inDim: D, sources: S, classes: 2, hidden: H, seqLen: 1 };
    const sets = Array.from({ length: N }, (_, a) => dataset(70 + a, rows, D, S, 2));
    const data = upload(engine, sets, D, S);
    const build = (maxBindingBytes?: number) =>
      createAip(engine, {
        spec,
        numAgents: N,
        ...data,
        rows,
        epochs: 1,
        batch: 32,
        lr: 1e-3,
        testFraction: 0.1,
        seed: 5,
        label: `t.aip.${maxBindingBytes ?? "one"}`,
        maxBindingBytes,
      });
    // 4 samples a chunk: the widest row is the input (37 f32 per agent).
    const one = await build(), split = await build(4 * 4 * N * D);
    assertEquals([one.plan.testChunks, split.plan.testChunks], [1, 3]);
    const enc = engine.encoder("t");
    one.encodeTest(enc, 0);
    split.encodeTest(enc, 0);
    engine.submit(enc);
    const [a, b] = await readTensors(engine, [one.testLoss, split.testLoss] as const);
    assertAllClose(b.subarray(0, N), a.subarray(0, N), { atol: 1e-6, rtol: 1e-5 });
    const init = trunkInitParams(N, one.trunk, 5);
    const stride = one.net.stride;
    const want = sets.map((set, k) =>
      aipBceReference({
        params: init.subarray(k * stride, (k + 1) * stride),
        inputs: set.inputs.slice(99),
        targets: set.targets.slice(99),
        hidden: H,
      }).loss
    );
    assertAllClose(b.subarray(0, N), want, { atol: 1e-6, rtol: 1e-4 });
  },
);

gpuTest(
  "AIP (BCE) training step in 3 micro-batches matches aipBceReference() on the whole minibatch",
  (e) => bceStepCase(e, 3, 3),
);

for (const N of AGENT_COUNTS) {
  gpuTest(
    `AIP (BCE, feed-forward) training step matches aipBceReference() for ${N} agents`,
    (e) => bceStepCase(e, N),
  );
}

gpuTest("createAip() rejects dataset inputs that are not bit-packed u32", async (engine) => {
  const spec: AipSpec = { loss: "bce", inDim: 37, sources: 4, classes: 2, hidden: 3, seqLen: 1 };
  const sets = [dataset(5, 20, 37, 4, 2)];
  const { inputs, targets } = upload(engine, sets, 37, 4);
  const o = {
    spec,
    numAgents: 1,
    targets,
    rows: 20,
    epochs: 1,
    batch: 4,
    lr: 1e-3,
    testFraction: 0.1,
    seed: 1,
    label: "t.aip",
  };
  const f32 = engine.tensor({ dtype: "f32", shape: [1, 20, 37], label: "t.f32" });
  const short = engine.tensor({ dtype: "u32", shape: [1, 20, 1], label: "t.short" });
  for (const [bad, want] of [[f32, "f32 [1, 20, 37]"], [short, "u32 [1, 20, 1]"]] as const) {
    await assertRejects(
      () => createAip(engine, { ...o, inputs: bad as Tensor<"u32"> }),
      (e: Error) =>
        e instanceof TypeError && e.message.includes(want) && e.message.includes("[1, 20, 2]"),
    );
  }
  assertEquals((await createAip(engine, { ...o, inputs })).plan.sequences, 20);
});

gpuTest("AIP (softmax, GRU) train and test losses match aipGruCeReference()", async (engine) => {
  const N = 3, D = 5, H = 6, S = 4, C = 4, L = 7, Q = 10;
  const spec: AipSpec = { loss: "softmax", inDim: D, sources: S, classes: C, hidden: H, seqLen: L };
  const sets = Array.from({ length: N }, (_, a) => dataset(70 + a, Q * L, D, S, C));
  const aip = await createAip(engine, {
    spec,
    numAgents: N,
    ...upload(engine, sets, D, S),
    rows: Q * L,
    epochs: 1,
    batch: 9,
    lr: 1e-3,
    testFraction: 0.1,
    seed: 12,
    label: "t.aip",
  });
  const init = trunkInitParams(N, aip.trunk, 12);
  const enc = engine.encoder("t");
  aip.encodeTest(enc, 0);
  aip.encodeTrain(enc);
  aip.encodeTest(enc, 1);
  engine.submit(enc);
  const [test, train] = await readTensors(engine, [aip.testLoss, aip.trainLoss] as const);
  const seqs = (s: ReturnType<typeof dataset>, from: number, to: number) => ({
    inputs: Array.from(
      { length: to - from },
      (_, q) => s.inputs.slice((from + q) * L, (from + q + 1) * L),
    ),
    targets: Array.from(
      { length: to - from },
      (_, q) => s.targets.slice((from + q) * L, (from + q + 1) * L),
    ),
  });
  const stride = aip.net.stride;
  const wantTest = new Float64Array(N), wantTrain = new Float64Array(N);
  for (let a = 0; a < N; a++) {
    const params = init.subarray(a * stride, (a + 1) * stride);
    wantTest[a] = aipGruCeReference({ params, ...seqs(sets[a], 9, 10), hidden: H, classes: C });
    wantTrain[a] = aipGruCeReference({ params, ...seqs(sets[a], 0, 9), hidden: H, classes: C });
  }
  assertAllClose(test.subarray(0, N), wantTest, { atol: 1e-5, rtol: 1e-4 });
  assertAllClose(train, wantTrain, { atol: 1e-5, rtol: 1e-4 });
  for (let a = 0; a < N; a++) {
    assert(test[N + a] !== test[a], "the Adam step changed the predictor");
  }
});

gpuTest(
  "one DIALS outer iteration runs without readbacks and lowers the AIP test loss",
  async (engine) => {
    const algo = {
      ...DIALS_DEFAULTS,
      hidden: 16,
      hidden2: 8,
      numMinibatches: 2,
      gsEnvs: 8,
      datasetSize: 1600,
      aipHidden: 16,
      aipEpochs: 8,
      aipBatch: 4,
      aipLr: 5e-3,
      evalFreq: 64,
      influenceTrainFreq: 64,
    };
    const trainer = await createDialsTrainer(engine, {
      seed: 2,
      numEnvs: 4,
      totalSteps: 10_000,
      env: "warehouse-4",
    }, algo);
    const reads = engine.stats.reads;
    trainer.run(2); // 2 × 4 lanes × 8 steps = one chunk of F = 64 agent steps
    assertEquals(engine.stats.reads, reads, "run() read nothing back");
    const m = await trainer.readMetrics();
    assertEquals(m.scalars.aipRetrainings, 1);
    assertEquals(m.scalars.evaluations, 1);
    assertEquals(m.episodes, 8, "one GS evaluation episode per GS env");
    assert(Number.isFinite(m.meanReturn));
    const { aipTestCrossEntropyBefore: before, aipTestCrossEntropyAfter: after } = m.scalars;
    assert(before > 1 && before < 2, `untrained loss near ln 4: ${before}`);
    assert(after < before - 0.05, `AIP test loss ${before} → ${after}`);
    const lsInfluence = await readTensor(engine, trainer.parts.domain.influence);
    assert(lsInfluence.every((c) => c < 4), "sampled classes are in range");
  },
);

gpuTest("one DIALS outer iteration on traffic lowers the AIP (BCE) test loss", async (engine) => {
  const algo = {
    ...DIALS_DEFAULTS,
    rolloutSteps: 16,
    seqLen: 1,
    gaeHorizon: 16,
    hidden: 16,
    hidden2: 8,
    numMinibatches: 2,
    gsEnvs: 4,
    datasetSize: 800,
    aipHidden: 16,
    aipEpochs: 3,
    aipBatch: 40,
    aipLr: 1e-3,
    evalFreq: 64,
    influenceTrainFreq: 64,
  };
  const trainer = await createDialsTrainer(engine, {
    seed: 1,
    numEnvs: 4,
    totalSteps: 10_000,
    env: "traffic-4",
  }, algo);
  const reads = engine.stats.reads;
  trainer.run(1);
  assertEquals(engine.stats.reads, reads, "run() read nothing back");
  const m = await trainer.readMetrics();
  assertEquals([m.scalars.aipRetrainings, m.episodes], [1, 4]);
  const { aipTestCrossEntropyBefore: before, aipTestCrossEntropyAfter: after } = m.scalars;
  assert(after < before - 0.02, `AIP test loss ${before} → ${after}`);
  const sources = await readTensor(engine, trainer.parts.domain.influence);
  assert(sources.every((s) => s <= 1), "Bernoulli draws are 0/1");
  // Every checkpointed tensor has its own key: the LS agents' and the GS evaluation's episode
  // statistics once shared `stats.*` keys and the GS ones overwrote the others.
  const state = trainer.stateTensors();
  for (const k of ["ppo.stats.running", "ppo.stats.done", "gs.stats.running", "gs.stats.done"]) {
    assert(k in state, `stateTensors() lists ${k}`);
  }
  const tensors = Object.values(state);
  assertEquals(new Set(tensors).size, tensors.length, "no tensor is listed twice");
});

// Learning smoke test (llvmpipe-sized, deterministic on a given adapter): DIALS on the 4-agent
// warehouse with small networks and a raised learning rate. The untrained policy collects about
// 1.45 items per agent and 100-step episode in the local simulators (measured: 1.445 over the
// first 25 iterations, seed 1); after 150 iterations (19 200 steps per agent) it must reach 1.8
// (measured: 2.1 at 150–175 iterations). The paper's 13.3 needs ~4M steps (a GPU run).
gpuTest(
  "DIALS on warehouse-4 improves the local return within 19 200 steps per agent",
  async (engine) => {
    const algo = {
      ...DIALS_DEFAULTS,
      lr: 3e-3,
      hidden: 32,
      hidden2: 16,
      gsEnvs: 16,
      datasetSize: 1600,
      aipHidden: 32,
      // The schedule this test was measured with (the defaults are now 300 epochs at 1e-4).
      aipEpochs: 10,
      aipLr: 1e-3,
      evalFreq: 1e9,
      influenceTrainFreq: 1e9,
    };
    const trainer = await createDialsTrainer(engine, {
      seed: 1,
      numEnvs: 16,
      totalSteps: 16 * 8 * 300,
      env: "warehouse-4",
    }, algo);
    trainer.run(25);
    const first = (await trainer.readMetrics()).scalars.lsReturn;
    trainer.run(100);
    await trainer.readMetrics();
    trainer.run(25);
    const last = (await trainer.readMetrics()).scalars.lsReturn;
    assert(first < 1.7, `untrained local return ${first}`);
    assert(last > 1.8, `local return after 150 iterations: ${last} (first 25: ${first})`);
  },
);

gpuTest(
  "aipSample() draws categorical and Bernoulli sources from the CPU twins",
  async (engine) => {
    const N = 3, E = 5, S = 4, C = 4, step = 17, seed = 6;
    const r = seeded(41);
    const logits = r.f32(N * E * S * C, -2, 2), bern = r.f32(N * E * S, -3, 3);
    const t = (data: Float32Array | Uint32Array, label: string, dtype: "f32" | "u32" = "f32") =>
      engine.tensor({ dtype, shape: [data.length], label, data: data as never });
    const counterIn = t(Uint32Array.from([step]), "t.counter", "u32");
    const k = await compileKernel(engine, aipSample);
    const out = [0, 1].map((m) =>
      engine.tensor({ dtype: "u32", shape: [N * E * S], label: `t.influence.${m}` })
    );
    const p = {
      numAgents: N,
      numEnvs: E,
      inDim: 1,
      obsDim: 1,
      skip: 0,
      sources: S,
      classes: C,
      seqLen: 1,
      batch: 1,
      trainSeqs: 1,
      seqsPerAgent: 1,
      batchesPerEpoch: 1,
      test: 0,
      hidden: 0,
      mode: 0,
      slot: 0,
      floatTargets: 0,
      seed,
      purpose: RNG_PURPOSE.influence,
      offset: 0,
      minibatch: 0,
      weight: 1,
      seeds: 1,
    };
    const enc = engine.encoder("t");
    k.bind({ logits: t(logits, "t.logits"), counterIn, influence: out[0] }, p).encode(enc);
    k.bind({ logits: t(bern, "t.bern"), counterIn, influence: out[1] }, { ...p, mode: 1 })
      .encode(enc);
    engine.submit(enc);
    const [cat, ber] = await readTensors(engine, out as [Tensor<"u32">, Tensor<"u32">]);
    const f32 = Math.fround;
    for (let a = 0; a < N; a++) {
      for (let e = 0; e < E; e++) {
        for (let s = 0; s < S; s++) {
          const i = (a * E + e) * S + s;
          const key = (j: number) =>
            f32(
              logits[i * C + j] +
                rngGumbel(rngU32(seed, RNG_PURPOSE.influence, e, a, step, s * C + j)),
            );
          let best = 0;
          for (let j = 1; j < C; j++) if (key(j) > key(best)) best = j;
          assertEquals(cat[i], best, `categorical ${i}`);
          const prob = f32(1 / (1 + Math.exp(-bern[i])));
          const want = rngBernoulli(rngU32(seed, RNG_PURPOSE.influence, e, a, step, s), prob);
          assertEquals(ber[i], want, `Bernoulli ${i}`);
        }
      }
    }
  },
);

gpuTest(
  "aipGather() visits every training sequence once per epoch (Feistel permutation), bits as ±1",
  async (engine) => {
    const N = 2, Q = 30, Qtr = 27, B = 9, D = 37, S = 1, ID_BITS = 5;
    // Random 0/1 rows over two words, bits 0..4 = the sequence id, so x identifies the row.
    const values = Float32Array.from(seeded(21).u32(N * Q * D, 2));
    for (let i = 0; i < N * Q; i++) {
      for (let bit = 0; bit < ID_BITS; bit++) values[i * D + bit] = ((i % Q) >> bit) & 1;
    }
    const inputs = packBits(values, D);
    const t = (data: Float32Array | Uint32Array, label: string, dtype: "f32" | "u32" = "f32") =>
      engine.tensor({ dtype, shape: [data.length], label, data: data as never });
    const step = t(new Uint32Array(2), "t.step", "u32");
    const x = engine.tensor({ dtype: "f32", shape: [N * B * D], label: "t.x" });
    const k = await compileKernel(engine, aipGather);
    const d = k.bind({
      inputs: t(inputs, "t.inputs", "u32"),
      targets: t(new Uint32Array(N * Q * S), "t.targets", "u32"),
      targetsF: t(new Float32Array(1), "t.none"),
      stepIn: step,
      x,
      labels: engine.tensor({ dtype: "u32", shape: [N * B * S], label: "t.labels" }),
      soft: engine.tensor({ dtype: "f32", shape: [N * B * S], label: "t.soft" }),
    }, {
      numAgents: N,
      numEnvs: 1,
      inDim: D,
      obsDim: D,
      skip: 0,
      sources: S,
      classes: 2,
      seqLen: 1,
      batch: B,
      trainSeqs: Qtr,
      seqsPerAgent: Q,
      batchesPerEpoch: Qtr / B,
      test: 0,
      hidden: 0,
      mode: 0,
      slot: 0,
      floatTargets: 0,
      seed: 3,
      purpose: RNG_PURPOSE.shuffle,
      offset: 0,
      minibatch: B,
      weight: 1,
      seeds: 1,
    });
    const orders: number[][][] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      const seen: number[][] = Array.from({ length: N }, () => []);
      for (let mb = 0; mb < Qtr / B; mb++) {
        engine.write(step, Uint32Array.from([epoch * (Qtr / B) + mb, 1]));
        const enc = engine.encoder("t");
        d.encode(enc);
        engine.submit(enc);
        const got = await readTensor(engine, x);
        for (let a = 0; a < N; a++) {
          for (let b = 0; b < B; b++) {
            const row = got.subarray((a * B + b) * D, (a * B + b + 1) * D);
            let q = 0;
            for (let bit = 0; bit < ID_BITS; bit++) q |= (row[bit] > 0 ? 1 : 0) << bit;
            const want = values.subarray((a * Q + q) * D, (a * Q + q + 1) * D).map((v) =>
              2 * v - 1
            );
            assertEquals(Array.from(row), Array.from(want), `agent ${a} sequence ${q} x`);
            seen[a].push(q);
          }
        }
      }
      for (const s of seen) assertEquals([...s].sort((p, q) => p - q), [...Array(Qtr).keys()]);
      orders.push(seen);
    }
    assert(orders[0][0].join() !== orders[1][0].join(), "epochs draw different orders");
    assert(orders[0][0].join() !== orders[0][1].join(), "agents draw different orders");
  },
);
