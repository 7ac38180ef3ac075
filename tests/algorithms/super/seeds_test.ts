// Seed batching of SUPER (algorithms/seeds.ts): a batch of S seeds equals, seed by seed and bit for
// bit, S one-seed runs (relays move rows only between the rings of one seed).
import { SUPER, SUPER_DEFAULTS, type SuperConfig } from "../../../algorithms/super/mod.ts";
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { Metrics } from "../../../algorithms/trainer.ts";
import { gpuTest } from "../../_testing.ts";
import { assertSeedsMatchLone, dispatchesPerIteration } from "../_seeds.ts";

const E = 3;
const RUN = { seed: 21, numEnvs: E, totalSteps: 10_000, env: "Foraging-5x5-2p-1f" };
/** Fragments of 2 stores (stepsPerUpdate 2·E), a window of 12 |δ|, PER with relayed arrivals. */
const SMALL: SuperConfig = {
  ...SUPER_DEFAULTS,
  conv: [],
  dense: [8],
  embed: 0,
  headHidden: 4,
  lr: 1e-3,
  batchSize: 5,
  bufferSize: 60,
  stepsPerUpdate: 2 * E,
  learningStarts: 3 * E,
  targetEvery: 4 * E,
  epsilonStart: 1,
  epsilonEnd: 0.2,
  epsilonSteps: 12 * E,
  randomSteps: 0,
  bandwidth: 0.3,
  window: 12,
};

/** Every seed relayed rows in the interval. */
const relayed = (ms: Metrics[]) =>
  assert(ms.every((m) => m.scalars.rowsShared > 0), "every seed relayed rows");

gpuTest(
  "SUPER createSeeds(): 3 seeds equal 3 lone runs bit for bit (quantile, PER)",
  async (engine) => {
    await assertSeedsMatchLone(engine, SUPER, RUN, SMALL, {
      seeds: 3,
      schedule: [8, 10],
      check: relayed,
    });
  },
);

gpuTest("SUPER createSeeds(): stochastic rule, window normaliser", async (engine) => {
  const algo = {
    ...SMALL,
    mode: "stochastic",
    stochasticNormaliser: "window",
    stochasticAlpha: 0.7,
    prioritized: false,
  };
  await assertSeedsMatchLone(engine, SUPER, RUN, algo, {
    seeds: 3,
    schedule: [8, 10],
    check: relayed,
  });
});

gpuTest("SUPER createSeeds(): gaussian rule", async (engine) => {
  const algo = { ...SMALL, mode: "gaussian", gaussianScale: "std" };
  await assertSeedsMatchLone(engine, SUPER, RUN, algo, {
    seeds: 2,
    schedule: [12],
    check: relayed,
  });
});

gpuTest("SUPER dispatches per iteration do not grow with the seeds", async (engine) => {
  const counts: number[] = [];
  for (const seeds of [1, 16]) {
    const tr = await SUPER.createSeeds!(engine, RUN, SMALL, seeds);
    tr.run(8); // past learningStarts, on a fragment boundary
    counts.push(dispatchesPerIteration(engine, tr, 4));
    await tr.readMetrics();
  }
  console.log(`super: dispatches per iteration, 1 seed ${counts[0]}, 16 seeds ${counts[1]}`);
  assertEquals(counts[1], counts[0]);
});
