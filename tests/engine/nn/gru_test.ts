import { createGru, createGruStep, gruParamCount } from "../../../engine/nn/gru.ts";
import { gruBackwardReference, gruForwardReference } from "../../../engine/nn/gru_reference.ts";
import { createNet } from "../../../engine/nn/net.ts";
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

/** A 0/1 reset mask [numAgents, steps, batch] with ~30% resets plus one at t = 0 and one later. */
function resetMask(seed: number, numAgents: number, steps: number, batch: number): Uint32Array {
  const r = seeded(seed);
  const m = r.u32(numAgents * steps * batch, 10).map((v) => (v < 3 ? 1 : 0));
  m[0] = 1; // agent 0, t = 0, row 0: h0 never reaches this row
  m[((numAgents - 1) * steps + 2) * batch + 1] = 1; // last agent, t = 2, row 1
  return m;
}

const SIZES = { steps: 4, batch: 3, inDim: 5, hidden: 7 };

for (const numAgents of AGENT_COUNTS) {
  for (const maskType of ["u32", "f32"] as const) {
    gpuTest(
      `gru forward and backward match CPU reference (${numAgents} agents, ${maskType} resets)`,
      async (engine) => {
        const { steps, batch, inDim, hidden } = SIZES, offset = 3;
        const stride = offset + gruParamCount(inDim, hidden) + 2;
        const r = seeded(11 + numAgents);
        const x = r.f32(numAgents * steps * batch * inDim);
        const w = r.f32(numAgents * stride, -0.6, 0.6);
        const h0 = r.f32(numAgents * batch * hidden);
        const dy = r.f32(numAgents * steps * batch * hidden);
        const dhLast = r.f32(numAgents * batch * hidden);
        const reset = resetMask(5 + numAgents, numAgents, steps, batch);
        const net = createNet(engine, { numAgents, stride, label: "t.net", init: w });
        const xShape = [numAgents, steps, batch, inDim];
        const xT = engine.tensor({ dtype: "f32", shape: xShape, label: "t.x", data: x });
        const dxT = engine.tensor({ dtype: "f32", shape: xShape, label: "t.dx" });
        const stateShape = [numAgents, batch, hidden];
        const h0T = engine.tensor({ dtype: "f32", shape: stateShape, label: "t.h0", data: h0 });
        const maskT = engine.tensor({
          dtype: maskType,
          shape: [numAgents, steps, batch],
          label: "t.reset",
          // f32 masks: −0.0 means "not set" (its bits are non-zero, its value is not).
          data: maskType === "f32" ? Float32Array.from(reset, (v) => (v ? 1 : -0)) : reset,
        });
        const gru = await createGru(engine, {
          net,
          offset,
          x: xT,
          dx: dxT,
          h0: h0T,
          resetMask: maskT,
          ...SIZES,
          label: "t.gru",
        });
        engine.write(gru.dy, dy);
        engine.write(gru.dhLast, dhLast);
        const enc = engine.encoder();
        gru.forward(enc);
        gru.backward(enc);
        engine.submit(enc);
        const [hs, hLast, dx, dw, dh0] = await readTensors(
          engine,
          [gru.hs, gru.hLast, dxT, net.grads, gru.dh0] as const,
        );
        const args = { numAgents, ...SIZES, stride, offset, x, w, h0, reset };
        const fwd = gruForwardReference(args);
        assertAllClose(hs, fwd.hs, { atol: 1e-5, rtol: 1e-4 }, "hs");
        assertAllClose(hLast, fwd.hLast, { atol: 1e-5, rtol: 1e-4 }, "hLast");
        const ref = gruBackwardReference({ ...args, dy, dhLast });
        assertAllClose(dx, ref.dx, { atol: 1e-5, rtol: 1e-4 }, "dx");
        assertAllClose(dh0, ref.dh0, { atol: 1e-5, rtol: 1e-4 }, "dh0");
        // Weight grads sum steps·batch = 12 terms per agent.
        assertAllClose(dw, ref.dw, { atol: 1e-4, rtol: 1e-4 }, "dw");
        assertExact(
          dh0.subarray(0, hidden),
          new Float32Array(hidden),
          "dh0 of a row reset at t = 0",
        );
      },
    );
  }
}

gpuTest(
  "gru without h0 or resets starts from zeros and accumulates weight grads",
  async (engine) => {
    const numAgents = 3, { steps, batch, inDim, hidden } = SIZES;
    const stride = gruParamCount(inDim, hidden);
    const r = seeded(21);
    const x = r.f32(numAgents * steps * batch * inDim);
    const w = r.f32(numAgents * stride, -0.6, 0.6);
    const dy = r.f32(numAgents * steps * batch * hidden);
    const g0 = r.f32(numAgents * stride);
    const net = createNet(engine, { numAgents, stride, label: "t.net", init: w });
    engine.write(net.grads, g0);
    const xT = engine.tensor({
      dtype: "f32",
      shape: [numAgents, steps, batch, inDim],
      label: "t.x",
      data: x,
    });
    const gru = await createGru(engine, {
      net,
      offset: 0,
      x: xT,
      ...SIZES,
      label: "t.gru",
      accumulate: true,
    });
    engine.write(gru.dy, dy);
    const enc = engine.encoder();
    gru.forward(enc);
    gru.backward(enc);
    engine.submit(enc);
    const [hs, dw] = await readTensors(engine, [gru.hs, net.grads] as const);
    const args = { numAgents, ...SIZES, stride, offset: 0, x, w };
    assertAllClose(hs, gruForwardReference(args).hs, { atol: 1e-5, rtol: 1e-4 }, "hs");
    const ref = gruBackwardReference({ ...args, dy });
    const want = ref.dw.map((v, i) => v + g0[i]);
    assertAllClose(dw, want, { atol: 1e-4, rtol: 1e-4 }, "dw");
  },
);

gpuTest("gru single step equals the sequence forward's first steps", async (engine) => {
  const numAgents = 3, { steps, batch, inDim, hidden } = SIZES, offset = 1;
  const stride = offset + gruParamCount(inDim, hidden);
  const r = seeded(31);
  const x = r.f32(numAgents * steps * batch * inDim);
  const w = r.f32(numAgents * stride, -0.6, 0.6);
  const h0 = r.f32(numAgents * batch * hidden);
  const reset = Float32Array.from(resetMask(3, numAgents, steps, batch));
  const net = createNet(engine, { numAgents, stride, label: "t.net", init: w });
  const xT = engine.tensor({
    dtype: "f32",
    shape: [numAgents, steps, batch, inDim],
    label: "t.x",
    data: x,
  });
  const h0T = engine.tensor({
    dtype: "f32",
    shape: [numAgents, batch, hidden],
    label: "t.h0",
    data: h0,
  });
  const maskT = engine.tensor({
    dtype: "f32",
    shape: [numAgents, steps, batch],
    label: "t.reset",
    data: reset,
  });
  const gru = await createGru(engine, {
    net,
    offset,
    x: xT,
    h0: h0T,
    resetMask: maskT,
    ...SIZES,
    label: "t.gru",
  });
  // Acting state: starts at h0; inputs and masks of step t are sliced out of the sequence.
  const hT = engine.tensor({
    dtype: "f32",
    shape: [numAgents, batch, hidden],
    label: "t.h",
    data: h0,
  });
  const xStep = engine.tensor({ dtype: "f32", shape: [numAgents, batch, inDim], label: "t.xs" });
  const mStep = engine.tensor({ dtype: "f32", shape: [numAgents, batch], label: "t.ms" });
  const step = await createGruStep(engine, {
    net,
    offset,
    x: xStep,
    h: hT,
    resetMask: mStep,
    batch,
    inDim,
    hidden,
    label: "t.step",
  });
  const slice = (src: Float32Array, t: number, width: number) => {
    const out = new Float32Array(numAgents * batch * width);
    for (let a = 0; a < numAgents; a++) {
      const from = ((a * steps + t) * batch) * width;
      out.set(src.subarray(from, from + batch * width), a * batch * width);
    }
    return out;
  };
  const enc = engine.encoder();
  gru.forward(enc);
  engine.submit(enc);
  const [hs] = await readTensors(engine, [gru.hs] as const);
  for (let t = 0; t < 2; t++) {
    engine.write(xStep, slice(x, t, inDim));
    engine.write(mStep, slice(reset, t, 1));
    const e = engine.encoder();
    step.forward(e);
    step.commit(e);
    engine.submit(e);
    const [hNext, h] = await readTensors(engine, [step.hNext, hT] as const);
    // Same operations in the same order (bit-identical on llvmpipe); the tolerance only
    // allows for a compiler contracting multiply-adds differently in the two kernels.
    assertAllClose(hNext, slice(hs, t, hidden), { atol: 1e-6, rtol: 1e-6 }, `step ${t}`);
    assertExact(h, hNext, `state after commit at step ${t}`);
  }
});

gpuTest("createGru() rejects mismatched shapes, dtypes and offsets", async (engine) => {
  const { steps, batch, inDim, hidden } = SIZES;
  const net = createNet(engine, { numAgents: 2, stride: gruParamCount(inDim, hidden), label: "n" });
  const x = engine.tensor({ dtype: "f32", shape: [2, steps, batch, inDim], label: "x" });
  const bad = async (o: Record<string, unknown>, type: ErrorConstructor, re: RegExp) => {
    try {
      await createGru(engine, { net, offset: 0, x, ...SIZES, label: "t.gru", ...o });
    } catch (e) {
      if (!(e instanceof type) || !re.test((e as Error).message)) throw e;
      return;
    }
    throw new Error(`createGru accepted ${JSON.stringify(Object.keys(o))}`);
  };
  await bad(
    { x: engine.tensor({ dtype: "f32", shape: [2, steps, batch], label: "x2" }) },
    TypeError,
    /x is f32/,
  );
  await bad({ offset: 1 }, RangeError, /overrun/);
  await bad(
    { resetMask: engine.tensor({ dtype: "i32", shape: [2, steps, batch], label: "m" }) },
    TypeError,
    /resetMask is i32/,
  );
  await bad({ steps: 0 }, RangeError, /steps is 0/);
});

Deno.test("gruBackwardReference() matches finite differences in float64 through resets and h0", () => {
  const numAgents = 2, steps = 4, batch = 3, inDim = 3, hidden = 4, offset = 2;
  const stride = offset + gruParamCount(inDim, hidden) + 3;
  const r = seeded(41);
  const x = Float64Array.from(r.f32(numAgents * steps * batch * inDim));
  const w = Float64Array.from(r.f32(numAgents * stride));
  const h0 = Float64Array.from(r.f32(numAgents * batch * hidden));
  const dy = Float64Array.from(r.f32(numAgents * steps * batch * hidden));
  const dhLast = Float64Array.from(r.f32(numAgents * batch * hidden));
  const reset = new Uint32Array(numAgents * steps * batch);
  const at = (a: number, t: number, b: number) => (a * steps + t) * batch + b;
  reset[at(0, 0, 0)] = 1;
  reset[at(0, 2, 1)] = 1;
  reset[at(1, 1, 2)] = 1;
  reset[at(1, 3, 0)] = 1;
  const base = { numAgents, steps, batch, inDim, hidden, stride, offset, reset };
  const loss = (xx: Float64Array, ww: Float64Array, hh: Float64Array) => {
    const f = gruForwardReference({ ...base, x: xx, w: ww, h0: hh });
    return dot(f.hs, dy) + dot(f.hLast, dhLast);
  };
  const ref = gruBackwardReference({ ...base, x, w, h0, dy, dhLast });
  const tol = { atol: 1e-7, rtol: 1e-6 };
  assertAllClose(ref.dx, finiteDiff((v) => loss(v, w, h0), x), tol, "dx");
  assertAllClose(ref.dw, finiteDiff((v) => loss(x, v, h0), w), tol, "dw");
  assertAllClose(ref.dh0, finiteDiff((v) => loss(x, w, v), h0), tol, "dh0");
  // The reset at t = 0 cuts h0 of (agent 0, row 0) off entirely; other rows do see h0.
  assertExact(ref.dh0.subarray(0, hidden), new Float64Array(hidden), "dh0 of a reset row");
  if (ref.dh0.subarray(hidden).every((v) => v === 0)) throw new Error("dh0 is all zero");
});
