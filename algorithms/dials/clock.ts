/**
 * Runtime breakdown of DIALS by phase without awaiting the GPU in the training loop. With the
 * `timestamp-query` feature, each phase's command buffer is bracketed by two GPU timestamps
 * (empty compute passes with `timestampWrites`), resolved and added on the GPU into a per-phase
 * total [s] that `readMetrics` reads with everything else. Without it, the host time around each
 * submit is used: exact on adapters whose submit runs the work (llvmpipe), an underestimate on
 * asynchronous GPUs. Kernel in `shaders/algorithms/dials/clock.wgsl`.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { compileKernel, defineKernel, type Dispatch } from "../../engine/kernel.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { createTimestampPair, hasTimestamps } from "../../engine/timestamps.ts";

/** Phases of the runtime breakdown. */
export const DIALS_PHASES = ["collect", "aipTrain", "policy", "eval"] as const;
/** One phase of the runtime breakdown. */
export type DialsPhase = typeof DIALS_PHASES[number];

/** acc[phase] += end − begin of the resolved timestamps [s]. */
export const dialsClockAccumulate = defineKernel({
  name: "dials.clock.accumulate",
  shader: "algorithms/dials/clock.wgsl",
  entryPoint: "accumulate",
  includes: ["common/_index.wgsl"],
  bindings: { stamps: "read", acc: "write" },
  params: { phase: "u32" },
  threads: () => 1,
});

/** A phase clock. */
export interface PhaseClock {
  /** "gpu" (timestamp queries) or "host" (time around submit). */
  readonly source: "gpu" | "host";
  /** [phases] f32 GPU totals [s] (zero in "host" mode). */
  readonly totals: Tensor<"f32">;
  /** Submits `enc`, a whole phase, charging it to `phase`. */
  submit(engine: Engine, enc: Encoder, phase: DialsPhase, record: (enc: Encoder) => void): void;
  /** Per-phase totals [s] from a host copy of `totals`. */
  decode(totals: Float32Array): Record<DialsPhase, number>;
}

/**
 * Builds the clock (query set, resolve buffer, accumulators and one bound kernel per phase).
 *
 * @param engine Engine that owns the device.
 * @param label Labels are `<label>.*`.
 * @returns A {@linkcode PhaseClock}.
 */
export async function createPhaseClock(engine: Engine, label: string): Promise<PhaseClock> {
  const P = DIALS_PHASES.length;
  const totals = engine.tensor({ dtype: "f32", shape: [P], label: `${label}.totals` });
  const host = { collect: 0, aipTrain: 0, policy: 0, eval: 0 };
  if (!hasTimestamps(engine)) {
    return {
      source: "host",
      totals,
      submit(eng, enc, phase, record) {
        const t0 = performance.now();
        record(enc);
        eng.submit(enc);
        host[phase] += (performance.now() - t0) / 1000;
      },
      decode: () => ({ ...host }),
    };
  }
  const pair = createTimestampPair(engine, label);
  const k = await compileKernel(engine, dialsClockAccumulate);
  const acc: Dispatch<{ phase: "u32" }>[] = DIALS_PHASES.map((_, phase) =>
    k.bind({ stamps: pair.stamps, acc: totals }, { phase }, `${label}.accumulate.${phase}`)
  );
  return {
    source: "gpu",
    totals,
    submit(eng, enc, phase, record) {
      pair.begin(enc);
      record(enc);
      pair.end(enc);
      acc[DIALS_PHASES.indexOf(phase)].encode(enc);
      eng.submit(enc);
    },
    decode: (t) =>
      Object.fromEntries(DIALS_PHASES.map((p, i) => [p, t[i]])) as Record<DialsPhase, number>,
  };
}
