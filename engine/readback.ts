/**
 * The only code that awaits the GPU. Every await here is counted in `engine.stats.reads`, so
 * tests can assert that a training loop performs no reads between log points.
 *
 * @module
 */
import type { Engine } from "./device.ts";
import { type DType, hostArray, type HostArrays, type Tensor } from "./tensor.ts";

/**
 * Reads several tensors with one submit and one await (counted as one read).
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
    return out as never;
  } finally {
    engine.releaseBuffer(staging);
  }
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
