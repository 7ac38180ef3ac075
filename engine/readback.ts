/**
 * The only code that awaits the GPU. Every await here is counted in `engine.stats.reads`, so
 * tests can assert that a training loop performs no reads between log points.
 *
 * @module
 */
import type { Engine } from "./device.ts";
import { type DType, hostArray, type HostArrays, type Tensor } from "./tensor.ts";

/** Reads several tensors with one submit and one await (counted as one read). */
export async function readTensors<T extends readonly Tensor[]>(
  engine: Engine,
  tensors: T,
): Promise<{ [K in keyof T]: T[K] extends Tensor<infer D> ? HostArrays[D] : never }> {
  engine.throwIfError();
  const total = tensors.reduce((s, t) => s + t.byteLength, 0);
  const staging = engine.device.createBuffer({
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
    staging.destroy();
  }
}

/** Reads one tensor (one submit, one await). */
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
