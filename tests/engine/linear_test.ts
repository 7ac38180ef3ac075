import { createLinear, linearParamCount } from "../../engine/ops/linear.ts";
import { createNet } from "../../engine/ops/net.ts";
import {
  linearBackwardReference,
  linearForwardReference,
} from "../../engine/ops/linear_reference.ts";
import { readTensors } from "../../engine/readback.ts";
import { AGENT_COUNTS, assertAllClose, dot, finiteDiff, gpuTest, seeded } from "../_testing.ts";
import type { Activation } from "../../engine/ops/linear.ts";

const ACTS: Activation[] = ["identity", "relu", "tanh"];

for (const numAgents of AGENT_COUNTS) {
  for (const activation of ACTS) {
    gpuTest(
      `linear forward and backward match CPU reference (${numAgents} agents, ${activation})`,
      async (engine) => {
        const batch = 33, inDim = 17, outDim = 9, offset = 5;
        const stride = offset + linearParamCount(inDim, outDim) + 3;
        const r = seeded(7 + numAgents);
        const x = r.f32(numAgents * batch * inDim),
          w = r.f32(numAgents * stride),
          dyH = r.f32(numAgents * batch * outDim);
        const net = createNet(engine, { numAgents, stride, label: "t.net", init: w });
        const xT = engine.tensor({
          dtype: "f32",
          shape: [numAgents, batch, inDim],
          label: "t.x",
          data: x,
        });
        const dxT = engine.tensor({
          dtype: "f32",
          shape: [numAgents, batch, inDim],
          label: "t.dx",
        });
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
        });
        engine.write(lin.dy, dyH);
        const enc = engine.encoder();
        lin.forward(enc);
        lin.backward(enc);
        engine.submit(enc);
        const [y, dx, dw] = await readTensors(engine, [lin.y, dxT, net.grads] as const);
        const args = { numAgents, batch, inDim, outDim, stride, offset, activation, x, w };
        assertAllClose(y, linearForwardReference(args), { atol: 1e-5, rtol: 1e-4 }, "y");
        const ref = linearBackwardReference({ ...args, dy: dyH });
        assertAllClose(dx, ref.dx, { atol: 1e-5, rtol: 1e-4 }, "dx");
        assertAllClose(dw, ref.dw, { atol: 1e-4, rtol: 1e-4 }, "dw");
      },
    );
  }
}

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
