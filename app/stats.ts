/**
 * Statistics over many runs, as rliable defines them (Agarwal et al., "Deep Reinforcement Learning
 * at the Edge of the Statistical Precipice", NeurIPS 2021; code: google-research/rliable,
 * `rliable/metrics.py` and `rliable/library.py`): interquartile mean, mean, median, optimality gap,
 * probability of improvement, performance profiles, with stratified percentile bootstrap confidence
 * intervals (app/bootstrap.ts; learning-curve bands: app/curves.ts). Pure TypeScript, no GPU;
 * every random draw comes from a seeded stream, so a result is a function of the scores and
 * `seed`. What each statistic means and how to read it: docs/statistics.md.
 *
 * Scores are task-major, `scores[task][run]` (rliable's `num_runs × num_tasks` matrix transposed);
 * tasks may have different numbers of runs.
 *
 * @module
 */

import {
  type BootstrapOptions,
  bootstrapSettings,
  checkScores,
  createRandom,
  type Interval,
  percentile,
  percentileInterval,
  resample,
  type TaskScores,
} from "./bootstrap.ts";

export { BOOTSTRAP_DEFAULTS, percentile, stratifiedResamples } from "./bootstrap.ts";
export type { BootstrapOptions, Interval, TaskScores } from "./bootstrap.ts";

/**
 * Mean after cutting `floor(proportionToCut · n)` values off each end of the sorted values:
 * `scipy.stats.trim_mean(values, proportiontocut)` (it cuts less, never a fraction, when
 * `proportionToCut · n` is not an integer).
 *
 * @param values The values (any order).
 * @param proportionToCut Fraction cut from each end, in [0, 0.5].
 * @returns The trimmed mean.
 */
export function trimMean(values: readonly number[], proportionToCut: number): number {
  if (values.length === 0) throw new RangeError("Cannot compute trimmed mean: no values");
  if (!(proportionToCut >= 0 && proportionToCut <= 0.5)) {
    throw new RangeError(
      `Cannot compute trimmed mean: proportion to cut must be in [0, 0.5], got ${proportionToCut}`,
    );
  }
  const n = values.length;
  const low = Math.floor(proportionToCut * n);
  const high = n - low;
  if (low >= high) throw new RangeError(`Cannot compute trimmed mean: cuts all ${n} values`);
  const sorted = [...values].sort((a, b) => a - b);
  let sum = 0;
  for (let i = low; i < high; i++) sum += sorted[i];
  return sum / (high - low);
}

/**
 * Interquartile mean (IQM) over all runs of all tasks: the 25% trimmed mean of the pooled scores,
 * rliable's `aggregate_iqm` (`scipy.stats.trim_mean(scores, 0.25, axis=None)`). With n scores it
 * drops `floor(n / 4)` from each end, e.g. 1 of 5, 2 of 10, 0 of 3.
 *
 * @example IQM of eight scores: the middle four
 * ```ts
 * import { iqm } from "./stats.ts";
 *
 * console.log(iqm([[1, 2, 3, 100], [4, 5, 6, -50]])); // (2 + 3 + 4 + 5) / 4 = 3.5
 * ```
 *
 * @param scores `[task][run]` scores.
 * @returns The IQM.
 */
export function iqm(scores: TaskScores): number {
  checkScores(scores, "IQM");
  return trimMean(scores.flat(), 0.25);
}

/**
 * Mean over tasks of each task's mean over runs: rliable's `aggregate_mean`.
 *
 * @param scores `[task][run]` scores.
 * @returns The mean.
 */
export function aggregateMean(scores: TaskScores): number {
  checkScores(scores, "mean");
  return mean(scores.map(mean));
}

/**
 * Median over tasks of each task's mean over runs: rliable's `aggregate_median` (not the median of
 * the pooled scores).
 *
 * @param scores `[task][run]` scores.
 * @returns The median.
 */
export function aggregateMedian(scores: TaskScores): number {
  checkScores(scores, "median");
  return percentile([...scores.map(mean)].sort((a, b) => a - b), 0.5);
}

/**
 * Optimality gap: how far the pooled scores fall short of `gamma`, scores above it counting as
 * `gamma` (rliable's `aggregate_optimality_gap`: `gamma − mean(min(scores, gamma))`). Meaningful
 * for normalised scores where `gamma` is the target (default 1).
 *
 * @param scores `[task][run]` scores.
 * @param gamma The target score.
 * @returns The gap (lower is better).
 */
export function optimalityGap(scores: TaskScores, gamma = 1): number {
  checkScores(scores, "optimality gap");
  return gamma - mean(scores.flat().map((s) => Math.min(s, gamma)));
}

/**
 * Probability of improvement P(X > Y): for each task, the chance that a random run of X scores
 * higher than a random run of Y, ties counting 1/2 (the Mann–Whitney U statistic of X over
 * n_x · n_y pairs), averaged over tasks. rliable's `probability_of_improvement`.
 *
 * @example Ties count one half
 * ```ts
 * import { probabilityOfImprovement } from "./stats.ts";
 *
 * console.log(probabilityOfImprovement([[1, 2]], [[1, 1]])); // (0.5 + 0.5 + 1 + 1) / 4 = 0.75
 * ```
 *
 * @param x `[task][run]` scores of algorithm X.
 * @param y `[task][run]` scores of algorithm Y, on the same tasks in the same order.
 * @returns P(X > Y) in [0, 1].
 */
export function probabilityOfImprovement(x: TaskScores, y: TaskScores): number {
  checkScores(x, "probability of improvement (X)");
  checkScores(y, "probability of improvement (Y)");
  if (x.length !== y.length) {
    throw new TypeError(
      `Cannot compute probability of improvement: X has ${x.length} tasks, Y has ${y.length}`,
    );
  }
  let sum = 0;
  for (let t = 0; t < x.length; t++) {
    let u = 0;
    for (const a of x[t]) {
      for (const b of y[t]) u += a > b ? 1 : a === b ? 0.5 : 0;
    }
    sum += u / (x[t].length * y[t].length);
  }
  return sum / x.length;
}

/**
 * Fraction of all runs of all tasks that score above `tau` (strictly): rliable's score
 * distribution (`run_score_deviation`), one point of a performance profile.
 *
 * @param scores `[task][run]` scores.
 * @param tau The threshold.
 * @returns The fraction in [0, 1].
 */
export function fractionAbove(scores: TaskScores, tau: number): number {
  checkScores(scores, "performance profile");
  const all = scores.flat();
  return all.filter((s) => s > tau).length / all.length;
}

/**
 * Percentile bootstrap confidence interval of `statistic` under stratified resampling
 * (rliable's `get_interval_estimates` with its default `method='percentile'`: the interval is the
 * `(1 − confidence)/2` and `(1 + confidence)/2` quantiles of the resampled statistic, linearly
 * interpolated as `np.percentile` does).
 *
 * @example 95% interval of the IQM over three tasks × five seeds
 * ```ts
 * import { bootstrapCi, iqm } from "./stats.ts";
 *
 * const scores = [[0.1, 0.4, 0.5, 0.6, 0.9], [0.2, 0.3, 0.3, 0.5, 0.7], [0.5, 0.6, 0.8, 0.8, 1]];
 * const ci = bootstrapCi(scores, { statistic: iqm, seed: 1 });
 * console.log(ci.estimate, ci.lower, ci.upper);
 * ```
 *
 * @param scores `[task][run]` scores.
 * @param options The statistic, resamples, coverage and seed.
 * @returns The estimate and its interval.
 */
export function bootstrapCi(
  scores: TaskScores,
  options: BootstrapOptions & { statistic: (scores: TaskScores) => number },
): Interval {
  checkScores(scores, "bootstrap");
  const settings = bootstrapSettings(options, "bootstrap");
  const next = createRandom(settings.seed);
  const values = new Array<number>(settings.reps);
  for (let r = 0; r < settings.reps; r++) values[r] = options.statistic(resample(scores, next));
  return percentileInterval(options.statistic(scores), values, settings.confidence);
}

/** The four aggregate statistics of rliable, each with its interval. */
export interface AggregateIntervals {
  mean: Interval;
  median: Interval;
  iqm: Interval;
  optimalityGap: Interval;
}

/**
 * Mean, median, IQM and optimality gap with stratified percentile bootstrap intervals, all four
 * computed on the same resamples.
 *
 * @param scores `[task][run]` scores.
 * @param options Resamples, coverage, seed, and `gamma` of the optimality gap (default 1).
 * @returns The four intervals.
 */
export function aggregateIntervals(
  scores: TaskScores,
  options: BootstrapOptions & { gamma?: number } = {},
): AggregateIntervals {
  checkScores(scores, "bootstrap");
  const { reps, confidence, seed } = bootstrapSettings(options, "bootstrap");
  const gamma = options.gamma ?? 1;
  const stats = [aggregateMean, aggregateMedian, iqm, (s: TaskScores) => optimalityGap(s, gamma)];
  const values = stats.map(() => new Array<number>(reps));
  const next = createRandom(seed);
  for (let r = 0; r < reps; r++) {
    const s = resample(scores, next);
    stats.forEach((f, i) => (values[i][r] = f(s)));
  }
  const [m, md, q, g] = stats.map((f, i) => percentileInterval(f(scores), values[i], confidence));
  return { mean: m, median: md, iqm: q, optimalityGap: g };
}

/**
 * P(X > Y) with its percentile bootstrap interval, X and Y resampled independently, each within
 * every task (rliable's `StratifiedIndependentBootstrap`).
 *
 * @param x `[task][run]` scores of algorithm X.
 * @param y `[task][run]` scores of algorithm Y, same tasks.
 * @param options Resamples, coverage and seed.
 * @returns The estimate and its interval.
 */
export function probabilityOfImprovementCi(
  x: TaskScores,
  y: TaskScores,
  options: BootstrapOptions = {},
): Interval {
  const estimate = probabilityOfImprovement(x, y);
  const { reps, confidence, seed } = bootstrapSettings(options, "probability of improvement");
  const next = createRandom(seed);
  const values = new Array<number>(reps);
  for (let r = 0; r < reps; r++) {
    values[r] = probabilityOfImprovement(resample(x, next), resample(y, next));
  }
  return percentileInterval(estimate, values, confidence);
}

/** One point of a performance profile. */
export interface ProfilePoint extends Interval {
  /** The threshold. */
  tau: number;
}

/**
 * Performance profile (rliable's score distribution, `create_performance_profile` with
 * `use_score_distribution=True`): for each `tau`, the fraction of runs × tasks scoring above it,
 * with a stratified percentile bootstrap band (the same resamples for every `tau`).
 *
 * @param scores `[task][run]` scores.
 * @param options Thresholds, resamples, coverage and seed.
 * @returns One point per threshold.
 */
export function performanceProfile(
  scores: TaskScores,
  options: BootstrapOptions & { taus: readonly number[] },
): ProfilePoint[] {
  checkScores(scores, "performance profile");
  const { reps, confidence, seed } = bootstrapSettings(options, "performance profile");
  const values = options.taus.map(() => new Array<number>(reps));
  const next = createRandom(seed);
  for (let r = 0; r < reps; r++) {
    const s = resample(scores, next);
    options.taus.forEach((tau, i) => (values[i][r] = fractionAbove(s, tau)));
  }
  return options.taus.map((tau, i) => ({
    tau,
    ...percentileInterval(fractionAbove(scores, tau), values[i], confidence),
  }));
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
