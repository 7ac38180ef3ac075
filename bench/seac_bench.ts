// End-to-end SEAC training throughput: env-steps/s (summed over envs) of full iterations (act 5
// steps in every env → returns → losses → backward → Adam → metrics), many iterations recorded
// per submit and one sync per sample. Task rware-tiny-4ag (LBF Foraging-8x8-2p-2f-coop when RWARE
// cannot be built), 4 envs (the paper's setting) and 1024 envs; more with
// SEAC_BENCH_ENVS=4,1024,16384 (a real GPU).
import { createSeacTrainer, SEAC_DEFAULTS } from "../algorithms/seac.ts";
import { createEngine } from "../engine/device.ts";
import { settle } from "../engine/readback.ts";
import type { EnvDef, VecEnv } from "../envs/env.ts";
import { LBF } from "../envs/lbf.ts";
import { RWARE } from "../envs/rware.ts";

const engine = await createEngine();
const ENV_COUNTS = (Deno.env.get("SEAC_BENCH_ENVS") ?? "4,1024").split(",").map(Number);
/** Env steps per sample, so that one sync covers enough work. */
const STEPS_PER_SAMPLE = 4_000;
const best = new Map<string, number>();

async function buildEnv(numEnvs: number): Promise<VecEnv> {
  const tries: [EnvDef, string][] = [[RWARE, "rware-tiny-4ag"], [LBF, "Foraging-8x8-2p-2f-coop"]];
  for (const [def, task] of tries) {
    try {
      return await def.create(engine, def.parseTask(task)!, { numEnvs, seed: 1 });
    } catch (e) {
      console.warn(`Cannot build ${task}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  throw new Error("Cannot build any bench env");
}

for (const numEnvs of ENV_COUNTS) {
  for (const sharing of ["seac", "iac"] as const) {
    const env = await buildEnv(numEnvs);
    const iterations = Math.max(1, Math.round(STEPS_PER_SAMPLE / (numEnvs * SEAC_DEFAULTS.nSteps)));
    const tr = await createSeacTrainer(engine, env, {
      sharing,
      seed: 1,
      algo: { ...SEAC_DEFAULTS, iterationsPerSubmit: Math.min(iterations, 64) },
    });
    tr.run(2);
    await settle(engine);
    const steps = iterations * tr.stepsPerIteration;
    const name = `${sharing} ${env.spec.name} ${numEnvs} envs × ${iterations} iterations`;
    Deno.bench({
      name,
      group: `seac-${numEnvs}`,
      baseline: sharing === "seac",
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

globalThis.addEventListener("unload", () => {
  for (const [name, rate] of best) console.log(`best ${name}: ${rate.toFixed(0)} env-steps/s`);
  console.log(`adapter: ${engine.adapter.description} (isCpu ${engine.isCpu})`);
});
