// Seed batching of the PPO/DIALS family (docs/statistics.md §8): three seeds trained in the same
// dispatches equal three lone runs bit for bit — every state tensor (weights, Adam moments and
// counts, GRU state, env state, counters, episode and metric accumulators; DIALS: the AIPs, their
// Adam and test losses, the samplers, the local simulators and the GS) and every metric (DIALS:
// with each seed's own GS evaluation) — and an iteration records as many dispatches for 16 seeds
// as for one.
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { readCheckpoint } from "../../../app/checkpoint.ts";
import { type MetricsRow, train } from "../../../app/train.ts";
import { DIALS_DEFAULTS, type DialsConfig } from "../../../algorithms/dials/config.ts";
import { findAlgorithm } from "../../../algorithms/mod.ts";
import type { AlgorithmDef, Metrics, RunConfig, Trainer } from "../../../algorithms/trainer.ts";
import type { Encoder } from "../../../engine/encoder.ts";
import type { Engine } from "../../../engine/device.ts";
import type { DialsTrainer } from "../../../algorithms/dials/mod.ts";
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

/**
 * DIALS's phase times are wall clock (host timing on llvmpipe) or the whole batch's GPU time:
 * dropped from the metrics and zeroed in the state before comparing.
 */
function untimed(m: Metrics): Metrics {
  const scalars = Object.fromEntries(
    Object.entries(m.scalars).filter(([k]) => !k.startsWith("time")),
  );
  return { ...m, scalars };
}

function clearClock(engine: Engine, t: Trainer): void {
  const clock = t.stateTensors()["clock.totals"];
  if (clock) engine.write(clock, new Float32Array(clock.size));
}

/** Runs `batch` and the lone trainers `iters` iterations per round and compares them. */
async function compare(
  engine: Engine,
  batch: Trainer,
  lone: readonly Trainer[],
  rounds: readonly number[],
): Promise<Metrics[][]> {
  const seen: Metrics[][] = [];
  if (batch.seeds !== lone.length || batch.stepsPerIteration !== lone[0].stepsPerIteration) {
    throw new Error(`batch: seeds ${batch.seeds}, steps/iteration ${batch.stepsPerIteration}`);
  }
  for (const [round, iters] of rounds.entries()) {
    batch.run(iters);
    lone.forEach((t) => t.run(iters));
    const per = (await batch.readSeedMetrics!()).map(untimed);
    for (let k = 0; k < lone.length; k++) {
      const want = untimed(await lone[k].readMetrics());
      assertMetricsEqual(per[k], want, `round ${round} seed ${k}`);
      assertMetricsEqual(want, per[k], `round ${round} seed ${k} (lone)`);
    }
    [batch, ...lone].forEach((t) => clearClock(engine, t));
    await assertSeedStatesEqual(engine, batch, lone);
    seen.push(per);
  }
  return seen;
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

/**
 * Tiny DIALS: 2 LS lanes and 2 GS envs per seed, AIPs retrained every 64 agent steps on a small
 * dataset, evaluation on the GS every 48 agent steps (one whole episode per GS env).
 */
const TINY_DIALS: DialsConfig = {
  ...TINY,
  gsEnvs: 2,
  datasetSize: 20,
  aipEpochs: 2,
  aipBatch: 4,
  aipHidden: 8,
  influenceTrainFreq: 64,
  evalFreq: 48,
  evalEpisodes: 1,
};

for (
  const [name, env] of [
    ["dials", "warehouse-4"],
    ["untrained_dials", "warehouse-4"],
    ["dials", "traffic-4"],
  ] as const
) {
  gpuTest(
    `${name} on ${env}: seed k of a 3-seed batch equals a lone run of seed k (AIP retraining and GS evaluation inside)`,
    async (engine) => {
      const def = findAlgorithm(name) as AlgorithmDef<DialsConfig>;
      const algo = {
        ...TINY_DIALS,
        seqLen: env === "traffic-4" ? 1 : TINY.seqLen,
        // Warehouse: two episodes per GS env, 4 sequences (3 training, minibatches of 2).
        datasetSize: env === "traffic-4" ? 20 : 400,
        aipBatch: env === "traffic-4" ? 4 : 2,
      };
      const run: RunConfig = { seed: 3, numEnvs: 2, totalSteps: 2000, env };
      const batch = await def.createSeeds!(engine, run, algo, 3);
      const lone: Trainer[] = [];
      for (let k = 0; k < 3; k++) {
        lone.push(await def.create(engine, { ...run, seed: run.seed + k }, algo));
      }
      // 16 agent steps an iteration: events at 0 (collect, AIP training, evaluation), 48
      // (evaluation), 64 (retraining), 96 (evaluation), 128 (both).
      const seen = await compare(engine, batch, lone, [5, 4]);
      const last = seen.at(-1)!;
      if (!last.every((m) => m.evaluation && m.evaluation.episodes > 0)) {
        throw new Error(`no GS evaluation in the last interval: ${JSON.stringify(last)}`);
      }
      if (
        name === "dials" && !last.every((m) => Number.isFinite(m.scalars.aipTestCrossEntropyAfter))
      ) {
        throw new Error(`no AIP retraining: ${JSON.stringify(last.map((m) => m.scalars))}`);
      }
      const dialsBatch = batch as DialsTrainer;
      if (dialsBatch.parts.seeds !== 3) throw new Error("not a batch");
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

gpuTest(
  "dials: dispatches per iteration and per outer-loop phase do not grow with the seed count",
  async (engine) => {
    const def = findAlgorithm("dials") as AlgorithmDef<DialsConfig>;
    const counts: number[][] = [];
    for (const seeds of [1, 16]) {
      const run: RunConfig = { seed: 1, numEnvs: 2, totalSteps: 1000, env: "warehouse-4" };
      const algo = { ...TINY_DIALS, datasetSize: 200 };
      const t = (seeds === 1
        ? await def.create(engine, run, algo)
        : await def.createSeeds!(engine, run, algo, seeds)) as DialsTrainer;
      counts.push([
        countDispatches(engine, (enc) =>
          t.encodeIteration(enc)),
        countDispatches(engine, (enc) => t.encodeCollect(enc)),
        countDispatches(engine, (enc) => t.encodeAipTrain(enc)),
        countDispatches(engine, (enc) => t.encodeEval(enc)),
      ]);
    }
    if (counts[1].join() !== counts[0].join()) {
      throw new Error(
        `dispatches (iteration, collect, AIP training, evaluation), 1/16 seeds: ${counts}`,
      );
    }
    console.log(`dials dispatches (iteration, collect, AIP training, evaluation): ${counts[0]}`);
  },
);

/** A product row without its wall times (and DIALS's phase times). */
function deterministic(rows: MetricsRow[]) {
  return rows.map(({ wallSeconds: _w, stepsPerSecond: _s, ...rest }) => ({
    ...rest,
    scalars: Object.fromEntries(
      Object.entries(rest.scalars).filter(([k]) => !k.startsWith("time")),
    ),
  }));
}

async function checkpointTensors(path: string) {
  const { tensors, hostState } = await readCheckpoint(path);
  const kept = Object.fromEntries(
    Object.entries(tensors).filter(([k]) => !k.endsWith("clock.totals")),
  );
  return { tensors: kept, hostState };
}

for (
  const [name, env, algo] of [
    ["ppo_gs", "warehouse-4", {
      rolloutSteps: 8,
      seqLen: 4,
      gaeHorizon: 8,
      numMinibatches: 2,
      hidden: 8,
      hidden2: 8,
      gsEnvs: 2,
      evalFreq: 48,
      evalEpisodes: 1,
    }],
    ["dials", "traffic-4", {
      rolloutSteps: 8,
      seqLen: 1,
      gaeHorizon: 8,
      numMinibatches: 2,
      hidden: 8,
      hidden2: 8,
      gsEnvs: 2,
      datasetSize: 20,
      aipEpochs: 2,
      aipBatch: 4,
      aipHidden: 8,
      influenceTrainFreq: 64,
      evalFreq: 48,
      evalEpisodes: 1,
    }],
  ] as const
) {
  gpuTest(
    `${name} through the product: 2 seeds batched write the rows (with evaluations) and checkpoints of 2 lone runs`,
    async (engine) => {
      const root = await Deno.makeTempDir();
      const lines: string[] = [];
      const opts = {
        root,
        engine,
        progress: "off" as const,
        write: (t: string) => void lines.push(t),
        report: false,
      };
      const config = {
        seed: 4,
        numEnvs: 2,
        totalSteps: 160,
        env,
        algo: { name, ...algo },
        log: { interval: 32, checkpointEvery: 0 },
      };
      try {
        const batch = await train({ ...config, name: "batch" }, { ...opts, seeds: 2 });
        const meta = JSON.parse(await Deno.readTextFile(`${batch.seeds[0].dir}/metadata.json`));
        if (meta.seedsBatched !== 2) throw new Error(`not batched: ${lines.join("")}`);
        for (const [k, s] of batch.seeds.entries()) {
          const lone = await train({ ...config, seed: config.seed + k, name: `lone${k}` }, opts);
          const rows = lone.seeds[0].rows;
          if (!rows.some((r) => r.eval)) throw new Error(`seed ${k}: no evaluation rows`);
          assertEquals(deterministic(s.rows), deterministic(rows));
          assertEquals(
            await checkpointTensors(`${s.dir}/checkpoint.safetensors`),
            await checkpointTensors(`${lone.seeds[0].dir}/checkpoint.safetensors`),
          );
        }
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    },
  );
}

gpuTest(
  "ppo_gs with gsPolicy shared runs its seeds one after another, saying why",
  async (engine) => {
    const root = await Deno.makeTempDir();
    const lines: string[] = [];
    try {
      const result = await train({
        seed: 2,
        numEnvs: 2,
        totalSteps: 32,
        env: "traffic-4",
        algo: {
          name: "ppo_gs",
          gsPolicy: "shared",
          rolloutSteps: 8,
          seqLen: 1,
          gaeHorizon: 8,
          numMinibatches: 2,
          hidden: 8,
          hidden2: 8,
          evalFreq: 1000,
        },
        log: { interval: 16, checkpointEvery: 0 },
        name: "shared",
      }, {
        root,
        engine,
        progress: "plain",
        write: (t) => void lines.push(t),
        report: false,
        seeds: 2,
      });
      assertEquals(result.seeds.length, 2);
      if (
        !lines.some((l) =>
          l.includes("seeds run one after another") && l.includes("seed batching needs")
        )
      ) {
        throw new Error(lines.join(""));
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);
