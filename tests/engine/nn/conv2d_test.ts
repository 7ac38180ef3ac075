import { conv2dParamCount, createConv2d } from "../../../engine/nn/conv2d.ts";
import {
  conv2dBackwardReference,
  conv2dForwardReference,
} from "../../../engine/nn/conv2d_reference.ts";
import { linearForwardReference } from "../../../engine/nn/linear_reference.ts";
import { createNet } from "../../../engine/nn/net.ts";
import { readTensors } from "../../../engine/readback.ts";
import type { Activation } from "../../../engine/nn/linear.ts";
import { AGENT_COUNTS, assertAllClose, dot, finiteDiff, gpuTest, seeded } from "../../_testing.ts";

const ACTS: Activation[] = ["identity", "relu", "tanh"];

for (const numAgents of AGENT_COUNTS) {
  for (const activation of ACTS) {
    gpuTest(
      `conv2d forward and backward match CPU reference (${numAgents} agents, ${activation}, k 2 and 3)`,
      async (engine) => {
        // Ragged sizes: H ≠ W, neither a multiple of anything, and thread counts not multiples
        // of the workgroup size. Both layers share one net (k = 2 block, then k = 3 block, with
        // padding around them) so offsets and per-agent strides are exercised.
        const batch = 5, h = 7, w = 6, cin = 3, cout = 5;
        const off2 = 3, off3 = off2 + conv2dParamCount(cin, cout, 2) + 2;
        const stride = off3 + conv2dParamCount(cin, cout, 3) + 4;
        const r = seeded(11 + numAgents);
        const x = r.f32(numAgents * batch * h * w * cin);
        const weights = r.f32(numAgents * stride);
        const priorGrads = r.f32(numAgents * stride);
        const net = createNet(engine, { numAgents, stride, label: "t.net", init: weights });
        engine.write(net.grads, priorGrads);
        const shape = [numAgents, batch, h, w, cin];
        const xT = engine.tensor({ dtype: "f32", shape, label: "t.x", data: x });
        const dx2T = engine.tensor({ dtype: "f32", shape, label: "t.dx2" });
        const dx3T = engine.tensor({ dtype: "f32", shape, label: "t.dx3" });
        const common = { net, x: xT, batch, h, w, cin, cout, activation };
        // k = 2 overwrites its gradient slots; k = 3 adds into the prior values of its own.
        const c2 = await createConv2d(engine, {
          ...common,
          offset: off2,
          k: 2,
          dx: dx2T,
          label: "t.c2",
        });
        const c3 = await createConv2d(engine, {
          ...common,
          offset: off3,
          k: 3,
          dx: dx3T,
          label: "t.c3",
          accumulate: true,
        });
        const dy2 = r.f32(c2.dy.size), dy3 = r.f32(c3.dy.size);
        engine.write(c2.dy, dy2);
        engine.write(c3.dy, dy3);
        const enc = engine.encoder();
        c2.forward(enc);
        c3.forward(enc);
        c2.backward(enc);
        c3.backward(enc);
        engine.submit(enc);
        const [y2, y3, dx2, dx3, grads] = await readTensors(
          engine,
          [c2.y, c3.y, dx2T, dx3T, net.grads] as const,
        );
        const base = { numAgents, batch, h, w, cin, cout, stride, activation, x, weights };
        const a2 = { ...base, k: 2, offset: off2 }, a3 = { ...base, k: 3, offset: off3 };
        assertAllClose(y2, conv2dForwardReference(a2), { atol: 1e-5, rtol: 1e-4 }, "y k2");
        assertAllClose(y3, conv2dForwardReference(a3), { atol: 1e-5, rtol: 1e-4 }, "y k3");
        const g2 = conv2dBackwardReference({ ...a2, dy: dy2 });
        const g3 = conv2dBackwardReference({ ...a3, dy: dy3 });
        assertAllClose(dx2, g2.dx, { atol: 1e-5, rtol: 1e-4 }, "dx k2");
        assertAllClose(dx3, g3.dx, { atol: 1e-5, rtol: 1e-4 }, "dx k3");
        // Expected grads: k = 2 slots overwritten, k = 3 slots prior + gradient, the rest untouched.
        const want = Float64Array.from(priorGrads);
        const n2 = conv2dParamCount(cin, cout, 2), n3 = conv2dParamCount(cin, cout, 3);
        for (let a = 0; a < numAgents; a++) {
          for (let i = 0; i < n2; i++) want[a * stride + off2 + i] = g2.dw[a * stride + off2 + i];
          for (let i = 0; i < n3; i++) want[a * stride + off3 + i] += g3.dw[a * stride + off3 + i];
        }
        assertAllClose(grads, want, { atol: 1e-4, rtol: 1e-4 }, "grads");
      },
    );
  }
}

gpuTest(
  "conv2d Pursuit torso 7×7×3 → 6×6×32 → 5×5×64 → 4×4×64 matches CPU reference",
  async (engine) => {
    const batch = 2, numAgents = 1;
    const layers = [
      { h: 7, w: 7, cin: 3, cout: 32 },
      { h: 6, w: 6, cin: 32, cout: 64 },
      { h: 5, w: 5, cin: 64, cout: 64 },
    ].map((l) => ({ ...l, k: 2, activation: "relu" as Activation }));
    const offsets: number[] = [];
    let stride = 0;
    for (const l of layers) {
      offsets.push(stride);
      stride += conv2dParamCount(l.cin, l.cout, l.k);
    }
    // PyTorch's default init scale U(±1/√fan_in) keeps activations O(1) through the stack.
    const r = seeded(5);
    const weights = new Float32Array(stride);
    layers.forEach((l, i) => {
      const n = conv2dParamCount(l.cin, l.cout, l.k), bound = 1 / Math.sqrt(l.cin * l.k * l.k);
      weights.set(r.f32(n, -bound, bound), offsets[i]);
    });
    const obs = r.f32(batch * 7 * 7 * 3, 0, 1);
    const net = createNet(engine, { numAgents, stride, label: "t.torso", init: weights });
    const xT = engine.tensor({
      dtype: "f32",
      shape: [1, batch, 7, 7, 3],
      label: "t.obs",
      data: obs,
    });
    const dxT = engine.tensor({ dtype: "f32", shape: [1, batch, 7, 7, 3], label: "t.dobs" });
    const convs = [];
    let x = xT, dx = dxT;
    for (const [i, l] of layers.entries()) {
      const c = await createConv2d(engine, {
        ...l,
        net,
        offset: offsets[i],
        x,
        dx,
        batch,
        label: `t.c${i}`,
      });
      convs.push(c);
      x = c.y;
      dx = c.dy;
    }
    const last = convs[2];
    if (last.y.size !== batch * 4 * 4 * 64) {
      throw new Error(
        `torso output has ${last.y.size} values`,
      );
    }
    const dyTop = r.f32(last.dy.size);
    engine.write(last.dy, dyTop);
    const enc = engine.encoder();
    for (const c of convs) c.forward(enc);
    for (const c of [...convs].reverse()) c.backward(enc);
    engine.submit(enc);
    const got = await readTensors(
      engine,
      [convs[0].y, convs[1].y, convs[2].y, dxT, net.grads] as const,
    );

    // Reference: forward through the stack, then backward layer by layer from the top.
    const args = [];
    let xs: ArrayLike<number> = obs;
    for (const [i, l] of layers.entries()) {
      const a = { ...l, numAgents, batch, stride, offset: offsets[i], x: xs, weights };
      args.push(a);
      xs = conv2dForwardReference(a);
      assertAllClose(got[i], xs, { atol: 1e-5, rtol: 1e-4 }, `y layer ${i}`);
    }
    const dwWant = new Float64Array(stride);
    let g: ArrayLike<number> = dyTop;
    for (let i = 2; i >= 0; i--) {
      const b = conv2dBackwardReference({ ...args[i], dy: g });
      for (let j = 0; j < stride; j++) dwWant[j] += b.dw[j];
      g = b.dx;
    }
    assertAllClose(got[3], g, { atol: 1e-5, rtol: 1e-4 }, "dobs");
    assertAllClose(got[4], dwWant, { atol: 1e-4, rtol: 1e-4 }, "grads");
  },
);

Deno.test("conv2dBackwardReference() matches finite differences in float64", () => {
  const numAgents = 2, batch = 2, h = 4, w = 5, cin = 2, cout = 3;
  for (const k of [1, 2, 3]) {
    for (const activation of ACTS) {
      const offset = 1, stride = offset + conv2dParamCount(cin, cout, k) + 1;
      const r = seeded(17 + k);
      const x = Float64Array.from(r.f32(numAgents * batch * h * w * cin));
      const weights = Float64Array.from(r.f32(numAgents * stride));
      const dy = Float64Array.from(r.f32(numAgents * batch * (h - k + 1) * (w - k + 1) * cout));
      const base = { numAgents, batch, h, w, cin, cout, k, stride, offset, activation };
      const ref = conv2dBackwardReference({ ...base, x, weights, dy });
      const loss = (xx: Float64Array, ww: Float64Array) =>
        dot(conv2dForwardReference({ ...base, x: xx, weights: ww }), dy);
      const what = `k ${k} ${activation}`;
      assertAllClose(
        ref.dx,
        finiteDiff((xx) => loss(xx, weights), x),
        { atol: 1e-6, rtol: 1e-5 },
        `dx ${what}`,
      );
      // The padding slots around the layer must get exactly zero gradient (finite diffs agree).
      assertAllClose(
        ref.dw,
        finiteDiff((ww) => loss(x, ww), weights),
        { atol: 1e-6, rtol: 1e-5 },
        `dw ${what}`,
      );
    }
  }
});

Deno.test("conv2dForwardReference() equals PyTorch semantics: 1×1 is per-pixel linear, k = h = w is linear on the CHW flatten", () => {
  const batch = 3, cin = 4, cout = 5;
  const r = seeded(23);
  for (const activation of ACTS) {
    // 1×1 kernel: every pixel is an independent dense layer over channels (W [cout, cin]).
    {
      const h = 3, w = 2, stride = conv2dParamCount(cin, cout, 1);
      const x = r.f32(batch * h * w * cin), weights = r.f32(stride);
      const conv = conv2dForwardReference({
        numAgents: 1,
        batch,
        h,
        w,
        cin,
        cout,
        k: 1,
        stride,
        offset: 0,
        activation,
        x,
        weights,
      });
      const lin = linearForwardReference({
        numAgents: 1,
        batch: batch * h * w,
        inDim: cin,
        outDim: cout,
        stride,
        offset: 0,
        activation,
        x,
        w: weights,
      });
      assertAllClose(conv, lin, { atol: 1e-12, rtol: 1e-12 }, `1×1 ${activation}`);
    }
    // Kernel as large as the image: one output pixel, equal to Linear(cin·k·k → cout) applied to
    // the input flattened in PyTorch's channels-first order (c, y, x) with W [cout, cin, k, k].
    {
      const k = 3, stride = conv2dParamCount(cin, cout, k);
      const x = r.f32(batch * k * k * cin), weights = r.f32(stride);
      const conv = conv2dForwardReference({
        numAgents: 1,
        batch,
        h: k,
        w: k,
        cin,
        cout,
        k,
        stride,
        offset: 0,
        activation,
        x,
        weights,
      });
      const chw = new Float64Array(x.length);
      for (let n = 0; n < batch; n++) {
        for (let yy = 0; yy < k; yy++) {
          for (let xx = 0; xx < k; xx++) {
            for (let c = 0; c < cin; c++) {
              chw[n * cin * k * k + (c * k + yy) * k + xx] = x[((n * k + yy) * k + xx) * cin + c];
            }
          }
        }
      }
      const lin = linearForwardReference({
        numAgents: 1,
        batch,
        inDim: cin * k * k,
        outDim: cout,
        stride,
        offset: 0,
        activation,
        x: chw,
        w: weights,
      });
      assertAllClose(conv, lin, { atol: 1e-12, rtol: 1e-12 }, `k = h = w ${activation}`);
    }
  }
});

gpuTest(
  "createConv2d() rejects a kernel larger than the input and mismatched shapes",
  async (engine) => {
    const net = createNet(engine, { numAgents: 2, stride: 200, label: "t.net" });
    const x = engine.tensor({ dtype: "f32", shape: [2, 1, 3, 4, 2], label: "t.x" });
    const base = {
      net,
      offset: 0,
      x,
      batch: 1,
      h: 3,
      w: 4,
      cin: 2,
      cout: 3,
      activation: "relu" as Activation,
      label: "t.c",
    };
    await assertRejects(
      createConv2d(engine, { ...base, k: 4 }),
      RangeError,
      "does not fit input 3×4",
    );
    await assertRejects(
      createConv2d(engine, { ...base, k: 2, batch: 2 }),
      TypeError,
      "is not [2, 2, 3, 4, 2]",
    );
    await assertRejects(
      createConv2d(engine, { ...base, k: 2, offset: 180 }),
      RangeError,
      "overrun the agent block",
    );
    const c = await createConv2d(engine, { ...base, k: 2 });
    if (c.y.shape.join(",") !== "2,1,2,3,3") {
      throw new Error(
        `y shape is [${c.y.shape.join(", ")}]`,
      );
    }
  },
);

async function assertRejects(
  p: Promise<unknown>,
  type: new (message?: string) => Error,
  includes: string,
): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof type) || !(e as Error).message.includes(includes)) {
      throw new Error(`Expected ${type.name} containing "${includes}", got ${e}`);
    }
    return;
  }
  throw new Error(`Expected ${type.name} containing "${includes}", but it resolved`);
}
