// Seed batching of the SEAC family (algorithms/seeds.ts): three seeds trained in the same
// dispatches equal three lone runs bit for bit — every state tensor (weights, Adam moments, env
// state, rollout counters, episode and metric accumulators) and every metric — for SEAC, IAC and
// SNAC on LBF and RWARE; and an iteration records as many dispatches for 16 seeds as for one.
import { findAlgorithm } from "../../../algorithms/mod.ts";
import { SEAC_DEFAULTS, type SeacConfig } from "../../../algorithms/seac/mod.ts";
import type { AlgorithmDef, RunConfig, Trainer } from "../../../algorithms/trainer.ts";
import type { Encoder } from "../../../engine/encoder.ts";
import { gpuTest } from "../../_testing.ts";
import { assertMetricsEqual, assertSeedStatesEqual, countDispatches } from "../_seeds.ts";

const ALGO: SeacConfig = { ...SEAC_DEFAULTS, hidden: 16, nSteps: 5, iterationsPerSubmit: 2 };

for (
  const [name, env] of [
    ["seac", "Foraging-5x5-2p-1f"],
    ["iac", "Foraging-5x5-2p-1f"],
    ["snac", "Foraging-5x5-2p-1f"],
    ["seac", "rware-tiny-2ag"],
    ["snac", "rware-tiny-2ag"],
  ] as const
) {
  gpuTest(
    `${name} on ${env}: seed k of a 3-seed batch equals a lone run of seed k`,
    async (engine) => {
      const def = findAlgorithm(name) as AlgorithmDef<SeacConfig>;
      const run: RunConfig = { seed: 11, numEnvs: 3, totalSteps: 1000, env };
      const batch = await def.createSeeds!(engine, run, ALGO, 3);
      const lone: Trainer[] = [];
      for (let k = 0; k < 3; k++) {
        lone.push(await def.create(engine, { ...run, seed: run.seed + k }, ALGO));
      }
      if (batch.seeds !== 3 || batch.stepsPerIteration !== lone[0].stepsPerIteration) {
        throw new Error(`batch: seeds ${batch.seeds}, steps/iteration ${batch.stepsPerIteration}`);
      }
      for (const round of [0, 1]) {
        batch.run(7);
        lone.forEach((t) => t.run(7));
        const per = await batch.readSeedMetrics!();
        for (let k = 0; k < 3; k++) {
          assertMetricsEqual(per[k], await lone[k].readMetrics(), `round ${round} seed ${k}`);
        }
        await assertSeedStatesEqual(engine, batch, lone);
      }
    },
  );
}

gpuTest("seac: dispatches per iteration do not grow with the seed count", async (engine) => {
  const counts: number[] = [];
  for (const name of ["seac", "snac"]) {
    const def = findAlgorithm(name) as AlgorithmDef<SeacConfig>;
    for (const seeds of [1, 16]) {
      const run: RunConfig = { seed: 1, numEnvs: 4, totalSteps: 1000, env: "rware-tiny-2ag" };
      const t = seeds === 1
        ? await def.create(engine, run, ALGO)
        : await def.createSeeds!(engine, run, ALGO, seeds);
      const iter = t as Trainer & { encodeIteration(enc: Encoder): void };
      counts.push(countDispatches(engine, (enc) => iter.encodeIteration(enc)));
    }
  }
  // SNAC with several seeds adds its one copy of the shared networks to the acting blocks.
  if (counts[1] !== counts[0] || counts[3] !== counts[2] + 1) {
    throw new Error(`dispatches per iteration (seac 1/16 seeds, snac 1/16): ${counts}`);
  }
});
