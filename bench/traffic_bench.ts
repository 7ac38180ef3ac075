// Traffic grid (DIALS) steps/s: the GPU global simulator (2 dispatches per step, auto-reset) and
// the GPU local simulators (2 dispatches per step: the episode flags, then one thread per agent × env region), for 4, 25, 49 and 100
// agents, with random actions (switch w.p. 0.1) and, for the LS, random influence sources
// (w.p. 0.1), both pre-uploaded as pools of 16 sets copied in before each step; then the CPU
// references. env-steps/s = numEnvs × steps / time; agent-steps/s = env-steps/s × agents.
// Configurations whose state exceeds the device's storage binding limit are skipped (logged).
import { createEngine } from "../engine/device.ts";
import type { Encoder } from "../engine/encoder.ts";
import { settle } from "../engine/readback.ts";
import { HostRng, RNG_PURPOSE } from "../engine/rng.ts";
import type { Tensor } from "../engine/tensor.ts";
import { createTrafficEnv, TRAFFIC } from "../envs/traffic/env.ts";
import { TRAFFIC_SEGMENT } from "../envs/traffic/state.ts";
import { createTrafficLocalEnv } from "../envs/traffic/local.ts";
import {
  type TrafficConfig,
  TrafficGlobalReference,
  TrafficLocalReference,
} from "../envs/traffic/reference.ts";

const engine = await createEngine();
const STEPS = engine.isCpu ? 10 : 100;
const POOL = 16;
const ENV_COUNTS = engine.isCpu ? [1024] : [1024, 4096];
const maxBinding = engine.limit("maxStorageBufferBindingSize");

/** A pool of POOL random 0/1 sets of `size` words, and views of each set. */
function pool(size: number, p: number, label: string): Tensor<"u32">[] {
  const rng = new HostRng(size, RNG_PURPOSE.test);
  const padded = Math.ceil(size / 64) * 64; // 256-byte aligned views
  const all = engine.tensor({
    dtype: "u32",
    shape: [POOL, padded],
    label,
    data: Array.from({ length: POOL * padded }, () => (rng.unit() < p ? 1 : 0)),
  });
  return Array.from({ length: POOL }, (_, k) => all.view(k * padded, [size], `${label}.${k}`));
}

function register(
  name: string,
  group: string,
  baseline: boolean,
  step: (e: Encoder, t: number) => void,
) {
  Deno.bench({
    name,
    group,
    baseline,
    ...(engine.isCpu ? { n: 3, warmup: 1 } : {}),
    async fn(b) {
      b.start();
      const e = engine.encoder("bench.traffic");
      for (let t = 0; t < STEPS; t++) step(e, t);
      engine.submit(e);
      await settle(engine);
      b.end();
    },
  });
}

for (const task of TRAFFIC.tasks) {
  const spec = TRAFFIC.parseTask(task)!;
  const A = spec.numAgents;
  for (const numEnvs of ENV_COUNTS) {
    const bytes = numEnvs * 4 * A * TRAFFIC_SEGMENT * 4;
    if (bytes > maxBinding) {
      console.log(
        `skip ${task} × ${numEnvs} envs: state ${bytes} B > binding limit ${maxBinding} B`,
      );
      continue;
    }
    const actions = pool(A * numEnvs, 0.1, `bench.traffic.actions.${task}.${numEnvs}`);
    const gs = await createTrafficEnv(engine, spec, { numEnvs, seed: 1 });
    const ls = await createTrafficLocalEnv(engine, spec, { numEnvs, seed: 1 });
    const sources = pool(A * numEnvs * 4, 0.1, `bench.traffic.sources.${task}.${numEnvs}`);
    const enc = engine.encoder();
    gs.encodeReset(enc);
    ls.encodeReset(enc);
    engine.submit(enc);
    await settle(engine);
    const what = `${task} (${A} agents) ${numEnvs} envs × ${STEPS} steps`;
    register(`traffic GS gpu ${what}`, `traffic-${numEnvs}`, task === "traffic-4", (e, t) => {
      e.copy(actions[t % POOL], gs.buffers.actions);
      gs.encodeStep(e);
    });
    register(`traffic LS gpu ${what}`, `traffic-${numEnvs}`, false, (e, t) => {
      e.copy(actions[t % POOL], ls.buffers.actions);
      e.copy(sources[t % POOL], ls.sources);
      ls.encodeStep(e);
    });
  }
}

for (const gridSize of [2, 5, 10]) {
  const cfg = TRAFFIC.parseTask(`traffic-${gridSize * gridSize}`)!
    .config as unknown as TrafficConfig;
  const A = gridSize * gridSize, numEnvs = 16, steps = 20;
  const rng = new HostRng(4, RNG_PURPOSE.test);
  const actions = Array.from(
    { length: POOL },
    () =>
      Array.from(
        { length: A },
        () => Array.from({ length: numEnvs }, () => (rng.unit() < 0.1 ? 1 : 0)),
      ),
  );
  const bits = Array.from(
    { length: POOL },
    () =>
      Array.from(
        { length: A },
        () =>
          Array.from({ length: numEnvs }, () => [0, 1, 2, 3].map(() => (rng.unit() < 0.1 ? 1 : 0))),
      ),
  );
  const gs = new TrafficGlobalReference(cfg, numEnvs, 1);
  gs.reset();
  const ls = new TrafficLocalReference(cfg, A, numEnvs, 1);
  ls.reset(bits[0]);
  Deno.bench({
    name: `traffic GS cpu reference traffic-${A} ${numEnvs} envs × ${steps} steps`,
    group: "traffic-cpu",
    fn() {
      for (let t = 0; t < steps; t++) gs.step(actions[t % POOL]);
    },
  });
  Deno.bench({
    name: `traffic LS cpu reference traffic-${A} ${numEnvs} envs × ${steps} steps`,
    group: "traffic-cpu",
    fn() {
      for (let t = 0; t < steps; t++) {
        ls.step(actions[t % POOL], bits[t % POOL], bits[(t + 1) % POOL]);
      }
    },
  });
}
