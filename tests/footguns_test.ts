// WebGPU and WGSL surprises, pinned so that nobody trips on them twice.
import { compileKernel, defineKernel } from "../engine/kernel.ts";
import { fillKernel } from "../engine/ops/elementwise.ts";
import { readTensor } from "../engine/readback.ts";
import { assertExact, gpuTest } from "./_testing.ts";

gpuTest(
  "queue writes land before the whole submit: two encodes of one dispatch see the last value",
  async (engine) => {
    // writeParams (queue.writeBuffer) between two encodes of the same dispatch in one submit does
    // NOT give each encode its own value: per-step scalars belong in GPU buffers or uniform rings.
    const out = engine.tensor({ dtype: "f32", shape: [5], label: "test.out" });
    const k = await compileKernel(engine, fillKernel);
    const d = k.bind({ out }, { n: 5, value: 1, alpha: 0, beta: 0 });
    const enc = engine.encoder();
    d.encode(enc);
    d.writeParams({ value: 2 });
    d.encode(enc);
    d.writeParams({ value: 7 });
    engine.submit(enc);
    assertExact(await readTensor(engine, out), [7, 7, 7, 7, 7], "fill");
  },
);

const sortKernel = (entryPoint: string) =>
  defineKernel({
    name: `footguns.${entryPoint}`,
    shader: "../tests/fixtures/footguns.wgsl",
    entryPoint,
    bindings: { data: "write" },
    params: { n: "u32" },
    workgroups: () => [1],
    workgroupSize: null,
  });

async function sortOnGpu(engine: Parameters<typeof compileKernel>[0], entry: string, xs: number[]) {
  const data = engine.tensor({ dtype: "u32", shape: [xs.length], label: "test.data", data: xs });
  const k = await compileKernel(engine, sortKernel(entry));
  const enc = engine.encoder();
  k.bind({ data }, { n: xs.length }).encode(enc);
  engine.submit(enc);
  return Array.from(await readTensor(engine, data));
}

gpuTest(
  "private-array swaps inside a for loop sort correctly (the form our kernels use)",
  async (engine) => {
    assertExact(
      await sortOnGpu(engine, "sortFor", [7, 3, 9, 1, 1, 4]),
      [1, 1, 3, 4, 7, 9],
      "sortFor",
    );
  },
);

gpuTest(
  "private-array swaps in a while loop that reads the array miscompile on llvmpipe",
  async (engine) => {
    // Seen on Mesa llvmpipe with Deno 2.9.6: a copy `let r = a[j]` inside the loop observes the
    // later write to a[j], so [7, 3, 9, 1] comes back wrong. Kernels use the for-loop form above;
    // any real GPU must sort correctly.
    const got = await sortOnGpu(engine, "sortWhile", [7, 3, 9, 1]);
    const correct = got.join() === "1,3,7,9";
    if (!correct && !engine.adapter.isFallback) throw new Error(`sortWhile gave [${got}] on a GPU`);
    if (!correct) console.warn(`known llvmpipe miscompile reproduced: [${got}]`);
  },
);
