/**
 * GPU timestamps without awaiting: a pair of timestamp queries written around recorded work,
 * resolved and copied into a tensor on the GPU, so kernels can accumulate durations that are read
 * with the next metrics readback. Needs the `timestamp-query` feature (createEngine requests it
 * when the adapter has it).
 *
 * @module
 */
import type { Engine } from "./device.ts";
import type { Encoder } from "./encoder.ts";
import type { Tensor } from "./tensor.ts";

/** Two timestamps around recorded work. */
export interface TimestampPair {
  /** [4] u32: begin and end as little-endian u64 nanosecond counters (lo, hi, lo, hi). */
  readonly stamps: Tensor<"u32">;
  /** Records the first timestamp (an empty compute pass). */
  begin(enc: Encoder): void;
  /** Records the second timestamp and the copy of both into `stamps`. */
  end(enc: Encoder): void;
}

/** True when the engine's device can write timestamps. */
export function hasTimestamps(engine: Engine): boolean {
  return engine.device.features.has("timestamp-query");
}

/** Builds a timestamp pair; throws when the device lacks `timestamp-query`. */
export function createTimestampPair(engine: Engine, label: string): TimestampPair {
  if (!hasTimestamps(engine)) {
    throw new TypeError(
      `Cannot create timestamps "${label}": the device has no "timestamp-query" feature`,
    );
  }
  const querySet = engine.device.createQuerySet({
    label: `${label}.queries`,
    type: "timestamp",
    count: 2,
  });
  const resolve = engine.createBuffer({
    label: `${label}.resolve`,
    size: 16,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const stamps = engine.tensor({ dtype: "u32", shape: [4], label: `${label}.stamps` });
  const mark = (enc: Encoder, writes: GPUComputePassTimestampWrites) =>
    enc.raw.beginComputePass({ label: `${label}.mark`, timestampWrites: writes }).end();
  return {
    stamps,
    begin: (enc) => mark(enc, { querySet, beginningOfPassWriteIndex: 0 }),
    end(enc) {
      mark(enc, { querySet, endOfPassWriteIndex: 1 });
      const raw = enc.raw;
      raw.resolveQuerySet(querySet, 0, 2, resolve, 0);
      raw.copyBufferToBuffer(resolve, 0, stamps.buffer, stamps.offset, 16);
    },
  };
}
