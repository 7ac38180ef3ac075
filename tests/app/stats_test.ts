// Statistics after rliable (docs/statistics.md). Expected values were computed with scipy 1.17 /
// numpy 2.4 (`scipy.stats.trim_mean`, `scipy.stats.mannwhitneyu`, `np.percentile`) and by hand.
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import { createRandom } from "../../app/bootstrap.ts";
import {
  aggregateIntervals,
  aggregateMean,
  aggregateMedian,
  bootstrapCi,
  fractionAbove,
  iqm,
  optimalityGap,
  percentile,
  performanceProfile,
  probabilityOfImprovement,
  probabilityOfImprovementCi,
  stratifiedResamples,
  trimMean,
} from "../../app/stats.ts";
import { assertAllClose } from "../_testing.ts";

const close = (got: number, want: number, atol = 1e-12) =>
  assertAllClose([got], [want], { atol, rtol: 0 });

Deno.test("trimMean() matches scipy.stats.trim_mean(x, 0.25) at sizes that are not multiples of 4", () => {
  // scipy cuts int(0.25 * n) from each end: 0 of 3, 1 of 4, 1 of 5, 1 of 7, 2 of 10, 2 of 11.
  const cases: [number[], number][] = [
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
    [[5, 1, 4, 2, 3], 3],
    [[1, 2, 3, 4, 5, 6, 7], 4],
    [[10, 1, 9, 2, 8, 3, 7, 4, 6, 5], 5.5],
    [[0.5, -1, 100, 2, 2, 3, 9, 4, 1, 1, 7], 20 / 7],
  ];
  for (const [x, want] of cases) close(trimMean(x, 0.25), want);
  close(trimMean([1, 2, 3, 4], 0), 2.5);
  throws(() => trimMean([], 0.25), RangeError);
  throws(() => trimMean([1, 2], 0.5), RangeError);
  throws(() => trimMean([1, 2], 0.6), RangeError);
});

Deno.test("iqm() trims the pooled runs × tasks scores, as rliable's aggregate_iqm (axis=None)", () => {
  // Pooled: -50 1 2 3 4 5 6 100 → middle four 2 3 4 5.
  close(iqm([[1, 2, 3, 100], [4, 5, 6, -50]]), 3.5);
  // Ragged tasks pool too: 9 scores, 2 cut from each end.
  close(iqm([[1, 9], [2, 8, 3], [7, 4, 6, 5]]), (3 + 4 + 5 + 6 + 7) / 5);
  throws(() => iqm([]), RangeError);
  throws(() => iqm([[1], []]), RangeError);
  throws(() => iqm([[1, NaN]]), TypeError);
});

Deno.test("aggregateMean() and aggregateMedian() aggregate per-task means, as rliable does", () => {
  const scores = [[1, 2], [10, 20], [0, 4]]; // task means 1.5, 15, 2
  close(aggregateMean(scores), (1.5 + 15 + 2) / 3);
  close(aggregateMedian(scores), 2); // not the median of the pooled scores (3)
  close(aggregateMedian([[1, 2, 3], [10, 20, 30]]), 11);
  close(aggregateMean([[1], [2, 4]]), 2); // a mean of task means, not of all 3 scores
});

Deno.test("optimalityGap() is gamma minus the mean of scores clipped at gamma", () => {
  close(optimalityGap([[0.5, 0.2], [1.5, 1.0]]), 0.325);
  close(optimalityGap([[3, 5]], 4), 0.5);
});

Deno.test("probabilityOfImprovement() counts ties as one half and averages over tasks", () => {
  close(probabilityOfImprovement([[1, 2]], [[1, 1]]), 0.75);
  // Task 0: 6/9, task 1: 5/9 (scipy mannwhitneyu U / (n·m), mean over tasks = 11/18).
  close(probabilityOfImprovement([[1, 2, 3], [5, 5, 6]], [[2, 2, 0], [5, 4, 7]]), 11 / 18);
  close(probabilityOfImprovement([[1, 2, 3]], [[3, 2, 1]]), 0.5);
  close(probabilityOfImprovement([[5, 6]], [[1, 2, 3]]), 1);
  close(probabilityOfImprovement([[1, 2, 3]], [[5, 6]]), 0);
  // P(X > Y) + P(Y > X) = 1 with ties split.
  const x = [[1, 4, 4, 2], [0, 0, 1]], y = [[4, 3, 1], [0, 2, 2, 1]];
  close(probabilityOfImprovement(x, y) + probabilityOfImprovement(y, x), 1);
  throws(() => probabilityOfImprovement([[1]], [[1], [2]]), TypeError);
});

Deno.test("percentile() interpolates linearly like np.percentile", () => {
  const v = [3, 1, 4, 1, 5, 9, 2, 6].sort((a, b) => a - b);
  assertAllClose([0.025, 0.975, 0.5, 0.1].map((q) => percentile(v, q)), [1, 8.475, 3.5, 1], {
    atol: 1e-12,
  });
  close(percentile([7], 0.3), 7);
});

Deno.test("stratifiedResamples() never moves a score to another task and keeps each task's size", () => {
  // Task t holds 1000·t + run: a value identifies its task.
  const scores = [3, 5, 1, 4].map((n, t) => Array.from({ length: n }, (_, r) => 1000 * t + r));
  const drawn = scores.map(() => new Set<number>());
  let reps = 0;
  for (const s of stratifiedResamples(scores, { reps: 300, seed: 3 })) {
    reps++;
    assertEquals(s.map((runs) => runs.length), [3, 5, 1, 4]);
    s.forEach((runs, t) => runs.forEach((v) => (assert(scores[t].includes(v)), drawn[t].add(v))));
  }
  assertEquals(reps, 300);
  // With replacement, and over 300 resamples every run of every task is drawn.
  assertEquals(drawn.map((d) => d.size), [3, 5, 1, 4]);
});

Deno.test("bootstrapCi() is deterministic for a seed and its interval contains the estimate", () => {
  const rnd = createRandom(11);
  const scores = Array.from({ length: 3 }, (_, t) => Array.from({ length: 10 }, () => t + rnd()));
  const a = bootstrapCi(scores, { statistic: iqm, seed: 5, reps: 500 });
  const b = bootstrapCi(scores, { statistic: iqm, seed: 5, reps: 500 });
  const c = bootstrapCi(scores, { statistic: iqm, seed: 6, reps: 500 });
  assertEquals(a, b);
  assert(a.lower !== c.lower || a.upper !== c.upper, "another seed draws other resamples");
  close(a.estimate, iqm(scores));
  assert(a.lower < a.estimate && a.estimate < a.upper, JSON.stringify(a));
  // Identical runs leave nothing to resample: the interval collapses to the value.
  assertEquals(bootstrapCi([[2, 2, 2], [4, 4]], { statistic: aggregateMean, reps: 50 }), {
    estimate: 3,
    lower: 3,
    upper: 3,
  });
});

Deno.test("bootstrapCi() of a mean is near the normal-theory interval for many runs", () => {
  const rnd = createRandom(2);
  const x = Array.from({ length: 400 }, () => rnd() + rnd() + rnd());
  const m = x.reduce((s, v) => s + v, 0) / x.length;
  const sd = Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0) / (x.length - 1));
  const ci = bootstrapCi([x], { statistic: aggregateMean, reps: 2000, seed: 1 });
  const half = 1.96 * sd / Math.sqrt(x.length);
  close(ci.upper - ci.lower, 2 * half, 0.15 * 2 * half);
  close((ci.upper + ci.lower) / 2, m, 0.2 * half);
});

Deno.test("bootstrapCi() rejects bad settings, naming them", () => {
  const s = [[1, 2]];
  throws(() => bootstrapCi(s, { statistic: iqm, reps: 0 }), /reps must be an integer >= 1/);
  throws(() => bootstrapCi(s, { statistic: iqm, confidence: 1 }), /confidence must be in \(0, 1\)/);
  throws(() => bootstrapCi(s, { statistic: iqm, seed: -1 }), /seed must be an integer/);
});

Deno.test("aggregateIntervals() gives rliable's four statistics with intervals around them", () => {
  const rnd = createRandom(4);
  const scores = Array.from({ length: 4 }, () => Array.from({ length: 7 }, () => rnd() * 1.4));
  const r = aggregateIntervals(scores, { reps: 400, seed: 9 });
  close(r.mean.estimate, aggregateMean(scores));
  close(r.median.estimate, aggregateMedian(scores));
  close(r.iqm.estimate, iqm(scores));
  close(r.optimalityGap.estimate, optimalityGap(scores));
  for (const [name, i] of Object.entries(r)) {
    assert(i.lower <= i.estimate && i.estimate <= i.upper, `${name}: ${JSON.stringify(i)}`);
  }
  assertEquals(aggregateIntervals(scores, { reps: 400, seed: 9 }), r);
});

Deno.test("probabilityOfImprovementCi() resamples X and Y within tasks", () => {
  // X beats Y on every pair: every resample still does.
  assertEquals(
    probabilityOfImprovementCi([[5, 6], [9, 9, 8]], [[1, 2, 3], [0, 1]], { reps: 100 }),
    {
      estimate: 1,
      lower: 1,
      upper: 1,
    },
  );
  const x = [[1, 4, 4, 2, 3], [0, 0, 1, 3]], y = [[4, 3, 1, 0], [0, 2, 2, 1, 1]];
  const ci = probabilityOfImprovementCi(x, y, { reps: 500, seed: 1 });
  close(ci.estimate, probabilityOfImprovement(x, y));
  assert(ci.lower <= ci.estimate && ci.estimate <= ci.upper && ci.lower >= 0 && ci.upper <= 1);
  assertEquals(probabilityOfImprovementCi(x, y, { reps: 500, seed: 1 }), ci);
});

Deno.test("performanceProfile() gives the fraction of runs above each tau with a band", () => {
  const scores = [[0.1, 0.5, 0.9], [0.2, 0.6, 1.0]];
  close(fractionAbove(scores, 0.5), 3 / 6); // strictly above: 0.5 itself does not count
  const p = performanceProfile(scores, { taus: [0, 0.5, 0.95, 2], reps: 300 });
  assertEquals(p.map((q) => q.tau), [0, 0.5, 0.95, 2]);
  assertAllClose(p.map((q) => q.estimate), [1, 0.5, 1 / 6, 0], { atol: 1e-12 });
  for (const q of p) assert(q.lower <= q.estimate && q.estimate <= q.upper, JSON.stringify(q));
  assertEquals([p[0].lower, p[0].upper, p[3].lower, p[3].upper], [1, 1, 0, 0]);
});
