/**
 * The only code that awaits the GPU. Every await here is counted in `engine.stats.reads`, so
 * tests can assert that a training loop performs no reads between log points.
 *
 * @module
 */
import type { Engine } from "./device.ts";
import { type DType, hostArray, type HostArrays, type Tensor } from "./tensor.ts";

/** Tensors to copy out with the next read of an engine (see {@linkcode readWithNext}). */
interface Rider {
  tensor: Tensor;
  resolve(data: HostArrays[DType]): void;
  reject(e: unknown): void;
}
const RIDERS = new WeakMap<Engine, Rider[]>();

/**
 * Reads `t` with the engine's next {@linkcode readTensors} call, whoever makes it: no read of its
 * own. A loop that adds a check to a trainer's metrics read (non-finite counts, say) keeps one
 * read per log point.
 *
 * @example Ride along with a trainer's metrics read
 * ```ts
 * import { createEngine, readTensors } from "../mod.ts";
 * import { readWithNext } from "./readback.ts";
 *
 * const engine = await createEngine();
 * const flag = engine.tensor({ dtype: "u32", shape: [1], label: "example.flag" });
 * const metrics = engine.tensor({ dtype: "f32", shape: [2], label: "example.metrics" });
 * engine.write(flag, [3]);
 * const pending = readWithNext(engine, flag);
 * await readTensors(engine, [metrics] as const); // one read serves both
 * console.log(await pending, engine.stats.reads); // Uint32Array [3] 1
 * engine.destroy();
 * ```
 *
 * @param engine Engine whose next read carries `t`.
 * @param t Tensor to copy out.
 * @returns Its contents, once the next read has completed.
 */
export function readWithNext<D extends DType>(
  engine: Engine,
  t: Tensor<D>,
): Promise<HostArrays[D]> {
  return new Promise((resolve, reject) => {
    const riders = RIDERS.get(engine) ?? [];
    riders.push({ tensor: t, resolve: resolve as Rider["resolve"], reject });
    RIDERS.set(engine, riders);
  });
}

/**
 * Reads what {@linkcode readWithNext} queued, if no read has taken it yet (one read then; none
 * when nothing is pending).
 *
 * @param engine Engine whose queued tensors to read.
 */
export async function readPending(engine: Engine): Promise<void> {
  if ((RIDERS.get(engine)?.length ?? 0) > 0) await readTensors(engine, []);
}

/**
 * Reads several tensors with one submit and one await (counted as one read), together with any
 * tensors queued by {@linkcode readWithNext}.
 *
 * @example Read several tensors with one GPU synchronisation
 * ```ts
 * import { createEngine, readTensors } from "../mod.ts";
 *
 * const engine = await createEngine();
 * const a = engine.tensor({ dtype: "f32", shape: [2], label: "example.a" });
 * const b = engine.tensor({ dtype: "u32", shape: [3], label: "example.b" });
 * engine.write(a, [0.5, 1.5]);
 * engine.write(b, [7, 8, 9]);
 * const [ha, hb] = await readTensors(engine, [a, b] as const); // Float32Array, Uint32Array
 * console.log(ha, hb);
 * engine.destroy();
 * ```
 */
export async function readTensors<T extends readonly Tensor[]>(
  engine: Engine,
  tensors: T,
): Promise<{ [K in keyof T]: T[K] extends Tensor<infer D> ? HostArrays[D] : never }> {
  const riders = RIDERS.get(engine) ?? [];
  RIDERS.delete(engine);
  try {
    const all = await readAll(engine, [...tensors, ...riders.map((r) => r.tensor)]);
    riders.forEach((r, i) => r.resolve(all[tensors.length + i]));
    return all.slice(0, tensors.length) as never;
  } catch (e) {
    for (const r of riders) r.reject(e);
    throw e;
  }
}

async function readAll(engine: Engine, tensors: readonly Tensor[]): Promise<HostArrays[DType][]> {
  engine.throwIfError();
  const total = tensors.reduce((s, t) => s + t.byteLength, 0);
  const staging = engine.createBuffer({
    label: "readback.staging",
    size: Math.max(4, total),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    const enc = engine.device.createCommandEncoder({ label: "readback" });
    let off = 0;
    for (const t of tensors) {
      enc.copyBufferToBuffer(t.buffer, t.offset, staging, off, t.byteLength);
      off += t.byteLength;
    }
    engine.device.queue.submit([enc.finish()]);
    engine.stats.submits++;
    engine.stats.reads++;
    await staging.mapAsync(GPUMapMode.READ);
    engine.throwIfError();
    const bytes = new Uint8Array(staging.getMappedRange()).slice();
    staging.unmap();
    off = 0;
    const out = tensors.map((t) => {
      const arr = fromBytes(t.dtype, bytes.buffer, off, t.size);
      off += t.byteLength;
      return arr;
    });
    return out;
  } finally {
    engine.releaseBuffer(staging);
  }
}

/**
 * Waits until the GPU has finished the work submitted so far, reading nothing (counted in
 * `engine.stats.waits`). A loop that submits in slices awaits it between slices, so the event
 * loop runs (signals, timers) and the queue never grows past one slice.
 *
 * @example Submit work in slices and stay responsive
 * ```ts
 * import { createEngine } from "../mod.ts";
 * import { waitIdle } from "./readback.ts";
 *
 * const engine = await createEngine();
 * const t = engine.tensor({ dtype: "f32", shape: [4], label: "example.t" });
 * for (let slice = 0; slice < 3; slice++) {
 *   const enc = engine.encoder("example");
 *   enc.clear(t);
 *   engine.submit(enc);
 *   await waitIdle(engine); // signal handlers and timers run here
 * }
 * console.log(engine.stats.waits, engine.stats.reads); // 3 0
 * engine.destroy();
 * ```
 *
 * @param engine Engine whose queue to drain.
 */
export async function waitIdle(engine: Engine): Promise<void> {
  engine.throwIfError();
  engine.stats.waits++;
  await engine.device.queue.onSubmittedWorkDone();
  engine.throwIfError();
}

/**
 * Reads one tensor (one submit, one await).
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
export async function readTensor<D extends DType>(
  engine: Engine,
  t: Tensor<D>,
): Promise<HostArrays[D]> {
  const [out] = await readTensors(engine, [t] as const);
  return out as HostArrays[D];
}

/** Waits until all submitted work has finished (benchmarks). Counted as a read. */
export async function settle(engine: Engine): Promise<void> {
  engine.throwIfError();
  engine.stats.reads++;
  await engine.device.queue.onSubmittedWorkDone();
  engine.throwIfError();
}

function fromBytes<D extends DType>(
  dtype: D,
  buf: ArrayBuffer,
  off: number,
  n: number,
): HostArrays[D] {
  const out = hostArray(dtype, n);
  switch (dtype) {
    case "u8":
      (out as Uint8Array).set(new Uint8Array(buf, off, n));
      break;
    case "f32":
      (out as Float32Array).set(new Float32Array(buf, off, n));
      break;
    case "u32":
      (out as Uint32Array).set(new Uint32Array(buf, off, n));
      break;
    default:
      (out as Int32Array).set(new Int32Array(buf, off, n));
  }
  return out;
}
