// End-to-end training throughput of SUPER and LBS: env steps per second of whole iterations
// (ε-greedy act, env step, episode statistics, replay store, SUPER relay / LBS pool-score-resample,
// DQN learning steps, target sync), recorded without reads, one settle per timed sample.
// Pursuit uses the presets' networks (CNN [32, 64, 64] → 64 → 256, dueling double DQN; LBS with
// the comparison's identical learner); LBF and RWARE use an MLP [64, 64] torso. Learning starts
// before the timed region. env-steps/s = numEnvs × iterations / time per sample.
// Run: deno bench -A bench/super_lbs_bench.ts
import { createEngine } from "../engine/device.ts";
import { settle } from "../engine/readback.ts";
import { LBS, LBS_DEFAULTS, type LbsConfig } from "../algorithms/lbs/mod.ts";
import { SUPER, SUPER_DEFAULTS, type SuperConfig } from "../algorithms/super/mod.ts";
import type { Trainer } from "../algorithms/trainer.ts";

const engine = await createEngine();
const cpu = engine.isCpu;

/** LBS with the learner of the comparison presets (idqn_pursuit_lbs): dueling double DQN. */
const LBS_PURSUIT: LbsConfig = {
  ...LBS_DEFAULTS,
  double: true,
  dueling: true,
  embed: 256,
  headHidden: 256,
  headInit: "xavierZero",
};
const MLP = {
  conv: [],
  dense: [64, 64],
  embed: 0,
  headHidden: 0,
  dueling: false,
  bufferSize: 50_000,
};

interface Case {
  algo: "super" | "lbs";
  env: string;
  config: SuperConfig | LbsConfig;
  envCounts: number[];
  /** Iterations per timed sample. */
  iterations: number;
}

const CASES: Case[] = [
  {
    algo: "super",
    env: "pursuit",
    config: SUPER_DEFAULTS,
    envCounts: cpu ? [8] : [8, 64, 256],
    iterations: cpu ? 1 : 50,
  },
  {
    algo: "lbs",
    env: "pursuit",
    config: LBS_PURSUIT,
    envCounts: cpu ? [8] : [8, 64, 256],
    iterations: cpu ? 1 : 50,
  },
  {
    algo: "super",
    env: "rware-tiny-4ag",
    config: { ...SUPER_DEFAULTS, ...MLP },
    envCounts: cpu ? [16, 64] : [16, 256, 1024],
    iterations: cpu ? 8 : 100,
  },
  {
    algo: "lbs",
    env: "rware-tiny-4ag",
    config: { ...LBS_DEFAULTS, ...MLP },
    envCounts: cpu ? [16, 64] : [16, 256, 1024],
    iterations: cpu ? 8 : 100,
  },
  {
    algo: "super",
    env: "Foraging-8x8-2p-2f-coop",
    config: { ...SUPER_DEFAULTS, ...MLP },
    envCounts: cpu ? [16, 64] : [16, 256, 1024],
    iterations: cpu ? 8 : 100,
  },
  {
    algo: "lbs",
    env: "Foraging-8x8-2p-2f-coop",
    config: { ...LBS_DEFAULTS, ...MLP },
    envCounts: cpu ? [16, 64] : [16, 256, 1024],
    iterations: cpu ? 8 : 100,
  },
];

for (const c of CASES) {
  for (const numEnvs of c.envCounts) {
    // Learning from the first iteration on; the warm-up sample compiles and fills the rings.
    const config = { ...c.config, learningStarts: numEnvs };
    const def = c.algo === "super" ? SUPER : LBS;
    const run = { seed: 1, numEnvs, totalSteps: 1e12, env: c.env };
    const tr: Trainer = await (def.create as (
      e: typeof engine,
      r: typeof run,
      a: typeof config,
    ) => Promise<Trainer>)(engine, run, config);
    tr.run(cpu && c.env === "pursuit" ? 1 : 2);
    await settle(engine);
    const steps = numEnvs * c.iterations;
    Deno.bench({
      name: `${c.algo} ${c.env} ${numEnvs} envs × ${c.iterations} iterations (${steps} env steps)`,
      group: `${c.algo}-${c.env}`,
      baseline: numEnvs === c.envCounts[0],
      // The CPU adapter needs tens of seconds per Pursuit iteration: one sample there.
      n: cpu ? (c.env === "pursuit" ? 1 : 2) : 5,
      warmup: cpu ? 0 : 1,
      async fn(b) {
        b.start();
        tr.run(c.iterations);
        await settle(engine);
        b.end();
      },
    });
  }
}
