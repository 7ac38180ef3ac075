/**
 * Learning curves over many seeds for the report: align per-seed curves logged at slightly
 * different env steps on common steps, then give per step the aggregate over seeds (mean by
 * default) with a stratified percentile bootstrap band (app/bootstrap.ts; docs/statistics.md §5).
 *
 * @module
 */
import {
  type BootstrapOptions,
  bootstrapSettings,
  createRandom,
  drawRunIndices,
  type Interval,
  percentileInterval,
  type TaskScores,
} from "./bootstrap.ts";
import { aggregateMean } from "./stats.ts";

/**
 * A logged curve: `[envSteps, value]` points, as the report reads them from `metrics.jsonl`;
 * `null` or NaN values (no episode finished in the interval) are gaps.
 */
export type Curve = readonly (readonly [number, number | null])[];

/** Curves on common steps. */
export interface AlignedCurves {
  /** The common steps, ascending. */
  steps: number[];
  /** `[curve][step]` values at those steps. */
  values: number[][];
}

/**
 * Puts curves on common steps: the steps every curve covers (from the latest first step to the
 * earliest last step; nothing is extrapolated), by default those the coarsest curve logged there,
 * each curve read there by linear interpolation between its two neighbouring logged points (exact
 * where it logged that step). Gaps (null/NaN) are bridged the same way.
 *
 * @example Two seeds that logged at offset steps
 * ```ts
 * import { alignCurves } from "./curves.ts";
 *
 * const a = [[0, 0], [10, 10], [20, 20]] as const;
 * const b = [[5, 1], [15, 3], [25, 5]] as const;
 * console.log(alignCurves([a, b])); // { steps: [10, 20], values: [[10, 20], [2, 4]] }
 * ```
 *
 * @param curves The curves.
 * @param options `steps`: common steps to use instead (ascending, inside the covered range).
 * @returns The steps and each curve's values there.
 */
export function alignCurves(
  curves: readonly Curve[],
  options: { steps?: readonly number[] } = {},
): AlignedCurves {
  if (curves.length === 0) throw new RangeError("Cannot align curves: no curves");
  const points = curves.map(finitePoints);
  const first = points.map((p) => p[0][0]), last = points.map((p) => p.at(-1)![0]);
  const lo = Math.max(...first), hi = Math.min(...last);
  if (lo > hi) {
    const a = last.indexOf(hi), b = first.indexOf(lo);
    throw new RangeError(
      `Cannot align curves: they share no steps: curve ${a} ends at step ${hi}, curve ${b} starts at ${lo}`,
    );
  }
  let steps: number[];
  if (options.steps) {
    steps = [...options.steps];
    const bad = steps.findIndex((s, i) =>
      !Number.isFinite(s) || s < lo || s > hi || (i > 0 && s <= steps[i - 1])
    );
    if (bad >= 0) {
      throw new RangeError(
        `Cannot align curves: steps must ascend inside [${lo}, ${hi}], got ${
          steps[bad]
        } at index ${bad}`,
      );
    }
  } else {
    const inRange = points.map((p) => p.map(([x]) => x).filter((x) => x >= lo && x <= hi));
    steps = inRange.reduce((best, s) => (s.length < best.length ? s : best));
  }
  return { steps, values: points.map((p) => interpolate(p, steps)) };
}

/** One step of a band. */
export interface BandPoint extends Interval {
  /** Env steps. */
  step: number;
}

/** Options of {@linkcode curveBand}. */
export interface CurveBandOptions extends BootstrapOptions {
  /** Aggregate over seeds (and tasks) at each step. Default `aggregateMean` (app/stats.ts). */
  statistic?: (scores: TaskScores) => number;
  /** Common steps (see {@linkcode alignCurves}). */
  steps?: readonly number[];
}

/**
 * Per common step, the aggregate of the seeds' values and its percentile bootstrap interval. Seeds
 * are resampled with replacement within each task (stratified), whole curves at a time: one draw
 * of seed indices per resample serves every step, so a resampled band is made of real curves.
 *
 * @example Mean and 95% band of three seeds of one task
 * ```ts
 * import { curveBand } from "./curves.ts";
 *
 * const seeds = [1, 2, 3].map((k) => [[0, 0], [100, k], [200, 2 * k]] as const);
 * for (const p of curveBand([seeds], { seed: 1 })) console.log(p.step, p.estimate, p.lower, p.upper);
 * ```
 *
 * @param curves `[task][seed]` curves (one task: `[seeds]`).
 * @param options Statistic, steps, resamples, coverage and seed.
 * @returns One point per common step.
 */
export function curveBand(
  curves: readonly (readonly Curve[])[],
  options: CurveBandOptions = {},
): BandPoint[] {
  if (curves.length === 0) throw new RangeError("Cannot compute curve band: no tasks");
  const empty = curves.findIndex((t) => t.length === 0);
  if (empty >= 0) throw new RangeError(`Cannot compute curve band: task ${empty} has no curves`);
  const { reps, confidence, seed } = bootstrapSettings(options, "curve band");
  const statistic = options.statistic ?? aggregateMean;
  const { steps, values } = alignCurves(curves.flat(), { steps: options.steps });
  const offsets = curves.map((_, t) => curves.slice(0, t).reduce((n, c) => n + c.length, 0));
  const at = (k: number, pick: (t: number, s: number) => number) =>
    curves.map((task, t) => task.map((_, s) => values[offsets[t] + pick(t, s)][k]));
  const replicates = steps.map(() => new Array<number>(reps));
  const next = createRandom(seed);
  for (let r = 0; r < reps; r++) {
    const idx = drawRunIndices(curves.map((c) => c.length), next);
    for (let k = 0; k < steps.length; k++) {
      replicates[k][r] = statistic(at(k, (t, s) => idx[t][s]));
    }
  }
  return steps.map((step, k) => ({
    step,
    ...percentileInterval(statistic(at(k, (_, s) => s)), replicates[k], confidence),
  }));
}

function finitePoints(curve: Curve, i: number): [number, number][] {
  const pts = curve.filter(([, y]) => y !== null && Number.isFinite(y)) as [number, number][];
  if (pts.length === 0) throw new RangeError(`Cannot align curves: curve ${i} has no finite value`);
  pts.sort((a, b) => a[0] - b[0]);
  for (let j = 0; j < pts.length; j++) {
    if (!Number.isFinite(pts[j][0])) {
      throw new TypeError(`Cannot align curves: curve ${i} has step ${pts[j][0]}`);
    }
    if (j > 0 && pts[j][0] === pts[j - 1][0]) {
      throw new TypeError(`Cannot align curves: curve ${i} logs step ${pts[j][0]} twice`);
    }
  }
  return pts;
}

/** Values of sorted points at ascending `steps`, all inside the points' range. */
function interpolate(pts: readonly [number, number][], steps: readonly number[]): number[] {
  let j = 0;
  return steps.map((x) => {
    while (pts[j][0] < x) j++;
    if (pts[j][0] === x) return pts[j][1];
    const [x0, y0] = pts[j - 1], [x1, y1] = pts[j];
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
  });
}
