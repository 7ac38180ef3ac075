// End-to-end learning on the GPU: MLP + loss + Adam, many steps per submit, reads only at the end.
import { initNetParams } from "../../../engine/init.ts";
import { createAdam } from "../../../engine/nn/adam.ts";
import { createCrossEntropy } from "../../../engine/ops/cross_entropy.ts";
import { createValueLoss } from "../../../engine/ops/losses.ts";
import { createMlp, mlpInit, mlpParamCount } from "../../../engine/nn/mlp.ts";
import { createNet } from "../../../engine/nn/net.ts";
import { readTensor } from "../../../engine/readback.ts";
import { gpuTest, seeded } from "../../_testing.ts";

gpuTest("an MLP learns a small regression problem for 3 agents at once", async (engine) => {
  const numAgents = 3, batch = 64, inDim = 2, steps = 300;
  const spec = { sizes: [inDim, 32, 32, 1], hidden: "tanh", output: "identity" } as const;
  const stride = mlpParamCount(spec);
  const net = createNet(engine, {
    numAgents,
    stride,
    label: "reg",
    init: initNetParams({ numAgents, stride, seed: 3, tensors: mlpInit(spec, 0) }),
  });
  // Each agent fits its own target: y = sin(a + 2 x0) · x1 on fixed random inputs.
  const r = seeded(5);
  const xs = r.f32(numAgents * batch * inDim);
  const ys = new Float32Array(numAgents * batch);
  for (let a = 0; a < numAgents; a++) {
    for (let b = 0; b < batch; b++) {
      const i = (a * batch + b) * inDim;
      ys[a * batch + b] = Math.sin(a + 2 * xs[i]) * xs[i + 1];
    }
  }
  const x = engine.tensor({
    dtype: "f32",
    shape: [numAgents, batch, inDim],
    label: "reg.x",
    data: xs,
  });
  const y = engine.tensor({ dtype: "f32", shape: [numAgents, batch], label: "reg.y", data: ys });
  const mlp = await createMlp(engine, { net, offset: 0, spec, x, batch, label: "reg.mlp" });
  const loss = await createValueLoss(engine, {
    value: mlp.y,
    target: y,
    numAgents,
    batch,
    dValue: mlp.dy,
    label: "reg.loss",
  });
  const adam = await createAdam(engine, { net, lr: 1e-2, label: "reg" });
  const lossAt = async () => {
    const enc = engine.encoder();
    mlp.forward(enc);
    loss.forward(enc);
    engine.submit(enc);
    return await readTensor(engine, loss.loss);
  };
  const before = await lossAt();
  const reads = engine.stats.reads;
  const enc = engine.encoder();
  for (let s = 0; s < steps; s++) {
    mlp.forward(enc);
    loss.forward(enc);
    loss.backward(enc);
    mlp.backward(enc);
    adam.step(enc);
  }
  engine.submit(enc);
  if (engine.stats.reads !== reads) throw new Error("the training loop read from the GPU");
  const after = await lossAt();
  for (let a = 0; a < numAgents; a++) {
    if (!(after[a] < 0.1 * before[a])) {
      throw new Error(`agent ${a}: loss ${before[a]} → ${after[a]}, want a 10× drop`);
    }
  }
});

gpuTest("an MLP learns a small classification problem", async (engine) => {
  const numAgents = 1, batch = 96, inDim = 2, classes = 3, steps = 200;
  const spec = { sizes: [inDim, 32, classes], hidden: "relu", output: "identity" } as const;
  const stride = mlpParamCount(spec);
  const net = createNet(engine, {
    numAgents,
    stride,
    label: "cls",
    init: initNetParams({ numAgents, stride, seed: 9, tensors: mlpInit(spec, 0) }),
  });
  // Three Gaussian blobs.
  const r = seeded(8);
  const centres = [[0, 1], [-0.9, -0.5], [0.9, -0.5]];
  const xs = new Float32Array(batch * inDim), labels = new Uint32Array(batch);
  for (let b = 0; b < batch; b++) {
    const c = b % classes;
    labels[b] = c;
    xs[2 * b] = centres[c][0] + 0.3 * r.rng.normal();
    xs[2 * b + 1] = centres[c][1] + 0.3 * r.rng.normal();
  }
  const x = engine.tensor({ dtype: "f32", shape: [1, batch, inDim], label: "cls.x", data: xs });
  const lab = engine.tensor({ dtype: "u32", shape: [1, batch], label: "cls.labels", data: labels });
  const mlp = await createMlp(engine, { net, offset: 0, spec, x, batch, label: "cls.mlp" });
  const ce = await createCrossEntropy(engine, {
    logits: mlp.y,
    labels: lab,
    numAgents,
    batch,
    numActions: classes,
    dLogits: mlp.dy,
    label: "cls.ce",
  });
  const adam = await createAdam(engine, { net, lr: 1e-2, label: "cls" });
  const enc = engine.encoder();
  for (let s = 0; s < steps; s++) {
    mlp.forward(enc);
    ce.forward(enc);
    ce.backward(enc);
    mlp.backward(enc);
    adam.step(enc);
  }
  mlp.forward(enc);
  ce.forward(enc);
  engine.submit(enc);
  const logits = await readTensor(engine, mlp.y);
  const loss = (await readTensor(engine, ce.mean))[0];
  let correct = 0;
  for (let b = 0; b < batch; b++) {
    const row = logits.subarray(b * classes, (b + 1) * classes);
    if (row.indexOf(Math.max(...row)) === labels[b]) correct++;
  }
  if (correct / batch < 0.9 || !(loss < 0.4)) {
    throw new Error(`accuracy ${correct / batch}, loss ${loss}`);
  }
});
