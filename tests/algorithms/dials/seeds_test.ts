// Seed batching of the PPO/DIALS family (docs/statistics.md §8): three seeds trained in the same
// dispatches equal three lone runs bit for bit — every state tensor (weights, Adam moments and
// counts, GRU state, env state, counters, episode and metric accumulators) and every metric — and
// an iteration records as many dispatches for 16 seeds as for one.
import { DIALS_DEFAULTS, type DialsConfig } from "../../../algorithms/dials/config.ts";
import { findAlgorithm } from "../../../algorithms/mod.ts";
import type { AlgorithmDef, RunConfig, Trainer } from "../../../algorithms/trainer.ts";
import type { Encoder } from "../../../engine/encoder.ts";
import { gpuTest } from "../../_testing.ts";
import { assertMetricsEqual, assertSeedStatesEqual, countDispatches } from "../_seeds.ts";

/** Tiny PPO: GRU (warehouse) or MLP (traffic) of width 8, 2 envs × 8 steps per update. */
const TINY: DialsConfig = {
  ...DIALS_DEFAULTS,
  rolloutSteps: 8,
  seqLen: 4,
  gaeHorizon: 8,
  epochs: 2,
  numMinibatches: 2,
  hidden: 8,
  hidden2: 8,
  iterationsPerSubmit: 2,
};

/** Runs `batch` and the lone trainers `iters` iterations per round and compares them. */
async function compare(
  engine: Parameters<Parameters<typeof gpuTest>[1]>[0],
  batch: Trainer,
  lone: readonly Trainer[],
  rounds: readonly number[],
): Promise<void> {
  if (batch.seeds !== lone.length || batch.stepsPerIteration !== lone[0].stepsPerIteration) {
    throw new Error(`batch: seeds ${batch.seeds}, steps/iteration ${batch.stepsPerIteration}`);
  }
  for (const [round, iters] of rounds.entries()) {
    batch.run(iters);
    lone.forEach((t) => t.run(iters));
    const per = await batch.readSeedMetrics!();
    for (let k = 0; k < lone.length; k++) {
      const want = await lone[k].readMetrics();
      assertMetricsEqual(per[k], want, `round ${round} seed ${k}`);
      assertMetricsEqual(want, per[k], `round ${round} seed ${k} (lone)`);
    }
    await assertSeedStatesEqual(engine, batch, lone);
  }
}

for (const env of ["warehouse-4", "traffic-4"]) {
  gpuTest(
    `ppo_gs on ${env}: seed k of a 3-seed batch equals a lone run of seed k`,
    async (engine) => {
      const def = findAlgorithm("ppo_gs") as AlgorithmDef<DialsConfig>;
      const algo = { ...TINY, seqLen: env === "traffic-4" ? 1 : TINY.seqLen };
      const run: RunConfig = { seed: 7, numEnvs: 2, totalSteps: 2000, env };
      const batch = await def.createSeeds!(engine, run, algo, 3);
      const lone: Trainer[] = [];
      for (let k = 0; k < 3; k++) {
        lone.push(await def.create(engine, { ...run, seed: run.seed + k }, algo));
      }
      // Past the first episode ends (warehouse 100 steps, traffic 300) in the second round.
      await compare(engine, batch, lone, env === "traffic-4" ? [7, 33] : [7, 9]);
    },
  );
}

gpuTest("ppo_gs: dispatches per iteration do not grow with the seed count", async (engine) => {
  const def = findAlgorithm("ppo_gs") as AlgorithmDef<DialsConfig>;
  const counts: number[] = [];
  for (const seeds of [1, 16]) {
    const run: RunConfig = { seed: 1, numEnvs: 2, totalSteps: 1000, env: "warehouse-4" };
    const t = seeds === 1
      ? await def.create(engine, run, TINY)
      : await def.createSeeds!(engine, run, TINY, seeds);
    const iter = t as Trainer & { encodeIteration(enc: Encoder): void };
    counts.push(countDispatches(engine, (enc) => iter.encodeIteration(enc)));
  }
  if (counts[1] !== counts[0]) {
    throw new Error(`dispatches per iteration (1/16 seeds): ${counts}`);
  }
  console.log(`ppo_gs dispatches per iteration: 1 seed ${counts[0]}, 16 seeds ${counts[1]}`);
});
