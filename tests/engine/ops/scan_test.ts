import { createScan, SCAN_BLOCK } from "../../../engine/ops/scan.ts";
import { absScanReference, scanReference } from "../../../engine/ops/scan_reference.ts";
import { readTensor } from "../../../engine/readback.ts";
import type { Engine } from "../../../engine/device.ts";
import { AGENT_COUNTS, assertExact, gpuTest, seeded } from "../../_testing.ts";

const SIZES = [1, 63, 1000, 70001];

async function runScan(
  engine: Engine,
  data: Float32Array | Uint32Array,
  o: { numSegments: number; n: number; exclusive: boolean },
) {
  const dtype = data instanceof Float32Array ? "f32" : "u32";
  const shape = [o.numSegments, o.n];
  const x = engine.tensor({ dtype, shape, label: "t.x", data });
  const y = engine.tensor({ dtype, shape, label: "t.y" });
  const scan = await createScan(engine, { x, y, ...o, label: "t.scan" });
  const enc = engine.encoder();
  scan.encode(enc);
  engine.submit(enc);
  return { got: await readTensor(engine, y), dispatches: scan.dispatches };
}

/** f32 prefix sums: |got − want| ≤ 1e-6 + 2e-6·Σ|x| up to that position (fixed-order f32 sums). */
function assertPrefixClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  scale: ArrayLike<number>,
  what: string,
) {
  let bad = 0, first = -1;
  for (let i = 0; i < got.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= 1e-6 + 2e-6 * scale[i])) (bad++, first < 0 && (first = i));
  }
  if (bad) {
    throw new Error(
      `${what}: ${bad}/${got.length} mismatches; first at [${first}]: got ${got[first]}, want ${
        want[first]
      }`,
    );
  }
}

for (const numSegments of AGENT_COUNTS) {
  gpuTest(
    `createScan() matches the reference for u32 and f32, inclusive and exclusive (${numSegments} segments)`,
    async (engine) => {
      for (const n of SIZES) {
        const r = seeded(100 * numSegments + n);
        const u = r.u32(numSegments * n, 1000);
        const f = r.f32(numSegments * n, -1, 1);
        for (const exclusive of [false, true]) {
          const o = { numSegments, n, exclusive };
          const what = `n=${n} ${exclusive ? "exclusive" : "inclusive"}`;
          assertExact(
            (await runScan(engine, u, o)).got,
            scanReference(u, { ...o, wrapU32: true }),
            `u32 ${what}`,
          );
          const scale = absScanReference(f, numSegments, n);
          assertPrefixClose(
            (await runScan(engine, f, o)).got,
            scanReference(f, o),
            scale,
            `f32 ${what}`,
          );
        }
      }
    },
  );
}

gpuTest("createScan() handles three levels of block sums and u32 wrap-around", async (engine) => {
  const n = SCAN_BLOCK * SCAN_BLOCK + 4321; // needs blocks, blocks of block sums, and one more level
  const r = seeded(5);
  const u = r.u32(n, 2 ** 32 - 1);
  const o = { numSegments: 1, n, exclusive: true };
  const { got, dispatches } = await runScan(engine, u, o);
  assertExact([dispatches], [5], "dispatches (3 block scans + 2 add-backs)");
  assertExact(got, scanReference(u, { ...o, wrapU32: true }), "u32 exclusive 3 levels");
});

gpuTest("createScan() rejects mismatched shapes and in-place use", async (engine) => {
  const x = engine.tensor({ dtype: "u32", shape: [2, 10], label: "t.x" });
  const y = engine.tensor({ dtype: "f32", shape: [2, 10], label: "t.y" });
  const errs: string[] = [];
  for (const o of [{ x, y }, { x, y: x }]) {
    try {
      await createScan(engine, { ...o, numSegments: 2, n: 10, exclusive: false, label: "t.bad" });
    } catch (e) {
      errs.push((e as Error).message);
    }
  }
  assertExact([errs.length], [2], "errors");
  if (!errs[0].includes("must both be u32 [2, 10]") || !errs[1].includes("must not share")) {
    throw new Error(`unexpected errors: ${errs.join(" | ")}`);
  }
});
