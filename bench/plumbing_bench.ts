// Plumbing benches: prefix-sum and stream-compaction throughput at N = 10^4 … 10^7 items.
// Run: deno bench -A bench/plumbing_bench.ts
// Each timed iteration records `reps` scans (or compactions) of N items into one encoder, submits
// once and awaits once (settle: ~11 ms in Deno), so reps · N ≥ TARGET_ITEMS amortises the await.
// items/s = reps · N / (time per iteration); the best figure per bench is printed at the end.
import { createEngine, type Engine } from "../engine/device.ts";
import type { Encoder } from "../engine/encoder.ts";
import { createCompact } from "../engine/ops/compact.ts";
import { createScan } from "../engine/ops/scan.ts";
import { settle } from "../engine/readback.ts";

const engine: Engine = await createEngine();
/** Items behind one await: enough to dwarf the ~11 ms sync. */
const TARGET_ITEMS = engine.isCpu ? 2e6 : 1e8;
const SIZES = [1e4, 1e5, 1e6, 1e7];

const best = new Map<string, number>();

/** Registers one bench that runs `build()`'s encoder `reps` times per timed iteration. */
function itemsBench(
  name: string,
  group: string,
  items: number,
  build: () => Promise<(enc: Encoder) => void>,
): void {
  const reps = Math.max(1, Math.round(TARGET_ITEMS / items));
  const full = `${name} ×${reps}`;
  let op: Promise<(enc: Encoder) => void> | null = null;
  Deno.bench({
    name: full,
    group,
    n: items >= 1e7 ? 2 : 5,
    warmup: 1,
    async fn(b) {
      op ??= build();
      const encode = await op;
      await settle(engine);
      b.start();
      const t0 = performance.now();
      const enc = engine.encoder();
      for (let r = 0; r < reps; r++) encode(enc);
      engine.submit(enc);
      await settle(engine);
      const seconds = (performance.now() - t0) / 1000;
      b.end();
      best.set(full, Math.max(best.get(full) ?? 0, (reps * items) / seconds));
    },
  });
}

/** 0/1 data with about half the items kept (deterministic). */
function halfFlags(n: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => ((i * 2654435761) >>> 31) & 1);
}

for (const n of SIZES) {
  for (const dtype of ["u32", "f32"] as const) {
    itemsBench(`scan exclusive ${dtype} N=${n.toExponential()}`, `scan ${dtype}`, n, async () => {
      const shape = [1, n];
      const x = engine.tensor({ dtype, shape, label: "bench.scan.x", data: halfFlags(n) });
      const y = engine.tensor({ dtype, shape, label: "bench.scan.y" });
      const scan = await createScan(engine, {
        x,
        y,
        numSegments: 1,
        n,
        exclusive: true,
        label: "bench.scan",
      });
      return (enc) => scan.encode(enc);
    });
  }
}

for (const [numSegments, n] of [[1, 1e4], [1, 1e5], [1, 1e6], [8, 1.25e5], [1, 1e7]]) {
  const total = numSegments * n;
  itemsBench(
    `compact ${numSegments}×${n.toExponential()} (N=${total.toExponential()})`,
    "compact",
    total,
    async () => {
      const flags = engine.tensor({
        dtype: "u32",
        shape: [numSegments, n],
        label: "bench.compact.flags",
        data: halfFlags(total),
      });
      const c = await createCompact(engine, { flags, numSegments, n, label: "bench.compact" });
      return (enc) => c.encode(enc);
    },
  );
}

globalThis.addEventListener("unload", () => {
  console.log(`\nadapter: ${engine.adapter.description} (isCpu ${engine.isCpu})`);
  for (const [name, v] of best) console.log(`best ${name}: ${(v / 1e6).toFixed(1)} M items/s`);
  engine.destroy();
});
