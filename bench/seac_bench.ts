// End-to-end SEAC-family training throughput: env-steps/s (summed over envs) of full iterations
// (act 5 steps in every env → returns → losses → backward → Adam → metrics), many iterations
// recorded per submit and one sync per sample, plus the dispatches one iteration records and the
// dense-layer arithmetic of one iteration (acting forwards + learner forward/backward, 2 FLOP per
// multiply-add) with the rate it implies, to tell compute-bound from overhead-bound. Tasks
// rware-tiny-4ag and Foraging-8x8-2p-2f-coop, 4 envs (the paper's setting) and 1024 envs, SEAC,
// IAC and SNAC; choose with SEAC_BENCH_ENVS=4,1024,16384 (a real GPU),
// SEAC_BENCH_TASKS=rware-tiny-4ag and SEAC_BENCH_SHARING=seac,iac.
import { createSeacTrainer, SEAC_DEFAULTS } from "../algorithms/seac/mod.ts";
import type { SeacSharing } from "../algorithms/seac/learner.ts";
import { createEngine } from "../engine/device.ts";
import { settle } from "../engine/readback.ts";
import type { EnvDef, VecEnv } from "../envs/env.ts";
import { LBF } from "../envs/lbf/env.ts";
import { RWARE } from "../envs/rware/env.ts";

const engine = await createEngine();
const list = (name: string, fallback: string) => (Deno.env.get(name) ?? fallback).split(",");
const ENV_COUNTS = list("SEAC_BENCH_ENVS", "4,1024").map(Number);
const TASKS = list("SEAC_BENCH_TASKS", "rware-tiny-4ag,Foraging-8x8-2p-2f-coop");
const SHARING = list("SEAC_BENCH_SHARING", "seac,iac,snac") as SeacSharing[];
/** Env steps per sample, so that one sync covers enough work. */
const STEPS_PER_SAMPLE = 4_000;
const best = new Map<string, number>();
const dispatches = new Map<string, number>();
/** Dense-layer FLOPs and env steps of one iteration, per bench name. */
const work = new Map<string, { flops: number; steps: number }>();

/** Multiply-adds of one row through an MLP with layer widths `sizes`. */
const macs = (sizes: number[]) => sizes.slice(1).reduce((s, n, l) => s + sizes[l] * n, 0);

/**
 * Dense-layer FLOPs of one iteration: T actor and T + 1 critic forwards on every (agent, env) row
 * while acting; on the learner's rows a forward, the weight gradients (as many multiply-adds as
 * the forward) and the input gradients of every layer but the first.
 */
function iterationFlops(env: VecEnv, learnerRows: number, hidden: number, nSteps: number): number {
  const D = env.spec.obsShape.reduce((a, b) => a * b, 1);
  const actor = [D, hidden, hidden, env.spec.numActions], critic = [D, hidden, hidden, 1];
  const fwd = macs(actor) + macs(critic);
  const inputGrads = macs(actor.slice(1)) + macs(critic.slice(1));
  const rows = env.spec.numAgents * env.numEnvs;
  const acting = rows * (nSteps * macs(actor) + (nSteps + 1) * macs(critic));
  return 2 * (acting + learnerRows * (2 * fwd + inputGrads));
}

async function buildEnv(task: string, numEnvs: number): Promise<VecEnv> {
  for (const def of [RWARE, LBF] as EnvDef[]) {
    const spec = def.parseTask(task);
    if (spec) return await def.create(engine, spec, { numEnvs, seed: 1 });
  }
  throw new Error(`Cannot build bench env "${task}": no env parses it`);
}

for (const task of TASKS) {
  for (const numEnvs of ENV_COUNTS) {
    for (const sharing of SHARING) {
      const env = await buildEnv(task, numEnvs);
      const iterations = Math.max(
        1,
        Math.round(STEPS_PER_SAMPLE / (numEnvs * SEAC_DEFAULTS.nSteps)),
      );
      const tr = await createSeacTrainer(engine, env, {
        sharing,
        seed: 1,
        algo: { ...SEAC_DEFAULTS, iterationsPerSubmit: Math.min(iterations, 64) },
      });
      tr.run(2);
      await settle(engine);
      const enc = engine.encoder("bench.count");
      const before = engine.stats.dispatches;
      tr.encodeIteration(enc);
      dispatches.set(`${sharing} ${task}`, engine.stats.dispatches - before);
      const learnerRows = tr.parts.learner.rowsPerLearner * tr.parts.net.numAgents;
      const name = `${sharing} ${task} ${numEnvs} envs × ${iterations} iterations`;
      work.set(name, {
        flops: iterationFlops(env, learnerRows, SEAC_DEFAULTS.hidden, SEAC_DEFAULTS.nSteps),
        steps: tr.stepsPerIteration,
      });
      engine.submit(enc);
      await settle(engine);
      const steps = iterations * tr.stepsPerIteration;
      Deno.bench({
        name,
        group: `${task}-${numEnvs}`,
        baseline: sharing === SHARING[0],
        n: 2,
        warmup: 1,
        async fn(b) {
          b.start();
          const t0 = performance.now();
          tr.run(iterations);
          await settle(engine);
          const rate = steps / ((performance.now() - t0) / 1000);
          best.set(name, Math.max(best.get(name) ?? 0, rate));
          b.end();
        },
      });
    }
  }
}

globalThis.addEventListener("unload", () => {
  for (const [name, rate] of best) {
    const { flops, steps } = work.get(name)!;
    const gflops = (flops * rate) / steps / 1e9;
    console.log(
      `best ${name}: ${rate.toFixed(0)} env-steps/s; dense layers ${
        (flops / 1e6).toFixed(1)
      } MFLOP per iteration → ${gflops.toFixed(2)} GFLOP/s`,
    );
  }
  for (const [name, n] of dispatches) console.log(`dispatches per iteration ${name}: ${n}`);
  console.log(`adapter: ${engine.adapter.description} (isCpu ${engine.isCpu})`);
});
