/**
 * The JSON format of InstaDeep's marl-eval (instadeepai/marl-eval, README "Data Structure for Raw
 * Experiment data"; written by its `JsonLogger`, and by BenchMARL and Mava):
 *
 * ```
 * { env_name: { task_name: { algo_name: { run: {
 *     step_0: { step_count: <int>, metric: [<numbers>] }, …, step_k: { … },
 *     absolute_metrics: { metric: [<numbers>] } } } } } }
 * ```
 *
 * This module builds that object from run data already read (app/export.ts reads run folders)
 * and checks one, including the conditions marl-eval's `DiagnoseData.check_data` imposes before it
 * aggregates. Mapping and caveats: docs/statistics.md §6.
 *
 * @module
 */
import type { MetricsRow } from "./run_files.ts";

/** One logged step: env steps and one list of values per metric. */
export interface MarlEvalStep {
  step_count: number;
  [metric: string]: number | number[];
}

/** One run (seed): `step_<i>` entries and `absolute_metrics`. */
export type MarlEvalRun = Record<string, MarlEvalStep | Record<string, number[]>>;

/** The whole file: `[env][task][algo][run]`. */
export type MarlEvalJson = Record<
  string,
  Record<string, Record<string, Record<string, MarlEvalRun>>>
>;

/** One seed of one algorithm on one task, as the export reads it from a seed folder. */
export interface ExportRun {
  /** Env family (`lbf`, `rware`, …): marl-eval's `env_name`. */
  family: string;
  /** Task label (app/run_files.ts `envLabel`): marl-eval's `task_name`. */
  task: string;
  /** Algorithm registry name: marl-eval's `algo_name`. */
  algo: string;
  /** The seed of the run: the run key `seed_<seed>`. */
  seed: number;
  /** The seed folder (messages; `algoName: "folder"` uses the run folder's name). */
  dir: string;
  /** Its metrics rows. */
  rows: readonly MetricsRow[];
}

/** Metric name in the file → value of a metrics row. Other names read `row.scalars[name]`. */
export const MARL_EVAL_METRICS: Readonly<Record<string, (row: MetricsRow) => number>> = Object
  .freeze({
    return: (r) => r.meanReturn,
    episode_length: (r) => r.meanLength,
    steps_per_second: (r) => r.stepsPerSecond,
    eval_return: (r) => r.eval?.value ?? NaN,
  });

/** Options of {@linkcode toMarlEval}. */
export interface MarlEvalOptions {
  /** Metrics to write (names of {@linkcode MARL_EVAL_METRICS} or scalars). Default `["return"]`. */
  metrics?: readonly string[];
  /** `algo_name`: the algorithm (default) or `folder`, the run folder's name. */
  algoName?: "algo" | "folder";
}

/** What {@linkcode toMarlEval} built. */
export interface MarlEvalExport {
  data: MarlEvalJson;
  /** Rows and runs left out, one line each (rows without a finite value of every metric). */
  notes: string[];
}

/**
 * Builds the marl-eval object: one `step_<i>` per metrics row with `step_count` = env steps and
 * each metric as a one-element list (a row holds the mean over the interval's episodes, not each
 * episode), and `absolute_metrics` = the last exported row's values, except `eval_return`, whose
 * absolute value is the best model's evaluation when the run tracks one (marl-eval's absolute
 * metric). Rows where a metric is not finite (no episode finished, no evaluation at that row) are
 * left out and noted; a run left with no row is left out.
 *
 * @param runs The runs.
 * @param options Metrics and algorithm naming.
 * @returns The object and the notes.
 */
export function toMarlEval(
  runs: readonly ExportRun[],
  options: MarlEvalOptions = {},
): MarlEvalExport {
  const metrics = options.metrics ?? ["return"];
  if (metrics.length === 0) throw new RangeError("Cannot export to marl-eval: no metrics given");
  const data: MarlEvalJson = {};
  const notes: string[] = [];
  const from = new Map<string, string>();
  for (const run of runs) {
    const algo = options.algoName === "folder" ? runFolderName(run.dir) : run.algo;
    const runKey = `seed_${run.seed}`;
    const id = [run.family, run.task, algo, runKey].join("\u0000").toLowerCase();
    if (from.has(id)) {
      const key = `${run.family} / ${run.task} / ${algo} / ${runKey}`;
      throw new TypeError(
        `Cannot export to marl-eval: "${
          from.get(id)
        }" and "${run.dir}" are both ${key}; export them apart or use --algo-name folder`,
      );
    }
    from.set(id, run.dir);
    const out: MarlEvalRun = {};
    let last: Record<string, number[]> | null = null;
    let skipped = 0;
    for (const row of run.rows) {
      const values = metrics.map((m) => metricOf(row, m, run.dir));
      if (!values.every(Number.isFinite)) {
        skipped++;
        continue;
      }
      last = Object.fromEntries(metrics.map((m, i) => [m, [values[i]]]));
      out[`step_${Object.keys(out).length}`] = { step_count: row.envSteps, ...last };
    }
    if (skipped > 0) {
      notes.push(`${run.dir}: ${skipped} of ${run.rows.length} rows left out (no finite value)`);
    }
    if (last === null) {
      notes.push(`${run.dir}: left out, no row with a finite value of ${metrics.join(", ")}`);
      continue;
    }
    const best = bestEval(run.rows);
    const absolute = (m: string) => (m === "eval_return" && best !== undefined ? best : last[m][0]);
    out.absolute_metrics = Object.fromEntries(metrics.map((m) => [m, [absolute(m)]]));
    ((data[run.family] ??= {})[run.task] ??= {})[algo] ??= {};
    data[run.family][run.task][algo][runKey] = out;
  }
  return { data, notes };
}

/**
 * Checks an object against the marl-eval format and the conditions marl-eval needs to aggregate
 * it (its `DiagnoseData.check_data`; keys are compared lower-cased, as marl-eval reads them): per
 * env, every task has the same algorithms, every algorithm the same number of runs, every run the
 * same number of steps, every step and `absolute_metrics` the same metrics, and no algorithm name
 * has a comma.
 *
 * @param data A parsed file.
 * @returns The problems, one line each (empty when marl-eval can use it).
 */
export function validateMarlEval(data: unknown): string[] {
  const problems: string[] = [];
  const isMap = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  const isList = (v: unknown) =>
    Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number" && Number.isFinite(x));
  const keysOf = (o: Record<string, unknown>, path: string) => {
    const lower = Object.keys(o).map((k) => k.toLowerCase());
    const dup = lower.find((k, i) => lower.indexOf(k) !== i);
    if (dup !== undefined) problems.push(`${path}: two keys read as "${dup}" once lower-cased`);
    return Object.keys(o);
  };
  if (!isMap(data)) return ["top level: not an object of environments"];
  for (const env of keysOf(data, "top level")) {
    const tasks = data[env];
    if (!isMap(tasks)) {
      problems.push(`${env}: not an object of tasks`);
      continue;
    }
    const algoSets = new Set<string>(),
      runCounts = new Set<number>(),
      stepCounts = new Set<number>();
    const metricSets = new Set<string>();
    for (const task of keysOf(tasks, env)) {
      const algos = tasks[task];
      if (!isMap(algos)) {
        problems.push(`${env}/${task}: not an object of algorithms`);
        continue;
      }
      algoSets.add(keysOf(algos, `${env}/${task}`).map((a) => a.toLowerCase()).sort().join(","));
      for (const algo of Object.keys(algos)) {
        if (algo.includes(",")) problems.push(`${env}/${task}/${algo}: algorithm name has a comma`);
        const runs = algos[algo];
        if (!isMap(runs)) {
          problems.push(`${env}/${task}/${algo}: not an object of runs`);
          continue;
        }
        runCounts.add(keysOf(runs, `${env}/${task}/${algo}`).length);
        for (const run of Object.keys(runs)) {
          const path = `${env}/${task}/${algo}/${run}`;
          const steps = runs[run];
          if (!isMap(steps)) {
            problems.push(`${path}: not an object of steps`);
            continue;
          }
          const keys = keysOf(steps, path);
          stepCounts.add(keys.filter((k) => k.toLowerCase() !== "absolute_metrics").length);
          if (!keys.some((k) => k.toLowerCase() === "absolute_metrics")) {
            problems.push(`${path}: no absolute_metrics`);
          }
          let prev = -Infinity;
          for (const step of keys) {
            const entry = steps[step];
            const absolute = step.toLowerCase() === "absolute_metrics";
            if (!isMap(entry)) {
              problems.push(`${path}/${step}: not an object of metrics`);
              continue;
            }
            const names = Object.keys(entry).filter((m) => m.toLowerCase() !== "step_count");
            metricSets.add(names.map((m) => m.toLowerCase()).sort().join(","));
            if (!absolute) {
              const count = entry.step_count;
              if (typeof count !== "number" || !Number.isInteger(count) || count < 0) {
                problems.push(`${path}/${step}: step_count is ${count}, not an integer >= 0`);
              } else if (count <= prev) {
                problems.push(`${path}/${step}: step_count ${count} does not increase`);
              } else prev = count;
            }
            for (const m of names) {
              if (!isList(entry[m])) {
                problems.push(`${path}/${step}/${m}: not a non-empty list of finite numbers`);
              }
            }
          }
        }
      }
    }
    const differ = (what: string, set: Set<unknown>) => {
      if (set.size > 1) problems.push(`${env}: ${what} differ: ${[...set].join(" | ")}`);
    };
    differ("algorithms across tasks", algoSets);
    differ("numbers of runs", runCounts);
    differ("numbers of steps", stepCounts);
    differ("metrics across steps", metricSets);
  }
  return problems;
}

/** The last best-model evaluation value of a run's rows (`eval.best.value`), if any. */
function bestEval(rows: readonly MetricsRow[]): number | undefined {
  for (let i = rows.length - 1; i >= 0; i--) {
    const v = rows[i].eval?.best?.value;
    if (v !== undefined && Number.isFinite(v)) return v;
  }
  return undefined;
}

function metricOf(row: MetricsRow, metric: string, dir: string): number {
  const read = MARL_EVAL_METRICS[metric];
  if (read) return read(row);
  if (metric in row.scalars) return row.scalars[metric];
  throw new TypeError(
    `Cannot export "${dir}": unknown metric "${metric}"; known: ${
      [...Object.keys(MARL_EVAL_METRICS), ...Object.keys(row.scalars)].join(", ")
    }`,
  );
}

/** The run folder of a seed folder: `runs/x/seed-2` → `x`, `runs/x` → `x`. */
function runFolderName(dir: string): string {
  const parts = dir.replace(/\/+$/, "").split("/");
  const last = parts.at(-1) ?? dir;
  return /^seed-\d+$/.test(last) && parts.length > 1 ? parts.at(-2)! : last;
}
