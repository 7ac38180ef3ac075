// Seed batching (docs/statistics.md §8): env-steps/s summed over seeds for S seeds trained in the
// same dispatches (`createSeeds`) vs the same seeds run one after another (lone trainers in turn:
// their summed rate is one lone seed's, whatever S), dispatches per iteration (must not grow with
// S) and GPU buffer memory per seed (bytes the engine allocated for the trainer, divided by S).
// Cases: SEAC on rware-tiny-4ag at the paper's 4 envs per seed; IDQN at 8 envs per seed on LBF
// with the MLP learner (CPU adapter) or on Pursuit with the CNN (set SEEDS_BENCH_CASES=all on a
// GPU). Environment: SEEDS_BENCH_SEEDS (default 1,4,16,64), SEEDS_BENCH_ITERS (iterations per
// timed call), SEEDS_BENCH_CASES (seac,idqn-lbf,idqn-pursuit or all).
// Run: deno bench --allow-read --allow-env --allow-write --allow-net bench/seeds_bench.ts
import { findAlgorithm } from "../algorithms/mod.ts";
import { IDQN_DEFAULTS, type IdqnConfig } from "../algorithms/idqn/mod.ts";
import { SEAC_DEFAULTS } from "../algorithms/seac/mod.ts";
import type { AlgorithmDef, RunConfig, Trainer } from "../algorithms/trainer.ts";
import { createEngine, type Engine } from "../engine/device.ts";
import { settle } from "../engine/readback.ts";

const list = (name: string, fallback: string) => (Deno.env.get(name) ?? fallback).split(",");
const SEEDS = list("SEEDS_BENCH_SEEDS", "1,4,16,64").map(Number);
const ITERS = Number(Deno.env.get("SEEDS_BENCH_ITERS") ?? 8);
const CASE_NAMES = list("SEEDS_BENCH_CASES", "seac,idqn-lbf");

interface Case {
  name: string;
  algo: string;
  run: RunConfig;
  config: object;
}

const MLP: Partial<IdqnConfig> = { conv: [], dense: [64, 64], embed: 0, headHidden: 0 };
const IDQN = { ...IDQN_DEFAULTS, bufferSize: 5_000, learningStarts: 0 };
const CASES: Case[] = [
  {
    name: "seac",
    algo: "seac",
    run: { seed: 1, numEnvs: 4, totalSteps: 1e9, env: "rware-tiny-4ag" },
    config: { ...SEAC_DEFAULTS, iterationsPerSubmit: ITERS },
  },
  {
    name: "idqn-lbf",
    algo: "idqn",
    run: { seed: 1, numEnvs: 8, totalSteps: 1e9, env: "Foraging-8x8-2p-2f-coop" },
    config: { ...IDQN, ...MLP, dueling: false },
  },
  {
    name: "idqn-pursuit",
    algo: "idqn",
    run: { seed: 1, numEnvs: 8, totalSteps: 1e9, env: "pursuit" },
    config: IDQN,
  },
].filter((c) => CASE_NAMES.includes("all") || CASE_NAMES.includes(c.name));

/** What one (case, S) measured. */
interface Row {
  batched: number;
  dispatches: number;
  bytesPerSeed: number;
}
const rows = new Map<string, Row>();
let adapter = "";
const sequential = new Map<string, number>();

/** An engine that counts the bytes of the buffers it creates. */
async function countingEngine(): Promise<{ engine: Engine; bytes: () => number }> {
  const engine = await createEngine();
  adapter = `${engine.adapter.description} (isCpu ${engine.isCpu})`;
  let bytes = 0;
  const create = engine.createBuffer.bind(engine);
  engine.createBuffer = (d: GPUBufferDescriptor) => {
    bytes += d.size;
    return create(d);
  };
  return { engine, bytes: () => bytes };
}

async function build(engine: Engine, c: Case, seeds: number, seed = 1): Promise<Trainer> {
  const def = findAlgorithm(c.algo) as AlgorithmDef<object>;
  const run = { ...c.run, seed };
  return seeds === 1
    ? await def.create(engine, run, c.config)
    : await def.createSeeds!(engine, run, c.config, seeds);
}

/** Env steps per second (summed over seeds) of `ITERS` iterations of each trainer in turn. */
async function timed(engine: Engine, trainers: Trainer[]): Promise<number> {
  const t0 = performance.now();
  for (const t of trainers) t.run(ITERS);
  await settle(engine);
  const steps = trainers.reduce((s, t) => s + (t.seeds ?? 1) * ITERS * t.stepsPerIteration, 0);
  return steps / ((performance.now() - t0) / 1000);
}

for (const c of CASES) {
  // Seeds one after another: lone trainers of seeds 1..4 in turn (the rate does not depend on S).
  {
    const { engine } = await countingEngine();
    const lone: Trainer[] = [];
    for (let k = 0; k < 4; k++) lone.push(await build(engine, c, 1, 1 + k));
    await timed(engine, lone); // warm-up
    Deno.bench({
      name: `${c.name} seeds one after another`,
      group: c.name,
      n: 2,
      warmup: 0,
      async fn(b) {
        b.start();
        const rate = await timed(engine, lone);
        sequential.set(c.name, Math.max(sequential.get(c.name) ?? 0, rate));
        b.end();
      },
    });
  }
  for (const S of SEEDS) {
    const { engine, bytes } = await countingEngine();
    const before = bytes();
    const tr = await build(engine, c, S);
    const bytesPerSeed = (bytes() - before) / S;
    await timed(engine, [tr]); // warm-up (compiles, fills)
    const d0 = engine.stats.dispatches;
    tr.run(ITERS);
    await settle(engine);
    const dispatches = (engine.stats.dispatches - d0) / ITERS;
    const key = `${c.name} S=${S}`;
    Deno.bench({
      name: `${c.name} ${S} seeds batched`,
      group: c.name,
      baseline: S === 1,
      n: 2,
      warmup: 0,
      async fn(b) {
        b.start();
        const rate = await timed(engine, [tr]);
        const prev = rows.get(key);
        rows.set(key, { batched: Math.max(prev?.batched ?? 0, rate), dispatches, bytesPerSeed });
        b.end();
      },
    });
  }
}

globalThis.addEventListener("unload", () => {
  console.log(`\nseeds bench on ${adapter}`);
  console.log(
    "seeds case          seeds  batched env-steps/s  one-after-another  ratio  ×1-seed  dispatches/iter  MiB/seed",
  );
  for (const c of CASES) {
    const seq = sequential.get(c.name) ?? NaN;
    const one = rows.get(`${c.name} S=1`)?.batched ?? NaN;
    for (const S of SEEDS) {
      const r = rows.get(`${c.name} S=${S}`);
      if (!r) continue;
      console.log(
        [
          "seeds",
          c.name.padEnd(13),
          String(S).padStart(5),
          r.batched.toFixed(0).padStart(20),
          seq.toFixed(0).padStart(18),
          (r.batched / seq).toFixed(2).padStart(6),
          (r.batched / one).toFixed(2).padStart(8),
          r.dispatches.toFixed(1).padStart(16),
          (r.bytesPerSeed / 2 ** 20).toFixed(2).padStart(9),
        ].join(" "),
      );
    }
  }
});
