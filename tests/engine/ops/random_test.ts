import { createCategorical, createRandomFill } from "../../../engine/ops/random.ts";
import { categoricalReference, randomFillReference } from "../../../engine/ops/random_reference.ts";
import { readTensors } from "../../../engine/readback.ts";
import { RNG_PURPOSE } from "../../../engine/rng.ts";
import { AGENT_COUNTS, assertAllClose, assertExact, gpuTest, seeded } from "../../_testing.ts";

const KEY = { seed: 42, purpose: RNG_PURPOSE.test, step: 7, draw: 1 };

function moments(x: ArrayLike<number>): [number, number] {
  let m = 0;
  for (let i = 0; i < x.length; i++) m += x[i];
  m /= x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i] - m) ** 2;
  return [m, v / x.length];
}

gpuTest(
  "createRandomFill() draws uniform, normal, integer and Bernoulli values like the reference",
  async (engine) => {
    const rows = 13, cols = 1001;
    const dists = [
      { kind: "uniform", lo: -2.5, hi: 4 },
      { kind: "normal", mean: 1.5, std: 2 },
      { kind: "below", k: 5 },
      { kind: "bernoulli", p: 0.25 },
    ] as const;
    const enc = engine.encoder();
    const outs = [];
    for (const [i, dist] of dists.entries()) {
      const dtype = dist.kind === "uniform" || dist.kind === "normal" ? "f32" : "u32";
      const out = engine.tensor({ dtype, shape: [rows, cols], label: `t.out.${i}` });
      (await createRandomFill(engine, { out, dist, ...KEY, label: `t.fill.${i}` })).encode(enc);
      outs.push(out);
    }
    engine.submit(enc);
    const [uni, nor, below, bern] = await readTensors(engine, outs);
    const ref = (i: number) => randomFillReference(rows, cols, { ...KEY, dist: dists[i] });
    assertAllClose(uni, ref(0), { atol: 1e-6, rtol: 1e-6 }, "uniform");
    assertAllClose(nor, ref(1), { atol: 1e-5, rtol: 1e-4 }, "normal");
    assertExact(below, ref(2), "below");
    assertExact(bern, ref(3), "bernoulli");
    const n = rows * cols;
    const [mu, vu] = moments(uni), [mn, vn] = moments(nor), [mb] = moments(bern);
    assertAllClose([mu, vu], [0.75, 6.5 ** 2 / 12], { atol: 0.06 }, "uniform moments");
    assertAllClose([mn, vn], [1.5, 4], { atol: 0.1 }, "normal moments");
    assertAllClose([mb], [0.25], { atol: 4 * Math.sqrt(0.25 * 0.75 / n) }, "bernoulli rate");
    if (uni.some((v) => v < -2.5 || v >= 4)) throw new Error("uniform draw outside [-2.5, 4)");
  },
);

gpuTest("createRandomFill() rejects a dtype that does not fit the distribution", async (engine) => {
  const out = engine.tensor({ dtype: "f32", shape: [4], label: "t.out" });
  let msg = "";
  try {
    await createRandomFill(engine, {
      out,
      dist: { kind: "below", k: 3 },
      seed: 1,
      purpose: 1,
      label: "t.bad",
    });
  } catch (e) {
    msg = (e as Error).message;
  }
  if (!msg.includes("need a u32 tensor")) throw new Error(`unexpected error "${msg}"`);
});

for (const numAgents of AGENT_COUNTS) {
  gpuTest(
    `createCategorical() picks the reference categories (${numAgents} agents, probs and logits)`,
    async (engine) => {
      const numEnvs = 67, numActions = 7;
      const r = seeded(11 + numAgents);
      const logits = r.f32(numAgents * numEnvs * numActions, -3, 3);
      const probs = r.f32(numAgents * numEnvs * numActions, 0, 1);
      for (let i = 0; i < probs.length; i += 5) probs[i] = 0; // some impossible categories
      const shape = [numAgents, numEnvs, numActions];
      const input = {
        probs: engine.tensor({ dtype: "f32", shape, label: "t.probs", data: probs }),
        logits: engine.tensor({ dtype: "f32", shape, label: "t.logits", data: logits }),
      };
      const enc = engine.encoder();
      const choices = [];
      for (const from of ["probs", "logits"] as const) {
        const choice = engine.tensor({
          dtype: "u32",
          shape: [numAgents, numEnvs],
          label: `t.${from}.choice`,
        });
        const op = await createCategorical(engine, {
          input: input[from],
          from,
          choice,
          numAgents,
          numEnvs,
          numActions,
          ...KEY,
          label: `t.cat.${from}`,
        });
        op.encode(enc);
        choices.push(choice);
      }
      engine.submit(enc);
      const [cp, cl] = await readTensors(engine, choices);
      const o = { numAgents, numEnvs, numActions, ...KEY };
      assertExact(cp, categoricalReference(probs, { ...o, from: "probs" }), "probs choices");
      assertExact(cl, categoricalReference(logits, { ...o, from: "logits" }), "logits choices");
      cp.forEach((c, i) => {
        if (probs[i * numActions + c] === 0) {
          throw new Error(`row ${i} chose zero-probability ${c}`);
        }
      });
    },
  );
}

gpuTest(
  "createCategorical() frequencies follow the probabilities and softmax(logits)",
  async (engine) => {
    const numAgents = 2, numEnvs = 4001, numActions = 4;
    const p = [0.1, 0.2, 0.3, 0.4];
    const probs = new Float32Array(numAgents * numEnvs * numActions).map((_, i) => p[i % 4]);
    const logits = probs.map(Math.log);
    const shape = [numAgents, numEnvs, numActions];
    const enc = engine.encoder();
    const choices = [];
    for (const [from, data] of [["probs", probs], ["logits", logits]] as const) {
      const input = engine.tensor({ dtype: "f32", shape, label: `t.${from}`, data });
      const choice = engine.tensor({
        dtype: "u32",
        shape: [numAgents, numEnvs],
        label: `t.${from}.c`,
      });
      (await createCategorical(engine, {
        input,
        from,
        choice,
        numAgents,
        numEnvs,
        numActions,
        seed: 3,
        purpose: RNG_PURPOSE.action,
        label: `t.${from}`,
      })).encode(enc);
      choices.push(choice);
    }
    engine.submit(enc);
    for (const [i, c] of (await readTensors(engine, choices)).entries()) {
      const freq = [0, 0, 0, 0];
      for (const k of c) freq[k] += 1 / c.length;
      assertAllClose(
        freq,
        p,
        { atol: 0.015 },
        i === 0 ? "probs frequencies" : "logits frequencies",
      );
    }
  },
);
