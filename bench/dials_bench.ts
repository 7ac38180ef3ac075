// DIALS vs the GS baseline: wall time of PPO training iterations at 4, 25, 49 and 100 agents on
// the warehouse, plus one AIP round (GS data collection + AIP training) and one evaluation. Each
// bench records `ITERS` iterations (or one phase) and syncs once; a PPO iteration is
// numEnvs × rolloutSteps steps per agent, so time per 100k agent steps =
// time / (ITERS · 128) · 100 000 (+ the AIP round every F steps and the evaluation every
// evalFreq steps for DIALS).
//
// Sizes: the paper's networks (GRU 256 → 128, AIP GRU 64, dataset 10 000, 100 GS envs) when
// DIALS_BENCH_FULL=1 (GPUs); otherwise small ones (GRU 32 → 16, AIP 16, dataset 1 600, 16 GS envs)
// so llvmpipe finishes in minutes. Run: deno bench -A bench/dials_bench.ts
import { createEngine } from "../engine/device.ts";
import { findTask } from "../envs/registry.ts";
import { createDialsTrainer } from "../algorithms/dials/mod.ts";
import { DIALS_DEFAULTS, type DialsConfig } from "../algorithms/dials/config.ts";
import { createPpoGsTrainer } from "../algorithms/dials/gs.ts";

const FULL = Deno.env.get("DIALS_BENCH_FULL") === "1";
const AGENTS = (Deno.env.get("DIALS_BENCH_AGENTS") ?? "4,25,49,100").split(",").map(Number);
const ITERS = Number(Deno.env.get("DIALS_BENCH_ITERS") ?? (FULL ? 20 : 2));
const LANES = 16;
const algo: DialsConfig = {
  ...DIALS_DEFAULTS,
  ...(FULL ? {} : { hidden: 32, hidden2: 16, aipHidden: 16, datasetSize: 1600, gsEnvs: 16 }),
  evalFreq: 1e12,
  influenceTrainFreq: 1e12,
  iterationsPerSubmit: ITERS,
};
const steps = ITERS * LANES * algo.rolloutSteps;

const engine = await createEngine();
const sync = () => engine.device.queue.onSubmittedWorkDone();

for (const n of AGENTS) {
  const env = `warehouse-${n}`;
  const run = { seed: 1, numEnvs: LANES, totalSteps: 4_000_000, env };
  const dials = await createDialsTrainer(engine, run, algo);
  const { def, spec } = findTask(env);
  const gsEnv = await def.create(engine, spec, { numEnvs: LANES, seed: 1 });
  const gs = await createPpoGsTrainer(engine, gsEnv, { algo, seed: 1, totalSteps: run.totalSteps });
  // Compile-time and first-touch costs outside the timed region.
  dials.run(1);
  gs.run(1);
  await sync();

  Deno.bench({
    name: `dials ${env}: ${ITERS} PPO iterations on the IALS (${steps} steps/agent)`,
    group: `train-${n}`,
    baseline: true,
    n: 3,
    warmup: 0,
    async fn(b) {
      b.start();
      dials.run(ITERS);
      await sync();
      b.end();
    },
  });
  Deno.bench({
    name: `ppo_gs ${env}: ${ITERS} PPO iterations on the GS (${steps} steps/agent)`,
    group: `train-${n}`,
    n: 3,
    warmup: 0,
    async fn(b) {
      b.start();
      gs.run(ITERS);
      await sync();
      b.end();
    },
  });
  Deno.bench({
    name: `dials ${env}: one AIP round (collect ${algo.datasetSize} samples/agent + train)`,
    group: `aip-${n}`,
    n: 2,
    warmup: 0,
    async fn(b) {
      b.start();
      const enc = engine.encoder("bench.collect");
      dials.encodeCollect(enc);
      dials.encodeAipTrain(enc);
      engine.submit(enc);
      await sync();
      b.end();
    },
  });
  Deno.bench({
    name: `dials ${env}: one evaluation (${algo.gsEnvs} GS episodes)`,
    group: `eval-${n}`,
    n: 2,
    warmup: 0,
    async fn(b) {
      b.start();
      const enc = engine.encoder("bench.eval");
      dials.encodeEval(enc);
      engine.submit(enc);
      await sync();
      b.end();
    },
  });
}
