import { createCompact, createGather } from "../../../engine/ops/compact.ts";
import { readTensors } from "../../../engine/readback.ts";
import { AGENT_COUNTS, assertExact, gpuTest, seeded } from "../../_testing.ts";

/** Reference compaction from the definition: stable partition, counts and indirect args. */
function compactReference(flags: ArrayLike<number>, numSegments: number, n: number, group: number) {
  const indices: number[] = [], counts: number[] = [], args: number[] = [];
  for (let s = 0; s < numSegments; s++) {
    const rows = Array.from({ length: n }, (_, i) => i);
    const kept = rows.filter((i) => flags[s * n + i] === 1);
    indices.push(...kept, ...rows.filter((i) => flags[s * n + i] !== 1));
    counts.push(kept.length);
    args.push(Math.ceil(kept.length / group), 1, 1);
  }
  const total = counts.reduce((a, b) => a + b, 0);
  args.push(Math.ceil(total / group), 1, 1, Math.ceil(Math.max(...counts) / group), numSegments, 1);
  return { indices, counts, total, args };
}

/** Flags with a different keep rate per segment; segment 1 keeps nothing, segment 2 everything. */
function makeFlags(numSegments: number, n: number, seed: number): Uint32Array {
  const r = seeded(seed);
  const flags = new Uint32Array(numSegments * n);
  for (let s = 0; s < numSegments; s++) {
    const rate = s === 1 ? 0 : s === 2 ? 1 : (s + 1) / (numSegments + 2);
    for (let i = 0; i < n; i++) flags[s * n + i] = r.rng.unit() < rate ? 1 : 0;
  }
  return flags;
}

for (const numSegments of AGENT_COUNTS) {
  gpuTest(
    `createCompact() partitions rows and counts them like the reference (${numSegments} segments)`,
    async (engine) => {
      for (const n of [1, 63, 1000, 70001]) {
        const flags = makeFlags(numSegments, n, n + numSegments);
        const shape = [numSegments, n];
        const flagsT = engine.tensor({ dtype: "u32", shape, label: "t.flags", data: flags });
        const values = Float32Array.from({ length: numSegments * n }, (_, i) => i * 0.5 + 1);
        const valuesT = engine.tensor({ dtype: "f32", shape, label: "t.values", data: values });
        const gathered = engine.tensor({ dtype: "f32", shape, label: "t.gathered" });
        const c = await createCompact(engine, {
          flags: flagsT,
          numSegments,
          n,
          label: "t.compact",
        });
        const g = await createGather(engine, {
          compact: c,
          values: valuesT,
          gathered,
          label: "t.gather",
        });
        const enc = engine.encoder();
        c.encode(enc);
        g.encode(enc);
        engine.submit(enc);
        const [indices, counts, total, args, got] = await readTensors(
          engine,
          [c.indices, c.counts, c.total, c.args, gathered] as const,
        );
        const want = compactReference(flags, numSegments, n, 64);
        assertExact(counts, want.counts, `counts n=${n}`);
        assertExact(total, [want.total], `total n=${n}`);
        assertExact(args, want.args, `args n=${n}`);
        assertExact(indices, want.indices, `indices n=${n}`);
        // The indirect gather wrote exactly the kept rows' values and nothing past counts[s].
        const wantGathered = new Float32Array(numSegments * n);
        for (let s = 0; s < numSegments; s++) {
          for (let j = 0; j < want.counts[s]; j++) {
            wantGathered[s * n + j] = values[s * n + want.indices[s * n + j]];
          }
        }
        assertExact(got, wantGathered, `gathered n=${n}`);
      }
    },
  );
}

gpuTest("createCompact() args count workgroups of the requested size", async (engine) => {
  const numSegments = 3, n = 1000, group = 32;
  const flags = makeFlags(numSegments, n, 9);
  const flagsT = engine.tensor({
    dtype: "u32",
    shape: [numSegments, n],
    label: "t.flags",
    data: flags,
  });
  const c = await createCompact(engine, {
    flags: flagsT,
    numSegments,
    n,
    group,
    label: "t.compact",
  });
  const enc = engine.encoder();
  c.encode(enc);
  engine.submit(enc);
  const [args] = await readTensors(engine, [c.args] as const);
  assertExact(args, compactReference(flags, numSegments, n, group).args, "args");
  assertExact([c.segmentArgs(2), c.totalArgs, c.gridArgs], [6, 9, 12], "arg offsets");
  let msg = "";
  const gathered = engine.tensor({ dtype: "u32", shape: [numSegments, n], label: "t.g" });
  try {
    await createGather(engine, { compact: c, values: flagsT, gathered, label: "t.gather" });
  } catch (e) {
    msg = (e as Error).message;
  }
  if (!msg.includes("gather needs 64")) throw new Error(`unexpected error "${msg}"`);
});
