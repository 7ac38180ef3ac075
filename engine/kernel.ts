/**
 * Kernel declarations: a `.wgsl` entry point with typed bindings and a `Params` uniform. Binding
 * numbers are read from the WGSL by name (never written twice); compile-time sizes are WGSL
 * `override`s; runtime sizes are `Params` fields (4-byte scalars, same order as declared).
 *
 * ```ts ignore
 * const linearForward = defineKernel({
 *   name: "linear.forward", shader: "engine/nn/linear.wgsl", entryPoint: "forward",
 *   includes: ["common/_index.wgsl"],
 *   bindings: { x: "read", w: "read", y: "write" },
 *   params: { batch: "u32", inDim: "u32", outDim: "u32" },
 *   threads: (p) => p.batch * p.outDim,
 * });
 * const k = await compileKernel(engine, linearForward);
 * const d = k.bind({ x, w, y }, { batch: 33, inDim: 17, outDim: 9 });
 * d.encode(enc);
 * ```
 *
 * @module
 */
import type { Engine } from "./device.ts";
import type { Encoder } from "./encoder.ts";
import { loadShader, originOf, type ShaderSource } from "./shader_source.ts";
import type { Tensor } from "./tensor.ts";

/** Re-exported from engine/limits.ts, where the WebGPU default limits live. */
export { PORTABLE_STORAGE_BUFFERS } from "./limits.ts";

/** How a kernel uses a storage binding: `read` → `var<storage, read>`, `write` → `read_write`. */
export type Access = "read" | "write";
/** Types allowed in `Params`: 4-byte scalars only. */
export type ScalarType = "u32" | "i32" | "f32";

/** Runtime values of a kernel's params. */
export type ParamValues<P extends Record<string, ScalarType>> = { readonly [K in keyof P]: number };
/** Tensors bound to a kernel's storage bindings. */
export type BindingTensors<B extends Record<string, Access>> = { readonly [K in keyof B]: Tensor };

/** A kernel declaration (see the module doc). */
export interface KernelDef<
  B extends Record<string, Access> = Record<string, Access>,
  P extends Record<string, ScalarType> = Record<string, ScalarType>,
> {
  /** `owner.part.name`, used as the GPU label and in every error. */
  readonly name: string;
  /** Path under `shaders/`. */
  readonly shader: string;
  readonly entryPoint: string;
  /** Files under `shaders/common/` etc., concatenated before `shader`, in order. */
  readonly includes?: readonly string[];
  readonly bindings: B;
  readonly params: P;
  /** Invocations needed; workgroups = ceil(threads / workgroupSize), split 2-D past the limit. */
  readonly threads?: (p: ParamValues<P>) => number;
  /** Explicit workgroup counts, for kernels that are not one-thread-per-item. */
  readonly workgroups?: (p: ParamValues<P>) => readonly number[];
  /** Value of the `WORKGROUP_SIZE` override (default 64); `null` if the shader has none. */
  readonly workgroupSize?: number | null;
  /** Other override constants. */
  readonly constants?: Readonly<Record<string, number>>;
}

/**
 * Declares a kernel; returns the frozen declaration.
 *
 * @example Declare a kernel whose body is a .wgsl file (paths are relative to shaders/)
 * ```ts
 * import { compileKernel, createEngine, defineKernel, readTensor } from "../mod.ts";
 *
 * // shaders/engine/ops/elementwise.wgsl, entry point `fill`: out[i] = value for i < n.
 * const fill = defineKernel({
 *   name: "example.fill",
 *   shader: "engine/ops/elementwise.wgsl",
 *   entryPoint: "fill",
 *   includes: ["common/_index.wgsl"],
 *   bindings: { out: "write" },
 *   params: { n: "u32", value: "f32", alpha: "f32", beta: "f32" },
 *   threads: (p) => p.n,
 * });
 * const engine = await createEngine();
 * const x = engine.tensor({ dtype: "f32", shape: [5], label: "example.x" });
 * const kernel = await compileKernel(engine, fill);
 * const enc = engine.encoder("example");
 * kernel.bind({ out: x }, { n: 5, value: 2.5, alpha: 0, beta: 0 }).encode(enc);
 * engine.submit(enc);
 * console.log(await readTensor(engine, x)); // five 2.5s
 * engine.destroy();
 * ```
 */
export function defineKernel<
  const B extends Record<string, Access>,
  const P extends Record<string, ScalarType>,
>(def: KernelDef<B, P>): KernelDef<B, P> {
  if (!def.threads === !def.workgroups) {
    throw new TypeError(
      `Cannot define kernel "${def.name}": give exactly one of threads or workgroups`,
    );
  }
  return Object.freeze(def);
}

/** Binding numbers and accesses declared in WGSL, by variable name. */
export interface WgslBinding {
  binding: number;
  kind: "uniform" | "read" | "write";
  type: string;
}

const BINDING_RE =
  /@group\(\s*0\s*\)\s*@binding\(\s*(\d+)\s*\)\s*var\s*<\s*([\w\s,]+)\s*>\s*(\w+)\s*:\s*([^;]+);/g;

/** Parses the `@group(0) @binding(n) var<…> name: type;` declarations of a WGSL source. */
export function parseBindings(code: string): Map<string, WgslBinding> {
  const out = new Map<string, WgslBinding>();
  for (const m of stripComments(code).matchAll(BINDING_RE)) {
    const space = m[2].replace(/\s+/g, "");
    const kind = space === "uniform"
      ? "uniform"
      : space === "storage,read_write"
      ? "write"
      : "read";
    out.set(m[3], { binding: Number(m[1]), kind, type: m[4].trim() });
  }
  return out;
}

/** Parses `struct Params { a: u32, b: f32 }` into ordered [name, type] pairs (null if absent). */
export function parseParamsStruct(code: string): [string, string][] | null {
  const m = /struct\s+Params\s*\{([^}]*)\}/.exec(stripComments(code));
  if (!m) return null;
  return m[1].split(/[,;]/).map((s) => s.trim()).filter(Boolean).map((f) => {
    const [name, type] = f.split(":").map((x) => x.trim());
    return [name, type];
  });
}

function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/[^\n]*/g, "");
}

/** Checks a declaration against its WGSL; returns the problems (empty when consistent). */
export function layoutProblems(def: KernelDef, code: string): string[] {
  const problems: string[] = [];
  const bindings = parseBindings(code);
  for (const [name, access] of Object.entries(def.bindings)) {
    const b = bindings.get(name);
    if (!b) problems.push(`binding "${name}" is not declared in ${def.shader}`);
    else if (b.kind === "uniform") problems.push(`binding "${name}" is a uniform in ${def.shader}`);
    else if (b.kind !== access) {
      problems.push(
        `binding "${name}" is declared "${access}" but is "${b.kind}" in ${def.shader}`,
      );
    }
  }
  const fields = Object.entries(def.params);
  const params = bindings.get("params");
  if (fields.length > 0) {
    if (!params || params.kind !== "uniform") {
      problems.push(`${def.shader} has no "var<uniform> params: Params"`);
    }
    const struct = parseParamsStruct(code);
    const want = fields.map(([n, t]) => `${n}: ${t}`).join(", ");
    const got = struct?.map(([n, t]) => `${n}: ${t}`).join(", ");
    if (got !== want) {
      problems.push(`struct Params is { ${got ?? "missing"} }, declaration says { ${want} }`);
    }
  }
  const nums = new Map<number, string>();
  for (const [name, b] of bindings) {
    const other = nums.get(b.binding);
    if (other) problems.push(`binding ${b.binding} is used by "${other}" and "${name}"`);
    nums.set(b.binding, name);
  }
  if (!new RegExp(`fn\\s+${def.entryPoint}\\s*\\(`).test(code)) {
    problems.push(`entry point "${def.entryPoint}" is not in ${def.shader}`);
  }
  return problems;
}

/**
 * A compiled kernel: pipeline plus layout; `bind` makes a {@linkcode Dispatch}.
 *
 * @example Bind a compiled kernel to tensors once, then encode the dispatch as often as needed
 * ```ts
 * import { compileKernel, createEngine, defineKernel, readTensor } from "../mod.ts";
 *
 * const fill = defineKernel({
 *   name: "example.fill",
 *   shader: "engine/ops/elementwise.wgsl",
 *   entryPoint: "fill",
 *   includes: ["common/_index.wgsl"],
 *   bindings: { out: "write" },
 *   params: { n: "u32", value: "f32", alpha: "f32", beta: "f32" },
 *   threads: (p) => p.n,
 * });
 * const engine = await createEngine();
 * const out = engine.tensor({ dtype: "f32", shape: [3], label: "example.out" });
 * const kernel = await compileKernel(engine, fill); // a Kernel: pipeline and layout
 * const dispatch = kernel.bind({ out }, { n: 3, value: 1, alpha: 0, beta: 0 }); // a Dispatch
 * const enc = engine.encoder("example");
 * dispatch.encode(enc);
 * dispatch.writeParams({ value: 4 }); // lands before the whole next submit
 * engine.submit(enc);
 * console.log(await readTensor(engine, out)); // [4, 4, 4]
 * engine.destroy();
 * ```
 */
export class Kernel<B extends Record<string, Access>, P extends Record<string, ScalarType>> {
  readonly engine: Engine;
  readonly def: KernelDef<B, P>;
  readonly pipeline: GPUComputePipeline;
  readonly #layout: GPUBindGroupLayout;
  readonly #bindings: Map<string, WgslBinding>;
  readonly #workgroupSize: number;

  constructor(
    engine: Engine,
    def: KernelDef<B, P>,
    pipeline: GPUComputePipeline,
    layout: GPUBindGroupLayout,
    bindings: Map<string, WgslBinding>,
    workgroupSize: number,
  ) {
    this.engine = engine;
    this.def = def;
    this.pipeline = pipeline;
    this.#layout = layout;
    this.#bindings = bindings;
    this.#workgroupSize = workgroupSize;
  }

  /** Workgroup counts for `params` (the kernel's `workgroups`, or derived from `threads`). */
  workgroupsFor(params: ParamValues<P>): number[] {
    const max = this.engine.limit("maxComputeWorkgroupsPerDimension");
    let wg: number[];
    if (this.def.workgroups) {
      wg = [...this.def.workgroups(params)];
    } else {
      const n = Math.ceil(this.def.threads!(params) / this.#workgroupSize);
      wg = n <= max ? [n, 1, 1] : [max, Math.ceil(n / max), 1];
    }
    for (const w of wg) {
      if (!Number.isInteger(w) || w < 0 || w > max) {
        throw new RangeError(
          `Cannot dispatch "${this.def.name}": needs ${
            wg.join("×")
          } workgroups, device allows ${max} per dimension`,
        );
      }
    }
    return wg;
  }

  /**
   * Binds tensors and params once (at setup). Checks every binding is present; params are written
   * into a small uniform buffer owned by the returned {@linkcode Dispatch}.
   */
  bind(tensors: BindingTensors<B>, params: ParamValues<P>, label = this.def.name): Dispatch<P> {
    const entries: GPUBindGroupEntry[] = [];
    for (const name of Object.keys(this.def.bindings)) {
      const t = (tensors as Record<string, Tensor | undefined>)[name];
      if (!t) throw new TypeError(`Cannot bind "${this.def.name}": tensor "${name}" is missing`);
      const max = this.engine.limit("maxStorageBufferBindingSize");
      if (t.byteLength > max) {
        throw new RangeError(
          `Cannot bind "${t.label}" to "${this.def.name}": ${t.byteLength} bytes exceed the device's maxStorageBufferBindingSize (${max})`,
        );
      }
      entries.push({ binding: this.#bindings.get(name)!.binding, resource: t.resource });
    }
    for (const name of Object.keys(tensors)) {
      if (!(name in this.def.bindings)) {
        throw new TypeError(`Cannot bind "${this.def.name}": it has no binding "${name}"`);
      }
    }
    assertNoWritableAlias(this.def.name, this.def.bindings, tensors as Record<string, Tensor>);
    let uniform: GPUBuffer | null = null;
    const fields = Object.keys(this.def.params);
    if (fields.length > 0) {
      uniform = this.engine.createBuffer({
        label: `${label}.params`,
        size: Math.max(16, Math.ceil((fields.length * 4) / 16) * 16),
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      entries.push({
        binding: this.#bindings.get("params")!.binding,
        resource: { buffer: uniform },
      });
    }
    const bindGroup = this.engine.device.createBindGroup({ label, layout: this.#layout, entries });
    const d = new Dispatch<P>(this, bindGroup, uniform, params, label);
    return d;
  }
}

/**
 * WebGPU forbids a buffer range bound writable together with any other binding of it in one
 * dispatch; catch that at bind time with the kernel's name instead of at submit.
 */
function assertNoWritableAlias(
  kernel: string,
  bindings: Record<string, Access>,
  tensors: Record<string, Tensor>,
): void {
  const names = Object.keys(bindings);
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const a = tensors[names[i]], b = tensors[names[j]];
      if (a.buffer !== b.buffer) continue;
      if (bindings[names[i]] === "read" && bindings[names[j]] === "read") continue;
      throw new TypeError(
        `Cannot bind "${kernel}": "${names[i]}" and "${
          names[j]
        }" share buffer "${a.buffer.label}" and one is written`,
      );
    }
  }
}

/**
 * One bound dispatch: encode it any number of times; params may be rewritten between submits.
 *
 * @example Bind a compiled kernel to tensors once, then encode the dispatch as often as needed
 * ```ts
 * import { compileKernel, createEngine, defineKernel, readTensor } from "../mod.ts";
 *
 * const fill = defineKernel({
 *   name: "example.fill",
 *   shader: "engine/ops/elementwise.wgsl",
 *   entryPoint: "fill",
 *   includes: ["common/_index.wgsl"],
 *   bindings: { out: "write" },
 *   params: { n: "u32", value: "f32", alpha: "f32", beta: "f32" },
 *   threads: (p) => p.n,
 * });
 * const engine = await createEngine();
 * const out = engine.tensor({ dtype: "f32", shape: [3], label: "example.out" });
 * const kernel = await compileKernel(engine, fill); // a Kernel: pipeline and layout
 * const dispatch = kernel.bind({ out }, { n: 3, value: 1, alpha: 0, beta: 0 }); // a Dispatch
 * const enc = engine.encoder("example");
 * dispatch.encode(enc);
 * dispatch.writeParams({ value: 4 }); // lands before the whole next submit
 * engine.submit(enc);
 * console.log(await readTensor(engine, out)); // [4, 4, 4]
 * engine.destroy();
 * ```
 */
export class Dispatch<P extends Record<string, ScalarType>> {
  readonly label: string;
  readonly #kernel: Kernel<Record<string, Access>, P>;
  readonly #bindGroup: GPUBindGroup;
  readonly #uniform: GPUBuffer | null;
  #params: ParamValues<P>;
  #workgroups: number[];

  constructor(
    // deno-lint-ignore no-explicit-any
    kernel: Kernel<any, P>,
    bindGroup: GPUBindGroup,
    uniform: GPUBuffer | null,
    params: ParamValues<P>,
    label: string,
  ) {
    this.#kernel = kernel;
    this.#bindGroup = bindGroup;
    this.#uniform = uniform;
    this.label = label;
    this.#params = { ...params };
    this.#workgroups = kernel.workgroupsFor(this.#params);
    this.#writeUniform();
  }

  /** Current params. */
  get params(): ParamValues<P> {
    return this.#params;
  }

  /** Workgroup counts this dispatch records. */
  get workgroups(): readonly number[] {
    return this.#workgroups;
  }

  /**
   * Rewrites some params (queue.writeBuffer: lands before the next submit, so every encode of this
   * dispatch in that submit sees the last value written).
   */
  writeParams(update: Partial<ParamValues<P>>): void {
    this.#params = { ...this.#params, ...update };
    this.#workgroups = this.#kernel.workgroupsFor(this.#params);
    this.#writeUniform();
  }

  /** Records the dispatch. */
  encode(enc: Encoder): void {
    if (this.#workgroups.some((w) => w === 0)) return;
    enc.dispatch(this.#kernel.pipeline, this.#bindGroup, this.#workgroups, this.label);
  }

  /** Records the dispatch with workgroup counts read from `args` on the GPU. */
  encodeIndirect(enc: Encoder, args: Tensor, elementOffset = 0): void {
    enc.dispatchIndirect(this.#kernel.pipeline, this.#bindGroup, args, elementOffset, this.label);
  }

  #writeUniform(): void {
    if (!this.#uniform) return;
    const types = this.#kernel.def.params;
    const names = Object.keys(types);
    const data = new DataView(new ArrayBuffer(this.#uniform.size));
    names.forEach((name, i) => {
      const v = (this.#params as Record<string, number>)[name];
      const t = types[name];
      if (typeof v !== "number" || Number.isNaN(v)) {
        throw new TypeError(`Cannot set param "${name}" of "${this.label}": got ${v}`);
      }
      if (t === "f32") data.setFloat32(i * 4, v, true);
      else if (t === "i32") {
        if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
          throw new RangeError(`Cannot set param "${name}" of "${this.label}": ${v} is not an i32`);
        }
        data.setInt32(i * 4, v, true);
      } else {
        if (!Number.isInteger(v) || v < 0 || v >= 2 ** 32) {
          throw new RangeError(`Cannot set param "${name}" of "${this.label}": ${v} is not a u32`);
        }
        data.setUint32(i * 4, v, true);
      }
    });
    this.#kernel.engine.device.queue.writeBuffer(this.#uniform, 0, data.buffer);
  }
}

function constantsKey(c: Readonly<Record<string, number>> | undefined): string {
  return c ? JSON.stringify(Object.entries(c).sort()) : "";
}

/**
 * Compiles (once per engine, cached by name and constants) a kernel declaration into a
 * {@linkcode Kernel}. Compilation errors name the kernel and map lines back to `file:line`; a
 * kernel that binds more storage buffers than the device's `maxStorageBuffersPerShaderStage` is
 * rejected with a RangeError before WebGPU sees it.
 *
 * @example Declare a kernel whose body is a .wgsl file (paths are relative to shaders/)
 * ```ts
 * import { compileKernel, createEngine, defineKernel, readTensor } from "../mod.ts";
 *
 * // shaders/engine/ops/elementwise.wgsl, entry point `fill`: out[i] = value for i < n.
 * const fill = defineKernel({
 *   name: "example.fill",
 *   shader: "engine/ops/elementwise.wgsl",
 *   entryPoint: "fill",
 *   includes: ["common/_index.wgsl"],
 *   bindings: { out: "write" },
 *   params: { n: "u32", value: "f32", alpha: "f32", beta: "f32" },
 *   threads: (p) => p.n,
 * });
 * const engine = await createEngine();
 * const x = engine.tensor({ dtype: "f32", shape: [5], label: "example.x" });
 * const kernel = await compileKernel(engine, fill);
 * const enc = engine.encoder("example");
 * kernel.bind({ out: x }, { n: 5, value: 2.5, alpha: 0, beta: 0 }).encode(enc);
 * engine.submit(enc);
 * console.log(await readTensor(engine, x)); // five 2.5s
 * engine.destroy();
 * ```
 */
export function compileKernel<
  B extends Record<string, Access>,
  P extends Record<string, ScalarType>,
>(
  engine: Engine,
  def: KernelDef<B, P>,
  constants?: Readonly<Record<string, number>>,
): Promise<Kernel<B, P>> {
  const key = [
    def.name,
    def.shader,
    def.entryPoint,
    String(def.workgroupSize),
    constantsKey(def.constants),
    constantsKey(constants),
  ].join("|");
  let p = engine.kernelCache.get(key) as Promise<Kernel<B, P>> | undefined;
  if (!p) {
    p = buildKernel(engine, def, constants);
    engine.kernelCache.set(key, p);
    p.catch(() => engine.kernelCache.delete(key));
  }
  return p;
}

async function buildKernel<B extends Record<string, Access>, P extends Record<string, ScalarType>>(
  engine: Engine,
  def: KernelDef<B, P>,
  constants?: Readonly<Record<string, number>>,
): Promise<Kernel<B, P>> {
  // Every declared binding is a storage buffer (layoutProblems rejects uniforms); `params` is not.
  const storage = Object.keys(def.bindings).length;
  const maxStorage = engine.limit("maxStorageBuffersPerShaderStage");
  if (storage > maxStorage) {
    throw new RangeError(
      `Cannot compile "${def.name}": binds ${storage} storage buffers, device allows ${maxStorage} per shader stage (maxStorageBuffersPerShaderStage)`,
    );
  }
  const src = await loadShader(def.shader, def.includes ?? []);
  const problems = layoutProblems(def as unknown as KernelDef, src.code);
  if (problems.length) {
    throw new TypeError(`Cannot compile "${def.name}": ${problems.join("; ")}`);
  }
  const bindings = parseBindings(src.code);
  const device = engine.device;
  // A WORKGROUP_SIZE passed at compile time wins over the declaration's default.
  const workgroupSize = def.workgroupSize === null
    ? 1
    : constants?.WORKGROUP_SIZE ?? def.workgroupSize ?? 64;
  const allConstants: Record<string, number> = { ...def.constants, ...constants };
  if (def.workgroupSize !== null) allConstants.WORKGROUP_SIZE = workgroupSize;

  const entries: GPUBindGroupLayoutEntry[] = [];
  for (const [name, access] of Object.entries(def.bindings)) {
    entries.push({
      binding: bindings.get(name)!.binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: access === "read" ? "read-only-storage" : "storage" },
    });
  }
  if (Object.keys(def.params).length > 0) {
    entries.push({
      binding: bindings.get("params")!.binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: "uniform" },
    });
  }
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ label: def.name, code: src.code });
  const layout = device.createBindGroupLayout({ label: def.name, entries });
  let pipeline: GPUComputePipeline | null = null;
  let createError: unknown = null;
  try {
    pipeline = await device.createComputePipelineAsync({
      label: def.name,
      layout: device.createPipelineLayout({ label: def.name, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: def.entryPoint, constants: allConstants },
    });
  } catch (e) {
    createError = e;
  }
  const scopeError = await device.popErrorScope();
  if (createError || scopeError || !pipeline) {
    const info = await module.getCompilationInfo();
    const msgs = info.messages.filter((m) => m.type === "error").map((m) =>
      `${originOf(src, m.lineNum)}:${m.linePos}: ${m.message}`
    );
    const detail = msgs.length
      ? msgs.join("\n")
      : (scopeError?.message ?? (createError as Error)?.message ?? "unknown error");
    throw new TypeError(
      `Cannot compile "${def.name}" (${def.shader}#${def.entryPoint}):\n${detail}`,
    );
  }
  return new Kernel(engine, def, pipeline, layout, bindings, workgroupSize);
}

/** Re-export for tests that check layouts without a device. */
export type { ShaderSource };
