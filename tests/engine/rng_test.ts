import { createRandomFill } from "../../engine/ops/random.ts";
import { randomFillReference } from "../../engine/ops/random_reference.ts";
import { readTensors } from "../../engine/readback.ts";
import {
  RNG_PURPOSE,
  rngBelow,
  rngBernoulli,
  rngCategorical,
  rngCategoricalLogits,
  rngGumbel,
  rngOpenUnit,
  rngU32,
  rngUnit,
} from "../../engine/rng.ts";
import { assertAllClose, assertExact, gpuTest } from "../_testing.ts";

/** Pearson χ² of counts against equal expected counts. */
function chiSquare(counts: ArrayLike<number>, total: number): number {
  const want = total / counts.length;
  let x = 0;
  for (let i = 0; i < counts.length; i++) x += (counts[i] - want) ** 2 / want;
  return x;
}

/** Pearson correlation of x[i] and y[i]. */
function correlation(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) (mx += x[i], my += y[i]);
  mx /= n, my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) ** 2, syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

const ROWS = 37, COLS = 211; // 7807 counters, not a multiple of the workgroup size
const KEY = { seed: 0xdeadbeef, purpose: RNG_PURPOSE.test, step: 12345, draw: 3 };

gpuTest(
  "rngU32(), rngUnit(), rngBelow() and rngBernoulli() are bit-identical on GPU and in TS",
  async (engine) => {
    const dists = [
      { kind: "bits" },
      { kind: "uniform", lo: 0, hi: 1 },
      { kind: "below", k: 7 },
      { kind: "below", k: 1_000_003 },
      { kind: "below", k: 0xffffffff },
      { kind: "bernoulli", p: 0.3 },
    ] as const;
    // Two keys: a typical one and one with every counter word at its maximum.
    const keys = [KEY, {
      seed: 0xffffffff,
      purpose: 0xffffffff,
      step: 0xffffffff,
      draw: 0xffffffff,
    }];
    for (const key of keys) {
      const outs = [];
      const enc = engine.encoder();
      for (const [i, dist] of dists.entries()) {
        const out = engine.tensor({
          dtype: dist.kind === "uniform" ? "f32" : "u32",
          shape: [ROWS, COLS],
          label: `t.rng.${i}`,
        });
        (await createRandomFill(engine, { out, dist, ...key, label: `t.fill.${i}` })).encode(enc);
        outs.push(out);
      }
      engine.submit(enc);
      const got = await readTensors(engine, outs);
      for (const [i, dist] of dists.entries()) {
        assertExact(
          got[i],
          randomFillReference(ROWS, COLS, { ...key, dist }),
          `${dist.kind} seed ${key.seed}`,
        );
      }
    }
    // The TS twins themselves, spot-checked from their definitions.
    const h = rngU32(1, 2, 3, 4, 5, 6);
    assertExact([rngUnit(h), rngBelow(h, 10)], [
      Math.floor(h / 256) / 2 ** 24,
      Math.floor(h * 10 / 2 ** 32),
    ]);
    assertExact([rngBernoulli(h, 0), rngBernoulli(h, 1)], [0, 1], "bernoulli bounds");
  },
);

gpuTest(
  "rngU32() is uniform on the GPU and uncorrelated across adjacent counters",
  async (engine) => {
    const out = engine.tensor({ dtype: "u32", shape: [ROWS, COLS], label: "t.rng.bits" });
    const fill = await createRandomFill(engine, {
      out,
      dist: { kind: "bits" },
      ...KEY,
      label: "t.fill",
    });
    const enc = engine.encoder();
    fill.encode(enc);
    engine.submit(enc);
    const [bits] = await readTensors(engine, [out] as const);
    const n = bits.length;
    // χ² over 64 bins of the top and bottom 6 bits; 63 dof, 99.9th percentile ≈ 103.4.
    for (const shift of [26, 0]) {
      const counts = new Float64Array(64);
      for (const b of bits) counts[(b >>> shift) & 63]++;
      const x2 = chiSquare(counts, n);
      if (!(x2 < 103.4)) {
        throw new Error(
          `χ² of bits >> ${shift} is ${x2.toFixed(1)}, want < 103.4`,
        );
      }
    }
    // Every bit set about half the time (|z| < 4).
    for (let bit = 0; bit < 32; bit++) {
      let ones = 0;
      for (const b of bits) ones += (b >>> bit) & 1;
      const z = (ones - n / 2) / Math.sqrt(n / 4);
      if (Math.abs(z) > 4) {
        throw new Error(
          `bit ${bit} is set ${ones}/${n} times (z = ${z.toFixed(2)})`,
        );
      }
    }
    // Neighbouring counters along a (columns), along b (rows), and along step / draw.
    const u = Float64Array.from(bits, rngUnit);
    const pairs: [string, Float64Array, Float64Array][] = [
      ["a, a+1", u.filter((_, i) => i % COLS !== COLS - 1), u.filter((_, i) => i % COLS !== 0)],
      ["b, b+1", u.subarray(0, n - COLS), u.subarray(COLS)],
    ];
    const x = new Float64Array(4096), ys = new Float64Array(4096), yd = new Float64Array(4096);
    for (let i = 0; i < x.length; i++) {
      x[i] = rngUnit(rngU32(7, 1, i, 0, 100, 0));
      ys[i] = rngUnit(rngU32(7, 1, i, 0, 101, 0));
      yd[i] = rngUnit(rngU32(7, 1, i, 0, 100, 1));
    }
    pairs.push(["step, step+1", x, ys], ["draw, draw+1", x, yd]);
    for (const [what, a, b] of pairs) {
      const r = correlation(a, b), bound = 4 / Math.sqrt(a.length);
      if (Math.abs(r) > bound) {
        throw new Error(
          `correlation of ${what} is ${r}, want |r| < ${bound}`,
        );
      }
    }
    // rngBelow(·, 10) on the GPU stream is uniform over 10 values (9 dof, 99.9th ≈ 27.9).
    const counts = new Float64Array(10);
    for (const b of bits) counts[rngBelow(b, 10)]++;
    const x2 = chiSquare(counts, n);
    if (!(x2 < 27.9)) throw new Error(`χ² of rngBelow(h, 10) is ${x2.toFixed(1)}, want < 27.9`);
  },
);

gpuTest("rngGumbel() on the GPU matches the TS twin to the last ulps of log", async (engine) => {
  const out = engine.tensor({ dtype: "f32", shape: [ROWS, COLS], label: "t.rng.gumbel" });
  const fill = await createRandomFill(engine, {
    out,
    dist: { kind: "gumbel" },
    ...KEY,
    label: "t.fill",
  });
  const enc = engine.encoder();
  fill.encode(enc);
  engine.submit(enc);
  const [g] = await readTensors(engine, [out] as const);
  const want = randomFillReference(ROWS, COLS, { ...KEY, dist: { kind: "gumbel" } });
  assertAllClose(g, want, { atol: 2e-6, rtol: 1e-5 }, "gumbel");
  // Gumbel(0, 1): mean γ ≈ 0.5772, variance π²/6.
  let m = 0;
  for (const v of g) m += v;
  m /= g.length;
  let v2 = 0;
  for (const v of g) v2 += (v - m) ** 2;
  v2 /= g.length;
  const se = Math.sqrt(Math.PI ** 2 / 6 / g.length);
  if (Math.abs(m - 0.5772157) > 5 * se) {
    throw new Error(`Gumbel mean ${m}, want 0.5772 ± ${5 * se}`);
  }
  if (Math.abs(v2 - Math.PI ** 2 / 6) > 0.1) {
    throw new Error(`Gumbel variance ${v2}, want ${Math.PI ** 2 / 6}`);
  }
});

Deno.test("rngOpenUnit() stays inside (0, 1) and rngGumbel() stays finite at the extremes", () => {
  for (const h of [0, 1, 511, 512, 0xfffffe00, 0xffffffff]) {
    const u = rngOpenUnit(h);
    if (!(u > 0 && u < 1) || Math.fround(u) !== u) throw new Error(`rngOpenUnit(${h}) = ${u}`);
    const g = rngGumbel(h);
    if (!Number.isFinite(g) || Math.fround(g) !== g) throw new Error(`rngGumbel(${h}) = ${g}`);
  }
  // Extremes: u = 2^-24 gives −log(16.6…) ≈ −2.81, u = 1 − 2^-24 gives −log(5.96e-8) ≈ 16.6.
  assertAllClose([rngGumbel(0), rngGumbel(0xffffffff)], [
    -Math.log(-Math.log(2 ** -24)),
    -Math.log(-Math.log(1 - 2 ** -24)),
  ], { rtol: 1e-6 });
});

Deno.test("rngCategorical() follows the inverse CDF and skips zero-probability categories", () => {
  const probs = [0, 2, 0, 1, 1, 0];
  const counts = new Float64Array(probs.length);
  const n = 40_000;
  for (let i = 0; i < n; i++) counts[rngCategorical(rngU32(5, 6, i, 0, 0, 0), probs)]++;
  assertExact([counts[0], counts[2], counts[5]], [0, 0, 0], "zero-probability counts");
  assertAllClose([counts[1] / n, counts[3] / n, counts[4] / n], [0.5, 0.25, 0.25], { atol: 0.015 });
  // Target just under the total lands in the last positive category; all-zero rows give 0.
  assertExact([rngCategorical(0xffffffff, probs), rngCategorical(123, [0, 0, 0])], [4, 0]);
});

Deno.test("rngCategoricalLogits() samples softmax(logits) and breaks ties to the lowest index", () => {
  const logits = [Math.log(0.1), Math.log(0.6), Math.log(0.3)];
  const counts = new Float64Array(3);
  const n = 40_000;
  for (let i = 0; i < n; i++) counts[rngCategoricalLogits(9, 4, i, 2, 17, logits)]++;
  assertAllClose(Array.from(counts, (c) => c / n), [0.1, 0.6, 0.3], { atol: 0.015 });
  // A dominant logit always wins; a single category is always 0.
  assertExact([
    rngCategoricalLogits(1, 1, 1, 1, 1, [0, 1e6, 0]),
    rngCategoricalLogits(1, 1, 1, 1, 1, [3]),
  ], [1, 0]);
});
