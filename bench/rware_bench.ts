// RWARE env-step throughput: the GPU kernel (all envs, all robots, one dispatch per step, with
// auto-reset) and the CPU reference. Run: deno bench -A bench/rware_bench.ts
// GPU: random actions for all `steps` are drawn on the GPU once at setup; each timed iteration
// records `steps` × (copy that step's actions, env step) into one encoder, submits once and
// awaits once. env-steps/s = numEnvs × steps / (time per iteration); a table is printed at the end
// (the Python reference does ~2,800 env-steps/s on rware-tiny-4ag on one core).
import { createEngine, type Engine } from "../engine/device.ts";
import { createRandomFill } from "../engine/ops/random.ts";
import { settle } from "../engine/readback.ts";
import { HostRng, RNG_PURPOSE } from "../engine/rng.ts";
import { createRwareEnv, RWARE, type RwareEnv } from "../envs/rware/env.ts";
import type { RwareConfig } from "../envs/rware/layout.ts";
import { RwareReferenceVec } from "../envs/rware/reference.ts";

const engine: Engine = await createEngine();
/** Steps behind one await: enough to dwarf the ~11 ms sync. */
const STEPS = engine.isCpu ? 10 : 200;
const GPU_ENVS = engine.isCpu ? [1024, 4096] : [1024, 4096, 16384];
const TASKS = ["rware-tiny-2ag", "rware-tiny-4ag", "rware-small-4ag", "rware-large-8ag"];

const results = new Map<string, number>();

function record(name: string, envSteps: number, ms: number): void {
  const rate = envSteps / (ms / 1000);
  results.set(name, Math.max(results.get(name) ?? 0, rate));
}

interface GpuRig {
  env: RwareEnv;
  run(): Promise<void>;
}

async function gpuRig(task: string, numEnvs: number): Promise<GpuRig> {
  const spec = RWARE.parseTask(task)!;
  const env = await createRwareEnv(engine, spec, { numEnvs, seed: 1 });
  const per = spec.numAgents * numEnvs;
  const all = engine.tensor({ dtype: "u32", shape: [STEPS, per], label: "bench.rware.actions" });
  const fill = await createRandomFill(engine, {
    out: all,
    dist: { kind: "below", k: spec.numActions },
    seed: 2,
    purpose: RNG_PURPOSE.action,
    label: "bench.rware.fill",
  });
  const slices = Array.from({ length: STEPS }, (_, t) => all.view(t * per, [per]));
  const enc = engine.encoder();
  fill.encode(enc);
  env.encodeReset(enc);
  engine.submit(enc);
  await settle(engine);
  return {
    env,
    async run() {
      const e = engine.encoder();
      for (let t = 0; t < STEPS; t++) {
        e.copy(slices[t], env.buffers.actions);
        env.encodeStep(e);
      }
      engine.submit(e);
      await settle(engine);
    },
  };
}

for (const task of TASKS) {
  for (const numEnvs of GPU_ENVS) {
    const name = `${task} gpu step ${numEnvs} envs × ${STEPS} steps`;
    let rig: Promise<GpuRig> | null = null;
    Deno.bench({
      name,
      group: task,
      async fn(b) {
        rig ??= gpuRig(task, numEnvs);
        const r = await rig;
        await r.run(); // warm-up outside the timed region
        b.start();
        const t0 = performance.now();
        await r.run();
        record(name, numEnvs * STEPS, performance.now() - t0);
        b.end();
      },
    });
  }
  const cpuEnvs = 16, cpuSteps = 25;
  const name = `${task} cpu reference ${cpuEnvs} envs × ${cpuSteps} steps`;
  Deno.bench({
    name,
    group: task,
    fn(b) {
      const cfg = RWARE.parseTask(task)!.config as unknown as RwareConfig;
      const ref = new RwareReferenceVec(cfg, { numEnvs: cpuEnvs, seed: 1 });
      ref.reset();
      const rng = new HostRng(3, RNG_PURPOSE.test);
      const actions = Array.from(
        { length: cpuSteps },
        () => Uint32Array.from({ length: cfg.numAgents * cpuEnvs }, () => rng.below(5)),
      );
      b.start();
      const t0 = performance.now();
      for (const a of actions) ref.step(a);
      record(name, cpuEnvs * cpuSteps, performance.now() - t0);
      b.end();
    },
  });
}

globalThis.addEventListener("unload", () => {
  console.log(`\nRWARE env-steps/s (best iteration) on ${engine.adapter.description}:`);
  for (const [name, rate] of results) {
    console.log(`  ${name.padEnd(52)} ${Math.round(rate).toLocaleString("en-US").padStart(14)}`);
  }
  engine.destroy();
});
