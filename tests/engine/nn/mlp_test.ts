// createMlp() variants: the engine's table (chooseDenseVariant) picks them per adapter, every
// variant computes the same forward and backward on the same parameter layout, and the `dz`
// contract ("wide") is refused where its top gradient would not be ∂L/∂y.
import type { Engine } from "../../../engine/device.ts";
import { initNetParams } from "../../../engine/init.ts";
import {
  type Activation,
  chooseDenseVariant,
  DENSE_VARIANTS,
  type DenseVariant,
} from "../../../engine/nn/linear.ts";
import { createMlp, mlpInit, mlpParamCount, type MlpSpec } from "../../../engine/nn/mlp.ts";
import { createNet } from "../../../engine/nn/net.ts";
import { readTensors } from "../../../engine/readback.ts";
import { assertAllClose, gpuTest, seeded } from "../../_testing.ts";

const VARIANTS = Object.keys(DENSE_VARIANTS) as DenseVariant[];

/** y, grads and dx of one forward + backward of a 3-layer MLP built with `variant`. */
async function runMlp(engine: Engine, variant: DenseVariant, hidden: Activation) {
  const numAgents = 2, batch = 11;
  const spec: MlpSpec = { sizes: [5, 9, 7, 3], hidden, output: "identity" };
  const stride = mlpParamCount(spec);
  const r = seeded(4);
  const net = createNet(engine, {
    numAgents,
    stride,
    label: `t.${variant}`,
    init: initNetParams({ numAgents, stride, seed: 2, tensors: mlpInit(spec, 0) }),
  });
  const x = engine.tensor({
    dtype: "f32",
    shape: [numAgents, batch, 5],
    label: "t.x",
    data: r.f32(numAgents * batch * 5),
  });
  const dx = engine.tensor({ dtype: "f32", shape: [numAgents, batch, 5], label: "t.dx" });
  const mlp = await createMlp(engine, {
    net,
    offset: 0,
    spec,
    x,
    dx,
    batch,
    label: `t.${variant}.mlp`,
    variant,
  });
  if (mlp.variant !== variant) throw new Error(`built "${mlp.variant}", asked "${variant}"`);
  engine.write(mlp.dy, r.f32(mlp.dy.size));
  const enc = engine.encoder();
  mlp.forward(enc);
  mlp.backward(enc);
  engine.submit(enc);
  const [y, grads, gx] = await readTensors(engine, [mlp.y, net.grads, dx]);
  return { y, grads, dx: gx };
}

for (const hidden of ["relu", "tanh"] as const) {
  gpuTest(`createMlp() computes the same maths with every dense variant (${hidden})`, async (e) => {
    const want = await runMlp(e, "naive", hidden);
    for (const v of VARIANTS.filter((v) => v !== "naive")) {
      const got = await runMlp(e, v, hidden);
      const tol = { atol: 1e-5, rtol: 1e-4 };
      assertAllClose(got.y, want.y, tol, `${v} y`);
      assertAllClose(got.grads, want.grads, tol, `${v} grads`);
      assertAllClose(got.dx, want.dx, tol, `${v} dx`);
    }
  });
}

gpuTest(
  "chooseDenseVariant() gives the adapter's default, or its fastest chain when asked",
  (e) => {
    const kind = e.isCpu ? "cpu" : "gpu";
    const want = (role: "default" | "fastest") =>
      VARIANTS.find((v) => (DENSE_VARIANTS[v].chosenOn as Record<string, string>)[kind] === role);
    const def = want("default");
    const fastest = want("fastest") ?? def;
    const cases: [Parameters<typeof chooseDenseVariant>[1], DenseVariant | undefined][] = [
      [{ output: "identity" }, def],
      [{ output: "identity", chain: true }, def],
      [{ output: "identity", chain: true, variant: "fastest" }, fastest],
      [{ output: "tanh", chain: true, variant: "fastest" }, def],
      [{ output: "identity", variant: "fastest" }, def],
      [{ output: "relu", variant: "naive" }, "naive"],
    ];
    for (const [shape, v] of cases) {
      const got = chooseDenseVariant(e, shape);
      if (got !== v) throw new Error(`${JSON.stringify(shape)} chose "${got}", want "${v}"`);
    }
  },
);

gpuTest("createMlp() refuses the wide variant for a non-linear output layer", async (e) => {
  const spec: MlpSpec = { sizes: [3, 4, 2], hidden: "relu", output: "tanh" };
  const net = createNet(e, { numAgents: 1, stride: mlpParamCount(spec), label: "t.n" });
  const x = e.tensor({ dtype: "f32", shape: [1, 2, 3], label: "t.x" });
  const err = await createMlp(e, {
    net,
    offset: 0,
    spec,
    x,
    batch: 2,
    label: "t.mlp",
    variant: "wide",
  })
    .then(() => null, (err: unknown) => err);
  if (!(err instanceof TypeError) || !err.message.includes('variant "wide" needs an identity')) {
    throw new Error(`expected a TypeError about the wide variant, got ${err}`);
  }
});
