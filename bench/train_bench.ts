// Batched 8-agent Q-network update with the Pursuit shape vs the same 8 agents one after another.
// Run: deno bench -A bench/train_bench.ts
// Network: 7×7×3 obs → conv 3→32 k2 → conv 32→64 k2 → conv 64→64 k2 (ReLU) → flatten 1024 →
// dense 64 (ReLU) → dense 5 (Q); Huber loss on the chosen action, batch 32, Adam with clipping 40.
// "batched": one Net with numAgents = 8, every layer one dispatch for all agents.
// "sequential": 8 Nets with numAgents = 1, updated one after another in the same encoder.
// Each timed iteration records UPDATES updates and awaits once (settle, ~11 ms in Deno).
import { createEngine, type Engine } from "../engine/device.ts";
import type { Encoder } from "../engine/encoder.ts";
import { initNetParams, linearInit, type ParamTensor } from "../engine/init.ts";
import { createAdam } from "../engine/nn/adam.ts";
import { conv2dParamCount, createConv2d } from "../engine/nn/conv2d.ts";
import { createFlatten } from "../engine/nn/flatten.ts";
import { createLinear, linearParamCount } from "../engine/nn/linear.ts";
import { createQLoss } from "../engine/ops/losses.ts";
import { createNet } from "../engine/nn/net.ts";
import { settle } from "../engine/readback.ts";
import { HostRng } from "../engine/rng.ts";

const engine: Engine = await createEngine();
const BATCH = 32, ACTIONS = 5, AGENTS = 8;
const UPDATES = engine.isCpu ? 4 : 200;
const CONVS = [[3, 32], [32, 64], [64, 64]] as const;

/** Builds the full update (forward, loss, backward, Adam) for `numAgents` agents in one Net. */
async function buildUpdate(numAgents: number, label: string): Promise<(enc: Encoder) => void> {
  const tensors: ParamTensor[] = [];
  let stride = 0;
  const convOffsets: number[] = [];
  for (const [cin, cout] of CONVS) {
    convOffsets.push(stride);
    tensors.push(
      { offset: stride, shape: [cout, cin, 2, 2], init: { kind: "torchDefault" } },
      {
        offset: stride + cout * cin * 4,
        shape: [cout],
        init: { kind: "torchDefault", fanIn: cin * 4 },
      },
    );
    stride += conv2dParamCount(cin, cout, 2);
  }
  const fc1 = stride;
  tensors.push(...linearInit({ offset: fc1, inDim: 1024, outDim: 64 }));
  stride += linearParamCount(1024, 64);
  const head = stride;
  tensors.push(...linearInit({ offset: head, inDim: 64, outDim: ACTIONS }));
  stride += linearParamCount(64, ACTIONS);
  const net = createNet(engine, {
    numAgents,
    stride,
    label,
    init: initNetParams({ numAgents, stride, seed: 1, tensors }),
  });
  const rng = new HostRng(7);
  const obs = engine.tensor({
    dtype: "f32",
    shape: [numAgents, BATCH, 7, 7, 3],
    label: `${label}.obs`,
    data: Float32Array.from({ length: numAgents * BATCH * 147 }, () => rng.below(3)),
  });
  const action = engine.tensor({
    dtype: "u32",
    shape: [numAgents, BATCH],
    label: `${label}.action`,
    data: Uint32Array.from({ length: numAgents * BATCH }, () => rng.below(ACTIONS)),
  });
  const target = engine.tensor({
    dtype: "f32",
    shape: [numAgents, BATCH],
    label: `${label}.target`,
    data: Float32Array.from({ length: numAgents * BATCH }, () => rng.uniform(-1, 1)),
  });
  const layers: { forward(e: Encoder): void; backward(e: Encoder): void }[] = [];
  let x = obs, dx: typeof obs | undefined = undefined, hw = 7;
  for (let l = 0; l < CONVS.length; l++) {
    const [cin, cout] = CONVS[l];
    const c = await createConv2d(engine, {
      net,
      offset: convOffsets[l],
      x,
      dx,
      batch: BATCH,
      h: hw,
      w: hw,
      cin,
      cout,
      k: 2,
      activation: "relu",
      label: `${label}.conv${l}`,
    });
    layers.push(c);
    x = c.y;
    dx = c.dy;
    hw--;
  }
  const flat = await createFlatten(engine, {
    x,
    dx,
    numAgents,
    batch: BATCH,
    height: 4,
    width: 4,
    channels: 64,
    label: `${label}.flatten`,
  });
  layers.push(flat);
  const h1 = await createLinear(engine, {
    net,
    offset: fc1,
    x: flat.y,
    dx: flat.dy,
    batch: BATCH,
    inDim: 1024,
    outDim: 64,
    activation: "relu",
    label: `${label}.fc1`,
  });
  const q = await createLinear(engine, {
    net,
    offset: head,
    x: h1.y,
    dx: h1.dy,
    batch: BATCH,
    inDim: 64,
    outDim: ACTIONS,
    activation: "identity",
    label: `${label}.q`,
  });
  layers.push(h1, q);
  const loss = await createQLoss(engine, {
    kind: "huber",
    q: q.y,
    action,
    target,
    numAgents,
    batch: BATCH,
    numActions: ACTIONS,
    dQ: q.dy,
    label: `${label}.loss`,
  });
  const adam = await createAdam(engine, { net, lr: 1e-4, maxNorm: 40, label });
  return (enc) => {
    for (const l of layers) l.forward(enc);
    loss.forward(enc);
    loss.backward(enc);
    for (let i = layers.length - 1; i >= 0; i--) layers[i].backward(enc);
    adam.step(enc);
  };
}

const batched = await buildUpdate(AGENTS, "bench.batched");
const sequential = await Promise.all(
  Array.from({ length: AGENTS }, (_, a) => buildUpdate(1, `bench.agent${a}`)),
);

async function timeUpdates(record: (enc: Encoder) => void): Promise<void> {
  const enc = engine.encoder();
  for (let u = 0; u < UPDATES; u++) record(enc);
  engine.submit(enc);
  await settle(engine);
}
// Warm-up (pipeline compilation is done at build time; this touches every buffer once).
await timeUpdates(batched);
await timeUpdates((enc) => sequential.forEach((s) => s(enc)));

const shape = `${AGENTS} agents × batch ${BATCH}, 7×7×3 CNN [32,64,64] k2 → 64 → ${ACTIONS}, Adam`;
Deno.bench({
  name: `pursuit Q update, batched: ${UPDATES} updates of ${shape}`,
  group: "pursuit-q-update",
  baseline: true,
  async fn(b) {
    b.start();
    await timeUpdates(batched);
    b.end();
  },
});
Deno.bench({
  name: `pursuit Q update, one agent after another: ${UPDATES} updates of ${shape}`,
  group: "pursuit-q-update",
  async fn(b) {
    b.start();
    await timeUpdates((enc) => sequential.forEach((s) => s(enc)));
    b.end();
  },
});
