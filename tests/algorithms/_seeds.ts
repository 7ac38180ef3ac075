// Test helpers for seed batching (algorithms/seeds.ts): a batch's state, sliced per seed, must equal
// the lone runs' state byte for byte, and its per-seed metrics the lone runs' metrics.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { readTensors } from "../../engine/readback.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { sliceSeed } from "../../algorithms/seeds.ts";
import type { AlgorithmDef, Metrics, RunConfig, Trainer } from "../../algorithms/trainer.ts";

type HostArray = Float32Array | Uint32Array | Int32Array | Uint8Array;

function bytes(a: HostArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : Math.min(a.length, b.length);
}

/** Reads every state tensor of a trainer, by key. */
async function readState(engine: Engine, tr: Trainer): Promise<Record<string, HostArray>> {
  const state = tr.stateTensors();
  const keys = Object.keys(state);
  const values = await readTensors(engine, keys.map((k) => state[k]) as Tensor[]);
  return Object.fromEntries(keys.map((k, i) => [k, values[i] as HostArray]));
}

/**
 * Reads every state tensor of `batch` and of each lone trainer and throws unless seed k's slice
 * equals lone trainer k's tensor byte for byte (every key needs a seed layout).
 */
export async function assertSeedStatesEqual(
  engine: Engine,
  batch: Trainer,
  lone: readonly Trainer[],
): Promise<void> {
  const layouts = batch.seedLayouts!();
  const all = await readState(engine, batch);
  assertEquals(Object.keys(layouts).sort(), Object.keys(all).sort(), "a layout per state tensor");
  for (const [k, t] of lone.entries()) {
    const want = await readState(engine, t);
    assertEquals(Object.keys(all).sort(), Object.keys(want).sort(), `seed ${k} state keys`);
    for (const [key, data] of Object.entries(all)) {
      const slice = bytes(sliceSeed(data, layouts[key], lone.length, k));
      const at = firstDiff(slice, bytes(want[key]));
      assert(at < 0, `seed ${k}: "${key}" differs from the lone run at byte ${at}`);
    }
  }
}

/** Throws unless two metrics records are identical (NaN equals NaN). */
export function assertMetricsEqual(a: Metrics, b: Metrics, what: string): void {
  assertEquals(comparable(a), comparable(b), what);
}

/** Dispatches `record` makes on a fresh encoder (the encoder is submitted: the work runs). */
export function countDispatches(engine: Engine, record: (enc: Encoder) => void): number {
  const before = engine.stats.dispatches;
  const enc = engine.encoder("count");
  record(enc);
  engine.submit(enc);
  return engine.stats.dispatches - before;
}

/** Metrics without the fields a batch and a lone run legitimately differ in (none so far). */
function comparable(m: Metrics): Metrics {
  return JSON.parse(JSON.stringify(m, (_k, v) => (typeof v === "number" && isNaN(v) ? "NaN" : v)));
}

/**
 * Builds a batch of `seeds` seeds and the lone trainers of the same seeds, runs `schedule`
 * (iterations between metric reads) on all, and checks that every seed's slice of every state
 * tensor equals the lone trainer's bytes and that the per-seed metrics are equal.
 */
export async function assertSeedsMatchLone<C extends object>(
  engine: Engine,
  def: AlgorithmDef<C>,
  run: RunConfig,
  algo: C,
  options: {
    seeds: number;
    schedule: number[];
    /** Extra checks of each interval's per-seed metrics (e.g. that a stage did something). */
    check?: (metrics: Metrics[]) => void;
  },
): Promise<void> {
  const S = options.seeds;
  assert(def.createSeeds, `${def.name} has createSeeds`);
  const batch = await def.createSeeds(engine, run, algo, S);
  assertEquals(batch.seeds, S);
  const lone: Trainer[] = [];
  for (let k = 0; k < S; k++) {
    lone.push(await def.create(engine, { ...run, seed: run.seed + k }, algo));
  }
  assertEquals(batch.stepsPerIteration, lone[0].stepsPerIteration);
  for (const n of options.schedule) {
    batch.run(n);
    for (const t of lone) t.run(n);
    const got = await batch.readSeedMetrics!();
    assertEquals(got.length, S);
    assert(got.every((m) => m.scalars.updates > 0), "every seed learned in the interval");
    options.check?.(got);
    for (let k = 0; k < S; k++) {
      const want = await lone[k].readMetrics();
      assertEquals(comparable(got[k]), comparable(want), `seed ${k} metrics after ${n} iterations`);
    }
  }
  assertEquals(batch.envSteps, lone[0].envSteps);
  await assertSeedStatesEqual(engine, batch, lone);
  const layouts = batch.seedLayouts!();
  const all = await readState(engine, batch);
  for (const key of Object.keys(batch.policyTensors?.() ?? {})) {
    assert(key in layouts, `policy tensor ${key} has a seed layout`);
  }
  const policy = Object.keys(batch.policyTensors?.() ?? {});
  assert(policy.length > 0, "a policy tensor");
  const [w0, w1] = [0, 1].map((k) => bytes(sliceSeed(all[policy[0]], layouts[policy[0]], S, k)));
  assert(firstDiff(w0, w1) >= 0, "seeds 0 and 1 hold different weights");
}

/**
 * Dispatches one iteration records, counted from `engine.stats` over `iterations` iterations of a
 * trainer that is already past its first learning step (so learning is counted).
 */
export function dispatchesPerIteration(engine: Engine, tr: Trainer, iterations: number): number {
  const before = engine.stats.dispatches;
  tr.run(iterations);
  return (engine.stats.dispatches - before) / iterations;
}
