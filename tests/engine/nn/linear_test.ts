import {
  type Activation,
  chooseDenseVariant,
  createLinear,
  DENSE_VARIANTS,
  linearParamCount,
  type LinearVariant,
} from "../../../engine/nn/linear.ts";
import { createNet } from "../../../engine/nn/net.ts";
import {
  linearBackwardReference,
  linearForwardReference,
} from "../../../engine/nn/linear_reference.ts";
import { readTensors } from "../../../engine/readback.ts";
import type { Engine } from "../../../engine/device.ts";
import { AGENT_COUNTS, assertAllClose, dot, finiteDiff, gpuTest, seeded } from "../../_testing.ts";

const ACTS: Activation[] = ["identity", "relu", "tanh"];
// Every single-layer variant of the engine's table, forced, so no adapter runs an untested kernel
// (the chain-only `dz` variants are covered by mlp_test.ts).
const VARIANTS = (Object.keys(DENSE_VARIANTS) as (keyof typeof DENSE_VARIANTS)[])
  .filter((v) => DENSE_VARIANTS[v].backward === "dy") as LinearVariant[];

interface Case {
  numAgents: number;
  batch: number;
  inDim: number;
  outDim: number;
  activation: Activation;
  variant: LinearVariant;
  accumulate?: boolean;
  seed: number;
}

/** Runs forward + backward on the GPU and compares y, dx and the whole grads buffer. */
async function checkLinear(engine: Engine, c: Case): Promise<void> {
  const { numAgents, batch, inDim, outDim, activation } = c;
  const offset = 5;
  const stride = offset + linearParamCount(inDim, outDim) + 3;
  const r = seeded(c.seed);
  const x = r.f32(numAgents * batch * inDim),
    w = r.f32(numAgents * stride),
    dyH = r.f32(numAgents * batch * outDim),
    g0 = r.f32(numAgents * stride);
  const net = createNet(engine, { numAgents, stride, label: "t.net", init: w });
  if (c.accumulate) engine.write(net.grads, g0);
  const shape = [numAgents, batch, inDim];
  const xT = engine.tensor({ dtype: "f32", shape, label: "t.x", data: x });
  const dxT = engine.tensor({ dtype: "f32", shape, label: "t.dx" });
  const lin = await createLinear(engine, {
    net,
    offset,
    x: xT,
    dx: dxT,
    batch,
    inDim,
    outDim,
    activation,
    label: "t.lin",
    accumulate: c.accumulate,
    variant: c.variant,
  });
  engine.write(lin.dy, dyH);
  const enc = engine.encoder();
  lin.forward(enc);
  lin.backward(enc);
  engine.submit(enc);
  const [y, dx, dw] = await readTensors(engine, [lin.y, dxT, net.grads] as const);
  const args = { numAgents, batch, inDim, outDim, stride, offset, activation, x, w };
  // Sums of K f32 terms of size ≤ 1: tolerance grows with K.
  const tol = (k: number) => ({ atol: 2e-7 * k + 1e-6, rtol: 1e-5 });
  assertAllClose(y, linearForwardReference(args), tol(inDim), `${c.variant} y`);
  const ref = linearBackwardReference({ ...args, dy: dyH });
  assertAllClose(dx, ref.dx, tol(outDim), `${c.variant} dx`);
  const wantDw = c.accumulate ? ref.dw.map((v, i) => v + g0[i]) : ref.dw;
  if (!c.accumulate) {
    // Outside this layer's block the grads stay zero: nothing is written out of range.
    for (let a = 0; a < numAgents; a++) {
      for (let k = 0; k < stride; k++) {
        if (k < offset || k >= offset + linearParamCount(inDim, outDim)) wantDw[a * stride + k] = 0;
      }
    }
  }
  assertAllClose(dw, wantDw, tol(batch), `${c.variant} dw`);
}

for (const variant of VARIANTS) {
  for (const numAgents of AGENT_COUNTS) {
    for (const activation of ACTS) {
      gpuTest(
        `createLinear() ${variant} matches CPU reference (${numAgents} agents, ${activation})`,
        (engine) =>
          checkLinear(engine, {
            numAgents,
            batch: 33,
            inDim: 17,
            outDim: 9,
            activation,
            variant,
            seed: 7 + numAgents,
          }),
      );
    }
  }
  gpuTest(
    `createLinear() ${variant} matches CPU reference across several tiles and blocks`,
    (engine) =>
      checkLinear(engine, {
        numAgents: 3,
        batch: 37,
        inDim: 35,
        outDim: 19,
        activation: "relu",
        variant,
        seed: 11,
      }),
  );
  gpuTest(
    `createLinear() ${variant} adds into grads with accumulate`,
    (engine) =>
      checkLinear(engine, {
        numAgents: 3,
        batch: 5,
        inDim: 6,
        outDim: 3,
        activation: "tanh",
        variant,
        accumulate: true,
        seed: 13,
      }),
  );
  gpuTest(
    `createLinear() ${variant} handles 1 × 1 layers and a batch of 1`,
    (engine) =>
      checkLinear(engine, {
        numAgents: 8,
        batch: 1,
        inDim: 1,
        outDim: 1,
        activation: "identity",
        variant,
        seed: 17,
      }),
  );
}

gpuTest(
  "createLinear() picks the blocked variant on a CPU adapter and tiled on a GPU",
  async (engine) => {
    const net = createNet(engine, { numAgents: 1, stride: linearParamCount(3, 2), label: "t.net" });
    const x = engine.tensor({ dtype: "f32", shape: [1, 4, 3], label: "t.x" });
    const lin = await createLinear(engine, {
      net,
      offset: 0,
      x,
      batch: 4,
      inDim: 3,
      outDim: 2,
      activation: "identity",
      label: "t.lin",
    });
    const want = engine.isCpu ? "blocked" : "tiled";
    if (lin.variant !== want || chooseDenseVariant(engine, { output: "identity" }) !== want) {
      throw new Error(`variant is "${lin.variant}", want "${want}" (isCpu ${engine.isCpu})`);
    }
  },
);

Deno.test("linearBackwardReference() matches finite differences in float64", () => {
  const numAgents = 2, batch = 3, inDim = 4, outDim = 5, stride = linearParamCount(inDim, outDim);
  for (const activation of ACTS) {
    const r = seeded(3);
    const x = Float64Array.from(r.f32(numAgents * batch * inDim));
    const w = Float64Array.from(r.f32(numAgents * stride));
    const dy = Float64Array.from(r.f32(numAgents * batch * outDim));
    const base = { numAgents, batch, inDim, outDim, stride, offset: 0, activation };
    const ref = linearBackwardReference({ ...base, x, w, dy });
    const loss = (xx: Float64Array, ww: Float64Array) =>
      dot(linearForwardReference({ ...base, x: xx, w: ww }), dy);
    assertAllClose(
      ref.dx,
      finiteDiff((xx) => loss(xx, w), x),
      { atol: 1e-6, rtol: 1e-5 },
      `dx ${activation}`,
    );
    assertAllClose(
      ref.dw,
      finiteDiff((ww) => loss(x, ww), w),
      { atol: 1e-6, rtol: 1e-5 },
      `dw ${activation}`,
    );
  }
});
