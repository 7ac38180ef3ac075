// Pursuit env steps/s: the GPU env (per cycle one step dispatch for all pursuers, capture and
// evader moves, one observe dispatch for the u8 observations; auto-reset; random pursuer actions
// pre-uploaded as a pool of 16 action sets copied into `actions` before each step, evader moves
// drawn on the GPU) and the CPU reference. env-steps/s = numEnvs × steps / time per iteration.
// Run: deno bench -A bench/pursuit_bench.ts
import { createEngine } from "../engine/device.ts";
import { settle } from "../engine/readback.ts";
import { HostRng, RNG_PURPOSE } from "../engine/rng.ts";
import { createPursuitEnv, PURSUIT, type PursuitConfig } from "../envs/pursuit/env.ts";
import { PursuitReferenceVec } from "../envs/pursuit/reference.ts";

const engine = await createEngine();
/** Steps behind one await: enough to dwarf the ~11 ms sync. */
const STEPS = engine.isCpu ? 10 : 200;
const POOL = 16;
const ENV_COUNTS = engine.isCpu ? [1024, 4096] : [1024, 4096, 16384, 65536];
const spec = PURSUIT.parseTask("pursuit")!;

for (const numEnvs of ENV_COUNTS) {
  const env = await createPursuitEnv(engine, spec, { numEnvs, seed: 1 });
  const perStep = spec.numAgents * numEnvs;
  const rng = new HostRng(3, RNG_PURPOSE.test);
  const pool = engine.tensor({
    dtype: "u32",
    shape: [POOL, spec.numAgents, numEnvs],
    label: "bench.pursuit.actionPool",
    data: Array.from({ length: POOL * perStep }, () => rng.below(5)),
  });
  const sets = Array.from(
    { length: POOL },
    (_, k) => pool.view(k * perStep, [spec.numAgents, numEnvs], `bench.pursuit.actions.${k}`),
  );
  const enc = engine.encoder();
  env.encodeReset(enc);
  engine.submit(enc);
  await settle(engine);
  Deno.bench({
    name: `pursuit.step gpu ${numEnvs} envs × ${STEPS} steps`,
    group: "pursuit-gpu",
    baseline: numEnvs === ENV_COUNTS[0],
    async fn(b) {
      b.start();
      const e = engine.encoder("bench.pursuit");
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

{
  const cfg = spec.config as unknown as PursuitConfig;
  const numEnvs = 16, steps = 20;
  const vec = new PursuitReferenceVec(cfg, { numEnvs, seed: 1 });
  const rng = new HostRng(4, RNG_PURPOSE.test);
  const actions = Array.from(
    { length: POOL },
    () => Uint32Array.from({ length: cfg.numPursuers * numEnvs }, () => rng.below(5)),
  );
  Deno.bench({
    name: `pursuit.step cpu reference ${numEnvs} envs × ${steps} steps`,
    group: "pursuit-cpu",
    fn() {
      for (let t = 0; t < steps; t++) vec.step(actions[t % POOL]);
    },
  });
}
