/**
 * Test helpers: GPU detection, a per-test engine, tolerant comparisons that report the first
 * mismatch, seeded host data and finite differences.
 *
 * @module
 */
import { createEngine, type Engine } from "../engine/device.ts";
import { PORTABLE_STORAGE_BUFFERS } from "../engine/limits.ts";
import { HostRng, RNG_PURPOSE } from "../engine/rng.ts";

/** True when WebGPU gives an adapter here (a real GPU or Mesa's llvmpipe). */
export const HAS_GPU: boolean = await (async () => {
  try {
    return Boolean(await navigator.gpu?.requestAdapter());
  } catch {
    return false;
  }
})();

/**
 * True when GPU tests skip: no adapter here and not in CI. In CI (`CI=true`, as `.ci/run` runs)
 * a missing adapter is a failure, so a GPU test never passes CI by skipping.
 */
export const SKIP_GPU: boolean = !HAS_GPU && Deno.env.get("CI") !== "true";

/**
 * A fresh engine capped at the portable storage buffers per shader stage (the WebGPU minimum,
 * which every adapter offers), so every GPU test also checks that its kernels run on any adapter,
 * browsers included; destroy it in `finally`.
 */
export function testEngine(): Promise<Engine> {
  return createEngine({ maxStorageBuffers: PORTABLE_STORAGE_BUFFERS });
}

/**
 * Declares a GPU test that gets its own engine and always destroys it (skipped without WebGPU).
 */
export function gpuTest(name: string, fn: (engine: Engine) => Promise<void> | void): void {
  Deno.test({
    name,
    ignore: SKIP_GPU,
    async fn() {
      const engine = await testEngine();
      try {
        await fn(engine);
      } finally {
        engine.destroy();
      }
    },
  });
}

/** Tolerances of {@linkcode assertAllClose}: |got − want| ≤ atol + rtol·|want|. */
export interface Tolerance {
  atol?: number;
  rtol?: number;
}

/** Asserts elementwise closeness; reports the mismatch count and the first mismatch. */
export function assertAllClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: Tolerance = {},
  what = "values",
): void {
  const atol = tol.atol ?? 1e-6, rtol = tol.rtol ?? 1e-5;
  if (got.length !== want.length) {
    throw new Error(`${what}: length ${got.length}, want ${want.length}`);
  }
  let bad = 0, first = -1;
  for (let i = 0; i < got.length; i++) {
    const g = got[i], w = want[i];
    const ok = Number.isFinite(g) && Math.abs(g - w) <= atol + rtol * Math.abs(w);
    if (!ok) {
      bad++;
      if (first < 0) first = i;
    }
  }
  if (bad > 0) {
    const g = got[first], w = want[first];
    throw new Error(
      `${what}: ${bad}/${got.length} mismatches; first at [${first}]: got ${g}, want ${w}, diff ${
        Math.abs(g - w)
      }, tolerance ${atol + rtol * Math.abs(w)}`,
    );
  }
}

/** Asserts exact equality of integer/state arrays, reporting the first difference. */
export function assertExact(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  what = "values",
): void {
  if (got.length !== want.length) {
    throw new Error(`${what}: length ${got.length}, want ${want.length}`);
  }
  let bad = 0, first = -1;
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== want[i] && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
      bad++;
      if (first < 0) first = i;
    }
  }
  if (bad > 0) {
    throw new Error(
      `${what}: ${bad}/${got.length} differ; first at [${first}]: got ${got[first]}, want ${
        want[first]
      }`,
    );
  }
}

/** Seeded host data for tests. */
export function seeded(seed: number) {
  const rng = new HostRng(seed, RNG_PURPOSE.test);
  return {
    rng,
    /** n floats uniform in [lo, hi), rounded to f32. */
    f32(n: number, lo = -1, hi = 1): Float32Array {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = rng.uniform(lo, hi);
      return out;
    },
    /** n integers in [0, k). */
    u32(n: number, k: number): Uint32Array {
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = rng.below(k);
      return out;
    },
  };
}

/**
 * Central finite differences in float64 of a scalar function at x: d f / d x[i] for every i
 * (or only the indices in `only`).
 */
export function finiteDiff(
  f: (x: Float64Array) => number,
  x: ArrayLike<number>,
  eps = 1e-6,
  only?: readonly number[],
): Float64Array {
  const base = Float64Array.from(x as ArrayLike<number>);
  const grad = new Float64Array(base.length);
  const idx = only ?? [...base.keys()];
  for (const i of idx) {
    const v = base[i];
    base[i] = v + eps;
    const fp = f(base);
    base[i] = v - eps;
    const fm = f(base);
    base[i] = v;
    grad[i] = (fp - fm) / (2 * eps);
  }
  return grad;
}

/** Σ a_i b_i in float64. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** The agent counts every batched kernel is tested at. */
export const AGENT_COUNTS = [1, 3, 8] as const;
