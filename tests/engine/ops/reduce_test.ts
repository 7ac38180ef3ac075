import { createReduce, createWindowMoments, type ReduceOp } from "../../../engine/ops/reduce.ts";
import { reduceReference, windowMomentsReference } from "../../../engine/ops/reduce_reference.ts";
import { readTensors } from "../../../engine/readback.ts";
import type { Engine } from "../../../engine/device.ts";
import { AGENT_COUNTS, assertAllClose, assertExact, gpuTest, seeded } from "../../_testing.ts";

const OPS: ReduceOp[] = ["sum", "mean", "max", "argmax", "l2norm"];

/** Runs every op on x [numSegments, n] in one submit; returns { op: [out, index] }. */
async function runAll(engine: Engine, x: Float32Array, numSegments: number, n: number) {
  const xT = engine.tensor({ dtype: "f32", shape: [numSegments, n], label: "t.x", data: x });
  const reds = await Promise.all(
    OPS.map((op) => createReduce(engine, { x: xT, numSegments, n, op, label: `t.${op}` })),
  );
  const enc = engine.encoder();
  for (const r of reds) r.encode(enc);
  engine.submit(enc);
  const outs = await readTensors(
    engine,
    reds.flatMap((r) => (r.index ? [r.out, r.index] : [r.out])),
  );
  const got = new Map<ReduceOp, { out: Float32Array; index?: Uint32Array }>();
  let k = 0;
  for (const [i, op] of OPS.entries()) {
    const out = outs[k++] as Float32Array;
    got.set(op, { out, index: reds[i].index ? outs[k++] as Uint32Array : undefined });
  }
  return got;
}

/** Checks every op against the reference; sums within 1e-6 + 1e-6·Σ|x| per segment. */
function check(
  got: Awaited<ReturnType<typeof runAll>>,
  x: Float32Array,
  numSegments: number,
  n: number,
) {
  const absSum = reduceReference(x.map(Math.abs), { numSegments, n, op: "sum" }).out;
  for (const op of OPS) {
    const want = reduceReference(x, { numSegments, n, op });
    const g = got.get(op)!;
    const what = `${op} n=${n}`;
    if (op === "max" || op === "argmax") {
      assertExact(g.out, want.out, `${what} value`);
      assertExact(g.index!, want.index, `${what} index`);
    } else if (op === "l2norm") {
      assertAllClose(g.out, want.out, { atol: 1e-6, rtol: 1e-5 }, what);
    } else {
      const scale = op === "mean" ? 1 / n : 1;
      for (let s = 0; s < numSegments; s++) {
        assertAllClose([g.out[s]], [want.out[s]], {
          atol: 1e-6 + 1e-6 * absSum[s] * scale,
          rtol: 0,
        }, `${what} [${s}]`);
      }
    }
  }
}

for (const numSegments of AGENT_COUNTS) {
  gpuTest(
    `createReduce() matches the reference for every op (${numSegments} segments)`,
    async (engine) => {
      for (const n of [1, 63, 1000, 70001]) {
        const x = seeded(n + 10 * numSegments).f32(numSegments * n, -1, 1);
        check(await runAll(engine, x, numSegments, n), x, numSegments, n);
      }
    },
  );
}

gpuTest(
  "createReduce() breaks argmax ties to the lowest index and handles all-negative rows",
  async (engine) => {
    const numSegments = 3, n = 70001;
    const r = seeded(4);
    // Integers in [0, 10) repeat the max thousands of times; segment 1 is all negative; segment 2
    // holds its max only at the last position.
    const x = Float32Array.from(r.u32(numSegments * n, 10));
    for (let i = n; i < 2 * n; i++) x[i] = -1000 - x[i];
    for (let i = 2 * n; i < 3 * n; i++) x[i] = i === 3 * n - 1 ? 5 : -x[i];
    const got = await runAll(engine, x, numSegments, n);
    assertExact(
      got.get("argmax")!.index!,
      reduceReference(x, { numSegments, n, op: "argmax" }).index,
      "argmax",
    );
    assertExact(got.get("argmax")!.index!.slice(2), [n - 1], "lone max at the end");
  },
);

gpuTest("createReduce() reduces 10^6 elements per segment in two levels", async (engine) => {
  const numSegments = 2, n = 1_000_000;
  const x = seeded(77).f32(numSegments * n, -1, 1);
  check(await runAll(engine, x, numSegments, n), x, numSegments, n);
  const xT = engine.tensor({ dtype: "f32", shape: [numSegments, n], label: "t.x" });
  const red = await createReduce(engine, { x: xT, numSegments, n, op: "sum", label: "t.sum" });
  assertExact([red.dispatches], [2], "levels");
});

for (const numAgents of AGENT_COUNTS) {
  gpuTest(
    `createWindowMoments() matches the two-pass reference (${numAgents} agents)`,
    async (engine) => {
      const capacity = 1500;
      const counts = [1, 700, 4000, 0, 1500, 1499, 3, 2999].slice(0, numAgents);
      // Values with a large mean make a one-pass variance lose precision; two passes must not.
      const window = seeded(numAgents).f32(numAgents * capacity, 99, 101);
      const wT = engine.tensor({
        dtype: "f32",
        shape: [numAgents, capacity],
        label: "t.w",
        data: window,
      });
      const cT = engine.tensor({ dtype: "u32", shape: [numAgents], label: "t.c", data: counts });
      const wm = await createWindowMoments(engine, {
        window: wT,
        count: cT,
        numAgents,
        capacity,
        label: "t.wm",
      });
      const enc = engine.encoder();
      wm.encode(enc);
      engine.submit(enc);
      const [got] = await readTensors(engine, [wm.moments] as const);
      const want = windowMomentsReference(window, counts, numAgents, capacity);
      for (let a = 0; a < numAgents; a++) {
        assertAllClose([got[2 * a]], [want[2 * a]], { atol: 1e-6, rtol: 1e-6 }, `mean [${a}]`);
        assertAllClose(
          [got[2 * a + 1]],
          [want[2 * a + 1]],
          { atol: 1e-5, rtol: 1e-3 },
          `variance [${a}]`,
        );
      }
    },
  );
}
