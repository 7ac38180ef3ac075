// createLinearWide() against the independent dense-layer reference (engine/nn/linear_reference.ts,
// itself checked against finite differences in tests/engine/nn/linear_test.ts), at sizes that are not
// multiples of the 8 × 8 blocks nor of the workgroup size. Backward starts from dz (the gradient
// w.r.t. the pre-activation): the reference's identity-activation backward with dy = dz gives dW
// and dz W, and dx is that times the input activation's derivative at x.
import type { Activation } from "../../../engine/nn/linear.ts";
import { linearParamCount } from "../../../engine/nn/linear.ts";
import {
  linearBackwardReference,
  linearForwardReference,
} from "../../../engine/nn/linear_reference.ts";
import { createLinearWide } from "../../../engine/nn/linear_wide.ts";
import { createNet } from "../../../engine/nn/net.ts";
import { readTensors } from "../../../engine/readback.ts";
import type { Engine } from "../../../engine/device.ts";
import { AGENT_COUNTS, assertAllClose, gpuTest, seeded } from "../../_testing.ts";

interface Case {
  numAgents: number;
  batch: number;
  inDim: number;
  outDim: number;
  activation: Activation;
  inputActivation: Activation;
  accumulate?: boolean;
  withDx?: boolean;
  seed: number;
}

/** d act / dz written through the activation's output `out`. */
function activationGrad(act: Activation, out: number): number {
  if (act === "relu") return out > 0 ? 1 : 0;
  if (act === "tanh") return 1 - out * out;
  return 1;
}

/** Runs forward + backward on the GPU and compares y, dx and the whole grads buffer. */
async function checkLinearWide(engine: Engine, c: Case): Promise<void> {
  const { numAgents, batch, inDim, outDim, activation, inputActivation } = c;
  const withDx = c.withDx ?? true;
  const offset = 3;
  const stride = offset + linearParamCount(inDim, outDim) + 2;
  const r = seeded(c.seed);
  const x = r.f32(numAgents * batch * inDim),
    w = r.f32(numAgents * stride),
    dz = r.f32(numAgents * batch * outDim),
    g0 = r.f32(numAgents * stride),
    dx0 = r.f32(numAgents * batch * inDim);
  const net = createNet(engine, { numAgents, stride, label: "t.net", init: w });
  if (c.accumulate) engine.write(net.grads, g0);
  const shape = [numAgents, batch, inDim];
  const xT = engine.tensor({ dtype: "f32", shape, label: "t.x", data: x });
  const dxT = engine.tensor({ dtype: "f32", shape, label: "t.dx", data: dx0 });
  const lin = await createLinearWide(engine, {
    net,
    offset,
    x: xT,
    dx: withDx ? dxT : undefined,
    batch,
    inDim,
    outDim,
    activation,
    inputActivation,
    label: "t.lin",
    accumulate: c.accumulate,
  });
  engine.write(lin.dz, dz);
  const enc = engine.encoder();
  lin.forward(enc);
  lin.backward(enc);
  engine.submit(enc);
  const [y, dx, dw] = await readTensors(engine, [lin.y, dxT, net.grads] as const);
  const args = { numAgents, batch, inDim, outDim, stride, offset, activation, x, w };
  // Sums of K f32 terms of size ≤ 1: tolerance grows with K.
  const tol = (k: number) => ({ atol: 2e-7 * k + 1e-6, rtol: 1e-5 });
  assertAllClose(y, linearForwardReference(args), tol(inDim), "y");
  const ref = linearBackwardReference({ ...args, activation: "identity", dy: dz });
  const wantDx = ref.dx.map((v, k) => v * activationGrad(inputActivation, x[k]));
  // Without a bound dx the input buffer is left untouched.
  assertAllClose(dx, withDx ? wantDx : dx0, tol(outDim), "dx");
  const wantDw = c.accumulate ? ref.dw.map((v, i) => v + g0[i]) : ref.dw;
  if (!c.accumulate) {
    // Outside this layer's block the grads stay zero: nothing is written out of range.
    for (let a = 0; a < numAgents; a++) {
      for (let k = 0; k < stride; k++) {
        if (k < offset || k >= offset + linearParamCount(inDim, outDim)) wantDw[a * stride + k] = 0;
      }
    }
  }
  assertAllClose(dw, wantDw, tol(batch), "dw");
}

const ACTS: Activation[] = ["identity", "relu", "tanh"];

for (const numAgents of AGENT_COUNTS) {
  for (const [k, activation] of ACTS.entries()) {
    const inputActivation = ACTS[(k + 1) % ACTS.length];
    gpuTest(
      `createLinearWide() matches CPU reference (${numAgents} agents, ${activation}, input ${inputActivation})`,
      (engine) =>
        checkLinearWide(engine, {
          numAgents,
          batch: 33,
          inDim: 17,
          outDim: 9,
          activation,
          inputActivation,
          seed: 7 + numAgents,
        }),
    );
  }
}

gpuTest(
  "createLinearWide() matches CPU reference across many blocks and workgroups",
  (engine) =>
    checkLinearWide(engine, {
      numAgents: 3,
      batch: 83,
      inDim: 71,
      outDim: 21,
      activation: "relu",
      inputActivation: "relu",
      seed: 11,
    }),
);

gpuTest(
  "createLinearWide() adds into grads with accumulate and leaves x's gradient alone without dx",
  (engine) =>
    checkLinearWide(engine, {
      numAgents: 3,
      batch: 5,
      inDim: 6,
      outDim: 3,
      activation: "tanh",
      inputActivation: "identity",
      accumulate: true,
      withDx: false,
      seed: 13,
    }),
);

gpuTest(
  "createLinearWide() handles 1 × 1 layers and a batch of 1",
  (engine) =>
    checkLinearWide(engine, {
      numAgents: 8,
      batch: 1,
      inDim: 1,
      outDim: 1,
      activation: "identity",
      inputActivation: "identity",
      seed: 17,
    }),
);
