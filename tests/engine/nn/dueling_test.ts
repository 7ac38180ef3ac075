import { createDueling } from "../../../engine/nn/dueling.ts";
import {
  duelingBackwardReference,
  duelingForwardReference,
} from "../../../engine/nn/dueling_reference.ts";
import { readTensors } from "../../../engine/readback.ts";
import { AGENT_COUNTS, assertAllClose, dot, finiteDiff, gpuTest, seeded } from "../../_testing.ts";

for (const numAgents of AGENT_COUNTS) {
  for (const numActions of [1, 5, 17]) {
    gpuTest(
      `createDueling() matches CPU reference (${numAgents} agents, ${numActions} actions)`,
      async (engine) => {
        const batch = 67; // with 8 agents: 536 rows, not a multiple of the workgroup size
        const rows = numAgents * batch;
        const r = seeded(31 + numAgents * 7 + numActions);
        const v = r.f32(rows, -3, 3),
          adv = r.f32(rows * numActions),
          dqH = r.f32(rows * numActions);
        const tensor = (shape: number[], label: string, data?: Float32Array) =>
          engine.tensor({ dtype: "f32", shape, label, data });
        const vT = tensor([numAgents, batch, 1], "t.v", v);
        const advT = tensor([numAgents, batch, numActions], "t.adv", adv);
        const dvT = tensor([numAgents, batch, 1], "t.dv");
        const dAdvT = tensor([numAgents, batch, numActions], "t.dAdv");
        const duel = await createDueling(engine, {
          v: vT,
          adv: advT,
          dv: dvT,
          dAdv: dAdvT,
          numAgents,
          batch,
          numActions,
          label: "t.duel",
        });
        engine.write(duel.dq, dqH);
        const enc = engine.encoder();
        duel.forward(enc);
        duel.backward(enc);
        engine.submit(enc);
        const [q, dv, dAdv] = await readTensors(engine, [duel.q, dvT, dAdvT] as const);
        const args = { numAgents, batch, numActions };
        // Sums over numActions terms: tolerance grows with the count.
        const tol = { atol: 1e-6 * (1 + numActions), rtol: 1e-5 };
        assertAllClose(q, duelingForwardReference({ ...args, v, adv }), tol, "q");
        const ref = duelingBackwardReference({ ...args, dq: dqH });
        assertAllClose(dv, ref.dv, tol, "dv");
        assertAllClose(dAdv, ref.dAdv, tol, "dAdv");
      },
    );
  }
}

Deno.test("duelingForwardReference() gives Q with mean_a Q = V", () => {
  const args = { numAgents: 1, batch: 1, numActions: 3, v: [2], adv: [1, 2, 6] };
  assertAllClose(duelingForwardReference(args), [0, 1, 5], {}, "q");
});

Deno.test("duelingBackwardReference() matches finite differences in float64", () => {
  const numAgents = 2, batch = 3, numActions = 4, rows = numAgents * batch;
  const r = seeded(9);
  const v = Float64Array.from(r.f32(rows)), adv = Float64Array.from(r.f32(rows * numActions));
  const dq = Float64Array.from(r.f32(rows * numActions));
  const args = { numAgents, batch, numActions };
  const ref = duelingBackwardReference({ ...args, dq });
  const loss = (vv: Float64Array, aa: Float64Array) =>
    dot(duelingForwardReference({ ...args, v: vv, adv: aa }), dq);
  const tol = { atol: 1e-6, rtol: 1e-5 };
  assertAllClose(ref.dv, finiteDiff((vv) => loss(vv, adv), v), tol, "dv");
  assertAllClose(ref.dAdv, finiteDiff((aa) => loss(v, aa), adv), tol, "dAdv");
});
