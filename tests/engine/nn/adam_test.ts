import {
  ADAM_NORM_CHUNK,
  ADAM_VARIANTS,
  type AdamVariant,
  createAdam,
} from "../../../engine/nn/adam.ts";
import {
  adamReferenceState,
  type AdamRefHyper,
  adamStepReference,
  globalNormReference,
} from "../../../engine/nn/adam_reference.ts";
import { createNet } from "../../../engine/nn/net.ts";
import { readTensors } from "../../../engine/readback.ts";
import { AGENT_COUNTS, assertAllClose, assertExact, gpuTest, seeded } from "../../_testing.ts";

const STRIDE = 1000 + 37; // two norm chunks, the second ragged
const STEPS = 100;

/** Gradients of step s: agent a's block scaled by `agentScale[a]`, with a per-step sign wobble. */
function gradsFor(
  s: number,
  numAgents: number,
  stride: number,
  agentScale: readonly number[],
): Float32Array {
  const g = seeded(1000 + s).f32(numAgents * stride);
  for (let a = 0; a < numAgents; a++) {
    for (let i = a * stride; i < (a + 1) * stride; i++) {
      g[i] *= agentScale[a] * (1 + 0.5 * Math.sin(s + i));
    }
  }
  return g;
}

interface Scenario {
  name: string;
  hyper: AdamRefHyper;
  /** Gradient scale per agent (vs the clip threshold). */
  agentScale: (a: number) => number;
  /** Mask of step s, or none. */
  mask?: (s: number, a: number) => number;
  lrScale?: (a: number) => number;
  /** Host lr schedule: lr at step s (rewritten with setHyper when it changes). */
  lrAt?: (s: number) => number;
}

const SCENARIOS: Scenario[] = [
  {
    name: "no clipping, per-agent lr scale and a host lr schedule",
    hyper: { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxNorm: 0 },
    agentScale: (a) => 1 + a,
    lrScale: (a) => 1 / (1 + a),
    lrAt: (s) => (s < 50 ? 1e-2 : 3e-3),
  },
  {
    name: "clipping active on some agents, masked steps, eps 1e-3",
    hyper: { lr: 5e-3, beta1: 0.9, beta2: 0.999, eps: 1e-3, maxNorm: 10 },
    // Block norms ≈ √(1037/3)·scale ≈ 18.6·scale: agents alternate clipped (scale 2) / unclipped.
    agentScale: (a) => (a % 2 === 0 ? 2 : 0.25),
    mask: (s, a) => ((s + a) % 3 === 0 ? 0 : 1),
  },
];

// Every variant an adapter can select (ADAM_VARIANTS), forced on this adapter.
const VARIANTS: AdamVariant[] = [
  ...new Set(Object.values(ADAM_VARIANTS).flatMap((v) => Object.values(v) as AdamVariant[])),
];

for (const variant of VARIANTS) {
  for (const numAgents of AGENT_COUNTS) {
    for (const sc of SCENARIOS) {
      gpuTest(
        `createAdam() ${variant} matches float64 reference over ${STEPS} steps (${numAgents} agents, ${sc.name})`,
        async (engine) => {
          const stride = STRIDE;
          const init = seeded(5 + numAgents).f32(numAgents * stride);
          const net = createNet(engine, { numAgents, stride, label: "t.net", init });
          const agents = [...Array(numAgents).keys()];
          const agentScale = agents.map(sc.agentScale);
          const lrScaleH = sc.lrScale ? Float32Array.from(agents.map(sc.lrScale)) : undefined;
          const maskT = sc.mask
            ? engine.tensor({ dtype: "u32", shape: [numAgents], label: "t.mask" })
            : undefined;
          const lrScaleT = lrScaleH
            ? engine.tensor({ dtype: "f32", shape: [numAgents], label: "t.lr", data: lrScaleH })
            : undefined;
          const adam = await createAdam(engine, {
            net,
            ...sc.hyper,
            mask: maskT,
            lrScale: lrScaleT,
            label: "t",
            variant,
          });
          const ref = adamReferenceState(init, { numAgents, stride });
          const hyper = { ...sc.hyper };
          let clippedSteps = 0;
          let refNorms: ArrayLike<number> = new Float64Array(numAgents);
          for (let s = 0; s < STEPS; s++) {
            const grads = gradsFor(s, numAgents, stride, agentScale);
            const mask = sc.mask ? Uint32Array.from(agents.map((a) => sc.mask!(s, a))) : undefined;
            if (sc.lrAt && sc.lrAt(s) !== hyper.lr) {
              hyper.lr = sc.lrAt(s);
              adam.setHyper({ lr: hyper.lr });
            }
            engine.write(net.grads, grads);
            if (maskT && mask) engine.write(maskT, mask);
            const enc = engine.encoder();
            adam.step(enc);
            engine.submit(enc);
            refNorms = adamStepReference(ref, { grads, hyper, mask, lrScale: lrScaleH });
            if (hyper.maxNorm > 0) {
              clippedSteps += Array.from(refNorms).filter((n) => n > hyper.maxNorm).length;
            }
          }
          const [params, m, v, count, norm] = await readTensors(
            engine,
            [net.params, adam.m, adam.v, adam.count, adam.norm] as const,
          );
          assertExact(count, ref.count, "count");
          if (sc.mask) {
            if (!ref.count.some((c) => c < STEPS)) throw new Error("mask never skipped a step");
          }
          if (sc.hyper.maxNorm > 0) {
            if (clippedSteps === 0) throw new Error("clipping was never active");
            if (numAgents > 1 && clippedSteps === numAgents * STEPS) {
              throw new Error("clipping was active on every agent and step");
            }
            assertAllClose(norm, refNorms, { atol: 1e-5, rtol: 1e-5 }, "norm");
          }
          assertAllClose(m, ref.m, { atol: 1e-6, rtol: 1e-4 }, "m");
          assertAllClose(v, ref.v, { atol: 1e-7, rtol: 1e-4 }, "v");
          assertAllClose(params, ref.params, { atol: 5e-6, rtol: 1e-6 }, "params");
          const moved = params.reduce((s, x, i) => s + Math.abs(x - init[i]), 0) / params.length;
          if (!(moved > 1e-2)) throw new Error(`params barely moved (${moved} on average)`);
        },
      );
    }
  }
}

for (const variant of VARIANTS) {
  gpuTest(
    `createAdam() ${variant} writes per-agent global norms over many chunks`,
    async (engine) => {
      const numAgents = 3, stride = 5 * ADAM_NORM_CHUNK + 13;
      const grads = seeded(11).f32(numAgents * stride, -2, 2);
      for (let i = stride; i < 2 * stride; i++) grads[i] *= 1e-3; // a small agent between large ones
      const net = createNet(engine, { numAgents, stride, label: "t.net" });
      const adam = await createAdam(engine, {
        net,
        lr: 1e-3,
        trackNorm: true,
        label: "t",
        variant,
      });
      engine.write(net.grads, grads);
      const enc = engine.encoder();
      adam.step(enc);
      engine.submit(enc);
      const [norm, params] = await readTensors(engine, [adam.norm, net.params] as const);
      assertAllClose(
        norm,
        globalNormReference(grads, { numAgents, stride }),
        { rtol: 1e-5 },
        "norm",
      );
      // trackNorm without maxNorm does not clip: the first step moves every parameter by ≈ lr.
      const first = adamReferenceState(new Float32Array(numAgents * stride), {
        numAgents,
        stride,
      });
      adamStepReference(first, {
        grads,
        hyper: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxNorm: 0 },
      });
      assertAllClose(params, first.params, { atol: 1e-8, rtol: 1e-4 }, "params");
    },
  );
}

gpuTest(
  "createAdam() flat and tree variants take bit-identical steps without a norm",
  async (engine) => {
    const numAgents = 3, stride = 2 * ADAM_NORM_CHUNK + 29;
    const init = seeded(21).f32(numAgents * stride);
    const out: Float32Array[] = [];
    for (const variant of VARIANTS) {
      const net = createNet(engine, { numAgents, stride, label: `t.${variant}`, init });
      const adam = await createAdam(engine, { net, lr: 1e-2, label: `t.${variant}`, variant });
      for (let s = 0; s < 3; s++) {
        engine.write(net.grads, gradsFor(s, numAgents, stride, [1, 2, 3]));
        const enc = engine.encoder();
        adam.step(enc);
        engine.submit(enc);
      }
      const [params, m, v] = await readTensors(engine, [net.params, adam.m, adam.v] as const);
      out.push(params, m, v);
    }
    assertExact(out[3], out[0], "params");
    assertExact(out[4], out[1], "m");
    assertExact(out[5], out[2], "v");
  },
);

gpuTest("createAdam() reset() restarts bias correction and rejects bad options", async (engine) => {
  const numAgents = 2, stride = 77;
  const net = createNet(engine, { numAgents, stride, label: "t.net" });
  const adam = await createAdam(engine, { net, lr: 0.1, label: "t" });
  const grads = seeded(3).f32(numAgents * stride);
  engine.write(net.grads, grads);
  let enc = engine.encoder();
  adam.step(enc);
  adam.step(enc);
  adam.reset(enc);
  engine.submit(enc);
  engine.write(net.params, new Float32Array(numAgents * stride)); // lands after the submit above
  enc = engine.encoder();
  adam.step(enc);
  engine.submit(enc);
  const [params, count] = await readTensors(engine, [net.params, adam.count] as const);
  assertExact(count, [1, 1], "count");
  // After a reset, one step from θ = 0 is θ = −lr·g/(|g| + eps) ≈ −lr·sign(g).
  assertAllClose(params, Array.from(grads, (g) => -0.1 * g / (Math.abs(g) + 1e-8)), {
    atol: 1e-6,
    rtol: 1e-4,
  });
  const wrongMask = engine.tensor({ dtype: "u32", shape: [numAgents + 1], label: "t.bad" });
  await assertRejects(
    () => createAdam(engine, { net, lr: 0.1, mask: wrongMask, label: "t" }),
    TypeError,
  );
  await assertRejects(() => createAdam(engine, { net, lr: 0.1, beta2: 1, label: "t" }), RangeError);
  let threw = false;
  try {
    adam.setHyper({ eps: 0 });
  } catch (e) {
    threw = e instanceof RangeError;
  }
  if (!threw) throw new Error("setHyper({ eps: 0 }) did not throw a RangeError");
});

gpuTest("createAdam() bias correction stays exact to f32 for β2 close to 1", async (engine) => {
  // At t = 1, lr·m̂/√v̂ = lr·sign(g) whatever β: 1 − β2 = 1e-4 must not lose digits to 1 − e^x.
  const numAgents = 3, stride = 101;
  const grads = seeded(8).f32(numAgents * stride, 0.5, 2);
  const net = createNet(engine, { numAgents, stride, label: "t.net" });
  const adam = await createAdam(engine, { net, lr: 1, beta1: 0.99, beta2: 0.9999, label: "t" });
  engine.write(net.grads, grads);
  const enc = engine.encoder();
  adam.step(enc);
  engine.submit(enc);
  const [params] = await readTensors(engine, [net.params] as const);
  assertAllClose(params, new Float64Array(numAgents * stride).fill(-1), { atol: 2e-6, rtol: 0 });
});

async function assertRejects(
  fn: () => Promise<unknown>,
  type: new (...args: never[]) => Error,
): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof type) return;
    throw new Error(`expected ${type.name}, got ${e}`);
  }
  throw new Error(`expected ${type.name}, nothing was thrown`);
}

Deno.test("adamStepReference() first step moves each parameter by lr·sign(g)", () => {
  const state = adamReferenceState([1, 2, 3, 4, 5, 6, 7, 8], { numAgents: 2, stride: 4 });
  const grads = [0.5, -2, 1e-3, -7, 3, -3, 0.1, 0.2];
  adamStepReference(state, {
    grads,
    hyper: { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-12, maxNorm: 0 },
    mask: [1, 0],
  });
  assertAllClose(state.params, [0.99, 2.01, 2.99, 4.01, 5, 6, 7, 8], { atol: 1e-9, rtol: 0 });
  assertExact(state.count, [1, 0], "count");
});

Deno.test("adamStepReference() clips each agent's gradient to norm c", () => {
  // With β1 = β2 = 0 the update is lr·ĝ/(|ĝ| + eps): a large eps makes it ≈ lr·ĝ/eps, exposing ĝ.
  const grads = [3, 4, 0.3, 0.4];
  const state = adamReferenceState([0, 0, 0, 0], { numAgents: 2, stride: 2 });
  const norms = adamStepReference(state, {
    grads,
    hyper: { lr: 1, beta1: 0, beta2: 0, eps: 1e6, maxNorm: 1 },
  });
  assertAllClose(norms, [5, 0.5], { atol: 1e-12, rtol: 0 }, "norms");
  const clipped = Array.from(state.params, (p) => -p * 1e6);
  assertAllClose(clipped, [0.6, 0.8, 0.3, 0.4], { atol: 1e-5, rtol: 0 }, "clipped grads");
});
