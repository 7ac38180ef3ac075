import { createFlatten } from "../../../engine/nn/flatten.ts";
import {
  flattenBackwardReference,
  flattenForwardReference,
} from "../../../engine/nn/flatten_reference.ts";
import { readTensors } from "../../../engine/readback.ts";
import {
  AGENT_COUNTS,
  assertAllClose,
  assertExact,
  dot,
  finiteDiff,
  gpuTest,
  seeded,
} from "../../_testing.ts";

// Pursuit's conv output (4×4×64) shrunk in channels, plus odd sizes so nothing is square.
const SHAPES = [
  { height: 4, width: 4, channels: 5 },
  { height: 3, width: 7, channels: 2 },
] as const;

for (const numAgents of AGENT_COUNTS) {
  for (const s of SHAPES) {
    gpuTest(
      `createFlatten() permutes NHWC to channels-first and back exactly (${numAgents} agents, ${s.height}×${s.width}×${s.channels})`,
      async (engine) => {
        const batch = 13;
        const args = { numAgents, batch, ...s };
        const shape = [numAgents, batch, s.height, s.width, s.channels];
        const n = shape.reduce((a, b) => a * b, 1);
        const r = seeded(21 + numAgents);
        const x = r.f32(n), dyH = r.f32(n);
        const xT = engine.tensor({ dtype: "f32", shape, label: "t.x", data: x });
        const dxT = engine.tensor({ dtype: "f32", shape, label: "t.dx" });
        const flat = await createFlatten(engine, { x: xT, dx: dxT, ...args, label: "t.flat" });
        engine.write(flat.dy, dyH);
        const enc = engine.encoder();
        flat.forward(enc);
        flat.backward(enc);
        engine.submit(enc);
        const [y, dx] = await readTensors(engine, [flat.y, dxT] as const);
        assertExact(y, flattenForwardReference({ ...args, x }), "y");
        assertExact(dx, flattenBackwardReference({ ...args, dy: dyH }), "dx");
      },
    );
  }
}

Deno.test("flattenForwardReference() matches PyTorch's channels-first order on a 2×2×3 map", () => {
  // x[h, w, c] = 100h + 10w + c; torch: x.permute(2, 0, 1).flatten() = c-major, then h, then w.
  const x: number[] = [];
  for (let h = 0; h < 2; h++) {
    for (let w = 0; w < 2; w++) for (let c = 0; c < 3; c++) x.push(100 * h + 10 * w + c);
  }
  const y = flattenForwardReference({
    numAgents: 1,
    batch: 1,
    height: 2,
    width: 2,
    channels: 3,
    x,
  });
  assertExact(y, [0, 10, 100, 110, 1, 11, 101, 111, 2, 12, 102, 112], "y");
});

Deno.test("flattenBackwardReference() matches finite differences in float64", () => {
  const args = { numAgents: 2, batch: 2, height: 2, width: 3, channels: 2 };
  const n = 2 * 2 * 2 * 3 * 2;
  const r = seeded(5);
  const x = Float64Array.from(r.f32(n)), dy = Float64Array.from(r.f32(n));
  const loss = (xx: Float64Array) => dot(flattenForwardReference({ ...args, x: xx }), dy);
  assertAllClose(flattenBackwardReference({ ...args, dy }), finiteDiff(loss, x), {
    atol: 1e-6,
    rtol: 1e-5,
  }, "dx");
});

gpuTest("createFlatten() rejects an input whose size does not match", async (engine) => {
  const x = engine.tensor({ dtype: "f32", shape: [1, 2, 3, 3, 2], label: "t.x" });
  let msg = "";
  try {
    await createFlatten(engine, {
      x,
      numAgents: 1,
      batch: 2,
      height: 3,
      width: 3,
      channels: 3,
      label: "t.flat",
    });
  } catch (e) {
    msg = (e as Error).message;
  }
  if (!msg.includes('Cannot build "t.flat"')) throw new Error(`expected a TypeError, got "${msg}"`);
});
