// Kernel benches: dense layer forward + backward per kernel variant, and dispatch overhead.
// Run: deno bench -A bench/kernels_bench.ts
// Each timed iteration records `reps` × (forward, backwardWeight, backwardInput) into one encoder,
// submits once and awaits once (settle: ~11 ms in Deno), so the await is amortised. The name
// carries the FLOP per iteration (2·A·B·I·O per matmul, 3 matmuls per rep; bias and activation
// not counted): GFLOP/s = that figure / (time per iteration in s). A table of the best GFLOP/s per
// bench is also printed when the run ends.
import { createEngine, type Engine } from "../engine/device.ts";
import type { Encoder } from "../engine/encoder.ts";
import { compileKernel, defineKernel } from "../engine/kernel.ts";
import { createLinear, linearParamCount, type LinearVariant } from "../engine/nn/linear.ts";
import { createNet } from "../engine/nn/net.ts";
import { settle } from "../engine/readback.ts";

const engine: Engine = await createEngine();
/** Work behind one await: enough to dwarf the ~11 ms sync on llvmpipe. */
const TARGET_FLOP = engine.isCpu ? 4e8 : 2e10;

interface DenseSize {
  numAgents: number;
  batch: number;
  inDim: number;
  outDim: number;
}

const SIZES: DenseSize[] = [
  { numAgents: 8, batch: 32, inDim: 1024, outDim: 64 },
  { numAgents: 8, batch: 256, inDim: 64, outDim: 64 },
  { numAgents: 1, batch: 1024, inDim: 256, outDim: 256 },
];
// The tiled kernels run on llvmpipe too, but barriers make them slow there; bench them anyway.
const VARIANTS: LinearVariant[] = ["naive", "blocked", "tiled"];

const best = new Map<string, number>();

function denseBench(s: DenseSize, variant: LinearVariant): void {
  const flopPerRep = 3 * 2 * s.numAgents * s.batch * s.inDim * s.outDim;
  const reps = Math.max(1, Math.round(TARGET_FLOP / flopPerRep));
  const flop = reps * flopPerRep;
  const shape = `${s.numAgents}×${s.batch}×${s.inDim}→${s.outDim}`;
  const name = `linear fwd+bwd ${variant} ${shape} ×${reps} (${(flop / 1e9).toFixed(3)} GFLOP)`;
  let layer: Promise<(enc: Encoder) => void> | null = null;
  const build = async () => {
    const stride = linearParamCount(s.inDim, s.outDim);
    const net = createNet(engine, {
      numAgents: s.numAgents,
      stride,
      label: "bench.net",
      init: Float32Array.from({ length: s.numAgents * stride }, (_, i) => Math.sin(i) * 0.05),
    });
    const dims = [s.numAgents, s.batch, s.inDim];
    const x = engine.tensor({
      dtype: "f32",
      shape: dims,
      label: "bench.x",
      data: Float32Array.from({ length: s.numAgents * s.batch * s.inDim }, (_, i) => Math.cos(i)),
    });
    const dx = engine.tensor({ dtype: "f32", shape: dims, label: "bench.dx" });
    const lin = await createLinear(engine, {
      net,
      offset: 0,
      x,
      dx,
      ...s,
      activation: "relu",
      label: "bench.linear",
      variant,
    });
    engine.write(lin.dy, new Float32Array(lin.dy.size).fill(0.01));
    return (enc: Encoder) => {
      lin.forward(enc);
      lin.backward(enc);
    };
  };
  Deno.bench({
    name,
    group: shape,
    baseline: variant === "naive",
    n: 5,
    warmup: 1,
    async fn(b) {
      layer ??= build();
      const step = await layer;
      await settle(engine);
      b.start();
      const t0 = performance.now();
      const enc = engine.encoder();
      for (let r = 0; r < reps; r++) step(enc);
      engine.submit(enc);
      await settle(engine);
      const seconds = (performance.now() - t0) / 1000;
      b.end();
      best.set(name, Math.max(best.get(name) ?? 0, flop / seconds / 1e9));
    },
  });
}

for (const s of SIZES) for (const v of VARIANTS) denseBench(s, v);

/** One workgroup that writes one word: the per-dispatch cost of the encoder → queue path. */
const benchEmpty = defineKernel({
  name: "bench.empty",
  shader: "bench/kernels_bench.wgsl",
  entryPoint: "empty",
  includes: ["common/_index.wgsl"],
  bindings: { out: "write" },
  params: { n: "u32" },
  threads: (p) => p.n,
});
const DISPATCHES = 2000;
let emptyDispatch: Promise<(enc: Encoder) => void> | null = null;
Deno.bench({
  name: `empty kernel ×${DISPATCHES} dispatches in one submit`,
  group: "dispatch",
  n: 20,
  warmup: 2,
  async fn(b) {
    emptyDispatch ??= (async () => {
      const k = await compileKernel(engine, benchEmpty);
      const out = engine.tensor({ dtype: "u32", shape: [1], label: "bench.empty.out" });
      const d = k.bind({ out }, { n: 1 });
      return (enc: Encoder) => d.encode(enc);
    })();
    const encodeOne = await emptyDispatch;
    await settle(engine);
    b.start();
    const t0 = performance.now();
    const enc = engine.encoder();
    for (let i = 0; i < DISPATCHES; i++) encodeOne(enc);
    engine.submit(enc);
    await settle(engine);
    const seconds = (performance.now() - t0) / 1000;
    b.end();
    const name = "empty kernel dispatches/s";
    best.set(name, Math.max(best.get(name) ?? 0, DISPATCHES / seconds));
  },
});

globalThis.addEventListener("unload", () => {
  console.log(`\nadapter: ${engine.adapter.description} (isCpu ${engine.isCpu})`);
  for (const [name, v] of best) {
    const unit = name.startsWith("empty") ? "" : " GFLOP/s";
    console.log(`best ${name}: ${v.toFixed(name.startsWith("empty") ? 0 : 2)}${unit}`);
  }
  engine.destroy();
});
