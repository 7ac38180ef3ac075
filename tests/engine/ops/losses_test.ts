import type { Engine } from "../../../engine/device.ts";
import { createAgentMean } from "../../../engine/ops/agent_mean.ts";
import { createQLoss, createTdTarget, createValueLoss } from "../../../engine/ops/losses.ts";
import {
  qLossReference,
  type RegressionKind,
  tdTargetReference,
  valueLossReference,
} from "../../../engine/ops/losses_reference.ts";
import { agentMeanReference } from "../../../engine/ops/policy_reference.ts";
import { readTensors } from "../../../engine/readback.ts";
import type { Tensor } from "../../../engine/tensor.ts";
import {
  AGENT_COUNTS,
  assertAllClose,
  assertExact,
  finiteDiff,
  gpuTest,
  seeded,
} from "../../_testing.ts";

const KINDS: RegressionKind[] = ["mse", "huber"];
const ELEM = { atol: 1e-6, rtol: 1e-5 };
const SUM = { atol: 1e-5, rtol: 1e-4 };

function f32(engine: Engine, shape: number[], data: ArrayLike<number>, label: string) {
  return engine.tensor({ dtype: "f32", shape, label, data });
}

/** Values in {0, 0.5, 1, 1.5}: many exact ties between actions. */
function tiedValues(r: ReturnType<typeof seeded>, n: number): Float32Array {
  return Float32Array.from(r.u32(n, 4), (v) => v * 0.5);
}

for (const numAgents of AGENT_COUNTS) {
  gpuTest(
    `tdTarget and tdTargetDouble match CPU reference with ties and done masks (${numAgents} agents)`,
    async (engine) => {
      const batch = 37, numActions = 5, gamma = 0.97;
      const r = seeded(11 + numAgents);
      const n = numAgents * batch, shape = [numAgents, batch, numActions];
      const qNext = r.f32(n * numActions, -2, 2);
      const qNextOnline = tiedValues(r, n * numActions);
      const reward = r.f32(n, -1, 1);
      const done = Float32Array.from(r.u32(n, 3), (v) => (v === 0 ? 1 : 0));
      const inputs = {
        qNext: f32(engine, shape, qNext, "t.qNext"),
        reward: f32(engine, [numAgents, batch], reward, "t.reward"),
        done: f32(engine, [numAgents, batch], done, "t.done"),
        numAgents,
        batch,
        numActions,
        gamma,
      };
      const td = await createTdTarget(engine, { ...inputs, label: "t.td" });
      const ddqn = await createTdTarget(engine, {
        ...inputs,
        qNextOnline: f32(engine, shape, qNextOnline, "t.qOnline"),
        label: "t.ddqn",
      });
      const enc = engine.encoder();
      td.forward(enc);
      ddqn.forward(enc);
      engine.submit(enc);
      const [y, yd] = await readTensors(engine, [td.y, ddqn.y] as const);
      const ref = { numAgents, batch, numActions, gamma, qNext, reward, done };
      assertAllClose(y, tdTargetReference(ref), ELEM, "max target");
      assertAllClose(yd, tdTargetReference({ ...ref, qNextOnline }), ELEM, "double target");
      // Done rows never bootstrap: y is exactly the reward.
      for (let i = 0; i < n; i++) if (done[i]) assertExact([y[i], yd[i]], [reward[i], reward[i]]);
    },
  );

  gpuTest(
    `qLoss forward and backward match CPU reference, mse and huber (${numAgents} agents)`,
    async (engine) => {
      const batch = 37, numActions = 7, shape = [numAgents, batch];
      for (const kind of KINDS) {
        for (const weighted of [false, true]) {
          const r = seeded(5 + numAgents + (weighted ? 100 : 0));
          const n = numAgents * batch;
          const q = r.f32(n * numActions, -1, 1);
          const action = r.u32(n, numActions);
          const target = r.f32(n, -3, 3); // |δ| on both sides of the Huber threshold
          const weights = r.f32(n, 0.1, 2);
          const scale = weighted ? 0.7 : 1;
          // Unweighted: dQ is allocated and must be overwritten. Weighted: accumulates into a
          // caller's buffer that already holds `prior`.
          const prior = r.f32(n * numActions);
          const dQIn = weighted ? f32(engine, [...shape, numActions], prior, "t.dQ") : undefined;
          const loss = await createQLoss(engine, {
            kind,
            q: f32(engine, [...shape, numActions], q, "t.q"),
            action: engine.tensor({ dtype: "u32", shape, label: "t.action", data: action }),
            target: f32(engine, shape, target, "t.target"),
            weights: weighted ? f32(engine, shape, weights, "t.w") : undefined,
            numAgents,
            batch,
            numActions,
            scale,
            dQ: dQIn,
            accumulate: weighted,
            label: `t.${kind}`,
          });
          if (!weighted) engine.write(loss.dQ, prior);
          const enc = engine.encoder();
          loss.forward(enc);
          loss.backward(enc);
          engine.submit(enc);
          const [l, ad, dQ] = await readTensors(
            engine,
            [loss.loss, loss.absDelta, loss.dQ] as const,
          );
          const ref = qLossReference({
            kind,
            numAgents,
            batch,
            numActions,
            q,
            action,
            target,
            weights: weighted ? weights : undefined,
            scale,
          });
          const what = `${kind}${weighted ? " weighted" : ""}`;
          assertAllClose(ad, ref.absDelta, ELEM, `|δ| ${what}`);
          assertAllClose(l, ref.loss, SUM, `loss ${what}`);
          const want = weighted ? ref.dQ.map((v, i) => v + prior[i]) : ref.dQ;
          assertAllClose(dQ, want, ELEM, `dQ ${what}`);
        }
      }
    },
  );

  gpuTest(
    `valueLoss forward and backward match CPU reference (${numAgents} agents)`,
    async (engine) => {
      const batch = 37, shape = [numAgents, batch], n = numAgents * batch;
      const r = seeded(21 + numAgents);
      const value = r.f32(n, -2, 2), target = r.f32(n, -2, 2), weights = r.f32(n, 0, 1.5);
      const prior = r.f32(n);
      const vT = f32(engine, shape, value, "t.v"), tT = f32(engine, shape, target, "t.R");
      const plain = await createValueLoss(engine, {
        value: vT,
        target: tT,
        numAgents,
        batch,
        scale: 0.5,
        label: "t.vl",
      });
      // Accumulates into a caller's buffer (the critic head's dy) that already holds `prior`.
      const dy = f32(engine, shape, prior, "t.dy");
      const weighted = await createValueLoss(engine, {
        value: vT,
        target: tT,
        weights: f32(engine, shape, weights, "t.w"),
        numAgents,
        batch,
        scale: 0.5,
        dValue: dy,
        accumulate: true,
        label: "t.vlw",
      });
      const enc = engine.encoder();
      for (const op of [plain, weighted]) {
        op.forward(enc);
        op.backward(enc);
      }
      engine.submit(enc);
      const [l, dv, lw, dvw] = await readTensors(
        engine,
        [plain.loss, plain.dValue, weighted.loss, dy] as const,
      );
      const ref = valueLossReference({ numAgents, batch, value, target, scale: 0.5 });
      assertAllClose(l, ref.loss, SUM, "loss");
      assertAllClose(dv, ref.dValue, ELEM, "dValue");
      const refW = valueLossReference({ numAgents, batch, value, target, weights, scale: 0.5 });
      assertAllClose(lw, refW.loss, SUM, "weighted loss");
      assertAllClose(dvw, refW.dValue.map((g, i) => g + prior[i]), ELEM, "accumulated dValue");
    },
  );
}

gpuTest("agentMean reduces thousands of items per agent deterministically", async (engine) => {
  const numAgents = 3, count = 3001; // not a multiple of the 256-thread workgroup
  const values = seeded(4).f32(numAgents * count, -1, 3);
  const v: Tensor = f32(engine, [numAgents, count], values, "t.values");
  const mean = await createAgentMean(engine, {
    values: v,
    numAgents,
    count,
    scale: 2,
    label: "t.m",
  });
  const outs: Float32Array[] = [];
  for (let k = 0; k < 2; k++) {
    const enc = engine.encoder();
    mean.forward(enc);
    engine.submit(enc);
    const [out] = await readTensors(engine, [mean.out] as const);
    outs.push(out);
  }
  assertAllClose(outs[0], agentMeanReference(values, numAgents, count, 2), SUM, "mean");
  assertExact(outs[1], outs[0], "second run");
});

gpuTest("createQLoss() rejects actions that are not u32 [numAgents, batch]", async (engine) => {
  const q = engine.tensor({ dtype: "f32", shape: [2, 4, 3], label: "t.q" });
  const target = engine.tensor({ dtype: "f32", shape: [2, 4], label: "t.target" });
  const base = { kind: "huber" as const, q, target, numAgents: 2, batch: 4, numActions: 3 };
  const bad = [
    engine.tensor({ dtype: "f32", shape: [2, 4], label: "t.actF32" }),
    engine.tensor({ dtype: "u32", shape: [2, 5], label: "t.actShape" }),
  ];
  for (const action of bad) {
    let err: unknown = null;
    try {
      await createQLoss(engine, { ...base, action, label: "t.bad" });
    } catch (e) {
      err = e;
    }
    if (!(err instanceof TypeError) || !/Cannot build "t\.bad": action/.test(err.message)) {
      throw new Error(`expected a TypeError naming "action", got ${err}`);
    }
  }
});

Deno.test("qLossReference() and valueLossReference() gradients match finite differences in float64", () => {
  const numAgents = 2, batch = 3, numActions = 4, n = numAgents * batch;
  const r = seeded(8);
  const q = Float64Array.from(r.f32(n * numActions, -1, 1));
  const action = r.u32(n, numActions);
  const target = Float64Array.from(r.f32(n, -3, 3));
  const weights = Float64Array.from(r.f32(n, 0.1, 2));
  for (const kind of KINDS) {
    const args = { kind, numAgents, batch, numActions, action, target, weights, scale: 0.7 };
    const total = (qq: Float64Array) =>
      qLossReference({ ...args, q: qq }).loss.reduce((s, v) => s + v);
    assertAllClose(qLossReference({ ...args, q }).dQ, finiteDiff(total, q), ELEM, `dQ ${kind}`);
  }
  const value = Float64Array.from(r.f32(n, -2, 2));
  const vArgs = { numAgents, batch, target, weights, scale: 0.5 };
  const vTotal = (vv: Float64Array) =>
    valueLossReference({ ...vArgs, value: vv }).loss.reduce((s, v) => s + v);
  assertAllClose(
    valueLossReference({ ...vArgs, value }).dValue,
    finiteDiff(vTotal, value),
    ELEM,
    "dValue",
  );
});

Deno.test("tdTargetReference() breaks argmax ties to the lowest index", () => {
  const qNext = [1, 2, 3, 4, 5, 6];
  const base = { numAgents: 1, batch: 2, numActions: 3, gamma: 0.5, qNext, reward: [0, 0] };
  const y = tdTargetReference({ ...base, qNextOnline: [7, 7, 7, 0, 9, 9], done: [0, 0] });
  assertExact(y, [0.5, 2.5]);
  assertExact(tdTargetReference({ ...base, done: [0, 1] }), [1.5, 0]);
});
