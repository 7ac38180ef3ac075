import { COUNTER, createReplay, memoryReport, type Replay } from "../../../engine/replay/buffer.ts";
import { ReplayReference, type StepData } from "../../../engine/replay/reference.ts";
import { buildTreesReference } from "../../../engine/replay/sampling_reference.ts";
import {
  createPerSampler,
  createUniformSampler,
  EMPTY_MIN,
} from "../../../engine/replay/sampling.ts";
import { readTensors } from "../../../engine/readback.ts";
import { AGENT_COUNTS, assertAllClose, assertExact, gpuTest, seeded } from "../../_testing.ts";
import type { Engine } from "../../../engine/device.ts";

interface Case {
  /** Inserts per relay (SUPER fragment). */
  relayFragment?: number;
  /** Store done = terminated only (truncated rows bootstrap). */
  bootstrapOnTruncation?: boolean;
  numAgents: number;
  numEnvs: number;
  capacity: number;
  obsDim: number;
  obsDType: "u8" | "f32";
  shared?: boolean;
  prioritized?: boolean;
  crossInsert?: boolean;
  /** Rings per chunk to force (small bindings); default one chunk. */
  ringsPerChunk?: number;
  steps: number;
  seed: number;
}

/** Env-side tensors an insert reads, rewritten from the host each step. */
function envTensors(engine: Engine, c: Case) {
  const shape = [c.numAgents, c.numEnvs];
  return {
    obs: engine.tensor({ dtype: c.obsDType, shape: [...shape, c.obsDim], label: "t.env.obs" }),
    terminalObs: engine.tensor({
      dtype: c.obsDType,
      shape: [...shape, c.obsDim],
      label: "t.env.term",
    }),
    actions: engine.tensor({ dtype: "u32", shape, label: "t.env.actions" }),
    rewards: engine.tensor({ dtype: "f32", shape, label: "t.env.rewards" }),
    terminated: engine.tensor({ dtype: "u32", shape: [c.numEnvs], label: "t.env.term" }),
    truncated: engine.tensor({ dtype: "u32", shape: [c.numEnvs], label: "t.env.trunc" }),
  };
}

function randomStep(r: ReturnType<typeof seeded>, c: Case): StepData {
  const n = c.numAgents * c.numEnvs * c.obsDim;
  const obsOf = () => c.obsDType === "u8" ? Array.from(r.u32(n, 256)) : Array.from(r.f32(n, -4, 4));
  // About 1 in 5 rows terminates and 1 in 5 truncates (some both).
  const terminated = Array.from(r.u32(c.numEnvs, 5), (x) => (x === 0 ? 1 : 0));
  const truncated = Array.from(r.u32(c.numEnvs, 5), (x) => (x === 0 ? 1 : 0));
  return {
    obs: obsOf(),
    terminalObs: obsOf(),
    actions: Array.from(r.u32(c.numAgents * c.numEnvs, 5)),
    rewards: Array.from(r.f32(c.numAgents * c.numEnvs, -1, 1)),
    terminated,
    truncated,
  };
}

function writeStep(engine: Engine, env: ReturnType<typeof envTensors>, s: StepData): void {
  engine.write(env.obs, s.obs);
  engine.write(env.terminalObs, s.terminalObs);
  engine.write(env.actions, s.actions);
  engine.write(env.rewards, s.rewards);
  engine.write(env.terminated, s.terminated);
  engine.write(env.truncated, s.truncated);
}

/** Random compacted selection: per agent an ordered subset of its F·numEnvs fragment rows. */
function randomSelection(r: ReturnType<typeof seeded>, c: Case) {
  const n = (c.relayFragment ?? 1) * c.numEnvs;
  const indices = new Uint32Array(c.numAgents * n), counts = new Uint32Array(c.numAgents);
  for (let a = 0; a < c.numAgents; a++) {
    const keep = r.u32(n, 2);
    for (let j = 0; j < n; j++) if (keep[j]) indices[a * n + counts[a]++] = j;
  }
  return { indices, counts };
}

/** Gathers every slot of every ring and compares with the reference where complete. */
async function compareAll(engine: Engine, c: Case, replay: Replay, ref: ReplayReference) {
  const R = ref.rings.length, C = c.capacity;
  const idx = engine.tensor({
    dtype: "u32",
    shape: [R, C],
    label: "t.idx",
    data: Uint32Array.from({ length: R * C }, (_, i) => i % C),
  });
  const batch = replay.bindGather(idx, C);
  const enc = engine.encoder();
  batch.encode(enc);
  engine.submit(enc);
  const [obs, next, action, reward, done, counters] = await readTensors(
    engine,
    [
      batch.obs,
      batch.nextObs,
      batch.action,
      batch.reward,
      batch.done,
      replay.counters,
    ] as const,
  );
  let compared = 0;
  for (let r = 0; r < R; r++) {
    const ring = ref.rings[r];
    const cs = counters.subarray(r * COUNTER.stride, (r + 1) * COUNTER.stride);
    assertExact([cs[COUNTER.ptr], cs[COUNTER.fill]], [ring.ptr, ring.fill], `counters ${r}`);
    for (const s of ref.validSlots(r)) {
      const t = ring.slots[s]!;
      const i = r * C + s, D = c.obsDim;
      assertExact(
        obs.subarray(i * D, (i + 1) * D),
        Float32Array.from(t.obs),
        `obs ring ${r} slot ${s}`,
      );
      assertExact(
        next.subarray(i * D, (i + 1) * D),
        Float32Array.from(t.nextObs),
        `next ring ${r} slot ${s}`,
      );
      assertExact(
        [action[i], reward[i], done[i]],
        [t.action, Math.fround(t.reward), t.done],
        `meta ${r}/${s}`,
      );
      compared++;
    }
  }
  if (compared < R * (C - 2 * ref.rings[0].pending.length)) {
    throw new Error(`only ${compared} slots compared; the rings should be full`);
  }
  if (replay.tree) {
    const L = replay.tree.leafCount;
    const [sum, min] = await readTensors(engine, [replay.tree.sum, replay.tree.minTree] as const);
    for (let r = 0; r < R; r++) {
      const want = new Float32Array(L);
      want.set(ref.rings[r].leaves);
      const tree = buildTreesReference(want, EMPTY_MIN);
      assertExact(
        sum.subarray(r * 2 * L + 1, (r + 1) * 2 * L),
        tree.sum.subarray(1),
        `tree sum ${r}`,
      );
      assertExact(
        min.subarray(r * 2 * L + 1, (r + 1) * 2 * L),
        tree.min.subarray(1),
        `tree min ${r}`,
      );
    }
  }
}

async function runCase(engine: Engine, c: Case): Promise<void> {
  const words = c.obsDType === "u8" ? Math.ceil(c.obsDim / 4) : c.obsDim;
  const replay = await createReplay(engine, {
    ...c,
    label: "t.replay",
    maxBindingBytes: c.ringsPerChunk ? c.ringsPerChunk * c.capacity * words * 4 : undefined,
  });
  if (c.ringsPerChunk && c.numAgents > c.ringsPerChunk && replay.layout.chunks.length < 2) {
    throw new Error("expected several chunks");
  }
  const ref = new ReplayReference(c);
  const env = envTensors(engine, c);
  const alpha = 0.6, arrival = 0.5;
  const leaf = Math.fround(Math.pow(arrival, alpha));
  const truncationIsTerminal = !c.bootstrapOnTruncation;
  const insert = await replay.bindInsert(env, {
    arrivalPriority: arrival,
    alpha,
    truncationIsTerminal,
  });
  const selT = {
    indices: engine.tensor({
      dtype: "u32",
      shape: [c.numAgents, (c.relayFragment ?? 1) * c.numEnvs],
      label: "t.sel",
    }),
    counts: engine.tensor({ dtype: "u32", shape: [c.numAgents], label: "t.count" }),
  };
  const cross = c.crossInsert
    ? await replay.bindCrossInsert(selT, { arrivalPriority: 2, alpha })
    : null;
  const crossLeaf = Math.fround(Math.pow(2, alpha));
  const r = seeded(c.seed);
  for (let t = 0; t < c.steps; t++) {
    const s = randomStep(r, c);
    writeStep(engine, env, s);
    ref.insert(s, leaf, truncationIsTerminal);
    const enc = engine.encoder();
    insert.encode(enc);
    const F = c.relayFragment ?? 1;
    if (cross && t >= F && t % F === 0) {
      const sel = randomSelection(r, c);
      engine.write(selT.indices, sel.indices);
      engine.write(selT.counts, sel.counts);
      ref.crossInsert(sel.indices, sel.counts, crossLeaf, F);
      cross.encode(enc);
    }
    engine.submit(enc);
  }
  await compareAll(engine, c, replay, ref);
}

for (const numAgents of AGENT_COUNTS) {
  gpuTest(
    `createReplay() insert and gather match the reference after wrap-around (u8, PER, ${numAgents} agents)`,
    (engine) =>
      runCase(engine, {
        numAgents,
        numEnvs: 3,
        capacity: 23,
        obsDim: 7,
        obsDType: "u8",
        prioritized: true,
        ringsPerChunk: 2,
        steps: 17,
        seed: 40 + numAgents,
      }),
  );
}

// Cross-agent insertion needs at least two agents.
for (const [numAgents, relayFragment] of [[2, 3], [3, 1], [8, 2]]) {
  gpuTest(
    `createReplay() cross-agent insertion matches the reference (${numAgents} agents, fragment ${relayFragment})`,
    (engine) =>
      runCase(engine, {
        numAgents,
        numEnvs: 4,
        capacity: 8 + (numAgents - 1) * relayFragment * 4 + 5,
        obsDim: 5,
        obsDType: "u8",
        prioritized: true,
        crossInsert: true,
        relayFragment,
        ringsPerChunk: 3,
        steps: 13,
        seed: 50 + numAgents,
      }),
  );
}

gpuTest(
  "createReplay() stores f32 observations exactly (no PER, bootstrap on truncation)",
  (engine) =>
    runCase(engine, {
      numAgents: 3,
      numEnvs: 2,
      capacity: 13,
      obsDim: 6,
      obsDType: "f32",
      bootstrapOnTruncation: true,
      steps: 11,
      seed: 60,
    }),
);

gpuTest(
  "createReplay() shared mode keeps all agents' rows in one ring",
  (engine) =>
    runCase(engine, {
      numAgents: 3,
      numEnvs: 2,
      capacity: 29,
      obsDim: 9,
      obsDType: "u8",
      shared: true,
      prioritized: true,
      steps: 9,
      seed: 61,
    }),
);

gpuTest(
  "replay insert, sample, gather and priority update loop performs no reads",
  async (engine) => {
    const c: Case = {
      numAgents: 3,
      numEnvs: 4,
      capacity: 40,
      obsDim: 10,
      obsDType: "u8",
      prioritized: true,
      crossInsert: true,
      steps: 0,
      seed: 1,
    };
    const replay = await createReplay(engine, { ...c, label: "t.replay" });
    const env = envTensors(engine, c);
    const batch = 6;
    const per = await createPerSampler(engine, {
      tree: replay.tree!,
      batch,
      beta: 0.4,
      seed: 2,
      label: "t.per",
    });
    const uni = await createUniformSampler(engine, {
      ...replay.fillLayout,
      numRings: c.numAgents,
      batch,
      seed: 3,
      label: "t.uniform",
    });
    const gatherPer = replay.bindGather(per.indices, batch);
    const gatherUni = replay.bindGather(uni.indices, batch);
    const td = engine.tensor({
      dtype: "f32",
      shape: [c.numAgents, batch],
      label: "t.td",
      data: seeded(4).f32(c.numAgents * batch),
    });
    const update = await replay.tree!.bindPriorityUpdate(per.indices, td, {
      batch,
      alpha: 0.6,
      eps: 1e-6,
    });
    const sel = {
      indices: engine.tensor({
        dtype: "u32",
        shape: [c.numAgents, c.numEnvs],
        label: "t.sel",
        data: Uint32Array.from({ length: 12 }, (_, i) => i % 4),
      }),
      counts: engine.tensor({
        dtype: "u32",
        shape: [c.numAgents],
        label: "t.count",
        data: [1, 0, 2],
      }),
    };
    const insert = await replay.bindInsert(env);
    const cross = await replay.bindCrossInsert(sel);
    writeStep(engine, env, randomStep(seeded(5), c));
    const reads = engine.stats.reads;
    for (let t = 0; t < 40; t++) {
      const enc = engine.encoder();
      insert.encode(enc);
      if (t > 0) cross.encode(enc);
      if (t > 3) {
        per.sample(enc);
        gatherPer.encode(enc);
        update.encode(enc);
        uni.sample(enc);
        gatherUni.encode(enc);
      }
      engine.submit(enc);
    }
    assertExact([engine.stats.reads], [reads], "reads during the loop");
    const [counters, perIdx, uniIdx, perW] = await readTensors(
      engine,
      [
        replay.counters,
        per.indices,
        uni.indices,
        per.weights!,
      ] as const,
    );
    for (let a = 0; a < c.numAgents; a++) {
      const cs = counters.subarray(a * COUNTER.stride);
      assertExact([cs[COUNTER.fill]], [c.capacity], `fill ${a}`);
      const pending = new Set(
        Array.from(
          { length: cs[COUNTER.pendingCount] },
          (_, j) => (cs[COUNTER.pendingStart] + j) % c.capacity,
        ),
      );
      for (let b = 0; b < batch; b++) {
        for (const s of [perIdx[a * batch + b], uniIdx[a * batch + b]]) {
          if (s >= c.capacity || pending.has(s)) {
            throw new Error(`sampled slot ${s} is pending or out of range`);
          }
        }
      }
    }
    assertAllClose([Math.max(...perW)], [1], { atol: 1, rtol: 0 }, "weights in (0, 1]");
    if (!(Math.min(...perW) > 0)) {
      throw new Error(`PER weights ${perW} must be > 0`);
    }
  },
);

Deno.test("memoryReport() fits the LBS Pursuit configuration in bindings of 128 MiB", () => {
  const MiB = 1024 * 1024;
  for (const crossInsert of [false, true]) {
    const plan = memoryReport({
      numAgents: 8,
      numEnvs: 8,
      capacity: 120_000,
      obsDim: 147,
      obsDType: "u8",
      prioritized: true,
      crossInsert,
      batch: 32,
    });
    if (!(plan.totalBytes < 400 * MiB)) throw new Error(`total ${plan.totalBytes} bytes`);
    if (!(plan.largestBindingBytes <= 128 * MiB)) {
      throw new Error(`binding ${plan.largestBindingBytes}`);
    }
    assertExact([plan.words, plan.leafCount, plan.chunks.length], [37, 131072, 2], "layout");
    const obsBytes = plan.buffers.filter((b) => b.label.startsWith("obs.")).reduce(
      (s, b) => s + b.bytes,
      0,
    );
    assertExact([obsBytes], [8 * 120_000 * 37 * 4], "obs bytes");
  }
});

Deno.test("memoryReport() rejects a capacity below two inserts plus relayed rows", () => {
  let msg = "";
  try {
    memoryReport({
      numAgents: 4,
      numEnvs: 8,
      capacity: 30,
      obsDim: 3,
      obsDType: "f32",
      crossInsert: true,
    });
  } catch (e) {
    msg = (e as Error).message;
  }
  if (!msg.includes("capacity 30")) throw new Error(`expected a RangeError, got "${msg}"`);
});
