// Seed batching of LBS (algorithms/seeds.ts): a batch of S seeds equals, seed by seed and bit for
// bit, S one-seed runs (pools, p2 draws and metrics stay within a seed).
import { LBS, LBS_DEFAULTS, type LbsConfig } from "../../../algorithms/lbs/mod.ts";
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { Metrics } from "../../../algorithms/trainer.ts";
import { gpuTest } from "../../_testing.ts";
import { assertSeedsMatchLone, dispatchesPerIteration } from "../_seeds.ts";

const E = 3;
const RUN = { seed: 5, numEnvs: E, totalSteps: 10_000, env: "Foraging-5x5-2p-1f" };
const SMALL: LbsConfig = {
  ...LBS_DEFAULTS,
  conv: [],
  dense: [8],
  embed: 0,
  headHidden: 4,
  lr: 1e-3,
  batchSize: 5,
  bufferSize: 40,
  stepsPerUpdate: E,
  learningStarts: 3 * E,
  targetEvery: 2 * E,
  epsilonStart: 1,
  epsilonEnd: 0.2,
  epsilonSteps: 12 * E,
  randomSteps: 0,
};

/** Every seed's learners drew rows of the other agents' rings. */
const shared = (ms: Metrics[]) =>
  assert(ms.every((m) => m.scalars.foreignFraction > 0), "every seed drew foreign rows");

gpuTest("LBS createSeeds(): 3 seeds equal 3 lone runs bit for bit (p2 ∝ |δ|)", async (engine) => {
  await assertSeedsMatchLone(engine, LBS, RUN, SMALL, {
    seeds: 3,
    schedule: [7, 9],
    check: shared,
  });
});

gpuTest("LBS createSeeds(): PER p1, clipped p2", async (engine) => {
  const algo = { ...SMALL, prioritized: true, priorityClip: 1 };
  await assertSeedsMatchLone(engine, LBS, RUN, algo, { seeds: 3, schedule: [8, 6] });
});

gpuTest("LBS createSeeds(): uniform p2", async (engine) => {
  const algo = { ...SMALL, p2: "uniform", double: false };
  await assertSeedsMatchLone(engine, LBS, RUN, algo, { seeds: 2, schedule: [10] });
});

gpuTest("LBS dispatches per iteration do not grow with the seeds", async (engine) => {
  const counts: number[] = [];
  for (const seeds of [1, 16]) {
    const tr = await LBS.createSeeds!(engine, RUN, SMALL, seeds);
    tr.run(8); // past learningStarts
    counts.push(dispatchesPerIteration(engine, tr, 4));
    await tr.readMetrics();
  }
  console.log(`lbs: dispatches per iteration, 1 seed ${counts[0]}, 16 seeds ${counts[1]}`);
  assertEquals(counts[1], counts[0]);
});
