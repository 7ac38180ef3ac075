// Level-Based Foraging env steps/s: the GPU kernel (one dispatch per step, auto-reset, random
// actions pre-uploaded as a pool of 16 action sets copied into `actions` before each step) and
// the CPU reference. env-steps/s = numEnvs × steps / time per iteration.
import { createEngine } from "../engine/device.ts";
import { settle } from "../engine/readback.ts";
import { HostRng, RNG_PURPOSE } from "../engine/rng.ts";
import { createLbfEnv, LBF } from "../envs/lbf/env.ts";
import type { LbfConfig } from "../envs/lbf/env.ts";
import { LbfReferenceVec } from "../envs/lbf/reference.ts";

const engine = await createEngine();
const STEPS = 100;
const POOL = 16;
const TASKS = ["Foraging-15x15-3p-4f", "Foraging-8x8-2p-2f-coop"];
const ENV_COUNTS = [1024, 4096, 16384];

for (const name of TASKS) {
  const spec = LBF.parseTask(name)!;
  for (const numEnvs of ENV_COUNTS) {
    const env = await createLbfEnv(engine, spec, { numEnvs, seed: 1 });
    const perStep = spec.numAgents * numEnvs;
    const rng = new HostRng(3, RNG_PURPOSE.test);
    const pool = engine.tensor({
      dtype: "u32",
      shape: [POOL, spec.numAgents, numEnvs],
      label: "bench.lbf.actionPool",
      data: Array.from({ length: POOL * perStep }, () => rng.below(6)),
    });
    const sets = Array.from(
      { length: POOL },
      (_, k) => pool.view(k * perStep, [spec.numAgents, numEnvs], `bench.lbf.actions.${k}`),
    );
    const enc = engine.encoder();
    env.encodeReset(enc);
    engine.submit(enc);
    await settle(engine);
    Deno.bench({
      name: `lbf.step gpu ${name} ${numEnvs} envs × ${STEPS} steps`,
      group: `lbf-gpu-${name}`,
      baseline: numEnvs === ENV_COUNTS[0],
      async fn(b) {
        b.start();
        const e = engine.encoder("bench.lbf");
        for (let t = 0; t < STEPS; t++) {
          e.copy(sets[t % POOL], env.buffers.actions);
          env.encodeStep(e);
        }
        engine.submit(e);
        await settle(engine);
        b.end();
      },
    });
  }
}

for (const name of TASKS) {
  const cfg = LBF.parseTask(name)!.config as unknown as LbfConfig;
  const numEnvs = 64, steps = 50;
  const vec = new LbfReferenceVec(cfg, { numEnvs, seed: 1 });
  const rng = new HostRng(4, RNG_PURPOSE.test);
  const actions = Array.from(
    { length: POOL },
    () => Uint32Array.from({ length: cfg.numPlayers * numEnvs }, () => rng.below(6)),
  );
  Deno.bench({
    name: `lbf.step cpu reference ${name} ${numEnvs} envs × ${steps} steps`,
    group: "lbf-cpu",
    fn() {
      for (let t = 0; t < steps; t++) vec.step(actions[t % POOL]);
    },
  });
}
