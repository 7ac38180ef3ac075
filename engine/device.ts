/**
 * Device acquisition and the {@linkcode Engine}: the one object that owns the GPUDevice, creates
 * buffers, compiles kernels and submits work. Only `engine/readback.ts` awaits the GPU.
 *
 * @module
 */
import { bufferBytes, type DType, type HostArrays, sizeOf, Tensor } from "./tensor.ts";
import { Encoder } from "./encoder.ts";
import { PORTABLE_STORAGE_BUFFERS } from "./limits.ts";

/** What the engine got from WebGPU. */
export interface AdapterReport {
  description: string;
  vendor: string;
  architecture: string;
  /** True for a software adapter such as Mesa's llvmpipe. */
  isFallback: boolean;
  /** The limits the device was created with (the adapter's maxima for those the engine needs). */
  limits: Record<string, number>;
  features: string[];
}

/** Options of {@linkcode createEngine}. */
export interface EngineOptions {
  /** Accept a software (CPU) adapter. Default true. */
  allowFallback?: boolean;
  /** Adapter preference. Default "high-performance". */
  powerPreference?: GPUPowerPreference;
  /** Extra limits to request; each must not exceed the adapter's. */
  requiredLimits?: Record<string, number>;
  /**
   * Caps `maxStorageBuffersPerShaderStage`, the storage buffers one kernel may bind: an integer
   * from `PORTABLE_STORAGE_BUFFERS` (engine/limits.ts: 8, the WebGPU minimum) to the adapter's
   * maximum. Default: the adapter's maximum. Set it to `PORTABLE_STORAGE_BUFFERS` to emulate the
   * most restrictive browser on a GPU or llvmpipe that allows more; kernels that bind more then fail to compile with a
   * RangeError.
   */
  maxStorageBuffers?: number;
  /**
   * Give this engine a device of its own, destroyed by {@linkcode Engine.destroy}. Default false:
   * engines with the same adapter, limits and features share one device for the life of the
   * process, and `destroy()` frees only the engine's own buffers. Creating and destroying a
   * WebGPU device per engine made Deno abort at process exit (heap corruption in the
   * wgpu/Mesa teardown: about one run in four with ~25 engines; never with a shared device).
   */
  exclusiveDevice?: boolean;
}

/**
 * A WebGPU validation or out-of-memory error, raised on the host.
 *
 * @example Asking for more than the adapter allows fails before any kernel runs
 * ```ts
 * import { createEngine } from "../mod.ts";
 *
 * try {
 *   await createEngine({ maxStorageBuffers: 1_000_000 });
 * } catch (e) {
 *   console.log((e as Error).message); // names maxStorageBuffersPerShaderStage and the maximum
 * }
 * ```
 */
export class GpuError extends Error {
  override name = "GpuError";
}

/** Counters the engine keeps; tests assert on `reads`. */
export interface EngineStats {
  /** Awaited reads of GPU memory (readback.ts). */
  reads: number;
  /** Queue submits. */
  /** Waits for submitted work without reading (engine/readback.ts `waitIdle`). */
  waits: number;
  submits: number;
  /** Dispatches recorded. */
  dispatches: number;
}

/** Limits the engine raises to the adapter's maximum when it creates the device. */
const RAISED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupsPerDimension",
  "maxBindGroups",
  "maxUniformBufferBindingSize",
] as const;

/** Options of {@linkcode Engine.tensor}. */
export interface TensorOptions<D extends DType> {
  dtype: D;
  shape: readonly number[];
  label: string;
  /** Initial contents (length must equal the shape's size). Zeros when absent. */
  data?: ArrayLike<number>;
  /** Extra GPUBufferUsage flags (STORAGE, COPY_SRC and COPY_DST are always set). */
  usage?: number;
}

/**
 * The engine: device, buffers, kernel cache, submits.
 *
 * @example Allocate a tensor, write it, read it back
 * ```ts
 * import { createEngine, readTensor } from "../mod.ts";
 *
 * const engine = await createEngine();
 * const t = engine.tensor({ dtype: "f32", shape: [2, 3], label: "example.t" });
 * engine.write(t, [1, 2, 3, 4, 5, 6]);
 * console.log(await readTensor(engine, t)); // Float32Array [1, 2, 3, 4, 5, 6]
 * engine.destroy();
 * ```
 */
export class Engine {
  readonly device: GPUDevice;
  readonly adapter: AdapterReport;
  readonly stats: EngineStats = { reads: 0, waits: 0, submits: 0, dispatches: 0 };
  /** Cache of compiled kernels, keyed by the kernel module (engine/kernel.ts). */
  readonly kernelCache: Map<string, Promise<unknown>> = new Map();
  #errors: string[] = [];
  #destroyed = false;
  readonly #exclusive: boolean;
  readonly #buffers = new Set<GPUBuffer>();
  readonly #onError = (ev: Event) => {
    this.#errors.push((ev as GPUUncapturedErrorEvent).error.message);
  };

  constructor(device: GPUDevice, adapter: AdapterReport, options: { exclusive?: boolean } = {}) {
    this.device = device;
    this.adapter = adapter;
    this.#exclusive = options.exclusive ?? true;
    device.addEventListener("uncapturederror", this.#onError);
  }

  /**
   * Creates a GPU buffer owned by this engine (freed by {@linkcode Engine.destroy}); every
   * buffer of the library is made here or by {@linkcode Engine.tensor}.
   */
  createBuffer(descriptor: GPUBufferDescriptor): GPUBuffer {
    if (this.#destroyed) {
      throw new Error(`Cannot create buffer "${descriptor.label}": the engine was destroyed`);
    }
    const buffer = this.device.createBuffer(descriptor);
    this.#buffers.add(buffer);
    return buffer;
  }

  /** Destroys a buffer made by {@linkcode Engine.createBuffer} before the engine is destroyed. */
  releaseBuffer(buffer: GPUBuffer): void {
    this.#buffers.delete(buffer);
    buffer.destroy();
  }

  /** True on a software adapter; kernels pick CPU-friendly variants then. */
  get isCpu(): boolean {
    return this.adapter.isFallback;
  }

  /** The device's limit `name`. */
  limit(name: string): number {
    return (this.device.limits as unknown as Record<string, number>)[name];
  }

  /** Records an error raised by WebGPU (used by kernel compilation and submits). */
  recordError(message: string): void {
    this.#errors.push(message);
  }

  /** Throws a {@linkcode GpuError} if WebGPU reported any error since the last check. */
  throwIfError(): void {
    if (this.#errors.length === 0) return;
    const msgs = this.#errors.splice(0);
    throw new GpuError(
      `WebGPU reported ${msgs.length} error(s); labels in brackets name the kernel or buffer:\n` +
        msgs.join("\n"),
    );
  }

  /** Creates a tensor backed by its own GPUBuffer. */
  tensor<D extends DType>(options: TensorOptions<D>): Tensor<D> {
    const n = sizeOf(options.shape);
    const bytes = bufferBytes(options.dtype, n);
    const max = this.limit("maxBufferSize");
    if (bytes > max) {
      throw new RangeError(
        `Cannot create "${options.label}": needs ${bytes} bytes, device allows ${max} per buffer`,
      );
    }
    const buffer = this.createBuffer({
      label: options.label,
      size: bytes,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST |
        (options.usage ?? 0),
    });
    const t = new Tensor(buffer, {
      dtype: options.dtype,
      shape: options.shape,
      label: options.label,
      alignment: this.limit("minStorageBufferOffsetAlignment"),
    });
    if (options.data) this.write(t, options.data);
    return t;
  }

  /**
   * Queues a host → GPU copy into `t` (lands before the next submit; no await). `data` must have
   * exactly `t.size` elements, or fewer with `elementOffset` for a partial write.
   */
  write<D extends DType>(t: Tensor<D>, data: ArrayLike<number>, elementOffset = 0): void {
    if (elementOffset + data.length > t.size) {
      throw new TypeError(
        `Cannot write ${data.length} elements at ${elementOffset} into "${t.label}" [${
          t.shape.join(", ")
        }]`,
      );
    }
    const arr = toHost(t.dtype, data);
    const elemBytes = t.dtype === "u8" ? 1 : 4;
    const byteOffset = t.offset + elementOffset * elemBytes;
    if (t.dtype === "u8" && (byteOffset % 4 !== 0 || arr.byteLength % 4 !== 0)) {
      const padded = new Uint8Array(Math.ceil(arr.byteLength / 4) * 4);
      padded.set(arr as Uint8Array);
      if (byteOffset % 4 !== 0) {
        throw new RangeError(
          `Cannot write u8 data into "${t.label}" at unaligned byte ${byteOffset}`,
        );
      }
      this.device.queue.writeBuffer(t.buffer, byteOffset, padded);
      return;
    }
    this.device.queue.writeBuffer(t.buffer, byteOffset, arr as BufferSource & ArrayBufferView);
  }

  /** Starts recording GPU work. */
  encoder(label = "engine.encoder"): Encoder {
    return new Encoder(this, label);
  }

  /** Submits recorded work (no await). Throws if WebGPU reported an error so far. */
  submit(...encoders: Encoder[]): void {
    this.throwIfError();
    // Command validation errors surface at finish/submit without naming the pipeline; scope them
    // and name the dispatches of this submit. The scope's promise is not awaited.
    this.device.pushErrorScope("validation");
    this.device.queue.submit(encoders.map((e) => e.finish()));
    this.stats.submits++;
    const labels = encoders.flatMap((e) => e.labels);
    this.device.popErrorScope().then((err) => {
      if (err) {
        const shown = labels.length > 12
          ? [...labels.slice(0, 12), `… ${labels.length - 12} more`]
          : labels;
        this.#errors.push(
          `${err.message}\n  (in a submit recording the kernels: ${shown.join(", ")})`,
        );
      }
    });
  }

  /**
   * Frees the engine's buffers (every tensor becomes invalid) and stops listening for the
   * device's errors; destroys the device too when it is the engine's own
   * (`exclusiveDevice`). Safe to call twice.
   */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.device.removeEventListener("uncapturederror", this.#onError);
    for (const b of this.#buffers) b.destroy();
    this.#buffers.clear();
    this.kernelCache.clear();
    if (this.#exclusive) this.device.destroy();
  }
}

function toHost<D extends DType>(dtype: D, data: ArrayLike<number>): HostArrays[D] {
  switch (dtype) {
    case "f32":
      return (data instanceof Float32Array ? data : Float32Array.from(data)) as HostArrays[D];
    case "u32":
      return (data instanceof Uint32Array ? data : Uint32Array.from(data)) as HostArrays[D];
    case "i32":
      return (data instanceof Int32Array ? data : Int32Array.from(data)) as HostArrays[D];
    default:
      return (data instanceof Uint8Array ? data : Uint8Array.from(data)) as HostArrays[D];
  }
}

/** Devices shared by engines of the same adapter, limits and features (see `exclusiveDevice`). */
const SHARED_DEVICES = new Map<string, Promise<GPUDevice>>();
// Shared devices end with the program, before the runtime's own teardown.
globalThis.addEventListener?.("unload", () => {
  for (const d of SHARED_DEVICES.values()) d.then((device) => device.destroy(), () => {});
  SHARED_DEVICES.clear();
});

/** Validates `options.maxStorageBuffers` against WebGPU's minimum and the adapter's maximum. */
function storageBufferCap(options: EngineOptions, adapterMax: number, adapter: string): number {
  const cap = options.maxStorageBuffers!;
  if (!Number.isInteger(cap) || cap < PORTABLE_STORAGE_BUFFERS || !(cap <= adapterMax)) {
    throw new RangeError(
      `Cannot create engine: maxStorageBuffers is ${cap}, must be an integer from ${PORTABLE_STORAGE_BUFFERS} (the WebGPU minimum) to ${adapterMax} (the maximum of adapter "${adapter}")`,
    );
  }
  const asked = options.requiredLimits?.maxStorageBuffersPerShaderStage;
  if (asked !== undefined && asked !== cap) {
    throw new TypeError(
      `Cannot create engine: maxStorageBuffers is ${cap} but requiredLimits.maxStorageBuffersPerShaderStage is ${asked}; give one of them`,
    );
  }
  return cap;
}

/**
 * Acquires a WebGPU device. Prefers a real GPU, accepts the CPU fallback adapter (unless
 * `allowFallback: false`), raises the limits the engine needs to the adapter's maxima (storage
 * buffers per kernel up to `maxStorageBuffers` when given), and fails with a message that says what
 * is missing when WebGPU is unavailable.
 *
 * @example Open the best adapter WebGPU offers (llvmpipe where there is no GPU)
 * ```ts
 * import { createEngine } from "../mod.ts";
 *
 * const engine = await createEngine();
 * console.log(engine.adapter.description, engine.limit("maxStorageBuffersPerShaderStage"));
 * engine.destroy();
 * ```
 */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) {
    throw new Error(
      "Cannot create engine: WebGPU is unavailable (navigator.gpu is undefined); use Deno >= 2.9 or a WebGPU browser",
    );
  }
  let adapter = await gpu.requestAdapter({
    powerPreference: options.powerPreference ?? "high-performance",
  });
  if (!adapter) adapter = await gpu.requestAdapter();
  if (!adapter) {
    throw new Error(
      "Cannot create engine: no WebGPU adapter found (no GPU driver and no software fallback such as Mesa llvmpipe/lavapipe)",
    );
  }
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const isFallback = Boolean(
    info.isFallbackAdapter ??
      (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
      /llvmpipe|lavapipe|swiftshader|software/i.test(info.description ?? ""),
  );
  if (isFallback && options.allowFallback === false) {
    throw new Error(
      `Cannot create engine: only a software adapter is available ("${info.description}") and allowFallback is false`,
    );
  }
  const adapterLimits = adapter.limits as unknown as Record<string, number>;
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    if (typeof adapterLimits[name] === "number") requiredLimits[name] = adapterLimits[name];
  }
  for (const [name, value] of Object.entries(options.requiredLimits ?? {})) {
    if (!(value <= (adapterLimits[name] ?? -Infinity))) {
      throw new RangeError(
        `Cannot create engine: limit "${name}" = ${value} requested, adapter "${info.description}" allows ${
          adapterLimits[name]
        }`,
      );
    }
    requiredLimits[name] = value;
  }
  if (options.maxStorageBuffers !== undefined) {
    requiredLimits.maxStorageBuffersPerShaderStage = storageBufferCap(
      options,
      adapterLimits.maxStorageBuffersPerShaderStage,
      info.description,
    );
  }
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has("timestamp-query")) requiredFeatures.push("timestamp-query");
  const exclusive = options.exclusiveDevice ?? false;
  const key = JSON.stringify([info.description, requiredLimits, requiredFeatures]);
  let pending = exclusive ? undefined : SHARED_DEVICES.get(key);
  if (!pending) {
    pending = adapter.requestDevice({ requiredLimits, requiredFeatures });
    if (!exclusive) {
      SHARED_DEVICES.set(key, pending);
      pending.then((d) => d.lost.then(() => SHARED_DEVICES.delete(key)), () => {
        SHARED_DEVICES.delete(key);
      });
    }
  }
  const device = await pending;
  const limits: Record<string, number> = {};
  for (const name of [...RAISED_LIMITS, "minStorageBufferOffsetAlignment"]) {
    limits[name] = (device.limits as unknown as Record<string, number>)[name];
  }
  return new Engine(device, {
    description: info.description || info.device || "unknown adapter",
    vendor: info.vendor ?? "",
    architecture: info.architecture ?? "",
    isFallback,
    limits,
    features: [...device.features],
  }, { exclusive });
}
