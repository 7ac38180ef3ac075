import { createWindowQuantile } from "../../../engine/ops/quantile.ts";
import {
  quantileReference,
  windowQuantileReference,
} from "../../../engine/ops/quantile_reference.ts";
import { readTensors } from "../../../engine/readback.ts";
import { AGENT_COUNTS, assertAllClose, assertExact, gpuTest, seeded } from "../../_testing.ts";

const QS = [0, 0.1, 0.5, 0.9, 1];

for (const numAgents of AGENT_COUNTS) {
  gpuTest(
    `createWindowQuantile() matches NumPy-style quantiles of the filled window (${numAgents} agents)`,
    async (engine) => {
      for (const capacity of [1, 63, 1000, 1500]) {
        const r = seeded(capacity + numAgents);
        // Counts: full, part-filled, empty, wrapped past capacity, a single value.
        const counts = Array.from(
          { length: numAgents },
          (_, a) => [capacity, Math.ceil(capacity / 2), 0, 3 * capacity + 1, 1][a % 5],
        );
        // |TD|-like values with duplicates (rounded to 1/64) plus a few negatives.
        const window = r.f32(numAgents * capacity, -0.1, 4).map((v) => Math.round(v * 64) / 64);
        const shape = [numAgents, capacity];
        const wT = engine.tensor({ dtype: "f32", shape, label: "t.w", data: window });
        const cT = engine.tensor({ dtype: "u32", shape: [numAgents], label: "t.c", data: counts });
        const op = await createWindowQuantile(engine, {
          window: wT,
          count: cT,
          numAgents,
          capacity,
          qs: QS,
          label: "t.q",
        });
        const enc = engine.encoder();
        op.encode(enc);
        engine.submit(enc);
        const [out, sorted] = await readTensors(engine, [op.out, op.sorted] as const);
        const want = windowQuantileReference(window, counts, { numAgents, capacity, qs: QS });
        assertAllClose(out, want, { atol: 1e-5, rtol: 1e-5 }, `quantiles capacity=${capacity}`);
        for (let a = 0; a < numAgents; a++) {
          const m = Math.min(counts[a], capacity);
          const ref = window.slice(a * capacity, a * capacity + m).sort();
          const row = sorted.slice(a * op.sortSize, (a + 1) * op.sortSize);
          assertExact(row.subarray(0, m), ref, `sorted agent ${a} capacity=${capacity}`);
          if (row.subarray(m).some((v) => v !== 3.4028234663852886e38)) {
            throw new Error(`padding of agent ${a} is not the largest f32`);
          }
        }
      }
    },
  );
}

gpuTest("createWindowQuantile() gives SUPER's 90th percentile of 1,500 values", async (engine) => {
  const capacity = 1500;
  const window = Float32Array.from({ length: capacity }, (_, i) => (i * 7919) % capacity); // a permutation of 0..1499
  const wT = engine.tensor({ dtype: "f32", shape: [1, capacity], label: "t.w", data: window });
  const cT = engine.tensor({ dtype: "u32", shape: [1], label: "t.c", data: [5000] });
  const op = await createWindowQuantile(engine, {
    window: wT,
    count: cT,
    numAgents: 1,
    capacity,
    qs: [0.9],
    label: "t.q",
  });
  const enc = engine.encoder();
  op.encode(enc);
  engine.submit(enc);
  const [out] = await readTensors(engine, [op.out] as const);
  // NumPy: np.quantile(np.arange(1500), 0.9) = 0.9 · 1499 = 1349.1.
  assertAllClose(out, [1349.1], { atol: 2e-4, rtol: 0 }, "p90");
});

Deno.test("quantileReference() interpolates like NumPy's default method", () => {
  assertAllClose(
    [0, 0.25, 0.5, 0.9, 1].map((q) => quantileReference([4, 1, 3, 2], q)),
    [1, 1.75, 2.5, 3.7, 4],
    { atol: 1e-12 },
  );
  assertExact([quantileReference([], 0.5), quantileReference([7], 0.9)], [0, 7]);
});

gpuTest("createWindowQuantile() rejects quantiles outside [0, 1]", async (engine) => {
  const window = engine.tensor({ dtype: "f32", shape: [1, 4], label: "t.w" });
  const count = engine.tensor({ dtype: "u32", shape: [1], label: "t.c" });
  let msg = "";
  try {
    await createWindowQuantile(engine, {
      window,
      count,
      numAgents: 1,
      capacity: 4,
      qs: [0.5, 1.5],
      label: "t.q",
    });
  } catch (e) {
    msg = (e as Error).message;
  }
  if (!msg.includes("must be non-empty, in [0, 1]")) throw new Error(`unexpected error "${msg}"`);
});
