import type { Engine } from "../../../engine/device.ts";
import {
  createBce,
  createCrossEntropy,
  createSoftCrossEntropy,
} from "../../../engine/ops/cross_entropy.ts";
import {
  createEntropy,
  createLogProb,
  createLogSoftmax,
  createSoftmax,
  type LogitLossOptions,
  type LogitOp,
} from "../../../engine/ops/policy.ts";
import {
  agentMeanReference,
  bceBackwardReference,
  bceReference,
  crossEntropyBackwardReference,
  crossEntropyReference,
  entropyBackwardReference,
  entropyReference,
  logProbBackwardReference,
  logProbReference,
  logSoftmaxBackwardReference,
  logSoftmaxReference,
  softCrossEntropyBackwardReference,
  softCrossEntropyReference,
  softmaxBackwardReference,
  softmaxReference,
} from "../../../engine/ops/policy_reference.ts";
import { readTensors } from "../../../engine/readback.ts";
import type { Tensor } from "../../../engine/tensor.ts";
import { AGENT_COUNTS, assertAllClose, dot, finiteDiff, gpuTest, seeded } from "../../_testing.ts";

const OUT = { atol: 2e-6, rtol: 1e-4 }; // exp/log in f32
const GRAD = { atol: 1e-6, rtol: 1e-4 };
const MEAN = { atol: 1e-5, rtol: 1e-4 };

/** Host data of one test case: logits with a few huge rows, labels and two kinds of targets. */
function caseData(seed: number, rows: number, k: number) {
  const r = seeded(seed);
  const logits = r.f32(rows * k, -4, 4);
  // Rows whose exp() overflows f32 without max-subtraction, and one with large negative values.
  for (let j = 0; j < k; j++) {
    logits[j] = 90 + 20 * Math.sin(j); // e^110 > f32 max
    logits[(rows - 1) * k + j] = -100 - 5 * j; // e^-100 underflows to 0
  }
  const actions = r.u32(rows, k);
  const raw = r.f32(rows * k, 0, 1);
  // Target distributions; odd rows sum to 1.3 so the Σt factor of the gradient is exercised.
  const probs = new Float32Array(rows * k);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += raw[i * k + j];
    for (let j = 0; j < k; j++) probs[i * k + j] = (raw[i * k + j] / s) * (i % 2 ? 1.3 : 1);
  }
  // BCE targets: half soft in [0, 1], half exactly 0 or 1.
  const soft = r.f32(rows * k, 0, 1);
  const bin = r.u32(rows * k, 2);
  const bce = soft.map((v, i) => (i % 2 ? v : bin[i]));
  const bceLogits = r.f32(rows * k, -12, 12);
  return { logits, actions, probs, bce, bceLogits, g: r.f32(rows * k, -1, 1) };
}

type Data = ReturnType<typeof caseData>;
type Mode = "mean" | "upstream";

/** One op under test: how to build it on the GPU and what the references say. */
interface OpCase {
  name: string;
  /** Output per element (vector ops and BCE) rather than per row. */
  perElement: boolean;
  /** Vector ops (softmax, log-softmax): upstream mode only, no mean. */
  vector?: boolean;
  create(engine: Engine, o: LogitLossOptions, t: Record<string, Tensor>): Promise<LogitOp>;
  forward(d: Data, rows: number, k: number): Float64Array;
  backward(d: Data, rows: number, k: number, g: ArrayLike<number>): Float64Array;
}

const CASES: OpCase[] = [
  {
    name: "softmax",
    perElement: true,
    vector: true,
    create: (e, o) => createSoftmax(e, o),
    forward: (d, rows, k) => softmaxReference({ rows, k, logits: d.logits }),
    backward: (d, rows, k, g) => softmaxBackwardReference({ rows, k, logits: d.logits, g }),
  },
  {
    name: "logSoftmax",
    perElement: true,
    vector: true,
    create: (e, o) => createLogSoftmax(e, o),
    forward: (d, rows, k) => logSoftmaxReference({ rows, k, logits: d.logits }),
    backward: (d, rows, k, g) => logSoftmaxBackwardReference({ rows, k, logits: d.logits, g }),
  },
  {
    name: "logProb",
    perElement: false,
    create: (e, o, t) => createLogProb(e, { ...o, actions: t.actions }),
    forward: (d, rows, k) => logProbReference({ rows, k, logits: d.logits, actions: d.actions }),
    backward: (d, rows, k, g) =>
      logProbBackwardReference({ rows, k, logits: d.logits, actions: d.actions, g }),
  },
  {
    name: "entropy",
    perElement: false,
    create: (e, o) => createEntropy(e, o),
    forward: (d, rows, k) => entropyReference({ rows, k, logits: d.logits }),
    backward: (d, rows, k, g) => entropyBackwardReference({ rows, k, logits: d.logits, g }),
  },
  {
    name: "crossEntropy",
    perElement: false,
    create: (e, o, t) => createCrossEntropy(e, { ...o, labels: t.actions }),
    forward: (d, rows, k) =>
      crossEntropyReference({ rows, k, logits: d.logits, labels: d.actions }),
    backward: (d, rows, k, g) =>
      crossEntropyBackwardReference({ rows, k, logits: d.logits, labels: d.actions, g }),
  },
  {
    name: "softCrossEntropy",
    perElement: false,
    create: (e, o, t) => createSoftCrossEntropy(e, { ...o, targets: t.probs }),
    forward: (d, rows, k) =>
      softCrossEntropyReference({ rows, k, logits: d.logits, targets: d.probs }),
    backward: (d, rows, k, g) =>
      softCrossEntropyBackwardReference({ rows, k, logits: d.logits, targets: d.probs, g }),
  },
  {
    name: "bce",
    perElement: true,
    create: (e, o, t) => createBce(e, { ...o, logits: t.bceLogits, targets: t.bce }),
    forward: (d, rows, k) => bceReference({ rows, k, logits: d.bceLogits, targets: d.bce }),
    backward: (d, rows, k, g) =>
      bceBackwardReference({ rows, k, logits: d.bceLogits, targets: d.bce, g }),
  },
];

for (const numAgents of AGENT_COUNTS) {
  gpuTest(
    `policy and cross-entropy ops match CPU reference in both gradient modes (${numAgents} agents)`,
    async (engine) => {
      const batch = 37;
      for (const numActions of [5, 7]) {
        const rows = numAgents * batch, k = numActions, full = [numAgents, batch, k];
        const d = caseData(numAgents * 10 + k, rows, k);
        const t = {
          logits: engine.tensor({ dtype: "f32", shape: full, label: "t.logits", data: d.logits }),
          bceLogits: engine.tensor({
            dtype: "f32",
            shape: full,
            label: "t.bceLogits",
            data: d.bceLogits,
          }),
          actions: engine.tensor({
            dtype: "u32",
            shape: [numAgents, batch],
            label: "t.actions",
            data: d.actions,
          }),
          probs: engine.tensor({ dtype: "f32", shape: full, label: "t.probs", data: d.probs }),
          bce: engine.tensor({ dtype: "f32", shape: full, label: "t.bce", data: d.bce }),
        };
        for (const c of CASES) {
          for (const mode of (c.vector ? ["upstream"] : ["mean", "upstream"]) as Mode[]) {
            const scale = mode === "mean" ? -0.3 : 0.5;
            const what = `${c.name} ${mode} k=${k}`;
            const op = await c.create(engine, {
              logits: t.logits,
              numAgents,
              batch,
              numActions,
              scale,
              gradient: mode,
              label: `t.${c.name}`,
            }, t);
            const outSize = c.perElement ? rows * k : rows;
            const g = d.g.subarray(0, outSize);
            if (mode === "upstream") engine.write(op.dOut, g);
            const enc = engine.encoder();
            op.forward(enc);
            op.backward(enc);
            engine.submit(enc);
            const mean = (op as { mean?: Tensor<"f32"> }).mean;
            const [out, dLogits, m] = await readTensors(
              engine,
              [op.out, op.dLogits, mean ?? op.out] as const,
            );
            const ref = c.forward(d, rows, k);
            assertAllClose(out, ref, OUT, `${what} out`);
            const count = outSize / numAgents;
            const gRef = mode === "upstream"
              ? Array.from(g, (v) => v * scale)
              : new Array(outSize).fill(scale / count);
            assertAllClose(dLogits, c.backward(d, rows, k, gRef), GRAD, `${what} dLogits`);
            if (mean) {
              assertAllClose(
                m,
                agentMeanReference(ref, numAgents, count, scale),
                MEAN,
                `${what} mean`,
              );
            }
          }
        }
      }
    },
  );
}

gpuTest("logProb and entropy backward accumulate into one dLogits buffer", async (engine) => {
  const numAgents = 3, batch = 37, numActions = 5, rows = numAgents * batch, k = numActions;
  const d = caseData(77, rows, k);
  const full = [numAgents, batch, k];
  const logits = engine.tensor({ dtype: "f32", shape: full, label: "t.logits", data: d.logits });
  const actions = engine.tensor({
    dtype: "u32",
    shape: [numAgents, batch],
    label: "t.actions",
    data: d.actions,
  });
  const dy = engine.tensor({ dtype: "f32", shape: full, label: "t.dy", data: d.g });
  const common = { logits, numAgents, batch, numActions, dLogits: dy };
  // SEAC-style: −mean(A·log π) by upstream gradient, then −0.01·mean H added on top.
  const logp = await createLogProb(engine, {
    ...common,
    actions,
    gradient: "upstream",
    label: "t.logp",
  });
  const ent = await createEntropy(engine, {
    ...common,
    scale: -0.01,
    accumulate: true,
    label: "t.ent",
  });
  const adv = d.g.subarray(0, rows).map((v) => -v / batch);
  engine.write(logp.dOut, adv);
  const enc = engine.encoder();
  logp.backward(enc);
  ent.backward(enc);
  engine.submit(enc);
  const [got] = await readTensors(engine, [dy] as const);
  const a = logProbBackwardReference({ rows, k, logits: d.logits, actions: d.actions, g: adv });
  const h = entropyBackwardReference({
    rows,
    k,
    logits: d.logits,
    g: new Array(rows).fill(-0.01 / batch),
  });
  assertAllClose(got, a.map((v, i) => v + h[i]), GRAD, "dy");
});

Deno.test("policy and cross-entropy reference backwards match finite differences in float64", () => {
  const rows = 4, k = 5;
  const r = seeded(31);
  const logits = Float64Array.from(r.f32(rows * k, -3, 3));
  const actions = r.u32(rows, k);
  const targets = Float64Array.from(r.f32(rows * k, 0, 1)); // unnormalised: tests the Σt factor
  const gRow = Float64Array.from(r.f32(rows, -1, 1));
  const gAll = Float64Array.from(r.f32(rows * k, -1, 1));
  const checks: [string, (z: Float64Array) => Float64Array, Float64Array, Float64Array][] = [
    [
      "softmax",
      (z) => softmaxReference({ rows, k, logits: z }),
      gAll,
      softmaxBackwardReference({ rows, k, logits, g: gAll }),
    ],
    [
      "logSoftmax",
      (z) => logSoftmaxReference({ rows, k, logits: z }),
      gAll,
      logSoftmaxBackwardReference({ rows, k, logits, g: gAll }),
    ],
    [
      "logProb",
      (z) => logProbReference({ rows, k, logits: z, actions }),
      gRow,
      logProbBackwardReference({ rows, k, logits, actions, g: gRow }),
    ],
    [
      "entropy",
      (z) => entropyReference({ rows, k, logits: z }),
      gRow,
      entropyBackwardReference({ rows, k, logits, g: gRow }),
    ],
    [
      "crossEntropy",
      (z) => crossEntropyReference({ rows, k, logits: z, labels: actions }),
      gRow,
      crossEntropyBackwardReference({ rows, k, logits, labels: actions, g: gRow }),
    ],
    [
      "softCrossEntropy",
      (z) => softCrossEntropyReference({ rows, k, logits: z, targets }),
      gRow,
      softCrossEntropyBackwardReference({ rows, k, logits, targets, g: gRow }),
    ],
    [
      "bce",
      (z) => bceReference({ rows, k, logits: z, targets }),
      gAll,
      bceBackwardReference({ rows, k, logits, targets, g: gAll }),
    ],
  ];
  for (const [name, f, g, analytic] of checks) {
    assertAllClose(analytic, finiteDiff((z) => dot(f(z), g), logits), GRAD, name);
  }
});

Deno.test("bceReference() equals the textbook −y log σ(x) − (1 − y) log(1 − σ(x))", () => {
  const x = [-3, -0.5, 0, 0.7, 4], y = [0, 1, 0.3, 1, 0.6];
  const want = x.map((v, i) => {
    const s = 1 / (1 + Math.exp(-v));
    return -y[i] * Math.log(s) - (1 - y[i]) * Math.log(1 - s);
  });
  assertAllClose(bceReference({ rows: 1, k: 5, logits: x, targets: y }), want, GRAD, "bce");
});
