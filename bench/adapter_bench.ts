// Probes of the adapter's arithmetic and load rates, the two numbers that bound every kernel on a
// CPU adapter (llvmpipe runs 8 invocations in the lanes of one SIMD register and turns each
// storage load with a per-invocation address into a per-lane gather):
//   alu      GFLOP/s of register-only vec4 multiply-adds;
//   gather   per-invocation f32 loads per second (an address per lane);
//   gather4  per-invocation vec4 loads per second.
// Run: deno bench -A bench/adapter_bench.ts (a table of the best figures is printed at the end).
import { createEngine, type Engine } from "../engine/device.ts";
import { type Access, type BindingTensors, compileKernel, defineKernel } from "../engine/kernel.ts";
import { settle } from "../engine/readback.ts";

const engine: Engine = await createEngine();
const SHADER = "bench/adapter_bench.wgsl";
const INCLUDES = ["common/_index.wgsl"] as const;
const PARAMS = { n: "u32", iters: "u32", mask: "u32" } as const;
const THREADS = engine.isCpu ? 4096 : 1 << 20;
const ITERS = engine.isCpu ? 1000 : 4000;
/** Dispatches per submit: enough work to dwarf the ~11 ms await of each sample. */
const REPS = engine.isCpu ? 16 : 64;
/** Source words: 4 MiB, beyond the per-core caches of a CPU so loads are not all L1 hits. */
const SRC_WORDS = 1 << 20;
const best = new Map<string, number>();

const out = engine.tensor({ dtype: "f32", shape: [THREADS, 4], label: "bench.probe.out" });
const src = engine.tensor({
  dtype: "f32",
  shape: [SRC_WORDS],
  label: "bench.probe.src",
  data: new Float32Array(SRC_WORDS).fill(1),
});

/** Registers one probe: `perThreadStep` units of work per thread and step, reported in `unit`. */
async function probe<B extends Record<string, Access>>(
  entryPoint: string,
  bindings: B,
  tensors: BindingTensors<B>,
  perThreadStep: number,
  unit: string,
): Promise<void> {
  const def = defineKernel({
    name: `bench.probe.${entryPoint}`,
    shader: SHADER,
    entryPoint,
    includes: INCLUDES,
    bindings,
    params: PARAMS,
    threads: (p) => p.n,
  });
  const kernel = await compileKernel(engine, def);
  const params = { n: THREADS, iters: ITERS, mask: SRC_WORDS - 1 };
  const bound = kernel.bind(tensors, params, `bench.probe.${entryPoint}`);
  const name = `${entryPoint} (${unit})`;
  Deno.bench({
    name: `${entryPoint}: ${REPS} dispatches × ${THREADS} threads × ${ITERS} steps`,
    group: "adapter",
    n: 10,
    warmup: 2,
    async fn(b) {
      await settle(engine);
      b.start();
      const t0 = performance.now();
      const enc = engine.encoder();
      for (let r = 0; r < REPS; r++) bound.encode(enc);
      engine.submit(enc);
      await settle(engine);
      const seconds = (performance.now() - t0) / 1000;
      b.end();
      const rate = (REPS * THREADS * ITERS * perThreadStep) / seconds / 1e9;
      best.set(name, Math.max(best.get(name) ?? 0, rate));
    },
  });
}

await probe("alu", { out: "write" }, { out }, 64, "GFLOP/s");
await probe("gather", { out: "write", src: "read" }, { out, src }, 1, "G loads/s");
await probe("gather4", { out: "write", src4: "read" }, { out, src4: src }, 1, "G vec4 loads/s");

globalThis.addEventListener("unload", () => {
  console.log(`\nadapter: ${engine.adapter.description} (isCpu ${engine.isCpu})`);
  for (const [name, v] of best) console.log(`best ${name}: ${v.toFixed(3)}`);
  engine.destroy();
});
