/**
 * The stratified bootstrap under app/stats.ts and app/curves.ts: score validation, a seeded
 * random stream, resampling runs within each task, and percentile intervals as rliable computes
 * them (google-research/rliable `rliable/library.py`: `StratifiedBootstrap`, and arch's
 * `IIDBootstrap.conf_int(method='percentile')`, which takes `np.percentile` of the resampled
 * statistic). See docs/statistics.md.
 *
 * @module
 */

/** Scores of one algorithm, `[task][run]`: each task's runs (seeds), at least one each. */
export type TaskScores = readonly (readonly number[])[];

/** A point estimate with its confidence interval. */
export interface Interval {
  /** The statistic on the scores themselves. */
  estimate: number;
  /** Lower end of the percentile bootstrap interval. */
  lower: number;
  /** Upper end of the percentile bootstrap interval. */
  upper: number;
}

/** Bootstrap settings. */
export interface BootstrapOptions {
  /** Bootstrap resamples. Default 2000 (rliable's `get_interval_estimates` uses 50,000). */
  reps?: number;
  /** Coverage of the interval, in (0, 1). Default 0.95. */
  confidence?: number;
  /** Seed of the resampling stream, an integer in [0, 2^32). Default 0. */
  seed?: number;
}

/** Defaults of {@linkcode BootstrapOptions}. */
export const BOOTSTRAP_DEFAULTS: Readonly<Required<BootstrapOptions>> = Object.freeze({
  reps: 2000,
  confidence: 0.95,
  seed: 0,
});

/**
 * Stratified bootstrap resamples (rliable's `StratifiedBootstrap`, `task_bootstrap=False`): each
 * resample draws, for every task separately, as many runs as the task has, with replacement, from
 * that task's runs only. A resample never moves a score to another task.
 *
 * @example Resample three seeds of two tasks
 * ```ts
 * import { stratifiedResamples } from "./bootstrap.ts";
 *
 * for (const s of stratifiedResamples([[1, 2, 3], [10, 20, 30]], { reps: 2, seed: 7 })) {
 *   console.log(s); // task 0 holds only 1, 2, 3; task 1 only 10, 20, 30
 * }
 * ```
 *
 * @param scores `[task][run]` scores.
 * @param options Resamples and seed.
 * @returns The resamples, `[task][run]` each.
 */
export function* stratifiedResamples(
  scores: TaskScores,
  options: Pick<BootstrapOptions, "reps" | "seed"> = {},
): Generator<number[][]> {
  checkScores(scores, "bootstrap");
  const { reps, seed } = bootstrapSettings(options, "bootstrap");
  const next = createRandom(seed);
  for (let r = 0; r < reps; r++) yield resample(scores, next);
}

/**
 * The `q`-quantile of sorted values, interpolated linearly between the two nearest ranks (numpy's
 * default `np.percentile(values, 100 · q)`).
 *
 * @param sorted Values in ascending order.
 * @param q Quantile in [0, 1].
 * @returns The quantile.
 */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError("Cannot compute percentile: no values");
  if (!(q >= 0 && q <= 1)) throw new RangeError(`Cannot compute percentile: q ${q} not in [0, 1]`);
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * The percentile interval of resampled values: their `(1 − confidence)/2` and
 * `(1 + confidence)/2` quantiles (sorts `values` in place).
 *
 * @param estimate The statistic on the original scores.
 * @param values The statistic on each resample.
 * @param confidence Coverage in (0, 1).
 * @returns The estimate with its interval.
 */
export function percentileInterval(
  estimate: number,
  values: number[],
  confidence: number,
): Interval {
  values.sort((a, b) => a - b);
  const alpha = (1 - confidence) / 2;
  return { estimate, lower: percentile(values, alpha), upper: percentile(values, 1 - alpha) };
}

/**
 * Throws unless `scores` has at least one task, each with at least one finite score.
 *
 * @param scores `[task][run]` scores.
 * @param what The statistic, for the error message.
 */
export function checkScores(scores: TaskScores, what: string): void {
  if (scores.length === 0) throw new RangeError(`Cannot compute ${what}: no tasks`);
  for (const [t, runs] of scores.entries()) {
    if (runs.length === 0) throw new RangeError(`Cannot compute ${what}: task ${t} has no runs`);
    const bad = runs.findIndex((s) => typeof s !== "number" || !Number.isFinite(s));
    if (bad >= 0) {
      throw new TypeError(
        `Cannot compute ${what}: task ${t} run ${bad} has score ${runs[bad]}, not a finite number`,
      );
    }
  }
}

/**
 * {@linkcode BootstrapOptions} with defaults filled in; throws naming a value out of range.
 *
 * @param options The options given.
 * @param what The statistic, for the error message.
 * @returns The complete settings.
 */
export function bootstrapSettings(
  options: BootstrapOptions,
  what: string,
): Required<BootstrapOptions> {
  const s = {
    reps: options.reps ?? BOOTSTRAP_DEFAULTS.reps,
    confidence: options.confidence ?? BOOTSTRAP_DEFAULTS.confidence,
    seed: options.seed ?? BOOTSTRAP_DEFAULTS.seed,
  };
  if (!Number.isInteger(s.reps) || s.reps < 1) {
    throw new RangeError(`Cannot bootstrap ${what}: reps must be an integer >= 1, got ${s.reps}`);
  }
  if (!(s.confidence > 0 && s.confidence < 1)) {
    throw new RangeError(
      `Cannot bootstrap ${what}: confidence must be in (0, 1), got ${s.confidence}`,
    );
  }
  if (!Number.isInteger(s.seed) || s.seed < 0 || s.seed > 0xffffffff) {
    throw new RangeError(
      `Cannot bootstrap ${what}: seed must be an integer in [0, 2^32), got ${s.seed}`,
    );
  }
  return s;
}

/**
 * A seeded stream of uniform numbers in [0, 1): mulberry32, a 32-bit state advanced by a Weyl
 * constant and hashed. Kept here rather than engine/rng.ts so the report, which loads no engine
 * code (tests/guards/imports_test.ts), can use it.
 *
 * @param seed Integer in [0, 2^32).
 * @returns A function giving the next number of the stream.
 */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * For each task with `n` runs, `n` run indices drawn uniformly from [0, n) with replacement.
 *
 * @param runsPerTask Runs of each task.
 * @param next The random stream.
 * @returns `[task][k]` indices into that task's runs.
 */
export function drawRunIndices(runsPerTask: readonly number[], next: () => number): number[][] {
  return runsPerTask.map((n) => Array.from({ length: n }, () => Math.floor(next() * n)));
}

/**
 * One stratified resample of `scores` (see {@linkcode stratifiedResamples}).
 *
 * @param scores `[task][run]` scores.
 * @param next The random stream.
 * @returns The resample, `[task][run]`.
 */
export function resample(scores: TaskScores, next: () => number): number[][] {
  const idx = drawRunIndices(scores.map((runs) => runs.length), next);
  return idx.map((task, t) => task.map((i) => scores[t][i]));
}
