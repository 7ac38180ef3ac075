/**
 * Replay and sampling benchmarks.
 * - Pursuit LBS/SUPER configuration (8 agents × 120 000 slots, 7×7×3 u8 obs, 8 envs, B = 32,
 *   PER): one training iteration = 4 inserts (the rollout fragment) + PER sample + gather +
 *   priority update, 50 iterations per sync.
 * - Sampling throughput (items/s = rings · batch · calls / time) of PER and uniform draws from
 *   one ring of N = 10^4 … 10^6 slots (10^7 with BENCH_LARGE=1).
 * Prints the memory report of the Pursuit configuration first. Run: deno bench -A bench/replay_bench.ts
 *
 * @module
 */
import { createEngine } from "../engine/device.ts";
import { createReplay, memoryReport, type ReplayConfig } from "../engine/replay/buffer.ts";
import {
  createPerSampler,
  createSumTree,
  createUniformSampler,
  EMPTY_MIN,
} from "../engine/replay/sampling.ts";
import { buildTreesReference } from "../engine/replay/sampling_reference.ts";
import { settle } from "../engine/readback.ts";
import { HostRng } from "../engine/rng.ts";

const PURSUIT: ReplayConfig = {
  numAgents: 8,
  numEnvs: 8,
  capacity: 120_000,
  obsDim: 147,
  obsDType: "u8",
  prioritized: true,
  batch: 32,
};
const plan = memoryReport(PURSUIT);
const MiB = (b: number) => (b / 2 ** 20).toFixed(2);
console.log(
  `replay memory, Pursuit (8 × 120000 × 147 u8, PER): total ${MiB(plan.totalBytes)} MiB, ` +
    `largest binding ${
      MiB(plan.largestBindingBytes)
    } MiB, ${plan.chunks.length} chunks of ≤ ${plan.ringsPerChunk} rings`,
);
const superPlan = memoryReport({ ...PURSUIT, crossInsert: true, relayFragment: 4 });
console.log(
  `with SUPER relay staging (fragment 4): total ${MiB(superPlan.totalBytes)} MiB`,
);
for (const b of plan.buffers) {
  console.log(`  ${b.label.padEnd(16)} [${b.shape.join(", ")}] ${MiB(b.bytes)} MiB`);
}

const engine = await createEngine();
const rng = new HostRng(1);
const ITER = 50;

{
  const { numAgents, numEnvs, obsDim } = PURSUIT;
  const replay = await createReplay(engine, { ...PURSUIT, label: "bench.replay" });
  const shape = [numAgents, numEnvs];
  const n = numAgents * numEnvs * obsDim;
  const env = {
    obs: engine.tensor({
      dtype: "u8",
      shape: [...shape, obsDim],
      label: "bench.obs",
      data: Uint8Array.from({ length: n }, () => rng.below(4)),
    }),
    terminalObs: engine.tensor({ dtype: "u8", shape: [...shape, obsDim], label: "bench.term" }),
    actions: engine.tensor({ dtype: "u32", shape, label: "bench.actions" }),
    rewards: engine.tensor({ dtype: "f32", shape, label: "bench.rewards" }),
    terminated: engine.tensor({ dtype: "u32", shape: [numEnvs], label: "bench.terminated" }),
    truncated: engine.tensor({ dtype: "u32", shape: [numEnvs], label: "bench.truncated" }),
  };
  const insert = await replay.bindInsert(env);
  const per = await createPerSampler(engine, {
    tree: replay.tree!,
    batch: 32,
    beta: 0.4,
    seed: 1,
    label: "bench.per",
  });
  const batch = replay.bindGather(per.indices, 32);
  const td = engine.tensor({
    dtype: "f32",
    shape: [numAgents, 32],
    label: "bench.td",
    data: Float32Array.from({ length: numAgents * 32 }, () => rng.unit()),
  });
  const update = await replay.tree!.bindPriorityUpdate(per.indices, td, {
    batch: 32,
    alpha: 0.6,
    eps: 1e-6,
  });
  const warm = engine.encoder();
  for (let i = 0; i < 4; i++) insert.encode(warm);
  engine.submit(warm);
  await settle(engine);
  Deno.bench({
    name: `pursuit replay: ${ITER} × (4 inserts of 8 envs + PER sample 8×32 + gather + update)`,
    group: "replay-iteration",
    async fn(b) {
      b.start();
      const enc = engine.encoder();
      for (let i = 0; i < ITER; i++) {
        for (let f = 0; f < 4; f++) insert.encode(enc);
        per.sample(enc);
        batch.encode(enc);
        update.encode(enc);
      }
      engine.submit(enc);
      await settle(engine);
      b.end();
    },
  });
}

const sizes = [1e4, 1e5, 1e6, ...(Deno.env.get("BENCH_LARGE") ? [1e7] : [])];
const B = 4096, CALLS = 20;
for (const N of sizes) {
  const tree = createSumTree(engine, { numRings: 1, capacity: N, label: `bench.tree${N}` });
  const leaves = new Float32Array(tree.leafCount);
  for (let i = 0; i < N; i++) leaves[i] = Math.fround(Math.pow(rng.unit() + 1e-3, 0.6));
  const ref = buildTreesReference(leaves, EMPTY_MIN);
  engine.write(tree.sum, ref.sum);
  engine.write(tree.minTree, ref.min);
  const per = await createPerSampler(engine, {
    tree,
    batch: B,
    beta: 0.4,
    seed: 2,
    label: "bench.per",
  });
  const counters = engine.tensor({
    dtype: "u32",
    shape: [1, 4],
    label: "bench.fill",
    data: [N, 0, 0, 0],
  });
  const uni = await createUniformSampler(engine, {
    counters,
    stride: 4,
    fillField: 0,
    windowField: 1,
    numRings: 1,
    batch: B,
    seed: 3,
    label: "bench.uni",
  });
  for (const [kind, s] of [["PER", per], ["uniform", uni]] as const) {
    Deno.bench({
      name: `${kind} sample N=${N.toExponential(0)}: ${CALLS} × ${B} items`,
      group: `sample-${kind}`,
      async fn(b) {
        b.start();
        const enc = engine.encoder();
        for (let i = 0; i < CALLS; i++) s.sample(enc);
        engine.submit(enc);
        await settle(engine);
        b.end();
      },
    });
  }
}
