// Test helpers for seed batching (algorithms/seeds.ts): a batch's state, sliced per seed, must equal
// the lone runs' state byte for byte, and its per-seed metrics the lone runs' metrics.
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { readTensors } from "../../engine/readback.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { sliceSeed } from "../../algorithms/seeds.ts";
import type { Metrics, Trainer } from "../../algorithms/trainer.ts";

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function sameBytes(a: ArrayBufferView, b: ArrayBufferView): number {
  const x = bytesOf(a), y = bytesOf(b);
  if (x.length !== y.length) return -2;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/**
 * Reads every state tensor of `batch` and of each lone trainer and throws unless seed k's slice
 * equals lone trainer k's tensor byte for byte (every name of the lone trainer must be laid out).
 */
export async function assertSeedStatesEqual(
  engine: Engine,
  batch: Trainer,
  lone: readonly Trainer[],
): Promise<void> {
  const layouts = batch.seedLayouts!();
  const bState = batch.stateTensors();
  const names = Object.keys(bState);
  const bHost = await readTensors(engine, names.map((n) => bState[n]) as Tensor[]);
  for (const [k, t] of lone.entries()) {
    const lState = t.stateTensors();
    const lNames = Object.keys(lState).sort();
    if (lNames.join() !== [...names].sort().join()) {
      throw new Error(`seed ${k}: state names differ: ${lNames} vs ${names.sort()}`);
    }
    const lHost = await readTensors(engine, names.map((n) => lState[n]) as Tensor[]);
    names.forEach((n, i) => {
      const layout = layouts[n];
      if (!layout) throw new Error(`no seed layout for "${n}"`);
      const slice = sliceSeed(bHost[i] as Float32Array, layout, lone.length, k);
      const at = sameBytes(slice, lHost[i] as ArrayBufferView);
      if (at !== -1) {
        throw new Error(
          `seed ${k}: "${n}" differs from the lone run (${at === -2 ? "size" : `byte ${at}`})`,
        );
      }
    });
  }
}

/** Throws unless two metrics records are identical (NaN equals NaN). */
export function assertMetricsEqual(a: Metrics, b: Metrics, what: string): void {
  const same = (x: unknown, y: unknown): boolean =>
    typeof x === "number"
      ? Object.is(x, y)
      : JSON.stringify(x, (_k, v) =>
        typeof v === "number" && !Number.isFinite(v) ? String(v) : v) ===
        JSON.stringify(y, (_k, v) =>
          typeof v === "number" && !Number.isFinite(v) ? String(v) : v);
  for (const key of Object.keys(a) as (keyof Metrics)[]) {
    if (!same(a[key], b[key])) {
      throw new Error(
        `${what}: ${key} differs: ${JSON.stringify(a[key])} vs ${JSON.stringify(b[key])}`,
      );
    }
  }
}

/** Dispatches `record` makes on a fresh encoder (the encoder is submitted: the work runs). */
export function countDispatches(engine: Engine, record: (enc: Encoder) => void): number {
  const enc = engine.encoder("count");
  let n = 0;
  const dispatch = enc.dispatch.bind(enc), indirect = enc.dispatchIndirect.bind(enc);
  enc.dispatch = (...args: Parameters<Encoder["dispatch"]>) => (n++, dispatch(...args));
  enc.dispatchIndirect = (
    ...args: Parameters<Encoder["dispatchIndirect"]>
  ) => (n++, indirect(...args));
  record(enc);
  engine.submit(enc);
  return n;
}
