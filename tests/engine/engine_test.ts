import { createEngine, GpuError } from "../../engine/device.ts";
import { compileKernel, defineKernel } from "../../engine/kernel.ts";
import {
  axpyKernel,
  createFill,
  createUnpackU8,
  iotaKernel,
} from "../../engine/ops/elementwise.ts";
import { linearForward } from "../../engine/nn/linear.ts";
import { readTensor, readTensors } from "../../engine/readback.ts";
import { assertAllClose, assertExact, gpuTest, SKIP_GPU } from "../_testing.ts";

Deno.test({
  name: "createEngine() reports the adapter, whether it is a fallback, and its limits",
  ignore: SKIP_GPU,
  async fn() {
    const engine = await createEngine();
    try {
      const a = engine.adapter;
      if (!a.description) throw new Error("empty adapter description");
      if (typeof a.isFallback !== "boolean") throw new Error("isFallback missing");
      if (!(a.limits.maxStorageBufferBindingSize >= 128 * 2 ** 20)) {
        throw new Error(`maxStorageBufferBindingSize ${a.limits.maxStorageBufferBindingSize}`);
      }
      if (engine.limit("maxBufferSize") !== a.limits.maxBufferSize) {
        throw new Error("limits not applied");
      }
    } finally {
      engine.destroy();
    }
  },
});

Deno.test({
  name: "createEngine() rejects a software adapter when allowFallback is false",
  ignore: SKIP_GPU,
  async fn() {
    const probe = await createEngine();
    const fallback = probe.adapter.isFallback;
    probe.destroy();
    if (!fallback) return; // a real GPU: nothing to reject
    let msg = "";
    try {
      (await createEngine({ allowFallback: false })).destroy();
    } catch (e) {
      msg = (e as Error).message;
    }
    if (!msg.includes("allowFallback is false")) throw new Error(`unexpected: "${msg}"`);
  },
});

Deno.test({
  name: "createEngine() names the limit when a requested limit exceeds the adapter's",
  ignore: SKIP_GPU,
  async fn() {
    let msg = "";
    try {
      (await createEngine({ requiredLimits: { maxBindGroups: 1e9 } })).destroy();
    } catch (e) {
      msg = (e as Error).message;
    }
    if (!msg.includes('"maxBindGroups"')) throw new Error(`unexpected: "${msg}"`);
  },
});

gpuTest("compileKernel() maps a WGSL error to the file and line of its source", async (engine) => {
  const broken = defineKernel({
    name: "test.broken",
    shader: "../tests/fixtures/broken.wgsl",
    entryPoint: "main",
    includes: ["common/_index.wgsl"],
    bindings: { out: "write" },
    params: {},
    threads: (_p) => 1,
  });
  let msg = "";
  try {
    await compileKernel(engine, broken);
  } catch (e) {
    msg = (e as Error).message;
  }
  if (!msg.includes('"test.broken"') || !msg.includes("broken.wgsl:5")) {
    throw new Error(`error does not name kernel and file:line: ${msg}`);
  }
});

gpuTest(
  "Kernel.bind() rejects a buffer bound writable twice in one dispatch, naming the kernel",
  async (engine) => {
    const k = await compileKernel(engine, linearForward);
    const t = engine.tensor({ dtype: "f32", shape: [64], label: "test.aliased" });
    let msg = "";
    try {
      k.bind({ x: t, w: t, y: t }, {
        numAgents: 1,
        batch: 2,
        inDim: 2,
        outDim: 2,
        stride: 6,
        wOff: 0,
        bOff: 4,
        accumulate: 0,
      });
    } catch (e) {
      msg = (e as Error).message;
    }
    if (!msg.includes('"linear.forward"') || !msg.includes("test.aliased")) throw new Error(msg);
  },
);

gpuTest(
  "a validation error at submit becomes a GpuError naming the kernels of that submit",
  async (engine) => {
    const k = await compileKernel(engine, linearForward);
    const x = engine.tensor({ dtype: "f32", shape: [64], label: "test.x" });
    const t = engine.tensor({ dtype: "f32", shape: [64], label: "test.destroyed" });
    const d = k.bind({ x, w: x, y: t }, {
      numAgents: 1,
      batch: 2,
      inDim: 2,
      outDim: 2,
      stride: 6,
      wOff: 0,
      bOff: 4,
      accumulate: 0,
    });
    const enc = engine.encoder();
    d.encode(enc);
    t.buffer.destroy(); // using a destroyed buffer in a submit is a validation error
    let err: unknown = null;
    try {
      engine.submit(enc);
      await readTensor(engine, x);
    } catch (e) {
      err = e;
    }
    if (!(err instanceof GpuError) || !String((err as Error).message).includes("linear.forward")) {
      throw new Error(`expected a GpuError naming linear.forward, got ${err}`);
    }
  },
);

gpuTest("Kernel.bind() rejects a missing or an unknown binding", async (engine) => {
  const k = await compileKernel(engine, axpyKernel);
  const t = engine.tensor({ dtype: "f32", shape: [4], label: "t" });
  const p = { n: 4, value: 0, alpha: 1, beta: 1 };
  let a = "", b = "";
  try {
    k.bind({ x: t } as never, p);
  } catch (e) {
    a = (e as Error).message;
  }
  try {
    k.bind({ x: t, out: t, extra: t } as never, p);
  } catch (e) {
    b = (e as Error).message;
  }
  if (!a.includes('"out" is missing') || !b.includes('no binding "extra"')) {
    throw new Error(`${a} | ${b}`);
  }
});

gpuTest(
  "dispatches past 65535 workgroups are split in 2-D and cover every item once",
  async (engine) => {
    const n = 70_001;
    const idx = engine.tensor({ dtype: "u32", shape: [n], label: "test.idx" });
    const k = await compileKernel(engine, { ...iotaKernel, workgroupSize: 1 });
    const d = k.bind({ idx }, { n, value: 3, alpha: 2, beta: 0 });
    if (d.workgroups[1] < 2) throw new Error(`expected a 2-D grid, got ${d.workgroups}`);
    const enc = engine.encoder();
    d.encode(enc);
    engine.submit(enc);
    const got = await readTensor(engine, idx);
    assertExact(got, Uint32Array.from({ length: n }, (_, i) => 3 + 2 * i), "iota");
  },
);

gpuTest("readback counts one read per await and none for encodes and submits", async (engine) => {
  const a = engine.tensor({ dtype: "f32", shape: [3], label: "a", data: [1, 2, 3] });
  const b = engine.tensor({ dtype: "u8", shape: [7], label: "b", data: [0, 1, 2, 250, 4, 5, 255] });
  const fill = await createFill(engine, a, 4.5);
  const before = engine.stats.reads;
  for (let i = 0; i < 50; i++) {
    const enc = engine.encoder();
    fill.encode(enc);
    engine.submit(enc);
  }
  if (engine.stats.reads !== before) throw new Error("encode/submit counted a read");
  const [av, bv] = await readTensors(engine, [a, b] as const);
  if (engine.stats.reads !== before + 1) {
    throw new Error(`reads ${engine.stats.reads}, want ${before + 1}`);
  }
  assertAllClose(av, [4.5, 4.5, 4.5]);
  assertExact(bv, [0, 1, 2, 250, 4, 5, 255], "u8 roundtrip");
});

gpuTest("u8 tensors unpack to f32 on the GPU", async (engine) => {
  const data = Uint8Array.from({ length: 13 }, (_, i) => (i * 37) % 256);
  const packed = engine.tensor({ dtype: "u8", shape: [13], label: "p", data });
  const out = engine.tensor({ dtype: "f32", shape: [13], label: "o" });
  const op = await createUnpackU8(engine, { packed, out });
  const enc = engine.encoder();
  op.encode(enc);
  engine.submit(enc);
  assertExact(await readTensor(engine, out), Array.from(data), "unpack");
});

gpuTest("engine.tensor() and write() reject sizes that do not fit", (engine) => {
  const t = engine.tensor({ dtype: "f32", shape: [4], label: "t" });
  let a = "", b = "";
  try {
    engine.write(t, [1, 2, 3, 4, 5]);
  } catch (e) {
    a = (e as Error).message;
  }
  try {
    engine.tensor({ dtype: "f32", shape: [2 ** 31], label: "huge" });
  } catch (e) {
    b = (e as Error).message;
  }
  if (!a.includes('"t"') || !b.includes('"huge"')) throw new Error(`${a} | ${b}`);
});

gpuTest(
  "Kernel.bind() rejects a tensor larger than the device's binding limit, naming both",
  async (engine) => {
    const k = await compileKernel(engine, axpyKernel);
    const max = engine.limit("maxStorageBufferBindingSize");
    if (max >= engine.limit("maxBufferSize")) return; // every buffer fits a binding here
    const big = engine.tensor({ dtype: "u8", shape: [max + 4], label: "test.big" });
    const x = engine.tensor({ dtype: "f32", shape: [4], label: "test.x" });
    let msg = "";
    try {
      k.bind({ x, out: big }, { n: 4, value: 0, alpha: 1, beta: 0 });
    } catch (e) {
      msg = (e as Error).message;
    }
    big.buffer.destroy();
    if (
      !msg.includes('"test.big"') || !msg.includes("maxStorageBufferBindingSize")
    ) throw new Error(msg);
  },
);
