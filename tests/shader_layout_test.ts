// Checks every exported kernel declaration against its .wgsl: binding names, accesses, unique
// binding numbers, the Params struct (names, types, order) and the entry point. Runs without a GPU.
import { type KernelDef, layoutProblems } from "../engine/kernel.ts";
import { loadShader } from "../engine/shader_source.ts";

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

async function allKernelDefs(): Promise<KernelDef[]> {
  const defs: KernelDef[] = [];
  for (const root of ROOTS) {
    const dir = new URL(`../${root}/`, import.meta.url);
    try {
      await Deno.stat(dir);
    } catch {
      continue;
    }
    for await (const file of tsFiles(dir)) {
      const mod = await import(file.href);
      for (const v of Object.values(mod)) if (isKernelDef(v)) defs.push(v);
    }
  }
  return defs;
}

Deno.test("every kernel declaration matches its WGSL layout", async () => {
  const defs = await allKernelDefs();
  if (defs.length < 3) throw new Error(`found only ${defs.length} kernel declarations`);
  const problems: string[] = [];
  const names = new Map<string, string>();
  for (const def of defs) {
    const src = await loadShader(def.shader, def.includes ?? []);
    for (const p of layoutProblems(def, src.code)) problems.push(`${def.name}: ${p}`);
    const key = `${def.shader}#${def.entryPoint}`;
    const other = names.get(def.name);
    if (other && other !== key) {
      problems.push(`kernel name "${def.name}" is used by ${other} and ${key}`);
    }
    names.set(def.name, key);
  }
  if (problems.length) throw new Error(problems.join("\n"));
});

Deno.test("layoutProblems() reports a wrong access, a missing binding and a Params mismatch", () => {
  const code = `
    struct Params { n: u32, scale: f32 }
    @group(0) @binding(0) var<uniform> params: Params;
    @group(0) @binding(1) var<storage, read> x: array<f32>;
    @group(0) @binding(2) var<storage, read_write> y: array<f32>;
    fn main() {}`;
  const def = {
    name: "t.k",
    shader: "t.wgsl",
    entryPoint: "main",
    bindings: { x: "write", z: "read" },
    params: { scale: "f32", n: "u32" },
  } as unknown as KernelDef;
  const p = layoutProblems(def, code).join("\n");
  for (const want of ['"x" is declared "write"', '"z" is not declared', "struct Params is"]) {
    if (!p.includes(want)) throw new Error(`missing problem ${want} in:\n${p}`);
  }
  const ok = { ...def, bindings: { x: "read", y: "write" }, params: { n: "u32", scale: "f32" } };
  const none = layoutProblems(ok as unknown as KernelDef, code);
  if (none.length) throw new Error(`unexpected problems: ${none.join("; ")}`);
});
