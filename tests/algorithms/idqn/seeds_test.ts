// Seed batching of the IDQN family (algorithms/seeds.ts): a batch of S seeds equals, seed by seed
// and bit for bit, S one-seed runs; its dispatches per iteration do not grow with S.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  IDQN,
  IDQN_DEFAULTS,
  IDQN_SAME_RB,
  type IdqnConfig,
  IQL,
  PS_DQN,
  SEQL,
} from "../../../algorithms/idqn/mod.ts";
import { gpuTest } from "../../_testing.ts";
import { assertSeedsMatchLone, dispatchesPerIteration } from "../_seeds.ts";

const E = 3;
const RUN = { seed: 11, numEnvs: E, totalSteps: 10_000, env: "Foraging-5x5-2p-1f" };

/**
 * A small config past learning after 4 iterations: PER, double DQN, target syncs every 2
 * iterations, ε from 1 to 0.2 so greedy actions (the acting network) matter.
 */
const SMALL: IdqnConfig = {
  ...IDQN_DEFAULTS,
  conv: [],
  dense: [8],
  embed: 0,
  headHidden: 0,
  dueling: false,
  lr: 1e-3,
  batchSize: 6,
  bufferSize: 40,
  stepsPerUpdate: E,
  learningStarts: 3 * E,
  targetEvery: 2 * E,
  epsilonStart: 1,
  epsilonEnd: 0.2,
  epsilonSteps: 12 * E,
  randomSteps: 0,
};

gpuTest(
  "IDQN createSeeds(): 3 seeds equal 3 lone runs bit for bit (PER, double)",
  async (engine) => {
    await assertSeedsMatchLone(engine, IDQN, RUN, SMALL, { seeds: 3, schedule: [7, 9] });
  },
);

gpuTest("IDQN createSeeds(): uniform replay, Polyak targets, dueling", async (engine) => {
  const algo = { ...SMALL, prioritized: false, tau: 0.1, dueling: true, headHidden: 4 };
  await assertSeedsMatchLone(engine, IDQN, RUN, algo, { seeds: 3, schedule: [8, 6] });
});

gpuTest("PS createSeeds(): 3 seeds equal 3 lone runs bit for bit", async (engine) => {
  await assertSeedsMatchLone(engine, PS_DQN, RUN, SMALL, { seeds: 3, schedule: [7, 9] });
});

gpuTest("PS createSeeds(): uniform replay", async (engine) => {
  const algo = { ...SMALL, prioritized: false, double: false };
  await assertSeedsMatchLone(engine, PS_DQN, RUN, algo, { seeds: 2, schedule: [10] });
});

gpuTest("IDQN same RB createSeeds(): each seed pools its own agents' draws", async (engine) => {
  const algo = { ...SMALL, prioritized: false };
  await assertSeedsMatchLone(engine, IDQN_SAME_RB, RUN, algo, { seeds: 3, schedule: [7, 9] });
});

/** SEQL's learner as in the SEAC repository (MSE, Polyak, multiplicative ε, no terminals), small. */
const SEQL_SMALL: IdqnConfig = {
  ...SMALL,
  prioritized: false,
  double: false,
  loss: "mse",
  tau: 0.05,
  epsilonSchedule: "multiplicative",
  epsilonEnd: 0.05,
  bootstrapOnTerminal: true,
  lambda: 0.7,
};

gpuTest("SEQL and IQL createSeeds(): 3 seeds equal 3 lone runs bit for bit", async (engine) => {
  await assertSeedsMatchLone(engine, SEQL, RUN, SEQL_SMALL, { seeds: 3, schedule: [7, 9] });
  await assertSeedsMatchLone(engine, IQL, RUN, SEQL_SMALL, { seeds: 2, schedule: [10] });
});

gpuTest("IDQN and PS dispatches per iteration do not grow with the seeds", async (engine) => {
  for (const def of [IDQN, PS_DQN]) {
    const counts: number[] = [];
    for (const seeds of [1, 16]) {
      const tr = await def.createSeeds!(engine, RUN, SMALL, seeds);
      tr.run(8); // past learningStarts
      counts.push(dispatchesPerIteration(engine, tr, 4));
      await tr.readMetrics();
    }
    console.log(
      `${def.name}: dispatches per iteration, 1 seed ${counts[0]}, 16 seeds ${counts[1]}`,
    );
    assert(counts[0] > 0);
    // PS with several seeds replicates the shared networks into the acting blocks: one dispatch.
    const extra = def === PS_DQN ? 1 : 0;
    assertEquals(counts[1], counts[0] + extra, `${def.name}: dispatches with 16 seeds`);
  }
});
