import {
  createLbsSampler,
  createPerSampler,
  createSumTree,
  createTopK,
  createUniformSampler,
  EMPTY_MIN,
} from "../../../engine/replay/sampling.ts";
import {
  buildTreesReference,
  lbsSampleReference,
  perSampleReference,
  topKReference,
  uniformSampleReference,
} from "../../../engine/replay/sampling_reference.ts";
import { readTensors } from "../../../engine/readback.ts";
import { RNG_PURPOSE } from "../../../engine/rng.ts";
import { AGENT_COUNTS, assertAllClose, assertExact, gpuTest, seeded } from "../../_testing.ts";
import type { Engine } from "../../../engine/device.ts";

const SEED = 1234, PURPOSE = RNG_PURPOSE.sample;

/** Chi-square statistic of observed counts against probabilities. */
function chiSquare(counts: ArrayLike<number>, p: ArrayLike<number>, n: number): number {
  let x = 0;
  for (let i = 0; i < p.length; i++) x += (counts[i] - n * p[i]) ** 2 / (n * p[i]);
  return x;
}

function u32(engine: Engine, shape: number[], label: string, data?: ArrayLike<number>) {
  return engine.tensor({ dtype: "u32", shape, label, data });
}
function f32(engine: Engine, shape: number[], label: string, data?: ArrayLike<number>) {
  return engine.tensor({ dtype: "f32", shape, label, data });
}

for (const numRings of AGENT_COUNTS) {
  gpuTest(
    `createPerSampler() matches CPU reference draws and weights (${numRings} rings)`,
    async (engine) => {
      const capacity = 37, batch = 45, alpha = 0.6, eps = 1e-6, beta = 0.4;
      const tree = createSumTree(engine, { numRings, capacity, label: "t.tree" });
      const L = tree.leafCount;
      const r = seeded(11 + numRings);
      // Fill ring r with fill_r = capacity − 3r slots (a permutation with one duplicate at the end).
      const m = capacity + 1;
      const idx = new Uint32Array(numRings * m), td = r.f32(numRings * m, -3, 3);
      const fills: number[] = [];
      for (let a = 0; a < numRings; a++) {
        const fill = capacity - 3 * a;
        fills.push(fill);
        for (let j = 0; j < m; j++) idx[a * m + j] = j < fill ? (j * 7) % fill : 0xffffffff;
        idx[a * m + m - 1] = 2; // duplicate of an earlier slot: must win
      }
      const idxT = u32(engine, [numRings, m], "t.idx", idx);
      const tdT = f32(engine, [numRings, m], "t.td", td);
      const upd = await tree.bindPriorityUpdate(idxT, tdT, { batch: m, alpha, eps });
      const smp = await createPerSampler(engine, { tree, batch, beta, seed: SEED, label: "t.per" });
      const enc = engine.encoder();
      upd.encode(enc);
      smp.sample(enc);
      engine.submit(enc);
      const [sum, min, i0, w0] = await readTensors(
        engine,
        [tree.sum, tree.minTree, smp.indices, smp.weights!] as const,
      );
      const enc2 = engine.encoder();
      smp.sample(enc2);
      engine.submit(enc2);
      const [i1, w1, clock] = await readTensors(
        engine,
        [smp.indices, smp.weights!, smp.clock] as const,
      );
      assertExact(clock, [2], "clock");
      for (let a = 0; a < numRings; a++) {
        const want = new Float64Array(L);
        for (let j = 0; j < m; j++) {
          const s = idx[a * m + j];
          if (s < L) want[s] = Math.pow(Math.abs(td[a * m + j]) + eps, alpha);
        }
        const leaves = sum.subarray(a * 2 * L + L, (a + 1) * 2 * L);
        assertAllClose(leaves, want, { atol: 0, rtol: 1e-5 }, `leaves of ring ${a}`);
        const ref = buildTreesReference(leaves, EMPTY_MIN);
        assertExact(
          sum.subarray(a * 2 * L + 1, a * 2 * L + L),
          ref.sum.subarray(1, L),
          `sums ${a}`,
        );
        assertExact(
          min.subarray(a * 2 * L + 1, a * 2 * L + L),
          ref.min.subarray(1, L),
          `mins ${a}`,
        );
        for (const [step, gi, gw] of [[0, i0, w0], [1, i1, w1]] as const) {
          const want = perSampleReference({
            leaves,
            ring: a,
            batch,
            beta,
            seed: SEED,
            purpose: PURPOSE,
            step,
            fill: fills[a],
          });
          assertExact(
            gi.subarray(a * batch, (a + 1) * batch),
            want.indices,
            `indices ${a} @${step}`,
          );
          assertAllClose(gw.subarray(a * batch, (a + 1) * batch), want.weights, {
            atol: 1e-6,
            rtol: 1e-3,
          }, `weights ${a} @${step}`);
        }
      }
    },
  );
}

gpuTest("createPerSampler() draws in proportion to p^alpha (chi-square)", async (engine) => {
  const n = 24, batch = 24000, alpha = 0.6, eps = 1e-6;
  const tree = createSumTree(engine, { numRings: 1, capacity: n, label: "t.tree" });
  const td = seeded(5).f32(n, 0, 4);
  td[3] = 0; // a zero TD error still gets mass ε^α
  const idxT = u32(engine, [1, n], "t.idx", Uint32Array.from({ length: n }, (_, i) => i));
  const upd = await tree.bindPriorityUpdate(idxT, f32(engine, [1, n], "t.td", td), {
    batch: n,
    alpha,
    eps,
  });
  const smp = await createPerSampler(engine, { tree, batch, beta: 0.4, seed: 9, label: "t.per" });
  const enc = engine.encoder();
  upd.encode(enc);
  smp.sample(enc);
  engine.submit(enc);
  const [got] = await readTensors(engine, [smp.indices] as const);
  const pa = Array.from(td, (x) => Math.pow(Math.abs(x) + eps, alpha));
  const tot = pa.reduce((s, x) => s + x, 0);
  const counts = new Float64Array(n);
  for (const i of got) counts[i]++;
  const p = pa.map((x) => x / tot);
  // p[3] is tiny; pool it into its neighbour so every cell has a useful expectation.
  const x2 = chiSquare([...counts.slice(0, 3), counts[3] + counts[4], ...counts.slice(5)], [
    ...p.slice(0, 3),
    p[3] + p[4],
    ...p.slice(5),
  ], batch);
  if (!(x2 < 49.7)) throw new Error(`chi-square ${x2} over 22 dof exceeds the 0.1% level 49.7`);
});

for (const numRings of AGENT_COUNTS) {
  gpuTest(`createUniformSampler() matches CPU reference (${numRings} rings)`, async (engine) => {
    const stride = 8, batch = 37;
    const counters = new Uint32Array(numRings * stride);
    const rings: { fill: number; start: number; count: number }[] = [];
    for (let a = 0; a < numRings; a++) {
      const fill = 50 + 17 * a, count = a % 2 ? 5 : 0, start = (13 * a) % fill;
      rings.push({ fill, start, count });
      counters.set([fill, 999, start, count], a * stride + 1);
    }
    const smp = await createUniformSampler(engine, {
      counters: u32(engine, [numRings, stride], "t.counters", counters),
      stride,
      fillField: 1,
      windowField: 3,
      numRings,
      batch,
      seed: SEED,
      label: "t.uniform",
    });
    for (let step = 0; step < 2; step++) {
      const enc = engine.encoder();
      smp.sample(enc);
      engine.submit(enc);
      const [got] = await readTensors(engine, [smp.indices] as const);
      for (let a = 0; a < numRings; a++) {
        const want = uniformSampleReference({
          ...rings[a],
          ring: a,
          batch,
          seed: SEED,
          purpose: PURPOSE,
          step,
        });
        assertExact(got.subarray(a * batch, (a + 1) * batch), want, `ring ${a} step ${step}`);
      }
    }
  });

  gpuTest(`createTopK() matches Gumbel-top-k reference (${numRings} rings)`, async (engine) => {
    const n = 53, k = 7;
    const w = seeded(21 + numRings).f32(numRings * n, 0, 2);
    for (let i = 0; i < w.length; i += 5) w[i] = 0;
    // The last ring has fewer positive weights than k: missing entries are NO_SLOT.
    if (numRings > 1) w.fill(0, (numRings - 1) * n + 3, numRings * n);
    const smp = await createTopK(engine, {
      weights: f32(engine, [numRings, n], "t.w", w),
      numRings,
      n,
      k,
      seed: SEED,
      label: "t.topk",
    });
    const enc = engine.encoder();
    smp.sample(enc);
    engine.submit(enc);
    const [got] = await readTensors(engine, [smp.indices] as const);
    for (let a = 0; a < numRings; a++) {
      const want = topKReference({
        weights: w.subarray(a * n, (a + 1) * n),
        ring: a,
        k,
        seed: SEED,
        purpose: PURPOSE,
        step: 0,
      });
      assertExact(got.subarray(a * k, (a + 1) * k), want.indices, `ring ${a}`);
    }
  });

  gpuTest(`createLbsSampler() matches CPU reference (${numRings} learners)`, async (engine) => {
    const K = 37 * 3, batch = 29, clip = 1;
    const td = seeded(31 + numRings).f32(numRings * K, -2, 2);
    td[4] = 0;
    const smp = await createLbsSampler(engine, {
      td: f32(engine, [numRings, K], "t.td", td),
      numRings,
      poolSize: K,
      batch,
      clip,
      seed: SEED,
      label: "t.lbs",
    });
    const enc = engine.encoder();
    smp.sample(enc);
    engine.submit(enc);
    const [gi, gw] = await readTensors(engine, [smp.indices, smp.weights!] as const);
    for (let a = 0; a < numRings; a++) {
      const want = lbsSampleReference({
        td: td.subarray(a * K, (a + 1) * K),
        ring: a,
        batch,
        clip,
        eps: 1e-8,
        seed: SEED,
        purpose: PURPOSE,
        step: 0,
      });
      assertExact(gi.subarray(a * batch, (a + 1) * batch), want.indices, `indices ${a}`);
      assertAllClose(gw.subarray(a * batch, (a + 1) * batch), want.weights, {
        atol: 1e-6,
        rtol: 1e-5,
      }, `weights ${a}`);
    }
  });
}

gpuTest("createLbsSampler() draws in proportion to clipped |TD| (chi-square)", async (engine) => {
  const K = 16, batch = 16000;
  const td = seeded(8).f32(K, -1.5, 1.5);
  const smp = await createLbsSampler(engine, {
    td: f32(engine, [1, K], "t.td", td),
    numRings: 1,
    poolSize: K,
    batch,
    clip: 1,
    seed: 3,
    label: "t.lbs",
  });
  const enc = engine.encoder();
  smp.sample(enc);
  engine.submit(enc);
  const [got] = await readTensors(engine, [smp.indices] as const);
  const g = Array.from(td, (x) => Math.max(Math.min(Math.abs(x), 1), 1e-8));
  const tot = g.reduce((s, x) => s + x, 0);
  const counts = new Float64Array(K);
  for (const i of got) counts[i]++;
  const x2 = chiSquare(counts, g.map((x) => x / tot), batch);
  if (!(x2 < 37.7)) throw new Error(`chi-square ${x2} over 15 dof exceeds the 0.1% level 37.7`);
});

gpuTest(
  "SumTree path updates equal a full rebuild for more slots than a workgroup",
  async (engine) => {
    const numRings = 3, capacity = 200, m = 300, alpha = 0.6, eps = 1e-6;
    const tree = createSumTree(engine, { numRings, capacity, label: "t.tree" });
    const L = tree.leafCount;
    const r = seeded(77);
    const idx = r.u32(numRings * m, capacity), td = r.f32(numRings * m, -2, 2);
    idx[5] = 0xffffffff;
    const upd = await tree.bindPriorityUpdate(
      u32(engine, [numRings, m], "t.idx", idx),
      f32(engine, [numRings, m], "t.td", td),
      { batch: m, alpha, eps },
    );
    // Two rounds of updates on the same slots' paths (the second sees a non-empty tree).
    for (let round = 0; round < 2; round++) {
      const enc = engine.encoder();
      upd.encode(enc);
      engine.submit(enc);
    }
    const [sum, min] = await readTensors(engine, [tree.sum, tree.minTree] as const);
    for (let a = 0; a < numRings; a++) {
      const leaves = sum.subarray(a * 2 * L + L, (a + 1) * 2 * L);
      const want = new Float64Array(L);
      for (let j = 0; j < m; j++) {
        const s = idx[a * m + j];
        if (s < L) want[s] = Math.pow(Math.abs(td[a * m + j]) + eps, alpha);
      }
      assertAllClose(leaves, want, { atol: 0, rtol: 1e-5 }, `leaves ${a}`);
      const ref = buildTreesReference(leaves, EMPTY_MIN);
      assertExact(sum.subarray(a * 2 * L + 1, a * 2 * L + L), ref.sum.subarray(1, L), `sums ${a}`);
      assertExact(min.subarray(a * 2 * L + 1, a * 2 * L + L), ref.min.subarray(1, L), `mins ${a}`);
    }
  },
);
