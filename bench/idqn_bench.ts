// End-to-end IDQN training throughput: act → env step → store → sample → learn → target sync, all
// recorded with no reads; one settle per timed call. env-steps/s = numEnvs × iterations / time.
// Learning is on from the first iteration (learningStarts 0) at the preset's replay ratio (one
// gradient step per 4 env steps per agent, batch 32), with smaller buffers so setup stays quick.
// Environment variables: IDQN_BENCH_ENVS (comma list of numEnvs), IDQN_BENCH_ITERS (iterations per
// timed call), IDQN_BENCH_N (timed calls), IDQN_BENCH_TASKS (comma list of tasks).
import { createEngine } from "../engine/device.ts";
import { settle } from "../engine/readback.ts";
import { findTask } from "../envs/registry.ts";
import { createIdqnTrainer, IDQN_DEFAULTS, type IdqnConfig } from "../algorithms/idqn/mod.ts";

const engine = await createEngine();
const ITERS = Number(Deno.env.get("IDQN_BENCH_ITERS") ?? 8);
const ENVS = (Deno.env.get("IDQN_BENCH_ENVS") ?? "8,32,128").split(",").map(Number);
const BENCH_N = Number(Deno.env.get("IDQN_BENCH_N") ?? 5);
const TASKS = (Deno.env.get("IDQN_BENCH_TASKS") ?? "pursuit,Foraging-8x8-2p-2f-coop,rware-tiny-4ag")
  .split(",");

const MLP: Partial<IdqnConfig> = { conv: [], dense: [64, 64], embed: 0, headHidden: 0 };
const CASES: { task: string; algo: Partial<IdqnConfig> }[] = [
  { task: "pursuit", algo: {} },
  { task: "Foraging-8x8-2p-2f-coop", algo: { ...MLP, dueling: false } },
  { task: "rware-tiny-4ag", algo: { ...MLP, dueling: false } },
];

for (const c of CASES.filter((x) => TASKS.includes(x.task))) {
  try {
    findTask(c.task);
  } catch {
    console.log(`idqn bench: skipping "${c.task}" (not registered)`);
    continue;
  }
  for (const numEnvs of ENVS) {
    const algo: IdqnConfig = {
      ...IDQN_DEFAULTS,
      bufferSize: 20_000,
      learningStarts: 0,
      ...c.algo,
    };
    const tr = await createIdqnTrainer(engine, "idqn", {
      seed: 1,
      numEnvs,
      totalSteps: 1e9,
      env: c.task,
    }, algo);
    tr.run(1);
    await settle(engine);
    Deno.bench({
      name: `idqn ${c.task} ${numEnvs} envs × ${ITERS} iterations (${numEnvs * ITERS} env steps, ${
        (numEnvs * ITERS) / algo.stepsPerUpdate
      } updates)`,
      group: `idqn-${c.task}`,
      baseline: numEnvs === ENVS[0],
      // Few timed calls: on a CPU adapter one Pursuit iteration with learning takes seconds.
      n: BENCH_N,
      warmup: 1,
      async fn(b) {
        b.start();
        tr.run(ITERS);
        await settle(engine);
        b.end();
      },
    });
  }
}
