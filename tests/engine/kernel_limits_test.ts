// Storage buffers per kernel: every declaration fits the WebGPU minimum (static, no GPU), the
// compile-time guard names a kernel over the device's limit, and createEngine() validates the
// `maxStorageBuffers` cap that emulates a browser on llvmpipe or a desktop GPU.
import { createEngine, type Engine } from "../../engine/device.ts";
import { type Access, compileKernel, defineKernel, type KernelDef } from "../../engine/kernel.ts";
import { PORTABLE_STORAGE_BUFFERS } from "../../engine/limits.ts";
import { readTensor } from "../../engine/readback.ts";
import { assertExact, seeded, SKIP_GPU } from "../_testing.ts";

const ROOTS = ["engine", "envs", "algorithms"];

async function* tsFiles(dir: URL): AsyncGenerator<URL> {
  for await (const e of Deno.readDir(dir)) {
    const u = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
    if (e.isDirectory) yield* tsFiles(u);
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) yield u;
  }
}

function isKernelDef(v: unknown): v is KernelDef {
  const d = v as KernelDef;
  return typeof v === "object" && v !== null && typeof d.shader === "string" &&
    typeof d.entryPoint === "string" && typeof d.bindings === "object" &&
    typeof d.params === "object";
}

/** Kernel declarations exported by `engine/`, `envs/` and `algorithms/`, and those one level
 * inside exported arrays or plain objects (tables of kernels), by `shader#entryPoint`. */
async function exportedKernelDefs(): Promise<Map<string, KernelDef>> {
  const defs = new Map<string, KernelDef>();
  const add = (v: unknown) => {
    if (isKernelDef(v)) defs.set(`${v.name} (${v.shader}#${v.entryPoint})`, v);
  };
  for (const root of ROOTS) {
    const dir = new URL(`../../${root}/`, import.meta.url);
    try {
      await Deno.stat(dir);
    } catch {
      continue;
    }
    for await (const file of tsFiles(dir)) {
      const mod = await import(file.href);
      for (const v of Object.values(mod)) {
        add(v);
        const plain = Array.isArray(v) ||
          (typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype);
        if (plain && !isKernelDef(v)) { for (const inner of Object.values(v)) add(inner); }
      }
    }
  }
  return defs;
}

Deno.test(`every exported kernel binds at most PORTABLE_STORAGE_BUFFERS (${PORTABLE_STORAGE_BUFFERS}) storage buffers`, async () => {
  const defs = await exportedKernelDefs();
  if (defs.size < 3) throw new Error(`found only ${defs.size} kernel declarations`);
  const over = [...defs].map(([key, def]) => [key, Object.keys(def.bindings).length] as const)
    .filter(([, n]) => n > PORTABLE_STORAGE_BUFFERS)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (over.length) {
    throw new Error(
      `${over.length} of ${defs.size} kernels bind more than ${PORTABLE_STORAGE_BUFFERS} storage buffers (the WebGPU minimum maxStorageBuffersPerShaderStage):\n` +
        over.map(([key, n]) => `  ${key}: ${n}`).join("\n"),
    );
  }
});

/** Test-only kernel: out[t] = Σ_k (k + 1)·x_k[t] over 7 (`sum7`) or 8 (`sum8`) inputs. */
const INPUTS = ["a", "b", "c", "d", "e", "f", "g", "h"] as const;
const sumKernel = (inputs: 7 | 8) =>
  defineKernel({
    name: `test.limits.sum${inputs}`,
    shader: "../tests/fixtures/storage_limit.wgsl",
    entryPoint: `sum${inputs}`,
    includes: ["common/_index.wgsl"],
    bindings: {
      ...Object.fromEntries(INPUTS.slice(0, inputs).map((x) => [x, "read"])),
      out: "write",
    } as Record<string, Access>,
    params: { n: "u32" },
    threads: (p) => p.n,
  });
const SUM7 = sumKernel(7), SUM8 = sumKernel(8);

/** Runs `def` on n = 37 items (not a multiple of the workgroup) and checks it exactly. */
async function checkSum(engine: Engine, def: typeof SUM7, inputs: number): Promise<void> {
  const n = 37, rng = seeded(inputs);
  const xs = INPUTS.slice(0, inputs).map((x) => [x, rng.u32(n, 1000)] as const);
  const tensors = Object.fromEntries(
    xs.map(([x, data]) =>
      [x, engine.tensor({ dtype: "u32", shape: [n], label: `test.limits.${x}`, data })] as const
    ),
  );
  const out = engine.tensor({ dtype: "u32", shape: [n], label: "test.limits.out" });
  const k = await compileKernel(engine, def);
  const enc = engine.encoder();
  k.bind({ ...tensors, out }, { n }).encode(enc);
  engine.submit(enc);
  const want = new Uint32Array(n);
  xs.forEach(([, data], k) => data.forEach((v, t) => want[t] += (k + 1) * v));
  assertExact(await readTensor(engine, out), want, def.name);
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection, got none");
}

/** The adapter's maxStorageBuffersPerShaderStage (the default engine raises it to that). */
async function adapterMaxStorageBuffers(): Promise<number> {
  const probe = await createEngine();
  try {
    return probe.limit("maxStorageBuffersPerShaderStage");
  } finally {
    probe.destroy();
  }
}

Deno.test({
  name: "compileKernel() rejects a kernel over the device's storage-buffer limit, naming it",
  ignore: SKIP_GPU,
  async fn() {
    const engine = await createEngine({ maxStorageBuffers: 8 });
    try {
      const limit = engine.limit("maxStorageBuffersPerShaderStage");
      if (limit !== 8 || engine.adapter.limits.maxStorageBuffersPerShaderStage !== 8) {
        throw new Error(
          `device limit ${limit}, reported ${engine.adapter.limits.maxStorageBuffersPerShaderStage}, want 8`,
        );
      }
      for (let attempt = 0; attempt < 2; attempt++) { // a failed compile is not cached
        const err = await rejection(compileKernel(engine, SUM8));
        const want = [
          'Cannot compile "test.limits.sum8"',
          "binds 9 storage buffers",
          "device allows 8",
          "maxStorageBuffersPerShaderStage",
        ];
        if (!(err instanceof RangeError) || want.some((w) => !err.message.includes(w))) {
          throw new Error(`expected a RangeError naming the kernel and limits, got ${err}`);
        }
      }
      await checkSum(engine, SUM7, 7); // 8 storage buffers: exactly the cap
      engine.throwIfError();
    } finally {
      engine.destroy();
    }
  },
});

/** Chrome's maxStorageBuffersPerShaderStage. */
const CHROME_STORAGE_BUFFERS = 10;

Deno.test({
  name: `createEngine({ maxStorageBuffers: ${CHROME_STORAGE_BUFFERS} }) compiles a 9-buffer kernel`,
  ignore: SKIP_GPU,
  async fn() {
    if (await adapterMaxStorageBuffers() < CHROME_STORAGE_BUFFERS) return; // a strict adapter
    const engine = await createEngine({ maxStorageBuffers: CHROME_STORAGE_BUFFERS });
    try {
      const limit = engine.limit("maxStorageBuffersPerShaderStage");
      if (limit !== CHROME_STORAGE_BUFFERS) throw new Error(`device limit ${limit}`);
      await checkSum(engine, SUM8, 8);
      engine.throwIfError();
    } finally {
      engine.destroy();
    }
  },
});

Deno.test({
  name: "createEngine() rejects maxStorageBuffers below 8, above the adapter's, or not an integer",
  ignore: SKIP_GPU,
  async fn() {
    const max = await adapterMaxStorageBuffers();
    for (const cap of [7, max + 1, 8.5]) {
      const err = await rejection(createEngine({ maxStorageBuffers: cap }));
      const want = [`maxStorageBuffers is ${cap}`, "from 8", `to ${max}`];
      if (!(err instanceof RangeError) || want.some((w) => !err.message.includes(w))) {
        throw new Error(`maxStorageBuffers ${cap}: expected a RangeError, got ${err}`);
      }
    }
    if (max === 8) return; // no two different valid caps to conflict
    const err = await rejection(
      createEngine({
        maxStorageBuffers: 8,
        requiredLimits: { maxStorageBuffersPerShaderStage: max },
      }),
    );
    if (!(err instanceof TypeError && err.message.includes("give one of them"))) {
      throw new Error(`conflicting caps: expected a TypeError, got ${err}`);
    }
  },
});
