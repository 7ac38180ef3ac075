// Learning-curve alignment and bootstrap bands (docs/statistics.md §5).
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import { alignCurves, type Curve, curveBand } from "../../app/curves.ts";
import { iqm } from "../../app/stats.ts";
import { assertAllClose } from "../_testing.ts";

Deno.test("alignCurves() reads seeds logged at offset steps on the coarsest seed's steps", () => {
  const a: Curve = [[0, 0], [10, 10], [20, 20]];
  const b: Curve = [[5, 1], [15, 3], [25, 5]];
  // Covered range [5, 20]; a logged 10 and 20 there, b 5 and 15: a tie, the first wins.
  assertEquals(alignCurves([a, b]), { steps: [10, 20], values: [[10, 20], [2, 4]] });
  // A denser seed is read at the coarser seed's steps.
  const dense: Curve = [[0, 0], [4, 4], [8, 8], [12, 12], [16, 16], [20, 20]];
  const coarse: Curve = [[0, 1], [10, 2], [20, 3]];
  assertEquals(alignCurves([dense, coarse]), {
    steps: [0, 10, 20],
    values: [[0, 10, 20], [1, 2, 3]],
  });
});

Deno.test("alignCurves() bridges null/NaN gaps and never extrapolates", () => {
  const a: Curve = [[100, null], [200, 2], [300, NaN], [400, 6], [500, 8]];
  const b: Curve = [[100, 1], [200, 1], [300, 1], [400, 1]];
  const r = alignCurves([a, b]);
  assertEquals(r.steps, [200, 400]); // a's finite steps inside [200, 400]
  assertEquals(r.values, [[2, 6], [1, 1]]);
  assertEquals(alignCurves([a, b], { steps: [250, 300] }).values, [[3, 4], [1, 1]]);
});

Deno.test("alignCurves() rejects curves that share no steps, bad steps and repeated steps", () => {
  throws(() => alignCurves([[[0, 1], [10, 1]], [[20, 1], [30, 1]]]), /share no steps/);
  throws(() => alignCurves([[[0, 1], [10, 1]]], { steps: [5, 11] }), /inside \[0, 10\]/);
  throws(() => alignCurves([[[0, 1], [10, 1]]], { steps: [5, 5] }), /must ascend/);
  throws(() => alignCurves([[[0, 1], [0, 2]]]), /logs step 0 twice/);
  throws(() => alignCurves([[[0, null]]]), /no finite value/);
  throws(() => alignCurves([]), RangeError);
});

Deno.test("curveBand() gives the mean over seeds per step with a band that contains it", () => {
  const seeds: Curve[] = [1, 2, 3, 4, 5].map((k) => [[0, 0], [100, k], [200, 2 * k], [300, k * k]]);
  const band = curveBand([seeds], { reps: 400, seed: 3 });
  assertEquals(band.map((p) => p.step), [0, 100, 200, 300]);
  assertAllClose(band.map((p) => p.estimate), [0, 3, 6, 11], { atol: 1e-12 });
  assertEquals([band[0].lower, band[0].upper], [0, 0]); // every seed starts at 0
  for (const p of band.slice(1)) {
    assert(p.lower < p.estimate && p.estimate < p.upper, JSON.stringify(p));
    assert(p.lower >= 1 && p.upper <= 25, "inside the seeds' range");
  }
  assertEquals(curveBand([seeds], { reps: 400, seed: 3 }), band);
  const q = curveBand([seeds], { reps: 400, seed: 3, statistic: iqm });
  assertAllClose(q.map((p) => p.estimate), [0, 3, 6, 29 / 3], { atol: 1e-12 });
});

Deno.test("curveBand() resamples seeds within each task, whole curves at a time", () => {
  // Task t's curves hold 1000·t + seed at every step: a value identifies its task and seed.
  const tasks: Curve[][] = [3, 2].map((n, t) =>
    Array.from({ length: n }, (_, s) => [[0, 1000 * t + s], [10, 1000 * t + s]] as Curve)
  );
  let calls = 0;
  const band = curveBand(tasks, {
    reps: 200,
    statistic: (scores) => {
      calls++;
      assertEquals(scores.map((r) => r.length), [3, 2]);
      scores.forEach((runs, t) => runs.forEach((v) => assert(Math.floor(v / 1000) === t)));
      return scores.flat().reduce((a, b) => a + b, 0);
    },
  });
  assertEquals(calls, 2 * (200 + 1)); // two steps × (resamples + the estimate)
  // A seed drawn at step 0 is the same seed at step 10: both steps give the same interval.
  assertEquals([band[0].lower, band[0].upper], [band[1].lower, band[1].upper]);
  throws(() => curveBand([[]]), /task 0 has no curves/);
});
