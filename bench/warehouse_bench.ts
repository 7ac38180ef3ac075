// Warehouse commissioning (DIALS) steps/s: the GPU global simulator (one dispatch per step with
// auto-reset; both kernel variants: one thread per env and one workgroup per env), the GS
// (default variant for the adapter) driven by the GPU baseline policy, the GPU local
// simulators (one thread per agent region) and the CPU references, for 4, 25, 49 and 100
// learning agents. Random actions (and LS influence classes) are pre-uploaded as a pool of 4
// sets copied in before each step. env-steps/s = numEnvs × steps / time; agent-steps/s =
// env-steps/s × agents (the LS lanes of one env count as one env step).
//   deno bench -A bench/warehouse_bench.ts                 (Deno.bench table)
//   deno run -A bench/warehouse_bench.ts --table [envs…]   (markdown table of steps/s)
import { createEngine, type Engine } from "../engine/device.ts";
import type { Encoder } from "../engine/encoder.ts";
import { settle } from "../engine/readback.ts";
import { HostRng, RNG_PURPOSE } from "../engine/rng.ts";
import type { Tensor } from "../engine/tensor.ts";
import { createWarehouseEnv, WAREHOUSE } from "../envs/warehouse/env.ts";
import { createWarehouseBaseline } from "../envs/warehouse/baseline.ts";
import { createWarehouseLocalEnv } from "../envs/warehouse/local.ts";
import type { WarehouseConfig } from "../envs/warehouse/layout.ts";
import {
  warehouseLocalResetReference,
  warehouseLocalStepReference,
  warehouseResetReference,
  warehouseStepReference,
} from "../envs/warehouse/reference.ts";

const STEPS = 10;
const POOL = 4;
const TASKS = ["warehouse-4", "warehouse-25", "warehouse-49", "warehouse-100"];
const TABLE = Deno.args.includes("--table");
const counts = Deno.args.filter((a) => /^\d+$/.test(a)).map(Number);
const ENV_COUNTS = counts.length ? counts : [1024, 4096];

/** A pool of POOL random u32 sets of `size` values below `k`, as views. */
function pool(engine: Engine, size: number, k: number, label: string): Tensor<"u32">[] {
  const rng = new HostRng(3, RNG_PURPOSE.test);
  const all = engine.tensor({
    dtype: "u32",
    shape: [POOL, size],
    label,
    data: Array.from({ length: POOL * size }, () => rng.below(k)),
  });
  const align = engine.limit("minStorageBufferOffsetAlignment") / 4;
  if (size % align !== 0) {
    return Array.from({ length: POOL }, (_, i) =>
      engine.tensor({
        dtype: "u32",
        shape: [size],
        label: `${label}.${i}`,
        data: Array.from({ length: size }, () => rng.below(k)),
      }));
  }
  return Array.from({ length: POOL }, (_, i) => all.view(i * size, [size], `${label}.${i}`));
}

/** One workload: encodes `STEPS` steps into an encoder. */
interface Workload {
  name: string;
  kind: string;
  task: string;
  numEnvs: number;
  agents: number;
  encode(enc: Encoder): void;
}

async function workloads(engine: Engine, task: string, numEnvs: number): Promise<Workload[]> {
  const spec = WAREHOUSE.parseTask(task)!;
  const A = spec.numAgents;
  const gs = await createWarehouseEnv(engine, spec, { numEnvs, seed: 1, serial: true });
  const gsWg = await createWarehouseEnv(engine, spec, { numEnvs, seed: 1, serial: false });
  const base = await createWarehouseEnv(engine, spec, { numEnvs, seed: 2 });
  const policy = await createWarehouseBaseline(engine, base, { variant: "oldest" });
  const ls = await createWarehouseLocalEnv(engine, spec, { numEnvs, seed: 1 });
  const acts = pool(engine, A * numEnvs, 4, `bench.warehouse.actions`);
  const infl = pool(engine, A * numEnvs * 4, 4, `bench.warehouse.influence`);
  const enc = engine.encoder();
  gs.encodeReset(enc);
  gsWg.encodeReset(enc);
  base.encodeReset(enc);
  ls.encodeReset(enc);
  engine.submit(enc);
  await settle(engine);
  const label = `${task} ${numEnvs} envs × ${STEPS} steps`;
  return [
    {
      name: `warehouse gs thread/env ${label}`,
      kind: "GS thread/env",
      task,
      numEnvs,
      agents: A,
      encode(e) {
        for (let t = 0; t < STEPS; t++) {
          e.copy(acts[t % POOL], gs.buffers.actions);
          gs.encodeStep(e);
        }
      },
    },
    {
      name: `warehouse gs workgroup/env ${label}`,
      kind: "GS workgroup/env",
      task,
      numEnvs,
      agents: A,
      encode(e) {
        for (let t = 0; t < STEPS; t++) {
          e.copy(acts[t % POOL], gsWg.buffers.actions);
          gsWg.encodeStep(e);
        }
      },
    },
    {
      name: `warehouse gs+baseline ${label}`,
      kind: "GS + baseline",
      task,
      numEnvs,
      agents: A,
      encode(e) {
        for (let t = 0; t < STEPS; t++) {
          policy.encode(e);
          base.encodeStep(e);
        }
      },
    },
    {
      name: `warehouse ls ${label}`,
      kind: "LS",
      task,
      numEnvs,
      agents: A,
      encode(e) {
        for (let t = 0; t < STEPS; t++) {
          e.copy(acts[t % POOL], ls.buffers.actions);
          e.copy(infl[t % POOL], ls.influence);
          ls.encodeStep(e);
        }
      },
    },
  ];
}

async function timeOnce(engine: Engine, w: Workload): Promise<number> {
  const t0 = performance.now();
  const e = engine.encoder("bench.warehouse");
  w.encode(e);
  engine.submit(e);
  await settle(engine);
  return (performance.now() - t0) / 1000;
}

/** CPU reference: env steps of the GS (whole grid) and of one agent's LS lanes per second. */
function cpuRates(cfg: WarehouseConfig): { gs: number; ls: number } {
  const rng = new HostRng(4, RNG_PURPOSE.test), A = cfg.learningPerSide ** 2;
  let s = warehouseResetReference(cfg, { seed: 1, env: 0 }, 0);
  let t0 = performance.now(), steps = 0;
  while (performance.now() - t0 < 500) {
    const r = warehouseStepReference(cfg, s, Array.from({ length: A }, () => rng.below(4)), {
      seed: 1,
      env: 0,
    });
    s = r.state;
    steps++;
  }
  const gs = steps / ((performance.now() - t0) / 1000);
  const keys = { seed: 1, env: 0, agent: 0 };
  let l = warehouseLocalResetReference(cfg, keys, 0);
  t0 = performance.now();
  steps = 0;
  while (performance.now() - t0 < 500) {
    l = warehouseLocalStepReference(cfg, l, rng.below(4), [3, rng.below(4), 3, 3], keys).state;
    steps++;
  }
  // One env step of the LS is A lanes.
  const ls = steps / A / ((performance.now() - t0) / 1000);
  return { gs, ls };
}

const engine = await createEngine();
if (TABLE) {
  console.log(`adapter: ${engine.adapter.description || engine.adapter.vendor}`);
  console.log(
    "| task | agents | envs | simulator | env-steps/s | agent-steps/s |\n|---|---|---|---|---|---|",
  );
  for (const task of TASKS) {
    for (const numEnvs of ENV_COUNTS) {
      for (const w of await workloads(engine, task, numEnvs)) {
        await timeOnce(engine, w);
        const secs = Math.min(await timeOnce(engine, w), await timeOnce(engine, w));
        const rate = (numEnvs * STEPS) / secs;
        console.log(
          `| ${task} | ${w.agents} | ${numEnvs} | ${w.kind} | ${rate.toFixed(0)} | ${
            (rate * w.agents).toFixed(0)
          } |`,
        );
      }
    }
    const cfg = WAREHOUSE.parseTask(task)!.config as unknown as WarehouseConfig;
    const cpu = cpuRates(cfg);
    const A = cfg.learningPerSide ** 2;
    console.log(
      `| ${task} | ${A} | 1 | GS CPU reference | ${cpu.gs.toFixed(0)} | ${
        (cpu.gs * A).toFixed(0)
      } |`,
    );
    console.log(
      `| ${task} | ${A} | 1 | LS CPU reference | ${cpu.ls.toFixed(0)} | ${
        (cpu.ls * A).toFixed(0)
      } |`,
    );
  }
} else {
  for (const task of TASKS) {
    for (const numEnvs of ENV_COUNTS) {
      for (const w of await workloads(engine, task, numEnvs)) {
        Deno.bench({
          name: w.name,
          group: `warehouse-${w.kind}-${numEnvs}`,
          baseline: task === TASKS[0],
          n: 3,
          warmup: 1,
          async fn(b) {
            b.start();
            const e = engine.encoder("bench.warehouse");
            w.encode(e);
            engine.submit(e);
            await settle(engine);
            b.end();
          },
        });
      }
    }
  }
}
